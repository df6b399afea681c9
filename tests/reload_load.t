#!/usr/bin/perl
# reload_load.t: reloads under a real load (wrk), with nothing lost.
#
#   - a reload storm: 16 HUPs during 10 s of wrk with 50 keep-alive
#     clients, then the same with "Connection: close" clients: 0 socket
#     errors (connect, read, write, timeout) and 0 non-2xx in both (the
#     graceful drain of issue 3: an idle keep-alive connection of a
#     retiring worker is not closed under a request the client just sent);
#   - the same storm under HTTP/2 (h2load, 20 clients x 10 streams, over
#     h2c by prior knowledge): every worker that retires sends GOAWAY and
#     finishes its streams, h2load reconnects: 0 failed, errored or
#     timed-out requests, all 2xx;
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

# h2load's summary: "requests: N total, N started, N done, N succeeded,
# N failed, N errored, N timeout" and "status codes: N 2xx, ...".
sub h2load_summary {
	my ($text) = @_;
	my %r;
	@r{qw(total started done succeeded failed errored timeout)} =
	    $text =~ /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/;
	@r{qw(s2xx s3xx s4xx s5xx)} =
	    $text =~ /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/;
	return \%r;
}

SKIP: {
	my $h2load = `command -v h2load 2>/dev/null`;
	chomp $h2load;
	skip 'h2load (nghttp2-client) is not installed', 1 unless $h2load;
	subtest '16 HUPs during 10 s of h2load -c20 -m10 (HTTP/2, h2c)' => sub {
		my $s = Forkloop->new(config => { workers => 2 },
		    files => \%site);
		my @first = $s->wait_workers(2);
		is(scalar @first, 2, 'two workers before the storm');
		my $mark = $s->log_mark;
		my $url = 'http://127.0.0.1:' . $s->port('http') . '/small.txt';
		my $out = $s->path('h2load.out');
		# -D 10 bounds it; timeout(1) bounds it again.
		my $pid = fork // die "fork: $!";
		if ($pid == 0) {
			open(STDOUT, '>', $out) or die "$out: $!";
			open(STDERR, '>&', \*STDOUT) or die "stderr: $!";
			exec('timeout', '30', $h2load, '-c', '20', '-m', '10',
			    '-D', '10', '-T', '5', $url);
			die "exec h2load: $!";
		}
		sleep 1;
		for my $i (1 .. 16) {
			wait_for(sub { reloads_in($s->log_since($mark)) >= $i - 1 },
			    2) if $i > 1;
			$s->signal('HUP');
			sleep 0.4;
		}
		waitpid($pid, 0);
		is($? >> 8, 0, 'h2load exit status 0');
		my $text = do { local (@ARGV, $/) = ($out); <> } // '';
		my $r = h2load_summary($text);
		cmp_ok($r->{done} // 0, '>', 1000, 'h2load made requests')
		    or diag($text);
		is($r->{failed}, 0, '0 failed');
		is($r->{errored}, 0, '0 errored');
		is($r->{timeout}, 0, '0 timed out');
		is($r->{s2xx}, $r->{done}, 'every answer a 2xx')
		    or diag($text);
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
