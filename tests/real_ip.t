#!/usr/bin/perl
# real_ip.t: set_real_ip_from, real_ip_header and real_ip_recursive, as
# nginx's realip module: from a trusted proxy, the address its header
# names is the client's for allow/deny, limit_req, $remote_addr in the
# access log and the reverse proxy's X-Forwarded-For and X-Real-IP; a
# spoofed header from an untrusted address changes nothing; rightmost
# first (recursive: the rightmost untrusted), across field lines;
# IPv6 proxies and clients; X-Real-IP by default, set at the top level;
# HTTP/2; and the config errors at FILE:LINE.

use strict;
use warnings;

use Test::More;
use Forkloop;

Forkloop::check_binary();
Forkloop::watchdog(60);

my $s = Forkloop->new(start => 0, files => {
    'www/index.html' => "open\n",
    'www/admin/index.html' => "admin\n",
    'www/limited/index.html' => "limited\n",
}, config => <<'CONF');
workers 1;
worker_connections 256;
log_format ra '$remote_addr $uri';
set_real_ip_from 127.0.0.1;
limit_req_zone $binary_remote_addr zone=front:64k rate=1r/m;
limit_req_zone $binary_remote_addr zone=spoof:64k rate=1r/m;
# The front: trusts loopback and 10/8, X-Forwarded-For, not recursive.
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    root %%TESTDIR%%/www;
    access_log %%TESTDIR%%/front.log ra;
    set_real_ip_from 127.0.0.0/8;
    set_real_ip_from 10.0.0.0/8;
    real_ip_header X-Forwarded-For;
    location /admin/ {
        allow 203.0.113.7;
        deny all;
    }
    location /limited/ {
        limit_req zone=front nodelay;
    }
    location /up/ {
        proxy_pass http://127.0.0.1:%%PORT_BACK%%/;
    }
}
# Recursive: the rightmost untrusted address wins.
http {
    listen 127.0.0.1:%%PORT_REC%%;
    set_real_ip_from 127.0.0.1;
    set_real_ip_from 10.0.0.0/8;
    set_real_ip_from 2001:db8:ffff::/48;
    real_ip_header X-Forwarded-For;
    real_ip_recursive on;
    return 200 "$remote_addr";
}
# Trusts only 192.0.2.1: loopback clients are not proxies here.
http {
    listen 127.0.0.1:%%PORT_UNTRUSTED%%;
    root %%TESTDIR%%/www;
    set_real_ip_from 192.0.2.1;
    real_ip_header X-Forwarded-For;
    location /limited/ {
        limit_req zone=spoof nodelay;
    }
    location / {
        return 200 "$remote_addr";
    }
}
# Nothing of its own: the top level's set_real_ip_from, X-Real-IP.
http {
    listen 127.0.0.1:%%PORT_XRI%%;
    return 200 "$remote_addr";
}
# Behind a load balancer speaking PROXY, trusting IPv6 proxies.
http {
    listen 127.0.0.1:%%PORT_PP%% proxy_protocol;
    set_real_ip_from 2001:db8:ffff::/48;
    real_ip_header X-Forwarded-For;
    return 200 "$remote_addr";
}
# The proxied-to block: shows what the proxy sent.
http {
    listen 127.0.0.1:%%PORT_BACK%%;
    set_real_ip_from 192.0.2.1;
    return 200 "xff=$http_x_forwarded_for xri=$http_x_real_ip";
}
CONF
$s->run;

sub get {
	my ($port, $path, @fields) = @_;
	my $prefix = '';
	$prefix = shift(@fields) . "\r\n" if @fields && $fields[0] =~ /^PROXY /;
	my $extra = join('', map { "$_\r\n" } @fields);
	return $s->http("${prefix}GET $path HTTP/1.1\r\nHost: a\r\n$extra"
	    . "Connection: close\r\n\r\n", port => $s->port($port));
}

sub addr {
	my $r = get(@_);
	return ($r->{status} // 0) == 200 ? $r->{body} : "status "
	    . ($r->{status} // 'none');
}

subtest 'a trusted proxy names the client' => sub {
	is(get('http', '/admin/', 'X-Forwarded-For: 198.51.100.1, 203.0.113.7')
	    ->{status}, 200, 'rightmost 203.0.113.7: allowed');
	is(get('http', '/admin/', 'X-Forwarded-For: 203.0.113.7, 198.51.100.1')
	    ->{status}, 403, 'rightmost 198.51.100.1: denied');
	is(get('http', '/admin/')->{status}, 403, 'no header: 127.0.0.1');
	is(get('http', '/admin/', 'X-Forwarded-For: not-an-address')
	    ->{status}, 403, 'an address that does not parse: unchanged');
	is(get('http', '/admin/', 'X-Real-IP: 203.0.113.7')->{status}, 403,
	    'another header than real_ip_header: unchanged');
	my $port = $s->port('http');
	my $out = `curl -s -o /dev/null -w '%{http_code} %{http_version}' --http2-prior-knowledge -H 'X-Forwarded-For: 203.0.113.7' http://127.0.0.1:$port/admin/`;
	is($out, '200 2', 'HTTP/2: the same');
	$s->http_get('/index.html', quiet => 1);
	my $log = Forkloop::wait_for(sub {
		my $t = $s->read_file('front.log') // '';
		return $t =~ m{^127\.0\.0\.1 /index\.html$}m ? $t : 0;
	});
	like($log // '', qr{^203\.0\.113\.7 /admin/$}m,
	    'the access log\'s $remote_addr is the real client');
	like($log // '', qr{^198\.51\.100\.1 /admin/}m,
	    'and the denied one\'s too');
};

subtest 'the proxy forwards the real client' => sub {
	my $r = get('http', '/up/', 'X-Forwarded-For: 198.51.100.9');
	is($r->{body}, 'xff=198.51.100.9, 198.51.100.9 xri=198.51.100.9',
	    'X-Forwarded-For gets the real address added, X-Real-IP is it');
};

subtest 'limit_req counts the real client' => sub {
	is(get('http', '/limited/', 'X-Forwarded-For: 198.51.100.20')
	    ->{status}, 200, '198.51.100.20: the first passes');
	is(get('http', '/limited/', 'X-Forwarded-For: 198.51.100.20')
	    ->{status}, 503, '198.51.100.20: the second does not');
	is(get('http', '/limited/', 'X-Forwarded-For: 198.51.100.21')
	    ->{status}, 200, '198.51.100.21 through the same proxy: its own');
};

subtest 'a spoofed header from an untrusted address' => sub {
	is(addr('untrusted', '/', 'X-Forwarded-For: 203.0.113.7'),
	    '127.0.0.1', 'X-Forwarded-For ignored');
	is(get('untrusted', '/limited/', 'X-Forwarded-For: 198.51.100.30')
	    ->{status}, 200, 'the first passes');
	is(get('untrusted', '/limited/', 'X-Forwarded-For: 198.51.100.31')
	    ->{status}, 503, 'a new address in the header does not evade '
	    . 'the limit');
	is(addr('xri', '/', 'X-Real-IP: 203.0.113.8'), '203.0.113.8',
	    'top-level set_real_ip_from, X-Real-IP by default');
	is(addr('xri', '/', 'X-Forwarded-For: 203.0.113.8'), '127.0.0.1',
	    'X-Forwarded-For is not its header');
};

subtest 'recursive: the rightmost untrusted address' => sub {
	is(addr('rec', '/', 'X-Forwarded-For: 198.51.100.1, 203.0.113.9, '
	    . '10.0.0.2'), '203.0.113.9', 'trusted 10.0.0.2 passed over');
	is(addr('http', '/up/x', 'X-Forwarded-For: 198.51.100.1, 203.0.113.9,'
	    . ' 10.0.0.2') =~ /xri=(\S+)/ ? $1 : '', '10.0.0.2',
	    'not recursive: the rightmost, trusted or not');
	is(addr('rec', '/', 'X-Forwarded-For: 10.1.1.1, 10.0.0.2'), '10.1.1.1',
	    'all trusted: the leftmost');
	is(addr('rec', '/', 'X-Forwarded-For: 203.0.113.50',
	    'X-Forwarded-For: 10.0.0.2'), '203.0.113.50', 'across field lines');
	is(addr('rec', '/', 'X-Forwarded-For: 198.51.100.1, bogus, 10.0.0.2'),
	    '10.0.0.2', 'an entry that does not parse ends the walk');
	is(addr('rec', '/', 'X-Forwarded-For: 2001:db8::5, 10.0.0.2'),
	    '2001:db8::5', 'an IPv6 client');
	is(addr('rec', '/', 'X-Forwarded-For: 2001:db8::5, 2001:db8:ffff::9'),
	    '2001:db8::5', 'behind an IPv6 proxy in 2001:db8:ffff::/48');
	is(addr('rec', '/', 'X-Forwarded-For: [2001:db8::6]:443'),
	    '2001:db8::6', '[address]:port');
	is(addr('rec', '/', 'X-Forwarded-For: 192.0.2.44:5555'), '192.0.2.44',
	    'IPv4 address:port');
};

subtest 'IPv6 proxies through PROXY' => sub {
	my $pp = sub { "PROXY TCP6 $_[0] ::1 5000 80" };
	is(addr('pp', '/', $pp->('2001:db8:ffff::1'),
	    'X-Forwarded-For: 2001:db8::77'), '2001:db8::77',
	    'from trusted 2001:db8:ffff::1: the header\'s address');
	is(addr('pp', '/', $pp->('2001:db8:eeee::1'),
	    'X-Forwarded-For: 2001:db8::77'), '2001:db8:eeee::1',
	    'from untrusted 2001:db8:eeee::1: its own');
};

$s->stop;
is($s->exit_status, 0, 'stop: exit status 0');
$s->log_clean_ok([qr/limiting requests/]);

my @broken = (
	['a bad address', "http {\n listen 8080;\n set_real_ip_from "
	    . "10.0.0.0/33;\n}\n", 3],
	['a unix socket', "set_real_ip_from unix:;\nhttp {\n listen 8080;\n"
	    . "}\n", 1],
	['a bad header name', "http {\n listen 8080;\n\n real_ip_header "
	    . "\"X Forwarded\";\n}\n", 4],
	['not on or off', "real_ip_recursive yes;\nhttp {\n listen 8080;\n"
	    . "}\n", 1],
	['in a location', "http {\n listen 8080;\n location / {\n"
	    . "  set_real_ip_from 10.0.0.1;\n }\n}\n", 4],
);
Forkloop->new(start => 0, config => { workers => 1 })
    ->config_errors_ok(\@broken);

done_testing();
