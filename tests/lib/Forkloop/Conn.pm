package Forkloop::Conn;

# Forkloop/Conn.pm: the client side of forkloop's integration tests: one
# connection with deadlines on every read and write (Forkloop::Conn), the
# HTTP framing it needs (build_request, parse_response), and many
# connections at once in one select loop (exchange_many).  Forkloop.pm
# re-exports the functions, so tests import them from there.

use strict;
use warnings;

use Exporter qw(import);
use IO::Select;
use IO::Socket::INET;
use Socket qw(IPPROTO_TCP TCP_NODELAY);
use Time::HiRes qw(time);

our @EXPORT_OK = qw(build_request parse_response http_done exchange_many
    printable);

# For messages: escapes what would garble a terminal, shortens the rest.
sub printable {
	my ($s, $max) = @_;
	return '<undef>' unless defined $s;
	$max //= 200;
	my $cut = length($s) > $max;
	$s = substr($s, 0, $max) if $cut;
	$s =~ s/([^\x20-\x7e])/sprintf('\\x%02x', ord $1)/ge;
	return $s . ($cut ? '...' : '');
}

# build_request(method => 'GET', path => '/', version => '1.1',
#   keepalive => 0, headers => [name => value, ...], body => undef)
# "Connection: close" unless keepalive; Content-Length when there is a body.
sub build_request {
	my (%o) = @_;
	my $req = sprintf("%s %s HTTP/%s\r\nHost: localhost\r\n",
	    $o{method} // 'GET', $o{path} // '/', $o{version} // '1.1');
	$req .= "Connection: close\r\n" unless $o{keepalive};
	my @h = @{ $o{headers} || [] };
	while (my ($k, $v) = splice(@h, 0, 2)) {
		$req .= "$k: $v\r\n";
	}
	$req .= "Content-Length: " . length($o{body}) . "\r\n"
	    if defined $o{body};
	return $req . "\r\n" . ($o{body} // '');
}

# parse_response($bytes, head => bool, eof => bool)
# Returns (response, bytes used) once $bytes hold a whole response, or an
# empty list while they do not; dies when they cannot be one.  The body
# is framed by Content-Length, chunked, or (only at eof) the close.
sub parse_response {
	my ($buf, %o) = @_;
	my $end = index($buf, "\r\n\r\n");
	return () if $end < 0;

	my @lines = split /\r\n/, substr($buf, 0, $end), -1;
	my $first = shift @lines;
	$first =~ m{^HTTP/(\d\.\d) (\d{3}) (.*)\z}s
	    or die "malformed status line: " . printable($first) . "\n";
	my %r = (version => $1, status => $2 + 0, reason => $3 // '',
	    headers => {}, header_count => {}, header_lines => [],
	    head => substr($buf, 0, $end + 4));
	for my $line (@lines) {
		$line =~ /^([!#\$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*\z/s
		    or die "malformed header line: " . printable($line) . "\n";
		my ($name, $value) = (lc $1, $2);
		push @{ $r{header_lines} }, [$1, $value];
		$r{headers}{$name} = exists $r{headers}{$name}
		    ? "$r{headers}{$name}, $value" : $value;
		$r{header_count}{$name}++;
	}

	my $pos = $end + 4;
	my $h = $r{headers};
	if ($o{head} || $r{status} < 200 || $r{status} == 204
	    || $r{status} == 304) {
		$r{body} = '';
	} elsif (($h->{'transfer-encoding'} // '') =~ /chunked/i) {
		my $body = '';
		for (;;) {
			my $nl = index($buf, "\r\n", $pos);
			return () if $nl < 0;
			substr($buf, $pos, $nl - $pos) =~ /^([0-9a-fA-F]+)/
			    or die "malformed chunk size\n";
			my $size = hex $1;
			$pos = $nl + 2;
			if ($size == 0) {
				for (;;) {
					my $e = index($buf, "\r\n", $pos);
					return () if $e < 0;
					my $empty = $e == $pos;
					$pos = $e + 2;
					last if $empty;
				}
				last;
			}
			return () if length($buf) < $pos + $size + 2;
			$body .= substr($buf, $pos, $size);
			$pos += $size;
			die "chunk data not followed by CRLF\n"
			    if substr($buf, $pos, 2) ne "\r\n";
			$pos += 2;
		}
		$r{body} = $body;
		$r{chunked} = 1;
	} elsif (defined $h->{'content-length'}) {
		die "malformed Content-Length: "
		    . printable($h->{'content-length'}) . "\n"
		    unless $h->{'content-length'} =~ /^\d+\z/;
		my $len = $h->{'content-length'};
		return () if length($buf) - $pos < $len;
		$r{body} = substr($buf, $pos, $len);
		$pos += $len;
	} elsif ($o{eof}) {
		$r{body} = substr($buf, $pos);
		$r{until_close} = 1;
		$pos = length $buf;
	} else {
		return ();
	}
	return (\%r, $pos);
}

# A "done" test for exchange_many: a whole HTTP response.
sub http_done {
	my ($buf, $eof) = @_;
	my ($r) = parse_response($buf, eof => $eof);
	return $r;
}

# exchange_many(port => P, requests => [BYTES, ...],
#   done => sub { my ($buf, $eof, $i) = @_; ... }, timeout => 10)
# Opens one connection per request, all before any is answered, writes
# each its bytes and reads until done() returns true for what came back.
# One select loop serves all of them, reading while writing, so neither a
# slow server nor one that answers while still reading blocks it.
# Returns a list of { i, ok, buf, result (done's value), elapsed (seconds
# from the start to done), error }.
sub exchange_many {
	my (%o) = @_;
	my $done = $o{done} || \&http_done;
	my $timeout = $o{timeout} // 10;
	my $t0 = time;
	my $deadline = $t0 + $timeout;
	my @conns;

	for my $i (0 .. $#{ $o{requests} }) {
		my %c = (i => $i, out => $o{requests}[$i], buf => '', ok => 0);
		push @conns, \%c;
		my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
		    PeerPort => $o{port}, Proto => 'tcp',
		    Timeout => _max(1, $deadline - time));
		unless ($sock) {
			$c{error} = "connect: $!";
			next;
		}
		$sock->blocking(0);
		setsockopt($sock, IPPROTO_TCP, TCP_NODELAY, 1);
		$c{sock} = $sock;
	}

	my $finish = sub {
		my ($c, $error) = @_;
		$c->{error} = $error if defined $error;
		CORE::close($c->{sock});
		delete $c->{sock};
	};

	for (;;) {
		my @open = grep { $_->{sock} } @conns;
		last unless @open;
		my $left = $deadline - time;
		if ($left <= 0) {
			$finish->($_, "timed out after ${timeout}s with "
			    . length($_->{buf}) . " bytes read, "
			    . length($_->{out}) . " unsent") for @open;
			last;
		}
		my %by_fd = map { fileno($_->{sock}) => $_ } @open;
		my ($rin, $win) = ('', '');
		for my $c (@open) {
			vec($rin, fileno $c->{sock}, 1) = 1;
			vec($win, fileno $c->{sock}, 1) = 1 if length $c->{out};
		}
		my ($rout, $wout);
		my $n = select($rout = $rin, $wout = $win, undef,
		    _min($left, 0.5));
		next if $n <= 0;

		for my $fd (keys %by_fd) {
			my $c = $by_fd{$fd};
			if (length $c->{out} && vec($wout, $fd, 1)) {
				my $w = syswrite($c->{sock}, $c->{out});
				if (defined $w) {
					substr($c->{out}, 0, $w, '');
				} elsif (!$!{EAGAIN} && !$!{EINTR}) {
					$finish->($c, "write: $!");
					next;
				}
			}
			next unless vec($rout, $fd, 1);
			my $r = sysread($c->{sock}, my $chunk, 65536);
			if (!defined $r) {
				next if $!{EAGAIN} || $!{EINTR};
				$finish->($c, "read: $! after "
				    . length($c->{buf}) . " bytes");
				next;
			}
			$c->{buf} .= $chunk;
			my $eof = $r == 0;
			my $res = eval { $done->($c->{buf}, $eof, $c->{i}) };
			if ($@) {
				chomp(my $e = $@);
				$finish->($c, $e);
			} elsif ($res) {
				$c->{ok} = 1;
				$c->{result} = $res;
				$c->{elapsed} = time - $t0;
				$finish->($c);
			} elsif ($eof) {
				$finish->($c, "closed by the server after "
				    . length($c->{buf}) . " bytes: "
				    . printable($c->{buf}, 80));
			}
		}
	}
	delete $_->{out} for @conns;
	return @conns;
}

sub _max { $_[0] > $_[1] ? $_[0] : $_[1] }
sub _min { $_[0] < $_[1] ? $_[0] : $_[1] }

###########################################################################
# One client connection, non-blocking underneath, with deadlines.

sub new {
	my ($class, %o) = @_;
	my $timeout = $o{timeout} // 10;
	my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $o{port}, Proto => 'tcp', Timeout => $timeout)
	    or die "connect to 127.0.0.1:$o{port}: $!\n";
	$sock->blocking(0);
	setsockopt($sock, IPPROTO_TCP, TCP_NODELAY, 1);
	return bless { sock => $sock, buf => '', eof => 0,
	    timeout => $timeout }, $class;
}

sub sock { $_[0]{sock} }
sub buffer { $_[0]{buf} }
sub at_eof { $_[0]{eof} }

# Writes all of $data, reading what comes back meanwhile (into the
# buffer) so a server that answers before it has read everything, like
# the echo service, cannot deadlock us.
sub send {
	my ($self, $data, %o) = @_;
	my $deadline = time + ($o{timeout} // $self->{timeout});
	my $off = 0;
	my $sel = IO::Select->new($self->{sock});

	while ($off < length $data) {
		my $n = syswrite($self->{sock}, $data, length($data) - $off,
		    $off);
		if (defined $n) {
			$off += $n;
			next;
		}
		die "write: $!\n" unless $!{EAGAIN} || $!{EINTR};
		my $left = $deadline - time;
		die "write timed out with " . (length($data) - $off)
		    . " bytes unsent\n" if $left <= 0;
		my ($r) = IO::Select->select($self->{eof} ? undef : $sel,
		    $sel, undef, $left);
		$self->_read_some if $r && @$r;
	}
	return $self;
}

# One read into the buffer.  Returns bytes read, 0 at EOF (a reset counts
# as EOF, noted in {reset}), undef when nothing was there.
sub _read_some {
	my ($self) = @_;
	my $n = sysread($self->{sock}, my $chunk, 65536);
	if (!defined $n) {
		return undef if $!{EAGAIN} || $!{EINTR};
		die "read: $!\n" unless $!{ECONNRESET};
		$self->{reset} = 1;
		$n = 0;
	}
	$self->{buf} .= $chunk if $n;
	$self->{eof} = 1 if $n == 0;
	return $n;
}

# Waits for data or EOF until $deadline: true when something happened.
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

# The next response on the connection; dies on timeout or early close.
sub response {
	my ($self, %o) = @_;
	my $timeout = $o{timeout} // $self->{timeout};
	my $deadline = time + $timeout;
	for (;;) {
		my ($r, $used) = parse_response($self->{buf},
		    head => $o{head}, eof => $self->{eof});
		if ($r) {
			substr($self->{buf}, 0, $used, '');
			return $r;
		}
		my $got = length($self->{buf}) . " bytes: "
		    . printable($self->{buf}, 80);
		die "connection closed before a whole response ($got)\n"
		    if $self->{eof};
		die "no whole response within ${timeout}s ($got)\n"
		    unless $self->_fill($deadline);
	}
}

# Exactly $n bytes (for the echo service); dies when they do not come.
sub read_bytes {
	my ($self, $n, %o) = @_;
	my $timeout = $o{timeout} // $self->{timeout};
	my $deadline = time + $timeout;
	while (length($self->{buf}) < $n) {
		die "connection closed after " . length($self->{buf})
		    . " of $n bytes\n" if $self->{eof};
		die "only " . length($self->{buf}) . " of $n bytes within "
		    . "${timeout}s\n" unless $self->_fill($deadline);
	}
	return substr($self->{buf}, 0, $n, '');
}

# Everything until the server closes; dies on timeout.
sub read_all {
	my ($self, %o) = @_;
	my $timeout = $o{timeout} // $self->{timeout};
	my $deadline = time + $timeout;
	until ($self->{eof}) {
		die "not closed within ${timeout}s\n"
		    unless $self->_fill($deadline);
	}
	return substr($self->{buf}, 0, length $self->{buf}, '');
}

# True once the server has closed the connection (data before the close
# stays in the buffer), false if it is still open after $timeout.
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

1;
