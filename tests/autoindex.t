#!/usr/bin/perl
# autoindex.t: folder listings, as nginx's autoindex: "autoindex on" in a
# location only (the block's off gives 403 for a folder without an index
# file), the HTML page (folders first, then files, each in byte order;
# names HTML-escaped, links percent-encoded and followed; sizes, dates,
# "../" except at the root), the JSON array (read with JSON::PP), hidden
# names left out unless hidden_files is on (/.well-known/ listed), a
# folder with an index file, HEAD, add_header and expires, try_files
# $uri/, no caching, the bound of 10000 entries, links that lead out of
# the root neither listed nor followed (follow_symlinks off) and listed
# with it on, a folder that cannot be read (403, logged), HTTP/2, and the
# config errors.

use strict;
use warnings;

use JSON::PP ();
use Test::More;
use Forkloop qw(config_errors_ok);

Forkloop::check_binary();
Forkloop::watchdog(120);

my $odd = "x <y> & z \xc3\xa9.txt";	# "<", "&", spaces, UTF-8 "é"
my $bad = "bad\xff.txt";		# a byte that is not UTF-8
my $mtime = 1583920800;			# Wed, 11 Mar 2020 10:00:00 GMT

my $s = Forkloop->new(start => 0, files => {
	'www/index.html' => "site index\n",
	'www/nolist/file.txt' => "f\n",
	'www/pub/a.txt' => 'x' x 1234,
	'www/pub/b.txt' => "hello",
	'www/pub/Zed.txt' => "zed\n",
	"www/pub/$odd" => "odd one\n",
	"www/pub/$bad" => "bad one\n",
	'www/pub/.secret' => "SECRET\n",
	'www/pub/.hiddendir/x.txt' => "x\n",
	'www/pub/sub/inner.txt' => "inner\n",
	'www/pub/withindex/index.html' => "the index\n",
	'www/pub/withindex/other.txt' => "other\n",
	'www/spa/app.js' => "js\n",
	'www2/f.txt' => "f2\n",
	'www2/sub/s.txt' => "s\n",
	'www2/.env' => "SECRET=1\n",
	'www2/.well-known/acme.txt' => "acme\n",
	'outside/secret.txt' => "OUTSIDE SECRET\n",
	'outside/dir/o.txt' => "o\n",
}, config => <<'CONF');
workers 1;
worker_connections 256;
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    root %%TESTDIR%%/www;
    location /pub/ {
        autoindex on;
        add_header X-Listing yes;
        expires 1h;
    }
    location /api/ {
        alias %%TESTDIR%%/www/pub/;
        autoindex on;
        autoindex_format json;
    }
    location /hid/ {
        alias %%TESTDIR%%/www/pub/;
        autoindex on;
        hidden_files on;
    }
    location /many/ {
        autoindex on;
        autoindex_format json;
    }
    location /spa/ {
        autoindex on;
        try_files $uri $uri/ =404;
    }
    location /locked/ {
        autoindex on;
    }
}
http {
    listen 127.0.0.1:%%PORT_ROOT%%;
    root %%TESTDIR%%/www2;
    autoindex on;
    location /follow/ {
        alias %%TESTDIR%%/www2/;
        follow_symlinks on;
    }
}
CONF

my $dir = $s->testdir;
mkdir "$dir/www/pub/alpha" or die "mkdir: $!";
mkdir "$dir/www/locked" or die "mkdir: $!";
symlink('/etc', "$dir/www2/etc") or die "symlink: $!";
symlink("$dir/outside/secret.txt", "$dir/www2/abs.txt") or die "symlink: $!";
symlink('../outside/dir', "$dir/www2/up") or die "symlink: $!";
symlink('sub', "$dir/www2/inner") or die "symlink: $!";
symlink('f.txt', "$dir/www2/g.txt") or die "symlink: $!";
symlink('nowhere', "$dir/www2/dangling") or die "symlink: $!";
mkdir "$dir/www/many" or die "mkdir: $!";
for my $i (1 .. 10010) {
	open(my $fh, '>', sprintf("$dir/www/many/f%05d", $i)) or die "$!";
	close $fh;
}
utime($mtime, $mtime, "$dir/www/pub/b.txt", "$dir/www/pub/sub")
    or die "utime: $!";
$s->run;

sub get {
	my ($path, %o) = @_;
	my $method = $o{method} // 'GET';
	return $s->http("$method $path HTTP/1.1\r\nHost: x\r\n"
	    . "Connection: close\r\n\r\n", %o,
	    port => $s->port($o{port} // 'http'));
}

sub hrefs { return $_[0] =~ /<a href="([^"]*)">/g }

subtest 'HTML: sorted, escaped, linked' => sub {
	my $r = get('/pub/');
	is($r->{status}, 200, '/pub/: 200');
	is($r->{headers}{'content-type'}, 'text/html; charset=utf-8',
	    'text/html');
	my $body = $r->{body};
	like($body, qr{<title>Index of /pub/</title>}, 'the title');
	like($body, qr{<h1>Index of /pub/</h1>}, 'the heading');
	is_deeply([hrefs($body)], ['../', 'alpha/', 'sub/', 'withindex/',
	    'Zed.txt',
	    'a.txt', 'b.txt', 'bad%FF.txt', 'x%20%3Cy%3E%20%26%20z%20%C3%A9.txt'],
	    '"../", folders, then files, in byte order; links percent-encoded')
	    or diag($body);
	like($body, qr{>x &lt;y&gt; &amp; z \xc3\xa9\.txt</a>},
	    'the name HTML-escaped, its UTF-8 kept');
	like($body, qr{>bad&#xFFFD;\.txt</a>},
	    'a byte that is not UTF-8 shown as U+FFFD');
	unlike($body, qr{<y>}, 'no markup from a name');
	like($body, qr{^<a href="a\.txt">a\.txt</a> {45} \d\d-\w\w\w-\d{4} \d\d:\d\d {16}1234\r$}m,
	    'a file: padded to column 50, its date, its size');
	like($body, qr{^<a href="b\.txt">b\.txt</a> +11-Mar-2020 10:00 +5\r$}m,
	    'the date as dd-Mon-yyyy hh:mm, UTC');
	like($body, qr{^<a href="sub/">sub/</a> +11-Mar-2020 10:00 +-\r$}m,
	    'a folder: "-" for its size');
	like($body, qr{^<html>\r\n<head>.*</pre><hr></body>\r\n</html>\r\n\z}s,
	    'the page as nginx writes it');
	is($r->{headers}{'x-listing'}, 'yes', 'the location\'s add_header');
	like($r->{headers}{'cache-control'} // '', qr/max-age=3600/,
	    'and its expires');
	ok(!exists $r->{headers}{'last-modified'}, 'no Last-Modified');

	for my $href (grep { $_ ne '../' } hrefs($body)) {
		my $f = get("/pub/$href");
		is($f->{status}, 200, "the link $href answers 200");
	}
	is(get('/pub/x%20%3Cy%3E%20%26%20z%20%C3%A9.txt')->{body}, "odd one\n",
	    'the odd name\'s link leads to its file');
	is(get('/pub/bad%FF.txt')->{body}, "bad one\n",
	    'and the one that is not UTF-8');
	like(get('/pub/sub/')->{body}, qr{<a href="inner\.txt">},
	    'a folder\'s link leads to its listing');
	is(get('/pub/../')->{body}, "site index\n", '"../": the parent');
};

subtest 'JSON' => sub {
	my $r = get('/api/');
	is($r->{status}, 200, '/api/: 200');
	is($r->{headers}{'content-type'}, 'application/json',
	    'application/json');
	ok(!exists $r->{headers}{'cache-control'}, 'no Cache-Control');
	my $list = eval { JSON::PP->new->utf8->decode($r->{body}) };
	ok(ref $list eq 'ARRAY', 'a JSON array') or diag($@, $r->{body});
	$list ||= [];
	is_deeply([map { $_->{name} } @$list], ['alpha', 'sub', 'withindex',
	    'Zed.txt',
	    'a.txt', 'b.txt', "bad\x{fffd}.txt", "x <y> & z \x{e9}.txt"],
	    'names, sorted as the HTML page, JSON-escaped');
	my %by = map { $_->{name} => $_ } @$list;
	is($by{alpha}{type}, 'directory', 'a folder: "directory"');
	ok(!exists $by{alpha}{size}, 'without a size');
	is($by{'a.txt'}{type}, 'file', 'a file: "file"');
	is($by{'a.txt'}{size}, 1234, 'with its size');
	is($by{'b.txt'}{mtime}, 'Wed, 11 Mar 2020 10:00:00 GMT',
	    'mtime as nginx writes it');
	like($r->{body}, qr/^\[\r\n\{ "name":"alpha", "type":"directory", "mtime":"[^"]+" \},\r\n/,
	    'laid out as nginx does');
};

subtest 'hidden files' => sub {
	my $body = get('/pub/')->{body};
	unlike($body, qr/\.secret|\.hiddendir/, 'names with "." left out');
	is(get('/pub/.hiddendir/')->{status}, 404, 'a hidden folder: 404');
	my @h = hrefs(get('/hid/')->{body});
	ok((grep { $_ eq '.hiddendir/' } @h) && (grep { $_ eq '.secret' } @h),
	    'hidden_files on: listed') or diag("@h");
	like(get('/hid/.hiddendir/')->{body}, qr{<a href="x\.txt">},
	    'and the hidden folder is listed');
	my @root = hrefs(get('/', port => 'root')->{body});
	ok((grep { $_ eq '.well-known/' } @root), '/.well-known/ listed');
	ok(!(grep { $_ eq '.env' } @root), 'but not .env');
	like(get('/.well-known/', port => 'root')->{body},
	    qr{<a href="acme\.txt">}, '/.well-known/ is listed itself');
};

subtest 'off, index, HEAD, methods, no cache, try_files' => sub {
	my $r = get('/nolist/');
	is($r->{status}, 403, 'autoindex off (the block): a folder without '
	    . 'an index file is 403, as nginx');
	is(get('/nolist/file.txt')->{body}, "f\n", 'its file is served');
	is(get('/pub/withindex/')->{body}, "the index\n",
	    'a folder with an index file: the index, not the listing');
	is(get('/pub/nonesuch/')->{status}, 404, 'no such folder: 404');
	is(get('/pub/a.txt/')->{status}, 404, 'a file named as a folder: 404');
	is(get('/pub/sub')->{status}, 301, 'no slash: 301 first');
	my $g = get('/pub/');
	$r = get('/pub/', method => 'HEAD', head => 1);
	is($r->{status}, 200, 'HEAD: 200');
	is($r->{headers}{'content-length'}, length($g->{body}),
	    'HEAD: the length of the GET');
	is($r->{body} // '', '', 'HEAD: no body');
	is(get('/pub/', method => 'POST')->{status}, 405, 'POST: 405');
	$s->write_file('www/pub/c.txt', "new\n");
	like(get('/pub/')->{body}, qr{<a href="c\.txt">},
	    'a new file shows at once: not cached');
	unlink $s->path('www/pub/c.txt');
	unlike(get('/pub/')->{body}, qr{c\.txt}, 'and a removed one goes');
	like(get('/spa/')->{body}, qr{<a href="app\.js">},
	    'try_files $uri $uri/: the folder listed');
	is(get('/spa/missing/')->{status}, 404, 'and =404 for none');
};

subtest 'at most 10000 entries' => sub {
	my $r = get('/many/');
	is($r->{status}, 200, '10010 files: 200');
	my $list = eval { JSON::PP->new->utf8->decode($r->{body}) } || [];
	is(scalar @$list, 10000, '10000 of them listed');
};

subtest 'links that lead out of the root' => sub {
	my $r = get('/', port => 'root');
	is($r->{status}, 200, 'the root listed (autoindex on in the block)');
	my @h = hrefs($r->{body});
	is($h[0], '.well-known/', 'no "../" at the root');
	is_deeply([grep { !/^\./ } @h], ['inner/', 'sub/', 'f.txt', 'g.txt'],
	    'links inside the root listed as what they lead to; /etc, an '
	    . 'absolute link, one out of the root and a dangling one are not')
	    or diag("@h");
	like($r->{body}, qr{<a href="g\.txt">g\.txt</a> +\S+ \S+ +3\r$}m,
	    'g.txt -> f.txt: f.txt\'s size');
	unlike($r->{body}, qr{OUTSIDE|passwd}, 'nothing from outside');
	for my $path ('/etc/', '/etc/passwd', '/abs.txt', '/up/', '/up/o.txt') {
		my $o = get($path, port => 'root');
		is($o->{status}, 404, "$path: 404");
		unlike($o->{body} // '', qr{OUTSIDE|root:|o\.txt},
		    "$path: nothing of it");
	}
	like(get('/inner/', port => 'root')->{body}, qr{<a href="s\.txt">},
	    'a link to a folder inside: listed');
	@h = hrefs(get('/follow/', port => 'root')->{body});
	ok((grep { $_ eq 'up/' } @h) && (grep { $_ eq 'abs.txt' } @h),
	    'follow_symlinks on: links that lead out are listed')
	    or diag("@h");
	like(get('/follow/up/', port => 'root')->{body}, qr{<a href="o\.txt">},
	    'and followed');
};

SKIP: {
	skip 'root reads any folder', 3 if $> == 0;
	chmod 0, $s->path('www/locked');
	is(get('/locked/')->{status}, 403, 'a folder it may not search: '
	    . '403, as for its index file');
	chmod 0111, $s->path('www/locked');
	my $mark = $s->log_mark;
	is(get('/locked/')->{status}, 403, 'one it may search but not read: '
	    . '403');
	like($s->log_since($mark), qr/autoindex: opening the folder .*locked.*: Permission denied/,
	    'logged with what and why');
	chmod 0755, $s->path('www/locked');
}

subtest 'HTTP/2' => sub {
	my $curl = `command -v curl 2>/dev/null`;
	chomp $curl;
	plan skip_all => 'no curl' unless $curl;
	my $port = $s->port('root');
	my $out = `curl -s --http2-prior-knowledge -D - http://127.0.0.1:$port/sub/`;
	like($out, qr{^HTTP/2 200}m, 'h2c: 200');
	like($out, qr{^content-type: text/html; charset=utf-8}mi, 'text/html');
	like($out, qr{<h1>Index of /sub/</h1>.*<a href="s\.txt">s\.txt</a>}s,
	    'the listing');
};

is($s->stop, 0, 'stop: exit status 0');
$s->log_clean_ok;

config_errors_ok($s, [
	['autoindex maybe', "http {\n listen 8080;\n autoindex\n maybe;\n}\n",
	    4],
	['autoindex_format xml', "http {\n listen 8080;\n location /a/ {\n"
	    . "  autoindex_format xml;\n }\n}\n", 4],
	['autoindex in an echo block', "echo {\n listen 8080;\n"
	    . " autoindex on;\n}\n", 3],
]);

done_testing();
