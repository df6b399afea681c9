#!/usr/bin/perl
# bench/limits.pl: what limit_req costs.  forkloop serves the hello route
# and a small file with and without "limit_req zone=... burst=... nodelay"
# (a rate no client reaches, so nothing is refused: the cost is the
# shared-memory update per request), with 1 worker and with 2, driven by
# wrk from one address (the worst case: every request updates the same
# state, under one bucket lock).  Runs are interleaved round by round and
# the medians printed.  See bench/README.md.
#
#   perl bench/limits.pl   (BENCH_ROUNDS=5 BENCH_DURATION=5 by default)
#
# BENCH_LIMITS_KIND=access measures 100 allow/deny rules instead: 98
# "deny" of networks the client is not in, then "allow 127.0.0.1" and
# "deny all", so every request walks all 100 rules (the worst case).

use strict;
use warnings;

use File::Temp ();
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(sleep);

my $bin = $ENV{FORKLOOP_BIN} // './forkloop';
my $wrk = $ENV{WRK_BIN} // 'wrk';
my $rounds = $ENV{BENCH_ROUNDS} // 5;
my $duration = $ENV{BENCH_DURATION} // 5;
my $conns = $ENV{BENCH_CONNECTIONS} // 50;
my $threads = $ENV{BENCH_WRK_THREADS} // 2;
my $kind = $ENV{BENCH_LIMITS_KIND} // 'limit_req';
$kind =~ /^(limit_req|access)$/
    or die "bench/limits.pl: BENCH_LIMITS_KIND is limit_req or access\n";
-x $bin or die "bench/limits.pl: no $bin (build first)\n";

my $dir = File::Temp->newdir('forkloop-limits-XXXXXX', TMPDIR => 1);
open(my $fh, '>', "$dir/small.html") or die "$dir/small.html: $!";
print {$fh} 'x' x 1024;
close $fh;

sub free_port {
	my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
	    Listen => 1) or die "port: $!";
	return $s->sockport;
}

sub start {
	my ($workers, $limit) = @_;
	my $port = free_port();
	my ($zone, $rule) = ('', '');
	if ($limit && $kind eq 'access') {
		$rule = join '', map { sprintf "    deny 10.%d.%d.0/24;\n",
		    $_ >> 8, $_ & 255 } 1 .. 98;
		$rule .= "    allow 127.0.0.1;\n    deny all;\n";
	} elsif ($limit) {
		$zone = "limit_req_zone \$binary_remote_addr zone=b:10m "
		    . "rate=1000000r/s;\n";
		$rule = "    limit_req zone=b burst=1000000 nodelay;\n";
	}
	open(my $c, '>', "$dir/f.conf") or die $!;
	print {$c} <<"CONF";
workers $workers;
daemon off;
pid $dir/f.pid;
error_log $dir/error.log warn;
worker_connections 4096;
$zone
http {
    listen 127.0.0.1:$port;
    root $dir;
    route /hello/ hello;
$rule}
CONF
	close $c;
	unlink "$dir/f.pid";
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		open(STDOUT, '>', '/dev/null');
		exec { $bin } $bin, '-c', "$dir/f.conf" or POSIX::_exit(127);
	}
	for (1 .. 100) {
		my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
		    PeerPort => $port);
		return ($pid, $port) if $s && -s "$dir/f.pid";
		sleep 0.05;
	}
	die "forkloop did not start\n";
}

# CPU time (s) of the master's children, the workers, from /proc.
my $hz = POSIX::sysconf(POSIX::_SC_CLK_TCK()) || 100;
sub workers_cpu {
	my ($master) = @_;
	my $t = 0;
	opendir(my $dh, '/proc') or return 0;
	for my $p (grep { /^\d+$/ } readdir $dh) {
		open(my $f, '<', "/proc/$p/stat") or next;
		my $st = <$f> // '';
		close $f;
		$st =~ s/^.*\)\s+//s;
		my @f = split ' ', $st;
		$t += ($f[11] + $f[12]) / $hz if @f > 12 && $f[1] == $master;
	}
	return $t;
}

sub run_wrk {
	my ($port, $path) = @_;
	my $out = `$wrk -t$threads -c$conns -d${duration}s http://127.0.0.1:$port$path 2>&1`;
	my ($rps) = $out =~ /Requests\/sec:\s+([\d.]+)/;
	my ($nreq) = $out =~ /(\d+) requests in/;
	my ($non2xx) = $out =~ /Non-2xx or 3xx responses:\s+(\d+)/;
	die "wrk: $out" unless defined $rps;
	die "refused $non2xx requests: the limit is not meant to bite\n"
	    if $non2xx;
	return ($rps, $nreq);
}

my @cases;
for my $w (1, 2) {
	for my $limit (0, 1) {
		push @cases, [$w, $limit];
	}
}
my (%got, %cpu);
for my $round (1 .. $rounds) {
	for my $case (@cases) {
		my ($w, $limit) = @$case;
		my ($pid, $port) = start($w, $limit);
		for my $path ('/hello/x', '/small.html') {
			run_wrk($port, $path) if $round == 1;	# warm-up
			my $cpu0 = workers_cpu($pid);
			my ($rps, $nreq) = run_wrk($port, $path);
			my $us = (workers_cpu($pid) - $cpu0) / $nreq * 1e6;
			push @{ $got{"$w $limit $path"} }, $rps;
			push @{ $cpu{"$w $limit $path"} }, $us;
			printf "round %d: %d worker%s %-9s %-12s %9.0f req/s "
			    . "%6.2f us CPU/request\n", $round, $w,
			    $w > 1 ? 's' : ' ', $limit ? $kind : 'none', $path,
			    $rps, $us;
		}
		kill 'QUIT', $pid;
		waitpid($pid, 0);
	}
}

sub median {
	my @v = sort { $a <=> $b } @_;
	return @v % 2 ? $v[$#v / 2] : ($v[@v / 2 - 1] + $v[@v / 2]) / 2;
}

printf "\nmedians of %d rounds, %ds each, wrk -t%d -c%d, from one address\n",
    $rounds, $duration, $threads, $conns;
printf "%-8s %-12s %10s %10s %8s %9s %9s %8s\n", 'workers', 'path', 'none',
    $kind, 'change', 'CPU none', "CPU $kind", 'change';
for my $w (1, 2) {
	for my $path ('/hello/x', '/small.html') {
		my $a = median(@{ $got{"$w 0 $path"} });
		my $b = median(@{ $got{"$w 1 $path"} });
		my $ca = median(@{ $cpu{"$w 0 $path"} });
		my $cb = median(@{ $cpu{"$w 1 $path"} });
		printf "%-8d %-12s %10.0f %10.0f %+7.1f%% %9.2f %9.2f "
		    . "%+7.1f%%\n", $w, $path, $a, $b, ($b - $a) / $a * 100,
		    $ca, $cb, ($cb - $ca) / $ca * 100;
	}
}
for my $limit (0, 1) {
	for my $path ('/hello/x', '/small.html') {
		my $one = median(@{ $got{"1 $limit $path"} });
		my $two = median(@{ $got{"2 $limit $path"} });
		printf "2 workers / 1, %-9s %-12s x%.2f\n",
		    $limit ? $kind : 'none', $path, $two / $one;
	}
}
