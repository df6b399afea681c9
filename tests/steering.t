#!/usr/bin/perl
# steering.t: reuseport_steering (master/steer.c).  With "cpu" (the
# default) a new connection goes to the worker in the slot of the CPU
# that took its first packet (on loopback, the client's CPU), unless that
# worker holds clearly more connections than the one the kernel's hash
# names; with "off" the kernel's hash alone decides.  Which worker holds
# a connection is read from the kernel (ss -tnp), not from the server.
# Needs two CPUs, taskset and the right to load eBPF (root); skips
# otherwise, saying why.

use strict;
use warnings;

use Test::More;
use IO::Socket::INET;
use Forkloop qw(build_request);

Forkloop::check_binary();
Forkloop::watchdog(120);

plan skip_all => 'needs two online CPUs'
    unless (`getconf _NPROCESSORS_ONLN` // 0) >= 2;
plan skip_all => 'needs taskset and ss'
    unless system('taskset -p $$ >/dev/null 2>&1') == 0
    && system('ss -V >/dev/null 2>&1') == 0;

my $config = { workers => 2, worker_cpu_affinity => 'auto' };
my $s = Forkloop->new(config => $config);
my $port = $s->port('HTTP');

if ($s->error_log =~ /reuseport_steering: \S+ keeps the kernel's hash: (.*)/) {
	my $why = $1;
	$s->stop;
	plan skip_all => "the kernel refused the program here: $why";
}
like($s->error_log, qr/reuseport_steering cpu on 127\.0\.0\.1:\Q$port\E/,
    'the master says the address is steered');

# The pid of each worker slot of $master (default: ours), from its
# start-up lines of the latest generation.
sub slot_pids {
	my ($master) = @_;
	$master //= $s->pid;
	my (%pid, %gen);
	my $log = $s->error_log;
	while ($log =~ /\b$master: process_spawn: started worker (\d+) \(slot (\d+), generation (\d+)\)/g) {
		next if defined $gen{$2} && $gen{$2} > $3;
		($pid{$2}, $gen{$2}) = ($1, $3);
	}
	return ($pid{0}, $pid{1});
}

# Opens $n connections from CPU $cpu, one after the other, each with a
# request answered (so its worker has accepted it); returns them, open.
sub connect_from {
	my ($cpu, $n) = @_;
	system("taskset -pc $cpu $$ >/dev/null") == 0
	    or die "taskset -pc $cpu: $?\n";
	my @c;
	for (1 .. $n) {
		my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
		    Timeout => 5) or die "connect: $!\n";
		print $c build_request(path => '/hello/steer', keepalive => 1);
		my $got = '';
		while ($got !~ /\r\n\r\n.*steer/s) {
			my $r = sysread($c, $got, 4096, length $got);
			die "no answer\n" unless $r;
		}
		push @c, $c;
	}
	system("taskset -pc 0-1 $$ >/dev/null");
	return @c;
}

# How many of the given client sockets each server process holds.
sub holders {
	my @c = @_;
	my %mine = map { $_->sockport => 1 } @c;
	my %n;
	for (`ss -tnpH state established '( sport = :$port )'`) {
		my ($peer) = /\s127\.0\.0\.1:\d+\s+127\.0\.0\.1:(\d+)/ or next;
		next unless $mine{$peer};
		my ($pid) = /pid=(\d+)/ or next;
		$n{$pid}++;
	}
	return \%n;
}

# Eight connections from $cpu, all held by worker $want: each within the
# slack (eight more than the other worker), so all go to the local one.
sub eight_local_ok {
	my ($cpu, $want, $what) = @_;
	my @c = connect_from($cpu, 8);
	my $n = holders(@c);
	is($n->{$want} // 0, 8, "8 connections from CPU $cpu: all on $what")
	    or diag(explain($n));
	close $_ for @c;
}

my ($w0, $w1) = slot_pids();
ok($w0 && $w1, "worker pids of slots 0 and 1: $w0, $w1");

# Each CPU's connections go to its own worker.  Under the kernel's hash
# alone, all eight on one worker would happen once in 128.
eight_local_ok(0, $w0, 'the worker of slot 0');
eight_local_ok(1, $w1, 'the worker of slot 1');

# Sixty from one CPU: the local worker takes more, but not all; the
# other candidate takes over once the local one holds an eighth and
# eight more than it.
{
	my @c = connect_from(0, 60);
	my $n = holders(@c);
	my ($a, $b) = ($n->{$w0} // 0, $n->{$w1} // 0);
	is($a + $b, 60, '60 connections from CPU 0 are held by the two workers');
	cmp_ok($b, '>=', 15, "the other worker took its share ($a / $b)");
	cmp_ok($a, '>=', $b, 'the local worker took at least as many');
	close $_ for @c;
}

# Writes $conf, sends HUP, waits for two new workers; returns the pids
# of slots 0 and 1.
sub reload_with {
	my ($conf) = @_;
	$s->write_config($conf);
	my @old = $s->worker_pids;
	$s->signal('HUP');
	my @new = $s->wait_workers(2, exclude => \@old);
	is(scalar @new, 2, 'two new workers');
	return slot_pids();
}

# "off" and a reload: the program goes, and the hash spreads each CPU's
# connections over both workers (all 16 local by chance: 1 in 65,536).
subtest 'reuseport_steering off on HUP' => sub {
	my ($n0, $n1) = reload_with({ %$config, reuseport_steering => 'off' });
	my @c0 = connect_from(0, 8);
	my @c1 = connect_from(1, 8);
	my $h0 = holders(@c0);
	my $h1 = holders(@c1);
	my $local = ($h0->{$n0} // 0) + ($h1->{$n1} // 0);
	cmp_ok($local, '<', 16, "not every connection on its CPU's worker "
	    . "($local of 16)");
	is(($h0->{$n0} // 0) + ($h0->{$n1} // 0) + ($h1->{$n0} // 0)
	    + ($h1->{$n1} // 0), 16, 'all 16 held by the new workers');
	close $_ for @c0, @c1;
};

# Back to "cpu" with a reload: the program is attached again.
subtest 'reuseport_steering cpu again on HUP' => sub {
	my ($n0, $n1) = reload_with($config);
	eight_local_ok(1, $n1, 'the new worker of slot 1');
};

# A binary upgrade: a socket can be in one array at a time, so the old
# master lets go of its arrays before it starts the new binary, and the
# new master steers with its own.
subtest 'binary upgrade (USR2): the new master steers' => sub {
	my $old = $s->pid;
	$s->signal('USR2');
	my $new = Forkloop::wait_for(sub {
		open(my $fh, '<', $s->pid_file) or return 0;
		my $p = <$fh> // '';
		return $p =~ /^(\d+)/ && $1 != $old ? $1 : 0;
	}, 10);
	ok($new, "a new master ($new)") or return;
	ok(Forkloop::wait_for(sub {
		$s->error_log =~ /\b$new: steer_apply: reuseport_steering cpu on /
	}, 10), 'the new master steers the inherited sockets')
	    or diag($s->error_log);
	ok(Forkloop::wait_for(sub {
		my $log = $s->error_log;
		my @started = $log =~ /\b$new: process_spawn: started worker/g;
		return @started == 2;
	}, 10), 'the new master started two workers');
	$s->signal('QUIT');
	is($s->wait_exit(10), 0, 'QUIT to the old master: exit status 0');
	my ($n0, $n1) = slot_pids($new);
	eight_local_ok(0, $n0, "the new master's worker of slot 0");
	kill 'QUIT', $new;
	ok(Forkloop::wait_for(sub { !Forkloop::proc_alive($new) }, 15),
	    'the new master stops on QUIT') or kill 'KILL', $new;
};

$s->log_clean_ok;

$s->config_errors_ok([
	['reuseport_steering with a wrong value',
	    "reuseport_steering hash;\n", 1],
	['reuseport_steering in an http block',
	    "http {\n    listen 127.0.0.1:1;\n    reuseport_steering cpu;\n}\n", 3],
	['reuseport_steering without a value',
	    "workers 1;\nreuseport_steering;\n", 2],
]);

# nginx's words: "listen ... reuseport" is what forkloop always does;
# accept_mutex gets a hint.
{
	my $file = $s->write_file('nginx-words.conf',
	    "http {\n    listen 127.0.0.1:1 reuseport;\n}\n");
	my $r = Forkloop::run_forkloop(args => ['-t', '-c', $file]);
	is($r->{exit}, 0, 'listen ... reuseport is accepted')
	    or diag($r->{stderr});
	$file = $s->write_file('nginx-words.conf', "accept_mutex off;\n");
	$r = Forkloop::run_forkloop(args => ['-t', '-c', $file]);
	like($r->{stderr}, qr/:1: .*accept_mutex.*reuseport_steering/,
	    'accept_mutex: an error that names reuseport_steering');
}

done_testing();
