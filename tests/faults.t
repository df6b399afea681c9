#!/usr/bin/perl
# faults.t: faults under load, hostile clients and resource exhaustion
# (issue 5, "Load and faults" and "Crash loop"):
#
#   - kill -9 of a worker under wrk load: a new worker within a second;
#     the clients of the other worker are not touched (keep-alive
#     connections pinned to each worker, found from /proc, are used again
#     after the kill);
#   - slowloris: 500 connections stalled inside the request head (half of
#     them trickling a header line every 0.5 s) do not delay a normal
#     client (every request under 200 ms) and are answered 408 and closed
#     by header_timeout (2 s), none before it, all within 4 s;
#   - fd exhaustion: under "ulimit -n 64", 200 keep-alive clients: the
#     server stays up, does not spin (CPU time sampled from /proc over
#     2 s), and serves again once the clients go;
#   - QUIT with 50 requests to /delay/1000 in flight: all 50 answered
#     200, then the master exits 0 and its pid file is gone;
#   - crash loop: a worker that cannot start (its access log directory
#     removed under it) makes the master back off with growing delays,
#     logged, without spinning and without dying; once the cause is gone
#     a worker starts again.

use strict;
use warnings;

use Test::More;
use File::Path qw(remove_tree make_path);
use IO::Socket::INET;
use Time::HiRes qw(time sleep);
use Forkloop qw(wait_for build_request parse_response proc_alive);
use Forkloop::Load qw(start_wrk wrk_summary have_wrk server_pid_of
    cpu_seconds);

Forkloop::check_binary();
plan skip_all => 'wrk is not installed' unless have_wrk();
Forkloop::watchdog(170);

my %site = (
	'www/index.html' => "faults\n",
	'www/small.txt' => ('0123456789abcdef' x 32) . "\n",	# 513 bytes
);

sub max_of { my $m; for (@_) { $m = $_ if !defined $m || $_ > $m } $m }
sub min_of { my $m; for (@_) { $m = $_ if !defined $m || $_ < $m } $m }

# How many sockets process $pid holds.
sub socket_fds {
	my ($pid) = @_;
	opendir(my $dh, "/proc/$pid/fd") or return 0;
	my $n = grep { (readlink("/proc/$pid/fd/$_") // '') =~ /^socket:/ }
	    readdir $dh;
	closedir $dh;
	return $n;
}

# A plain blocking connection to the test server (for many clients at
# once, where Forkloop::Conn's objects would be heavier than needed).
sub raw_connect {
	my ($port) = @_;
	return IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $port, Proto => 'tcp', Timeout => 5);
}

# Log lines a test expects to find among the problems: about the given
# pids, or matching a pattern.
sub expect_lines {
	my ($s, $mark, $pids, @res) = @_;
	my %p = map { $_ => 1 } @$pids;
	my @e;
	for my $line (split /\n/, $s->log_since($mark)) {
		my @n = $line =~ /\b(\d+)\b/g;
		push @e, qr/^\Q$line\E$/
		    if grep({ $p{$_} } @n) || grep { $line =~ $_ } @res;
	}
	return @e;
}

subtest 'kill -9 of a worker under load' => sub {
	my $s = Forkloop->new(config => { workers => 2 }, files => \%site);
	my @w = $s->wait_workers(2);
	is(scalar @w, 2, 'two workers');
	my $mark = $s->log_mark;

	# Keep-alive clients, each answered once, and the worker holding
	# its server end: at least three on each worker.
	my @pins;
	for (1 .. 80) {
		my $c = $s->connect(timeout => 5);
		$c->send(build_request(path => '/small.txt', keepalive => 1));
		my $r = eval { $c->response(timeout => 5) };
		next unless $r && $r->{status} == 200;
		my $pid = wait_for(sub { server_pid_of($c->sock, @w) }, 2);
		push @pins, { c => $c, pid => $pid // 0 };
		my %n;
		$n{ $_->{pid} }++ for @pins;
		last if @pins >= 20 && ($n{ $w[0] } // 0) >= 3
		    && ($n{ $w[1] } // 0) >= 3;
	}
	my ($victim, $other) = @w;
	my @mine = grep { $_->{pid} == $victim } @pins;
	my @theirs = grep { $_->{pid} == $other } @pins;
	cmp_ok(scalar @mine, '>=', 3, 'keep-alive clients on the worker '
	    . 'to be killed');
	cmp_ok(scalar @theirs, '>=', 3, 'keep-alive clients on the other '
	    . 'worker');
	is(@mine + @theirs, scalar @pins, 'each client found on one of them');

	my $wrk = start_wrk($s, path => '/small.txt', connections => 20,
	    duration => 5);
	# The victim has lived over a second (so it is respawned at once,
	# no back-off) and wrk is in full swing.
	sleep 1.2;
	my $t0 = time;
	kill 'KILL', $victim;
	my @now = $s->wait_workers(2, exclude => [$victim], timeout => 1);
	my $took = time - $t0;
	is(scalar @now, 2, 'a new worker within a second')
	    or diag(sprintf('after %.2f s, workers: %s', $took,
	    join(' ', $s->worker_pids)));
	note(sprintf('replaced in %.3f s', $took));
	ok(grep({ $_ == $other } @now), 'the other worker is the same '
	    . 'process');

	my @fail;
	for my $p (@theirs) {
		my $r = eval {
			$p->{c}->send(build_request(path => '/small.txt',
			    keepalive => 1));
			$p->{c}->response(timeout => 3);
		};
		push @fail, $@ || "status $r->{status}"
		    unless $r && $r->{status} == 200;
	}
	is(scalar @fail, 0, 'every keep-alive client of the other worker '
	    . 'is answered again on its connection')
	    or diag(join("\n", @fail));
	my $closed = grep { $_->{c}->wait_closed(2) } @mine;
	is($closed, scalar @mine, "the killed worker's clients see their "
	    . 'connections closed');
	$_->{c}->close for @pins;

	my $r = $wrk->finish;
	ok(defined $r->{requests} && $r->{requests} > 0,
	    'wrk made requests') or diag($r->{output});
	note('wrk: ' . wrk_summary($r));
	is($r->{connect} + $r->{timeout}, 0, 'wrk: no connect error or '
	    . 'timeout (new connections wait in the queue the master keeps)')
	    or diag(wrk_summary($r));
	cmp_ok($r->{read} + $r->{write}, '<=', 20, 'wrk: at most one error '
	    . 'per connection (those the killed worker held)')
	    or diag(wrk_summary($r));
	is($r->{non2xx}, 0, 'wrk: no non-2xx') or diag(wrk_summary($r));

	my $ok = grep { ($s->http_get('/small.txt', quiet => 1)->{status}
	    // 0) == 200 } 1 .. 20;
	is($ok, 20, 'new requests are answered');
	ok($s->alive, 'the master still runs');
	is($s->stop, 0, 'QUIT: exit status 0');
	is_deeply([$s->orphans], [], 'no worker outlives the master');
	$s->log_clean_ok([expect_lines($s, $mark, [$victim])]);
};

subtest 'slowloris: 500 stalled heads, header_timeout 2s' => sub {
	my $s = Forkloop->new(config => { workers => 1,
	    http => { header_timeout => '2s' } }, files => \%site);
	my ($worker) = $s->wait_workers(1);
	my $port = $s->port('http');
	my $mark = $s->log_mark;

	my @slow;
	for my $i (0 .. 499) {
		my $sock = raw_connect($port) or last;
		syswrite($sock, "GET /small.txt HTTP/1.1\r\nHost: x\r\n");
		$sock->blocking(0);
		push @slow, { sock => $sock, sent => time, trickle => $i % 2,
		    buf => '', n => 0 };
	}
	is(scalar @slow, 500, '500 connections, each inside its request '
	    . 'head');
	ok(wait_for(sub { socket_fds($worker) >= 500 }, 5),
	    'the worker has accepted them all')
	    or diag('the worker holds ' . socket_fds($worker) . ' sockets');

	# A normal client meanwhile: new connections and a keep-alive one.
	my @times;
	for (1 .. 10) {
		my $r = $s->http_get('/small.txt', timeout => 3);
		push @times, ($r->{status} // 0) == 200 ? $r->{elapsed} : 99;
	}
	my $ka = $s->connect(timeout => 3);
	for (1 .. 10) {
		my $t = time;
		my $r = eval {
			$ka->send(build_request(path => '/small.txt',
			    keepalive => 1));
			$ka->response(timeout => 3);
		};
		push @times, $r && $r->{status} == 200 ? time - $t : 99;
	}
	$ka->close;
	my $since_open = time - $slow[0]{sent};
	cmp_ok(max_of(@times), '<', 0.2, '20 requests of a normal client '
	    . 'are each answered in under 200 ms')
	    or diag('seconds: ' . join(' ', map { sprintf '%.3f', $_ }
	    @times));
	note(sprintf('slowest normal request %.1f ms; measured by %.2f s '
	    . 'after the first stalled connection', 1000 * max_of(@times),
	    $since_open));
	cmp_ok($since_open, '<', 1.9, 'measured while all were stalled');

	# Now wait for them to be closed, trickling a header line every
	# 0.5 s into half of them (header_timeout is for the whole head).
	my $deadline = $slow[-1]{sent} + 6;
	my $next_trickle = time + 0.5;
	while (time < $deadline) {
		my @open = grep { !defined $_->{closed} } @slow;
		last unless @open;
		if (time >= $next_trickle) {
			$next_trickle += 0.5;
			for my $c (grep { $_->{trickle} } @open) {
				my $n = syswrite($c->{sock},
				    "X-Slow-" . $c->{n}++ . ": y\r\n");
				$c->{closed} //= time
				    if !defined $n && !$!{EAGAIN};
			}
		}
		my $rin = '';
		vec($rin, fileno $_->{sock}, 1) = 1
		    for grep { !defined $_->{closed} } @open;
		my $wait = $next_trickle - time;
		$wait = 0 if $wait < 0;
		next unless select(my $rout = $rin, undef, undef, $wait) > 0;
		for my $c (@open) {
			next if defined $c->{closed}
			    || !vec($rout, fileno $c->{sock}, 1);
			my $n = sysread($c->{sock}, my $chunk, 4096);
			if (!defined $n) {
				next if $!{EAGAIN} || $!{EINTR};
				$c->{closed} = time;	# a reset
				$c->{reset} = 1;
			} elsif ($n == 0) {
				$c->{closed} = time;
			} else {
				$c->{buf} .= $chunk;
			}
		}
	}
	my @closed = grep { defined $_->{closed} } @slow;
	is(scalar @closed, 500, 'all 500 were closed by the server');
	my @after = map { $_->{closed} - $_->{sent} } @closed;
	cmp_ok(min_of(@after) // 0, '>=', 1.5, 'none before header_timeout '
	    . '(2 s)');
	cmp_ok(max_of(@after) // 99, '<=', 4, 'all within 4 s of their '
	    . 'first bytes, the trickling ones too');
	my @trickled = grep { $_->{trickle} } @closed;
	cmp_ok(max_of(map { $_->{n} } @trickled) // 0, '>=', 3,
	    'the trickling ones sent header lines meanwhile');
	my $got408 = grep { $_->{buf} =~ m{^HTTP/1\.[01] 408 } } @slow;
	is($got408, 500, 'each got a 408 before the close')
	    or diag("resets: " . scalar(grep { $_->{reset} } @slow)
	    . '; a sample: ' . Forkloop::printable(
	    (map { $_->{buf} } grep { $_->{buf} !~ / 408 / } @slow)[0], 100));
	note(sprintf('closed %.2f to %.2f s after the first bytes',
	    min_of(@after) // 0, max_of(@after) // 0));
	close $_->{sock} for @slow;

	my $r = $s->http_get('/small.txt');
	is($r->{status}, 200, 'a normal client is served afterwards');
	is_deeply([$s->worker_pids], [$worker], 'the same worker');
	is($s->stop, 0, 'QUIT: exit status 0');
	$s->log_clean_ok([]);
};

subtest 'fd exhaustion: ulimit -n 64, 200 keep-alive clients' => sub {
	my $s = Forkloop->new(config => { workers => 1 }, files => \%site,
	    start => 0);
	my $wrapper = $s->write_file('ulimit64.sh', "#!/bin/sh\n"
	    . "ulimit -n 64 || exit 126\n"
	    . 'exec ' . Forkloop::forkloop_bin() . " \"\$@\"\n");
	chmod 0755, $wrapper;
	{
		local $ENV{FORKLOOP_BIN} = $wrapper;
		$s->run;
	}
	my $master = $s->pid;
	my ($worker) = $s->wait_workers(1);
	my $limit = do {
		open(my $fh, '<', "/proc/$worker/limits");
		my ($l) = grep { /^Max open files/ } <$fh>;
		($l // '') =~ /^Max open files\s+(\d+)/ ? $1 : 'unknown';
	};
	is($limit, 64, 'the worker runs with 64 descriptors at most');
	my $port = $s->port('http');
	my $mark = $s->log_mark;

	my @c;
	for my $i (1 .. 200) {
		my $sock = raw_connect($port) or last;
		syswrite($sock, build_request(path => "/hello/$i",
		    keepalive => 1));
		$sock->blocking(0);
		push @c, { sock => $sock, buf => '' };
	}
	is(scalar @c, 200, '200 clients connected and sent a request');

	# Read for a while: those the worker could accept are answered.
	my $until = time + 2;
	while (time < $until) {
		my $rin = '';
		vec($rin, fileno $_->{sock}, 1) = 1 for @c;
		next unless select(my $rout = $rin, undef, undef, 0.2) > 0;
		for my $c (@c) {
			next unless vec($rout, fileno $c->{sock}, 1);
			my $n = sysread($c->{sock}, my $chunk, 4096);
			$c->{buf} .= $chunk if $n;
			$c->{eof} = 1 if defined $n && $n == 0;
		}
	}
	my $answered = grep { $_->{buf} =~ m{^HTTP/1\.1 200 } } @c;
	cmp_ok($answered, '>', 0, 'some clients are answered');
	cmp_ok($answered, '<', 200, 'not all: the worker ran out of '
	    . 'descriptors');
	note("$answered of 200 answered; worker holds "
	    . socket_fds($worker) . ' sockets');

	# Held idle: CPU time over 2 s, and how often accept was retried.
	my $t_mark = $s->log_mark;
	my ($w0, $m0) = (cpu_seconds($worker), cpu_seconds($master));
	sleep 2;
	my ($w1, $m1) = (cpu_seconds($worker), cpu_seconds($master));
	ok(defined $w1, 'the worker is alive');
	my $wcpu = defined $w1 ? $w1 - $w0 : 99;
	my $mcpu = defined $m1 ? $m1 - $m0 : 99;
	cmp_ok($wcpu, '<', 0.5, 'the worker does not spin (CPU time over '
	    . '2 s)');
	cmp_ok($mcpu, '<', 0.5, 'nor does the master');
	note(sprintf('CPU over 2 s: worker %.2f s, master %.2f s', $wcpu,
	    $mcpu));
	my $retries = () = $s->log_since($t_mark) =~ /pausing accept/g;
	cmp_ok($retries, '<=', 10, 'accept is retried a few times a second, '
	    . 'not in a loop') or diag("$retries retries logged in 2 s");
	like($s->log_since($mark), qr/Too many open files|pausing accept/,
	    'the error log says accept ran out of descriptors');
	ok($s->alive, 'the master still runs');
	is_deeply([$s->worker_pids], [$worker], 'the same worker');

	close $_->{sock} for @c;
	my $back = wait_for(sub {
		($s->http_get('/small.txt', quiet => 1, timeout => 2)->{status}
		    // 0) == 200;
	}, 5);
	ok($back, 'the server serves again once the clients are gone');
	my $ok = grep { ($s->http_get('/small.txt', quiet => 1)->{status}
	    // 0) == 200 } 1 .. 20;
	is($ok, 20, 'and keeps serving');
	is($s->stop, 0, 'QUIT: exit status 0');
	is_deeply([$s->orphans], [], 'no worker outlives the master');
	$s->log_clean_ok([qr/accept/]);
};

subtest 'QUIT with 50 requests to /delay/1000 in flight' => sub {
	my $s = Forkloop->new(config => { workers => 2,
	    shutdown_timeout => '10s' }, files => \%site);
	$s->wait_workers(2);
	my $pid_file = $s->pid_file;

	# A quick request pipelined before each slow one: once the quick
	# one is answered, the worker has the slow one in hand.
	my (@c, $first);
	for (1 .. 50) {
		my $c = eval {
			my $c = $s->connect(timeout => 5);
			$c->send(build_request(path => '/hello/first',
			    keepalive => 1) . build_request(path => '/delay/1000'));
			my $r = $c->response(timeout => 5);
			die "status $r->{status}\n" unless $r->{status} == 200;
			$c;
		};
		$first //= time;
		push @c, $c if $c;
	}
	is(scalar @c, 50, '50 requests to /delay/1000 in progress');
	my $t0 = time;
	$s->signal('QUIT');
	cmp_ok($t0 - $first, '<', 0.9, 'QUIT sent while the first is '
	    . 'still in progress');

	my ($ok, @why) = (0);
	for my $c (@c) {
		my $r = eval { $c->response(timeout => 8) };
		if ($r && $r->{status} == 200) {
			$ok++;
		} else {
			push @why, $@ || "status $r->{status}";
		}
		$c->close;
	}
	is($ok, 50, 'all 50 answered 200 after the QUIT')
	    or diag(join("\n", @why[0 .. ($#why > 4 ? 4 : $#why)]));
	my $status = $s->wait_exit(10);
	is($status, 0, 'then the master exits with status 0');
	cmp_ok(time - $t0, '<', 5, 'within 5 s of the QUIT');
	ok(!-e $pid_file, 'the pid file is gone');
	$s->stop;
	is_deeply([$s->orphans], [], 'no worker outlives the master');
	$s->log_clean_ok([]);
};

subtest 'crash loop: a worker that dies at start-up' => sub {
	my $s = Forkloop->new(config => { workers => 1,
	    http => { access_log => '%%TESTDIR%%/logs/access.log' } },
	    files => { %site, 'logs/.keep' => '' });
	my $master = $s->pid;
	my ($first) = $s->wait_workers(1);
	is($s->http_get('/small.txt')->{status}, 200, 'served at first');

	# Without its log directory no worker can open its access log,
	# so every new one exits at start.
	remove_tree($s->path('logs'));
	my $mark = $s->log_mark;
	my $m0 = cpu_seconds($master);
	my $t0 = time;
	kill 'KILL', $first;

	my @delays;
	wait_for(sub {
		@delays = $s->log_since($mark) =~
		    /keeps exiting at start-up; next try in (\d+) ms/g;
		return @delays >= 5;
	}, 6);
	my $m1 = cpu_seconds($master);
	my $log = $s->log_since($mark);
	my $attempts = () = $log =~ /started worker \d+/g;
	cmp_ok(scalar @delays, '>=', 5, 'the master logs its back-off')
	    or diag("logged:\n$log");
	is_deeply([@delays[0 .. 4]], [100, 200, 400, 800, 1600],
	    'with delays doubling from 100 ms');
	like($log, qr/opening access log .*logs\/access\.log/,
	    'the worker says why it cannot start');
	like($log, qr/exited with status 2/, 'and exits with status 2');
	note(sprintf('%d start attempts in %.1f s', $attempts, time - $t0));
	cmp_ok($attempts, '<=', 7, 'a handful of start attempts, not a '
	    . 'loop');
	cmp_ok(defined $m1 ? $m1 - $m0 : 99, '<', 0.5,
	    'the master uses little CPU meanwhile');
	ok($s->alive, 'the master stays alive');
	is($s->pid_from_file, $master, 'the same master');

	# The cause goes: the next try (at most 3.2 s away) works.
	make_path($s->path('logs'));
	my $back = wait_for(sub {
		($s->http_get('/small.txt', quiet => 1, timeout => 2)->{status}
		    // 0) == 200;
	}, 8);
	ok($back, 'once the directory is back, a worker starts and serves');
	my @w = $s->worker_pids;
	is(scalar @w, 1, 'one worker');
	is($s->stop, 0, 'QUIT: exit status 0');
	is_deeply([$s->orphans], [], 'no worker outlives the master');
	$s->log_clean_ok([qr/killed by signal 9/, qr/exited with status 2/,
	    qr/access\.log/]);
};

done_testing();
