#!/usr/bin/perl
# hostile.t: the hostile-input suite of issue 5.  A table of malformed,
# oversized and ambiguous requests (bad request lines, malformed and
# oversized header sections, NUL and control bytes, bad Host fields, bad
# Content-Length and Transfer-Encoding, bad chunked bodies, smuggling
# shapes, absolute-form and asterisk-form targets, traversal), each sent
# on a connection of its own.  For each case:
#
#   - the answer is one of the statuses RFC 9110/9112 allow for it (a
#     "close" entry means closing without an answer is right too);
#   - an answer with "Connection: close" is followed by the close and by
#     nothing else (so a smuggled request is never answered);
#   - an answer without it leaves a usable connection: a GET sent next on
#     it gets exactly its own answer (so the framing did not go astray);
#   - no answer carries the secret kept outside the root;
#   - a good request on a new connection is answered.
#
# At the end no worker has died (same pids) and the error log shows no
# crash.  Statuses: 400 malformed, 404 not found, 405 method, 413 body too
# large, 414 URI too long, 417 expectation, 431 fields too large, 501 not
# implemented, 505 version.

use strict;
use warnings;

use Test::More;
our $TODO;
use Time::HiRes qw(time);
use Forkloop qw(wait_for);
use Forkloop::Raw qw(show);

Forkloop::check_binary();
Forkloop::watchdog(120);

my $secret = "SECRET-$$-outside-the-root\n";
my $a_txt = "file a\n";

my $s = Forkloop->new(files => {
    'secret.txt' => $secret,
    'www/index.html' => "index\n",
    'www/a.txt' => $a_txt,
    'www/sub/deep.txt' => "deep\n",
}, config => { workers => 2, http => { max_body_size => '1k', http2 => 'off',
    header_timeout => '3s', body_timeout => '3s', keepalive_timeout => '10s' } });
my $PORT = $s->port('http');
my @workers = $s->wait_workers(2);
is(scalar @workers, 2, 'two workers to start with');

###########################################################################
# Request builders.

my $H = "Host: localhost\r\n";
# GET /a.txt with these field lines (Host not included).
sub fields { "GET /a.txt HTTP/1.1\r\n" . join('', @_) . "\r\n" }
# GET /a.txt with Host and these field lines.
sub hfields { fields($H, @_) }
# A request line, then Host.
sub line { "$_[0]\r\n$H\r\n" }
# POST /echo with these field lines and this body.
sub post { "POST /echo HTTP/1.1\r\n$H$_[0]\r\n" . ($_[1] // '') }
# POST /echo, chunked, with this body.
sub chunked { post("Transfer-Encoding: chunked\r\n", $_[0]) }
# GET of a target.
sub target { "GET $_[0] HTTP/1.1\r\n$H\r\n" }

# A body cut short by the client's EOF can never complete, yet the
# connection waits for body_timeout (60 s by default) before its 408.

my $smuggled = "GET /smuggled HTTP/1.1\r\n$H\r\n";

# [ name, bytes, [acceptable statuses, or 'close'], options ]
# Options: close => 1 when the RFC requires the close after the answer;
# shutdown => 1 to half-close after sending; body => the body a 200 must
# carry; head => 1 for a HEAD; within => seconds the answer (or close)
# may take, within_todo => why that is a known failure.
my @cases = (
	# Request lines (RFC 9112 3).
	['empty method', line(' /a.txt HTTP/1.1'), [400]],
	['method only', "GET\r\n$H\r\n", [400]],
	['no version (HTTP/0.9 form)', "GET /a.txt\r\n\r\n", [400]],
	['no target', line('GET HTTP/1.1'), [400]],
	['two spaces after the method', line('GET  /a.txt HTTP/1.1'), [400]],
	['two spaces before the version', line('GET /a.txt  HTTP/1.1'), [400]],
	['a space after the version', line('GET /a.txt HTTP/1.1 '), [400]],
	['a space before the method', line(' GET /a.txt HTTP/1.1'), [400]],
	['tabs as separators', line("GET\t/a.txt\tHTTP/1.1"), [400]],
	['a tab before the version', line("GET /a.txt\tHTTP/1.1"), [400]],
	['lower-case version', line('GET /a.txt http/1.1'), [400]],
	['mixed-case version', line('GET /a.txt Http/1.1'), [400]],
	['HTTP/1.1x', line('GET /a.txt HTTP/1.1x'), [400]],
	['HTTP/1.', line('GET /a.txt HTTP/1.'), [400]],
	['HTTP/1', line('GET /a.txt HTTP/1'), [400]],
	['HTTP/11', line('GET /a.txt HTTP/11'), [400]],
	['HTTP/1.10', line('GET /a.txt HTTP/1.10'), [400]],
	['HTTP/1.a', line('GET /a.txt HTTP/1.a'), [400]],
	['HTTPS/1.1', line('GET /a.txt HTTPS/1.1'), [400]],
	['HTTP/2 (no minor)', line('GET /a.txt HTTP/2'), [400, 505]],
	['HTTP/2.0', line('GET /a.txt HTTP/2.0'), [505]],
	['HTTP/3.0', line('GET /a.txt HTTP/3.0'), [505]],
	['HTTP/0.9', line('GET /a.txt HTTP/0.9'), [505]],
	['HTTP/2 connection preface, http2 off',
	    "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
	    [400, 501, 505]],
	['a 1000-byte method', line(('M' x 1000) . ' /a.txt HTTP/1.1'), [501]],
	['a 20000-byte method', ('M' x 20000) . " /a.txt HTTP/1.1\r\n$H\r\n",
	    [400, 414, 501]],
	['a 20000-byte target', line('GET /' . ('t' x 20000) . ' HTTP/1.1'),
	    [414]],
	['"(" in the method', line('GE(T /a.txt HTTP/1.1'), [400]],
	['lower-case method (case-sensitive)', line('get /a.txt HTTP/1.1'),
	    [501]],
	['unknown method', line('BREW /a.txt HTTP/1.1'), [501]],
	['NUL in the method', line("G\0T /a.txt HTTP/1.1"), [400]],
	['NUL in the target', line("GET /a\0.txt HTTP/1.1"), [400]],
	['a space in the target', line('GET /a b.txt HTTP/1.1'), [400]],
	['DEL in the target', line("GET /a\x7f.txt HTTP/1.1"), [400]],
	['raw UTF-8 in the target', line("GET /caf\xc3\xa9 HTTP/1.1"),
	    [400, 404]],
	['a control byte in the target', line("GET /a\x01.txt HTTP/1.1"),
	    [400]],
	['a bare CR ends the request line', "GET /a.txt HTTP/1.1\r$H\r\n",
	    [400]],
	['a target without a slash', line('GET a.txt HTTP/1.1'), [400]],
	['empty lines before the request line (9112 2.2)',
	    "\r\n\r\n" . hfields(), [200], body => $a_txt],
	['bare LF line ends throughout (9112 2.2 MAY)',
	    "GET /a.txt HTTP/1.1\nHost: localhost\n\n", [200, 400]],
	['binary junk', "\x00\x01\x02\x03\xff\xfe\r\n\r\n", [400]],
	['a TLS ClientHello', "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03"
	    . ("\x00" x 32), ['close', 400, 408], shutdown => 1],
	['CONNECT', line('CONNECT localhost:80 HTTP/1.1'), [400, 405, 501]],
	['a head that stops half-way, then EOF', "GET /a.txt HTTP/1.1\r\n$H",
	    ['close', 400], shutdown => 1, within => 1.5],

	# Header fields (RFC 9112 5, RFC 9110 5.5).
	['a field without a colon', hfields("NoColon\r\n"), [400]],
	['a space before the colon (a MUST, 9112 5.1)',
	    hfields("X-A : b\r\n"), [400]],
	['a tab before the colon', hfields("X-A\t: b\r\n"), [400]],
	['"Host :" with a space', fields("Host : localhost\r\n"), [400]],
	['an empty field name', hfields(": value\r\n"), [400]],
	['obs-fold with a space (9112 5.2)', hfields("X-A: b\r\n c\r\n"),
	    [400]],
	['obs-fold with a tab', hfields("X-A: b\r\n\tc\r\n"), [400]],
	['whitespace before the first field (9112 2.2)',
	    "GET /a.txt HTTP/1.1\r\n Host: localhost\r\n\r\n", [400]],
	['a line of spaces among the fields', hfields("   \r\n"), [400]],
	['NUL in a field name', hfields("X-\0A: b\r\n"), [400]],
	['NUL in a field value (9110 5.5)', hfields("X-A: b\0c\r\n"), [400]],
	['\x01 in a field value', hfields("X-A: b\x01c\r\n"), [400]],
	['\x1f in a field value', hfields("X-A: b\x1fc\r\n"), [400]],
	['DEL in a field value', hfields("X-A: b\x7fc\r\n"), [400]],
	['a bare CR in a field value (9112 2.2)', hfields("X-A: b\rc\r\n"),
	    [400]],
	['a bare CR at the end of a value', hfields("X-A: b\r\r\n"), [400]],
	['CR CR LF after Host', fields("Host: localhost\r\r\n"), [400]],
	['a bare CR as a field line end', hfields("X-A: b\rX-B: c\r\n"),
	    [400]],
	['a bare LF ending one field (9112 2.2 MAY)',
	    hfields("X-A: b\nX-B: c\r\n"), [200, 400]],
	['LF LF ends the head', "GET /a.txt HTTP/1.1\r\nHost: localhost\n\n",
	    [200, 400]],
	['DEL in a field name', hfields("X\x7fA: b\r\n"), [400]],
	['"(" in a field name', hfields("X(A): b\r\n"), [400]],
	['"@" in a field name', hfields("X\@A: b\r\n"), [400]],
	['a non-ASCII field name', hfields("X\xe9: b\r\n"), [400]],
	['obs-text in a value is allowed', hfields("X-A: caf\xc3\xa9\r\n"),
	    [200], body => $a_txt],
	['tabs inside and around a value', hfields("X-A:\t a\tb \t\r\n"),
	    [200], body => $a_txt],
	['a 20000-byte field value', hfields('X-Big: ' . ('v' x 20000)
	    . "\r\n"), [431]],
	['a 20000-byte field name', hfields(('N' x 20000) . ": v\r\n"),
	    [400, 431]],
	['100 fields, Host included', hfields(map { "X-F$_: v\r\n" } 1 .. 99),
	    [200], body => $a_txt],
	['101 fields (more than 100)',
	    hfields(map { "X-F$_: v\r\n" } 1 .. 100), [431]],
	['20 fields of 1000 bytes (over 16k)',
	    hfields(map { "X-F$_: " . ('v' x 1000) . "\r\n" } 1 .. 20), [431]],
	['a Connection field with 500 options',
	    hfields('Connection: ' . join(', ', map { "o$_" } 1 .. 500)
	    . "\r\n"), [200], body => $a_txt],

	# Host (RFC 9112 3.2, RFC 9110 7.2).
	['no Host in HTTP/1.1 (a MUST)', fields(), [400]],
	['no Host in HTTP/1.0', "GET /a.txt HTTP/1.0\r\n\r\n", [200],
	    body => $a_txt],
	['two identical Host fields (a MUST)', hfields($H), [400]],
	['two different Host fields', hfields("Host: evil.example\r\n"),
	    [400]],
	['Host and host', hfields("host: localhost\r\n"), [400]],
	['an empty Host on origin-form (9110 4.2.1)', fields("Host:\r\n"), [400]],
	['a space inside Host', fields("Host: a b\r\n"), [400]],
	['a slash in Host', fields("Host: a/b\r\n"), [400]],
	['userinfo in Host', fields("Host: user\@localhost\r\n"), [400]],
	['"<" in Host', fields("Host: <script>\r\n"), [400]],
	['a quote in Host', fields("Host: a\"b\r\n"), [400]],
	['a backslash in Host', fields("Host: a\\b\r\n"), [400]],
	['a non-ASCII Host', fields("Host: caf\xc3\xa9\r\n"), [400]],
	['Host with a port', fields("Host: localhost:8080\r\n"), [200],
	    body => $a_txt],
	['Host with an empty port', fields("Host: localhost:\r\n"), [200],
	    body => $a_txt],
	['a pct-encoded Host', fields("Host: loc%61lhost\r\n"), [200],
	    body => $a_txt],
	['two Host fields in HTTP/1.0 (a MUST for any version)',
	    "GET /a.txt HTTP/1.0\r\n$H$H\r\n", [400]],
	# uri-host [ ":" port ], port = *DIGIT (RFC 9110 7.2, RFC 3986 3.2);
	# an invalid Host value is a 400, a MUST of RFC 9112 3.2.
	['Host with a non-numeric port', fields("Host: localhost:80x\r\n"),
	    [400]],
	['Host with two colons', fields("Host: local:host:80\r\n"), [400]],
	['Host with an unclosed IP-literal', fields("Host: [::1\r\n"), [400]],
	['Host with a "]" in a reg-name', fields("Host: a]b\r\n"), [400]],
	['Host with a bad percent-escape', fields("Host: %zz\r\n"), [400]],
	['absolute-form with a Host of invalid characters (9112 3.2)',
	    "GET http://localhost/a.txt HTTP/1.1\r\nHost: bad host\r\n\r\n",
	    [400]],
	['absolute-form with "/" in Host',
	    "GET http://localhost/a.txt HTTP/1.1\r\nHost: a/b\r\n\r\n", [400]],
	['absolute-form with two Host fields',
	    "GET http://localhost/a.txt HTTP/1.1\r\n$H$H\r\n", [400]],
	['absolute-form without Host in HTTP/1.1',
	    "GET http://localhost/a.txt HTTP/1.1\r\n\r\n", [400]],
	['Host as an IPv6 literal', fields("Host: [::1]:80\r\n"), [200],
	    body => $a_txt],

	# Content-Length (RFC 9112 6.2, 6.3; RFC 9110 8.6).
	['Content-Length and Transfer-Encoding (a MUST close, 9112 6.1)',
	    post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
	    "0\r\n\r\n$smuggled"), [400], close => 1],
	['Transfer-Encoding and Content-Length',
	    post("Transfer-Encoding: chunked\r\nContent-Length: 30\r\n",
	    "0\r\n\r\n$smuggled"), [400], close => 1],
	['Transfer-Encoding and Content-Length: 0',
	    post("Transfer-Encoding: chunked\r\nContent-Length: 0\r\n",
	    "5\r\nhello\r\n0\r\n\r\n"), [400], close => 1],
	['two equal Content-Length fields (9110 8.6 MAY)',
	    post("Content-Length: 5\r\nContent-Length: 5\r\n", 'hello'),
	    [200, 400], body => 'hello'],
	['two different Content-Length fields (a MUST, 9112 6.3)',
	    post("Content-Length: 5\r\nContent-Length: 6\r\n", "hello!"),
	    [400], close => 1],
	['Content-Length: 5, 6', post("Content-Length: 5, 6\r\n", 'hello!'),
	    [400], close => 1],
	['Content-Length: 5, 5', post("Content-Length: 5, 5\r\n", 'hello'),
	    [200, 400], body => 'hello'],
	['Content-Length: -1', post("Content-Length: -1\r\n", 'x'), [400],
	    close => 1],
	['Content-Length: +5', post("Content-Length: +5\r\n", 'hello'), [400],
	    close => 1],
	['Content-Length: 0x5', post("Content-Length: 0x5\r\n", 'hello'),
	    [400], close => 1],
	['Content-Length: 5 5', post("Content-Length: 5 5\r\n", 'hello'),
	    [400], close => 1],
	['an empty Content-Length', post("Content-Length:\r\n", 'hello'),
	    [400], close => 1],
	['Content-Length: 1e3', post("Content-Length: 1e3\r\n", 'x'), [400],
	    close => 1],
	['Content-Length: 5.0', post("Content-Length: 5.0\r\n", 'hello'),
	    [400], close => 1],
	['a 23-digit Content-Length',
	    post("Content-Length: 99999999999999999999999\r\n", 'x'), [400],
	    close => 1],
	['"Content-Length :" with a space',
	    post("Content-Length : 5\r\n", 'hello'), [400], close => 1],
	['Content-Length over max_body_size',
	    post("Content-Length: 2000\r\n", 'x' x 2000), [413], close => 1],
	['a 15-digit Content-Length',
	    post("Content-Length: 999999999999999\r\n", 'x'), [413],
	    close => 1],
	['Content-Length with spaces around it',
	    post("Content-Length:   5  \r\n", 'hello'), [200], body => 'hello'],
	['a body shorter than Content-Length, then EOF',
	    post("Content-Length: 10\r\n", 'abc'), ['close', 400, 408],
	    shutdown => 1, within => 1.5],
	['a GET whose body looks like a request',
	    "GET /a.txt HTTP/1.1\r\n${H}Content-Length: " . length($smuggled)
	    . "\r\n\r\n$smuggled", [200], body => $a_txt],

	# Transfer-Encoding (RFC 9112 6.1, 6.3, 7).
	['Transfer-Encoding: chunked, identity (a MUST, 9112 6.3)',
	    post("Transfer-Encoding: chunked, identity\r\n", "0\r\n\r\n"),
	    [400], close => 1],
	['Transfer-Encoding: identity',
	    post("Transfer-Encoding: identity\r\n", 'hello'), [400, 501],
	    close => 1],
	['Transfer-Encoding: gzip', post("Transfer-Encoding: gzip\r\n", 'x'),
	    [400, 501], close => 1],
	['Transfer-Encoding: gzip, chunked (unknown coding, 9112 6.1)',
	    post("Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n"), [501]],
	['Transfer-Encoding split over two fields: gzip, then chunked',
	    post("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
	    "0\r\n\r\n"), [501]],
	['Transfer-Encoding: chunked twice, in two fields',
	    post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
	    "0\r\n\r\n"), [400], close => 1],
	['Transfer-Encoding: chunked, chunked',
	    post("Transfer-Encoding: chunked, chunked\r\n", "0\r\n\r\n"),
	    [400], close => 1],
	['Transfer-Encoding split: chunked, then identity',
	    post("Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n",
	    "0\r\n\r\n"), [400], close => 1],
	['Transfer-Encoding in HTTP/1.0 (a MUST close, 9112 6.1)',
	    "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
	    . "5\r\nhello\r\n0\r\n\r\n", [400], close => 1],
	['Transfer-Encoding in HTTP/1.0 with Content-Length',
	    "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n"
	    . "Content-Length: 5\r\n\r\nhello", [400], close => 1],
	['"Transfer-Encoding :" with a space',
	    post("Transfer-Encoding : chunked\r\n", "0\r\n\r\n"), [400],
	    close => 1],
	['Transfer-Encoding:<TAB>chunked is fine',
	    post("Transfer-Encoding:\tchunked\r\n", "5\r\nhello\r\n0\r\n\r\n"),
	    [200], body => 'hello'],
	['Transfer-Encoding: Chunked (case-insensitive)',
	    post("Transfer-Encoding: Chunked\r\n", "5\r\nhello\r\n0\r\n\r\n"),
	    [200], body => 'hello'],
	['Transfer-Encoding: chunked with trailing spaces',
	    post("Transfer-Encoding: chunked  \r\n", "5\r\nhello\r\n0\r\n\r\n"),
	    [200], body => 'hello'],
	['Transfer-Encoding: xchunked',
	    post("Transfer-Encoding: xchunked\r\n", "0\r\n\r\n"), [400, 501],
	    close => 1],
	['Transfer-Encoding: "chunked"',
	    post("Transfer-Encoding: \"chunked\"\r\n", "0\r\n\r\n"),
	    [400, 501], close => 1],
	['Transfer-Encoding: chunked<VT>',
	    post("Transfer-Encoding: chunked\x0b\r\n", "0\r\n\r\n"), [400],
	    close => 1],
	['an empty Transfer-Encoding',
	    post("Transfer-Encoding:\r\n", "0\r\n\r\n"), [400, 501],
	    close => 1],
	['Transfer-Encoding: , chunked (empty list element)',
	    post("Transfer-Encoding: , chunked\r\n", "5\r\nhello\r\n0\r\n\r\n"),
	    [200, 400], body => 'hello'],

	# Chunked bodies (RFC 9112 7.1).
	['a negative chunk size', chunked("-5\r\nhello\r\n0\r\n\r\n"), [400],
	    close => 1],
	['a chunk size with 0x', chunked("0x5\r\nhello\r\n0\r\n\r\n"), [400],
	    close => 1],
	['a 20-digit chunk size (overflow)',
	    chunked("ffffffffffffffffffff\r\nhello\r\n0\r\n\r\n"), [400, 413],
	    close => 1],
	['a chunk size of 2^64 + 5 (wraps to 5)',
	    chunked("10000000000000005\r\nhello\r\n0\r\n\r\n"), [400, 413],
	    close => 1],
	['a chunk size of 2^60', chunked("1000000000000000\r\nhello\r\n"),
	    [400, 413], close => 1],
	['a chunk over max_body_size',
	    chunked("fffffff\r\n" . ('a' x 2000)), [413], close => 1],
	['no CRLF after the chunk data', chunked("5\r\nhelloXX0\r\n\r\n"),
	    [400], close => 1],
	['a bare LF after the chunk data', chunked("5\r\nhello\n0\r\n\r\n"),
	    [200, 400]],
	['a bare LF after the chunk size', chunked("5\nhello\r\n0\r\n\r\n"),
	    [200, 400]],
	['chunk data longer than its size',
	    chunked("3\r\nhello\r\n0\r\n\r\n"), [400], close => 1],
	['a 5000-byte chunk extension',
	    chunked('5;' . ('e' x 5000) . "\r\nhello\r\n0\r\n\r\n"),
	    [400, 413], close => 1],
	['5g: junk after the size', chunked("5g\r\nhello\r\n0\r\n\r\n"),
	    [400], close => 1],
	['a space before the size', chunked(" 5\r\nhello\r\n0\r\n\r\n"),
	    [400], close => 1],
	['a space after the size, no extension',
	    chunked("5 \r\nhello\r\n0\r\n\r\n"), [400], close => 1],
	['an empty size line', chunked("\r\nhello\r\n0\r\n\r\n"), [400],
	    close => 1],
	['no size at all, straight to data', chunked("hello\r\n0\r\n\r\n"),
	    [400], close => 1],
	['NUL in a chunk extension', chunked("5;a\0b\r\nhello\r\n0\r\n\r\n"),
	    [400], close => 1],
	['a bare LF in a chunk extension',
	    chunked("5;a\nb\r\nhello\r\n0\r\n\r\n"), [400], close => 1],
	['NUL in a trailer', chunked("5\r\nhello\r\n0\r\nX-T: a\0b\r\n\r\n"),
	    [400], close => 1],
	['a 9000-byte trailer section',
	    chunked("5\r\nhello\r\n0\r\nX-T: " . ('t' x 9000) . "\r\n\r\n"),
	    [400, 413, 431], close => 1],
	['an empty chunk extension is tolerated',
	    chunked("5;\r\nhello\r\n0\r\n\r\n"), [200, 400]],
	['leading zeros in the size', chunked("00005\r\nhello\r\n000\r\n\r\n"),
	    [200], body => 'hello'],
	['an upper-case hex size', chunked("A\r\n0123456789\r\n0\r\n\r\n"),
	    [200], body => '0123456789'],
	['a chunked body cut short, then EOF', chunked("5\r\nhel"),
	    ['close', 400, 408], shutdown => 1, within => 1.5],

	# Request targets (RFC 9112 3.2).
	['absolute-form', target('http://localhost/a.txt'), [200],
	    body => $a_txt],
	['absolute-form, https', target('https://localhost/a.txt'), [200],
	    body => $a_txt],
	['absolute-form with userinfo (9110 4.2.4)',
	    target('http://user@localhost/a.txt'), [400]],
	['absolute-form with user:password',
	    target('http://user:pass@localhost/a.txt'), [400]],
	['absolute-form with an empty authority', target('http:///a.txt'),
	    [400]],
	['absolute-form with "<" in the authority',
	    target('http://local<host>/a.txt'), [400]],
	['absolute-form with a fragment', target('http://localhost/a.txt#f'),
	    [400]],
	['an ftp: URI', target('ftp://localhost/a.txt'), [400]],
	['http: without //', target('http:/a.txt'), [400]],
	['a fragment in origin-form', target('/a.txt#frag'), [400]],
	['asterisk-form with GET', target('*'), [400]],
	['asterisk-form with HEAD', "HEAD * HTTP/1.1\r\n$H\r\n", [400],
	    head => 1],
	['asterisk-form with POST', "POST * HTTP/1.1\r\n${H}Content-Length: 0"
	    . "\r\n\r\n", [400]],
	['OPTIONS *', "OPTIONS * HTTP/1.1\r\n$H\r\n", [200]],
	['OPTIONS *x', "OPTIONS *x HTTP/1.1\r\n$H\r\n", [400]],
	['a bad percent-escape', target('/%zz'), [400]],
	['a cut percent-escape', target('/a.txt%4'), [400]],
	['a lone %', target('/a.txt%'), [400]],
	['Expect: something else', hfields("Expect: x-other\r\n"), [417]],
	['Range: bytes=garbage', hfields("Range: bytes=abc\r\n"), [200],
	    body => $a_txt],
	['a Range with a 23-digit number',
	    hfields("Range: bytes=99999999999999999999999-\r\n"), [200, 416]],
	['a 200-byte If-Modified-Since',
	    hfields('If-Modified-Since: ' . ('x' x 200) . "\r\n"), [200],
	    body => $a_txt],
	['a malformed If-None-Match', hfields("If-None-Match: \"abc\r\n"),
	    [200], body => $a_txt],
	['a PROXY header on a plain listener',
	    "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n" . hfields(), [400, 501]],

	# Traversal (the body must never hold the secret).
	(map { ["traversal $_", target($_), [400, 404]] }
	    '/../secret.txt', '/%2e%2e/secret.txt', '/.%2E/secret.txt',
	    '/..%2fsecret.txt', '/%2e%2e%2fsecret.txt',
	    '/sub/../../secret.txt', '/sub/%2e%2e/%2e%2e/secret.txt',
	    '/..\\secret.txt', '/..%5csecret.txt', '/..%00/secret.txt',
	    '/secret.txt%00.txt', '/%252e%252e/secret.txt',
	    '/%c0%ae%c0%ae/secret.txt', '/..;/secret.txt',
	    'http://localhost/../secret.txt', '../secret.txt',
	    '/../../../../../../../../etc/passwd'),
);

###########################################################################

my $t_start = time;
my $n = 0;
for my $case (@cases) {
	my ($name, $bytes, $want, %o) = @$case;
	$n++;
	my $label = "$n. $name";
	my %want = map { $_ => 1 } @$want;
	my $c = eval { Forkloop::Raw->new(port => $PORT, timeout => 5) };
	unless ($c) {
		fail("$label: connect: $@");
		next;
	}
	eval { $c->send($bytes, timeout => 5) } or $@ and diag("$label: $@");
	$c->shutdown_write if $o{shutdown};
	my $t0 = time;
	my $r = $c->response(head => $o{head});
	my $took = time - $t0;
	my $got = $r ? $r->{status} : $c->at_eof ? 'close' : 'timeout';
	ok($want{$got}, "$label: " . join(' or ', @$want))
	    or diag("sent " . show($bytes, 200) . "\ngot $got: "
	    . ($r ? show($r->{head}, 300) : $c->error));
	if ($o{within}) {
		local $TODO = $o{within_todo};
		cmp_ok($took, '<', $o{within}, "$label: within $o{within} s");
	}
	unlike($r ? $r->{body} : '', qr/SECRET-|^root:/m,
	    "$label: nothing from outside the root") if $r;

	if ($r && $r->{status} == 200 && defined $o{body}) {
		is($r->{body}, $o{body}, "$label: the right body");
	}
	if ($r && ($r->{headers}{connection} // '') =~ /\bclose\b/i) {
		ok($c->wait_closed(3), "$label: Connection: close, then the "
		    . "close");
		is($c->buffer, '', "$label: nothing after the response")
		    or diag(show($c->buffer, 200));
	} elsif ($r) {
		ok(!$o{close}, "$label: must close (answered without "
		    . "Connection: close)");
		# Persistent: the next request gets its own answer.
		if (!$o{shutdown}) {
			$c->send("GET /a.txt HTTP/1.1\r\n$H"
			    . "Connection: close\r\n\r\n");
			my $next = $c->response;
			ok($next && $next->{status} == 200
			    && $next->{body} eq $a_txt,
			    "$label: the connection goes on in step")
			    or diag($next ? show($next->{head}, 300)
			    : $c->error);
		}
	}
	$c->close;

	my $x = Forkloop::Raw::exchange($PORT,
	    "GET /a.txt HTTP/1.1\r\n${H}Connection: close\r\n\r\n");
	my $ok = $x->{responses}[0];
	ok($ok && $ok->{status} == 200 && $ok->{body} eq $a_txt,
	    "$label: then a good request is served")
	    or diag($x->{error});
}
cmp_ok($n, '>=', 100, "$n hostile cases");
note(sprintf('%d cases in %.1f s', $n, time - $t_start));

is_deeply([$s->worker_pids], \@workers,
    'no worker died (the same two processes)');
is($s->stop, 0, 'exit status 0');
$s->log_clean_ok([]);
# A worker that dies is logged as "worker PID (...) killed by signal N" or
# "exited with status N" at warn level; sanitizers write to stderr.
my @crash = grep { /killed by signal|exited with status [1-9]|Sanitizer
    |runtime error:|core dumped|Assertion|stack smashing|double free/x }
    split /\n/, ($s->error_log // '') . ($s->stderr // '');
is(scalar @crash, 0, 'no crash in the logs') or diag(join("\n", @crash));

done_testing();
