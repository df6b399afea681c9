#!/usr/bin/perl
# signals.t: the master's life cycle.  HUP forks new workers and retires
# the old ones while requests keep succeeding; a broken config on HUP
# changes nothing; a worker killed with -9 is replaced; USR1 reopens the
# logs; QUIT waits for requests in progress (up to shutdown_timeout);
# TERM and INT do not; "-s" sends the same signals from the command line.

use strict;
use warnings;

use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(time);
use Forkloop qw(wait_for build_request run_forkloop printable);

Forkloop::check_binary();
Forkloop::watchdog(300);

my %site = (
	'www/index.html' => "version 1\n",
	'www/a.txt' => "a\n",
	'www2/index.html' => "version 2\n",
	'www2/a.txt' => "a\n",
);

# n requests for /a.txt, one connection each; how many failed, and why.
sub requests_fail {
	my ($s, $n) = @_;
	my @why;
	for (1 .. $n) {
		my $r = $s->http_get('/a.txt', quiet => 1, timeout => 5);
		push @why, $r->{error} // "status $r->{status}"
		    unless ($r->{status} // 0) == 200;
	}
	diag("failed requests: " . join('; ', @why[0 .. ($#why < 4 ? $#why : 4)]))
	    if @why;
	return scalar @why;
}

# Opens a connection whose request the worker is already working on: a
# quick request and a slow one pipelined, and the quick one answered.
# (Sending the slow one alone could race the signal that follows.)
sub request_in_progress {
	my ($s, $ms) = @_;
	my $c = $s->connect;
	$c->send(build_request(path => '/hello/first', keepalive => 1)
	    . build_request(path => "/delay/$ms"));
	my $first = $c->response(timeout => 5);
	die "no answer to the first request\n"
	    unless $first->{status} == 200;
	return $c;
}

my $s = Forkloop->new(config => { workers => 2 }, files => \%site);
my $master = $s->pid;
my @expected_errors;

subtest 'HUP: new workers, the same master, no request lost' => sub {
	my @old = $s->wait_workers(2);
	is(scalar @old, 2, 'two workers before');
	my @loads = map { $s->start_load(path => '/a.txt') } 1 .. 2;
	my $busy = eval { request_in_progress($s, 1500) };
	ok($busy, 'a slow request is in progress') or diag($@);
	is(requests_fail($s, 20), 0, 'requests before the HUP');

	$s->signal('HUP');
	my @new = $s->wait_workers(2, exclude => \@old, timeout => 15);
	is(scalar @new, 2, 'two new workers, and the old ones have exited')
	    or diag("old: @old; workers now: " . join(' ', $s->worker_pids));
	ok(!grep({ Forkloop::proc_alive($_) } @old),
	    'no old worker process is left');
	ok($s->alive, 'the master still runs');
	is($s->pid_from_file, $master, 'the pid file still names it');

	my $r = $busy && eval { $busy->response(timeout => 10) };
	is($r && $r->{status}, 200,
	    'the request in progress at the HUP was finished')
	    or diag($@);
	is(requests_fail($s, 20), 0, 'requests after the HUP');

	my ($ok, $fail) = (40, 0);	# the two requests_fail(20)
	for my $i (0 .. $#loads) {
		my $res = $loads[$i]->finish;
		is($res->{fail}, 0, "load $i: no request failed during "
		    . "the reload") or diag(join("\n", @{ $res->{errors} }));
		cmp_ok($res->{ok}, '>', 0, "load $i: requests were made");
		note("load $i: $res->{ok} requests");
		$ok += $res->{ok};
		$fail += $res->{fail};
	}

	# The retired workers wrote out what they had buffered; the new
	# ones write theirs in time.
	my $logged = 0;
	wait_for(sub {
		my $log = $s->read_file('access.log') // '';
		$logged = () = $log =~ m{GET /a\.txt\b}g;
		return $logged >= $ok;
	}, 5);
	ok($logged >= $ok && $logged <= $ok + $fail,
	    "the access log has a line for each of the $ok requests")
	    or diag("it has $logged");
};

subtest 'HUP takes a changed config' => sub {
	my @old = $s->wait_workers(2);
	$s->write_config({ workers => 3,
	    http => { root => '%%TESTDIR%%/www2' } });
	$s->signal('HUP');
	my $body = wait_for(sub {
		my $r = $s->http_get('/', quiet => 1);
		return ($r->{body} // '') eq "version 2\n";
	}, 10);
	ok($body, 'the new root is served');
	my @new = $s->wait_workers(3, exclude => \@old);
	is(scalar @new, 3, 'workers 3: three new workers')
	    or diag('workers now: ' . join(' ', $s->worker_pids));
	is($s->pid_from_file, $master, 'the same master');
};

subtest 'HUP with a broken config keeps the old workers' => sub {
	my @old = $s->wait_workers(3);
	my $good = $s->config_text;
	my $mark = $s->log_mark;
	my $bad_line = 1 + ($good =~ tr/\n//);
	$s->write_config($good . "this_is_not_a_directive on;\n");
	$s->signal('HUP');

	my $logged = wait_for(sub {
		$s->log_since($mark) =~ /forkloop\.conf:$bad_line\b/ }, 10);
	ok($logged, "the error is logged with forkloop.conf:$bad_line")
	    or diag("logged since the HUP:\n" . $s->log_since($mark));

	# For a second after the error is seen, the same workers serve.
	my ($same, $failed) = (1, 0);
	my $until = time + 1;
	while (time < $until) {
		$same = 0 if join(' ', $s->worker_pids) ne join(' ', @old);
		$failed += requests_fail($s, 1);
	}
	ok($same, 'the workers are the same processes')
	    or diag("old: @old; now: " . join(' ', $s->worker_pids));
	is($failed, 0, 'and they answer');
	ok($s->alive, 'the master still runs');
	push @expected_errors, map { qr/^\Q$_\E$/ }
	    split /\n/, $s->log_since($mark);

	$s->write_config($good);
	$s->signal('HUP');
	my @new = $s->wait_workers(3, exclude => \@old);
	is(scalar @new, 3, 'a good config is taken at the next HUP');
};

subtest 'kill -9 of a worker brings a new one' => sub {
	my @old = $s->wait_workers(3);
	my $victim = $old[0];
	my $mark = $s->log_mark;
	kill 'KILL', $victim;
	my @now = $s->wait_workers(3, exclude => [$victim]);
	is(scalar @now, 3, "worker $victim killed: three workers again")
	    or diag('workers now: ' . join(' ', $s->worker_pids));
	my %now = map { $_ => 1 } @now;
	ok($now{ $old[1] } && $now{ $old[2] }, 'the others are untouched');
	is(requests_fail($s, 20), 0, 'requests succeed');

	kill 'KILL', @now;
	my @again = $s->wait_workers(3, exclude => \@now);
	is(scalar @again, 3, 'all three killed at once: three new ones');
	is(requests_fail($s, 20), 0, 'requests succeed');
	ok($s->alive, 'the master still runs');
	is($s->pid_from_file, $master, 'the same master');

	# What the master says about workers dying of SIGKILL is expected.
	my %dead = map { $_ => 1 } $victim, @now;
	for my $line (split /\n/, $s->log_since($mark)) {
		my @numbers = $line =~ /\b(\d+)\b/g;
		push @expected_errors, qr/^\Q$line\E$/
		    if grep({ $dead{$_} } @numbers)
		    || $line =~ /signal 9|SIGKILL|killed/i;
	}
};

is($s->stop, 0, 'QUIT: exit status 0');
is_deeply([$s->orphans], [], 'no worker outlives the master');
ok(!-e $s->pid_file, 'QUIT removes the pid file');
$s->log_clean_ok(\@expected_errors);

subtest 'USR1 reopens the logs' => sub {
	my $u = Forkloop->new(config => { workers => 1 }, files => \%site);
	my @w = $u->wait_workers(1);
	my $access = sub { $u->read_file($_[0] // 'access.log') // '' };

	$u->http_get('/before-rotate', quiet => 1);
	ok(wait_for(sub { $access->() =~ m{/before-rotate} }, 5),
	    'the access log has a line for a request');
	rename($u->path('access.log'), $u->path('access.log.1'))
	    or die "rename: $!";
	rename($u->path('error.log'), $u->path('error.log.1'))
	    or die "rename: $!";

	# Answered, perhaps not yet written out, when USR1 comes.
	$u->http_get('/just-before-usr1', quiet => 1);
	$u->signal('USR1');
	ok(wait_for(sub { -e $u->error_log_file }, 5),
	    'a new error.log is created');
	# Which request is the first after the reopen cannot be known;
	# send until one lands in the new file.
	my $i = 0;
	my $landed = wait_for(sub {
		$i++;
		$u->http_get("/after-usr1-$i", quiet => 1);
		$access->() =~ m{/after-usr1-\d+};
	}, 10);
	ok($landed, 'requests after USR1 are logged to a new access.log');

	$u->http_get('/after-reopen', quiet => 1);
	ok(wait_for(sub { $access->() =~ m{/after-reopen} }, 5),
	    'and the next ones too');
	unlike($access->('access.log.1'), qr{/after-reopen},
	    'the renamed file gets no more lines');
	like($access->('access.log.1'), qr{/before-rotate},
	    'it keeps the old ones');
	unlike($access->(), qr{/before-rotate},
	    'the new file starts empty');
	ok(wait_for(sub { ($access->('access.log.1') . $access->())
	    =~ m{/just-before-usr1} }, 5),
	    'a line still buffered at USR1 is not lost');
	is_deeply([$u->worker_pids], \@w, 'USR1 restarts no worker');
	is($u->stop, 0, 'QUIT: exit status 0');
	$u->log_clean_ok([]);
};

subtest 'QUIT waits for a request in progress' => sub {
	my $q = Forkloop->new(config => { workers => 1,
	    shutdown_timeout => '10s' }, files => \%site);
	my $busy = eval { request_in_progress($q, 2000) };
	ok($busy, 'a slow request is in progress') or diag($@);
	my $t0 = time;
	$q->signal('QUIT');
	# As with nginx, the port closes at the QUIT: a new client is
	# refused at once rather than queued until the master exits.
	my $refused = wait_for(sub {
		my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
		    PeerPort => $q->port('http'), Proto => 'tcp', Timeout => 2);
		return 1 unless $c;
		close $c;
		return 0;
	}, 0.9);
	ok($refused, 'new connections are refused while the request runs');
	ok($q->alive, '... the master still waiting for it');
	my $r = $busy && eval { $busy->response(timeout => 10) };
	is($r && $r->{status}, 200, 'it is answered after the QUIT')
	    or diag($@);
	$busy->close if $busy;
	my $status = $q->wait_exit(10);
	is($status, 0, 'then the master exits with status 0');
	cmp_ok(time - $t0, '<', 5, 'soon after');
	ok(!-e $q->pid_file, 'the pid file is removed');
	$q->stop;
	is_deeply([$q->orphans], [], 'no worker outlives the master');
	my $conn = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $q->port('http'), Proto => 'tcp', Timeout => 2);
	ok(!$conn, 'the port is closed');
	my $log = $q->read_file('access.log') // '';
	like($log, qr{GET /delay/2000\b},
	    'the access log got the last request before the exit');
	$q->log_clean_ok([]);
};

subtest 'QUIT stops waiting at shutdown_timeout' => sub {
	my $q = Forkloop->new(config => { workers => 1,
	    shutdown_timeout => '1s' }, files => \%site);
	my $busy = eval { request_in_progress($q, 20000) };
	ok($busy, 'a 20 s request is in progress') or diag($@);
	my $t0 = time;
	$q->signal('QUIT');
	my $status = $q->wait_exit(10);
	ok(defined $status, 'the master exits');
	cmp_ok(time - $t0, '<', 5, 'about shutdown_timeout after the QUIT, '
	    . 'not after the request');
	$q->stop;
	is_deeply([$q->orphans], [], 'no worker outlives the master');
	$q->log_clean_ok([qr/shutdown|timeout|timed out|exiting|clos|kill/i]);
};

for my $sig ('TERM', 'INT') {
	subtest "$sig: a fast stop" => sub {
		my $f = Forkloop->new(config => { workers => 2,
		    shutdown_timeout => '30s' }, files => \%site);
		my $busy = eval { request_in_progress($f, 20000) };
		ok($busy, 'a 20 s request is in progress') or diag($@);
		my $t0 = time;
		$f->signal($sig);
		my $status = $f->wait_exit(10);
		ok(defined $status, "the master exits on $sig");
		cmp_ok(time - $t0, '<', 3, 'at once, not after the request');
		ok(defined $status && !($status & 127),
		    'by exiting, not by dying of the signal')
		    or diag('wait status ' . ($status // 'none'));
		$f->stop;
		is_deeply([$f->orphans], [], 'no worker outlives the master');
		$f->log_clean_ok([]);
	};
}

subtest '-s sends the signals' => sub {
	my $c = Forkloop->new(config => { workers => 1 }, files => \%site);
	my $conf = $c->conf_file;
	my $cmd = sub {
		my ($what) = @_;
		my $r = run_forkloop(args => ['-c', $conf, '-s', $what]);
		is($r->{exit}, 0, "-s $what: exit 0")
		    or diag(printable($r->{stderr}, 300));
		return $r;
	};

	my @old = $c->wait_workers(1);
	$cmd->('reload');
	my @new = $c->wait_workers(1, exclude => \@old);
	is(scalar @new, 1, '-s reload: a new worker');

	# A reload that fails: "-s reload" waits for the master's answer
	# and says so, so "forkloop -t && forkloop -s reload" tells the truth.
	my $good = $c->read_file('forkloop.conf');
	# "-s" reads the file for the pid file only; the master, reloading,
	# also reads the certificates, and finds this one missing.
	open(my $fh, '>>', $conf) or die "$conf: $!";
	printf $fh "http {\n    listen 127.0.0.1:%d ssl;\n"
	    . "    ssl_certificate %s/missing.crt;\n"
	    . "    ssl_certificate_key %s/missing.key;\n}\n",
	    $c->port('http') + 1, $c->testdir, $c->testdir;
	close($fh);
	my $r = run_forkloop(args => ['-c', $conf, '-s', 'reload']);
	isnt($r->{exit} // 0, 0, '-s reload of a broken config: non-zero');
	like($r->{stderr} // '', qr/reload failed.*missing\.crt/,
	    '... with the master\'s reason')
	    or diag(printable($r->{stderr}, 300));
	is_deeply([$c->worker_pids], \@new, '... and the workers stay');
	open($fh, '>', $conf) or die "$conf: $!";
	print $fh $good;
	close($fh);
	$cmd->('reload');
	my @third = $c->wait_workers(1, exclude => \@new);
	is(scalar @third, 1, '-s reload after the fix: exit 0, a new worker');

	$cmd->('reopen');
	ok($c->alive, '-s reopen: the master still runs');

	$cmd->('quit');
	is($c->wait_exit(10), 0, '-s quit: the master exits with status 0');
	$c->stop;
	is_deeply([$c->orphans], [], '-s quit: no worker left');

	my $r = run_forkloop(args => ['-c', $conf, '-s', 'quit']);
	ok(!$r->{timed_out} && ($r->{exit} // 0) != 0,
	    '-s quit with no server running: a non-zero exit')
	    or diag("exit " . ($r->{exit} // 'none'));

	my $d = Forkloop->new(config => { workers => 1 }, files => \%site);
	$r = run_forkloop(args => ['-c', $d->conf_file, '-s', 'stop']);
	is($r->{exit}, 0, '-s stop: exit 0');
	ok(defined $d->wait_exit(10), '-s stop: the master exits');
	$d->stop;
	is_deeply([$d->orphans], [], '-s stop: no worker left');
	# The reload broken on purpose above, and only that.
	$c->log_clean_ok([qr/missing\.crt/, qr/reload failed/]);
};

# A second QUIT (or TERM) while the master is already on its way out must
# change nothing: it once came after libevent's handlers were gone, and
# the default action killed the master (status 131) instead of exit 0.
# The signals come every 0.2 ms from the first one until the master has
# gone, so the last moments of its exit are covered.
subtest 'QUIT again and again while stopping: still exit 0' => sub {
	for my $round (1 .. 5) {
		my $q = Forkloop->new(config => { workers => 1 },
		    files => \%site);
		my $pid = $q->pid;
		my $sent = 0;
		my $t0 = time;
		while (kill('QUIT', $pid) && time - $t0 < 10) {
			$sent++;
			last if !$q->alive;
			select(undef, undef, undef, 0.0002);
		}
		my $status = $q->wait_exit(10);
		$q->stop;
		is($status, 0, "round $round: exit status 0 after $sent QUITs")
		    or diag(($status // 0) & 127 ? 'killed by signal '
		    . (($status // 0) & 127) : 'exit ' . (($status // 0) >> 8));
	}
};

done_testing();
