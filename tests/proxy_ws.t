#!/usr/bin/perl
# proxy_ws.t: WebSocket (RFC 6455) through the reverse proxy (issue 14,
# proxy-spec.md), to the aiohttp application's echo (/ws):
#
#   - the handshake: Upgrade and Connection: upgrade passed on, the 101
#     passed back with Sec-WebSocket-Accept;
#   - text, a 70000-byte binary message (64-bit length), a fragmented
#     message, ping/pong, close (1000 echoed), then the tunnel closes;
#   - an upgrade request the upstream answers 200 stays plain HTTP;
#   - the tunnel's idle timeout (proxy_read_timeout 2s): an idle tunnel is
#     closed, one with traffic every 0.5 s stays open past it;
#   - a HUP: an open tunnel goes on on the retiring worker until
#     shutdown_timeout, new tunnels go to the new one.

use strict;
use warnings;

use Test::More;
use Digest::SHA qw(sha1_base64);
use IO::Select;
use JSON::PP ();
use Time::HiRes qw(time sleep);
use Forkloop qw(wait_for build_request printable);
use Forkloop::Upstream qw(upstream_python);

Forkloop::check_binary();
plan skip_all => 'python3-aiohttp is needed (Debian package python3-aiohttp)'
    unless upstream_python();
Forkloop::watchdog(90);

my $A = Forkloop::Upstream->start(name => 'a');
my $a = $A->addr;

my $s = Forkloop->new(config => <<"CONF");
workers 1;
worker_connections 1024;
shutdown_timeout 3s;
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    root %%TESTDIR%%/www;
    proxy_pass http://$a;
}
http {
    listen 127.0.0.1:%%PORT_IDLE%%;
    root %%TESTDIR%%/www;
    proxy_read_timeout 2s;
    proxy_pass http://$a;
}
CONF

my $KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
my $ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';	# RFC 6455 1.3's example

# A client frame (masked, as RFC 6455 5.3 requires).
sub frame {
	my ($op, $payload, %o) = @_;
	my $fin = $o{fin} // 1;
	my $len = length $payload;
	my $h = chr(($fin ? 0x80 : 0) | $op);
	if ($len < 126) {
		$h .= chr(0x80 | $len);
	} elsif ($len < 65536) {
		$h .= chr(0x80 | 126) . pack('n', $len);
	} else {
		$h .= chr(0x80 | 127) . pack('Q>', $len);
	}
	my $mask = pack('N', 0x37fa213d);
	my $masked = $payload ^ substr($mask x (int($len / 4) + 1), 0, $len);
	return $h . $mask . $masked;
}

# The next server frame from the connection: [opcode, payload, fin], or
# undef on close/timeout.
sub read_frame {
	my ($c, $timeout) = @_;
	my $deadline = time + ($timeout // 5);
	for (;;) {
		my $buf = $c->buffer;
		if (length($buf) >= 2) {
			my ($b0, $b1) = unpack('CC', $buf);
			my $len = $b1 & 0x7f;
			my $off = 2;
			if ($len == 126 && length($buf) >= 4) {
				$len = unpack('n', substr($buf, 2, 2));
				$off = 4;
			} elsif ($len == 127 && length($buf) >= 10) {
				$len = unpack('Q>', substr($buf, 2, 8));
				$off = 10;
			}
			if ($len < 126 || $off > 2) {
				if (length($buf) >= $off + $len) {
					my $frame = $c->read_bytes($off + $len);
					return [$b0 & 0x0f, substr($frame, $off),
					    $b0 & 0x80 ? 1 : 0];
				}
			}
		}
		return undef if $c->at_eof || time >= $deadline;
		$c->_fill(time + 0.2);
	}
}

sub handshake {
	my ($port) = @_;
	my $c = $s->connect(port => $s->port($port), timeout => 10);
	$c->send("GET /ws HTTP/1.1\r\nHost: localhost\r\n"
	    . "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    . "Sec-WebSocket-Key: $KEY\r\nSec-WebSocket-Version: 13\r\n\r\n");
	my $r = eval { $c->response(head => 1, timeout => 10) };
	diag("handshake: $@") unless $r;
	return ($c, $r);
}

###########################################################################
# The echo.

{
	my ($c, $r) = handshake('http');
	is($r && $r->{status}, 101, 'handshake: 101 Switching Protocols');
	like($r && $r->{headers}{upgrade} // '', qr/^websocket\z/i,
	    'handshake: Upgrade: websocket');
	like($r && $r->{headers}{connection} // '', qr/\bupgrade\b/i,
	    'handshake: Connection: upgrade');
	is($r && $r->{headers}{'sec-websocket-accept'}, $ACCEPT,
	    'handshake: the upstream\'s Sec-WebSocket-Accept');

	$c->send(frame(1, 'hello through the proxy'));
	my $f = read_frame($c);
	is($f && "$f->[0] $f->[1]", '1 hello through the proxy',
	    'a text message echoed');

	my $bin = join('', map { chr(($_ * 11 + 5) & 0xff) } 1 .. 70000);
	$c->send(frame(2, $bin));
	$f = read_frame($c, 10);
	ok($f && $f->[0] == 2 && $f->[1] eq $bin,
	    'a 70000-byte binary message echoed (64-bit length)');

	$c->send(frame(1, 'frag', fin => 0) . frame(0, 'mented', fin => 0)
	    . frame(0, ' message'));
	$f = read_frame($c);
	is($f && "$f->[0] $f->[1]", '1 fragmented message',
	    'a fragmented message echoed whole');

	$c->send(frame(9, 'ping-1'));
	$f = read_frame($c);
	is($f && "$f->[0] $f->[1]", '10 ping-1', 'ping answered by a pong');

	$c->send(frame(8, pack('n', 1000) . 'bye'));
	$f = read_frame($c);
	is($f && $f->[0], 8, 'close answered by a close');
	is($f && length($f->[1]) >= 2 ? unpack('n', $f->[1]) : undef, 1000,
	    '  with code 1000');
	ok($c->wait_closed(5), 'the tunnel closes after the close');
	$c->close;
	my $st = $A->stats;
	is($st && $st->{ws_sessions}, 1, 'the upstream had one session');
}

###########################################################################
# An Upgrade the upstream does not take: plain HTTP.

{
	my $c = $s->connect;
	$c->send("GET /headers HTTP/1.1\r\nHost: localhost\r\n"
	    . "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    . "Sec-WebSocket-Key: $KEY\r\nSec-WebSocket-Version: 13\r\n\r\n");
	my $r = eval { $c->response(timeout => 10) };
	is($r && $r->{status}, 200, 'an Upgrade answered 200 stays HTTP');
	my $d = $r ? eval { JSON::PP->new->decode($r->{body}) } : undef;
	my %h = map { lc $_->[0] => $_->[1] } @{ $d ? $d->{headers} : [] };
	is($h{upgrade}, 'websocket', '  the upstream saw Upgrade: websocket');
	like($h{connection} // '', qr/\bupgrade\b/i,
	    '  and Connection: upgrade');
	$c->send(build_request(path => '/hello/after', keepalive => 1));
	my $n = eval { $c->response(timeout => 10) };
	is($n && $n->{body}, "Hello, after\n",
	    '  the connection goes on as HTTP');
	$c->close;
}

###########################################################################
# The idle timeout of a tunnel.

{
	my ($c, $r) = handshake('idle');
	is($r && $r->{status}, 101, 'idle: handshake');
	my $t0 = time;
	my $alive = 1;
	while (time - $t0 < 3.5) {
		$c->send(frame(1, 'tick'));
		my $f = read_frame($c, 2);
		unless ($f && $f->[1] eq 'tick') {
			$alive = 0;
			last;
		}
		sleep 0.5;
	}
	ok($alive, 'idle: a tunnel with traffic every 0.5 s outlives '
	    . 'proxy_read_timeout 2s');
	ok($c->wait_closed(8), 'idle: once quiet, the tunnel is closed '
	    . '(proxy_read_timeout 2s)');
	$c->close;
}

###########################################################################
# An open tunnel across a HUP: the retiring worker keeps it until
# shutdown_timeout (3s), then closes it; new tunnels go to the new worker.

{
	my ($c, $r) = handshake('http');
	is($r && $r->{status}, 101, 'HUP: a tunnel open before the reload');
	my @old = $s->worker_pids;
	$s->signal('HUP');
	# A new worker beside the retiring one (wait_workers(1) would wait
	# for the retiring one to go, and the tunnel with it).
	my %was = map { $_ => 1 } @old;
	my $fresh = wait_for(sub {
		my @n = grep { !$was{$_} } $s->worker_pids;
		return @n ? \@n : 0;
	}, 10);
	my @new = $fresh ? @$fresh : ();
	is(scalar @new, 1, 'HUP: a new worker');
	my $t0 = time;
	$c->send(frame(1, 'after the reload'));
	my $f = read_frame($c, 5);
	is($f && $f->[1], 'after the reload',
	    'HUP: the open tunnel still echoes on the retiring worker')
	    or diag(sprintf('tunnel %s %.1f s after the HUP; it had: %s',
	    $c->at_eof ? 'closed' : 'open, silent', time - $t0,
	    printable($c->buffer, 100)));
	my ($c2, $r2) = handshake('http');
	is($r2 && $r2->{status}, 101, 'HUP: a new tunnel opens');
	$c2->send(frame(1, 'new'));
	$f = read_frame($c2, 5);
	is($f && $f->[1], 'new', 'HUP: and echoes');
	ok($c->wait_closed(10), 'HUP: the old tunnel is closed by '
	    . 'shutdown_timeout');
	ok(wait_for(sub { !grep { Forkloop::proc_alive($_) } @old }, 10),
	    'HUP: the retiring worker has gone');
	$c2->send(frame(1, 'still'));
	$f = read_frame($c2, 5);
	is($f && $f->[1], 'still', 'HUP: the new tunnel lives on');
	$c->close;
	$c2->close;
}

###########################################################################

ok($s->alive, 'forkloop still running');
$s->log_clean_ok([qr/upstream/]);
is($s->stop, 0, 'exit status 0 on QUIT');

done_testing;
