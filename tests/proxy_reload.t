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
#   - QUIT with slow proxied requests in flight: they finish, exit 0.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time sleep);
use Forkloop qw(wait_for build_request);
use Forkloop::Load qw(start_wrk wrk_clean_ok wrk_summary have_wrk);
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
# QUIT with slow proxied requests in flight.

{
	$_->reset_stats for $A, $B;
	my @slow = start_slow(4, 1500);
	ok(slow_seen(4), 'QUIT: four slow requests in flight');
	$s->signal('QUIT');
	is(finish_slow(@slow), 4, 'QUIT: they finish with 200');
	is($s->wait_exit(15), 0, 'QUIT: exit status 0');
}

$s->log_clean_ok([qr/upstream/]);

done_testing;
