#!/usr/bin/perl
# reload_load.t: reloads under a real load (wrk), with nothing lost.
#
#   - a reload storm: 16 HUPs during 10 s of wrk with 50 keep-alive
#     clients, then the same with "Connection: close" clients: 0 socket
#     errors (connect, read, write, timeout) and 0 non-2xx in both (the
#     graceful drain of issue 3: an idle keep-alive connection of a
#     retiring worker is not closed under a request the client just sent);
#   - the same storm under HTTP/2 (4 clients, each a run of nghttp with 10
#     streams of /delay/300 on one h2c connection after another, so every
#     HUP finds streams in flight): every worker that
#     retires sends GOAWAY, first the notice, then the last stream it
#     took, and finishes its streams: no stream of any run is refused,
#     reset or left unanswered;
#   - the worker count changed by reloads under load (1 -> 2, 1, 3, 1, 2),
#     keep-alive and close clients at once: 0 failed requests; the
#     listening sockets of a shrunk generation are kept and served by the
#     remaining workers (socket j to slot j % workers), never closed with
#     connections waiting in their queues.
#
# Each step is bounded: wrk runs for a fixed time (with a request
# timeout), every wait has a bound, and the file has a watchdog.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time sleep);
use Forkloop qw(wait_for);
use Forkloop::Load qw(start_wrk wrk_clean_ok wrk_summary have_wrk);

Forkloop::check_binary();
plan skip_all => 'wrk is not installed' unless have_wrk();
Forkloop::watchdog(150);

my %site = (
	'www/index.html' => "reload_load\n",
	'www/small.txt' => ('0123456789abcdef' x 32) . "\n",	# 513 bytes
);

# "reloading: generation G with N workers (was M)" lines of a log text.
sub reloads_in {
	my ($text) = @_;
	my @r;
	while ($text =~ /reloading: generation (\d+) with (\d+) workers \(was (\d+)\)/g) {
		push @r, { generation => $1, workers => $2, was => $3 };
	}
	return @r;
}

# pid => generation of the workers a log text says were started.
sub started_in {
	my ($text) = @_;
	my %g;
	$g{$1} = $3 while $text =~
	    /started worker (\d+) \(slot (\d+), generation (\d+)\)/g;
	return %g;
}

# The master's workers of generation $gen (by the log), once there are
# exactly $n of them and no other worker is left.
sub wait_generation {
	my ($s, $gen, $n, $timeout) = @_;
	my $w = wait_for(sub {
		my %g = started_in($s->error_log);
		my @w = $s->worker_pids;
		return 0 unless @w == $n;
		return 0 if grep { ($g{$_} // -1) != $gen } @w;
		return \@w;
	}, $timeout // 10);
	return $w ? @$w : ();
}

for my $mode ('keep-alive', 'Connection: close') {
	subtest "16 HUPs during 10 s of wrk -c50 ($mode)" => sub {
		my $close = $mode ne 'keep-alive';
		my $s = Forkloop->new(config => { workers => 2 },
		    files => \%site);
		my $master = $s->pid;
		my @first = $s->wait_workers(2);
		is(scalar @first, 2, 'two workers before the storm');
		my $mark = $s->log_mark;

		my $w = start_wrk($s, path => '/small.txt', connections => 50,
		    duration => 10, close => $close, timeout => 2);
		# wrk does not count a request still unanswered when it
		# stops; this client waits for each of its own (5 s at most).
		my $one = $s->start_load(path => '/small.txt');
		sleep 0.5;
		my $t0 = time;
		my $hups = 0;
		my $late = 0;
		for my $i (1 .. 16) {
			# Spread over 8 s, well inside wrk's 10.  Two HUPs
			# that reach a busy master before it has handled the
			# first are one signal (as with any Unix signal), so
			# each waits until the one before it is logged.
			my $at = $t0 + ($i - 1) * 8 / 15;
			sleep($at - time) if $at > time;
			my $done = $i == 1 || wait_for(sub {
				reloads_in($s->log_since($mark)) >= $i - 1 }, 2);
			$late++ unless $done;
			last unless $w->running;
			$s->signal('HUP');
			$hups++;
		}
		note(sprintf('%d HUPs sent in %.1f s', $hups, time - $t0));
		is($late, 0, 'each reload was logged within 2 s of its HUP');
		ok($w->running, 'wrk was still running after the last HUP');
		my $r = $w->finish;
		wrk_clean_ok($r, "16 HUPs, $mode");
		my $res = $one->finish;
		is($res->{fail}, 0, 'a client with one connection per '
		    . 'request: none failed')
		    or diag(join("\n", @{ $res->{errors} }));
		cmp_ok($res->{ok}, '>', 0, 'it made requests');

		is($hups, 16, '16 HUPs were sent');
		my @reloads;
		wait_for(sub {
			@reloads = reloads_in($s->log_since($mark));
			return @reloads >= 16;
		}, 10);
		is(scalar @reloads, 16, 'the error log shows 16 reloads')
		    or diag(sprintf("%d \"received HUP\" lines; reload "
		    . "lines:\n%s", scalar(() = $s->log_since($mark)
		    =~ /received HUP/g), join("\n", grep { /reload/ }
		    split /\n/, $s->log_since($mark))));
		is_deeply([map { $_->{generation} } @reloads], [2 .. 17],
		    'generations 2 to 17, one per HUP');

		my @last = wait_generation($s, 17, 2, 15);
		is(scalar @last, 2, 'then two workers, both of generation 17, '
		    . 'and no older worker left')
		    or diag('workers now: ' . join(' ', $s->worker_pids)
		    . "\n" . $s->log_since($mark));
		ok($s->alive, 'the master still runs');
		is($s->pid_from_file, $master, 'the same master');
		my $g = $s->http_get('/small.txt');
		is($g->{status}, 200, 'a request after the storm is answered');
		is($s->stop, 0, 'QUIT: exit status 0');
		is_deeply([$s->orphans], [], 'no worker outlives the master');
		$s->log_clean_ok([]);
	};
}

# HTTP/2 clients that follow RFC 9113 6.8 (nghttp, of nghttp2-client):
# each run opens one connection and sends 10 streams at once; a run
# fails if nghttp says a stream was refused, reset or left unanswered
# ("[ERROR]", "Some requests were not processed").  (h2load counts every request it could not start after a
# GOAWAY as failed, even a graceful one, so it cannot tell a lost request
# from a drained connection; bench/ uses it for speed only.)
sub nghttp_loop {
	my ($nghttp, $url, $seconds, $out) = @_;
	my $pid = fork // die "fork: $!";
	return $pid if $pid;
	my ($runs, $bad, $end) = (0, 0, time + $seconds);
	while (time < $end) {
		# nghttp exits 0 even when streams failed: its words say.
		my $said = `timeout 10 $nghttp -n -m 10 $url 2>&1`;
		$runs++;
		$bad++ if $? != 0 || $said =~ /ERROR|not processed/;
	}
	open(my $fh, '>', $out) or die "$out: $!";
	print $fh "$runs $bad\n";
	close($fh);
	exit 0;
}

SKIP: {
	my $nghttp = `command -v nghttp 2>/dev/null`;
	chomp $nghttp;
	skip 'nghttp (nghttp2-client) is not installed', 1 unless $nghttp;
	subtest '16 HUPs during 10 s of HTTP/2 clients (nghttp, h2c)' => sub {
		my $s = Forkloop->new(config => { workers => 2 },
		    files => \%site);
		my @first = $s->wait_workers(2);
		is(scalar @first, 2, 'two workers before the storm');
		my $mark = $s->log_mark;
		# Streams that last 300 ms: every HUP finds some in flight.
		my $url = 'http://127.0.0.1:' . $s->port('http') . '/delay/300';
		my @kids = map { nghttp_loop($nghttp, $url, 10,
		    $s->path("nghttp.$_")) } 1 .. 4;
		sleep 1;
		for my $i (1 .. 16) {
			wait_for(sub { reloads_in($s->log_since($mark)) >= $i - 1 },
			    2) if $i > 1;
			$s->signal('HUP');
			sleep 0.4;
		}
		waitpid($_, 0) for @kids;
		my ($runs, $bad) = (0, 0);
		for my $k (1 .. 4) {
			my $line = $s->read_file("nghttp.$k") // '0 1';
			my ($r, $b) = split ' ', $line;
			$runs += $r;
			$bad += $b;
		}
		note("$runs nghttp runs of 10 streams each");
		cmp_ok($runs, '>', 60, 'the clients made runs');
		is($bad, 0, 'no run had a stream refused, reset or unanswered');
		my @reloads;
		wait_for(sub {
			@reloads = reloads_in($s->log_since($mark));
			return @reloads >= 16;
		}, 10);
		is(scalar @reloads, 16, 'the error log shows 16 reloads');
		my $g = $s->http_get('/small.txt');
		is($g->{status}, 200, 'a request after the storm is answered');
		is($s->stop, 0, 'QUIT: exit status 0');
		is_deeply([$s->orphans], [], 'no worker outlives the master');
		$s->log_clean_ok([]);
	};
}

subtest 'worker count changed by reloads under load: 1 -> 2, 1, 3, 1, 2' => sub {
	my $s = Forkloop->new(config => { workers => 1 }, files => \%site);
	my $master = $s->pid;
	my $port = $s->port('http');
	my @w = $s->wait_workers(1);
	is(scalar @w, 1, 'one worker to begin with');
	my $mark = $s->log_mark;

	my $ka = start_wrk($s, path => '/small.txt', connections => 40,
	    duration => 10, timeout => 2);
	my $cl = start_wrk($s, path => '/small.txt', connections => 10,
	    threads => 1, duration => 10, close => 1, timeout => 2);
	# wrk does not count a request still unanswered when it stops;
	# these clients wait for theirs (5 s at most) and count it.
	my @loads = map { $s->start_load(path => '/small.txt') } 1 .. 2;
	sleep 0.7;

	my $gen = 1;
	my @steps = (2, 1, 3, 1, 2);
	for my $n (@steps) {
		my $step_mark = $s->log_mark;
		$s->write_config({ workers => $n });
		$s->signal('HUP');
		$gen++;
		my $ok = wait_for(sub {
			my $log = $s->log_since($step_mark);
			my %g = started_in($log);
			my $started = grep { $_ == $gen } values %g;
			return $log =~ /generation $gen with $n workers/
			    && $started == $n
			    && $log =~ /listening on 127\.0\.0\.1:$port with/;
		}, 5);
		ok($ok, "reload to $n workers: generation $gen logged with "
		    . "$n workers started") or diag($s->log_since($step_mark));
		my $log = $s->log_since($step_mark);
		my ($sockets) = $log =~
		    /listening on 127\.0\.0\.1:$port with (\d+) sockets/;
		my $want = $n > 2 || $gen > 4 ? 3 : 2;	# the most so far
		is($sockets, $want, "generation $gen: the listener keeps "
		    . "$want sockets");
		sleep 1.2;
	}
	ok($ka->running && $cl->running, 'both wrk runs lasted the reloads');
	wrk_clean_ok($ka->finish, 'worker count changes, keep-alive');
	wrk_clean_ok($cl->finish, 'worker count changes, Connection: close');
	for my $i (0 .. $#loads) {
		my $res = $loads[$i]->finish;
		is($res->{fail}, 0, "client $i, one connection per request: "
		    . "none failed") or diag(join("\n", @{ $res->{errors} }));
		cmp_ok($res->{ok}, '>', 0, "client $i made requests");
		note("client $i: $res->{ok} requests");
	}

	my $log = $s->log_since($mark);
	my @reloads = reloads_in($log);
	is_deeply([map { "$_->{workers} (was $_->{was})" } @reloads],
	    ['2 (was 1)', '1 (was 2)', '3 (was 1)', '1 (was 3)', '2 (was 1)'],
	    'the error log shows each reload with its worker count');

	# Generation 5 ran one worker over the three sockets generation 4
	# opened: none of them was closed when the count went down.
	my ($serves) = $log =~ /worker slot 0, generation 5 serves ([^\n]*)/;
	my $fds = () = ($serves // '') =~ /\(fd \d+\)/g;
	is($fds, 3, 'the one worker of generation 5 serves all three '
	    . 'sockets') or diag('it said: ' . ($serves // 'nothing'));
	my %slots;
	while ($log =~ /worker slot (\d+), generation 6 serves ([^\n]*)/g) {
		my ($slot, $list) = ($1, $2);
		$slots{$slot} = () = $list =~ /\(fd \d+\)/g;
	}
	is_deeply(\%slots, { 0 => 2, 1 => 1 }, 'generation 6 (2 workers): '
	    . 'slot 0 serves sockets 0 and 2, slot 1 socket 1');

	my @last = wait_generation($s, 6, 2, 15);
	is(scalar @last, 2, 'at the end: two workers, of the last '
	    . 'generation, and no older worker left')
	    or diag('workers now: ' . join(' ', $s->worker_pids));
	my $r = $s->http_get('/small.txt');
	is($r->{status}, 200, 'a request afterwards is answered');
	is($s->pid_from_file, $master, 'the same master throughout');
	is($s->stop, 0, 'QUIT: exit status 0');
	is_deeply([$s->orphans], [], 'no worker outlives the master');
	$s->log_clean_ok([]);
};

done_testing();
