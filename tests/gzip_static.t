#!/usr/bin/perl
# gzip_static.t: gzip_static and brotli_static, as nginx's and
# ngx_brotli's: FILE.gz / FILE.br sent for FILE when the client accepts
# the coding (q-values, q=0 refuses, br first on a tie, the other when
# one is missing), the variant is a regular file under the root and not
# older than FILE; its bytes exactly, with FILE's type, Content-Encoding,
# Vary, an ETag of its own with the coding as a suffix, its
# Last-Modified, 304 by that ETag, Range on the compressed bytes (one
# range and several), HEAD; index files; "always"; locations; no
# on-the-fly gzip when a variant is sent; hidden names stay hidden; a
# stale, symlinked-outside or folder FILE.gz is passed over; a FILE
# edited after its FILE.gz is seen; over HTTP/1.1 and h2c (curl); the
# config errors.

use strict;
use warnings;

use Test::More;
use File::Path qw(make_path);
use IO::Compress::Gzip qw(gzip $GzipError);
use IO::Uncompress::Gunzip qw(gunzip $GunzipError);
use POSIX qw(strftime);
use Forkloop;

Forkloop::check_binary();
Forkloop::watchdog(90);

sub gz {
	my ($text) = @_;
	my $out;
	gzip(\$text => \$out, -Level => 9, Name => 'precompressed')
	    or die "gzip: $GzipError";
	return $out;
}

sub gunzipped {
	my ($data) = @_;
	my $out;
	gunzip(\$data => \$out) or return "gunzip: $GunzipError";
	return $out;
}

my $css = "body { color: black; }\n" x 100;
my $js = "console.log('only a .gz');\n" x 50;
my $html = join('', map { "<p>line $_ of a page</p>\n" } 1 .. 200);
my $br = Forkloop::pseudo_random_bytes(700, 3);	# bytes, not decoded
my $big = Forkloop::pseudo_random_bytes(200 * 1024, 5);
my $biggz = Forkloop::pseudo_random_bytes(150 * 1024, 7);

my %files = (
	'www/a.css' => $css, 'www/a.css.gz' => gz($css),
	'www/a.css.br' => $br,
	'www/b.js' => $js, 'www/b.js.gz' => gz($js),
	'www/stale.css' => $css, 'www/stale.css.gz' => gz("stale\n"),
	'www/link.css' => $css, 'outside/link.css.gz' => gz("outside\n"),
	'www/dir.css' => $css,
	'www/edit.css' => $css, 'www/edit.css.gz' => gz($css),
	'www/sub/index.html' => $html, 'www/sub/index.html.gz' => gz($html),
	'www/.secret.css' => $css, 'www/.secret.css.gz' => gz($css),
	'www/big.bin' => $big, 'www/big.bin.gz' => $biggz,
	'www/off/a.css' => $css, 'www/off/a.css.gz' => gz($css),
	'www/always/a.css' => $css, 'www/always/a.css.gz' => gz($css),
	'fly/page.html' => $html, 'fly/page.html.gz' => gz($html),
	'fly/other.html' => $html,
);
my $s = Forkloop->new(start => 0, files => \%files, config => <<'CONF');
workers 1;
worker_connections 256;
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    root %%TESTDIR%%/www;
    http2 on;
    gzip_static on;
    brotli_static on;
    location /off/ {
        gzip_static off;
        brotli_static off;
    }
    location /always/ {
        gzip_static always;
    }
}
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    server_name fly.example;
    root %%TESTDIR%%/fly;
    gzip on;
    gzip_static on;
}
CONF
my $dir = $s->testdir;
# A stale FILE.gz: a day older than FILE.
utime(time - 86400, time - 86400, "$dir/www/stale.css.gz") or die $!;
# FILE.gz a symlink to a file outside the root; FILE.gz a folder.
symlink("$dir/outside/link.css.gz", "$dir/www/link.css.gz") or die $!;
make_path("$dir/www/dir.css.gz");
# Files in the past, their variants a minute newer, so "not older" holds
# whatever order they were written in.
for my $f (grep { !/stale|link|dir\.css/ } keys %files) {
	my $t = time - ($f =~ /\.(gz|br)\z/ ? 100 : 160);
	utime($t, $t, "$dir/$f") or die "$f: $!";
}
$s->run;
my $port = $s->port('http');

sub get {
	my ($target, @headers) = @_;
	my %o = (ref $headers[-1] eq 'HASH') ? %{ pop @headers } : ();
	my $method = $o{method} // 'GET';
	my $host = $o{host} // 'a.example';
	return $s->http("$method $target HTTP/1.1\r\nHost: $host\r\n"
	    . join('', map { "$_\r\n" } @headers)
	    . "Connection: close\r\n\r\n", %o);
}

sub http_date {
	return strftime('%a, %d %b %Y %H:%M:%S GMT', gmtime($_[0]));
}

subtest 'FILE.gz when gzip is accepted' => sub {
	my $gzfile = $s->read_file('www/a.css.gz');
	my $r = get('/a.css', 'Accept-Encoding: gzip, deflate');
	is($r->{status}, 200, 'status 200');
	is($r->{headers}{'content-encoding'}, 'gzip', 'Content-Encoding: gzip');
	ok($r->{body} eq $gzfile, 'the bytes of a.css.gz, exactly');
	is(gunzipped($r->{body}), $css, 'which decompress to a.css');
	like($r->{headers}{'content-type'}, qr{^text/css(;|\z)}, "a.css's type");
	is($r->{headers}{'content-length'}, length $gzfile, 'its length');
	is($r->{headers}{vary}, 'Accept-Encoding', 'Vary: Accept-Encoding');
	is($r->{headers}{'accept-ranges'}, 'bytes', 'Accept-Ranges: bytes');
	my @st = stat("$dir/www/a.css.gz");
	is($r->{headers}{'last-modified'}, http_date($st[9]),
	    "Last-Modified: a.css.gz's");
	my $etag = sprintf('"%x-%x-gz"', $st[9], $st[7]);
	is($r->{headers}{etag}, $etag, "ETag: a.css.gz's, with -gz");

	my $id = get('/a.css');
	is($id->{headers}{'content-encoding'}, undef, 'without '
	    . 'Accept-Encoding: as it is');
	ok($id->{body} eq $css, 'the bytes of a.css');
	isnt($id->{headers}{etag}, $r->{headers}{etag},
	    'an ETag of its own');
	is($id->{headers}{vary}, 'Accept-Encoding', 'Vary there too');
	is($id->{headers}{'content-type'}, $r->{headers}{'content-type'},
	    'the same type');

	# b.js has no .br: curl would ask for br, which it could not decode
	# from a.css.br's made-up bytes.
	my $out = `curl -s --compressed http://127.0.0.1:$port/b.js`;
	is($out, $js, 'curl --compressed decodes b.js.gz to b.js');
	$out = `curl -s --compressed -D - -o /dev/null http://127.0.0.1:$port/b.js`;
	like($out, qr/^content-encoding: gzip\r$/mi, 'it was compressed');
};

subtest 'q-values' => sub {
	my %want = (
		'gzip;q=0' => undef,
		'gzip; q=0.000' => undef,
		'identity' => undef,
		'*;q=0' => undef,
		'deflate' => undef,
		'gzip;q=0.001' => 'gzip',
		'GZIP' => 'gzip',
		'*' => 'br',
		'gzip, br' => 'br',
		'br;q=1, gzip;q=1' => 'br',
		'gzip;q=1, br;q=0.5' => 'gzip',
		'br;q=0, gzip' => 'gzip',
		'br' => 'br',
	);
	for my $ae (sort keys %want) {
		my $r = get('/a.css', "Accept-Encoding: $ae");
		is($r->{headers}{'content-encoding'}, $want{$ae},
		    "Accept-Encoding: $ae: " . ($want{$ae} // 'as it is'));
	}
	my $r = get('/a.css', 'Accept-Encoding: br');
	ok($r->{body} eq $br, 'the bytes of a.css.br');
	my @st = stat("$dir/www/a.css.br");
	is($r->{headers}{etag}, sprintf('"%x-%x-br"', $st[9], $st[7]),
	    'ETag with -br');
	$r = get('/a.css', 'Accept-Encoding: gzip;q=0', 'Accept-Encoding: gzip');
	is($r->{headers}{'content-encoding'}, 'gzip', 'two lines: the best');
	$r = get('/b.js', 'Accept-Encoding: br, gzip');
	is($r->{headers}{'content-encoding'}, 'gzip', 'br missing: gzip');
	is(gunzipped($r->{body}), $js, 'b.js.gz');
	like($r->{headers}{'content-type'}, qr{^text/javascript(;|\z)},
	    "b.js's type");
	$r = get('/b.js', 'Accept-Encoding: br');
	is($r->{headers}{'content-encoding'}, undef, 'br only, no .br: as it is');
	ok($r->{body} eq $js, 'b.js');
};

subtest 'variants passed over' => sub {
	my $r = get('/stale.css', 'Accept-Encoding: gzip');
	is($r->{status}, 200, 'stale: 200');
	is($r->{headers}{'content-encoding'}, undef, 'a FILE.gz older than '
	    . 'FILE is not sent');
	ok($r->{body} eq $css, 'FILE is');
	$r = get('/link.css', 'Accept-Encoding: gzip');
	is($r->{headers}{'content-encoding'}, undef, 'a FILE.gz symlinked '
	    . 'outside the root is not sent');
	ok($r->{body} eq $css, 'FILE is');
	$r = get('/dir.css', 'Accept-Encoding: gzip');
	is($r->{headers}{'content-encoding'}, undef, 'a folder FILE.gz is not '
	    . 'sent');
	ok($r->{body} eq $css, 'FILE is');
	$r = get('/.secret.css', 'Accept-Encoding: gzip');
	is($r->{status}, 404, 'a hidden FILE stays hidden with its FILE.gz');
	$r = get('/.secret.css.gz');
	is($r->{status}, 404, 'and its FILE.gz');
	$r = get('/off/a.css', 'Accept-Encoding: gzip, br');
	is($r->{headers}{'content-encoding'}, undef, 'gzip_static off in a '
	    . 'location');
	ok($r->{body} eq $css, 'FILE');
	$r = get('/missing.css', 'Accept-Encoding: gzip');
	is($r->{status}, 404, 'no FILE: 404 even if FILE.gz were there');
};

subtest 'always, index files, a large variant' => sub {
	my $r = get('/always/a.css');
	is($r->{headers}{'content-encoding'}, 'gzip', 'always: without '
	    . 'Accept-Encoding');
	$r = get('/always/a.css', 'Accept-Encoding: gzip;q=0');
	is($r->{headers}{'content-encoding'}, 'gzip', 'always: even q=0');
	$r = get('/sub/', 'Accept-Encoding: gzip');
	is($r->{headers}{'content-encoding'}, 'gzip', 'an index file\'s .gz');
	like($r->{headers}{'content-type'}, qr{^text/html(;|\z)}, 'text/html');
	is(gunzipped($r->{body}), $html, 'index.html.gz');
	$r = get('/big.bin', 'Accept-Encoding: gzip');
	is($r->{headers}{'content-encoding'}, 'gzip', 'a 150k variant');
	ok($r->{body} eq $biggz, 'its bytes, from the file');
	is($r->{headers}{'content-type'}, 'application/octet-stream',
	    "big.bin's type");
};

subtest 'HEAD, 304, Range on the compressed bytes' => sub {
	my $gzfile = $s->read_file('www/a.css.gz');
	my $r = get('/a.css', 'Accept-Encoding: gzip', { method => 'HEAD' });
	is($r->{status}, 200, 'HEAD: 200');
	is($r->{headers}{'content-encoding'}, 'gzip', 'Content-Encoding');
	is($r->{headers}{'content-length'}, length $gzfile, "the .gz's length");
	my $etag = get('/a.css', 'Accept-Encoding: gzip')->{headers}{etag};
	$r = get('/a.css', 'Accept-Encoding: gzip', "If-None-Match: $etag");
	is($r->{status}, 304, '304 by the .gz ETag');
	is($r->{headers}{etag}, $etag, 'with it');
	is($r->{headers}{vary}, 'Accept-Encoding', 'and Vary');
	$r = get('/a.css', "If-None-Match: $etag");
	is($r->{status}, 200, 'the .gz ETag does not match the file');
	my $lm = get('/a.css', 'Accept-Encoding: gzip')
	    ->{headers}{'last-modified'};
	$r = get('/a.css', 'Accept-Encoding: gzip', "If-Modified-Since: $lm");
	is($r->{status}, 304, '304 by its Last-Modified');
	$r = get('/a.css', 'Accept-Encoding: gzip', 'If-Match: "nope"');
	is($r->{status}, 412, 'If-Match of another tag: 412');

	$r = get('/a.css', 'Accept-Encoding: gzip', 'Range: bytes=0-9');
	is($r->{status}, 206, 'Range: 206');
	is($r->{headers}{'content-encoding'}, 'gzip', 'of the .gz');
	is($r->{headers}{'content-range'}, 'bytes 0-9/' . length $gzfile,
	    'Content-Range of the compressed bytes');
	ok($r->{body} eq substr($gzfile, 0, 10), 'its first ten bytes');
	$r = get('/a.css', 'Accept-Encoding: gzip', 'Range: bytes=-5',
	    "If-Range: $etag");
	is($r->{status}, 206, 'If-Range with the .gz ETag: 206');
	ok($r->{body} eq substr($gzfile, -5), 'the last five');
	$r = get('/a.css', 'Accept-Encoding: gzip',
	    'Range: bytes=99999-');
	is($r->{status}, 416, 'past the .gz: 416');
	is($r->{headers}{'content-range'}, 'bytes */' . length $gzfile,
	    'bytes */its size');
	$r = get('/a.css', 'Accept-Encoding: gzip', 'Range: bytes=0-1,10-12');
	is($r->{status}, 206, 'two ranges: 206');
	like($r->{headers}{'content-type'} // '',
	    qr{^multipart/byteranges; boundary=\S+$}, 'multipart');
	is($r->{headers}{'content-encoding'}, undef, 'no coding on the '
	    . 'multipart body itself');
	my $part = 'Content-Type: text/css[^\r]*\r\nContent-Encoding: gzip\r\n'
	    . 'Content-Range: bytes 0-1/\d+\r\n\r\n\x1f\x8b\r\n';
	like($r->{body}, qr{$part}, 'each part says its coding');
	my $big = $s->read_file('www/big.bin.gz');
	$r = get('/big.bin', 'Accept-Encoding: gzip',
	    'Range: bytes=100000-100099');
	is($r->{status}, 206, 'a range of the large variant');
	ok($r->{body} eq substr($big, 100000, 100), 'its bytes');
};

subtest 'no gzip on the fly for a variant' => sub {
	my $gzfile = $s->read_file('fly/page.html.gz');
	my $r = get('/page.html', 'Accept-Encoding: gzip',
	    { host => 'fly.example' });
	is($r->{headers}{'content-encoding'}, 'gzip', 'gzip');
	ok($r->{body} eq $gzfile, 'the bytes of page.html.gz, not compressed '
	    . 'again');
	unlike($r->{headers}{etag} // '', qr{^W/}, 'a strong ETag');
	$r = get('/other.html', 'Accept-Encoding: gzip',
	    { host => 'fly.example' });
	is($r->{headers}{'content-encoding'}, 'gzip', 'no FILE.gz: on the fly');
	like($r->{headers}{etag} // '', qr{^W/}, 'a weak ETag');
	is(gunzipped($r->{body}), $html, 'of the file');
};

subtest 'h2c' => sub {
	my $gzfile = $s->read_file('www/a.css.gz');
	my $out = `curl -s --http2-prior-knowledge --compressed -D - -o /dev/null http://127.0.0.1:$port/b.js`;
	like($out, qr{^HTTP/2 200}m, 'h2c: 200');
	like($out, qr/^content-encoding: gzip\r$/mi, 'Content-Encoding: gzip');
	like($out, qr/^etag: "[0-9a-f]+-[0-9a-f]+-gz"\r$/mi, 'the .gz ETag');
	$out = `curl -s --http2-prior-knowledge --compressed http://127.0.0.1:$port/b.js`;
	is($out, $js, 'curl decodes it to the file');
	$out = `curl -s --http2-prior-knowledge -H 'Accept-Encoding: gzip' http://127.0.0.1:$port/a.css`;
	ok($out eq $gzfile, 'the bytes of a.css.gz');
	$out = `curl -s --http2-prior-knowledge -H 'Accept-Encoding: gzip' -r 5-14 http://127.0.0.1:$port/a.css`;
	ok($out eq substr($gzfile, 5, 10), 'a range of them');
	my $big = $s->read_file('www/big.bin.gz');
	$out = `curl -s --http2-prior-knowledge -H 'Accept-Encoding: gzip' http://127.0.0.1:$port/big.bin`;
	ok($out eq $big, 'the large variant');
	$out = `curl -s --http2-prior-knowledge -I -H 'Accept-Encoding: gzip' http://127.0.0.1:$port/a.css`;
	like($out, qr/^content-length: ${\ length $gzfile}\r$/mi, 'HEAD');
};

subtest 'FILE edited after FILE.gz' => sub {
	my $r = get('/edit.css', 'Accept-Encoding: gzip');
	is($r->{headers}{'content-encoding'}, 'gzip', 'before: FILE.gz');
	my $new = "p { color: red; }\n" x 50;
	$s->write_file('www/edit.css', $new);
	utime(time + 5, time + 5, "$dir/www/edit.css") or die $!;
	# The cache looks at a file again after a second: bounded wait.
	my $seen;
	for (1 .. 40) {
		$r = get('/edit.css', 'Accept-Encoding: gzip');
		if (!defined $r->{headers}{'content-encoding'}) {
			$seen = 1;
			last;
		}
		select(undef, undef, undef, 0.1);
	}
	ok($seen, 'after: the now stale FILE.gz is passed over');
	ok(defined $r->{body} && $r->{body} eq $new, 'the new FILE is sent');
};

$s->stop;
is($s->exit_status, 0, 'stop: exit status 0');
$s->log_clean_ok;

my @broken = (
	['gzip_static maybe', "http {\n listen 8080;\n gzip_static maybe;\n"
	    . "}\n", 3],
	['brotli_static yes', "http {\n listen 8080;\n location / {\n"
	    . "  brotli_static yes;\n }\n}\n", 4],
	['gzip_static with two values', "http {\n listen 8080;\n"
	    . " gzip_static on off;\n}\n", 3],
	['gzip_static at the top', "gzip_static on;\n", 1],
);
Forkloop->new(start => 0, config => { workers => 1 })
    ->config_errors_ok(\@broken);

done_testing();
