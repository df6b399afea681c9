#!/usr/bin/perl
# vhosts.t: several http blocks on one address, each a site of its own,
# chosen by the request's Host (RFC 9110 7.2) or an absolute-form target's
# authority: exact names, wildcards, case, a trailing dot and a port, the
# default block (first, or default_server), a block per request on one
# keep-alive connection, each block's own routes and access log; over
# TLS, a Host that names another block than the SNI gets 421 (RFC 9110
# 15.5.20); and the config errors of -t.

use strict;
use warnings;

use Test::More;
use Forkloop;
use File::Temp;
use Forkloop::TLS qw(make_ca make_cert curl);

Forkloop::check_binary();
Forkloop::watchdog(120);

my $s = Forkloop->new(start => 0, files => {
	'www-a/index.html' => "site a\n",
	'www-b/index.html' => "site b\n",
	'www-c/index.html' => "site c\n",
	'www-a/only-a.txt' => "only in a\n" },
    config => <<'CONF');
workers 2;
worker_connections 1024;
shutdown_timeout 5s;

http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    server_name a.example;
    root %%TESTDIR%%/www-a;
    access_log %%TESTDIR%%/a.log;
    route /hello/ hello;
}

http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    server_name b.example *.b.example www.b.*;
    root %%TESTDIR%%/www-b;
    access_log %%TESTDIR%%/b.log;
}

http {
    listen 127.0.0.1:%%PORT_HTTP%% default_server;
    server_name c.example;
    root %%TESTDIR%%/www-c;
}
CONF
$s->run;

sub get_host {
	my ($host, $path, %o) = @_;
	my $raw = "GET " . ($path // '/') . " HTTP/1.1\r\n"
	    . (defined $host ? "Host: $host\r\n" : '')
	    . "Connection: close\r\n\r\n";
	return $s->http($raw, %o);
}

subtest 'the Host header chooses the block' => sub {
	my %want = (
		'a.example' => "site a\n",
		'A.EXAMPLE' => "site a\n",
		'a.example.' => "site a\n",
		"a.example:" . $s->port('http') => "site a\n",
		"A.Example.:" . $s->port('http') => "site a\n",
		'x.b.example:8080' => "site b\n",
		'b.example' => "site b\n",
		'x.b.example' => "site b\n",
		'x.y.b.example' => "site b\n",
		'www.b.org' => "site b\n",
		'c.example' => "site c\n",
		'unknown.example' => "site c\n",
		'127.0.0.1' => "site c\n",
		'[::1]:80' => "site c\n",
	);
	for my $host (sort keys %want) {
		my $r = get_host($host);
		is($r->{status}, 200, "Host $host: 200");
		is($r->{body}, $want{$host}, "Host $host: its site");
	}
};

subtest 'no Host, and absolute-form targets' => sub {
	my $r = $s->http("GET / HTTP/1.0\r\n\r\n");
	is($r->{body}, "site c\n", 'HTTP/1.0 without Host: the default block');
	# RFC 9112 3.2.2: the target's authority wins over Host.
	$r = $s->http("GET http://a.example/ HTTP/1.1\r\nHost: b.example\r\n"
	    . "Connection: close\r\n\r\n");
	is($r->{body}, "site a\n", 'absolute-form http://a.example/');
	$r = $s->http("GET http://a.example:8080/ HTTP/1.1\r\nHost: b.example\r\n"
	    . "Connection: close\r\n\r\n");
	is($r->{body}, "site a\n", 'absolute-form with a port: its name');
	$r = $s->http("GET http://b.example/ HTTP/1.1\r\nHost: a.example:1\r\n"
	    . "Connection: close\r\n\r\n");
	is($r->{body}, "site b\n", 'absolute-form: not the Host\'s name');
	$r = get_host(undef);
	is($r->{status}, 400, 'HTTP/1.1 without Host: 400');
};

subtest 'each request on one connection finds its own block' => sub {
	my $c = $s->connect;
	my @bodies;
	for my $host (qw(a.example b.example nobody.example a.example)) {
		$c->send("GET / HTTP/1.1\r\nHost: $host\r\n\r\n");
		my $r = $c->response;
		push @bodies, $r->{body};
	}
	$c->close;
	is_deeply(\@bodies, ["site a\n", "site b\n", "site c\n", "site a\n"],
	    'a, b, the default, a again');
};

subtest 'routes, files and logs are the block\'s own' => sub {
	is(get_host('a.example', '/hello/you')->{status}, 200,
	    'a has the hello route');
	is(get_host('b.example', '/hello/you')->{status}, 404,
	    'b has not');
	is(get_host('a.example', '/only-a.txt')->{body}, "only in a\n",
	    'a file of a');
	is(get_host('b.example', '/only-a.txt')->{status}, 404,
	    'is not in b');
	get_host('b.example', '/logged-in-b');
	ok(Forkloop::wait_for(sub {
		($s->read_file('b.log') // '') =~ m{GET /logged-in-b } }, 5),
	    'b\'s request is in b.log');
	unlike($s->read_file('a.log') // '', qr{/logged-in-b},
	    'and not in a.log');
};

$s->stop;
is($s->exit_status, 0, 'stop: exit status 0');
$s->log_clean_ok;

###########################################################################
# TLS: SNI chooses the certificate and the block; Host must agree.

my $dir = File::Temp->newdir(TMPDIR => 1);
my $ca = make_ca($dir->dirname);
my %cert = map { $_ => make_cert($dir->dirname, ca => $ca, name => $_,
    cn => "$_.example") } qw(a b);
my $t = Forkloop->new(start => 0, files => { 'www-a/index.html' => "tls a\n",
	'www-b/index.html' => "tls b\n" }, config => <<"CONF");
workers 1;
worker_connections 256;
http {
    listen 127.0.0.1:%%PORT_HTTPS%% ssl;
    server_name a.example;
    ssl_certificate $cert{a}{cert};
    ssl_certificate_key $cert{a}{key};
    root %%TESTDIR%%/www-a;
}
http {
    listen 127.0.0.1:%%PORT_HTTPS%% ssl;
    server_name b.example;
    ssl_certificate $cert{b}{cert};
    ssl_certificate_key $cert{b}{key};
    root %%TESTDIR%%/www-b;
}
CONF
$t->run;
my $port = $t->port('https');

subtest 'over TLS, SNI and Host' => sub {
	my $r = curl($port, host => 'b.example', ca => $ca->{cert});
	is($r->{transfers}[0]{code}, 200, 'SNI b, Host b: 200');
	is($r->{transfers}[0]{body}, "tls b\n", 'site b');
	$r = curl($port, host => 'a.example', ca => $ca->{cert},
	    args => ['-H', 'Host: b.example']);
	is($r->{transfers}[0]{code}, 421,
	    'SNI a, Host b: 421 Misdirected Request');
	$r = curl($port, host => 'a.example', ca => $ca->{cert},
	    args => ['-H', 'Host: unknown.example']);
	is($r->{transfers}[0]{body}, "tls a\n",
	    'SNI a, a Host no block has: the SNI block');
	# Without SNI (an IP address), Host chooses, as on plain HTTP.
	$r = curl($port, host => '127.0.0.1', args => ['-k', '-H',
	    'Host: b.example']);
	is($r->{transfers}[0]{body}, "tls b\n", 'no SNI, Host b: site b');
};

$t->stop;
is($t->exit_status, 0, 'TLS server: exit status 0');
$t->log_clean_ok;

###########################################################################
# -t: what cannot be chosen between is an error with its line.

my @broken = (
	['one name in two blocks', <<'EOF', 7],
http {
    listen 127.0.0.1:8080;
    server_name a.example;
}
http {
    listen 127.0.0.1:8080;
    server_name A.Example;
}
EOF
	['two default_server', <<'EOF', 5],
http {
    listen 127.0.0.1:8080 default_server;
}
http {
    listen 127.0.0.1:8080 default_server;
}
EOF
	['ssl and plain on one address', <<'EOF', 5],
http {
    listen 127.0.0.1:8080;
}
http {
    listen 127.0.0.1:8080 ssl;
    ssl_certificate /nonexistent.pem;
    ssl_certificate_key /nonexistent.key;
}
EOF
	['http and echo on one address', <<'EOF', 5],
http {
    listen 127.0.0.1:8080;
}
echo {
    listen 127.0.0.1:8080;
}
EOF
);
Forkloop->new(start => 0, config => { workers => 1 })
    ->config_errors_ok(\@broken);

done_testing();
