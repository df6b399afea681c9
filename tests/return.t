#!/usr/bin/perl
# return.t: the "return" directive, as an nginx user writes it: the
# HTTP-to-HTTPS redirect with $scheme, $host and $request_uri, other
# redirect codes and "return URL" (302), a text with variables, an error
# page, 204 without a body or a length, 444 that answers nothing, HEAD,
# one block of several on an address; and its config errors.

use strict;
use warnings;

use Test::More;
use Forkloop;

Forkloop::check_binary();
Forkloop::watchdog(60);

my $s = Forkloop->new(start => 0, files => { 'www/index.html' => "files\n" },
    config => <<'CONF');
workers 1;
worker_connections 256;
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    server_name to-https.example;
    return 301 https://$host$request_uri;
}
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    server_name text.example;
    default_type text/plain;
    return 200 "scheme=$scheme host=$host uri=$uri args=$args name=${server_name}";
}
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    server_name moved.example;
    return 308 "https://new.example$uri";
}
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    server_name found.example;
    return https://elsewhere.example/;
}
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    server_name gone.example;
    return 410;
}
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    server_name empty.example;
    return 204;
}
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    server_name drop.example;
    return 444;
}
http {
    listen 127.0.0.1:%%PORT_HTTP%% default_server;
    server_name files.example;
    root %%TESTDIR%%/www;
}
CONF
$s->run;

sub req {
	my ($host, $target, %o) = @_;
	my $method = $o{method} // 'GET';
	return $s->http("$method $target HTTP/1.1\r\nHost: $host\r\n"
	    . "Connection: close\r\n\r\n", %o);
}

subtest 'return 301 https://$host$request_uri' => sub {
	my $r = req('To-HTTPS.example:8080', '/a/%2e%2e/b%20c?x=1&y=2');
	is($r->{status}, 301, 'status 301');
	is($r->{headers}{location}, 'https://to-https.example/a/%2e%2e/b%20c'
	    . '?x=1&y=2', 'Location: https, the host in lower case without '
	    . 'its port, the target as sent');
	like($r->{body} // '', qr/301 Moved Permanently/, 'a small page');
	$r = req('to-https.example', '/', method => 'HEAD', head => 1);
	is($r->{status}, 301, 'HEAD: 301');
	is($r->{headers}{location}, 'https://to-https.example/',
	    'HEAD: Location');
	is($r->{body} // '', '', 'HEAD: no body');
};

subtest 'a text with variables' => sub {
	my $r = req('text.example', '/x/../y?q=1');
	is($r->{status}, 200, 'status 200');
	is($r->{headers}{'content-type'}, 'text/plain',
	    'the block\'s default_type');
	is($r->{body}, 'scheme=http host=text.example uri=/y args=q=1 '
	    . 'name=text.example', 'every variable expanded');
	is($r->{headers}{'content-length'}, length $r->{body},
	    'Content-Length is the text\'s');
};

subtest 'other codes' => sub {
	my $r = req('moved.example', '/p/q');
	is($r->{status}, 308, 'status 308');
	is($r->{headers}{location}, 'https://new.example/p/q', 'with $uri');
	$r = req('found.example', '/');
	is($r->{status}, 302, 'return URL: 302');
	is($r->{headers}{location}, 'https://elsewhere.example/',
	    'its Location');
	$r = req('gone.example', '/');
	is($r->{status}, 410, 'status 410');
	like($r->{body} // '', qr/410 Gone/, 'the error page');
	$r = req('empty.example', '/');
	is($r->{status}, 204, 'status 204');
	ok(!exists $r->{headers}{'content-length'},
	    '204 has no Content-Length (RFC 9110 8.6)');
	$r = req('drop.example', '/', quiet => 1);
	ok(!defined $r->{status}, '444: the connection closes without an '
	    . 'answer');
	$r = req('files.example', '/');
	is($r->{body}, "files\n", 'a block without return serves its files');
};

$s->stop;
is($s->exit_status, 0, 'stop: exit status 0');
$s->log_clean_ok;

my @broken = (
	['a code out of range', "http {\n listen 8080;\n return 1000;\n}\n",
	    3],
	['an interim code', "http {\n listen 8080;\n return 101;\n}\n", 3],
	['a redirect without a URL', "http {\n listen 8080;\n return\n 301;"
	    . "\n}\n", 4],
	['an unknown variable', "http {\n listen 8080;\n return 301\n"
	    . " https://\$hots\$request_uri;\n}\n", 4],
	['an unclosed ${', "http {\n listen 8080;\n return 200 \"\${host\";"
	    . "\n}\n", 3],
	['return twice', "http {\n listen 8080;\n return 404;\n return 410;"
	    . "\n}\n", 4],
);
Forkloop->new(start => 0, config => { workers => 1 })
    ->config_errors_ok(\@broken);

done_testing();
