#!/usr/bin/perl
# proxy_reload.t: the reverse proxy (issue 14, proxy-spec.md) while the
# things around it restart, under a bounded wrk load:
#
#   - a rolling restart of two aiohttp backends, one at a time (TERM: the
#     app closes its listener and its idle keep-alive connections, lets
#     requests in flight finish; then it starts again on its port): 0
#     non-2xx answers and 0 socket errors, as nginx gets with its retry
#     rule (a stale pooled connection retried once, a refused GET sent to
#     the other server);
#   - a HUP reload of forkloop under load with slow proxied requests in
#     flight: they finish (200), the load sees no error;
#   - the binary upgrade (USR2, WINCH, QUIT to the old master) with slow
#     proxied requests in flight: the old workers finish them;
#   - QUIT with slow proxied requests in flight: they finish.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time sleep);
use Forkloop qw(wait_for build_request proc_alive);
use Forkloop::Load qw(start_wrk wrk_clean_ok wrk_summary have_wrk
    children_of);
use Forkloop::Upstream qw(upstream_python);

Forkloop::check_binary();
plan skip_all => 'python3-aiohttp is needed (Debian package python3-aiohttp)'
    unless upstream_python();
plan skip_all => 'wrk is not installed' unless have_wrk();
Forkloop::watchdog(150);

my $A = Forkloop::Upstream->start(name => 'a');
my $B = Forkloop::Upstream->start(name => 'b');
my ($a, $b) = ($A->addr, $B->addr);

my $s = Forkloop->new(config => <<"CONF");
workers 2;
worker_connections 1024;
shutdown_timeout 10s;
upstream app {
    server $a max_fails=1 fail_timeout=1s;
    server $b max_fails=1 fail_timeout=1s;
    keepalive 16;
}
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    root %%TESTDIR%%/www;
    proxy_pass http://app;
}
CONF

# Requests through the proxy until instance $name answers one (the
# proxy has taken it back after its restart).
sub served_again {
	my ($name) = @_;
	return wait_for(sub {
		my $r = $s->http_get('/id', quiet => 1, timeout => 5);
		return ($r->{body} // '') eq "$name\n";
	}, 10);
}

# Slow requests through the proxy, sent now, answered later.
sub start_slow {
	my ($n, $ms) = @_;
	my @c;
	for (1 .. $n) {
		my $c = $s->connect(timeout => 15);
		$c->send(build_request(path => "/slow?ms=$ms"));
		push @c, $c;
	}
	return @c;
}

sub finish_slow {
	my (@c) = @_;
	my $ok = 0;
	for my $c (@c) {
		my $r = eval { $c->response(timeout => 15) };
		$ok++ if $r && $r->{status} == 200 && $r->{body} eq "slow\n";
		diag("slow request: " . ($@ || "status $r->{status}"))
		    unless $r && $r->{status} == 200;
		$c->close;
	}
	return $ok;
}

sub slow_seen {
	my ($n) = @_;
	return wait_for(sub {
		my $seen = 0;
		for my $u ($A, $B) {
			my $st = $u->stats or next;
			$seen += $st->{by_path}{'/slow'} // 0;
		}
		return $seen >= $n;
	}, 10);
}

is($s->http_get('/')->{body}, "Hello, world\n", 'proxying before the load');

###########################################################################
# Rolling restart under load.

{
	my $duration = 16;
	my $t0 = time;
	my $w = start_wrk($s, path => '/', connections => 16, threads => 2,
	    duration => $duration, timeout => 5);
	sleep 1.5;
	my @steps;
	for my $u ($A, $B) {
		my $st = $u->stop(10);
		push @steps, $u->name . ' stopped (status ' . ($st // '?') . ')';
		sleep 0.3;	# the load meets the closed port
		$u->start_again;
		push @steps, $u->name . ' started';
		my $back = served_again($u->name);
		ok($back, 'rolling restart: ' . $u->name . ' served again after '
		    . 'its restart');
	}
	my $done_at = time - $t0;
	note(join(', ', @steps) . sprintf(' in %.1f s', $done_at));
	ok($done_at < $duration - 0.5, 'rolling restart: both restarts '
	    . sprintf('done while the load ran (%.1f s of %d)', $done_at,
	    $duration));
	my $r = $w->finish;
	wrk_clean_ok($r, 'rolling restart of both backends');
}

###########################################################################
# HUP under load with slow proxied requests in flight.

{
	$_->reset_stats for $A, $B;
	my @old = $s->worker_pids;
	my $w = start_wrk($s, path => '/', connections => 8, threads => 2,
	    duration => 5, timeout => 5);
	my @slow = start_slow(6, 2500);
	ok(slow_seen(6), 'HUP: six slow requests in flight at the upstreams');
	$s->signal('HUP');
	my @new = $s->wait_workers(2, exclude => \@old, timeout => 15);
	is(scalar @new, 2, 'HUP: new workers started');
	is(finish_slow(@slow), 6, 'HUP: the slow proxied requests in flight '
	    . 'finish with 200');
	my $r = $w->finish;
	wrk_clean_ok($r, 'HUP under load');
	is($s->http_get('/hello/reloaded')->{body}, "Hello, reloaded\n",
	    'HUP: proxying after the reload');
}

###########################################################################
# The binary upgrade (USR2, WINCH, QUIT to the old master) with slow
# proxied requests in flight: the old workers finish them.

my $new_master;
{
	$_->reset_stats for $A, $B;
	my $old = $s->pid;
	my @old_workers = $s->worker_pids;
	my @slow = start_slow(4, 2500);
	ok(slow_seen(4), 'USR2: four slow requests in flight');
	$s->signal('USR2');
	$new_master = wait_for(sub {
		my $p = Forkloop::_slurp($s->pid_file) // '';
		return $p =~ /^(\d+)\s*\z/ && $1 != $old ? $1 : 0;
	}, 10);
	ok($new_master, 'USR2: a new master wrote the pid file');
	my $nw = wait_for(sub {
		my @c = children_of($new_master || 0);
		return @c == 2 ? \@c : 0;
	}, 10);
	ok($nw, 'USR2: the new master has two workers');
	$s->signal('WINCH');
	is(finish_slow(@slow), 4, 'USR2, WINCH: the slow proxied requests '
	    . 'finish with 200 on the old workers');
	$s->signal('QUIT');
	is($s->wait_exit(15), 0, 'USR2: the old master leaves (QUIT), exit 0');
	is($s->http_get('/hello/upgraded')->{body}, "Hello, upgraded\n",
	    'USR2: the new master proxies');
}

###########################################################################
# QUIT with slow proxied requests in flight (to the new master).

SKIP: {
	skip 'no new master', 3 unless $new_master;
	$_->reset_stats for $A, $B;
	my @workers = children_of($new_master);
	my @slow = start_slow(4, 1500);
	ok(slow_seen(4), 'QUIT: four slow requests in flight');
	kill 'QUIT', $new_master;
	is(finish_slow(@slow), 4, 'QUIT: they finish with 200');
	my $gone = wait_for(sub {
		!proc_alive($new_master) && !grep { proc_alive($_) } @workers
	}, 15);
	ok($gone, 'QUIT: the master and its workers leave');
	kill 'KILL', $new_master, @workers unless $gone;
}

$s->log_clean_ok([qr/upstream/]);

done_testing;
