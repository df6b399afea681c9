#!/usr/bin/perl
# proxy_faults.t: the reverse proxy (issue 14, proxy-spec.md) when the
# upstream or the client misbehaves:
#
#   - an upstream down at start: 502, and the error log names it;
#   - an upstream killed mid-answer (SIGKILL) or aborting mid-answer: the
#     client's answer ends broken (short of its Content-Length, or with no
#     final chunk), never a clean short 200;
#   - raw fake upstreams: garbage, an oversized head, a bad status line,
#     a 1xx before the answer (not passed on), two Content-Lengths,
#     Content-Length with Transfer-Encoding, a bad chunk, a close before
#     any byte or mid-head: 502 (each logged naming the upstream);
#   - timeouts: silence before the head with proxy_read_timeout 1s: 504;
#     a head then silence: the answer ends broken; proxy_connect_timeout
#     to a listener whose accept queue is full (SYNs dropped): 504;
#   - a stale pooled connection (closed by the upstream, before any byte
#     of the answer, or by aiohttp's keep-alive timeout): the request
#     still succeeds, once, on a fresh connection;
#   - retries: a GET goes on to the next server, a POST is never sent
#     twice (counted by the upstreams);
#   - a client request with Transfer-Encoding and Content-Length: 400;
#   - nothing a client sends reaches an address the config does not name
#     (absolute-form targets, Host, CONNECT, Upgrade), checked by a
#     listening canary that must see no connection.

use strict;
use warnings;

use Test::More;
use File::Temp ();
use IO::Select;
use IO::Socket::INET;
use JSON::PP ();
use Socket qw(SOCK_STREAM);
use Time::HiRes qw(time sleep);
use Forkloop qw(wait_for free_port build_request parse_response printable);
use Forkloop::Upstream qw(upstream_python);

Forkloop::check_binary();
plan skip_all => 'python3-aiohttp is needed (Debian package python3-aiohttp)'
    unless upstream_python();
Forkloop::watchdog(180);

my $A = Forkloop::Upstream->start(name => 'a');
my $B = Forkloop::Upstream->start(name => 'b');
my $K = Forkloop::Upstream->start(name => 'k');	# killed mid-answer
my $KA = Forkloop::Upstream->start(name => 'ka', keepalive_timeout => 1);
my $dead = free_port();

my $ok = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
my %raw = (
	garbage => [{ send => "HELLO THERE\r\n\r\n", then => 'close' }],
	binary => [{ send => join('', map { chr } 0 .. 255) x 4,
	    then => 'close' }],
	bigvalue => [{ send => "HTTP/1.1 200 OK\r\nX-Big: " . ('a' x 200_000)
	    . "\r\nContent-Length: 5\r\n\r\nhello", then => 'close' }],
	manyfields => [{ send => "HTTP/1.1 200 OK\r\n"
	    . join('', map { "X-H$_: " . ('b' x 100) . "\r\n" } 1 .. 2000)
	    . "Content-Length: 5\r\n\r\nhello", then => 'close' }],
	badstatus => [{ send => "HTTP/1.1 2000 OK\r\nContent-Length: 5\r\n\r\n"
	    . "hello", then => 'close' }],
	badversion => [{ send => "HTTP/9.9 200 OK\r\nContent-Length: 5\r\n"
	    . "\r\nhello", then => 'close' }],
	cl_twice_diff => [{ send => "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
	    . "Content-Length: 6\r\n\r\nhello!", then => 'close' }],
	cl_twice_same => [{ send => "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
	    . "Content-Length: 5\r\n\r\nhello", then => 'close' }],
	cl_list => [{ send => "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n"
	    . "\r\nhello", then => 'close' }],
	cl_negative => [{ send => "HTTP/1.1 200 OK\r\nContent-Length: -5\r\n"
	    . "\r\nhello", then => 'close' }],
	cl_te => [{ send => "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
	    . "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
	    then => 'close' }],
	te_cl => [{ send => "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    . "Content-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
	    then => 'close' }],
	te_unknown => [{ send => "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
	    . "gzip, chunked, foo\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
	    then => 'close' }],
	close_first => [{ close => 1 }],
	close_midhead => [{ send => "HTTP/1.1 200 OK\r\nContent-Le",
	    then => 'close' }],
	silence => [{ silence => 1 }],
	# Answers that may get their head out before the fault shows.
	badchunk => [{ send => "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked"
	    . "\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", then => 'close' }],
	badchunk_late => [{ send => ["HTTP/1.1 200 OK\r\nTransfer-Encoding: "
	    . "chunked\r\n\r\n5\r\nhello\r\n", "5\r\nworldXX\r\n0\r\n\r\n"],
	    gap => 0.3, then => 'close' }],
	head_silence => [{ send => "HTTP/1.1 200 OK\r\nContent-Length: 100"
	    . "\r\n\r\n0123456789", then => 'silence' }],
	short_close => [{ send => "HTTP/1.1 200 OK\r\nContent-Length: 100"
	    . "\r\n\r\n0123456789", then => 'close' }],
	chunk_close => [{ send => "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
	    . "chunked\r\n\r\n5\r\nhello\r\n", then => 'close' }],
	# 1xx before the answer: not passed on (101 only for an Upgrade).
	continue => [{ send => "HTTP/1.1 100 Continue\r\n\r\n$ok" }],
	early_hints => [{ send => "HTTP/1.1 103 Early Hints\r\nLink: </s.css>;"
	    . " rel=preload\r\n\r\n$ok" }],
	two_1xx => [{ send => ["HTTP/1.1 100 Continue\r\n\r\n",
	    "HTTP/1.1 102 Processing\r\n\r\n", $ok], gap => 0.1 }],
	# Stale pooled connection: the second request on the first connection
	# is closed unanswered; a fresh connection answers it.
	stale => [{ send => $ok }, { close => 1 }],
	stale_post => [{ send => $ok }, { close => 1 }],
);
my %R = map { $_ => Forkloop::Upstream::Raw->new(script => $raw{$_}) }
    keys %raw;
# Failing servers for the retry cases: close before any byte.
my $F1 = Forkloop::Upstream::Raw->new(script => [{ close => 1 }]);
my $F2 = Forkloop::Upstream::Raw->new(script => [{ close => 1 }]);
# A canary: an address no config names; it must never see a connection.
my $canary = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
    Listen => 16, Proto => 'tcp', ReuseAddr => 1) or die "canary: $!";
my $canary_port = $canary->sockport;

# A "blackhole" on loopback: a listener with a backlog of 0 that never
# accepts; once its accept queue is full, Linux drops further SYNs, so a
# connect hangs until its timeout.
my ($hole, $hole_port, @fill, $hole_ok);
{
	# listen(2) itself: IO::Socket::INET does not listen at all when
	# told Listen => 0.
	socket($hole, Socket::PF_INET(), SOCK_STREAM, 0) or die "socket: $!";
	bind($hole, Socket::pack_sockaddr_in(0, Socket::inet_aton('127.0.0.1')))
	    or die "bind: $!";
	listen($hole, 0) or die "listen: $!";
	($hole_port) = Socket::unpack_sockaddr_in(getsockname($hole));
	for (1 .. 3) {
		my $c = IO::Socket::INET->new(Proto => 'tcp', Blocking => 0)
		    or last;
		$c->connect(Socket::pack_sockaddr_in($hole_port,
		    Socket::inet_aton('127.0.0.1')));
		push @fill, $c;
	}
	sleep 0.3;
	my $probe = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $hole_port, Proto => 'tcp', Timeout => 1.5);
	$hole_ok = !$probe;
	close $probe if $probe;
}

my ($a, $b, $k, $ka) = map { $_->addr } $A, $B, $K, $KA;
my $raw_locations = join('', map {
	"    location /raw/$_ {\n        proxy_pass http://" . $R{$_}->addr
	    . ";\n    }\n" } sort keys %R);

my $s = Forkloop->new(config => <<"CONF");
workers 1;
worker_connections 1024;
shutdown_timeout 5s;

upstream pf {
    server ${\ $F1->addr};
    server $b;
}
upstream gf {
    server ${\ $F2->addr};
    server $b;
}
upstream pd {
    server 127.0.0.1:$dead;
    server $b;
}

http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    root %%TESTDIR%%/www;
    proxy_read_timeout 1s;
    proxy_connect_timeout 1s;
    location /down/ {
        proxy_pass http://127.0.0.1:$dead;
    }
    location /hole/ {
        proxy_pass http://127.0.0.1:$hole_port;
    }
$raw_locations}
http {
    listen 127.0.0.1:%%PORT_A%%;
    root %%TESTDIR%%/www;
    proxy_read_timeout 1s;
    proxy_pass http://$a;
}
http {
    listen 127.0.0.1:%%PORT_K%%;
    root %%TESTDIR%%/www;
    proxy_pass http://$k;
}
http {
    listen 127.0.0.1:%%PORT_KA%%;
    root %%TESTDIR%%/www;
    proxy_pass http://$ka;
}
http {
    listen 127.0.0.1:%%PORT_PF%%;
    root %%TESTDIR%%/www;
    proxy_pass http://pf;
}
http {
    listen 127.0.0.1:%%PORT_GF%%;
    root %%TESTDIR%%/www;
    proxy_pass http://gf;
}
http {
    listen 127.0.0.1:%%PORT_PD%%;
    root %%TESTDIR%%/www;
    proxy_pass http://pd;
}
CONF

sub get {
	my ($port, $path, %o) = @_;
	return $s->http_get($path, port => $s->port($port), timeout => 10,
	    quiet => 1, %o);
}

# An answer that must end broken: the client reads until the close and
# gets a head but never a whole answer.  502 instead (the fault seen
# before the head went out) is allowed where $allow_502.
sub broken_ok {
	my ($path, $name, %o) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my $c = $s->connect(port => $s->port($o{port} // 'http'));
	my $buf = eval {
		$c->send(build_request(path => $path));
		$c->read_all(timeout => $o{timeout} // 10);
	} // do { diag("$name: $@"); $c->buffer };
	$c->close;
	my ($r) = eval { parse_response($buf, eof => 1) };
	my $clean = $r && !$r->{until_close};
	if ($o{allow_502} && $buf =~ m{^HTTP/1\.1 502 }) {
		pass("$name: 502");
		return;
	}
	like($buf, qr{^HTTP/1\.1 200 }, "$name: the head went out");
	ok(!$clean, "$name: the answer ends broken, not clean")
	    or diag("got: " . printable($buf, 300));
	if (defined $o{length}) {
		my ($cl) = $buf =~ /^Content-Length:\s*(\d+)/mi;
		is($cl, $o{length}, "$name: Content-Length kept");
	}
}

sub log_names_ok {
	my ($mark, $addr, $name) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my $ok = wait_for(sub {
		$s->log_since($mark) =~ /upstream \Q$addr\E/ }, 3);
	ok($ok, "$name: the error log names upstream $addr")
	    or diag("log since: " . $s->log_since($mark));
}

###########################################################################
# Down at start.

my $mark = $s->log_mark;
my $r = get(http => '/down/x');
is($r->{status}, 502, 'upstream down at start: 502');
log_names_ok($mark, "127.0.0.1:$dead", 'refused');
ok($s->alive, 'forkloop still up');

###########################################################################
# The raw faults that must be 502.

for my $case (qw(garbage binary bigvalue manyfields badstatus badversion
    cl_twice_diff cl_twice_same cl_list cl_negative cl_te te_cl te_unknown
    close_first close_midhead)) {
	$mark = $s->log_mark;
	$r = get(http => "/raw/$case");
	is($r->{status}, 502, "$case: 502")
	    or diag(printable($r->{body} // $r->{error}, 200));
	log_names_ok($mark, $R{$case}->addr, $case);
}

# Faults that may show after the head went out.
broken_ok('/raw/badchunk', 'a bad chunk size', allow_502 => 1);
broken_ok('/raw/badchunk_late', 'a bad chunk after a good one',
    allow_502 => 1);
broken_ok('/raw/short_close', 'closed short of Content-Length',
    length => 100);
broken_ok('/raw/chunk_close', 'closed before the final chunk');

# 1xx: not passed on; the answer after it is.
for my $case (qw(continue early_hints two_1xx)) {
	my $c = $s->connect;
	my $buf = eval {
		$c->send(build_request(path => "/raw/$case"));
		$c->read_all(timeout => 5);
	} // $c->buffer;
	$c->close;
	like($buf, qr{^HTTP/1\.1 200 }, "$case: the client's first answer is "
	    . 'the final one') or diag(printable($buf, 200));
	unlike($buf, qr{HTTP/1\.1 1\d\d }, "$case: no 1xx passed on");
	my ($x) = eval { parse_response($buf, eof => 1) };
	is($x && $x->{body}, 'hello', "$case: the final answer's body");
}

###########################################################################
# Timeouts.

$mark = $s->log_mark;
my $t0 = time;
$r = get(http => '/raw/silence');
is($r->{status}, 504, 'silence before the head, proxy_read_timeout 1s: 504');
log_names_ok($mark, $R{silence}->addr, 'read timeout');
broken_ok('/raw/head_silence', 'a head then silence past the read timeout',
    length => 100);

$r = get(A => '/slow?ms=3000');
is($r->{status}, 504, 'the app slower than proxy_read_timeout: 504');
$r = get(A => '/slow?ms=100');
is($r->{status}, 200, 'the app within proxy_read_timeout: 200');

SKIP: {
	skip 'no SYN-dropping listener could be made on loopback (a connect '
	    . 'to a full accept queue succeeded)', 2 unless $hole_ok;
	$mark = $s->log_mark;
	$r = get(http => '/hole/x', timeout => 15);
	is($r->{status}, 504, 'proxy_connect_timeout 1s to a full accept '
	    . 'queue: 504');
	log_names_ok($mark, "127.0.0.1:$hole_port", 'connect timeout');
}

###########################################################################
# Killed, or aborting, mid-answer.

{
	my $c = $s->connect(port => $s->port('k'));
	$c->send(build_request(path => '/large?bytes=10485760&gate=kill&at='
	    . (1 << 20)));
	my $deadline = time + 10;
	my $got = wait_for(sub {
		$c->_fill(time + 0.2);
		return length($c->buffer) > 512 * 1024;
	}, 10);
	ok($got, 'killed mid-answer: the first part came through')
	    or diag(length($c->buffer) . ' bytes');
	$K->kill_now;
	my $buf = eval { $c->buffer . $c->read_all(timeout => 10) }
	    // do { diag($@); $c->buffer };
	$c->close;
	like($buf, qr{^HTTP/1\.1 200 }, 'killed mid-answer: 200 head');
	like($buf, qr{^Content-Length: 10485760\r?$}mi,
	    'killed mid-answer: Content-Length kept');
	my ($x) = eval { parse_response($buf, eof => 1) };
	ok(!$x, 'killed mid-answer: the client sees it short of its length')
	    or diag(length($buf) . ' bytes');
}
$K->start_again;
{
	my $c = $s->connect(port => $s->port('k'));
	$c->send(build_request(path => '/large?bytes=10485760&chunked=1'
	    . '&gate=kill2&at=' . (1 << 20)));
	my $got = wait_for(sub {
		$c->_fill(time + 0.2);
		return length($c->buffer) > 512 * 1024;
	}, 10);
	ok($got, 'killed mid-answer (chunked): the first part came through');
	$K->kill_now;
	my $buf = eval { $c->buffer . $c->read_all(timeout => 10) }
	    // do { diag($@); $c->buffer };
	$c->close;
	like($buf, qr{^HTTP/1\.1 200 }, 'killed mid-answer (chunked): 200 head');
	my ($x) = eval { parse_response($buf, eof => 1) };
	ok(!$x || $x->{until_close},
	    'killed mid-answer (chunked): no final chunk')
	    or diag(printable($x->{head}, 2000) . ' ' . length($x->{body})
	    . ' bytes of body, ' . length($buf) . ' in all; after the head: ' . printable(substr($buf, length($x->{head}), 200)));
	unlike($buf, qr{\r\n0\r\n\r\n\z}, '  not even at the end');
}
$K->start_again;
broken_ok('/close-mid', 'the app aborts mid-answer (Content-Length)',
    port => 'k', length => 100000);
broken_ok('/close-mid?chunked=1', 'the app aborts mid-answer (chunked)',
    port => 'k');
$r = get(k => '/id');
is($r->{body}, "k\n", 'the restarted app is served again');

###########################################################################
# Stale pooled connections.

for my $case (qw(stale stale_post)) {
	my $post = $case eq 'stale_post';
	my @ans;
	for (1, 2) {
		my $x = $post
		    ? $s->http(build_request(method => 'POST',
		        path => "/raw/$case", body => 'abc'),
		        port => $s->port('http'), quiet => 1)
		    : get(http => "/raw/$case");
		push @ans, ($x->{status} // 'none') . ' ' . ($x->{body} // '');
	}
	is("@ans", '200 hello 200 hello',
	    "$case: both requests answered, the second through the retry");
	my @seen = map { "$_->{conn}.$_->{n}" } @{ $R{$case}->requests };
	is("@seen", '1.1 1.2 2.1', "$case: the pooled connection closed "
	    . 'under the 2nd request, retried once on a fresh one');
}

$KA->reset_stats;
my @ka;
for (1 .. 3) {
	my $x = get(KA => '/id');
	push @ka, ($x->{status} // 'none') . ' ' . ($x->{body} // '');
	sleep 1.5;	# past the app's keep-alive timeout (1 s)
}
is("@ka", "200 ka\n 200 ka\n 200 ka\n",
    'the app closing idle pooled connections: every request succeeds');

###########################################################################
# Retries: a GET goes on to the next server; a POST is never sent twice.

$B->reset_stats;
my %ans;
for (1 .. 4) {
	my $x = $s->http(build_request(method => 'POST', path => '/upload',
	    body => 'payload'), port => $s->port('pf'), quiet => 1);
	$ans{ $x->{status} // 'none' }++;
}
my $f1_posts = grep { $_->{method} eq 'POST' } @{ $F1->requests };
my $b_posts = ($B->stats // {})->{by_path}{'/upload'} // 0;
ok($f1_posts >= 1, "POST: the failing server got $f1_posts");
is($ans{502} // 0, $f1_posts, 'POST: each that failed got 502 (not retried)');
is($b_posts, $ans{200} // 0, 'POST: the good server got only the others');
is($f1_posts + $b_posts, 4, 'POST: four POSTs, four sent, none twice');

%ans = ();
for (1 .. 4) {
	my $x = get(gf => '/id');
	$ans{ ($x->{status} // 'none') . ' ' . ($x->{body} // '') }++;
}
is($ans{"200 b\n"} // 0, 4, 'GET: every one answered, the failed ones '
    . 'retried on the next server') or diag(explain \%ans);
ok(scalar(@{ $F2->requests }) >= 1, 'GET: the failing server was tried');

$B->reset_stats;
%ans = ();
for (1 .. 2) {
	my $x = $s->http(build_request(method => 'POST', path => '/upload',
	    body => 'payload'), port => $s->port('pd'), quiet => 1);
	$ans{ $x->{status} // 'none' }++;
}
is($ans{502} // 0, 1, 'POST to a refusing server: 502, not sent on '
    . '(proxy-spec: only GET, HEAD, PUT, DELETE, OPTIONS go on)')
    or diag(explain \%ans);
is(($B->stats // {})->{by_path}{'/upload'} // 0, 1,
    'POST: the good server got the other one only');

###########################################################################
# A client request with Transfer-Encoding and Content-Length: 400, and
# the upstream sees nothing of it.

$A->reset_stats;
{
	my $x = Forkloop::Conn->new(port => $s->port('A'));
	$x->send("POST /upload HTTP/1.1\r\nHost: localhost\r\n"
	    . "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"
	    . "Connection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
	my $resp = eval { $x->response };
	is($resp && $resp->{status}, 400,
	    'a request with Transfer-Encoding and Content-Length: 400');
	$x->close;
}
is(($A->stats // {})->{by_path}{'/upload'} // 0, 0,
    '  and the upstream never saw it');

###########################################################################
# No address the config does not name.

my @tricks = (
	"GET http://127.0.0.1:$canary_port/x HTTP/1.1\r\nHost: 127.0.0.1:"
	    . "$canary_port\r\nConnection: close\r\n\r\n",
	"GET http://localhost:$canary_port/x HTTP/1.1\r\nHost: localhost\r\n"
	    . "Connection: close\r\n\r\n",
	"GET /x HTTP/1.1\r\nHost: 127.0.0.1:$canary_port\r\n"
	    . "Connection: close\r\n\r\n",
	"GET //127.0.0.1:$canary_port/x HTTP/1.1\r\nHost: localhost\r\n"
	    . "Connection: close\r\n\r\n",
	"GET @127.0.0.1:$canary_port/x HTTP/1.1\r\nHost: localhost\r\n"
	    . "Connection: close\r\n\r\n",
	"CONNECT 127.0.0.1:$canary_port HTTP/1.1\r\nHost: 127.0.0.1:"
	    . "$canary_port\r\n\r\n",
	"GET /x HTTP/1.1\r\nHost: localhost\r\nX-Forwarded-Host: 127.0.0.1:"
	    . "$canary_port\r\nConnection: close\r\n\r\n",
	"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:$canary_port\r\n"
	    . "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    . "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    . "Sec-WebSocket-Version: 13\r\n\r\n",
	"GET http://unix:/tmp/nothing.sock:/x HTTP/1.1\r\nHost: localhost\r\n"
	    . "Connection: close\r\n\r\n",
);
for my $port (qw(A http)) {
	for my $t (@tricks) {
		my $c = eval { Forkloop::Conn->new(port => $s->port($port),
		    timeout => 5) } or next;
		eval { $c->send($t); $c->response(timeout => 3) };
		$c->close;
	}
}
my $sel = IO::Select->new($canary);
ok(!$sel->can_read(0.5), 'no request reached the canary address '
    . "127.0.0.1:$canary_port (absolute-form, Host, CONNECT, Upgrade)");

###########################################################################

ok($s->alive, 'forkloop still running');
$r = get(A => '/hello/end');
is($r->{body}, "Hello, end\n", 'and still proxying');
$s->log_clean_ok([qr/upstream/]);
is($s->stop, 0, 'exit status 0 on QUIT');

done_testing;
