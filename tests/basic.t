#!/usr/bin/perl
# basic.t: forkloop starts, forks the configured number of workers, serves
# one request of each kind (file, route, echo service), and stops cleanly
# on QUIT.  The other files go deeper; this one is the smoke test.

use strict;
use warnings;

use Test::More;
use POSIX ();
use Forkloop qw(wait_for);

Forkloop::check_binary();
Forkloop::watchdog(90);

my $index = "<!doctype html>\n<title>forkloop</title>\n<p>basic.t</p>\n";

for my $n (2, 3) {
	my $s = Forkloop->new(config => { workers => $n, echo => {} },
	    files => { 'www/index.html' => $index });

	is($s->pid_from_file, $s->pid, "workers $n: pid file holds the "
	    . "master's pid");
	my @w = $s->wait_workers($n);
	is(scalar @w, $n, "workers $n: the master has $n worker children")
	    or diag("children now: " . join(' ', $s->worker_pids));

	if ($n == 2) {
		my $r = $s->http_get('/');
		is($r->{status}, 200, 'GET / answers 200');
		is($r->{body}, $index, 'GET / sends index.html');

		$r = $s->http_get('/hello/world');
		is($r->{body}, '<h1>hello, world!</h1>', 'the hello route');

		my $reply = eval {
			my $c = $s->connect(port => $s->port('echo'));
			$c->send("ping\n");
			$c->read_bytes(5, timeout => 5);
		};
		is($reply, "ping\n", 'the echo service echoes')
		    or diag($@);
	}

	my $pid_file = $s->pid_file;
	is($s->stop, 0, "workers $n: QUIT: the master exits with status 0");
	ok(!-e $pid_file, "workers $n: QUIT removes the pid file");
	is_deeply([$s->orphans], [], "workers $n: no worker outlives the "
	    . "master");
	$s->log_clean_ok([], "workers $n: no errors in the error log");
}

# A pid file naming a live process: a running forkloop blocks a second
# start, an unrelated process (a stale file after a reboot) does not.
{
	my $first = Forkloop->new(config => { workers => 1 },
	    files => { 'www/index.html' => $index });
	my $second = Forkloop->new(start => 0, config => sub { my ($t) = @_;
	    "workers 1;\npid " . $first->pid_file . ";\nhttp {\n"
	    . "    listen 127.0.0.1:%%PORT_HTTP%%;\n    root %%TESTDIR%%/www;\n}\n" },
	    files => { 'www/index.html' => $index });
	ok(!eval { $second->run; 1 }, 'a second forkloop with the same pid '
	    . 'file does not start');
	like($second->error_log . (Forkloop::_slurp($second->stderr_file) // ''),
	    qr/already running as pid ${\ $first->pid }/, '... and says why');
	is($first->stop, 0, 'the first stops cleanly');

	# Our own perl process is alive and is not forkloop.  The harness
	# removes its pid file before a start, so this one has another.
	my $stale = Forkloop->new(start => 0, files => {
	    'www/index.html' => $index, 'stale.pid' => "$$\n" },
	    config => { workers => 1, pid => '%%TESTDIR%%/stale.pid' });
	my $out = $stale->path('stale-stderr.log');
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		open(STDOUT, '>', $out);
		open(STDERR, '>&', \*STDOUT);
		exec(Forkloop::forkloop_bin(), '-c', $stale->conf_file);
		POSIX::_exit(127);
	}
	my $took = wait_for(sub {
		(Forkloop::_slurp($stale->path('stale.pid')) // '') =~ /^$pid$/m
	}, 10);
	ok($took, 'a pid file naming a live process that is not forkloop '
	    . 'does not block the start; it is taken over');
	like(Forkloop::_slurp($out) // '', qr/names pid $$, which is not forkloop/,
	    '... with a warning');
	kill 'TERM', $pid;
	my $gone = wait_for(sub { waitpid($pid, POSIX::WNOHANG()) == $pid }, 10);
	unless ($gone) { kill 'KILL', -$pid, $pid; waitpid($pid, 0) }
	ok($gone && $? == 0, '... and it stops cleanly on TERM');
}

done_testing();
