#!/usr/bin/perl
# limits_req.t: limit_req and limit_conn as nginx's, held per host across
# two workers: with rate=1r/m burst=5 nodelay exactly 6 of 20 requests
# pass whichever worker each lands on (both served some); burst=0 and the
# default status (503) and limit_req_status 429; a zone's state kept
# across a HUP with the same size and new with another; IPv6 clients
# (PROXY TCP6 sources) counted apart; limit_conn with slow requests over
# HTTP/1.1 and HTTP/2 streams, given back when they finish and when a
# worker is killed holding them; the counters in JSON and Prometheus;
# limit_req's delay (a timer: the worker serves others meanwhile); and
# the config errors, each at its FILE:LINE.

use strict;
use warnings;

use JSON::PP ();
use Test::More;
use Forkloop;
use Forkloop::Conn qw(exchange_many);

Forkloop::check_binary();
Forkloop::watchdog(120);

my $limits = <<'CONF';
workers 2;
# This client's connections must reach both workers (the zone is
# shared): the kernel's hash spreads them; steering would keep them on
# the worker of the client's CPU.
reuseport_steering off;
worker_connections 256;
shutdown_timeout 5s;
limit_req_zone $binary_remote_addr zone=burst:%%BURST_SIZE%% rate=1r/m;
limit_req_zone $binary_remote_addr zone=plain:64k rate=1r/m;
limit_req_zone $binary_remote_addr zone=v6:64k rate=1r/m;
limit_conn_zone $binary_remote_addr zone=conns:64k;
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    root %%TESTDIR%%/www;
    route /delay/ delay;
    location /burst/ {
        limit_req zone=burst burst=5 nodelay;
        limit_req_status 429;
    }
    location /plain/ {
        limit_req zone=plain;
    }
    location /delay/ {
        limit_conn conns 2;
    }
}
http {
    listen 127.0.0.1:%%PORT_PP%% proxy_protocol;
    root %%TESTDIR%%/www;
    limit_req zone=v6 nodelay;
}
http {
    listen 127.0.0.1:%%PORT_STATUS%%;
    route /status status;
}
CONF

my $s = Forkloop->new(start => 0, files => {
    'www/burst/index.html' => "burst\n",
    'www/plain/index.html' => "plain\n",
    'www/index.html' => "root\n",
}, config => { workers => 2 });
sub write_limits {
	my ($size) = @_;
	(my $text = $limits) =~ s/%%BURST_SIZE%%/$size/;
	$s->write_config($text);
}
write_limits('1m');
$s->run;
my @workers = $s->wait_workers(2);
is(scalar @workers, 2, 'two workers');

sub codes {
	my ($path, $n, %o) = @_;
	my %c;
	for (1 .. $n) {
		my $r = $s->http(($o{prefix} // '') . "GET $path HTTP/1.1\r\n"
		    . "Host: a\r\nConnection: close\r\n\r\n", %o);
		$c{$r->{status} // 'none'}++;
	}
	return \%c;
}

sub status_json {
	my $r = $s->http_get('/status', port => $s->port('status'));
	return eval { JSON::PP->new->decode($r->{body}) } || {};
}

subtest 'rate=1r/m burst=5 nodelay across two workers' => sub {
	my $c = codes('/burst/', 20);
	is($c->{200}, 6, 'exactly 6 of 20 pass');
	is($c->{429}, 14, 'the other 14 get limit_req_status 429');
	my $j = status_json();
	my @served = grep { $_->{limit_req_passed} + $_->{limit_req_rejected}
	    > 0 } @{ $j->{workers} || [] };
	is(scalar @served, 2, 'both workers answered some of them');
	my ($rejecting) = grep { $_->{limit_req_rejected} > 0 }
	    @{ $j->{workers} || [] };
	ok($rejecting, 'a worker refused clients counted by the other too');
	is($j->{totals}{limits}{req_passed}, 6, 'JSON: req_passed 6');
	is($j->{totals}{limits}{req_rejected}, 14, 'JSON: req_rejected 14');
	my ($zone) = grep { $_->{name} eq 'burst' }
	    @{ $j->{totals}{limits}{zones} || [] };
	is($zone->{used}, 1, 'the zone holds one address');
	ok($zone->{capacity} > 10000, "a 1m zone holds $zone->{capacity}");
};

subtest 'burst=0 and the default status' => sub {
	my $c = codes('/plain/', 3);
	is($c->{200}, 1, 'the first passes');
	is($c->{503}, 2, 'the next get 503, nginx\'s default');
	like($s->error_log, qr/\[error\].*limiting requests by zone "plain", client: 127\.0\.0\.1/,
	    'logged at limit_req_log_level (error)');
};

subtest 'HUP keeps a zone of the same size' => sub {
	$s->signal('HUP');
	my @new = $s->wait_workers(2, exclude => \@workers);
	is(scalar @new, 2, 'new workers');
	@workers = @new;
	is(codes('/burst/', 2)->{429}, 2, 'still over its rate after the HUP');
	write_limits('2m');
	$s->signal('HUP');
	@new = $s->wait_workers(2, exclude => \@workers);
	is(scalar @new, 2, 'new workers for a zone of another size');
	@workers = @new;
	my $c = codes('/burst/', 8);
	is($c->{200}, 6, 'a new zone: 6 pass again');
	is($c->{429}, 2, 'and 2 do not');
};

subtest 'IPv6 clients, each its own state' => sub {
	my $port = $s->port('pp');
	my $pp = sub { "PROXY TCP6 $_[0] ::1 5000 80\r\n" };
	my $a = codes('/', 2, port => $port, prefix => $pp->('2001:db8::1'));
	is($a->{200}, 1, '2001:db8::1: one passes');
	is($a->{503}, 1, 'and one does not');
	is(codes('/', 1, port => $port, prefix => $pp->('2001:db8::2'))->{200},
	    1, '2001:db8::2 has its own');
	is(codes('/', 1, port => $port, prefix =>
	    "PROXY TCP4 192.0.2.5 127.0.0.1 5000 80\r\n")->{200}, 1,
	    'and 192.0.2.5 too');
	is(codes('/', 1, port => $port, prefix =>
	    "PROXY TCP6 ::ffff:192.0.2.5 ::1 5000 80\r\n")->{503}, 1,
	    '::ffff:192.0.2.5 is 192.0.2.5');
};

sub slow_batch {
	my ($n, $ms) = @_;
	my @r = exchange_many(port => $s->port('http'), timeout => 20,
	    requests => [ ("GET /delay/$ms HTTP/1.1\r\nHost: a\r\n"
	    . "Connection: close\r\n\r\n") x $n ]);
	my %c;
	$c{$_->{result} ? $_->{result}{status} : 'none'}++ for @r;
	return \%c;
}

subtest 'limit_conn 2 with slow requests' => sub {
	my $c = slow_batch(5, 800);
	is($c->{200}, 2, 'two slow requests in flight at once');
	is($c->{503}, 3, 'three more get 503');
	$c = slow_batch(2, 100);
	is($c->{200}, 2, 'given back when they finished: two again');
	my $port = $s->port('http');
	# Three streams on one connection, through python3-h2.
	my $py = $s->write_file('h2three.py', <<'PY');
import sys
sys.path.insert(0, sys.argv[1])
import forkloop_h2 as fh
c = fh.H2Client(int(sys.argv[2]))
sids = [c.start(sys.argv[3]) for _ in range(3)]
for r in c.wait(sids, 20):
    print(r.status)
PY
	my $lib = Forkloop::srcdir() . '/tests/lib';
	my @h2 = `/usr/bin/python3 $py $lib $port /delay/800 2>&1`;
	chomp @h2;
	my %h;
	$h{$_}++ for @h2;
	SKIP: {
		skip 'python3-h2 is needed for HTTP/2 streams', 2
		    if "@h2" =~ /SKIP|No module/;
		is($h{200}, 2, 'HTTP/2: two streams in flight') or diag("@h2");
		is($h{503}, 1, 'HTTP/2: a third stream gets 503');
	}
	my $j = status_json();
	is($j->{totals}{limits}{conn_rejected}, 4, 'JSON: conn_rejected 4');
	is($j->{totals}{limits}{conn_passed}, 6, 'JSON: conn_passed 6');
	my $prom = $s->http_get('/status?format=prometheus',
	    port => $s->port('status'))->{body} // '';
	my $sum = 0;
	$sum += $1 while $prom =~ /^forkloop_limited_requests_total\{[^}]*kind="conn",result="rejected"\} (\d+)$/mg;
	is($sum, 4, 'Prometheus: 4 rejected by limit_conn');
	like($prom, qr/^forkloop_limit_zone_capacity\{zone="conns"\} \d+$/m,
	    'Prometheus: the zones');
};

subtest 'a killed worker gives its counts back' => sub {
	my $port = $s->port('http');
	# Two long requests held.  The requests of the test before count
	# until their worker frees them, which a loaded machine (ASan) may
	# do after the client has its answers: a long request refused for
	# that (an answer within 0.3 s, a 503) is sent again.
	my @c;
	for my $try (1 .. 30) {
		while (@c < 2) {
			my $c = Forkloop::Conn->new(port => $port);
			$c->send("GET /delay/30000 HTTP/1.1\r\nHost: a\r\n\r\n");
			push @c, $c;
		}
		@c = grep {
			my $c = $_;
			my $r = eval { $c->response(timeout => 0.3) };
			$c->close if $r;
			!$r;
		} @c;
		last if @c == 2;
	}
	is(scalar @c, 2, 'two long requests held');
	# Both are in flight once a third is refused.
	my $full = Forkloop::wait_for(sub {
		($s->http_get('/delay/1', quiet => 1)->{status} // 0) == 503 });
	ok($full, 'two held: a third is refused');
	kill 'KILL', @workers;
	my @new = $s->wait_workers(2, exclude => \@workers);
	is(scalar @new, 2, 'the master started two more');
	@workers = @new;
	$_->close for @c;
	is(slow_batch(2, 100)->{200}, 2, 'the dead workers\' counts are gone');
};

$s->stop;
is($s->exit_status, 0, 'stop: exit status 0');
$s->log_clean_ok([qr/limiting (requests|connections)/,
    qr/killed by signal 9|signal 9/]);

# One worker: a delayed request waits on a timer, not in the worker.
my $d = Forkloop->new(start => 0, config => <<'CONF');
workers 1;
limit_req_zone $binary_remote_addr zone=slow:64k rate=4r/s;
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    route /hello/ hello;
    location /slow/ {
        limit_req zone=slow burst=3;
    }
    route /slow/ hello;
}
http {
    listen 127.0.0.1:%%PORT_STATUS%%;
    route /status status;
}
CONF
$d->run;

subtest 'delay: within the burst, each waits its turn' => sub {
	my @req = (("GET /slow/x HTTP/1.1\r\nHost: a\r\nConnection: close"
	    . "\r\n\r\n") x 5);
	my @r = exchange_many(port => $d->port('http'), requests => \@req,
	    timeout => 20);
	my @ok = sort { $a <=> $b } map { $_->{elapsed} }
	    grep { $_->{result} && $_->{result}{status} == 200 } @r;
	my @no = grep { $_->{result} && $_->{result}{status} == 503 } @r;
	is(scalar @ok, 4, 'rate=4r/s burst=3: four pass');
	is(scalar @no, 1, 'the fifth is past the burst');
	# The leaky bucket lets the fourth go 750 ms after the first.
	ok(@ok == 4 && $ok[3] - $ok[0] >= 0.6, sprintf('they were spread '
	    . 'out by the delay: %.3f s first to last', $ok[3] - ($ok[0] // 0)));
	my $j = eval { JSON::PP->new->decode($d->http_get('/status',
	    port => $d->port('status'))->{body}) } || {};
	is($j->{totals}{limits}{req_delayed}, 3, 'JSON: req_delayed 3');
	is($j->{totals}{limits}{req_rejected}, 1, 'JSON: req_rejected 1');
};

subtest 'delay: the worker serves others meanwhile' => sub {
	sleep 2;	# the bucket drains
	my @req = (("GET /slow/x HTTP/1.1\r\nHost: a\r\nConnection: close"
	    . "\r\n\r\n") x 4, "GET /hello/x HTTP/1.1\r\nHost: a\r\n"
	    . "Connection: close\r\n\r\n");
	my @r = exchange_many(port => $d->port('http'), requests => \@req,
	    timeout => 20);
	my @slow = sort { $a <=> $b } map { $_->{elapsed} } @r[0 .. 3];
	ok($r[4]{result} && $r[4]{result}{status} == 200,
	    'an unlimited request is answered');
	ok($r[4]{elapsed} < $slow[3], 'before the last delayed one');
};

$d->stop;
is($d->exit_status, 0, 'stop: exit status 0');
$d->log_clean_ok([qr/limiting requests by zone "slow"/]);

my $zone = "limit_req_zone \$binary_remote_addr zone=z:1m rate=1r/s;\n";
my @broken = (
	['an unknown zone', "http {\n listen 8080;\n location / {\n"
	    . "  limit_req zone=nosuch;\n }\n}\n", 4],
	['a limit_conn zone for limit_req', "limit_conn_zone "
	    . "\$binary_remote_addr zone=c:1m;\nhttp {\n listen 8080;\n"
	    . " limit_req zone=c;\n}\n", 4],
	['an unknown limit_conn zone', $zone . "http {\n listen 8080;\n"
	    . " limit_conn z 1;\n}\n", 4],
	['a bad rate', "limit_req_zone \$binary_remote_addr zone=z:1m\n"
	    . " rate=fast;\nhttp {\n listen 8080;\n}\n", 2],
	['a rate per hour', "limit_req_zone \$binary_remote_addr zone=z:1m "
	    . "rate=5r/h;\nhttp {\n listen 8080;\n}\n", 1],
	['a zone without a size', "limit_req_zone \$binary_remote_addr "
	    . "zone=z rate=1r/s;\nhttp {\n listen 8080;\n}\n", 1],
	['a zone too small', "\nlimit_conn_zone \$binary_remote_addr "
	    . "zone=z:4k;\nhttp {\n listen 8080;\n}\n", 2],
	['a zone twice', $zone . $zone . "http {\n listen 8080;\n}\n", 2],
	['another key', "limit_req_zone \$uri zone=z:1m rate=1r/s;\n"
	    . "http {\n listen 8080;\n}\n", 1],
	['no rate', "limit_req_zone \$binary_remote_addr zone=z:1m "
	    . "burst=5;\nhttp {\n listen 8080;\n}\n", 1],
	['a bad burst', $zone . "http {\n listen 8080;\n limit_req zone=z "
	    . "burst=-1;\n}\n", 4],
	['limit_req without a zone', $zone . "http {\n listen 8080;\n"
	    . " limit_req burst=5;\n}\n", 4],
	['limit_conn 0', "limit_conn_zone \$binary_remote_addr zone=c:1m;\n"
	    . "http {\n listen 8080;\n limit_conn c 0;\n}\n", 4],
	['a status that is no error', "http {\n listen 8080;\n"
	    . " limit_req_status 200;\n}\n", 3],
	['a zone inside a block', "http {\n listen 8080;\n"
	    . " limit_req_zone \$binary_remote_addr zone=z:1m rate=1r/s;\n"
	    . "}\n", 3],
	['a bad log level', "http {\n listen 8080;\n limit_conn_log_level "
	    . "loud;\n}\n", 3],
);
Forkloop->new(start => 0, config => { workers => 1 })
    ->config_errors_ok(\@broken);

done_testing();
