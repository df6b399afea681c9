#!/usr/bin/perl
# error_page.t: a block's own page for an error, a file under its root,
# sent with the error's status and its own type (404 for a missing or a
# hidden file, 503 from "return"), HEAD without its body, the built-in
# page when the named file is missing, and the config errors.

use strict;
use warnings;

use Test::More;
use Forkloop;

Forkloop::check_binary();
Forkloop::watchdog(60);

my $p404 = "<!doctype html><title>lost</title><p>our own 404 page</p>\n";
my $p50x = "<p>we are down for a moment</p>\n";
my $s = Forkloop->new(start => 0, files => { 'www/index.html' => "index\n",
	'www/errors/404.html' => $p404, 'www/errors/50x.html' => $p50x,
	'www/.env' => "SECRET=1\n" }, config => <<'CONF');
workers 1;
worker_connections 256;
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    server_name site.example;
    root %%TESTDIR%%/www;
    error_page 404 /errors/404.html;
    error_page 500 502 503 504 /errors/50x.html;
    error_page 405 /errors/not-there.html;
}
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    server_name down.example;
    root %%TESTDIR%%/www;
    error_page 503 /errors/50x.html;
    return 503;
}
CONF
$s->run;

sub req {
	my ($host, $line, %o) = @_;
	return $s->http("$line HTTP/1.1\r\nHost: $host\r\nConnection: close"
	    . "\r\n\r\n", %o);
}

subtest 'a missing file gets the site\'s 404 page' => sub {
	my $r = req('site.example', 'GET /no/such/file');
	is($r->{status}, 404, 'status 404, kept');
	is($r->{body}, $p404, 'the page from errors/404.html');
	like($r->{headers}{'content-type'} // '', qr{^text/html\b},
	    'its type, from its name');
	$r = req('site.example', 'GET /.env');
	is($r->{status}, 404, 'a hidden file: 404');
	is($r->{body}, $p404, 'with the same page, nothing of the file');
	$r = req('site.example', 'HEAD /nothing', head => 1);
	is($r->{status}, 404, 'HEAD: 404');
	is($r->{headers}{'content-length'}, length $p404,
	    'HEAD: the page\'s length');
	is($r->{body} // '', '', 'HEAD: no body');
};

subtest 'a status from return, and a page that is not there' => sub {
	my $r = req('down.example', 'GET /');
	is($r->{status}, 503, 'return 503: status 503');
	is($r->{body}, $p50x, 'the 50x page');
	$r = req('site.example', 'POST /index.html');
	is($r->{status}, 405, 'POST to a file: 405');
	like($r->{body} // '', qr/405 Method Not Allowed/,
	    'its page file is missing: the built-in page');
	is($r->{headers}{allow}, 'GET, HEAD', 'Allow is kept');
	$r = req('site.example', 'GET /index.html');
	is($r->{body}, "index\n", 'a file that is there is served as ever');
};

$s->stop;
is($s->exit_status, 0, 'stop: exit status 0');
$s->log_clean_ok;

my @broken = (
	['a code below 300', "http {\n listen 8080;\n error_page 200 /x.html;"
	    . "\n}\n", 3],
	['a URI that is no path', "http {\n listen 8080;\n error_page 404\n"
	    . " x.html;\n}\n", 4],
	['one code twice', "http {\n listen 8080;\n error_page 404 /a.html;\n"
	    . " error_page 500 404 /b.html;\n}\n", 4],
);
Forkloop->new(start => 0, config => { workers => 1 })
    ->config_errors_ok(\@broken);

done_testing();
