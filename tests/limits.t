#!/usr/bin/perl
# limits.t: worker_rlimit_nofile and worker_cpu_affinity reach the workers
# (read back from /proc), and each worker logs the sockets it serves.

use strict;
use warnings;

use Test::More;
use Forkloop qw(wait_for);

Forkloop::check_binary();
Forkloop::watchdog(60);

sub proc_file {
	my ($pid, $name) = @_;
	open(my $fh, '<', "/proc/$pid/$name") or return '';
	local $/;
	return scalar <$fh>;
}

# Pick a soft limit below the hard one, so raising it needs no privilege.
my ($hard) = (proc_file($$, 'limits') =~ /^Max open files\s+\d+\s+(\d+)/m);
my $want = defined $hard && $hard > 600 ? 512 : 200;

my $s = Forkloop->new(config => { workers => 2,
    worker_rlimit_nofile => $want, worker_cpu_affinity => 'auto' },
    files => { 'www/index.html' => "limits\n" });
my @w = $s->wait_workers(2);
is(scalar @w, 2, 'two workers');
# A worker sets its limits and CPU after its own set-up, a moment after
# it exists (longer under ASan): read them once it says it serves.
wait_for(sub { my $log = $s->error_log;
	!grep { $log !~ /\b$_: worker_log_sockets: / } @w }, 10);

for my $pid (@w) {
	my ($soft) = (proc_file($pid, 'limits') =~
	    /^Max open files\s+(\d+)/m);
	is($soft, $want, "worker $pid: open file limit is $want");
}

my $online = `getconf _NPROCESSORS_ONLN 2>/dev/null` || 1;
chomp $online;
my %cpus;
for my $pid (@w) {
	my ($list) = (proc_file($pid, 'status') =~
	    /^Cpus_allowed_list:\s+(\S+)/m);
	$cpus{$pid} = $list;
	like($list // '', qr/^\d+$/, "worker $pid: pinned to one CPU ($list)");
}
SKIP: {
	skip 'one CPU online: both workers share it', 1 if $online < 2;
	isnt($cpus{$w[0]}, $cpus{$w[1]}, 'the two workers are on different '
	    . 'CPUs');
}
ok(proc_file($s->pid, 'status') =~ /^Cpus_allowed_list:\s+(\S+)/m &&
    $1 !~ /^\d+$/ || $online < 2, 'the master itself is not pinned');

my $log = $s->error_log;
for my $slot (0, 1) {
	like($log, qr/worker slot $slot, generation 1 serves 127\.0\.0\.1:\d+ \(fd \d+\)/,
	    "worker slot $slot logs the socket it serves");
}
is($s->http_get('/')->{body}, "limits\n", 'and serves');

is($s->stop, 0, 'QUIT: exit 0');
$s->log_clean_ok([], 'no errors in the error log');

# Warnings are copied to stderr only while forkloop starts: a running
# worker of the first generation writes them to the error log alone.
my $e = Forkloop->new(config => { workers => 1, worker_connections => 8,
    echo => {} }, files => { 'www/index.html' => "limits\n" });
my @held;
for (1 .. 16) {
	my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $e->port('echo'), Proto => 'tcp', Timeout => 2);
	push @held, $c if $c;
}
ok(wait_for(sub { $e->error_log =~ /worker_connections \(8\) reached/ }, 5),
    'the worker warns that worker_connections is reached');
close $_ for @held;
is($e->stop, 0, 'QUIT: exit 0');
my $stderr = Forkloop::_slurp($e->stderr_file) // '';
unlike($stderr, qr/worker_connections/,
    '... in the error log, not on stderr');

done_testing();
