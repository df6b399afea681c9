#!/usr/bin/perl
# proxy_stats.t: the reverse proxy's figures in the stats (issue 14,
# proxy-spec.md "Stats": JSON /status "upstreams", Prometheus
# forkloop_upstream_*): requests, failures by kind, retries, pool hits.
#
# The spec names the families, not every key, so the JSON is read where
# it has them: an "upstreams" object (summed over its entries) if there
# is one, else the "totals" keys that start with "upstream_"; a key
# counts as requests, retries, pool hits or failures by its name.  The
# figures must move by what the test did: N proxied requests are N
# upstream requests, a stale pooled connection retried is one retry,
# sequential requests after the first are pool hits, a refused server is
# a failure.

use strict;
use warnings;

use Test::More;
use JSON::PP ();
use Forkloop qw(wait_for free_port build_request);
use Forkloop::Ops qw(status_get);
use Forkloop::Upstream qw(upstream_python);

Forkloop::check_binary();
plan skip_all => 'python3-aiohttp is needed (Debian package python3-aiohttp)'
    unless upstream_python();
Forkloop::watchdog(60);

my $A = Forkloop::Upstream->start(name => 'a');
my $a = $A->addr;
my $ok = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
my $R = Forkloop::Upstream::Raw->new(script => [{ send => $ok },
    { close => 1 }]);
my $dead = free_port();
my $dead2 = free_port();

my $s = Forkloop->new(config => <<"CONF");
workers 1;
worker_connections 1024;
shutdown_timeout 5s;
upstream app {
    server $a;
    keepalive 8;
}
upstream pair {
    server $a;
    server 127.0.0.1:$dead2 max_fails=1 fail_timeout=2s;
    server 127.0.0.1:$dead2 backup weight=3;
}
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    root %%TESTDIR%%/www;
    proxy_pass http://app;
    location /stale/ {
        proxy_pass http://${\ $R->addr};
    }
    location /down/ {
        proxy_pass http://127.0.0.1:$dead;
    }
    location /pair/ {
        proxy_pass http://pair/;
    }
}
http {
    listen 127.0.0.1:%%PORT_ST%%;
    root %%TESTDIR%%/www;
    route /status status;
}
CONF

sub kind_of {
	my ($key) = @_;
	return 'retries' if $key =~ /retr/i;
	return 'pool_hits' if $key =~ /pool|hit|reuse/i;
	return 'failures' if $key =~ /fail|error/i;
	return 'requests' if $key =~ /request/i;
	return undef;
}

# { requests, retries, pool_hits, failures } from the JSON.
sub counters {
	my $r = status_get($s, undef, port => $s->port('st'));
	my $j = ($r->{status} // 0) == 200
	    ? eval { JSON::PP->new->decode($r->{body}) } : undef;
	return undef unless $j;
	my %c = map { $_ => 0 } qw(requests retries pool_hits failures);
	my $found = 0;
	my $walk;
	$walk = sub {
		my ($key, $v) = @_;
		if (ref $v eq 'HASH') {
			$walk->($_, $v->{$_}) for keys %$v;
		} elsif (ref $v eq 'ARRAY') {
			$walk->($key, $_) for @$v;
		} elsif (defined $v && $v =~ /^\d+\z/) {
			my $k = kind_of($key) or return;
			$c{$k} += $v;
			$found++;
		}
	};
	if (ref $j->{upstreams}) {
		# Per upstream (and perhaps per server within it): the
		# upstream's own figures, or else its servers' summed.
		$walk->('', $j->{upstreams});
	} else {
		for my $k (grep { /^upstream_/ } keys %{ $j->{totals} || {} }) {
			$walk->($k, $j->{totals}{$k});
		}
	}
	return $found ? \%c : undef;
}

sub prometheus {
	my $r = status_get($s, 'format=prometheus', port => $s->port('st'));
	my %m;
	for my $line (split /\n/, $r->{body} // '') {
		next unless $line =~ /^(forkloop_upstream_\w+)(?:\{[^}]*\})?\s+(\d+(?:\.\d+)?)/;
		my $k = kind_of($1) or next;
		$m{$k} += $2;
	}
	return \%m;
}

my $c0 = counters();
ok($c0, 'the status JSON has upstream figures ("upstreams", or '
    . 'totals.upstream_*)') or BAIL_OUT('no upstream figures to test');
my $p0 = prometheus();
ok(exists $p0->{requests}, 'Prometheus: a forkloop_upstream_ requests '
    . 'counter');

for (1 .. 5) {
	my $r = $s->http_get('/id');
	is($r->{body}, "a\n", "proxied request $_") if $_ == 1;
}
my $c1 = counters();
is($c1->{requests} - $c0->{requests}, 5,
    'five proxied requests: upstream requests +5');
cmp_ok($c1->{pool_hits} - $c0->{pool_hits}, '>=', 4,
    'five sequential requests: at least four pool hits');
is($c1->{retries} - $c0->{retries}, 0, 'no retry for them');
is($c1->{failures} - $c0->{failures}, 0, 'no failure for them');
my $p1 = prometheus();
is(($p1->{requests} // 0) - ($p0->{requests} // 0), 5,
    'Prometheus: upstream requests +5');

# A stale pooled connection: one retry.
$s->http_get('/stale/x');
my $c2 = counters();
my $r = $s->http_get('/stale/x');
is($r->{status}, 200, 'the stale pooled connection: answered by the retry');
my $c3 = counters();
is($c3->{retries} - $c2->{retries}, 1, 'one retry counted');
is(($R->requests->[-1] // {})->{conn}, 2, 'the retry went on a fresh '
    . 'connection');

# A refused server: a failure.
$r = $s->http_get('/down/x', quiet => 1);
is($r->{status}, 502, 'refused: 502');
my $c4 = counters();
cmp_ok($c4->{failures} - $c3->{failures}, '>=', 1,
    'refused: a failure counted');
my $p4 = prometheus();
cmp_ok(($p4->{failures} // 0) - ($p1->{failures} // 0), '>=', 1,
    'Prometheus: the failure counted');

# Each server's state: up, or down in how many workers.
sub servers {
	my $r = status_get($s, undef, port => $s->port('st'));
	my $j = eval { JSON::PP->new->decode($r->{body}) } || {};
	my %by;
	for my $e (@{ $j->{upstream_servers} || [] }) {
		$by{"$e->{upstream} $e->{server}"
		    . ($e->{backup} ? ' backup' : '')} = $e;
	}
	return \%by;
}
my $sv = servers();
is(scalar(keys %$sv), 6, 'upstream_servers: one entry per server of '
    . 'every upstream (app 1, pair 3, and the two proxy_pass addresses)')
    or diag explain $sv;
my $pd = $sv->{"pair 127.0.0.1:$dead2"} || {};
is($pd->{state}, 'up', 'a server that has not failed: up');
is($pd->{down_workers}, 0, '... in no worker down');
is($pd->{workers}, 1, '... of one worker');
is($pd->{weight}, 1, '... weight 1');
is($sv->{"pair 127.0.0.1:$dead2 backup"}{weight}, 3, 'the backup: weight 3');
ok($sv->{"pair 127.0.0.1:$dead2 backup"}{backup}, '... marked backup');
# Round robin takes each primary once in two requests; the refused one
# is retried on the other (GET), so both answer 200.
for (1 .. 2) {
	$r = $s->http_get('/pair/id', quiet => 1);
	is($r->{status}, 200, "pair request $_: 200 (a refused try goes to "
	    . 'the next server)');
}
$sv = servers();
$pd = $sv->{"pair 127.0.0.1:$dead2"} || {};
is($pd->{state}, 'down', 'the refused server, max_fails=1: down');
is($pd->{down_workers}, 1, '... in the one worker');
is($sv->{"pair $a"}{state}, 'up', 'the other: up');
is($sv->{"127.0.0.1:$dead 127.0.0.1:$dead"}{state}, 'up',
    'a lone server that refused is never marked down (as nginx)');
my $prom = status_get($s, 'format=prometheus', port => $s->port('st'));
like($prom->{body}, qr/^forkloop_upstream_server_down_workers\{upstream="pair",server="127\.0\.0\.1:$dead2"\} 1(?:\n|\z)/m,
    'Prometheus: forkloop_upstream_server_down_workers 1 for it');
like($prom->{body}, qr/^forkloop_upstream_server_down_workers\{upstream="pair",server="\Q$a\E"\} 0(?:\n|\z)/m,
    'Prometheus: 0 for the other');
my $html = status_get($s, 'format=html', port => $s->port('st'));
like($html->{body}, qr{<table id="upstreams">.*<td>pair</td><td>127\.0\.0\.1:$dead2</td><td>1</td><td>no</td><td>down</td><td>1 of 1</td>}s,
    'HTML: the upstream servers table shows it down in 1 of 1 workers');
# fail_timeout=2s: then it is up again.
ok(wait_for(sub { (servers()->{"pair 127.0.0.1:$dead2"} || {})->{state} eq 'up' }, 6),
    'after fail_timeout the server is up again');

ok($s->alive, 'forkloop still running');
$s->log_clean_ok([qr/upstream/]);
is($s->stop, 0, 'exit status 0 on QUIT');

done_testing;
