#!/usr/bin/perl
# compress.t: gzip and brotli for static files, as nginx's gzip and
# ngx_brotli: Content-Encoding by Accept-Encoding and its q-values (br
# first when both are accepted, q=0 refuses, "*" accepts), gzip_types
# (text/html always), gzip_min_length, Vary: Accept-Encoding, a weak ETag
# and 304 for it, HEAD, no compression for a Range request or a file the
# cache does not hold in memory; the bytes decompress to the file (gzip
# with Perl's IO::Uncompress::Gunzip, brotli with curl --compressed),
# over HTTP/1.1 and h2c; and the config errors.

use strict;
use warnings;

use Test::More;
use IO::Uncompress::Gunzip qw(gunzip $GunzipError);
use Forkloop;

Forkloop::check_binary();
Forkloop::watchdog(60);

my $html = join('', map { "<p>line $_ of a page that compresses well</p>\n" }
    1 .. 200);
my $css = "body { color: black; }\n" x 100;
my $big = "x" x (100 * 1024);
my $png = join('', map { chr(($_ * 7919) % 256) } 1 .. 5000);

my $s = Forkloop->new(start => 0, files => {
    'www/index.html' => $html,
    'www/style.css' => $css,
    'www/tiny.html' => "<p>hi</p>",
    'www/big.txt' => $big,
    'www/pic.png' => $png,
    'plain/index.html' => $html,
}, config => <<'CONF');
workers 1;
worker_connections 256;
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    root %%TESTDIR%%/www;
    gzip on;
    gzip_types text/css text/plain;
    gzip_min_length 100;
    brotli on;
}
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    server_name defaults.example;
    root %%TESTDIR%%/www;
    gzip on;
}
http {
    listen 127.0.0.1:%%PORT_HTTPS%%;
    root %%TESTDIR%%/plain;
}
CONF
$s->run;

sub get {
	my ($target, @headers) = @_;
	my %o = (ref $headers[-1] eq 'HASH') ? %{ pop @headers } : ();
	my $method = $o{method} // 'GET';
	return $s->http("$method $target HTTP/1.1\r\nHost: a.example\r\n"
	    . join('', map { "$_\r\n" } @headers)
	    . "Connection: close\r\n\r\n", %o);
}

sub gunzipped {
	my ($data) = @_;
	my $out;
	gunzip(\$data => \$out) or return "gunzip: $GunzipError";
	return $out;
}

subtest 'gzip by Accept-Encoding' => sub {
	my $r = get('/index.html', 'Accept-Encoding: gzip, deflate');
	is($r->{status}, 200, '200');
	is($r->{headers}{'content-encoding'}, 'gzip', 'Content-Encoding: gzip');
	is($r->{headers}{vary}, 'Accept-Encoding', 'Vary: Accept-Encoding');
	like($r->{headers}{etag} // '', qr{^W/"}, 'a weak ETag');
	is($r->{headers}{'content-length'}, length $r->{body},
	    'Content-Length is the compressed length');
	cmp_ok(length $r->{body}, '<', length($html) / 4, 'much smaller');
	is(gunzipped($r->{body}), $html, 'it gunzips to the file');

	$r = get('/index.html');
	ok(!exists $r->{headers}{'content-encoding'},
	    'no Accept-Encoding: as it is');
	is($r->{body}, $html, 'the file');
	is($r->{headers}{vary}, 'Accept-Encoding', 'still Vary');
	unlike($r->{headers}{etag} // '', qr{^W/}, 'the strong ETag');

	$r = get('/index.html', 'Accept-Encoding: gzip;q=0, identity');
	ok(!exists $r->{headers}{'content-encoding'}, 'gzip;q=0: as it is');
	$r = get('/index.html', 'Accept-Encoding: *');
	ok(defined $r->{headers}{'content-encoding'}, '"*": compressed');
	$r = get('/index.html', 'Accept-Encoding: GZIP;Q=0.5');
	is($r->{headers}{'content-encoding'}, 'gzip', 'case and q-values');
	$r = get('/style.css', 'Accept-Encoding: gzip');
	is($r->{headers}{'content-encoding'}, 'gzip', 'a gzip_types type');
	is(gunzipped($r->{body}), $css, 'the css');
};

subtest 'what is not compressed' => sub {
	my $r = get('/pic.png', 'Accept-Encoding: gzip');
	ok(!exists $r->{headers}{'content-encoding'}, 'image/png: not a type');
	ok(!exists $r->{headers}{vary}, 'and no Vary');
	is($r->{body}, $png, 'the file');
	$r = get('/tiny.html', 'Accept-Encoding: gzip');
	ok(!exists $r->{headers}{'content-encoding'},
	    'shorter than gzip_min_length');
	$r = get('/big.txt', 'Accept-Encoding: gzip');
	ok(!exists $r->{headers}{'content-encoding'},
	    'a 100k file (not held in memory): as it is');
	is(length($r->{body} // ''), length $big, 'whole');
	$r = get('/index.html', 'Accept-Encoding: gzip', 'Range: bytes=0-9');
	is($r->{status}, 206, 'a Range: 206');
	ok(!exists $r->{headers}{'content-encoding'}, 'of the file as it is');
	is($r->{body}, substr($html, 0, 10), 'its bytes');
	my $port = $s->port('https');
	my $other = $s->http("GET / HTTP/1.1\r\nHost: b\r\nAccept-Encoding: "
	    . "gzip\r\nConnection: close\r\n\r\n", port => $port);
	ok(!exists $other->{headers}{'content-encoding'},
	    'a block without gzip');
	ok(!exists $other->{headers}{vary}, 'and without Vary');
};

subtest 'gzip_types by default' => sub {
	my $port = $s->port('http');
	my $r = $s->http("GET /style.css HTTP/1.1\r\nHost: defaults.example\r\n"
	    . "Accept-Encoding: gzip\r\nConnection: close\r\n\r\n");
	is($r->{headers}{'content-encoding'}, 'gzip', 'text/css without '
	    . 'gzip_types: compressed (the default list)');
	is(gunzipped($r->{body}), $css, 'the css');
	$r = $s->http("GET /pic.png HTTP/1.1\r\nHost: defaults.example\r\n"
	    . "Accept-Encoding: gzip\r\nConnection: close\r\n\r\n");
	ok(!exists $r->{headers}{'content-encoding'}, 'image/png: not');
};

subtest 'preconditions and HEAD' => sub {
	my $r = get('/index.html', 'Accept-Encoding: gzip');
	my $etag = $r->{headers}{etag};
	$r = get('/index.html', 'Accept-Encoding: gzip', "If-None-Match: $etag");
	is($r->{status}, 304, 'If-None-Match with the weak ETag: 304');
	is($r->{headers}{etag}, $etag, 'the same ETag');
	$r = get('/index.html', 'Accept-Encoding: gzip', { method => 'HEAD',
	    head => 1 });
	is($r->{headers}{'content-encoding'}, 'gzip', 'HEAD: the same head');
	is($r->{body} // '', '', 'no body');
};

subtest 'brotli' => sub {
	my $r = get('/index.html', 'Accept-Encoding: gzip, br');
	is($r->{headers}{'content-encoding'}, 'br', 'br first when both');
	cmp_ok(length $r->{body}, '<', length($html) / 4, 'much smaller');
	$r = get('/index.html', 'Accept-Encoding: gzip;q=1, br;q=0.5');
	is($r->{headers}{'content-encoding'}, 'gzip', 'unless gzip has the '
	    . 'higher q');
	my $port = $s->port('http');
	my $out = `curl -s --compressed -H 'Accept-Encoding: br' http://127.0.0.1:$port/index.html`;
	is($out, $html, 'curl --compressed decodes the brotli to the file');
	$out = `curl -s --http2-prior-knowledge --compressed -D - -o /dev/null http://127.0.0.1:$port/style.css`;
	like($out, qr/^content-encoding: (br|gzip)/mi, 'over h2c too');
	$out = `curl -s --http2-prior-knowledge --compressed http://127.0.0.1:$port/style.css`;
	is($out, $css, 'and it decodes to the file');
};

$s->stop;
is($s->exit_status, 0, 'stop: exit status 0');
$s->log_clean_ok;

my @broken = (
	['gzip_comp_level 10', "http {\n listen 8080;\n gzip_comp_level 10;\n"
	    . "}\n", 3],
	['brotli_comp_level 12', "http {\n listen 8080;\n"
	    . " brotli_comp_level 12;\n}\n", 3],
	['a bad gzip_types', "http {\n listen 8080;\n gzip_types text/css\n"
	    . " css;\n}\n", 4],
	['gzip maybe', "http {\n listen 8080;\n gzip maybe;\n}\n", 3],
);
Forkloop->new(start => 0, config => { workers => 1 })
    ->config_errors_ok(\@broken);

done_testing();
