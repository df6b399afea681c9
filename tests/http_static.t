#!/usr/bin/perl
# http_static.t: static files over HTTP/1.1: exact bytes and lengths,
# types, index, 404, no way out of the root, HEAD, keep-alive,
# pipelining, requests that arrive in pieces, and the two timeouts.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time sleep);
use Forkloop qw(wait_for build_request pseudo_random_bytes printable);

Forkloop::check_binary();
Forkloop::watchdog(120);

my $secret = "SECRET-$$-outside-the-root\n";
my $big = pseudo_random_bytes(1024 * 1024, 20261124);
my $index = "<!doctype html>\n<title>forkloop</title>\n<p>the index</p>\n";
my $sub_index = "<p>the index of /sub/</p>\n";
my $a_txt = "file a\n";
my $b_txt = "file b, a little longer\n";
my %files = (
	'secret.txt' => $secret,
	'www/index.html' => $index,
	'www/big.bin' => $big,
	'www/a.txt' => $a_txt,
	'www/b.txt' => $b_txt,
	'www/style.css' => "body { color: black; }\n",
	'www/app.js' => "console.log('hi');\n",
	'www/img.png' => "\x89PNG\r\n\x1a\n" . ("\0" x 32),
	'www/img.jpg' => "\xff\xd8\xff\xe0" . ("\0" x 32),
	'www/img.gif' => "GIF89a" . ("\0" x 32),
	'www/page.html' => "<p>page</p>\n",
	'www/with space.txt' => "spaced\n",
	'www/sub/index.html' => $sub_index,
	'www/sub/deep.txt' => "deep\n",
);

my $s = Forkloop->new(config => { workers => 2 }, files => \%files);

# Compares big bodies without printing a megabyte when they differ.
sub same_bytes {
	my ($got, $want, $name) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	return pass($name) if defined $got && $got eq $want;
	fail($name);
	if (!defined $got) {
		diag('no body');
		return 0;
	}
	my $i = 0;
	$i++ while $i < length($got) && $i < length($want)
	    && substr($got, $i, 1) eq substr($want, $i, 1);
	diag(sprintf('got %d bytes, want %d; first difference at offset %d',
	    length $got, length $want, $i));
	return 0;
}

subtest 'a 1 MiB file arrives byte for byte' => sub {
	my $r = $s->http_get('/big.bin', timeout => 20);
	is($r->{status}, 200, 'status 200');
	is($r->{headers}{'content-length'}, length $big,
	    'Content-Length is the file size');
	same_bytes($r->{body}, $big, 'the body is the file');
};

subtest 'Content-Type follows the extension' => sub {
	my %want = (
		'/page.html' => qr{^text/html\b},
		'/style.css' => qr{^text/css\b},
		'/a.txt' => qr{^text/plain\b},
		'/app.js' => qr{^(?:application|text)/javascript\b},
		'/img.png' => qr{^image/png\b},
		'/img.jpg' => qr{^image/jpeg\b},
		'/img.gif' => qr{^image/gif\b},
	);
	for my $path (sort keys %want) {
		my $r = $s->http_get($path);
		is($r->{status}, 200, "$path: 200");
		like($r->{headers}{'content-type'} // '', $want{$path},
		    "$path: Content-Type");
		is($r->{headers}{'content-length'}, length $r->{body} // '',
		    "$path: Content-Length matches the body");
	}
};

subtest 'index.html for directories' => sub {
	my $r = $s->http_get('/');
	is($r->{status}, 200, '/: 200');
	is($r->{body}, $index, '/: index.html');
	like($r->{headers}{'content-type'} // '', qr{^text/html\b},
	    '/: text/html');

	$r = $s->http_get('/sub/');
	is($r->{status}, 200, '/sub/: 200');
	is($r->{body}, $sub_index, '/sub/: its index.html');
};

subtest 'paths: 404, query strings, percent-encoding' => sub {
	for my $path ('/missing.html', '/sub/missing.txt', '/nodir/x.txt') {
		my $r = $s->http_get($path);
		is($r->{status}, 404, "$path: 404");
	}
	my $r = $s->http_get('/a.txt?x=1&y=2');
	is($r->{status}, 200, 'the query string is not part of the path');
	is($r->{body}, $a_txt, '... and the file is sent');

	$r = $s->http_get('/with%20space.txt');
	is($r->{status}, 200, 'a percent-encoded space in the path');
	is($r->{body}, "spaced\n", '... finds the file');

	$r = $s->http_get('/%61.txt');
	is($r->{body}, $a_txt, 'an encoded letter is decoded');

	# A 404 must be framed like any answer: the connection can go on.
	my $c = $s->connect;
	my @got = eval {
		$c->send(build_request(path => '/missing', keepalive => 1));
		my $first = $c->response;
		$c->send(build_request(path => '/a.txt'));
		($first, $c->response);
	};
	is($got[0]{status}, 404, 'keep-alive: 404 first')
	    or diag($@);
	is($got[1]{body}, $a_txt, 'keep-alive: then the file');
	$c->close;
};

subtest 'no file outside the root' => sub {
	my @paths = (
		'/../secret.txt',
		'/%2e%2e/secret.txt',
		'/%2E%2E/secret.txt',
		'/.%2e/secret.txt',
		'/..%2fsecret.txt',
		'/..%2Fsecret.txt',
		'/%2e%2e%2fsecret.txt',
		'/sub/../../secret.txt',
		'/sub/%2e%2e/%2e%2e/secret.txt',
		'/sub/..%2f..%2fsecret.txt',
		'/./../secret.txt',
		'//../secret.txt',
		'/..\\secret.txt',
		'/..%5csecret.txt',
		'/sub/../sub/../../secret.txt',
		'/../../../../../../../../etc/passwd',
		'/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
		'/..%00/secret.txt',
	);
	for my $path (@paths) {
		my $r = $s->http_get($path, quiet => 1);
		my $body = $r->{body} // '';
		ok(index($body, $secret) < 0 && $body !~ /^root:/m,
		    "$path: nothing from outside the root");
		isnt($r->{status}, 200, "$path: not 200")
		    or diag("body: " . printable($body));
	}
	for my $target ('../secret.txt', 'secret.txt', '%2e%2e/secret.txt') {
		my $r = $s->http("GET $target HTTP/1.1\r\nHost: localhost\r\n"
		    . "Connection: close\r\n\r\n", quiet => 1);
		ok(index($r->{body} // '', $secret) < 0,
		    "request target '$target': nothing from outside the root");
	}
	my $r = $s->http_get('/sub/../a.txt');
	ok(!defined $r->{body} || index($r->{body}, $secret) < 0,
	    '.. that stays inside the root leaks nothing either');
	is($s->http_get('/')->{status}, 200, 'the server still answers');
};

subtest 'HEAD' => sub {
	my $r = $s->http_head('/a.txt');
	is($r->{status}, 200, 'HEAD: 200');
	is($r->{headers}{'content-length'}, length $a_txt,
	    'HEAD: the Content-Length of the file');
	like($r->{headers}{'content-type'} // '', qr{^text/plain\b},
	    'HEAD: its Content-Type');

	# With "Connection: close" everything after the head is a body.
	my $c = $s->connect;
	my $all = eval {
		$c->send("HEAD /big.bin HTTP/1.1\r\nHost: localhost\r\n"
		    . "Connection: close\r\n\r\n");
		$c->read_all(timeout => 10);
	};
	ok(defined $all, 'HEAD with Connection: close: the server closes')
	    or diag($@);
	$all //= '';
	my $end = index($all, "\r\n\r\n");
	ok($end > 0, 'HEAD: a whole head came');
	is(length($all) - ($end + 4), 0, 'HEAD: no body bytes after it');
	like($all, qr/\r\ncontent-length: *1048576\r\n/i,
	    'HEAD /big.bin: Content-Length 1048576');
	$c->close;

	# On a kept connection the next response must start right after.
	$c = $s->connect;
	my @got = eval {
		$c->send(build_request(method => 'HEAD', path => '/b.txt',
		    keepalive => 1));
		my $head = $c->response(head => 1);
		$c->send(build_request(path => '/a.txt'));
		($head, $c->response);
	};
	is($got[0]{status}, 200, 'HEAD then GET on one connection: HEAD')
	    or diag($@);
	is($got[1]{status}, 200, '... then GET');
	is($got[1]{body}, $a_txt, '... whose body is the right file');
	$c->close;
};

subtest 'keep-alive' => sub {
	my $c = $s->connect;
	my @got = eval {
		$c->send(build_request(path => '/a.txt', keepalive => 1));
		my $first = $c->response;
		$c->send(build_request(path => '/b.txt', keepalive => 1));
		my $second = $c->response;
		$c->send(build_request(path => '/big.bin', keepalive => 1));
		my $third = $c->response(timeout => 20);
		$c->send(build_request(path => '/a.txt', keepalive => 1));
		($first, $second, $third, $c->response);
	};
	is(scalar @got, 4, 'four requests, one connection') or diag($@);
	is($got[0]{body}, $a_txt, 'first: a.txt');
	is($got[1]{body}, $b_txt, 'second: b.txt');
	same_bytes($got[2]{body}, $big, 'third: big.bin');
	is($got[3]{body}, $a_txt, 'fourth, after 1 MiB: a.txt');
	unlike($got[0]{headers}{connection} // '', qr/close/i,
	    'HTTP/1.1 without Connection: close is not told "close"');
	$c->close;

	$c = $s->connect;
	my $closed = eval {
		$c->send(build_request(path => '/a.txt'));
		my $r = $c->response;
		is($r->{body}, $a_txt, 'Connection: close: the file');
		$c->wait_closed(5);
	};
	ok($closed, 'Connection: close: the server closes after the answer')
	    or diag($@ || 'still open after 5 s');
	$c->close;

	$c = $s->connect;
	$closed = eval {
		$c->send("GET /a.txt HTTP/1.0\r\nHost: localhost\r\n\r\n");
		my $r = $c->response;
		is($r->{body}, $a_txt, 'HTTP/1.0: the file');
		$c->wait_closed(5);
	};
	ok($closed, 'HTTP/1.0 without keep-alive: the server closes')
	    or diag($@ || 'still open after 5 s');
	$c->close;
};

subtest 'pipelining' => sub {
	my $c = $s->connect;
	my @got = eval {
		$c->send(join('',
		    build_request(path => '/a.txt', keepalive => 1),
		    build_request(path => '/b.txt', keepalive => 1),
		    build_request(path => '/hello/pipe', keepalive => 1)));
		map { $c->response } 1 .. 3;
	};
	is(scalar @got, 3, 'three requests in one write, three answers')
	    or diag($@);
	is($got[0]{body}, $a_txt, 'first: a.txt');
	is($got[1]{body}, $b_txt, 'second: b.txt');
	is($got[2]{body}, '<h1>hello, pipe!</h1>', 'third: hello');
	$c->close;

	$c = $s->connect;
	@got = eval {
		$c->send(join('',
		    build_request(path => '/a.txt', keepalive => 1),
		    build_request(path => '/big.bin', keepalive => 1),
		    build_request(method => 'HEAD', path => '/b.txt',
		        keepalive => 1),
		    build_request(path => '/missing', keepalive => 1),
		    build_request(path => '/b.txt')));
		($c->response, $c->response(timeout => 20),
		    $c->response(head => 1), $c->response, $c->response);
	};
	is(scalar @got, 5, 'five with a big one, a HEAD and a 404 among them')
	    or diag($@);
	is($got[0]{body}, $a_txt, 'first: a.txt');
	same_bytes($got[1]{body}, $big, 'second: big.bin');
	is($got[2]{status}, 200, 'third: HEAD');
	is($got[3]{status}, 404, 'fourth: 404');
	is($got[4]{body}, $b_txt, 'fifth: b.txt');
	$c->close;

	$c = $s->connect;
	my $n = 50;
	@got = eval {
		$c->send(join('', map {
		    build_request(path => "/hello/n$_", keepalive => 1) }
		    1 .. $n));
		map { $c->response } 1 .. $n;
	};
	is(scalar(grep { ($got[$_ - 1]{body} // '') eq "<h1>hello, n$_!</h1>" }
	    1 .. @got), $n, "$n requests in one write: $n answers, in order")
	    or diag($@);
	$c->close;

	# A GET with a body: the body is not the next request.
	$c = $s->connect;
	@got = eval {
		$c->send("GET /a.txt HTTP/1.1\r\nHost: localhost\r\n"
		    . "Content-Length: 14\r\n\r\nGET /b.txt X\r\n"
		    . build_request(path => '/b.txt'));
		($c->response, $c->response);
	};
	is($got[0]{body}, $a_txt, 'a GET with a body: its answer')
	    or diag($@);
	is($got[1]{body}, $b_txt, '... and the body was skipped');
	$c->close;
};

subtest 'requests in pieces and bad requests' => sub {
	my @workers = $s->worker_pids;
	# One byte per write: the parser must wait for the rest.
	my $c = $s->connect;
	my $req = build_request(path => '/a.txt');
	my $r = eval {
		for my $i (0 .. length($req) - 1) {
			$c->send(substr($req, $i, 1));
			sleep(0.002);
		}
		$c->response;
	};
	is($r && $r->{body}, $a_txt, 'a request sent a byte at a time')
	    or diag($@);
	$c->close;

	for my $bad ("GARBAGE\r\n\r\n", "GET\r\n\r\n",
	    "GET /a.txt HTTP/9.9\r\nHost: x\r\n\r\n",
	    "GET /a.txt HTTP/1.1\r\nNo colon here\r\n\r\n",
	    "\x00\x01\x02\x03\r\n\r\n") {
		my $c = $s->connect;
		my $answer = eval {
			$c->send($bad);
			$c->response(timeout => 5);
		};
		my $ok = $answer ? $answer->{status} >= 400
		    && $answer->{status} < 600 : $c->at_eof;
		ok($ok, 'bad request ' . printable($bad, 30)
		    . ': an error status or a close')
		    or diag($answer ? "status $answer->{status}" : $@);
		$c->close;
	}

	# Limits are the server's to choose; answering 200 or dying is not.
	my %huge = (
		'a 20000-byte path' => build_request(path => '/' . 'a' x 20000),
		'500 headers of 100 bytes' => "GET /a.txt HTTP/1.1\r\n"
		    . "Host: localhost\r\n" . join('', map {
		        "X-Filler-$_: " . 'v' x 100 . "\r\n" } 1 .. 500)
		    . "Connection: close\r\n\r\n",
		'a 100000-byte header line' => "GET /a.txt HTTP/1.1\r\n"
		    . "Host: localhost\r\nX-Long: " . 'v' x 100000
		    . "\r\nConnection: close\r\n\r\n",
	);
	for my $name (sort keys %huge) {
		my $r = $s->http($huge{$name}, quiet => 1);
		ok(!defined $r->{status}
		    || ($r->{status} >= 400 && $r->{status} < 500),
		    "$name: a 4xx or a close")
		    or diag("status $r->{status}");
	}

	is($s->http_get('/a.txt')->{body}, $a_txt,
	    'the server still answers after bad requests');
	is_deeply([$s->worker_pids], \@workers,
	    'and no worker died of them (same processes)');
};

subtest 'clients that go away' => sub {
	my @workers = $s->worker_pids;
	# Gone in the middle of a megabyte, twenty times.
	for (1 .. 20) {
		my $c = $s->connect;
		eval {
			$c->send(build_request(path => '/big.bin'));
			$c->read_bytes(1000, timeout => 5);
		};
		$c->close;
	}
	# Gone before the answer starts.
	for (1 .. 20) {
		my $c = $s->connect;
		$c->send(build_request(path => '/big.bin', keepalive => 1)
		    . build_request(path => '/big.bin'));
		$c->close;
	}
	# Done sending (shut down its write side), still reading.
	my $c = $s->connect;
	my $r = eval {
		$c->send(build_request(path => '/a.txt'));
		shutdown($c->sock, 1);
		$c->response(timeout => 5);
	};
	is($r && $r->{body}, $a_txt,
	    'a client that shut down its write side gets its answer')
	    or diag($@);
	$c->close;

	same_bytes($s->http_get('/big.bin', timeout => 20)->{body}, $big,
	    'a whole megabyte still arrives afterwards');
	is_deeply([$s->worker_pids], \@workers,
	    'no worker died of the aborted transfers (same processes)');
};

my $pid_file = $s->pid_file;
is($s->stop, 0, 'stop: exit status 0');
$s->log_clean_ok([]);

# keepalive_timeout and header_timeout, short.
my $t = Forkloop->new(config => { workers => 1,
    http => { keepalive_timeout => '1s', header_timeout => '1s' } },
    files => { 'www/a.txt' => $a_txt });

subtest 'keepalive_timeout 1s closes an idle connection' => sub {
	my $c = $t->connect;
	my $t0;
	my $closed = eval {
		$c->send(build_request(path => '/a.txt', keepalive => 1));
		is($c->response->{body}, $a_txt, 'the answer first');
		$t0 = time;
		$c->wait_closed(6);
	};
	ok($closed, 'closed by the server') or diag($@ || 'open after 6 s');
	my $idle = time - $t0;
	cmp_ok($idle, '>', 0.5, 'not before the timeout');
	cmp_ok($idle, '<', 4, 'not long after it');
	$c->close;
};

subtest 'header_timeout 1s closes a connection with half a head' => sub {
	my $c = $t->connect;
	my $t0 = time;
	my $closed = eval {
		$c->send("GET /a.txt HTTP/1.1\r\nHost: localhost\r\n");
		$c->wait_closed(6);
	};
	ok($closed, 'closed by the server') or diag($@ || 'open after 6 s');
	my $waited = time - $t0;
	cmp_ok($waited, '>', 0.5, 'not before the timeout');
	cmp_ok($waited, '<', 4, 'not long after it');
	my $buf = $c->buffer;
	ok($buf eq '' || $buf =~ m{^HTTP/1\.[01] 408 }, 'nothing or a 408')
	    or diag(printable($buf));
	$c->close;

	# Nothing at all is half a head too.
	$c = $t->connect;
	$t0 = time;
	$closed = $c->wait_closed(6);
	ok($closed, 'a connection that sends nothing is closed too');
	cmp_ok(time - $t0, '<', 4, '... in time');
	$c->close;
};

is($t->stop, 0, 'timeouts server: exit status 0');
$t->log_clean_ok([]);

done_testing();
