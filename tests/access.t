#!/usr/bin/perl
# access.t: "allow" and "deny", as nginx's access module: the first rule
# that matches the client's address decides (ADDRESS, ADDRESS/PREFIX,
# all), none lets it in; a location's rules replace the block's; 403 for
# a denied client, over HTTP/1.1 and h2c; behind a load balancer the
# PROXY protocol's source address is the one checked; and the config
# errors.

use strict;
use warnings;

use Test::More;
use Forkloop;

Forkloop::check_binary();
Forkloop::watchdog(60);

my $s = Forkloop->new(start => 0, files => {
    'www/index.html' => "open\n",
    'www/admin/index.html' => "admin\n",
    'www/lan/index.html' => "lan\n",
    'www/v6/index.html' => "v6\n",
    'www/mixed/index.html' => "mixed\n",
}, config => <<'CONF');
workers 1;
worker_connections 256;
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    root %%TESTDIR%%/www;
    deny 192.0.2.0/24;
    location /admin/ {
        deny all;
    }
    location /lan/ {
        allow 10.0.0.0/8;
        allow 127.0.0.0/8;
        deny all;
    }
    location /v6/ {
        allow ::1;
        deny all;
    }
    location /mixed/ {
        deny 127.0.0.2;
        allow 127.0.0.1/32;
        deny all;
    }
}
http {
    listen 127.0.0.1:%%PORT_HTTPS%% proxy_protocol;
    root %%TESTDIR%%/www;
    allow 10.0.0.0/8;
    deny all;
}
CONF
$s->run;

sub get {
	my ($target, %o) = @_;
	return $s->http(($o{prefix} // '') . "GET $target HTTP/1.1\r\n"
	    . "Host: a\r\nConnection: close\r\n\r\n", %o);
}

subtest 'rules in order, the first match decides' => sub {
	my $r = get('/');
	is($r->{status}, 200, 'no rule matches 127.0.0.1 in the block: in');
	is($r->{body}, "open\n", 'the file');
	$r = get('/admin/');
	is($r->{status}, 403, 'deny all in a location: 403');
	$r = get('/lan/');
	is($r->{status}, 200, 'allow 127.0.0.0/8 before deny all: in');
	$r = get('/v6/');
	is($r->{status}, 403, 'allow ::1 does not match 127.0.0.1: deny all');
	$r = get('/mixed/');
	is($r->{status}, 200, 'deny 127.0.0.2 does not match, allow '
	    . '127.0.0.1/32 does');
	$r = get('/admin/../index.html');
	is($r->{status}, 200, 'the normalised path chooses: not /admin/');
	my $port = $s->port('http');
	my $out = `curl -s -o /dev/null -w '%{http_code} %{http_version}' --http2-prior-knowledge http://127.0.0.1:$port/admin/`;
	is($out, '403 2', 'over h2c too: 403');
};

subtest 'behind a load balancer: the PROXY source' => sub {
	my $port = $s->port('https');
	my $r = get('/', port => $port,
	    prefix => "PROXY TCP4 10.1.2.3 127.0.0.1 5000 80\r\n");
	is($r->{status}, 200, 'PROXY from 10.1.2.3: allowed');
	$r = get('/', port => $port,
	    prefix => "PROXY TCP4 192.0.2.9 127.0.0.1 5000 80\r\n");
	is($r->{status}, 403, 'PROXY from 192.0.2.9: denied');
	$r = get('/', port => $port,
	    prefix => "PROXY TCP6 2001:db8::1 ::1 5000 80\r\n");
	is($r->{status}, 403, 'an IPv6 source: deny all');
};

$s->stop;
is($s->exit_status, 0, 'stop: exit status 0');
$s->log_clean_ok;

my @broken = (
	['a bad address', "http {\n listen 8080;\n allow 10.0.0.256;\n}\n", 3],
	['a prefix too long', "http {\n listen 8080;\n deny\n 10.0.0.0/33;\n"
	    . "}\n", 4],
	['a word', "http {\n listen 8080;\n deny everybody;\n}\n", 3],
	['an IPv6 prefix too long', "http {\n listen 8080;\n"
	    . " allow 2001:db8::/129;\n}\n", 3],
);
Forkloop->new(start => 0, config => { workers => 1 })
    ->config_errors_ok(\@broken);

done_testing();
