#!/usr/bin/perl
# http_conformance.t: the HTTP engine of issue 3 against the MUSTs of
# RFC 9110 (semantics) and RFC 9112 (HTTP/1.1), one subtest per behaviour,
# over raw sockets (Forkloop::Raw): persistence and pipelining, requests in
# pieces, long request lines, absolute-form, HEAD, methods, bodies
# (Content-Length, chunked, 100-continue, limits), the mapping of paths to
# files (decoding, dot segments, directories, traversal, symlinks),
# validators and preconditions, ranges, MIME types, the Date and Server
# fields, framing of every response, Connection: close, the head and
# timeout limits, lingering close, the access log and OPTIONS *.
#
# Section numbers in test names are RFC 9110's ("9110 13.1.2") or RFC
# 9112's ("9112 6.3").

use strict;
use warnings;

use Test::More;
use Socket qw(PF_INET SOCK_STREAM SOL_SOCKET SO_RCVBUF pack_sockaddr_in inet_aton);
use Time::HiRes qw(time sleep);
use Time::Local qw(timegm);
use Forkloop qw(wait_for pseudo_random_bytes);
use Forkloop::Raw qw(exchange show status_is);

Forkloop::check_binary();
Forkloop::watchdog(240);

my $secret = "SECRET-$$-outside-the-root\n";
my $index = "<!doctype html>\n<title>forkloop</title>\n<p>index</p>\n";
my $sub_index = "<p>the index of /sub/</p>\n";
my $a_txt = "file a\n";
my $b_txt = "file b, a little longer\n";
my $big = pseudo_random_bytes(200_000, 9110);
my $max_body = 8192;
my $default_type = 'application/x-forkloop-default';

# 2020-01-02 03:04:05 UTC, a Thursday: the mtime of dated.txt.
my $mtime = timegm(5, 4, 3, 2, 0, 2020);
my %date_forms = (
	'IMF-fixdate' => 'Thu, 02 Jan 2020 03:04:05 GMT',
	'RFC 850' => 'Thursday, 02-Jan-20 03:04:05 GMT',
	'asctime' => 'Thu Jan  2 03:04:05 2020',
);

my %files = (
	'secret.txt' => $secret,
	'www/index.html' => $index,
	'www/a.txt' => $a_txt,
	'www/b.txt' => $b_txt,
	'www/big.bin' => $big,
	'www/dated.txt' => "dated\n",
	'www/future.txt' => "from the future\n",
	'www/%61.txt' => "the file named %61.txt\n",
	'www/page.html' => "<p>page</p>\n",
	'www/style.css' => "body { color: black; }\n",
	'www/app.js' => "console.log('hi');\n",
	'www/img.png' => "\x89PNG\r\n\x1a\n" . ("\0" x 32),
	'www/data.json' => "{\"a\": 1}\n",
	'www/UPPER.TXT' => "upper\n",
	'www/file.qqq' => "unknown extension\n",
	'www/noext' => "no extension\n",
	(map { ("www/t.$_" => "type $_\n") }
	    qw(3gp docx jpe m3u8 mov odt ts xlsx yml zip)),
	'www/sub/index.html' => $sub_index,
	'www/shrinks.bin' => pseudo_random_bytes(150_000, 6),
	'www/huge.bin' => "\0" x (16 << 20),
	'www/sub/deep.txt' => "deep\n",
	'www/empty-dir/.keep' => '',
);

# Symbolic links, made before the server starts.
sub make_links {
	my ($srv) = @_;
	my $dir = $srv->testdir;
	symlink('a.txt', "$dir/www/link-in.txt") or die "symlink: $!";
	symlink('sub', "$dir/www/link-dir") or die "symlink: $!";
	symlink('../secret.txt', "$dir/www/link-out.txt") or die "symlink: $!";
	symlink("$dir/secret.txt", "$dir/www/link-abs.txt")
	    or die "symlink: $!";
	symlink('..', "$dir/www/link-up") or die "symlink: $!";
	utime($mtime, $mtime, "$dir/www/dated.txt") or die "utime: $!";
	my $future = timegm(0, 0, 0, 1, 0, 2099);
	utime($future, $future, "$dir/www/future.txt") or die "utime: $!";
}

my $s = Forkloop->new(start => 0, files => \%files, config => {
    workers => 2,
    http => { max_body_size => $max_body, default_type => $default_type } });
make_links($s);
$s->run;
my $PORT = $s->port('http');

###########################################################################
# Helpers.

# The bytes of one request.  "Connection: close" unless keepalive (for
# 1.1; a 1.0 request asks for keep-alive with keepalive => 1).
sub req {
	my ($method, $target, %o) = @_;
	my $v = $o{version} // '1.1';
	my $r = "$method $target HTTP/$v\r\n";
	$r .= "Host: localhost\r\n" unless $o{no_host};
	if ($v eq '1.0') {
		$r .= "Connection: keep-alive\r\n" if $o{keepalive};
	} elsif (!$o{keepalive}) {
		$r .= "Connection: close\r\n";
	}
	my @h = @{ $o{headers} || [] };
	while (my ($k, $val) = splice(@h, 0, 2)) {
		$r .= "$k: $val\r\n";
	}
	$r .= 'Content-Length: ' . length($o{body}) . "\r\n"
	    if defined $o{body} && !$o{no_length};
	return $r . "\r\n" . ($o{body} // '');
}

# One request on a new connection: its first response, or a stand-in
# with status 0 and error set.
sub one {
	my ($bytes, %o) = @_;
	my $head = $o{head} // ($bytes =~ /^HEAD / ? 1 : 0);
	my $x = exchange($o{port} // $PORT, $bytes, head => $head,
	    timeout => $o{timeout} // 5);
	return $x->{responses}[0] // { status => 0, headers => {},
	    count => {}, body => undef, error => $x->{error} // '?' };
}

sub get {
	my ($target, %o) = @_;
	return one(req($o{method} // 'GET', $target, %o), %o);
}

sub slurp {
	my ($path) = @_;
	open(my $fh, '<', $path) or return '';
	local $/;
	return scalar(<$fh>) // '';
}

sub conn { Forkloop::Raw->new(port => $_[0] // $PORT, timeout => 5) }

# Seconds since the epoch from an IMF-fixdate, or undef.
my %MON = (Jan => 0, Feb => 1, Mar => 2, Apr => 3, May => 4, Jun => 5,
    Jul => 6, Aug => 7, Sep => 8, Oct => 9, Nov => 10, Dec => 11);
sub imf_fixdate {
	my ($d) = @_;
	return undef unless defined $d && $d =~ /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),
	    [ ](\d\d)[ ](Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)
	    [ ](\d{4})[ ](\d\d):(\d\d):(\d\d)[ ]GMT\z/x;
	my $t = eval { timegm($6, $5, $4, $1, $MON{$2}, $3) };
	return undef unless defined $t;
	# The weekday must be the date's.
	my $wd = (qw(Sun Mon Tue Wed Thu Fri Sat))[(gmtime $t)[6]];
	return substr($d, 0, 3) eq $wd ? $t : undef;
}

###########################################################################

subtest 'HTTP/1.1 connections persist by default (9112 9.3)' => sub {
	my $c = conn();
	$c->send(req('GET', '/a.txt', keepalive => 1));
	my $r1 = $c->response;
	status_is($r1, 200, 'first request: 200') or return;
	is($r1->{body}, $a_txt, 'first request: a.txt');
	unlike($r1->{headers}{connection} // '', qr/close/i,
	    'no "Connection: close" on a 1.1 request without it');
	$c->send(req('GET', '/b.txt', keepalive => 1));
	my $r2 = $c->response;
	is($r2 && $r2->{body}, $b_txt, 'a second request on the connection')
	    or diag($c->error);
	ok(!$c->wait_closed(0.3), 'the connection stays open');
	$c->send(req('GET', '/a.txt'));
	my $r3 = $c->response;
	is($r3 && $r3->{body}, $a_txt, 'a third with Connection: close');
	like($r3 && $r3->{headers}{connection} // '', qr/\bclose\b/i,
	    '... answered with Connection: close (9112 9.6)');
	ok($c->wait_closed(3), '... and then the server closes (9112 9.6)');
	is($c->buffer, '', '... with nothing after the response');

	# Nothing after a request with "close" is processed (9112 9.6).
	my $x = exchange($PORT, req('GET', '/a.txt') . req('GET', '/b.txt'),
	    responses => 2, wait_close => 3);
	is(scalar @{ $x->{responses} }, 1,
	    'a request pipelined after "Connection: close": not answered');
	ok($x->{closed}, '... the connection is closed');
};

subtest 'HTTP/1.0: closes unless keep-alive is asked for (9112 9.3)' => sub {
	my $c = conn();
	$c->send("GET /a.txt HTTP/1.0\r\n\r\n");
	my $r = $c->response;
	status_is($r // {}, 200, '1.0 without Host: 200') or diag($c->error);
	is($r && $r->{body}, $a_txt, '1.0: the file');
	is($r && $r->{version}, '1.1',
	    'the response is HTTP/1.1 (9110 6.2: the highest minor version)');
	like($r && $r->{headers}{connection} // '', qr/\bclose\b/i,
	    '1.0 without keep-alive: Connection: close');
	ok($c->wait_closed(3), '1.0 without keep-alive: the server closes');

	# Pipelined behind a 1.0 request: never answered.
	$c = conn();
	$c->send(req('GET', '/a.txt', version => '1.0')
	    . req('GET', '/b.txt', version => '1.0'));
	$r = $c->response;
	is($r && $r->{body}, $a_txt, 'two pipelined 1.0 requests: the first');
	ok($c->wait_closed(3), '... then the close');
	is($c->buffer, '', '... and no answer to the second');

	$c = conn();
	$c->send(req('GET', '/a.txt', version => '1.0', keepalive => 1));
	$r = $c->response;
	status_is($r // {}, 200, '1.0 with Connection: keep-alive: 200')
	    or diag($c->error);
	like($r && $r->{headers}{connection} // '', qr/^keep-alive$/i,
	    '... answered with Connection: keep-alive');
	$c->send(req('GET', '/b.txt', version => '1.0', keepalive => 1));
	$r = $c->response;
	is($r && $r->{body}, $b_txt, '... the connection takes a second one')
	    or diag($c->error);
	$c->send(req('GET', '/a.txt', version => '1.0'));
	$r = $c->response;
	is($r && $r->{body}, $a_txt, '... then one without keep-alive');
	like($r && $r->{headers}{connection} // '', qr/\bclose\b/i,
	    '... which gets Connection: close');
	ok($c->wait_closed(3), '... and the close');

	$r = one("GET /a.txt HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
	like($r->{headers}{connection} // '', qr/keep-alive/i,
	    'connection options are case-insensitive (9110 7.6.1)');
};

subtest 'pipelined requests are answered in order (9112 9.3.2)' => sub {
	my $c = conn();
	my $t0 = time;
	$c->send(req('GET', '/a.txt', keepalive => 1)
	    . req('GET', '/delay/300', keepalive => 1)
	    . req('GET', '/b.txt', keepalive => 1)
	    . req('POST', '/echo', keepalive => 1, body => 'pipelined body',
	        headers => ['Content-Type' => 'text/x-test'])
	    . req('HEAD', '/a.txt', keepalive => 1)
	    . req('GET', '/missing.txt', keepalive => 1)
	    . req('GET', '/hello/last'));
	my @r;
	for my $head (0, 0, 0, 0, 1, 0, 0) {
		my $r = $c->response(head => $head) or last;
		push @r, $r;
	}
	is(scalar @r, 7, 'seven requests in one write, seven responses')
	    or diag($c->error);
	is($r[0]{body}, $a_txt, '1: a.txt');
	like($r[1]{body} // '', qr/^delayed 300 ms/, '2: the delay');
	cmp_ok(($r[1]{at} // 0) - $t0, '>=', 0.28,
	    '2: answered after its 300 ms');
	is($r[2]{body}, $b_txt, '3: b.txt, only after the delay');
	is($r[3]{body}, 'pipelined body', '4: the echo of the POST body');
	is($r[3]{headers}{'content-type'}, 'text/x-test',
	    '4: with its Content-Type');
	is($r[4]{status}, 200, '5: HEAD');
	is($r[4]{headers}{'content-length'}, length $a_txt,
	    '5: HEAD has the GET length and no body');
	is($r[5]{status}, 404, '6: a 404 in the middle');
	is($r[6]{body}, '<h1>hello, last!</h1>', '7: the last one');
	ok($c->wait_closed(3), 'then the close asked for');
	is($c->buffer, '', 'and nothing else');

	# A thousand in one write: more than the input buffer holds.
	$c = conn();
	$c->send(join('', map { req('GET', "/hello/n$_", keepalive => 1) }
	    1 .. 999) . req('GET', '/hello/n1000'), timeout => 10);
	my $in_order = 0;
	for my $i (1 .. 1000) {
		my $r = $c->response or last;
		last unless $r->{body} eq "<h1>hello, n$i!</h1>";
		$in_order++;
	}
	is($in_order, 1000, '1000 pipelined requests: 1000 answers, in order')
	    or diag($c->error);

	# Five 200 KB files and a small one: more output than the server
	# queues before it stops reading pipelined requests.
	$c = conn();
	$c->send(join('', map { req('GET', '/big.bin', keepalive => 1) } 1 .. 5)
	    . req('GET', '/a.txt'));
	my @bodies = map { my $r = $c->response(timeout => 10);
	    $r ? $r->{body} : undef } 1 .. 6;
	is(scalar(grep { defined && $_ eq $big } @bodies[0 .. 4]), 5,
	    'five pipelined 200 KB files, whole and in order')
	    or diag($c->error);
	is($bodies[5], $a_txt, '... then the small one');

	# A body sent to a static file is read and dropped, not parsed.
	$c = conn();
	$c->send(req('POST', '/a.txt', keepalive => 1,
	    body => "GET /b.txt HTTP/1.1\r\n\r\n")
	    . req('GET', '/a.txt'));
	my $r1 = $c->response;
	my $r2 = $c->response;
	is($r1 && $r1->{status}, 405, 'POST with a body to a file: 405');
	is($r2 && $r2->{body}, $a_txt,
	    '... and the body was skipped, not taken for a request');
};

subtest 'a request that arrives one byte at a time (9112 2.2)' => sub {
	my $x = exchange($PORT, req('GET', '/a.txt',
	    headers => ['User-Agent' => 'bytes/1', 'Accept' => '*/*']),
	    pieces => 1, gap => 0.002);
	is($x->{responses}[0] && $x->{responses}[0]{body}, $a_txt,
	    'GET, one byte per write: the file') or diag($x->{error});

	my $chunked = "POST /echo HTTP/1.1\r\nHost: localhost\r\n"
	    . "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
	    . "5;name=value\r\nhello\r\n1;x\r\n,\r\n6\r\n world\r\n"
	    . "0\r\nX-Trailer: yes\r\n\r\n";
	$x = exchange($PORT, $chunked, pieces => 1, gap => 0.002);
	is($x->{responses}[0] && $x->{responses}[0]{body}, 'hello, world',
	    'a chunked POST, one byte per write: decoded')
	    or diag($x->{error});

	# Both, pipelined, in pieces of 7 bytes.
	$x = exchange($PORT, req('GET', '/b.txt', keepalive => 1) . $chunked,
	    pieces => 7, gap => 0.002, responses => 2);
	is(join('|', map { $_->{body} } @{ $x->{responses} }),
	    "$b_txt|hello, world", 'a pipelined pair in 7-byte pieces')
	    or diag($x->{error});
};

subtest 'request lines of 8000 bytes are accepted (9112 3)' => sub {
	my $q = '/a.txt?' . ('q' x 8000);
	my $line = "GET $q HTTP/1.1";
	my $r = one("$line\r\nHost: localhost\r\nConnection: close\r\n\r\n");
	status_is($r, 200, 'a ' . length($line) . '-byte request line (long '
	    . 'query): 200');
	is($r->{body}, $a_txt, '... the file');

	my $path = '/' . join('/', ('d' x 99) x 80);
	$line = "GET $path HTTP/1.1";
	$r = one("$line\r\nHost: localhost\r\nConnection: close\r\n\r\n");
	status_is($r, 404, 'a ' . length($line) . '-byte request line (long '
	    . 'path of a missing file): 404, not refused as too long');
};

subtest 'absolute-form targets (9112 3.2.2)' => sub {
	my $r = one("GET http://localhost/a.txt HTTP/1.1\r\nHost: localhost\r\n"
	    . "Connection: close\r\n\r\n");
	status_is($r, 200, 'GET http://localhost/a.txt: 200');
	is($r->{body}, $a_txt, '... the file');

	$r = one("GET HTTP://Other.Example:8080/sub/deep.txt?x=1 HTTP/1.1\r\n"
	    . "Host: localhost\r\nConnection: close\r\n\r\n");
	is($r->{body}, "deep\n", 'another authority, a port, a query and '
	    . 'an upper-case scheme: the file');

	$r = one("GET http://localhost HTTP/1.1\r\nHost: localhost\r\n"
	    . "Connection: close\r\n\r\n");
	is($r->{body}, $index, 'an empty path is "/" (9110 4.2.3)');

	$r = one("GET http://localhost/a.txt HTTP/1.0\r\n\r\n");
	is($r->{body}, $a_txt, 'HTTP/1.0 absolute-form without Host');

	$r = one("GET http://localhost/a.txt HTTP/1.1\r\nHost:\r\n"
	    . "Connection: close\r\n\r\n");
	is($r->{body}, $a_txt, 'an empty Host beside an authority (9110 7.2)');
	$r = one("GET http://:8080/a.txt HTTP/1.1\r\nHost: localhost\r\n"
	    . "Connection: close\r\n\r\n");
	status_is($r, 400, 'an authority of a port alone: 400 (9110 4.2.1)');
};

# RFC 9110 4.2.1: an http URI with an empty host is invalid, and the
# target URI of an origin-form request takes its host from Host.
subtest 'an empty Host on origin-form: 400 and a close' => sub {
	for my $host ('', ' ', ':8080') {
		my $x = exchange($PORT, "GET /a.txt HTTP/1.1\r\nHost:$host\r\n\r\n"
		    . req('GET', '/a.txt'), wait_close => 3);
		my @st = map { $_->{status} } @{ $x->{responses} || [] };
		is("@st", '400', "Host: \"$host\": 400, nothing after it")
		    or diag($x->{error});
		ok($x->{closed}, '... and the close');
	}
	my $r = one("GET /a.txt HTTP/1.0\r\nHost:\r\n\r\n");
	status_is($r, 400, 'HTTP/1.0 with an empty Host: 400');
	$r = one("OPTIONS * HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n");
	status_is($r, 400, 'OPTIONS * with an empty Host: 400');
};

subtest 'HEAD: the same header fields as GET, no body (9110 9.3.2)' => sub {
	for my $target ('/a.txt', '/big.bin', '/page.html', '/sub',
	    '/missing.txt') {
		my $g = get($target);
		my $c = conn();
		$c->send(req('HEAD', $target, keepalive => 1)
		    . req('GET', '/b.txt'));
		my $h = $c->response(head => 1);
		my $next = $c->response;
		ok($h, "HEAD $target: a response") or diag($c->error), next;
		is($h->{status}, $g->{status}, "HEAD $target: GET's status "
		    . "($g->{status})");
		my %gh = %{ $g->{headers} };
		my %hh = %{ $h->{headers} };
		delete @gh{qw(date connection)};
		delete @hh{qw(date connection)};
		is_deeply(\%hh, \%gh, "HEAD $target: GET's header fields");
		is($next && $next->{body}, $b_txt,
		    "HEAD $target: no body bytes before the next response");
	}
};

subtest 'methods: 405 with Allow, 501 for unknown ones (9110 9.1, 15.5.6)'
    => sub {
	for my $m (qw(POST PUT DELETE PATCH TRACE)) {
		my $r = get('/a.txt', method => $m,
		    body => $m =~ /^(?:POST|PUT|PATCH)$/ ? 'x' : undef);
		status_is($r, 405, "$m /a.txt: 405");
		my $allow = $r->{headers}{allow};
		ok(defined $allow, "$m /a.txt: an Allow field (a MUST)");
		my %allow = map { $_ => 1 } split /\s*,\s*/, $allow // '';
		ok($allow{GET} && $allow{HEAD} && !$allow{$m},
		    "$m /a.txt: Allow lists GET and HEAD, not $m")
		    or diag("Allow: " . ($allow // '<none>'));
	}
	my $r = get('/echo', method => 'GET');
	status_is($r, 405, 'GET /echo: 405');
	like($r->{headers}{allow} // '', qr/\bPOST\b/, '... Allow: POST');

	for my $m (qw(BREW FOO PROPFIND get)) {
		$r = get('/a.txt', method => $m);
		status_is($r, 501, "$m /a.txt: 501 (methods are "
		    . "case-sensitive, 9110 9.1)");
	}
	$r = get('/hello/x', method => 'BREW');
	status_is($r, 501, 'BREW on a route: 501');
	# No proxy: CONNECT is supported for no resource (9110 15.6.2).
	my $x = exchange($PORT, "CONNECT example.com:443 HTTP/1.1\r\n"
	    . "Host: example.com:443\r\n\r\n", wait_close => 3);
	is($x->{responses}[0] && $x->{responses}[0]{status}, 501,
	    'CONNECT example.com:443: 501') or diag($x->{error});
	ok($x->{closed}, '... and the close');
};

subtest 'request bodies: Content-Length and chunked (9112 6, 7.1)' => sub {
	my $body = join('', map { chr } 0 .. 255) x 8;
	my $r = get('/echo', method => 'POST', body => $body);
	status_is($r, 200, 'POST /echo with Content-Length: 200');
	ok($r->{body} eq $body, '... the body back, every byte value');

	$r = one("POST /echo HTTP/1.1\r\nHost: localhost\r\n"
	    . "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
	    . "4\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n"
	    . "0\r\n\r\n");
	is($r->{body}, "Wikipedia in\r\n\r\nchunks.",
	    'chunked, with CRLFs inside the data');

	$r = one("POST /echo HTTP/1.1\r\nHost: localhost\r\n"
	    . "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
	    . "3;ext=1;quoted=\"a b\"\r\nabc\r\nA ; spaced\r\n0123456789\r\n"
	    . "0;last\r\nX-Trailer: 1\r\nX-Other-Trailer: two\r\n\r\n");
	is($r->{body}, 'abc0123456789',
	    'chunk extensions ignored, trailers skipped (9112 7.1.1, 7.1.2)');

	$r = one("POST /echo HTTP/1.1\r\nHost: localhost\r\n"
	    . "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
	    . "0\r\n\r\n");
	is($r->{status}, 200, 'an empty chunked body: 200');
	is($r->{body}, '', '... empty');

	$r = one("POST /echo HTTP/1.1\r\nHost: localhost\r\n"
	    . "Transfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n"
	    . "0\r\n\r\n");
	status_is($r, 501, 'an unknown transfer coding: 501 (9112 6.1)');

	$r = one("POST /echo HTTP/1.1\r\nHost: localhost\r\n"
	    . "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
	    . "0\r\n\r\n");
	status_is($r, 400, 'Transfer-Encoding with Content-Length: 400');

	# Chunk extensions follow RFC 9112 7.1.1 or the request is refused
	# and the connection closed: nothing after it is read as a request.
	for my $case (['a bare ";"', "5;\r\nhello\r\n0\r\n\r\n"],
	    ['a bare ";" on the last chunk', "5\r\nhello\r\n0;\r\n\r\n"],
	    ['a name with "@"', "5;a\@b\r\nhello\r\n0\r\n\r\n"],
	    ['whitespace before the CRLF', "5;a=b \r\nhello\r\n0\r\n\r\n"],
	    ['a quoted value not closed', "5;a=\"b\r\nhello\r\n0\r\n\r\n"],
	    ['a trailer without a colon', "5\r\nhello\r\n0\r\nX 1\r\n\r\n"]) {
		my ($name, $body) = @$case;
		my $x = exchange($PORT, "POST /echo HTTP/1.1\r\nHost: localhost\r\n"
		    . "Transfer-Encoding: chunked\r\n\r\n$body"
		    . req('GET', '/a.txt'), wait_close => 3);
		my @st = map { $_->{status} } @{ $x->{responses} || [] };
		is("@st", '400', "chunked, $name: 400, and nothing after it")
		    or diag($x->{error});
		ok($x->{closed}, "... and the close");
	}

	# Two chunked POSTs and a GET pipelined.
	my $c = conn();
	$c->send("POST /echo HTTP/1.1\r\nHost: localhost\r\n"
	    . "Transfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n"
	    . "POST /echo HTTP/1.1\r\nHost: localhost\r\n"
	    . "Content-Length: 2\r\n\r\ncd" . req('GET', '/a.txt'));
	my @r = map { $c->response } 1 .. 3;
	is(join('|', map { $_ ? $_->{body} : 'none' } @r), "ab|cd|$a_txt",
	    'chunked, Content-Length and GET pipelined: each where it belongs');
};

subtest "a body over max_body_size ($max_body): 413" => sub {
	my $c = conn();
	$c->send("POST /echo HTTP/1.1\r\nHost: localhost\r\n"
	    . "Content-Length: 100000\r\n\r\n");
	my $r = $c->response;
	status_is($r // { error => $c->error }, 413,
	    'Content-Length 100000: 413 before the body is sent');
	like($r && $r->{headers}{connection} // '', qr/\bclose\b/i,
	    '... with Connection: close');
	ok($c->wait_closed(3), '... and the close');

	my $x = exchange($PORT, "POST /echo HTTP/1.1\r\nHost: localhost\r\n"
	    . "Transfer-Encoding: chunked\r\n\r\n"
	    . "1000\r\n" . ('a' x 4096) . "\r\n1000\r\n" . ('b' x 4096)
	    . "\r\n1\r\nc\r\n0\r\n\r\n", wait_close => 3);
	is($x->{responses}[0] && $x->{responses}[0]{status}, 413,
	    'chunked, one byte over: 413') or diag($x->{error});
	ok($x->{closed}, '... and the close');

	# A chunk whose size line alone says it is too large: 413 at once.
	$c = conn();
	$c->send("POST /echo HTTP/1.1\r\nHost: localhost\r\n"
	    . "Transfer-Encoding: chunked\r\n\r\nffffffffff\r\n");
	$r = $c->response;
	status_is($r // { error => $c->error }, 413,
	    'a chunk of 0xffffffffff bytes announced: 413 before its data');

	$r = get('/echo', method => 'POST', body => 'm' x $max_body);
	status_is($r, 200, 'exactly max_body_size: 200');
	is(length($r->{body} // ''), $max_body, '... all of it back');
};

subtest 'Expect: 100-continue (9110 10.1.1)' => sub {
	my $c = conn();
	$c->send("POST /echo HTTP/1.1\r\nHost: localhost\r\n"
	    . "Content-Length: 11\r\nExpect: 100-continue\r\n\r\n");
	my $r = $c->response(timeout => 3);
	ok($r, 'an answer before the body is sent') or diag($c->error);
	like($r && $r->{raw} // '', qr{^HTTP/1\.1 100 Continue\r\n},
	    '... "HTTP/1.1 100 Continue"');
	$c->send('hello world');
	$r = $c->response;
	status_is($r // { error => $c->error }, 200,
	    'then the body: the final response, 200');
	is($r && $r->{body}, 'hello world', '... the body echoed');
	$c->send(req('GET', '/a.txt'));
	$r = $c->response;
	is($r && $r->{body}, $a_txt, 'the connection goes on');

	$c = conn();
	$c->send("POST /echo HTTP/1.1\r\nHost: localhost\r\n"
	    . "Content-Length: 2\r\nExpect: 100-Continue\r\n\r\n");
	$r = $c->response(timeout => 3);
	is($r && $r->{status}, 100, 'the expectation is case-insensitive');
	$c->send('ok');
	$r = $c->response;
	is($r && $r->{body}, 'ok', '... then 200');

	$c = conn();
	$c->send("POST /echo HTTP/1.1\r\nHost: localhost\r\n"
	    . "Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n");
	$r = $c->response(timeout => 3);
	is($r && $r->{status}, 100, 'a chunked body: 100 first');
	$c->send("3\r\nabc\r\n0\r\n\r\n");
	$r = $c->response;
	is($r && $r->{body}, 'abc', '... then 200 with the body');

	$c = conn();
	$c->send("POST /echo HTTP/1.0\r\nContent-Length: 2\r\n"
	    . "Expect: 100-continue\r\n\r\n");
	$r = $c->response(timeout => 1);
	ok(!$r || $r->{status} != 100,
	    'HTTP/1.0: the expectation is ignored, no 100 (a MUST)')
	    or diag($r->{raw});
	$c->send('10');
	$r //= $c->response;
	is($r && $r->{body}, '10', 'HTTP/1.0: the body is read and echoed');

	$c = conn();
	$c->send("POST /echo HTTP/1.1\r\nHost: localhost\r\n"
	    . "Content-Length: 100000\r\nExpect: 100-continue\r\n\r\n");
	$r = $c->response(timeout => 3);
	is($r && $r->{status}, 413,
	    'over max_body_size: the final 413 instead of 100');

	for my $e ('something-else', '100-continue-not', 'foo=bar') {
		$r = one("POST /echo HTTP/1.1\r\nHost: localhost\r\n"
		    . "Content-Length: 2\r\nExpect: $e\r\n\r\nab");
		status_is($r, 417, "Expect: $e: 417");
	}
};

subtest 'paths: decoded once, dot segments removed, directories' => sub {
	my $r = get('/%61.txt');
	is($r->{body}, $a_txt, '%61 is "a"');
	$r = get('/%2561.txt');
	is($r->{body}, "the file named %61.txt\n",
	    '%2561 is "%61", decoded once only');
	$r = get('/sub%2Fdeep.txt');
	ok($r->{status} == 404 || ($r->{body} // '') eq "deep\n",
	    '%2F: a 404 or the file, never anything else');

	for my $t ('/./a.txt', '/sub/../a.txt', '/sub/./../a.txt',
	    '/sub/nothere/../../a.txt', '//a.txt', '/sub/%2e%2e/a.txt',
	    '/sub/.%2E/a.txt') {
		$r = get($t);
		is($r->{body}, $a_txt, "$t is /a.txt");
	}
	$r = get('/sub/.');
	is($r->{body}, $sub_index, '/sub/. is /sub/');
	$r = get('/sub/..');
	is($r->{body}, $index, '/sub/.. is /');

	$r = get('/sub');
	status_is($r, 301, '/sub: 301');
	like($r->{headers}{location} // '', qr{^(?:http://[^/]+)?/sub/\z},
	    '... to /sub/');
	$r = get('/sub?x=1');
	like($r->{headers}{location} // '', qr{/sub/\?x=1\z},
	    '/sub?x=1: to /sub/?x=1');
	$r = get('/sub/');
	status_is($r, 200, '/sub/: 200');
	is($r->{body}, $sub_index, '/sub/: its index file');
	$r = get('/');
	is($r->{body}, $index, '/: the index file');
	$r = get('/empty-dir/');
	status_is($r, 403, 'a directory without an index: 403, as nginx; no '
	    . 'listing');
};

subtest 'nothing outside the root, however encoded' => sub {
	my @targets = (
		'/../secret.txt', '/%2e%2e/secret.txt', '/%2E%2E/secret.txt',
		'/.%2e/secret.txt', '/%2e./secret.txt', '/..%2fsecret.txt',
		'/..%2Fsecret.txt', '/%2e%2e%2fsecret.txt',
		'/sub/../../secret.txt', '/sub/%2e%2e/%2e%2e/secret.txt',
		'/sub/..%2f..%2fsecret.txt', '/./../secret.txt',
		'//../secret.txt', '/..\\secret.txt', '/..%5csecret.txt',
		'/%5c..%5csecret.txt', '/sub\\..\\..\\secret.txt',
		'/..%5c..%5csecret.txt', '/..%00/secret.txt',
		'/secret.txt%00', '/a.txt%00.html', '/%00',
		'/%252e%252e/secret.txt', '/%c0%ae%c0%ae/secret.txt',
		'/..;/secret.txt', '/....//secret.txt', '/.../secret.txt',
		'/../../../../../../../../etc/passwd',
		'/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
		'http://localhost/../secret.txt',
		'http://localhost/%2e%2e/secret.txt',
		'../secret.txt', 'secret.txt', '%2e%2e/secret.txt',
	);
	for my $t (@targets) {
		my $r = get($t);
		my $body = $r->{body} // '';
		ok(index($body, 'SECRET-') < 0 && $body !~ /^root:/m,
		    show($t) . ': nothing from outside the root');
		ok($r->{status} == 400 || $r->{status} == 404,
		    show($t) . ': refused with 400 or 404')
		    or diag("status $r->{status}");
	}
	my $r = get('/%00');
	status_is($r, 400, 'an encoded NUL: 400');
};

subtest 'symbolic links (follow_symlinks off)' => sub {
	my $r = get('/link-in.txt');
	status_is($r, 200, 'a link to a file inside the root: 200');
	is($r->{body}, $a_txt, '... its target');
	$r = get('/link-dir/deep.txt');
	is($r->{body}, "deep\n", 'a link to a directory inside the root');
	for my $t ('/link-out.txt', '/link-abs.txt', '/link-up/secret.txt',
	    '/link-up/www/a.txt') {
		$r = get($t);
		status_is($r, 404, "$t (leaves the root): 404");
		unlike($r->{body} // '', qr/SECRET-/, "$t: no secret");
	}
};

subtest 'validators: Last-Modified and ETag (9110 8.8)' => sub {
	my $r = get('/dated.txt');
	status_is($r, 200, '/dated.txt: 200');
	is($r->{headers}{'last-modified'}, $date_forms{'IMF-fixdate'},
	    'Last-Modified: the mtime, as an IMF-fixdate');
	like($r->{headers}{etag} // '', qr{^(?:W/)?"[\x21\x23-\x7e]*"\z},
	    'ETag: an entity-tag');
	is($r->{count}{etag}, 1, 'one ETag field');
	my $r2 = get('/a.txt');
	isnt($r2->{headers}{etag}, $r->{headers}{etag},
	    'another file, another ETag');
	# 8.8.2.1: a modification time in the future is not sent as such.
	$r = get('/future.txt');
	my $lm = imf_fixdate($r->{headers}{'last-modified'});
	my $date = imf_fixdate($r->{headers}{date});
	ok(defined $lm && defined $date && $lm <= $date,
	    'a file dated 2099: Last-Modified is not after Date ('
	    . ($r->{headers}{'last-modified'} // 'none') . ')');
};

my $etag = get('/dated.txt')->{headers}{etag} // '"none"';
(my $weak_etag = $etag) =~ s{^(?!W/)}{W/};
my $lm = $date_forms{'IMF-fixdate'};

subtest 'conditional requests (9110 13)' => sub {
	my @cases = (
		# name, headers, status
		['If-None-Match: its ETag', ['If-None-Match' => $etag], 304],
		['If-None-Match: *', ['If-None-Match' => '*'], 304],
		['If-None-Match: the weak form (weak comparison, 13.1.2)',
		    ['If-None-Match' => $weak_etag], 304],
		['If-None-Match: a list holding it',
		    ['If-None-Match' => "\"x\", $etag, \"y\""], 304],
		['If-None-Match: another tag', ['If-None-Match' => '"x"'], 200],
		(map { ["If-Modified-Since: the mtime as $_",
		    ['If-Modified-Since' => $date_forms{$_}], 304] }
		    sort keys %date_forms),
		['If-Modified-Since: later',
		    ['If-Modified-Since' => 'Sat, 01 Jan 2022 00:00:00 GMT'],
		    304],
		['If-Modified-Since: a second earlier',
		    ['If-Modified-Since' => 'Thu, 02 Jan 2020 03:04:04 GMT'],
		    200],
		['If-Modified-Since: not a date (ignored, 13.1.3)',
		    ['If-Modified-Since' => 'yesterday'], 200],
		['If-None-Match wins over If-Modified-Since (a MUST, 13.1.3)',
		    ['If-None-Match' => '"x"', 'If-Modified-Since' => $lm], 200],
		['If-None-Match matching, If-Modified-Since earlier',
		    ['If-None-Match' => $etag,
		    'If-Modified-Since' => 'Wed, 01 Jan 2020 00:00:00 GMT'],
		    304],
		['If-Match: another tag', ['If-Match' => '"x"'], 412],
		['If-Match: its ETag', ['If-Match' => $etag], 200],
		['If-Match: *', ['If-Match' => '*'], 200],
		['If-Match: the weak form (strong comparison, 13.1.1)',
		    ['If-Match' => $weak_etag], 412],
		['If-Unmodified-Since: earlier',
		    ['If-Unmodified-Since' => 'Wed, 01 Jan 2020 00:00:00 GMT'],
		    412],
		['If-Unmodified-Since: the mtime',
		    ['If-Unmodified-Since' => $lm], 200],
		['If-Match failing beats If-None-Match (13.2.2)',
		    ['If-Match' => '"x"', 'If-None-Match' => $etag], 412],
		['If-Match matching makes If-Unmodified-Since ignored (a MUST, '
		    . '13.1.4)', ['If-Match' => $etag, 'If-Unmodified-Since' =>
		    'Wed, 01 Jan 2020 00:00:00 GMT'], 200],
		['If-Unmodified-Since: not a date (ignored, a MUST, 13.1.4)',
		    ['If-Unmodified-Since' => 'long ago'], 200],
		['If-Modified-Since with two dates (ignored, a MUST, 13.1.3)',
		    ['If-Modified-Since' => "$lm, $lm"], 200],
	);
	for my $case (@cases) {
		my ($name, $headers, $want) = @$case;
		my $r = get('/dated.txt', headers => $headers);
		status_is($r, $want, "$name: $want");
		if ($want == 304) {
			is($r->{headers}{etag}, $etag, '... 304 with the ETag');
			ok(!defined $r->{headers}{'content-length'}
			    || $r->{headers}{'content-length'} == 6,
			    '... and no Content-Length but the 200\'s');
		}
	}
	my $r = one(req('HEAD', '/dated.txt',
	    headers => ['If-None-Match' => $etag]));
	status_is($r, 304, 'HEAD with If-None-Match: 304 too');

	# Preconditions only apply where the answer would be 2xx or 412
	# (a MUST, 13.2.1).
	$r = get('/missing.txt', headers => ['If-None-Match' => '*']);
	status_is($r, 404, 'If-None-Match: * on a missing file: 404');
	$r = get('/missing.txt', headers => ['If-Match' => '"x"']);
	status_is($r, 404, 'If-Match on a missing file: 404');
	$r = get('/sub', headers => ['If-None-Match' => '*']);
	status_is($r, 301, 'If-None-Match: * on a redirect: 301');

	# A 304 has no body: the next response follows its head at once.
	my $c = conn();
	$c->send(req('GET', '/dated.txt', keepalive => 1,
	    headers => ['If-None-Match' => $etag]) . req('GET', '/b.txt'));
	my $r1 = $c->response;
	my $r2 = $c->response;
	is($r1 && $r1->{status}, 304, 'a pipelined 304');
	is($r2 && $r2->{body}, $b_txt, '... with no body bytes after it');
};

subtest 'byte ranges (9110 14)' => sub {
	my $len = length $big;
	my $big_etag = get('/big.bin')->{headers}{etag} // '"none"';
	my @cases = (
		['bytes=0-9', 0, 10],
		['bytes=100-199', 100, 100],
		['bytes=0-0', 0, 1],
		['bytes=-10', $len - 10, 10],
		['bytes=10-', 10, $len - 10],
		['bytes=199990-999999', 199990, 10],
		['bytes=-999999', 0, $len],
		['Bytes=5-6', 5, 2],
	);
	for my $case (@cases) {
		my ($range, $start, $n) = @$case;
		my $r = get('/big.bin', headers => ['Range' => $range]);
		status_is($r, 206, "$range: 206");
		is($r->{headers}{'content-range'}, sprintf('bytes %d-%d/%d',
		    $start, $start + $n - 1, $len), "$range: Content-Range");
		is($r->{headers}{'content-length'}, $n,
		    "$range: Content-Length $n");
		ok(defined $r->{body} && $r->{body} eq substr($big, $start, $n),
		    "$range: exactly those bytes");
	}
	my $r = get('/a.txt', headers => ['Range' => 'bytes=2-4']);
	status_is($r, 206, 'a small (cached) file: 206');
	is($r->{body}, substr($a_txt, 2, 3), '... those bytes');

	for my $case (["bytes=$len-", '/big.bin', $len],
	    ['bytes=99999999-', '/big.bin', $len],
	    ['bytes=7-', '/a.txt', length $a_txt]) {
		my ($range, $t, $l) = @$case;
		$r = get($t, headers => ['Range' => $range]);
		status_is($r, 416, "$t $range: 416");
		is($r->{headers}{'content-range'}, "bytes */$l",
		    "$t $range: Content-Range: bytes */$l");
	}

	$r = get('/big.bin', headers => ['Range' => 'bytes=5-2']);
	status_is($r, 200, 'an invalid range is ignored: 200');
	is(length($r->{body} // ''), $len, '... the whole file');

	$r = get('/big.bin', headers => ['Range' => 'bytes=0-9',
	    'If-Range' => $big_etag]);
	status_is($r, 206, 'If-Range with the ETag: 206');
	is($r->{headers}{etag}, $big_etag, '... and the ETag (15.3.7)');
	$r = get('/big.bin', headers => ['Range' => 'bytes=0-9',
	    'If-Range' => "W/$big_etag"]);
	status_is($r, 200, 'If-Range with the weak form: 200 (strong '
	    . 'comparison, 13.1.5)');
	$r = get('/big.bin', headers => ['Range' => 'bytes=0-9',
	    'If-Range' => '"other"']);
	status_is($r, 200, 'If-Range with another ETag: 200');
	is(length($r->{body} // ''), $len, '... the whole file');
	$r = get('/dated.txt', headers => ['Range' => 'bytes=0-1',
	    'If-Range' => $lm]);
	status_is($r, 206, 'If-Range with the Last-Modified date: 206');
	$r = get('/dated.txt', headers => ['Range' => 'bytes=0-1',
	    'If-Range' => 'Wed, 01 Jan 2020 00:00:00 GMT']);
	status_is($r, 200, 'If-Range with another date: 200');

	$r = one(req('HEAD', '/big.bin', headers => ['Range' => 'bytes=0-9']));
	status_is($r, 200, 'Range on HEAD is ignored (a MUST, 14.2)');

	$r = get('/big.bin');
	is($r->{headers}{'accept-ranges'}, 'bytes', 'Accept-Ranges: bytes');
};

subtest 'Content-Type from the extension' => sub {
	my %want = (
		'/page.html' => qr{^text/html; ?charset=utf-8\z}i,
		'/style.css' => qr{^text/css; ?charset=utf-8\z}i,
		'/app.js' => qr{^(?:text|application)/javascript; ?charset=utf-8\z}i,
		'/a.txt' => qr{^text/plain; ?charset=utf-8\z}i,
		'/UPPER.TXT' => qr{^text/plain; ?charset=utf-8\z}i,
		'/img.png' => qr{^image/png\z},
		'/data.json' => qr{^application/json\b},
		'/file.qqq' => qr{^\Q$default_type\E\z},
		'/noext' => qr{^\Q$default_type\E\z},
		# From either end of the sorted table, and in between,
		# with nginx's mime.types.
		'/t.3gp' => qr{^video/3gpp\z},
		'/t.docx' => qr{^application/vnd\.openxmlformats-officedocument\.wordprocessingml\.document\z},
		'/t.jpe' => qr{^image/jpeg\z},
		'/t.m3u8' => qr{^application/vnd\.apple\.mpegurl\z},
		'/t.mov' => qr{^video/quicktime\z},
		'/t.odt' => qr{^application/vnd\.oasis\.opendocument\.text\z},
		'/t.ts' => qr{^video/mp2t\z},
		'/t.xlsx' => qr{^application/vnd\.openxmlformats-officedocument\.spreadsheetml\.sheet\z},
		'/t.yml' => qr{^application/yaml\z},
		'/t.zip' => qr{^application/zip\z},
	);
	for my $t (sort keys %want) {
		my $r = get($t);
		status_is($r, 200, "$t: 200");
		like($r->{headers}{'content-type'} // '', $want{$t},
		    "$t: Content-Type");
	}
};

subtest 'query strings are ignored for files' => sub {
	for my $t ('/a.txt?x=1', '/a.txt?', '/a.txt?../../secret.txt',
	    '/a.txt?%00', '/a.txt?a=b&c=%2e%2e%2f') {
		my $r = get($t);
		is($r->{body}, $a_txt, "$t: a.txt");
	}
	my $r = get('/?x');
	is($r->{body}, $index, '/?x: the index');
};

subtest 'Date and Server fields (9110 6.6.1, 10.2.4)' => sub {
	my $r = get('/a.txt');
	my $t = imf_fixdate($r->{headers}{date});
	ok(defined $t, 'Date is an IMF-fixdate')
	    or diag('Date: ' . ($r->{headers}{date} // '<none>'));
	cmp_ok(abs(($t // 0) - time), '<', 5, 'Date is now');
	is($r->{count}{date}, 1, 'one Date field');
	like($r->{headers}{server} // '', qr/\S/, 'a Server field');
};

subtest 'Connection: close on each response after which the server closes'
    => sub {
	my @cases = (
		['1.1 with Connection: close', req('GET', '/a.txt'), 200],
		['1.0 without keep-alive', "GET /a.txt HTTP/1.0\r\n\r\n", 200],
		['a 404 with Connection: close', req('GET', '/nope'), 404],
		['a 400 for a bad header', "GET / HTTP/1.1\r\nHost: x\r\n"
		    . "Bad Header\r\n\r\n", 400],
		['a 400 for a missing Host (9112 3.2)',
		    "GET / HTTP/1.1\r\n\r\n", 400],
		['a 505', "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505],
		['a 413', "POST /echo HTTP/1.1\r\nHost: x\r\n"
		    . "Content-Length: 999999\r\n\r\n", 413],
		['a 417', "POST /echo HTTP/1.1\r\nHost: x\r\n"
		    . "Expect: x\r\nContent-Length: 1\r\n\r\nx", 417],
		['a 431', "GET / HTTP/1.1\r\nHost: x\r\nX-Big: "
		    . ('b' x 20000) . "\r\n\r\n", 431],
		['a 414', 'GET /' . ('u' x 20000) . " HTTP/1.1\r\n"
		    . "Host: x\r\n\r\n", 414],
		['a 400 for Content-Length with Transfer-Encoding (9112 6.1)',
		    "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
		    . "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400],
		['a 400 for a bad Content-Length (9112 6.3)',
		    "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n"
		    . "\r\n", 400],
		['a 400 for a bad chunk', "POST /echo HTTP/1.1\r\nHost: x\r\n"
		    . "Transfer-Encoding: chunked\r\n\r\nzz\r\n", 400],
	);
	for my $case (@cases) {
		my ($name, $bytes, $want) = @$case;
		my $x = exchange($PORT, $bytes, wait_close => 3);
		my $r = $x->{responses}[0];
		is($r && $r->{status}, $want, "$name: $want")
		    or diag($x->{error});
		like($r && $r->{headers}{connection} // '', qr/\bclose\b/i,
		    "$name: Connection: close");
		ok($x->{closed}, "$name: the server closes");
		is($x->{rest}, '', "$name: nothing after the response");
	}
};

subtest 'head limits: 431 and 414 (9110 15.5.15, RFC 6585 5)' => sub {
	my $r = one("GET /a.txt HTTP/1.1\r\nHost: localhost\r\nX-Long: "
	    . ('v' x 20000) . "\r\n\r\n");
	status_is($r, 431, 'a 20000-byte field: 431');
	$r = one("GET /a.txt HTTP/1.1\r\nHost: localhost\r\n"
	    . join('', map { "X-F$_: " . ('v' x 200) . "\r\n" } 1 .. 100)
	    . "\r\n");
	status_is($r, 431, '100 fields of 200 bytes (20 KB): 431');
	$r = one("GET /a.txt HTTP/1.1\r\nHost: localhost\r\n"
	    . join('', map { "X-F$_: v\r\n" } 1 .. 120) . "\r\n");
	status_is($r, 431, '121 short fields: 431');
	$r = one('GET /' . ('u' x 20000) . " HTTP/1.1\r\nHost: localhost\r\n"
	    . "\r\n");
	status_is($r, 414, 'a 20000-byte request target: 414');
	$r = one('GET /a.txt?' . ('q' x 17000) . " HTTP/1.1\r\n"
	    . "Host: localhost\r\n\r\n");
	status_is($r, 414, 'a 17000-byte query: 414');
	$r = one("GET /a.txt HTTP/1.1\r\nHost: localhost\r\n"
	    . join('', map { "X-F$_: " . ('v' x 100) . "\r\n" } 1 .. 90)
	    . "Connection: close\r\n\r\n");
	status_is($r, 200, '90 fields, 10 KB in all: 200');
};

# Errors answered before the request's method is known (a bad method
# token, a head too large) must not take the method of the worker's
# previous request: after a HEAD they lost their body but kept their
# Content-Length, so the client waited for bytes that never came.
subtest 'an early error after a HEAD still has its body (9112 6.3)' => sub {
	my $c = conn();
	$c->send("HEAD /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"
	    . "GE(T /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n");
	my $r = $c->response(head => 1);
	status_is($r // { error => $c->error }, 200, 'HEAD: 200');
	$r = $c->response;
	status_is($r // { error => $c->error }, 400,
	    'then a bad method token on the same connection: 400');
	ok($r && length($r->{body}) > 0
	    && length($r->{body}) == ($r->{headers}{'content-length'} // -1),
	    '... with the whole body its Content-Length promises');

	# Across connections: the worker's last request was a HEAD.
	for my $t (["GE(T /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n", 400,
	    'a bad method token'],
	    ['GET /' . ('u' x 20000) . " HTTP/1.1\r\nHost: localhost\r\n\r\n",
	    414, 'a 20000-byte target'],
	    ["GET /a.txt HTTP/1.1\r\nHost: localhost\r\nX-Long: "
	    . ('v' x 20000) . "\r\n\r\n", 431, 'a 20000-byte field']) {
		my $h = conn();
		$h->send("HEAD /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n");
		my $hr = $h->response(head => 1);
		status_is($hr // { error => $h->error }, 200, 'a HEAD elsewhere');
		$r = one($t->[0]);
		status_is($r, $t->[1], "then $t->[2]: $t->[1]");
		ok(length($r->{body} // '') > 0 && length($r->{body})
		    == ($r->{headers}{'content-length'} // -1),
		    '... with its whole body');
	}
};

# A client may half-close once it has sent its requests: every request
# it sent whole is answered, in order, also those behind a response that
# is slow to come (a delay) or slow to go (a large file), as nginx does.
subtest 'pipelined requests, then a half-close: all answered' => sub {
	my $x = exchange($PORT, req('GET', '/delay/100', keepalive => 1)
	    . req('GET', '/hello/after-delay', keepalive => 1)
	    . req('GET', '/a.txt', keepalive => 1), responses => 3,
	    shutdown => 1, wait_close => 3);
	my @r = @{ $x->{responses} };
	is(scalar @r, 3, 'behind a delay: three responses') or diag($x->{error});
	like($r[1] && $r[1]{body} // '', qr/after-delay/, '... in order');
	is($r[2] && $r[2]{body}, $a_txt, '... the last one too');
	ok($x->{closed}, '... then the close');

	$x = exchange($PORT, req('GET', '/huge.bin', keepalive => 1)
	    . req('GET', '/a.txt', keepalive => 1), responses => 2,
	    shutdown => 1, wait_close => 5, timeout => 20);
	@r = @{ $x->{responses} };
	is(scalar @r, 2, 'behind 16 MiB: two responses') or diag($x->{error});
	is(length($r[0] && $r[0]{body} // ''), 16 << 20, '... the file whole');
	is($r[1] && $r[1]{body}, $a_txt, '... then the small one');
};

# A head that cannot become a request is refused as soon as that shows,
# not after header_timeout (10 s here): bytes that are not a method token
# (a TLS ClientHello) or a request line without a version (HTTP/0.9).
subtest 'hopeless heads get 400 at once (9112 3)' => sub {
	for my $t (["\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
	    'TLS ClientHello bytes'], ["GET /a.txt\r\n", 'GET /a.txt (HTTP/0.9)'],
	    ["G\x01T / HTTP/1.1\r\n", 'a control byte in the method']) {
		my $c = conn();
		my $t0 = time;
		$c->send($t->[0]);
		my $r = $c->response(timeout => 5);
		status_is($r // { error => $c->error }, 400, "$t->[1]: 400");
		cmp_ok(time - $t0, '<', 3, '... at once, not at header_timeout');
		ok($c->wait_closed(3), '... then the close');
	}
	# A head still on its way is not judged early.
	my $c = conn();
	$c->send("GET /a.txt HT");
	my $r = $c->response(timeout => 0.5);
	ok(!$r && !$c->at_eof, 'half a request line: still waiting');
	$c->send("TP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
	$r = $c->response;
	status_is($r // { error => $c->error }, 200, '... and served when whole');
};

# A directory named without its slash is redirected; the Location comes
# from the normalised path, so a path that starts with "//" cannot turn
# into a link to another host.
subtest 'directory redirects: Location from the normalised path' => sub {
	for my $t (['/sub', '/sub/'], ['/sub?x=1', '/sub/?x=1'],
	    ['//evil.example/../sub', '/sub/'],
	    ['/\\evil.example/../sub', '/sub/'],
	    ['//evil.example/%2e%2e/sub?q', '/sub/?q'],
	    ['/./sub', '/sub/']) {
		my $r = get($t->[0]);
		status_is($r, 301, "$t->[0]: 301");
		is($r->{headers}{location}, $t->[1], "... to $t->[1]");
	}
};

# A file sent from its descriptor (over 64 KiB) that shrinks in place is
# sent with its new length at once, not the cached one.
subtest 'a large file truncated in place: the new length at once' => sub {
	my $path = $s->path('www/shrinks.bin');
	my $size = 150_000;
	my $r = get('/shrinks.bin');
	is(length($r->{body} // ''), $size, "first: $size bytes");
	# Five times, so most truncations fall in the same second as the
	# request that cached the file.
	my @bad;
	for (1 .. 5) {
		$size -= 10_000;
		truncate($path, $size) or die "truncate $path: $!";
		$r = get('/shrinks.bin');
		my $got = sprintf('status %s, Content-Length %s, %d bytes',
		    $r->{status}, $r->{headers}{'content-length'} // '-',
		    length($r->{body} // ''));
		push @bad, "truncated to $size: $got" if $got ne
		    "status 200, Content-Length $size, $size bytes";
	}
	is_deeply(\@bad, [], 'each answer right after a truncation has '
	    . 'the new length');
};

subtest 'lingering close: an error response is not lost to a reset '
    . '(9112 9.6)' => sub {
	my $c = conn();
	my $junk = 'X' x 300_000;
	$c->send("GET /a.txt HTTP/1.1\r\nHost: localhost\r\nBad Header\r\n"
	    . "\r\n$junk", timeout => 10);
	sleep(0.3);
	my $r = $c->response;
	ok($r, 'a bad request followed by 300 KB: the whole 400 arrives')
	    or diag($c->error);
	is($r && $r->{status}, 400, '... 400');
	is(length($r && $r->{body} // ''), $r && $r->{headers}{'content-length'},
	    '... with all of its body');
	ok($c->wait_closed(3), '... then the close');
	ok(!$c->was_reset && !$c->send_error,
	    '... and no reset: the server read and dropped all we sent')
	    or diag($c->send_error // 'reset');
	$c->close;

	$c = conn();
	$c->send(req('GET', '/a.txt', keepalive => 1)
	    . "GET /\x01 HTTP/1.1\r\nHost: localhost\r\n\r\n"
	    . req('GET', '/b.txt') x 2000, timeout => 10);
	sleep(0.3);
	my @r = map { $c->response } 1 .. 2;
	is($r[0] && $r[0]{body}, $a_txt, 'good, bad, then more: the good one')
	    or diag($c->error);
	is($r[1] && $r[1]{status}, 400, '... then the whole 400')
	    or diag($c->error);
	ok($c->wait_closed(3), '... then the close');
	is($c->buffer, '', '... and no answer to what followed');
	ok(!$c->was_reset && !$c->send_error, '... and no reset')
	    or diag($c->send_error // 'reset');
	$c->close;

	$c = conn();
	$c->send("POST /echo HTTP/1.1\r\nHost: localhost\r\n"
	    . "Content-Length: 200000\r\n\r\n" . ('p' x 200000), timeout => 10);
	sleep(0.3);
	$r = $c->response;
	is($r && $r->{status}, 413,
	    'a 413 while the client still sends its body: whole')
	    or diag($c->error);
	ok($c->wait_closed(3), '... then the close');
	ok(!$c->was_reset && !$c->send_error,
	    '... and no reset: the rest of the body was read and dropped')
	    or diag($c->send_error // 'reset');
};

# The access log's size field is the body bytes sent, as nginx's
# $body_bytes_sent: a download cut short is not logged as whole, and a
# whole one is logged whole (sendfile, more than the socket takes at once).
subtest 'access log: the bytes actually sent' => sub {
	my $huge = 16 << 20;
	my $ua = "bytes-$$-" . int(rand 1e9);
	my $r = one(req('GET', '/huge.bin', headers => ['User-Agent' => "$ua whole"]),
	    timeout => 20);
	is(length($r->{body} // ''), $huge, 'a whole 16 MiB download');

	socket(my $sock, PF_INET, SOCK_STREAM, 0) or die "socket: $!";
	setsockopt($sock, SOL_SOCKET, SO_RCVBUF, 4096);
	connect($sock, pack_sockaddr_in($PORT, inet_aton('127.0.0.1')))
	    or die "connect: $!";
	syswrite($sock, req('GET', '/huge.bin', keepalive => 1,
	    headers => ['User-Agent' => "$ua cut"]));
	my $got = sysread($sock, my $buf, 1000);
	ok($got && $got > 0, 'a download read for 1000 bytes');
	sleep(0.3);
	close $sock;	# unread data: a reset

	my $lines = wait_for(sub {
		my @l = grep { index($_, $ua) >= 0 }
		    split /\n/, slurp($s->path('access.log'));
		return @l >= 2 ? \@l : 0;
	}, 5);
	ok($lines, 'both are logged') or return;
	my ($whole) = grep { /"\Q$ua whole\E"\z/ } @$lines;
	my ($cut) = grep { /"\Q$ua cut\E"\z/ } @$lines;
	like($whole // '', qr{"GET /huge\.bin HTTP/1\.1" 200 $huge },
	    "the whole one with $huge bytes");
	my ($n) = ($cut // '') =~ m{"GET /huge\.bin HTTP/1\.1" 200 (\d+) };
	ok(defined $n && $n < $huge, 'the cut one with fewer bytes ('
	    . ($n // 'no line') . ')') or diag($cut);
};

subtest 'OPTIONS * (9110 9.3.7)' => sub {
	my $r = one("OPTIONS * HTTP/1.1\r\nHost: localhost\r\n"
	    . "Connection: close\r\n\r\n");
	status_is($r, 200, 'OPTIONS *: 200');
	like($r->{headers}{allow} // '', qr/\bGET\b.*\bHEAD\b|\bHEAD\b.*\bGET\b/,
	    '... with Allow listing GET and HEAD');
	is($r->{headers}{'content-length'}, 0, '... Content-Length: 0');
};

subtest 'access log: one combined line per request, flushed within 2 s'
    => sub {
	my $log = $s->path('access.log');
	my $ua = "conformance-$$-" . int(rand 1e9);
	my @want = (
		['GET', '/a.txt?log=1', 200, length $a_txt],
		['GET', '/no-such-file', 404, undef],
		['HEAD', '/b.txt', 200, 0],
		['POST', '/echo', 200, 5],
	);
	my $t0 = time;
	my %len;
	for my $w (@want) {
		my ($m, $t) = @$w;
		my $r = one(req($m, $t, body => $m eq 'POST' ? 'hello' : undef,
		    headers => ['User-Agent' => "$ua $t",
		    'Referer' => "http://ref.example$t"]));
		$len{$t} = $m eq 'HEAD' ? 0 : length($r->{body} // '');
	}
	my $lines = wait_for(sub {
		my @l = grep { index($_, $ua) >= 0 }
		    split /\n/, slurp($log);
		return @l >= @want ? \@l : 0;
	}, 5);
	my $took = time - $t0;
	ok($lines, 'the lines are in the log') or return;
	cmp_ok($took, '<', 2.5, sprintf('... within 2.5 s (%.2f s)', $took));
	is(scalar @$lines, scalar @want, 'one line per request');
	my $combined = qr{^(\S+)[ ]-[ ](\S+)[ ]\[(\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d
	    [ ][+-]\d{4})\][ ]"((?:[^"\\]|\\.)*)"[ ](\d{3})[ ](\d+)[ ]
	    "((?:[^"\\]|\\.)*)"[ ]"((?:[^"\\]|\\.)*)"\z}x;
	for my $w (@want) {
		my ($m, $t, $status) = @$w;
		my ($line) = grep { /"\Q$ua $t\E"\z/ } @$lines;
		ok(defined $line, "$m $t: a line") or next;
		my @f = $line =~ $combined;
		ok(@f, "$m $t: nginx's combined format") or diag($line), next;
		is($f[0], '127.0.0.1', "$m $t: the client address");
		is($f[3], "$m $t HTTP/1.1", "$m $t: the request line");
		is($f[4], $status, "$m $t: status $status");
		is($f[5], $len{$t}, "$m $t: body bytes $len{$t}");
		is($f[6], "http://ref.example$t", "$m $t: the Referer");
	}
};

# Every response this file read, whatever the subtest: the fields every
# response needs and its framing.
subtest 'every response: Date, Server and its length (9110 6.6.1, '
    . '9112 6.3)' => sub {
	my @seen = @Forkloop::Raw::SEEN;
	cmp_ok(scalar @seen, '>', 150, scalar(@seen) . ' responses seen');
	my (@no_date, @bad_date, @no_server, @no_length, @two_length);
	for my $r (@seen) {
		my $id = "$r->{status} " . show((split /\r\n/, $r->{head})[0]);
		if ($r->{status} < 200) {
			push @two_length, "$id (1xx with Content-Length)"
			    if defined $r->{headers}{'content-length'};
			next;
		}
		push @no_date, $id unless defined $r->{headers}{date};
		push @bad_date, $id if defined $r->{headers}{date}
		    && !defined imf_fixdate($r->{headers}{date});
		push @no_server, $id unless defined $r->{headers}{server};
		next if $r->{status} == 204 || $r->{status} == 304;
		push @no_length, $id if $r->{until_close}
		    || (!defined $r->{headers}{'content-length'}
		    && !$r->{chunked});
		push @two_length, $id if ($r->{count}{'content-length'} // 0) > 1;
	}
	is(scalar @no_date, 0, 'every response has Date')
	    or diag(join("\n", @no_date[0 .. 4]));
	is(scalar @bad_date, 0, 'every Date is an IMF-fixdate');
	is(scalar @no_server, 0, 'every response has Server');
	is(scalar @no_length, 0, 'every response has Content-Length '
	    . '(none is chunked or framed by the close)')
	    or diag(join("\n", grep { defined } @no_length[0 .. 4]));
	is(scalar @two_length, 0, 'no response has two Content-Length fields, '
	    . 'no 1xx has one (9110 8.6)') or diag(join("\n", @two_length));
};

is($s->stop, 0, 'main server: exit status 0');
$s->log_clean_ok([]);

###########################################################################
# follow_symlinks on.

my $f = Forkloop->new(start => 0, files => \%files,
    config => { workers => 1, http => { follow_symlinks => 'on' } });
make_links($f);
$f->run;

subtest 'follow_symlinks on: links that leave the root are followed' => sub {
	my $p = $f->port('http');
	my $r = get('/link-out.txt', port => $p);
	status_is($r, 200, 'a relative link out of the root: 200');
	is($r->{body}, $secret, '... its target');
	$r = get('/link-abs.txt', port => $p);
	status_is($r, 200, 'an absolute link: 200');
	$r = get('/link-in.txt', port => $p);
	is($r->{body}, $a_txt, 'a link inside the root still works');
	$r = get('/../secret.txt', port => $p);
	ok($r->{status} == 400 || $r->{status} == 404,
	    '.. is still refused');
};

is($f->stop, 0, 'follow_symlinks server: exit status 0');
$f->log_clean_ok([]);

###########################################################################
# Timeouts, 1 s each.

my $t = Forkloop->new(files => { 'www/a.txt' => $a_txt }, config => {
    workers => 1, http => { header_timeout => '1s', max_header_size => '1k',
    keepalive_timeout => '1s', body_timeout => '1s' } });
my $TPORT = $t->port('http');

subtest 'header_timeout: 408, then the close (9110 15.5.9)' => sub {
	my $c = conn($TPORT);
	my $t0 = time;
	$c->send("GET /a.txt HTTP/1.1\r\nHost: localhost\r\n");
	my $r = $c->response(timeout => 6);
	my $took = time - $t0;
	status_is($r // { error => $c->error }, 408, 'half a head: 408');
	cmp_ok($took, '>', 0.8, sprintf('... not before 1 s (%.2f s)', $took));
	cmp_ok($took, '<', 3.5, '... nor long after');
	like($r && $r->{headers}{connection} // '', qr/\bclose\b/i,
	    '... with Connection: close');
	ok($c->wait_closed(3), '... then the close');

	# The second request on a kept connection has the same limit.
	$c = conn($TPORT);
	$c->send(req('GET', '/a.txt', keepalive => 1));
	$r = $c->response;
	is($r && $r->{body}, $a_txt, 'a kept connection: the first response');
	$t0 = time;
	$c->send("GET /a.txt HTTP/1.1\r\nHost: loc");
	$r = $c->response(timeout => 6);
	$took = time - $t0;
	status_is($r // { error => $c->error }, 408,
	    '... then half a second head: 408');
	cmp_ok($took, '<', 3.5, sprintf('... in time (%.2f s)', $took));

	# Slowloris: a byte every 150 ms never completes the head; the
	# timeout covers the whole head, not the gap between bytes.
	$c = conn($TPORT);
	$t0 = time;
	my $head = "GET /a.txt HTTP/1.1\r\nHost: localhost\r\nX-Slow: "
	    . ('s' x 100);
	for my $i (0 .. length($head) - 1) {
		last unless $c->send(substr($head, $i, 1));
		$r = $c->response(timeout => 0.15);
		last if $r || $c->at_eof || time - $t0 > 6;
	}
	$took = time - $t0;
	is($r && $r->{status}, 408, 'a head trickled a byte at a time: 408')
	    or diag($c->error);
	cmp_ok($took, '<', 3.5, sprintf('... after the header_timeout, '
	    . 'not per byte (%.2f s)', $took));

	# A connection that sends nothing is closed without an answer.
	$c = conn($TPORT);
	$t0 = time;
	ok($c->wait_closed(5), 'a silent connection is closed');
	cmp_ok(time - $t0, '<', 3.5, '... in time');
	is($c->buffer, '', '... without an answer');
};

# With max_header_size 1k: a request line longer than that is 414 even
# when the whole head arrives in one write with a newline in it.
subtest 'a small max_header_size: 414 for the line, 431 for fields' => sub {
	my $r = one('GET /' . ('u' x 1100) . " HTTP/1.1\r\nHost: localhost\r\n"
	    . "Connection: close\r\n\r\n", port => $TPORT);
	status_is($r, 414, 'a 1100-byte target in one write: 414');
	$r = one("GET /a.txt HTTP/1.1\r\nHost: localhost\r\nX-Long: "
	    . ('v' x 1100) . "\r\nConnection: close\r\n\r\n", port => $TPORT);
	status_is($r, 431, 'a 1100-byte field: 431');
};

# Empty lines before a request line are skipped (9112 2.2) but they do
# not restart the keep-alive timer: header_timeout runs from the first.
subtest 'empty lines before a request do not hold the connection' => sub {
	my $c = conn($TPORT);
	my $t0 = time;
	for (1 .. 15) {
		last unless $c->send("\r\n");
		last if $c->wait_closed(0.4);
	}
	my $took = time - $t0;
	ok($c->at_eof || $c->was_reset || $c->send_error,
	    sprintf('a CRLF every 0.4 s: closed (after %.2f s)', $took));
	cmp_ok($took, '<', 4, '... near the header_timeout of 1 s');
	is($c->buffer, '', '... without an answer');
};

subtest 'keepalive_timeout closes an idle connection' => sub {
	my $c = conn($TPORT);
	$c->send(req('GET', '/a.txt', keepalive => 1));
	my $r = $c->response;
	is($r && $r->{body}, $a_txt, 'the response first');
	my $t0 = time;
	ok($c->wait_closed(5), 'then the server closes the idle connection');
	my $idle = time - $t0;
	cmp_ok($idle, '>', 0.8, sprintf('... not before 1 s (%.2f s)', $idle));
	cmp_ok($idle, '<', 3.5, '... nor long after');
};

subtest 'body_timeout: 408 for a body that stops coming' => sub {
	my $c = conn($TPORT);
	my $t0 = time;
	$c->send("POST /echo HTTP/1.1\r\nHost: localhost\r\n"
	    . "User-Agent: slow-body-agent\r\n"
	    . "Content-Length: 10\r\n\r\nabc");
	my $r = $c->response(timeout => 6);
	status_is($r // { error => $c->error }, 408, '3 of 10 bytes: 408');
	cmp_ok(time - $t0, '<', 3.5, '... in time');
	ok($c->wait_closed(3), '... then the close');
	# The head was read: the access log has its line and User-Agent.
	ok(wait_for(sub { slurp($t->path('access.log')) =~
	    m{"POST /echo HTTP/1\.1" 408 \d+ "-" "slow-body-agent"} }, 5),
	    '... logged with its request line and User-Agent')
	    or diag(slurp($t->path('access.log')));
};

is($t->stop, 0, 'timeouts server: exit status 0');
$t->log_clean_ok([]);

# keepalive_timeout 0 turns keep-alive off, and the response says so;
# max_body_size 0 means no limit, as in nginx.
my $k = Forkloop->new(files => { 'www/a.txt' => $a_txt }, config => {
    workers => 1, http => { keepalive_timeout => '0',
    max_body_size => '0' } });
subtest 'keepalive_timeout 0: Connection: close on every response' => sub {
	my $c = conn($k->port('http'));
	$c->send(req('GET', '/a.txt', keepalive => 1));
	my $r = $c->response;
	is($r && $r->{body}, $a_txt, 'a keep-alive request is answered');
	like($r && $r->{headers}{connection} // '', qr/\bclose\b/i,
	    '... with Connection: close');
	ok($c->wait_closed(3), '... then the close');
};
subtest 'max_body_size 0: no limit' => sub {
	my $body = pseudo_random_bytes(3 * 1024 * 1024, 13);
	my $r = one(req('POST', '/echo', body => $body), port => $k->port('http'),
	    timeout => 20);
	status_is($r, 200, 'a 3 MiB body: 200');
	ok(defined $r->{body} && $r->{body} eq $body, '... echoed whole');
};
is($k->stop, 0, 'keep-alive off server: exit status 0');
$k->log_clean_ok([]);

done_testing();
