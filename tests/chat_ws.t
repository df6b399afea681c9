#!/usr/bin/perl
# chat_ws.t: browsers in the chat (issue 15): "websocket /chat ROOM;" in
# an http block upgrades a WebSocket (RFC 6455) into the room of the chat
# block on ROOM, where TCP (nc) clients talk.  Two workers, so members
# of one room sit in different processes.
#
#  - The handshake: 101 with the Sec-WebSocket-Accept of RFC 6455 4.2.2;
#    refused with 400 (no key, a bad key, no version, HTTP/1.0), 426 and
#    Sec-WebSocket-Version: 13 (another version), 426 and Upgrade (a
#    plain GET), 405 (POST), 400 over HTTP/2; the connection of a
#    refusal stays usable; the access log has the 101.
#  - Text both ways between a WebSocket and an nc client; /nick; a line
#    from nc that is not UTF-8 reaches the browser with U+FFFD.
#  - A fragmented message with a ping between its fragments; ping/pong.
#  - Close codes: unmasked frame 1002, 100 MiB length 1009 (at once),
#    fragments over max_line 1009, bad UTF-8 1007, binary 1003, reserved
#    bit/opcode, long or fragmented control frame, stray continuation
#    1002; a close is echoed (1000, and an empty one empty), an invalid
#    close code 1002; the chat block's idle_timeout 1001.  The room
#    hears each leave.
#  - Over TLS (the same takeover).
#  - A reload (HUP): a WebSocket of an old worker and nc on a new one
#    talk; the old workers exit once it leaves.
#  - 30 WebSocket and 4 nc clients across both workers: every line
#    reaches every other member once, in order.
#  - The status JSON counts the room's clients, WebSocket clients and
#    their lines.
#  - With Redis (when redis-server is installed): a WebSocket on one
#    host and nc on another, the same room through Redis.
#  - Config errors: a room no chat block listens on, a bad path, the
#    directive outside an http block.

use strict;
use warnings;

use Test::More;
use IO::Select;
use IO::Socket::INET;
use JSON::PP ();
use Time::HiRes qw(time);
use Forkloop qw(wait_for printable config_errors_ok);
use Forkloop::Ops qw(run_cmd which status_json);
use Forkloop::TLS qw(make_ca make_cert);
use Forkloop::WebSocket;

Forkloop::check_binary();
Forkloop::watchdog(240);

use constant { TEXT => 1, BINARY => 2, CLOSE => 8, PING => 9, PONG => 10,
    CONT => 0 };

my $pki_s = Forkloop->new(start => 0);
my $have_tls = which('openssl');
my ($ca, $leaf);
if ($have_tls) {
	$ca = make_ca($pki_s->testdir, name => 'root');
	$leaf = make_cert($pki_s->testdir, name => 'leaf', cn => 'localhost',
	    ca => $ca, dns => ['localhost'], ip => ['127.0.0.1']);
}
my $tls_lines = $have_tls ? <<"TLS" : '';
    listen 127.0.0.1:%%PORT_HTTPS%% ssl;
    ssl_certificate $leaf->{cert};
    ssl_certificate_key $leaf->{key};
TLS

my $s = Forkloop->new(config => <<"CONF");
workers 2;
worker_connections 1024;
shutdown_timeout 5s;

http {
    listen 127.0.0.1:%%PORT_HTTP%%;
$tls_lines
    root %%TESTDIR%%/www;
    access_log %%TESTDIR%%/access.log;
    route /status status;
    websocket /chat 127.0.0.1:%%PORT_CHAT%%;
    websocket /idle 127.0.0.1:%%PORT_IDLE%%;
}

chat {
    listen 127.0.0.1:%%PORT_CHAT%%;
    max_line 1k;
}

chat {
    listen 127.0.0.1:%%PORT_IDLE%%;
    idle_timeout 1s;
}
CONF
$s->write_file('www/index.html', "<p>the site</p>\n");
my $http = $s->port('http');

sub ws_open {
	my (%o) = @_;
	return Forkloop::WebSocket->open(port => $http, path => '/chat', %o);
}

# A WebSocket in the room, its welcome read: [client, its name].
sub ws_member {
	my ($path) = @_;
	my $ws = ws_open(path => $path // '/chat');
	die "handshake: $ws->{response}{status}\n" unless $ws->ok;
	my @t = $ws->read_texts_until(qr/^\* welcome, /, 5);
	my ($name) = ($t[-1] // '') =~ /^\* welcome, (\S+)$/;
	die "no welcome\n" unless defined $name;
	return ($ws, $name);
}

# An nc-style TCP client of the room: non-blocking, lines read with a
# deadline.
sub nc_open {
	my ($port) = @_;
	my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $port // $s->port('chat'), Proto => 'tcp',
	    Timeout => 5) or die "connect chat: $!";
	$sock->blocking(0);
	my $c = { sock => $sock, buf => '' };
	my ($w) = nc_until($c, qr/^\* welcome, (\S+)\n/m, 5);
	($c->{name}) = ($w // '') =~ /welcome, (\S+)/;
	return $c;
}

# Reads until a line matches; returns the lines read, the match last.
sub nc_until {
	my ($c, $re, $timeout) = @_;
	my $deadline = time + ($timeout // 5);
	my $sel = IO::Select->new($c->{sock});
	my @lines;
	for (;;) {
		while ($c->{buf} =~ s/^([^\n]*\n)//) {
			push @lines, $1;
			return @lines if $1 =~ $re;
		}
		my $left = $deadline - time;
		return @lines if $left <= 0;
		next unless $sel->can_read($left);
		my $n = sysread($c->{sock}, my $chunk, 65536);
		next if !defined $n && ($!{EAGAIN} || $!{EINTR});
		return @lines unless $n;
		$c->{buf} .= $chunk;
	}
}

sub nc_say { syswrite($_[0]{sock}, "$_[1]\n") }

###########################################################################
# The handshake.

{
	my $ws = ws_open();
	my $r = $ws->response;
	is($r->{status}, 101, 'handshake: 101');
	like($r->{headers}{upgrade} // '', qr/^websocket\z/i,
	    'handshake: Upgrade: websocket');
	like($r->{headers}{connection} // '', qr/^upgrade\z/i,
	    'handshake: Connection: Upgrade');
	is($r->{headers}{'sec-websocket-accept'},
	    Forkloop::WebSocket::accept_for($ws->key),
	    'handshake: Sec-WebSocket-Accept is base64(SHA-1(key + GUID))');
	is(Forkloop::WebSocket::accept_for('dGhlIHNhbXBsZSBub25jZQ=='),
	    's3pPLMBiTxaQ9kYGzzhZRbK+xOo=', '(the test\'s own accept_for '
	    . 'gives RFC 6455 1.3\'s example)');
	ok(!exists $r->{headers}{'sec-websocket-protocol'}
	    && !exists $r->{headers}{'sec-websocket-extensions'},
	    'handshake: no subprotocol, no extension chosen');
	my @t = $ws->read_texts_until(qr/^\* welcome, /, 5);
	like($t[-1] // '', qr/^\* welcome, guest\d+-\d+\z/,
	    'the first message is the welcome, as one text frame, no LF');
	$ws->close;
}

# [name, extra request fields, or a whole request, expected status]
my @refusals = (
	['no Sec-WebSocket-Key', ['Sec-WebSocket-Key' => undef], 400],
	['a key of 15 bytes', ['Sec-WebSocket-Key' =>
	    'AAAAAAAAAAAAAAAAAAAA'], 400],
	['a key that is not base64', ['Sec-WebSocket-Key' =>
	    'dGhlIHNhbXBsZSBub25j!!=='], 400],
	['two keys', ['Sec-WebSocket-Key' => 'dGhlIHNhbXBsZSBub25jZQ==',
	    'sec-websocket-key' => 'dGhlIHNhbXBsZSBub25jZQ=='], 400],
	['no Sec-WebSocket-Version', ['Sec-WebSocket-Version' => undef],
	    400],
	['version 8', ['Sec-WebSocket-Version' => 8], 426],
	['no Upgrade', ['Upgrade' => undef], 426],
	['Connection: keep-alive only', ['Connection' => 'keep-alive'], 426],
);
for my $case (@refusals) {
	my ($name, $fields, $want) = @$case;
	my $req = Forkloop::WebSocket::request_text(path => '/chat',
	    key => 'dGhlIHNhbXBsZSBub25jZQ==', headers => $fields);
	my $c = $s->connect;
	$c->send($req . "GET /index.html HTTP/1.1\r\nHost: x\r\n"
	    . "Connection: close\r\n\r\n");
	my $r = eval { $c->response(timeout => 5) };
	is($r && $r->{status}, $want, "refused, $name: $want");
	if ($name eq 'version 8') {
		is($r && $r->{headers}{'sec-websocket-version'}, '13',
		    'version 8: Sec-WebSocket-Version: 13');
	}
	if ($name eq 'no Upgrade') {
		like($r && $r->{headers}{upgrade} // '', qr/^websocket\z/i,
		    'no Upgrade: the 426 names Upgrade: websocket');
	}
	my $next = eval { $c->response(timeout => 5) };
	is($next && $next->{status}, 200,
	    "refused, $name: the connection goes on with the next request");
	$c->close;
}
{
	my $r = $s->http(Forkloop::WebSocket::request_text(path => '/chat',
	    method => 'POST', key => 'dGhlIHNhbXBsZSBub25jZQ=='));
	is($r->{status}, 405, 'POST: 405');
	is($r->{headers}{allow}, 'GET', 'POST: Allow: GET');
	$r = $s->http(Forkloop::WebSocket::request_text(path => '/chat',
	    version => '1.0', key => 'dGhlIHNhbXBsZSBub25jZQ=='));
	is($r->{status}, 400, 'HTTP/1.0: 400');
	$r = $s->http(Forkloop::WebSocket::request_text(path => '/chat/x',
	    key => 'dGhlIHNhbXBsZSBub25jZQ=='));
	is($r->{status}, 404, 'the path is matched whole: /chat/x is a file '
	    . '(404)');
}
SKIP: {
	skip 'curl is missing', 2 unless which('curl');
	my $r = run_cmd(['curl', '-s', '--http2-prior-knowledge', '-o', '-',
	    '-w', '\n%{http_code} %{http_version}', "http://127.0.0.1:$http/chat"],
	    timeout => 20);
	like($r->{stdout} // '', qr/\n400 2\z/, 'over HTTP/2: 400')
	    or diag($r->{stdout}, $r->{stderr});
	like($r->{stdout} // '', qr/RFC 8441/,
	    'over HTTP/2: the answer says WebSocket over HTTP/2 is not offered');
}

###########################################################################
# A WebSocket and an nc client in one room.

my ($ws, $wname) = ws_member();
my $nc = nc_open();
ok(defined $nc->{name}, "an nc client joined as $nc->{name}");
{
	my @t = $ws->read_texts_until(qr/joined/, 5);
	is($t[-1], "* $nc->{name} joined", 'the WebSocket hears nc join');

	$ws->send_text('hello from the browser');
	my @l = nc_until($nc, qr/hello from the browser/, 5);
	is($l[-1], "$wname: hello from the browser\n",
	    'WebSocket to nc: "NAME: text" and LF');

	nc_say($nc, 'hello from nc');
	@t = $ws->read_texts_until(qr/hello from nc/, 5);
	is($t[-1], "$nc->{name}: hello from nc",
	    'nc to WebSocket: one text message, no LF');

	$ws->send_text("two\r\nlines");
	@l = nc_until($nc, qr/: lines$/, 5);
	is(join('', grep { /^\Q$wname\E: / } @l),
	    "$wname: two\n$wname: lines\n",
	    'a message with a line break is said as two lines');

	$ws->send_text('/nick browser1');
	@t = $ws->read_texts_until(qr/you are now/, 5);
	is($t[-1], '* you are now browser1', '/nick from a WebSocket');
	@l = nc_until($nc, qr/is now/, 5);
	is($l[-1], "* $wname is now browser1\n", 'the room hears the rename');
	$wname = 'browser1';

	syswrite($nc->{sock}, "bad \xc3\x28 byte \xff\n");
	my $f = $ws->read_frame(5);
	is($f && $f->{op}, TEXT, 'a line from nc that is not UTF-8: a text '
	    . 'frame');
	is($f && $f->{payload}, "$nc->{name}: bad \xef\xbf\xbd( byte "
	    . "\xef\xbf\xbd", 'each bad byte became U+FFFD');
	ok($f && !$f->{masked}, 'server frames are not masked');

	$ws->send_frame(PING, 'are you there');
	$f = $ws->read_frame(5);
	is($f && "$f->{op} $f->{payload}", PONG . ' are you there',
	    'ping: a pong with the same payload');

	$ws->send_frame(TEXT, 'frag', fin => 0);
	$ws->send_frame(CONT, 'mented ', fin => 0);
	$ws->send_frame(PING, 'between');
	$ws->send_frame(CONT, 'message');
	$f = $ws->read_frame(5);
	is($f && "$f->{op} $f->{payload}", PONG . ' between',
	    'a ping between fragments is answered');
	@l = nc_until($nc, qr/fragmented message/, 5);
	is($l[-1], "$wname: fragmented message\n",
	    'the fragments are one message, one line');

	$ws->send_frame(PONG, 'unasked');
	$ws->send_text('after a pong');
	@l = nc_until($nc, qr/after a pong/, 5);
	is($l[-1], "$wname: after a pong\n", 'an unasked pong is ignored');
}

###########################################################################
# Close codes.

# A fresh member sends $bytes: the close code it gets, and whether the
# server then closes the connection; nc hears it leave.
sub fails_with {
	my ($name, $bytes, $code) = @_;
	my ($w, $n) = ws_member();
	nc_until($nc, qr/\Q$n\E joined/, 5);
	$w->send_raw($bytes);
	my $c = $w->read_close(5);
	is($c && $c->{code}, $code, "$name: close $code");
	ok($w->wait_closed(5), "$name: then the server closes");
	my @l = nc_until($nc, qr/\Q$n\E left/, 5);
	like($l[-1] // '', qr/^\* \Q$n\E left$/, "$name: the room hears it "
	    . 'leave');
	$w->close;
}

my $F = \&Forkloop::WebSocket::frame_bytes;
fails_with('an unmasked frame', $F->(TEXT, 'plain', mask => 0), 1002);
fails_with('a 100 MiB length', $F->(TEXT, '', length => 100 << 20)
    . 'x' x 100, 1009);
fails_with('fragments over max_line (1k)', $F->(TEXT, 'a' x 600, fin => 0)
    . $F->(CONT, 'b' x 600), 1009);
fails_with('invalid UTF-8', $F->(TEXT, "ok \xc3\x28"), 1007);
fails_with('an overlong form', $F->(TEXT, "\xc0\xaf"), 1007);
fails_with('a surrogate', $F->(TEXT, "\xed\xa0\x80"), 1007);
fails_with('UTF-8 cut between fragments and never ended',
    $F->(TEXT, "caf\xc3", fin => 0) . $F->(CONT, ''), 1007);
fails_with('a binary frame', $F->(BINARY, "\x00\x01"), 1003);
fails_with('a reserved bit', $F->(TEXT, 'x', rsv => 4), 1002);
fails_with('a reserved opcode', $F->(3, 'x'), 1002);
fails_with('a ping of 126 bytes', $F->(PING, 'p' x 126), 1002);
fails_with('a fragmented ping', $F->(PING, 'p', fin => 0), 1002);
fails_with('a continuation with no message', $F->(CONT, 'x'), 1002);
fails_with('a new message inside a fragmented one',
    $F->(TEXT, 'a', fin => 0) . $F->(TEXT, 'b'), 1002);
fails_with('close code 1005 (never sent)', $F->(CLOSE, pack('n', 1005)),
    1002);
fails_with('close code 999', $F->(CLOSE, pack('n', 999)), 1002);
fails_with('a close of one byte', $F->(CLOSE, "\x03"), 1002);
fails_with('a close reason not UTF-8', $F->(CLOSE, pack('n', 1000)
    . "\xff"), 1007);
fails_with('a close with 1000', $F->(CLOSE, pack('n', 1000) . 'bye'),
    1000);
fails_with('a close with 4001 (for applications)',
    $F->(CLOSE, pack('n', 4001)), 4001);
{
	my ($w, $n) = ws_member();
	$w->send_frame(CLOSE, '');
	my $f;
	for (1 .. 10) {
		$f = $w->read_frame(5) or last;
		last if $f->{op} == CLOSE;
	}
	is($f && $f->{op}, CLOSE, 'a close without a code: a close back');
	is($f && length $f->{payload}, 0, 'a close without a code: an empty '
	    . 'one (RFC 6455 7.1.5: 1005, which is never sent)');
	ok($w->wait_closed(5), 'then the server closes');
}
{
	my ($w) = ws_member('/idle');
	my $t0 = time;
	my $c = $w->read_close(10);
	is($c && $c->{code}, 1001, 'idle_timeout 1s: close 1001');
	cmp_ok(time - $t0, '<', 5, 'idle_timeout 1s: within 5 s');
}

###########################################################################
# Over TLS.

SKIP: {
	skip 'openssl is missing', 3 unless $have_tls;
	my $key = 'dGhlIHNhbXBsZSBub25jZQ==';
	my $t = Forkloop::TLS::Client->new(port => $s->port('https'),
	    ca => $ca->{cert});
	$t->send(Forkloop::WebSocket::request_text(path => '/chat',
	    key => $key));
	my $head = $t->read_until(qr/\r\n\r\n/, 10) // '';
	my $accept = Forkloop::WebSocket::accept_for($key);
	like($head, qr{^HTTP/1\.1 101 .*^Sec-WebSocket-Accept: \Q$accept\E\r$}ms,
	    'over TLS: 101 with the accept value');
	$t->send($F->(TEXT, 'over tls'));
	my @l = nc_until($nc, qr/over tls/, 5);
	like($l[-1] // '', qr/^guest\d+-\d+: over tls$/,
	    'over TLS: nc hears the WebSocket');
	nc_say($nc, 'back to tls');
	# Frames up to the one with the line (the join notices come first).
	my $bytes = $t->_read(sub {
		my $buf = $t->{buf};
		while (my $f = Forkloop::WebSocket::parse_frame(\$buf)) {
			return length($t->{buf}) - length($buf)
			    if $f->{payload} =~ /back to tls/;
		}
		return undef;
	}, 5) // '';
	my $got;
	while (my $f = Forkloop::WebSocket::parse_frame(\$bytes)) {
		$got = $f;
	}
	is($got && $got->{payload}, "$nc->{name}: back to tls",
	    'over TLS: the WebSocket hears nc');
	$t->close;
}

###########################################################################
# Many members across both workers.

{
	my $NWS = 30;
	my $NNC = 4;
	my $LINES = 5;
	my (@members, %pids);
	for my $i (1 .. $NWS) {
		my ($w, $n) = ws_member();
		push @members, { ws => $w, name => $n };
		$pids{$1} = 1 if $n =~ /^guest(\d+)-/;
	}
	for my $i (1 .. $NNC) {
		my $c = nc_open();
		push @members, { nc => $c, name => $c->{name} };
		$pids{$1} = 1 if $c->{name} =~ /^guest(\d+)-/;
	}
	is(scalar keys %pids, 2, "$NWS WebSocket and $NNC nc clients sit in "
	    . 'both workers');
	for my $k (1 .. $LINES) {
		for my $m (@members) {
			my $text = "m$k from $m->{name}";
			if ($m->{ws}) {
				$m->{ws}->send_text($text);
			} else {
				nc_say($m->{nc}, $text);
			}
		}
	}
	# Everyone hears every other member's lines once, each sender's in
	# order; joins and leaves of the others are notices, skipped.
	my $want = (@members - 1) * $LINES;
	my ($complete, $ordered) = (0, 1);
	for my $m (@members) {
		my %seq;
		my $count = 0;
		my $deadline = time + 20;
		while ($count < $want && time < $deadline) {
			my @got;
			if ($m->{ws}) {
				my $f = $m->{ws}->read_frame($deadline - time)
				    or last;
				push @got, $f->{payload} if $f->{op} == TEXT;
			} else {
				@got = map { s/\n\z//r } nc_until($m->{nc},
				    qr/^/, $deadline - time);
				last unless @got;
			}
			for my $line (@got) {
				next unless $line =~ /^(\S+): m(\d+) from \1$/;
				$ordered = 0 if ($seq{$1} // 0) != $2 - 1;
				$seq{$1} = $2;
				$count++;
			}
		}
		$complete++ if $count == $want;
		diag("$m->{name}: $count of $want lines") if $count != $want;
	}
	is($complete, scalar @members, "every member got the $want lines of "
	    . 'the others');
	ok($ordered, 'each sender\'s lines in order, none twice');

	my $st = status_json($s);
	my ($room) = grep { $_->{room} eq '127.0.0.1:' . $s->port('chat') }
	    @{ $st->{totals}{chat}{rooms} || [] };
	# Members now: the 34, the first WebSocket and nc.
	is($room && $room->{websocket_clients}, $NWS + 1,
	    'status: websocket_clients counts the WebSockets now in the room');
	is($room && $room->{clients}, $NWS + $NNC + 2,
	    'status: clients counts them all');
	cmp_ok($room && $room->{websocket_lines_in}, '>=', $NWS * $LINES,
	    'status: websocket_lines_in');
	cmp_ok($room && $room->{websocket_lines_out}, '>=',
	    $NWS * ($NWS + $NNC - 1) * $LINES, 'status: websocket_lines_out');
	cmp_ok($room && $room->{lines_in}, '>=', ($NWS + $NNC) * $LINES,
	    'status: lines_in counts both kinds');
	$_->{ws} ? $_->{ws}->close : close($_->{nc}{sock}) for @members;
	ok(wait_for(sub {
		my $j = status_json($s) or return 0;
		my ($r) = grep { $_->{room} eq $room->{room} }
		    @{ $j->{totals}{chat}{rooms} };
		$r && $r->{websocket_clients} == 1 }, 10),
	    'status: the WebSockets that left are no longer counted');
}

###########################################################################
# A reload: a WebSocket of an old worker and nc on a new one talk.

$ws->close;
close $nc->{sock};
{
	my ($w, $wn) = ws_member();
	my %old = map { $_ => 1 } $s->worker_pids;
	$s->signal('HUP');
	ok(wait_for(sub { (grep { !$old{$_} } $s->worker_pids) == 2 }, 10),
	    'HUP: two new workers');
	# An old worker may still accept for a moment after the new ones
	# are up, until it has closed its listeners: connect again then.
	my $n;
	for (1 .. 50) {
		$n = nc_open();
		my ($npid) = ($n->{name} // '') =~ /^guest(\d+)-/;
		last if $npid && !$old{$npid};
		close $n->{sock};
		undef $n;
		select(undef, undef, undef, 0.1);
	}
	ok($n, 'HUP: nc lands on a new worker') or $n = nc_open();
	$w->send_text('from an old worker');
	my @l = nc_until($n, qr/from an old worker/, 5);
	is($l[-1], "$wn: from an old worker\n",
	    'HUP: the old worker\'s WebSocket is heard on the new one');
	nc_say($n, 'from a new worker');
	my @t = $w->read_texts_until(qr/from a new worker/, 5);
	is($t[-1], "$n->{name}: from a new worker",
	    'HUP: ... and hears it');
	$w->close;
	close $n->{sock};
	ok(wait_for(sub { !grep { $old{$_} } $s->worker_pids }, 10),
	    'HUP: the old workers exit once their WebSocket left');
}

###########################################################################
# The end of the first server: a WebSocket still open when
# shutdown_timeout (5 s) comes is told 1001 before the worker goes.

my ($last) = ws_member();
$s->signal('QUIT');
my $t_quit = time;
my $going = $last->read_close(15);
is($going && $going->{code}, 1001,
    'shutdown_timeout: an open WebSocket gets close 1001 (going away)');
is($going && $going->{reason}, 'server stopping',
    'shutdown_timeout: with its reason');
cmp_ok(time - $t_quit, '>=', 4, 'shutdown_timeout: not before it');
$s->stop;
like($s->read_file('access.log') // '', qr{"GET /chat HTTP/1\.1" 101 },
    'the access log has the 101');
is($s->exit_status, 0, 'stop: exit status 0');
$s->log_clean_ok;

###########################################################################
# Across hosts, through Redis.

SKIP: {
	require Forkloop::Redis;
	my $redis = Forkloop::Redis->new;
	skip 'redis-server is missing (contrib/debian-setup)', 2 unless $redis;
	my $rp = $redis->port;
	my %h;
	for my $name (qw(a b)) {
		$h{$name} = Forkloop->new(config => <<"CONF");
workers 1;
worker_connections 256;
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    root %%TESTDIR%%/www;
    route /status status;
    websocket /chat 127.0.0.1:%%PORT_CHAT%%;
}
chat {
    listen 127.0.0.1:%%PORT_CHAT%%;
    redis 127.0.0.1:$rp;
    redis_channel chat-ws-test;
}
CONF
	}
	for my $name (qw(a b)) {
		wait_for(sub {
			my $j = status_json($h{$name}) or return 0;
			($j->{totals}{chat}{redis_state} // '') eq 'up' }, 15)
		    or diag("host $name: Redis not up");
	}
	my $w = Forkloop::WebSocket->open(port => $h{a}->port('http'),
	    path => '/chat');
	$w->read_texts_until(qr/^\* welcome/, 5);
	my $c = nc_open($h{b}->port('chat'));
	$w->read_texts_until(qr/joined/, 5);
	$w->send_text('from host a');
	my @l = nc_until($c, qr/from host a/, 5);
	like($l[-1] // '', qr/^guest\d+-\d+: from host a$/,
	    'Redis: a WebSocket on host a reaches nc on host b');
	nc_say($c, 'from host b');
	my @t = $w->read_texts_until(qr/from host b/, 5);
	is($t[-1], "$c->{name}: from host b",
	    'Redis: nc on host b reaches the WebSocket on host a');
	$w->close;
	close $c->{sock};
	$_->stop for values %h;
}

###########################################################################
# Config errors.

config_errors_ok($s, [
	['a room no chat block has', "http {\n listen 127.0.0.1:1;\n"
	    . " websocket /chat 127.0.0.1:2;\n}\nchat {\n listen "
	    . "127.0.0.1:3;\n}\n", 3],
	['a path without /', "http {\n listen 127.0.0.1:1;\n websocket "
	    . "chat 127.0.0.1:3;\n}\nchat {\n listen 127.0.0.1:3;\n}\n", 3],
	['a path with ?', "http {\n listen 127.0.0.1:1;\n websocket "
	    . "/chat?x 127.0.0.1:3;\n}\nchat {\n listen 127.0.0.1:3;\n}\n", 3],
	['in a chat block', "chat {\n listen 127.0.0.1:3;\n websocket "
	    . "/chat 127.0.0.1:3;\n}\n", 3],
	['twice one path', "http {\n listen 127.0.0.1:1;\n websocket /c "
	    . "127.0.0.1:3;\n websocket /c 127.0.0.1:3;\n}\nchat {\n listen "
	    . "127.0.0.1:3;\n}\n", 4],
]);
{
	my $file = $s->write_file('ok.conf', "http {\n listen 127.0.0.1:1;\n"
	    . " websocket /chat 3;\n}\nchat {\n listen 3;\n}\n");
	my $r = Forkloop::run_forkloop(args => ['-t', '-c', $file]);
	is($r->{exit}, 0, 'a room written as a port names the chat block on '
	    . 'that port (either may come first)') or diag($r->{stderr});
}

done_testing();
