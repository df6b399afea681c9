#!/usr/bin/perl
# systemd.t: what systemd sees of forkloop, without systemd.
#
# Notifications (Type=notify): a datagram socket of ours is NOTIFY_SOCKET;
# READY=1 with STATUS= (the worker count) after start, RELOADING=1 with
# MONOTONIC_USEC then READY=1 on HUP (and on "-s reload"), STOPPING=1 on
# QUIT ("-s quit"); the abstract namespace ('@name') works too.
#
# Socket activation: a listening socket bound here is passed as fd 3 with
# LISTEN_FDS=1 and LISTEN_PID set to the pid that execs forkloop; forkloop
# serves it, says so in the error log, and every worker (of every
# generation) accepts on that one socket.  LISTEN_PID of another process
# leaves fd 3 alone, and a socket that matches no listen line is closed.
#
# And "-s reload|reopen|quit|stop" against the running master; "-s quit"
# with none running says so and exits non-zero.

use strict;
use warnings;

use Test::More;
use Fcntl qw(F_GETFD F_SETFD FD_CLOEXEC);
use File::Temp ();
use POSIX ();
use IO::Select;
use IO::Socket::INET;
use IO::Socket::UNIX;
use Socket qw(SOCK_DGRAM);
use Time::HiRes qw(time clock_gettime CLOCK_MONOTONIC);
use Forkloop qw(wait_for run_forkloop printable);
use Forkloop::Ops ();

Forkloop::check_binary();
Forkloop::watchdog(240);

my %site = ('www/index.html' => "systemd.t\n");

# Datagrams that arrived on $sock, in order, until $want (a regex) matched
# one of them or $timeout passed.  Everything read is returned.
sub notifications {
	my ($sock, $want, $timeout) = @_;
	my $sel = IO::Select->new($sock);
	my $deadline = time + ($timeout // 10);
	my @got;
	while ((my $left = $deadline - time) > 0) {
		last unless $sel->can_read($left);
		my $from = $sock->recv(my $msg, 65536);
		next unless defined $from;
		push @got, $msg;
		last if defined $want && $msg =~ $want;
	}
	return @got;
}

sub show { join(' | ', map { printable($_, 120) } @_) || 'nothing' }

subtest 'sd_notify: READY, RELOADING, STOPPING' => sub {
	my $dir = File::Temp->newdir('forkloop-notify-XXXXXX', TMPDIR => 1);
	my $path = "$dir/notify";
	my $ns = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Local => $path)
	    or die "notify socket $path: $!";
	local $ENV{NOTIFY_SOCKET} = $path;

	my $s = Forkloop->new(config => { workers => 2 }, files => \%site);
	my @got = notifications($ns, qr/^READY=1$/m, 10);
	is(scalar @got, 1, 'one datagram after start') or diag(show(@got));
	my $ready = $got[-1] // '';
	like($ready, qr/^READY=1$/m, 'READY=1');
	like($ready, qr/^STATUS=.*\b2 workers\b/m,
	    'STATUS= gives the worker count (2)');
	is(scalar $s->wait_workers(2), 2, 'and the two workers run');
	is($s->http_get('/')->{status}, 200, 'requests are served');

	# A reload to 3 workers.
	my @old = $s->wait_workers(2);
	$s->write_config({ workers => 3 });
	my $t0 = int(clock_gettime(CLOCK_MONOTONIC) * 1e6);
	$s->signal('HUP');
	@got = notifications($ns, qr/^READY=1$/m, 15);
	my $t1 = int(clock_gettime(CLOCK_MONOTONIC) * 1e6);
	is(scalar @got, 2, 'HUP: two datagrams') or diag(show(@got));
	like($got[0] // '', qr/^RELOADING=1$/m, 'first RELOADING=1');
	my ($usec) = ($got[0] // '') =~ /^MONOTONIC_USEC=(\d+)$/m;
	ok(defined $usec, 'with MONOTONIC_USEC=<digits>')
	    or diag(show($got[0]));
	ok(defined $usec && $usec >= $t0 && $usec <= $t1,
	    'the CLOCK_MONOTONIC time of the reload, in microseconds')
	    or diag("MONOTONIC_USEC " . ($usec // 'none')
	    . ", the HUP between $t0 and $t1");
	like($got[1] // '', qr/^READY=1$/m, 'then READY=1');
	like($got[1] // '', qr/^STATUS=.*\b3 workers\b/m,
	    'STATUS= gives the new worker count (3)');
	is(scalar $s->wait_workers(3, exclude => \@old), 3,
	    'three new workers');

	# The same through the command line.
	my $conf = $s->conf_file;
	@old = $s->wait_workers(3);
	my $r = run_forkloop(args => ['-c', $conf, '-s', 'reload']);
	is($r->{exit}, 0, '-s reload: exit 0') or diag($r->{stderr});
	@got = notifications($ns, qr/^READY=1$/m, 15);
	is(join(',', map { /^(RELOADING|READY)=1$/m ? $1 : '?' } @got),
	    'RELOADING,READY', '-s reload: RELOADING=1, then READY=1')
	    or diag(show(@got));
	is(scalar $s->wait_workers(3, exclude => \@old), 3,
	    '-s reload: new workers');

	# A broken config: the reload fails, and systemd hears the end of it.
	my $good = $s->config_text;
	$s->write_config($good . "no_such_directive 1;\n");
	@old = $s->wait_workers(3);
	$s->signal('HUP');
	@got = notifications($ns, qr/^READY=1$/m, 15);
	is(join(',', map { /^(RELOADING|READY)=1$/m ? $1 : '?' } @got),
	    'RELOADING,READY', 'a failed reload: RELOADING=1, then READY=1 '
	    . 'again') or diag(show(@got));
	is_deeply([$s->worker_pids], \@old, 'and the workers stay');
	my @expected = map { qr/^\Q$_\E$/ } grep { /no_such_directive/ }
	    split /\n/, $s->error_log;
	$s->write_config($good);

	# -s reopen: a new error log; nothing for systemd.
	rename($s->error_log_file, $s->error_log_file . '.1')
	    or die "rename: $!";
	$r = run_forkloop(args => ['-c', $conf, '-s', 'reopen']);
	is($r->{exit}, 0, '-s reopen: exit 0') or diag($r->{stderr});
	ok(wait_for(sub { -e $s->error_log_file }, 5),
	    '-s reopen: the error log is opened anew');
	@got = notifications($ns, undef, 0.5);
	is(show(@got), 'nothing', '-s reopen: no notification');

	$r = run_forkloop(args => ['-c', $conf, '-s', 'quit']);
	is($r->{exit}, 0, '-s quit: exit 0') or diag($r->{stderr});
	@got = notifications($ns, qr/^STOPPING=1$/m, 10);
	like($got[-1] // '', qr/^STOPPING=1$/m, '-s quit: STOPPING=1')
	    or diag(show(@got));
	is($s->wait_exit(10), 0, '-s quit: the master exits with status 0');
	@got = notifications($ns, undef, 0.5);
	is(show(@got), 'nothing', 'nothing after STOPPING=1');
	$s->stop;
	is_deeply([$s->orphans], [], 'no worker outlives the master');
	$s->log_clean_ok(\@expected);

	# No master now.
	$r = run_forkloop(args => ['-c', $conf, '-s', 'quit']);
	ok(!$r->{timed_out} && defined $r->{exit} && $r->{exit} != 0,
	    '-s quit with no master running: a non-zero exit')
	    or diag('exit ' . ($r->{exit} // 'none'));
	like($r->{stderr}, qr/no master running/i,
	    'and a message that says no master runs');
	like($r->{stderr}, qr/\Q${\ $s->pid_file }\E/,
	    'naming the pid file it looked at');

	# A pid file left behind by a master that is gone.
	my $dead = fork // die "fork: $!";
	POSIX::_exit(0) if $dead == 0;
	waitpid($dead, 0);
	$s->write_file('forkloop.pid', "$dead\n");
	$r = run_forkloop(args => ['-c', $conf, '-s', 'reload']);
	ok(!$r->{timed_out} && defined $r->{exit} && $r->{exit} != 0,
	    '-s reload with a stale pid file: a non-zero exit');
	like($r->{stderr}, qr/\b$dead\b.*(no such process|stale)/i,
	    'and a message about the stale pid') or diag($r->{stderr});
	unlink $s->pid_file;
};

subtest 'sd_notify to an abstract socket; -s stop' => sub {
	my $name = "forkloop-test-notify-$$";
	my $ns = IO::Socket::UNIX->new(Type => SOCK_DGRAM,
	    Local => "\0$name") or die "abstract notify socket: $!";
	local $ENV{NOTIFY_SOCKET} = "\@$name";
	my $s = Forkloop->new(config => { workers => 1 }, files => \%site);
	my @got = notifications($ns, qr/^READY=1$/m, 10);
	like($got[-1] // '', qr/^READY=1$/m, 'READY=1')
	    or diag(show(@got));
	like($got[-1] // '', qr/^STATUS=.*\b1 workers?\b/m,
	    'STATUS= with 1 worker');
	my $r = run_forkloop(args => ['-c', $s->conf_file, '-s', 'stop']);
	is($r->{exit}, 0, '-s stop: exit 0') or diag($r->{stderr});
	@got = notifications($ns, qr/^STOPPING=1$/m, 10);
	like($got[-1] // '', qr/^STOPPING=1$/m, '-s stop: STOPPING=1')
	    or diag(show(@got));
	ok(defined $s->wait_exit(10), '-s stop: the master exits');
	$s->stop;
	is_deeply([$s->orphans], [], 'no worker outlives the master');
	$s->log_clean_ok([]);
};

###########################################################################
# Socket activation.  The harness forks and execs FORKLOOP_BIN; here that
# is a small Perl program that does what systemd does between its fork
# and exec: the socket goes to fd 3, LISTEN_FDS=1 and LISTEN_PID=$$
# (exec keeps the pid), then it execs forkloop.  Our socket stays open
# across the harness's exec because its close-on-exec flag is cleared.

my $ACTIVATE = <<'PERL';
use strict;
use warnings;
use POSIX ();
my $fd = $ENV{FORKLOOP_TEST_FD};
my $bin = $ENV{FORKLOOP_TEST_BIN};
delete @ENV{qw(FORKLOOP_TEST_FD FORKLOOP_TEST_BIN)};
if ($fd != 3) {
	POSIX::dup2($fd, 3) or die "dup2 $fd to 3: $!\n";
	POSIX::close($fd);
}
$ENV{LISTEN_FDS} = 1;
$ENV{LISTEN_PID} = $ENV{FORKLOOP_TEST_LISTEN_PID} // $$;
delete $ENV{FORKLOOP_TEST_LISTEN_PID};
exec { $bin } $bin, @ARGV;
die "exec $bin: $!\n";
PERL

# Starts $s (made with start => 0) with $sock as fd 3.
sub run_activated {
	my ($s, $sock, %o) = @_;
	my $wrapper = $s->write_file('activate', "#!$^X\n$ACTIVATE");
	chmod 0755, $wrapper;
	my $flags = fcntl($sock, F_GETFD, 0) // die "F_GETFD: $!";
	fcntl($sock, F_SETFD, $flags & ~FD_CLOEXEC) or die "F_SETFD: $!";
	local $ENV{FORKLOOP_TEST_FD} = fileno $sock;
	local $ENV{FORKLOOP_TEST_BIN} = Forkloop::forkloop_bin();
	local $ENV{FORKLOOP_TEST_LISTEN_PID} = $o{listen_pid}
	    if defined $o{listen_pid};
	local $ENV{FORKLOOP_BIN} = $wrapper;
	$s->run;
	fcntl($sock, F_SETFD, $flags | FD_CLOEXEC);
}

sub listening_socket {
	my $sock = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
	    LocalPort => 0, Proto => 'tcp', Listen => 128, ReuseAddr => 1)
	    or die "listening socket: $!";
	return $sock;
}

# Lines of the error log written by $pid.
sub log_of {
	my ($s, $pid) = @_;
	return grep { /\b$pid: / } split /\n/, $s->error_log;
}

subtest 'socket activation: LISTEN_FDS, one socket for all workers' => sub {
	my $sock = listening_socket();
	my $port = $sock->sockport;
	my $s = Forkloop->new(start => 0, files => \%site, config => {
	    workers => 2, worker_connections => 5,
	    http => { listen => "127.0.0.1:$port",
	    routes => ['/status status'] } });
	run_activated($s, $sock);
	close $sock;	# forkloop's copy is the one left

	my @w = $s->wait_workers(2);
	is(scalar @w, 2, 'two workers');
	my $log = $s->error_log;
	like($log, qr/using 127\.0\.0\.1:$port from systemd \(fd 3\)/,
	    'the error log says the socket came from systemd');
	like($log, qr/listening on 127\.0\.0\.1:$port with 1 sockets?\b/,
	    'one socket, not one per worker');
	my $serves = 0;
	wait_for(sub {
		$serves = grep { my $p = $_; grep { /serves 127\.0\.0\.1:$port \(fd 3\)/ }
		    log_of($s, $p) } @w;
		$serves == 2;
	}, 5);
	is($serves, 2, 'each worker logs "serves 127.0.0.1:PORT (fd 3)"')
	    or diag($s->error_log);

	my $ok = 0;
	for (1 .. 10) {
		$ok++ if ($s->http_get('/', port => $port)->{status} // 0)
		    == 200;
	}
	is($ok, 10, 'requests on the inherited socket are answered');

	# worker_connections 5: eight connections held open cannot all
	# be in one worker, so both accept on the one socket.
	my @held;
	my $answered = 0;
	for (1 .. 8) {
		my $c = eval { Forkloop::Conn->new(port => $port, timeout => 5) }
		    or last;
		$c->send(Forkloop::build_request(path => '/', keepalive => 1));
		my $r = eval { $c->response(timeout => 5) };
		$answered++ if $r && $r->{status} == 200;
		push @held, $c;
	}
	is($answered, 8, 'eight connections held open are all answered '
	    . '(worker_connections 5 each)');
	my $st = Forkloop::Ops::status_json($s, port => $port);
	my @active = $st ? sort { $a <=> $b }
	    map { $_->{active} } @{ $st->{workers} } : ();
	ok(@active == 2 && $active[0] >= 3,
	    'the status route shows both workers holding connections')
	    or diag("active per worker: @active");
	$_->close for @held;

	# A reload keeps the socket; the new workers serve it too.
	my $mark = $s->log_mark;
	$s->signal('HUP');
	my @new = $s->wait_workers(2, exclude => \@w, timeout => 15);
	is(scalar @new, 2, 'HUP: two new workers');
	my $since = '';
	my $both = wait_for(sub {
		$since = $s->log_since($mark);
		2 == grep { $since =~ /\b$_: .*generation 2 serves 127\.0\.0\.1:$port \(fd 3\)/ }
		    @new;
	}, 5);
	ok($both, 'both new workers serve fd 3') or diag($since);
	like($since, qr/listening on 127\.0\.0\.1:$port with 1 sockets?\b/,
	    'still one socket after the reload');
	unlike($since, qr/new listen address/, 'no socket of its own');
	$ok = 0;
	for (1 .. 10) {
		$ok++ if ($s->http_get('/', port => $port)->{status} // 0)
		    == 200;
	}
	is($ok, 10, 'requests are answered after the reload');

	is($s->stop, 0, 'QUIT: exit status 0');
	is_deeply([$s->orphans], [], 'no worker outlives the master');
	my $gone = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $port, Proto => 'tcp', Timeout => 2);
	ok(!$gone, 'the port is closed once forkloop has exited');
	$s->log_clean_ok([]);
};

subtest 'socket activation: LISTEN_PID of another process' => sub {
	my $sock = listening_socket();
	my $s = Forkloop->new(start => 0, files => \%site,
	    config => { workers => 1 });
	run_activated($s, $sock, listen_pid => getppid());
	is($s->http_get('/')->{status}, 200,
	    'forkloop serves its own socket');
	unlike($s->error_log, qr/from systemd|socket activation/,
	    'and takes nothing from fd 3');
	is($s->stop, 0, 'QUIT: exit status 0');
	$s->log_clean_ok([]);
	close $sock;
};

subtest 'socket activation: a socket no listen line names' => sub {
	my $sock = listening_socket();
	my $port = $sock->sockport;
	my $s = Forkloop->new(start => 0, files => \%site,
	    config => { workers => 1 });
	run_activated($s, $sock);
	close $sock;
	is($s->http_get('/')->{status}, 200,
	    'forkloop serves the address of its config');
	like($s->error_log, qr/fd 3 matches no listen line/,
	    'and says fd 3 is not one of its addresses');
	my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $port, Proto => 'tcp', Timeout => 2);
	ok(!$c, "the stray socket is closed (port $port refuses)");
	is($s->stop, 0, 'QUIT: exit status 0');
	$s->log_clean_ok([]);
};

done_testing();
