#!/usr/bin/perl
# bench/vhosts-ab.pl: the rounds of bench/vhosts-ab on one path, against a
# forkloop already running (its master's PID, its two ports).
use strict;
use warnings;

my ($rounds, $dur, $path, $master, $p1, $p100) = @ARGV;
die "usage: $0 ROUNDS SECONDS PATH MASTER_PID PORT_1 PORT_100\n" unless $p100;
my %port = (1 => $p1, 100 => $p100);
my @workers = split ' ', `pgrep -P $master`;
die "bench: no workers under $master\n" unless @workers;

# The workers' CPU time in ns (schedstat's first field, every thread).
sub server_ns {
	my $t = 0;
	for my $f (map { glob "/proc/$_/task/*/schedstat" } @workers) {
		open my $h, '<', $f or die "bench: $f: $!\n";
		$t += (split ' ', scalar <$h>)[0];
	}
	return $t;
}

# All CPU time (user, nice, system, irq, softirq, steal), in seconds.
sub cpu_all {
	open my $f, '<', '/proc/stat' or die "bench: /proc/stat: $!\n";
	my @s = split ' ', scalar <$f>;
	return ($s[1] + $s[2] + $s[3] + $s[6] + $s[7] + $s[8]) / 100;
}

sub median {
	my @a = sort { $a <=> $b } @_;
	return @a % 2 ? $a[$#a / 2] : ($a[@a / 2 - 1] + $a[@a / 2]) / 2;
}

# Geometric mean of ratios, with +-2 standard errors of the mean log.
sub geomean {
	my @l = map { log } @_;
	my ($m, $v) = (0, 0);
	$m += $_ / @l for @l;
	$v += ($_ - $m) ** 2 / (@l - 1) for @l;
	my $se = sqrt($v / @l);
	return (exp($m), exp($m - 2 * $se), exp($m + 2 * $se));
}

# One wrk run: req/s, server us/req, wrk us/req, other CPU.
sub run {
	my ($blocks) = @_;
	my ($s0, $c0) = (server_ns(), cpu_all());
	my $out = `perf stat -x, -e task-clock wrk -t2 -c50 -d${dur}s -H 'Host: site50.example' http://127.0.0.1:$port{$blocks}$path 2>&1`;
	my ($s1, $c1) = (server_ns(), cpu_all());
	my ($reqs) = $out =~ /(\d+) requests in/;
	my ($rps) = $out =~ /Requests\/sec:\s+([\d.]+)/;
	my ($wrk_ms) = $out =~ /^([\d.]+),[^,\n]*,task-clock/m;
	die "bench: no wrk result:\n$out" unless $reqs && $rps && $wrk_ms;
	die "bench: answers other than 2xx:\n$out" if $out =~ /Non-2xx/;
	my $srv = ($s1 - $s0) / 1e9;
	return [$rps, $srv * 1e6 / $reqs, $wrk_ms * 1000 / $reqs,
	    (($c1 - $c0) - $srv - $wrk_ms / 1000) / $dur];
}

my @pairs;
for my $i (1 .. $rounds) {
	my %one;
	for my $b ($i % 2 ? (1, 100) : (100, 1)) {
		$one{$b} = run($b);
		printf "round %2d %3d blocks %8.0f req/s  server %6.2f us/req"
		    . "  wrk %6.2f us/req  other CPU %5.2f\n", $i, $b, @{$one{$b}};
	}
	push @pairs, [$one{100}[0] / $one{1}[0], $one{100}[1] / $one{1}[1],
	    $one{1}, $one{100}];
}
printf "%s, %d rounds of %ds, 100 blocks / 1 block:\n", $path, $rounds, $dur;
printf "  rate: median %.3f, geometric mean %.3f (95%% %.3f-%.3f)\n",
    median(map { $_->[0] } @pairs), geomean(map { $_->[0] } @pairs);
printf "  server CPU per request: median %.3f, geometric mean %.3f (95%% %.3f-%.3f)\n",
    median(map { $_->[1] } @pairs), geomean(map { $_->[1] } @pairs);
my @what = ('req/s', 'server us/req', 'wrk us/req', 'other CPU');
for my $k (0 .. $#what) {
	printf "  median %-14s 1 block %9.2f  100 blocks %9.2f\n", $what[$k],
	    median(map { $_->[2][$k] } @pairs), median(map { $_->[3][$k] } @pairs);
}
printf "  rate ratios by round: %s\n", join ' ', map { sprintf '%.3f', $_->[0] } @pairs;
printf "  CPU ratios by round: %s\n", join ' ', map { sprintf '%.3f', $_->[1] } @pairs;
