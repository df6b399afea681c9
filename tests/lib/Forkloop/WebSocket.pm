package Forkloop::WebSocket;

# Forkloop/WebSocket.pm: a small WebSocket client (RFC 6455) for the
# tests, over a Forkloop::Conn, so every read has a deadline: the opening
# handshake (its answer parsed, Sec-WebSocket-Accept checked by the
# caller with accept_for()), frames made by hand (masked or not, any
# opcode, fragments, reserved bits, a claimed length that is a lie) and
# the server's frames read back.  tests/chat_ws.t uses it against
# forkloop, tests/chat_ws_browser.t to drive Chromium's DevTools.
#
#	my $ws = Forkloop::WebSocket->open(port => $p, path => '/chat');
#	$ws->send_text('hello');
#	my $f = $ws->read_frame;	# { op, payload, fin } or undef

use strict;
use warnings;

use Digest::SHA qw(sha1_base64);
use MIME::Base64 ();
use Time::HiRes qw(time);

use Forkloop::Conn;

use constant {
	OP_CONTINUATION => 0, OP_TEXT => 1, OP_BINARY => 2,
	OP_CLOSE => 8, OP_PING => 9, OP_PONG => 10,
};

my $GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
my $key_counter = 0;

# The Sec-WebSocket-Accept a server must answer to $key (RFC 6455 4.2.2).
sub accept_for {
	my ($key) = @_;
	my $a = sha1_base64($key . $GUID);
	return $a . '=' x ((4 - length($a) % 4) % 4);
}

# A fresh 16-byte key, base64 (different for every handshake).
sub new_key {
	my $raw = pack('N4', $$, ++$key_counter, int(time * 1000) & 0xffffffff,
	    0x5eed0000 + $key_counter);
	my $k = MIME::Base64::encode_base64($raw, '');
	return $k;
}

# The handshake request: headers => [name => value] replace or add
# (a value of undef leaves the field out).
sub request_text {
	my (%o) = @_;
	my %h = (Host => $o{host} // 'localhost', Upgrade => 'websocket',
	    Connection => 'Upgrade', 'Sec-WebSocket-Key' => $o{key},
	    'Sec-WebSocket-Version' => 13);
	my @order = ('Host', 'Upgrade', 'Connection', 'Sec-WebSocket-Key',
	    'Sec-WebSocket-Version');
	my @extra = @{ $o{headers} || [] };
	while (my ($k, $v) = splice(@extra, 0, 2)) {
		push @order, $k unless exists $h{$k};
		$h{$k} = $v;
	}
	my $req = ($o{method} // 'GET') . ' ' . ($o{path} // '/')
	    . ' HTTP/' . ($o{version} // '1.1') . "\r\n";
	for my $k (@order) {
		$req .= "$k: $h{$k}\r\n" if defined $h{$k};
	}
	return $req . "\r\n";
}

# open(port => P, path => '/chat', headers => [...], timeout => 10)
# Sends the handshake and reads the answer's head.  Returns the client;
# ->response is the parsed answer ({status, headers}), ->ok whether it
# is a 101 with the right Sec-WebSocket-Accept.  Dies on a timeout.
sub open {
	my ($class, %o) = @_;
	my $conn = Forkloop::Conn->new(port => $o{port},
	    timeout => $o{timeout} // 10);
	my $key = $o{key} // new_key();
	$conn->send(request_text(%o, key => $key));
	my $r = $conn->response(head => 1);
	my $self = bless { conn => $conn, response => $r, key => $key,
	    timeout => $o{timeout} // 10 }, $class;
	$self->{ok} = $r->{status} == 101
	    && ($r->{headers}{'sec-websocket-accept'} // '')
	    eq accept_for($key);
	return $self;
}

sub response { $_[0]{response} }
sub ok { $_[0]{ok} }
sub conn { $_[0]{conn} }
sub key { $_[0]{key} }

# The bytes of one frame.  fin => 0 for a fragment; mask => 0 sends it
# unmasked; rsv => 0..7; length => N claims N whatever the payload.
sub frame_bytes {
	my ($op, $payload, %o) = @_;
	$payload //= '';
	my $fin = $o{fin} // 1;
	my $len = $o{length} // length $payload;
	my $masked = $o{mask} // 1;
	my $h = chr(($fin ? 0x80 : 0) | (($o{rsv} // 0) << 4) | $op);
	my $m = $masked ? 0x80 : 0;
	if ($len < 126) {
		$h .= chr($m | $len);
	} elsif ($len < 65536) {
		$h .= chr($m | 126) . pack('n', $len);
	} else {
		$h .= chr($m | 127) . pack('Q>', $len);
	}
	return $h . $payload unless $masked;
	my $mask = pack('N', 0x9e3779b9 ^ length $payload);
	my $n = length $payload;
	return $h . $mask . ($payload ^ substr($mask x (int($n / 4) + 1), 0,
	    $n));
}

sub send_raw {
	my ($self, $bytes) = @_;
	$self->{conn}->send($bytes);
	return $self;
}

sub send_frame {
	my ($self, $op, $payload, %o) = @_;
	return $self->send_raw(frame_bytes($op, $payload, %o));
}

sub send_text { $_[0]->send_frame(OP_TEXT, $_[1]) }

# A close frame's payload: the code (if any) and a reason.
sub close_payload {
	my ($code, $reason) = @_;
	return '' unless defined $code;
	return pack('n', $code) . ($reason // '');
}

# The next frame from the server as { op, payload, fin, masked }, or
# undef when the connection closed or nothing whole came in $timeout.
sub read_frame {
	my ($self, $timeout) = @_;
	my $c = $self->{conn};
	my $deadline = time + ($timeout // $self->{timeout});
	for (;;) {
		my $f = $self->_take_frame;
		return $f if $f;
		return undef if $c->at_eof || time >= $deadline;
		$c->_fill(_min($deadline, time + 0.2));
	}
}

sub _min { $_[0] < $_[1] ? $_[0] : $_[1] }

sub _take_frame { parse_frame(\$_[0]{conn}{buf}) }

# Takes one whole frame off the front of the string $$buf, as
# { op, payload, fin, rsv, masked }; undef (and $$buf untouched) while
# it is not all there.  Masked payloads (a client's) are not unmasked.
sub parse_frame {
	my ($buf) = @_;
	return undef if length($$buf) < 2;
	my ($b0, $b1) = unpack('CC', $$buf);
	my $len = $b1 & 0x7f;
	my $off = 2;
	if ($len == 126) {
		return undef if length($$buf) < 4;
		$len = unpack('n', substr($$buf, 2, 2));
		$off = 4;
	} elsif ($len == 127) {
		return undef if length($$buf) < 10;
		$len = unpack('Q>', substr($$buf, 2, 8));
		$off = 10;
	}
	my $masked = $b1 & 0x80;
	$off += 4 if $masked;
	return undef if length($$buf) < $off + $len;
	my $frame = substr($$buf, 0, $off + $len, '');
	return { op => $b0 & 0x0f, fin => ($b0 & 0x80) ? 1 : 0,
	    rsv => ($b0 >> 4) & 7, masked => $masked ? 1 : 0,
	    payload => substr($frame, $off) };
}

# Text messages until $match (a regex) matches one or $timeout passes:
# the list of texts read, the matching one last (or none matched).
# Pings are answered; a close frame ends it (kept in ->{closed}).
sub read_texts_until {
	my ($self, $match, $timeout) = @_;
	my $deadline = time + ($timeout // $self->{timeout});
	my @texts;
	for (;;) {
		my $left = $deadline - time;
		return @texts if $left <= 0;
		my $f = $self->read_frame($left) or return @texts;
		if ($f->{op} == OP_PING) {
			$self->send_frame(OP_PONG, $f->{payload});
			next;
		}
		if ($f->{op} == OP_CLOSE) {
			$self->{closed} = $f;
			return @texts;
		}
		next unless $f->{op} == OP_TEXT;
		push @texts, $f->{payload};
		return @texts if $f->{payload} =~ $match;
	}
}

# The next close frame (other frames skipped): { code, reason } with
# code undef for an empty one; undef when none came.
sub read_close {
	my ($self, $timeout) = @_;
	my $deadline = time + ($timeout // $self->{timeout});
	for (;;) {
		my $left = $deadline - time;
		return undef if $left <= 0;
		my $f = $self->read_frame($left) or return undef;
		next unless $f->{op} == OP_CLOSE;
		return { code => undef, reason => '' }
		    if length $f->{payload} < 2;
		return { code => unpack('n', $f->{payload}),
		    reason => substr($f->{payload}, 2) };
	}
}

# Whether the server closed the TCP connection within $timeout.
sub wait_closed {
	my ($self, $timeout) = @_;
	my $c = $self->{conn};
	my $deadline = time + ($timeout // $self->{timeout});
	until ($c->at_eof) {
		return 0 unless $c->_fill($deadline);
		# Frames before the end are not wanted here: drop them.
		$c->{buf} = '';
	}
	return 1;
}

sub close { $_[0]{conn}->close }

1;
