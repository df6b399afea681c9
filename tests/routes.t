#!/usr/bin/perl
# routes.t: the built-in routes: /hello/NAME (decoded, then escaped),
# POST /echo, and /delay/MS, which must wait on a timer and never block
# its worker: 200 clients of one worker all finish in about one delay.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time);
use Forkloop qw(build_request exchange_many pseudo_random_bytes printable);

Forkloop::check_binary();
Forkloop::watchdog(120);

# One worker, so that nothing here passes by spreading over workers.
# max_body_size is the shipped default, written out for the 100 KiB body.
my $s = Forkloop->new(config => { workers => 1,
    http => { max_body_size => '1m' } },
    files => { 'www/index.html' => "index\n" });

subtest 'hello' => sub {
	my %want = (
		'/hello/world' => '<h1>hello, world!</h1>',
		'/hello/%3Cb%3E' => '<h1>hello, &lt;b&gt;!</h1>',
		'/hello/%3cb%3e' => '<h1>hello, &lt;b&gt;!</h1>',
		'/hello/a%26b' => '<h1>hello, a&amp;b!</h1>',
		'/hello/a%20b' => '<h1>hello, a b!</h1>',
		'/hello/J%C3%BCrgen' => "<h1>hello, J\xc3\xbcrgen!</h1>",
		'/hello/%3Cscript%3Ealert(1)%3C%2Fscript%3E' =>
		    '<h1>hello, &lt;script&gt;alert(1)&lt;/script&gt;!</h1>',
		# Control bytes (CR, LF, DEL) become U+FFFD, not raw bytes.
		'/hello/a%0d%0ab%7f' =>
		    "<h1>hello, a\xef\xbf\xbd\xef\xbf\xbdb\xef\xbf\xbd!</h1>",
	);
	for my $path (sort keys %want) {
		my $r = $s->http_get($path);
		is($r->{status}, 200, "$path: 200");
		is($r->{body}, $want{$path}, "$path: body");
		like($r->{headers}{'content-type'} // '', qr{^text/html\b},
		    "$path: text/html");
		is($r->{headers}{'content-length'}, length($r->{body} // ''),
		    "$path: Content-Length");
	}

	my $r = $s->http_get('/hello/%22q%22%27');
	unlike($r->{body} // '', qr/["']/, 'quotes are escaped too');

	$r = $s->http_head('/hello/world');
	is($r->{status}, 200, 'HEAD /hello/world: 200');
	is($r->{headers}{'content-length'},
	    length('<h1>hello, world!</h1>'), 'HEAD: the GET length');
};

# Routes have no validators, but If-Match and If-None-Match still hold
# (RFC 9110 13.1.1, 13.1.2): no entity-tag matches, "*" does.
subtest 'preconditions on routes' => sub {
	my @cases = (
		['GET', '/hello/x', 'If-Match', '"zzz"', 412],
		['GET', '/hello/x', 'If-Match', '*', 200],
		['GET', '/hello/x', 'If-None-Match', '*', 304],
		['HEAD', '/hello/x', 'If-None-Match', '"a", *', 304],
		['GET', '/hello/x', 'If-None-Match', '"zzz"', 200],
		['GET', '/hello/x', 'If-Modified-Since',
		    'Sun, 29 Nov 2099 00:00:00 GMT', 200],
		['GET', '/delay/1', 'If-Match', '"a"', 412],
		['POST', '/echo', 'If-None-Match', '*', 412],
		['POST', '/echo', 'If-Match', '*', 200],
	);
	for my $t (@cases) {
		my ($m, $path, $h, $v, $want) = @$t;
		my %o = (method => $m, headers => [$h => $v]);
		$o{body} = 'abc' if $m eq 'POST';
		my $r = $m eq 'HEAD' ? $s->http_head($path, %o)
		    : $s->http_get($path, %o);
		is($r->{status}, $want, "$m $path with $h: $v: $want");
		is($r->{body} // '', '', '... no body') if $want == 304;
	}
	# A request that fails anyway is not turned into a 412 (13.2.1).
	my $r = $s->http_get('/delay/abc', headers => ['If-Match' => '"a"']);
	is($r->{status}, 400, 'a bad delay with If-Match: still 400');
	# An empty Content-Type is no media type: echo sends the default.
	$r = $s->http_get('/echo', method => 'POST', body => 'x',
	    headers => ['Content-Type' => '']);
	is($r->{headers}{'content-type'}, 'application/octet-stream',
	    'echo of an empty Content-Type: application/octet-stream');
};

subtest 'POST /echo' => sub {
	my @bodies = (
		['a short body', 'hello, echo'],
		['every byte value', join('', map { chr } 0 .. 255) x 4],
		['CRLFs that look like a head', "GET / HTTP/1.1\r\n\r\n"],
		['100 KiB', pseudo_random_bytes(100 * 1024, 7)],
	);
	for my $case (@bodies) {
		my ($name, $body) = @$case;
		my $r = $s->http(build_request(method => 'POST',
		    path => '/echo', body => $body));
		is($r->{status}, 200, "$name: 200");
		ok(defined $r->{body} && $r->{body} eq $body,
		    "$name: the same body back")
		    or diag('got ' . printable($r->{body}, 80));
		is($r->{headers}{'content-length'}, length $body,
		    "$name: Content-Length");
	}

	my $r = $s->http(build_request(method => 'POST', path => '/echo',
	    body => ''));
	is($r->{status}, 200, 'an empty body: 200');
	is($r->{body}, '', 'an empty body: empty');

	# The head and the body in separate writes, the body in two.
	my $body = 'x' x 5000 . 'y' x 5000;
	my $c = $s->connect;
	$r = eval {
		my $req = build_request(method => 'POST', path => '/echo',
		    body => $body);
		my $head_len = index($req, "\r\n\r\n") + 4;
		$c->send(substr($req, 0, $head_len));
		Time::HiRes::sleep(0.05);
		$c->send(substr($req, $head_len, 3000));
		Time::HiRes::sleep(0.05);
		$c->send(substr($req, $head_len + 3000));
		$c->response;
	};
	is($r && $r->{body}, $body, 'a body that arrives in pieces')
	    or diag($@);
	$c->close;

	# Where one body ends the next request begins.
	$c = $s->connect;
	my @got = eval {
		$c->send(build_request(method => 'POST', path => '/echo',
		    body => 'first', keepalive => 1)
		    . build_request(method => 'POST', path => '/echo',
		    body => 'second one', keepalive => 1)
		    . build_request(path => '/hello/third'));
		map { $c->response } 1 .. 3;
	};
	is(scalar @got, 3, 'two POSTs and a GET pipelined') or diag($@);
	is($got[0]{body}, 'first', 'first body');
	is($got[1]{body}, 'second one', 'second body');
	is($got[2]{body}, '<h1>hello, third!</h1>', 'then the GET');
	$c->close;
};

subtest 'delay' => sub {
	my $r = $s->http_get('/delay/500');
	is($r->{status}, 200, '/delay/500: 200');
	cmp_ok($r->{elapsed}, '>=', 0.45, '/delay/500: not before 500 ms');
	cmp_ok($r->{elapsed}, '<', 2, '/delay/500: not much after');

	$r = $s->http_get('/delay/0');
	is($r->{status}, 200, '/delay/0: 200');

	# Pipelined: the delayed answer still comes first.
	my $c = $s->connect;
	my @got = eval {
		$c->send(build_request(path => '/delay/300', keepalive => 1)
		    . build_request(path => '/hello/after'));
		($c->response, $c->response);
	};
	is($got[0]{status}, 200, 'pipelined: the delay first') or diag($@);
	is($got[1]{body}, '<h1>hello, after!</h1>', 'then the next request');
	$c->close;

	# While one request waits, the only worker answers another.
	my $slow = $s->connect;
	my $t0 = time;
	$slow->send(build_request(path => '/delay/1500'));
	$r = $s->http_get('/hello/meanwhile');
	is($r->{body}, '<h1>hello, meanwhile!</h1>',
	    'another client is served during a delay');
	cmp_ok(time - $t0, '<', 1, '... at once, not after it');
	$r = eval { $slow->response(timeout => 5) };
	is($r && $r->{status}, 200, 'and the delayed request completes')
	    or diag($@);
	$slow->close;
};

subtest 'clients that leave before the timer fires' => sub {
	my @workers = $s->worker_pids;
	for (1 .. 50) {
		my $c = $s->connect;
		$c->send(build_request(path => '/delay/200'));
		$c->close;
	}
	# Answered after all 50 timers have fired, or would have.
	my $r = $s->http_get('/delay/400');
	is($r->{status}, 200, 'a later delay is answered');
	is($s->http_get('/hello/x')->{status}, 200, 'and a plain request');
	is_deeply([$s->worker_pids], \@workers,
	    'the worker did not die (same process)');
};

subtest 'a body over max_body_size' => sub {
	my $r = $s->http(build_request(method => 'POST', path => '/echo',
	    body => 'x' x (2 * 1024 * 1024)), quiet => 1);
	ok(!defined $r->{status} || $r->{status} == 413,
	    '2 MiB with max_body_size 1m: 413 (or a close)')
	    or diag("status $r->{status}");
	is($s->http_get('/hello/x')->{status}, 200, 'the server still answers');
};

subtest '200 concurrent /delay/500 on one worker' => sub {
	my $n = 200;
	my $t0 = time;
	my @res = exchange_many(port => $s->port('http'),
	    requests => [map { build_request(path => '/delay/500') } 1 .. $n],
	    timeout => 15);
	my $wall = time - $t0;

	my @failed = grep { !$_->{ok} || $_->{result}{status} != 200 } @res;
	is(scalar @failed, 0, "all $n answered 200")
	    or diag(join("\n", map { "client $_->{i}: "
	        . ($_->{error} // "status $_->{result}{status}") }
	        @failed[0 .. ($#failed < 4 ? $#failed : 4)]));
	my @early = grep { $_->{ok} && $_->{elapsed} < 0.45 } @res;
	is(scalar @early, 0, 'none before its 500 ms');
	cmp_ok($wall, '<', 2.5, "all $n within 2.5 s "
	    . '(they wait together, not one after another)');
	note(sprintf('%d delays of 500 ms took %.2f s', $n, $wall));
};

is($s->stop, 0, 'stop: exit status 0');
$s->log_clean_ok([]);

done_testing();
