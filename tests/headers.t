#!/usr/bin/perl
# headers.t: add_header and expires, as nginx applies them: on 200, 201,
# 204, 206, 301, 302, 303, 304, 307 and 308 answers, and with "always"
# on every answer (HSTS, for example); Expires with Cache-Control
# max-age, epoch and max; server_tokens (the version in Server: and in
# error pages, or not); and their config errors.

use strict;
use warnings;

use Test::More;
use POSIX qw(mktime);
use Forkloop;

Forkloop::check_binary();
Forkloop::watchdog(60);

my $s = Forkloop->new(start => 0, files => { 'www/index.html' => "index\n",
	'www/a.txt' => "0123456789\n" }, config => <<'CONF');
workers 1;
worker_connections 256;
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    server_name main.example;
    root %%TESTDIR%%/www;
    add_header X-Frame-Options DENY;
    add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" always;
    expires 1h;
}
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    server_name epoch.example;
    root %%TESTDIR%%/www;
    expires epoch;
}
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    server_name max.example;
    root %%TESTDIR%%/www;
    expires max;
}
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    server_name plain.example;
    root %%TESTDIR%%/www;
}
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    server_name quiet.example;
    root %%TESTDIR%%/www;
    server_tokens off;
}
CONF
$s->run;

sub get {
	my ($host, $path, @extra) = @_;
	return $s->http("GET $path HTTP/1.1\r\nHost: $host\r\n"
	    . join('', map { "$_\r\n" } @extra) . "Connection: close\r\n\r\n");
}

my %mon = (Jan => 0, Feb => 1, Mar => 2, Apr => 3, May => 4, Jun => 5,
    Jul => 6, Aug => 7, Sep => 8, Oct => 9, Nov => 10, Dec => 11);
sub http_time {
	my ($d) = @_;
	return undef unless ($d // '') =~
	    /^\w{3}, (\d\d) (\w{3}) (\d{4}) (\d\d):(\d\d):(\d\d) GMT$/;
	local $ENV{TZ} = 'UTC';
	POSIX::tzset();
	return mktime($6, $5, $4, $1, $mon{$2}, $3 - 1900);
}

subtest 'a 200 gets every header and an expiry an hour ahead' => sub {
	my $r = get('main.example', '/a.txt');
	is($r->{status}, 200, 'status 200');
	is($r->{headers}{'x-frame-options'}, 'DENY', 'X-Frame-Options');
	is($r->{headers}{'strict-transport-security'},
	    'max-age=63072000; includeSubDomains', 'HSTS');
	is($r->{headers}{'cache-control'}, 'max-age=3600',
	    'Cache-Control: max-age=3600');
	my $delta = (http_time($r->{headers}{expires}) // 0)
	    - (http_time($r->{headers}{date}) // 0);
	ok($delta >= 3599 && $delta <= 3601, "Expires is Date + 1h ($delta s)");
	is($r->{body}, "0123456789\n", 'the file');
};

subtest '206 and 304 get them too' => sub {
	my $r = get('main.example', '/a.txt', 'Range: bytes=0-3');
	is($r->{status}, 206, 'status 206');
	is($r->{headers}{'x-frame-options'}, 'DENY', '206: the header');
	my $etag = get('main.example', '/a.txt')->{headers}{etag};
	$r = get('main.example', '/a.txt', "If-None-Match: $etag");
	is($r->{status}, 304, 'status 304');
	is($r->{headers}{'x-frame-options'}, 'DENY', '304: the header');
	is($r->{headers}{'cache-control'}, 'max-age=3600', '304: max-age');
};

subtest 'an error gets only what is "always"' => sub {
	my $r = get('main.example', '/missing');
	is($r->{status}, 404, 'status 404');
	ok(!exists $r->{headers}{'x-frame-options'}, 'no X-Frame-Options');
	ok(!exists $r->{headers}{expires} &&
	    !exists $r->{headers}{'cache-control'}, 'no expiry');
	is($r->{headers}{'strict-transport-security'},
	    'max-age=63072000; includeSubDomains', 'HSTS, always');
};

subtest 'epoch, max, and a block without them' => sub {
	my $r = get('epoch.example', '/a.txt');
	is($r->{headers}{expires}, 'Thu, 01 Jan 1970 00:00:01 GMT',
	    'epoch: Expires 1970');
	is($r->{headers}{'cache-control'}, 'no-cache', 'epoch: no-cache');
	$r = get('max.example', '/a.txt');
	is($r->{headers}{expires}, 'Thu, 31 Dec 2037 23:55:55 GMT',
	    'max: Expires 2037');
	is($r->{headers}{'cache-control'}, 'max-age=315360000',
	    'max: ten years');
	$r = get('plain.example', '/a.txt');
	ok(!exists $r->{headers}{expires} && !exists $r->{headers}
	    {'x-frame-options'}, 'another block: none of it');
};

subtest 'server_tokens' => sub {
	my $r = get('plain.example', '/a.txt');
	like($r->{headers}{server} // '', qr{^forkloop/\d+\.\d+},
	    'by default Server: forkloop/VERSION, as nginx');
	$r = get('plain.example', '/none');
	like($r->{body} // '', qr{forkloop/\d+\.\d+}, 'and in error pages');
	$r = get('quiet.example', '/a.txt');
	is($r->{headers}{server}, 'forkloop', 'server_tokens off: forkloop');
	$r = get('quiet.example', '/none');
	unlike($r->{body} // '', qr{forkloop/}, 'and no version in the page');
	like($r->{body} // '', qr{404 Not Found}, 'which is the 404 page');
};

$s->stop;
is($s->exit_status, 0, 'stop: exit status 0');
$s->log_clean_ok;

my @broken = (
	['a header name with a space', "http {\n listen 8080;\n add_header "
	    . "\"X Bad\" v;\n}\n", 3],
	['a header name with a colon', "http {\n listen 8080;\n add_header\n"
	    . " X: v;\n}\n", 4],
	['a control byte in a value', "http {\n listen 8080;\n add_header X "
	    . "\"a\x01b\";\n}\n", 3],
	['a parameter other than always', "http {\n listen 8080;\n add_header"
	    . " X v\n sometimes;\n}\n", 4],
	['expires of no time', "http {\n listen 8080;\n expires soon;\n}\n",
	    3],
);
Forkloop->new(start => 0, config => { workers => 1 })
    ->config_errors_ok(\@broken);

done_testing();
