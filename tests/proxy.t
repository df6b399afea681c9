#!/usr/bin/perl
# proxy.t: the reverse proxy (issue 14, /work/notes/proxy-spec.md) in its
# everyday uses, with the issue's aiohttp application
# (tests/lib/upstream_app.py) behind it:
#
#   - GET, HEAD and POST through proxy_pass to an address, to an upstream
#     block, to a Unix socket (nginx's http://unix:PATH:/URI form and a
#     "server unix:PATH" in a block); the URI passed unchanged, or the
#     location's prefix replaced by proxy_pass's URI part;
#   - the head sent on: Host ($proxy_host, or proxy_set_header), and
#     X-Forwarded-For, X-Real-IP, X-Forwarded-Proto and Forwarded from the
#     client (also through the PROXY protocol); hop-by-hop fields dropped
#     both ways (RFC 9110 7.6.1); proxy_set_header with variables and "";
#     proxy_hide_header; proxy_redirect default and off; Set-Cookie twice;
#   - the status codes of the upstream passed through;
#   - the keep-alive pool (one upstream connection for sequential
#     requests), weighted round robin (exact counts, workers 1),
#     least_conn, backup servers, max_fails/fail_timeout, all down: 502;
#   - $upstream_addr, $upstream_status, $upstream_response_time in a
#     log_format access log;
#   - over HTTP/2 (curl --http2-prior-knowledge): a GET and a POST.

use strict;
use warnings;

use Test::More;
use Digest::SHA qw(sha256_hex);
use JSON::PP ();
use File::Temp ();
use Time::HiRes qw(time sleep);
use Forkloop qw(wait_for free_port build_request);
use Forkloop::Ops qw(run_cmd which);
use Forkloop::Upstream qw(upstream_python);

Forkloop::check_binary();
plan skip_all => 'python3-aiohttp is needed (Debian package python3-aiohttp)'
    unless upstream_python();
Forkloop::watchdog(180);

my $tmp = File::Temp->newdir('proxy-t-XXXXXX', TMPDIR => 1);
my $sock = "$tmp/app.sock";
my $A = Forkloop::Upstream->start(name => 'a');
my $B = Forkloop::Upstream->start(name => 'b');
my $U = Forkloop::Upstream->start(name => 'u', unix => $sock);
# A server that takes each request and closes before a byte of answer
# (a failing server whose tries can be counted).
my $F = Forkloop::Upstream::Raw->new(script => [{ close => 1 }]);
my ($dead1, $dead2, $dead3) = (free_port(), free_port(), free_port());
my ($a, $b, $f) = ($A->addr, $B->addr, $F->addr);

my $s = Forkloop->new(config => <<"CONF");
workers 1;
worker_connections 1024;
shutdown_timeout 5s;
log_format up '\$uri \$status ua=\$upstream_addr us=\$upstream_status urt=\$upstream_response_time';

upstream pool {
    server $a weight=3;
    server $b;
    keepalive 8;
}
upstream lc {
    least_conn;
    server $a;
    server $b;
}
upstream bk1 {
    server $b;
    server $a backup;
}
upstream bk2 {
    server 127.0.0.1:$dead1;
    server $a backup;
}
upstream bk3 {
    server 127.0.0.1:$dead2;
    server $b;
    server $a backup;
}
upstream mf {
    server $f max_fails=2 fail_timeout=3s;
    server $b;
}
upstream alldown {
    server 127.0.0.1:$dead1;
    server 127.0.0.1:$dead3;
}
upstream ux {
    server unix:$sock;
}

http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    listen 127.0.0.1:%%PORT_PP%% proxy_protocol;
    root %%TESTDIR%%/www;
    access_log %%TESTDIR%%/up.log up;
    proxy_pass http://$a;
    location /front/ {
        proxy_pass http://$a/hello/;
    }
    location /h/ {
        proxy_pass http://$a/headers/;
    }
    location /fr/ {
        proxy_pass http://$a/;
    }
    location /u/ {
        proxy_pass http://unix:$sock:/;
    }
}
http {
    listen 127.0.0.1:%%PORT_HDR%%;
    root %%TESTDIR%%/www;
    proxy_pass http://$a;
    proxy_set_header Host \$host;
    proxy_set_header X-Custom "c-\$remote_addr-\$scheme";
    proxy_set_header X-From \$http_x_in;
    proxy_set_header X-Uri \$request_uri;
    proxy_set_header X-Ph \$proxy_host;
    proxy_set_header Accept-Encoding "";
    proxy_hide_header X-Hidden;
    proxy_redirect off;
}
http {
    listen 127.0.0.1:%%PORT_POOL%%;
    root %%TESTDIR%%/www;
    proxy_pass http://pool;
}
http {
    listen 127.0.0.1:%%PORT_LC%%;
    root %%TESTDIR%%/www;
    proxy_pass http://lc;
}
http {
    listen 127.0.0.1:%%PORT_BK1%%;
    root %%TESTDIR%%/www;
    proxy_pass http://bk1;
}
http {
    listen 127.0.0.1:%%PORT_BK2%%;
    root %%TESTDIR%%/www;
    proxy_pass http://bk2;
}
http {
    listen 127.0.0.1:%%PORT_BK3%%;
    root %%TESTDIR%%/www;
    proxy_pass http://bk3;
}
http {
    listen 127.0.0.1:%%PORT_MF%%;
    root %%TESTDIR%%/www;
    proxy_pass http://mf;
}
http {
    listen 127.0.0.1:%%PORT_DOWN%%;
    root %%TESTDIR%%/www;
    access_log %%TESTDIR%%/down.log up;
    proxy_pass http://alldown;
}
http {
    listen 127.0.0.1:%%PORT_UX%%;
    root %%TESTDIR%%/www;
    proxy_pass http://ux;
}
CONF

sub get {
	my ($port, $path, %o) = @_;
	return $s->http_get($path, port => $s->port($port), timeout => 10,
	    %o);
}

# The app's /headers answer, decoded, with a lookup by name.
sub upstream_saw {
	my ($r) = @_;
	return undef unless ($r->{status} // 0) == 200;
	my $doc = eval { JSON::PP->new->decode($r->{body}) } or return undef;
	for my $h (@{ $doc->{headers} }) {
		push @{ $doc->{h}{ lc $h->[0] } }, $h->[1];
	}
	return $doc;
}

sub field {
	my ($doc, $name) = @_;
	my $v = $doc && $doc->{h}{ lc $name };
	return undef unless $v;
	return join(', ', @$v);
}

# Forwarded: for=FOR;proto=http;host=localhost, where a value may also be
# a quoted-string (RFC 7239 4: token / quoted-string).
sub forwarded_re {
	my ($for) = @_;
	my $f = $for =~ /^"/ ? quotemeta($for)
	    : '(?:' . quotemeta($for) . '|"' . quotemeta($for) . '")';
	return qr/^for=$f;proto=(?:http|"http");host=(?:localhost|"localhost")\z/;
}

sub count_of {
	my ($doc, $name) = @_;
	my $v = $doc && $doc->{h}{ lc $name };
	return $v ? scalar @$v : 0;
}

###########################################################################
# Basics: to an address, URI unchanged.

my $r = get(http => '/');
is($r->{status}, 200, 'GET / through proxy_pass to an address');
is($r->{body}, "Hello, world\n", 'the app\'s answer');
is($r->{headers}{'x-upstream-name'}, 'a', 'from instance a');

$r = get(http => '/hello/forkloop');
is($r->{body}, "Hello, forkloop\n", 'GET /hello/{name}');
$r = get(http => '/sleep');
is($r->{status} . ' ' . ($r->{body} // ''), "200 slept\n",
    'the handler awaiting asyncio.sleep(0.5)');

$r = $s->http_head('/hello/head', port => $s->port('http'));
is($r->{status}, 200, 'HEAD: 200');
is($r->{body}, '', 'HEAD: no body');
is($r->{headers}{'content-length'} // '12', '12',
    'HEAD: the Content-Length of the GET, if any');

{
	# HEAD then GET on one client connection: the HEAD's framing is right
	# (no body expected, none sent).
	my $c = $s->connect;
	$c->send(build_request(method => 'HEAD', path => '/hello/x',
	    keepalive => 1));
	my $h = eval { $c->response(head => 1) };
	$c->send(build_request(path => '/hello/y', keepalive => 1));
	my $g = eval { $c->response };
	is(($g && $g->{body}) // $@, "Hello, y\n",
	    'a GET after a HEAD on one connection');
	$c->close;
}

my $body = join('', map { chr(($_ * 13) & 0xff) } 1 .. 100_000);
$r = $s->http(build_request(method => 'POST', path => '/upload',
    body => $body), port => $s->port('http'));
my $up = ($r->{status} // 0) == 200
    ? eval { JSON::PP->new->decode($r->{body}) } : undef;
is($up && $up->{bytes}, 100_000, 'POST: the upstream got every byte');
is($up && $up->{sha256}, sha256_hex($body), 'POST: the same bytes');

###########################################################################
# The head sent on.

$r = get(http => '/headers?a=1&b=%20x&c');
my $d = upstream_saw($r);
ok($d, 'GET /headers answered') or diag(explain $r);
is($d && $d->{method}, 'GET', 'method passed');
is($d && $d->{path}, '/headers?a=1&b=%20x&c', 'URI and query unchanged');
is($d && $d->{version}, '1.1', 'HTTP/1.1 to the upstream');
is(field($d, 'Host'), $a, 'Host: the proxy_pass address ($proxy_host)');
is(count_of($d, 'Host'), 1, 'one Host');
is(field($d, 'X-Forwarded-For'), '127.0.0.1', 'X-Forwarded-For: the client');
is(field($d, 'X-Real-IP'), '127.0.0.1', 'X-Real-IP: the client');
is(field($d, 'X-Forwarded-Proto'), 'http', 'X-Forwarded-Proto: http');
like(field($d, 'Forwarded') // '', forwarded_re('127.0.0.1'),
    'Forwarded (RFC 7239): for, proto, host');

$r = get(http => '/headers', headers => ['X-Forwarded-For' => '203.0.113.7',
    'X-Real-IP' => '198.51.100.1', 'X-Forwarded-Proto' => 'https']);
$d = upstream_saw($r);
is(field($d, 'X-Forwarded-For'), '203.0.113.7, 127.0.0.1',
    'X-Forwarded-For: the client\'s list, then the client');
is(field($d, 'X-Real-IP'), '127.0.0.1',
    'a client\'s X-Real-IP is replaced');
is(field($d, 'X-Forwarded-Proto'), 'http',
    'a client\'s X-Forwarded-Proto is replaced');

{
	my $raw = "PROXY TCP4 192.0.2.10 192.0.2.20 56324 80\r\n"
	    . build_request(path => '/headers');
	my $p = $s->http($raw, port => $s->port('pp'));
	my $pd = upstream_saw($p);
	is(field($pd, 'X-Forwarded-For'), '192.0.2.10',
	    'PROXY protocol: X-Forwarded-For is its source');
	is(field($pd, 'X-Real-IP'), '192.0.2.10',
	    'PROXY protocol: X-Real-IP is its source');
	like(field($pd, 'Forwarded') // '', forwarded_re('192.0.2.10'),
	    'PROXY protocol: Forwarded for= its source');

	$raw = "PROXY TCP6 2001:db8::1 2001:db8::2 56324 80\r\n"
	    . build_request(path => '/headers');
	$pd = upstream_saw($s->http($raw, port => $s->port('pp')));
	is(field($pd, 'X-Real-IP'), '2001:db8::1', 'PROXY TCP6: X-Real-IP');
	like(field($pd, 'Forwarded') // '', forwarded_re('"[2001:db8::1]"'),
	    'PROXY TCP6: Forwarded for="[ADDR]" (RFC 7239 6)');
}

# Hop-by-hop fields of the request (RFC 9110 7.6.1).
$r = get(http => '/headers', headers => [
    'Connection' => 'keep-alive, X-Bar',
    'X-Bar' => 'named-by-connection',
    'Keep-Alive' => 'timeout=300',
    'Proxy-Connection' => 'keep-alive',
    'TE' => 'trailers',
    'Trailer' => 'X-Checksum',
    'X-Kept' => 'end-to-end',
    'Proxy-Authorization' => 'Basic Zm9vOmJhcg==',
]);
$d = upstream_saw($r);
ok($d, 'request with hop-by-hop fields answered');
is(field($d, 'X-Bar'), undef, 'a field the Connection names is dropped');
unlike(field($d, 'Connection') // '', qr/x-bar/i,
    'the client\'s Connection is not passed');
is(field($d, 'Keep-Alive'), undef, 'Keep-Alive dropped');
is(field($d, 'Proxy-Connection'), undef, 'Proxy-Connection dropped');
is(field($d, 'TE'), undef, 'TE dropped');
is(field($d, 'Trailer'), undef, 'Trailer dropped');
is(field($d, 'X-Kept'), 'end-to-end', 'an end-to-end field passes');
is(field($d, 'Proxy-Authorization'), 'Basic Zm9vOmJhcg==',
    'Proxy-Authorization goes on');

# ... and of the answer.
$r = get(http => '/hop');
is($r->{status}, 200, '/hop: 200');
is($r->{body}, "hop\n", '/hop: body');
is($r->{headers}{'x-kept'}, 'yes', 'an end-to-end field of the answer passes');
ok(!exists $r->{headers}{'x-foo'},
    'a field the upstream\'s Connection names is dropped');
unlike($r->{headers}{connection} // '', qr/x-foo/i,
    'the upstream\'s Connection is not passed');
ok(!exists $r->{headers}{'keep-alive'}, 'Keep-Alive dropped');
ok(!exists $r->{headers}{'proxy-connection'}, 'Proxy-Connection dropped');
ok(!exists $r->{headers}{upgrade}, 'Upgrade dropped (no tunnel)');
ok(!exists $r->{headers}{trailer}, 'Trailer dropped');
is($r->{headers}{'x-hidden'}, 'secret', 'X-Hidden passes where not hidden');

$r = get(http => '/set-cookie');
is($r->{header_count}{'set-cookie'}, 2, 'two Set-Cookie fields stay two');
is($r->{headers}{'set-cookie'}, 'a=1; Path=/, b=2; Path=/; HttpOnly',
    'both cookies, in order');

# proxy_set_header, proxy_hide_header, proxy_redirect off.
$r = get(hdr => '/headers?q=1', headers => ['X-In' => 'from-client',
    'Accept-Encoding' => 'gzip']);
$d = upstream_saw($r);
is(field($d, 'Host'), 'localhost', 'proxy_set_header Host $host');
is(count_of($d, 'Host'), 1, 'one Host with proxy_set_header');
is(field($d, 'X-Custom'), 'c-127.0.0.1-http',
    'proxy_set_header with $remote_addr and $scheme');
is(field($d, 'X-From'), 'from-client', 'proxy_set_header with $http_NAME');
is(field($d, 'X-Uri'), '/headers?q=1', 'proxy_set_header with $request_uri');
is(field($d, 'X-Ph'), $a, 'proxy_set_header with $proxy_host');
is(field($d, 'Accept-Encoding'), undef, 'proxy_set_header NAME "" drops it');
is(field($d, 'X-Forwarded-For'), '127.0.0.1',
    'X-Forwarded-For still added by default');
$r = get(hdr => '/hop');
ok(!exists $r->{headers}{'x-hidden'}, 'proxy_hide_header X-Hidden');
is($r->{headers}{'x-kept'}, 'yes', 'proxy_hide_header hides only that');

# proxy_redirect.
$r = get(http => '/redirect?self=1');
is($r->{status}, 302, 'redirect: 302 passed');
like($r->{headers}{location} // '',
    qr{^(?:http://localhost(?::\d+)?)?/target\?from=redirect\z},
    'proxy_redirect default: the upstream\'s address becomes ours')
    or diag("Location: " . ($r->{headers}{location} // '<none>'));
$r = get(pool => '/redirect');
like($r->{headers}{location} // '',
    qr{^(?:http://localhost(?::\d+)?)?/target\?from=redirect\z},
    'proxy_redirect default with an upstream block (http://pool/)')
    or diag("Location: " . ($r->{headers}{location} // '<none>'));
$r = get(http => '/fr/redirect?self=1');
like($r->{headers}{location} // '',
    qr{^(?:http://localhost(?::\d+)?)?/fr/target\?from=redirect\z},
    'proxy_redirect default with a URI part: its prefix becomes the '
    . 'location\'s (nginx)')
    or diag("Location: " . ($r->{headers}{location} // '<none>'));
$r = get(hdr => '/redirect?self=1');
is($r->{headers}{location}, "http://$a/target?from=redirect",
    'proxy_redirect off leaves Location alone');

###########################################################################
# URI replacement and Unix sockets.

$r = get(http => '/front/bob');
is($r->{body}, "Hello, bob\n",
    'location /front/ + proxy_pass .../hello/: the prefix replaced');
$d = upstream_saw(get(http => '/h/x/y?q=1&r=%41'));
is($d && $d->{path}, '/headers/x/y?q=1&r=%41',
    'URI part: the rest of the path and the query kept');
$r = get(http => '/u/hello/sock');
is($r->{body}, "Hello, sock\n", 'proxy_pass http://unix:PATH:/');
is($r->{headers}{'x-upstream-name'}, 'u', 'from the Unix-socket instance');
$r = get(ux => '/id');
is($r->{body}, "u\n", 'upstream { server unix:PATH; }');
$d = upstream_saw(get(pool => '/headers'));
is(field($d, 'Host'), 'pool', 'Host for an upstream block: its name');

###########################################################################
# Status codes passed through.

for my $code (201, 204, 301, 400, 403, 404, 410, 500, 502, 503) {
	$r = get(http => "/status/$code");
	is($r->{status}, $code, "upstream's $code passed through");
	is($r->{body}, $code == 204 ? '' : "status $code\n",
	    "  with its body");
}

###########################################################################
# The keep-alive pool: sequential requests share one upstream connection.

get(http => '/hello/warm');	# a pooled connection to a, if none
$A->reset_stats;
my (%conn, %port, @n);
for my $i (1 .. 5) {
	$d = upstream_saw(get(http => '/headers'));
	$conn{ $d ? $d->{conn} : 'none' }++;
	$port{ $d ? $d->{peer_port} // 'none' : 'none' }++;
	push @n, $d ? $d->{conn_requests} : 0;
}
is(scalar keys %conn, 1, 'five requests, one upstream connection')
    or diag(explain \%conn);
is(scalar keys %port, 1, '  from one local port');
ok($n[4] >= 5 && $n[4] == $n[0] + 4,
    '  its request count grows by one a request') or diag("@n");
my $st = $A->stats;
is($st && $st->{conns_opened}, 0,
    'no new connection to the upstream for them');

###########################################################################
# Weighted round robin (per worker; workers 1): a weight=3, b weight=1.

my %got;
for (1 .. 40) {
	my $x = get(pool => '/id');
	$got{ ($x->{status} // 0) == 200 ? $x->{body} : 'error' }++;
}
is($got{"a\n"} // 0, 30, 'weighted round robin: a (weight 3) 30 of 40');
is($got{"b\n"} // 0, 10, 'weighted round robin: b (weight 1) 10 of 40');

###########################################################################
# least_conn: while a slow request holds one server, the others go to the
# other.

$A->reset_stats;
$B->reset_stats;
{
	my $c = $s->connect(port => $s->port('lc'));
	$c->send(build_request(path => '/slow?ms=2000'));
	my $held = wait_for(sub {
		for my $u ($A, $B) {
			my $x = $u->stats or next;
			return $u->name if $x->{by_path}{'/slow'};
		}
		return 0;
	}, 5);
	ok($held, 'least_conn: the slow request reached an upstream');
	my %quick;
	for (1 .. 4) {
		my $x = get(lc => '/id');
		$quick{ $x->{body} // 'error' }++;
	}
	my $other = ($held // '') eq 'a' ? "b\n" : "a\n";
	is($quick{$other} // 0, 4,
	    'least_conn: four quick requests all to the idle server')
	    or diag(explain \%quick);
	my $slow = eval { $c->response(timeout => 10) };
	is($slow && $slow->{headers}{'x-upstream-name'}, $held,
	    'least_conn: the slow one answered by the busy server');
	$c->close;
}

###########################################################################
# Backup servers, passive health, all down.

%got = ();
for (1 .. 6) {
	my $x = get(bk1 => '/id');
	$got{ $x->{body} // 'error' }++;
}
is($got{"b\n"} // 0, 6, 'backup: not used while the primary is up');

%got = ();
for (1 .. 4) {
	my $x = get(bk2 => '/id');
	$got{ ($x->{status} // 0) . ' ' . ($x->{body} // '') }++;
}
is($got{"200 a\n"} // 0, 4,
    'backup: used when the only primary is down (refused), from the '
    . 'first request') or diag(explain \%got);

%got = ();
for (1 .. 6) {
	my $x = get(bk3 => '/id');
	$got{ ($x->{status} // 0) . ' ' . ($x->{body} // '') }++;
}
is($got{"200 b\n"} // 0, 6,
    'backup: not used while one of two primaries is up')
    or diag(explain \%got);

%got = ();
for (1 .. 10) {
	my $x = get(mf => '/id');
	$got{ ($x->{status} // 0) . ' ' . ($x->{body} // '') }++;
}
is($got{"200 b\n"} // 0, 10,
    'max_fails: every GET answered by the good server (retried there)')
    or diag(explain \%got);
my $tries = scalar @{ $F->requests };
is($tries, 2, 'max_fails=2: the failing server tried twice, then down');
sleep 3.5;	# fail_timeout=3s: tried again after it
for (1 .. 4) {
	my $x = get(mf => '/id');
	$got{ ($x->{status} // 0) . ' ' . ($x->{body} // '') }++;
}
is($got{"200 b\n"} // 0, 14, 'max_fails: still every GET answered');
my $again = scalar(@{ $F->requests }) - $tries;
ok($again >= 1 && $again <= 2,
    "after fail_timeout the failing server is tried again ($again)");

$r = get(down => '/id');
is($r->{status}, 502, 'all servers down: 502');

###########################################################################
# $upstream_* in the access log.

my $line = wait_for(sub {
	my ($l) = grep { m{^/hello/forkloop } }
	    split /\n/, $s->read_file('up.log') // '';
	return $l;
}, 5);
like($line // '', qr{^/hello/forkloop 200 ua=\Q$a\E us=200 urt=\d+\.\d{3}\z},
    'log: $upstream_addr, $upstream_status, $upstream_response_time')
    or diag("line: " . ($line // '<none>'));
$line = wait_for(sub {
	my ($l) = grep { m{^/status/503 } }
	    split /\n/, $s->read_file('up.log') // '';
	return $l;
}, 5);
like($line // '', qr{^/status/503 503 ua=\Q$a\E us=503 urt=\d+\.\d{3}\z},
    'log: the upstream\'s 503') or diag("line: " . ($line // '<none>'));
$line = wait_for(sub {
	my ($l) = grep { m{^/id } } split /\n/, $s->read_file('down.log') // '';
	return $l;
}, 5);
like($line // '', qr{^/id 502 ua=127\.0\.0\.1:(?:$dead1, 127\.0\.0\.1:$dead3|$dead3, 127\.0\.0\.1:$dead1) us=502, 502 urt=\d+\.\d{3}, \d+\.\d{3}\z},
    'log: all down: each server tried, with its 502 and time, as nginx')
    or diag("line: " . ($line // '<none>'));

###########################################################################
# HTTP/2 clients through the proxy (h2c, prior knowledge).

SKIP: {
	my $curl = which('curl');
	skip 'curl is needed for the HTTP/2 cases', 5 unless $curl;
	my $url = 'http://127.0.0.1:' . $s->port('http');
	my $x = run_cmd([$curl, '-sS', '--http2-prior-knowledge', '-m', '10',
	    '-w', '\n%{http_version} %{http_code}', "$url/hello/h2"],
	    timeout => 20);
	is($x->{stdout}, "Hello, h2\n\n2 200", 'h2: GET through the proxy')
	    or diag($x->{stderr});

	my $file = "$tmp/h2-body";
	my $data = join('', map { chr(($_ * 7 + 1) & 0xff) } 1 .. 300_000);
	open(my $fh, '>', $file) or die "$file: $!";
	binmode $fh;
	print {$fh} $data;
	close $fh;
	$x = run_cmd([$curl, '-sS', '--http2-prior-knowledge', '-m', '20',
	    '--data-binary', "\@$file", '-H', 'Content-Type: application/x-b',
	    '-w', '\n%{http_version} %{http_code}', "$url/upload"],
	    timeout => 30);
	my ($json, $tail) = split /\n/, $x->{stdout} // '', 2;
	is($tail, '2 200', 'h2: POST through the proxy: 200')
	    or diag($x->{stderr});
	my $j = eval { JSON::PP->new->decode($json // '') };
	is($j && $j->{bytes}, 300_000, 'h2: POST: every byte');
	is($j && $j->{sha256}, sha256_hex($data), 'h2: POST: the same bytes');

	$x = run_cmd([$curl, '-sS', '--http2-prior-knowledge', '-m', '10',
	    "$url/headers"], timeout => 20);
	my $hd = eval { JSON::PP->new->decode($x->{stdout}) };
	is($hd && $hd->{version}, '1.1', 'h2: HTTP/1.1 to the upstream');
}

###########################################################################

ok($s->alive, 'forkloop still running');
$s->log_clean_ok([qr/upstream/]);
is($s->stop, 0, 'exit status 0 on QUIT');

done_testing;
