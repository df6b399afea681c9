package Forkloop::Raw;

# Forkloop/Raw.pm: a raw HTTP client for the conformance and hostile-input
# tests (tests/http_conformance.t, tests/hostile.t).
#
# It sends exactly the bytes it is given (in one write, or in pieces with
# a gap between them), and reads with a deadline on every wait.  Unlike a
# friendly client it notes what an RFC test needs to see: whether the
# server closed the connection, whether it reset it (a reset can destroy
# a response, which lingering close exists to prevent), every header line
# as it came (duplicates included), and what was left after a response.
# Every response it parses is also pushed on @Forkloop::Raw::SEEN, so a
# test file can check properties that must hold for all of them (Date,
# Server, Content-Length) once at the end.
#
#	my $c = Forkloop::Raw->new(port => $s->port('http'));
#	$c->send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
#	my $r = $c->response or die $c->error;	# undef on close or timeout
#	ok($c->wait_closed(2), 'closed');
#
#	my $x = Forkloop::Raw::exchange($port, $bytes, responses => 2);
#	# { responses => [...], closed, reset, rest, error }

use strict;
use Forkloop::Conn ();
use warnings;

use Errno qw(EAGAIN EINTR ECONNRESET EPIPE);
use Exporter qw(import);
use IO::Select;
use IO::Socket::INET;
use Socket qw(IPPROTO_TCP TCP_NODELAY SHUT_WR);
use Time::HiRes qw(time sleep);

our @EXPORT_OK = qw(exchange parse_http_response show status_is);

our @SEEN;

$SIG{PIPE} = 'IGNORE';

# A test that a response (or exchange's stand-in with error set) has
# status $want; on failure the error or the head goes to diag.
sub status_is {
	my ($r, $want, $name) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	return 1 if Test::More::is($r->{status}, $want, $name);
	Test::More::diag($r->{error} ? "error: $r->{error}"
	    : 'head: ' . show($r->{head}, 400));
	return 0;
}

# For messages: escapes what would garble a terminal, cuts the rest.
sub show {
	my ($s, $max) = @_;
	return '<undef>' unless defined $s;
	$max //= 160;
	my $cut = length($s) > $max;
	$s = substr($s, 0, $max) if $cut;
	$s =~ s/([^\x20-\x7e])/sprintf('\\x%02x', ord $1)/ge;
	return $s . ($cut ? '...(' . length($_[0]) . ' bytes)' : '');
}

# parse_http_response($bytes, head => bool, eof => bool)
# Returns (response, bytes used) once $bytes start with a whole response,
# () while they do not, and dies when they cannot be one.  A response is
# { status, reason, version, head, headers => { lc name => joined value },
#   lines => [[name, value], ...], count => { lc name => n }, body }.
sub parse_http_response {
	# Forkloop::Conn's parser, with this module's names for two keys.
	my ($r, $pos) = Forkloop::Conn::parse_response(@_);
	return () unless $r;
	$r->{lines} = $r->{header_lines};
	$r->{count} = $r->{header_count};
	return ($r, $pos);
}

###########################################################################
# One connection.

sub new {
	my ($class, %o) = @_;
	my $timeout = $o{timeout} // 5;
	my $sock = IO::Socket::INET->new(PeerAddr => $o{host} // '127.0.0.1',
	    PeerPort => $o{port}, Proto => 'tcp', Timeout => $timeout)
	    or die "connect to 127.0.0.1:$o{port}: $!\n";
	$sock->blocking(0);
	setsockopt($sock, IPPROTO_TCP, TCP_NODELAY, 1);
	return bless { sock => $sock, buf => '', eof => 0, reset => 0,
	    timeout => $timeout, responses => 0, error => undef }, $class;
}

sub sock { $_[0]{sock} }
sub buffer { $_[0]{buf} }
sub at_eof { $_[0]{eof} }
sub was_reset { $_[0]{reset} }
sub error { $_[0]{error} }
sub send_error { $_[0]{send_error} }

# One read into the buffer: bytes read, 0 at EOF (a reset is an EOF that
# sets {reset}), undef when there was nothing.
sub _read_some {
	my ($self) = @_;
	return 0 if $self->{eof};
	my $n = sysread($self->{sock}, my $chunk, 65536);
	if (!defined $n) {
		return undef if $! == EAGAIN || $! == EINTR;
		$self->{reset} = 1 if $! == ECONNRESET;
		$self->{read_error} = "$!";
		$n = 0;
	}
	$self->{buf} .= $chunk if $n;
	if ($n == 0) {
		$self->{eof} = 1;
		$self->{eof_at} = time;
	}
	return $n;
}

# Waits until $deadline for data or EOF; true when something came.
sub _fill {
	my ($self, $deadline) = @_;
	return 0 if $self->{eof};
	my $sel = IO::Select->new($self->{sock});
	for (;;) {
		my $left = $deadline - time;
		return 0 if $left <= 0;
		next unless $sel->can_read($left);
		my $n = $self->_read_some;
		return 1 if defined $n;
	}
}

# Writes $data (all of it, reading meanwhile so a server that answers
# early cannot deadlock us).  pieces => N writes N bytes at a time with
# gap => seconds between.  Returns true when everything was written; a
# write the server refused (it closed or reset) is kept in send_error and
# gives false; a timeout dies.
sub send {
	my ($self, $data, %o) = @_;
	my $deadline = time + ($o{timeout} // $self->{timeout});
	my $piece = $o{pieces} || length($data) || 1;
	my $gap = $o{gap} // 0;
	my $off = 0;
	my $sel = IO::Select->new($self->{sock});

	while ($off < length $data) {
		my $want = length($data) - $off;
		$want = $piece if $want > $piece;
		my $n = syswrite($self->{sock}, $data, $want, $off);
		if (defined $n) {
			$off += $n;
			if ($gap && $off < length $data) {
				sleep($gap);
				# Keep what came meanwhile (an early answer).
				1 while !$self->{eof}
				    && $sel->can_read(0) && $self->_read_some;
			}
			next;
		}
		if ($! == EPIPE || $! == ECONNRESET) {
			$self->{send_error} = "$!";
			$self->{reset} = 1 if $! == ECONNRESET;
			return 0;
		}
		die "write: $!\n" unless $! == EAGAIN || $! == EINTR;
		my $left = $deadline - time;
		die "write timed out with " . (length($data) - $off)
		    . " bytes unsent\n" if $left <= 0;
		my ($r) = IO::Select->select($self->{eof} ? undef : $sel, $sel,
		    undef, $left);
		$self->_read_some if $r && @$r;
	}
	return 1;
}

sub shutdown_write {
	my ($self) = @_;
	shutdown($self->{sock}, SHUT_WR);
	$self->{half_closed} = 1;
}

# The next response, or undef (with error() saying why) when the server
# closes or the timeout passes first.  head => 1 for an answer to HEAD.
sub response {
	my ($self, %o) = @_;
	my $timeout = $o{timeout} // $self->{timeout};
	my $deadline = time + $timeout;
	$self->{error} = undef;
	for (;;) {
		my ($r, $used) = eval {
			parse_http_response($self->{buf}, head => $o{head},
			    eof => $self->{eof});
		};
		if ($@) {
			chomp($self->{error} = "unparsable response: $@: "
			    . show($self->{buf}));
			return undef;
		}
		if ($r) {
			$r->{raw} = substr($self->{buf}, 0, $used, '');
			$r->{at} = time;
			$self->{responses}++;
			push @SEEN, $r;
			return $r;
		}
		if ($self->{eof}) {
			$self->{error} = ($self->{reset} ? 'reset' : 'closed')
			    . ' by the server after ' . length($self->{buf})
			    . ' bytes: ' . show($self->{buf});
			return undef;
		}
		unless ($self->_fill($deadline)) {
			$self->{error} = "no whole response within ${timeout}s"
			    . " (" . length($self->{buf}) . ' bytes: '
			    . show($self->{buf}) . ')';
			return undef;
		}
	}
}

# True once the server has closed (what came before stays in the
# buffer); false when it is still open after $timeout seconds.
sub wait_closed {
	my ($self, $timeout) = @_;
	my $deadline = time + ($timeout // $self->{timeout});
	until ($self->{eof}) {
		return 0 unless $self->_fill($deadline);
	}
	return 1;
}

sub close {
	my ($self) = @_;
	CORE::close($self->{sock}) if $self->{sock};
	delete $self->{sock};
}

sub DESTROY { $_[0]->close }

###########################################################################
# exchange($port, $bytes, responses => N, head => [bools], timeout => T,
#   pieces => N, gap => S, shutdown => 1, wait_close => S)
# Sends the bytes on a new connection and reads up to N responses (1 by
# default), stopping early at a close.  With wait_close it then waits
# that long for the server to close.  Never dies: connection errors land
# in {error}.  Returns { responses => [...], closed, reset, rest, error,
# send_error, elapsed }.
sub exchange {
	my ($port, $bytes, %o) = @_;
	my $t0 = time;
	my $n = $o{responses} // 1;
	my %x = (responses => [], closed => 0, reset => 0, rest => '');
	my $c = eval { Forkloop::Raw->new(port => $port,
	    timeout => $o{timeout} // 5) };
	unless ($c) {
		chomp($x{error} = $@);
		return \%x;
	}
	eval {
		$c->send($bytes, pieces => $o{pieces}, gap => $o{gap});
		$c->shutdown_write if $o{shutdown};
		for my $i (0 .. $n - 1) {
			my $head = ref $o{head} ? $o{head}[$i] : $o{head};
			my $r = $c->response(head => $head);
			unless ($r) {
				$x{error} = $c->error;
				last;
			}
			push @{ $x{responses} }, $r;
		}
		$c->wait_closed($o{wait_close}) if $o{wait_close};
		1;
	} or chomp($x{error} = $@);
	$x{closed} = $c->at_eof;
	$x{reset} = $c->was_reset;
	$x{rest} = $c->buffer;
	$x{send_error} = $c->send_error;
	$x{elapsed} = time - $t0;
	$c->close;
	return \%x;
}

1;
