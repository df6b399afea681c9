package Forkloop::Upstream;

# Forkloop/Upstream.pm: the upstreams behind forkloop's reverse proxy in
# the proxy tests (tests/proxy*.t, issue 14):
#
#   - Forkloop::Upstream: tests/lib/upstream_app.py (aiohttp, Debian's
#     python3-aiohttp) on a free 127.0.0.1 port or a Unix socket, waited
#     for ("ready PORT"), stopped gracefully (TERM) or killed, restarted on
#     the same port for rolling restarts; killed in DESTROY and END
#     whatever a failing test leaves behind;
#	my $a = Forkloop::Upstream->start(name => 'a');
#	$a->port; $a->addr;			# "127.0.0.1:PORT"
#	my $st = $a->stats;			# the app's /stats, decoded
#	$a->get('/gate/k/1');			# straight to the app
#	$a->stop; $a->start_again; $a->kill_now;
#   - Forkloop::Upstream::Raw: a forked Perl TCP server answering each
#     connection with canned bytes, for the faults no real application
#     sends (garbage, an oversized head, a 1xx, two Content-Lengths, ...),
#     one script step per request on a connection:
#	my $f = Forkloop::Upstream::Raw->new(script => [
#	    { send => "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" },
#	    { close => 1 },		# the 2nd request: closed unanswered
#	]);
#	$f->requests;	# [{ conn, n, method, target, head, body_bytes }]
#     A step: { send => BYTES, then => 'keep' (default: the next request
#     on the connection gets the next step) | 'close' | 'silence' (keep
#     the connection open, say nothing, for up to 30 s) } or
#     { close => 1 } (close without a byte) or { silence => 1 }.  After
#     the last step the connection is closed.
#   - pattern_bytes($n) / pattern_sha256($n): the large-body pattern of
#     upstream_app.py, to check a download or make an upload.

use strict;
use warnings;

use Carp qw(croak);
use Cwd qw(abs_path);
use Digest::SHA ();
use Exporter qw(import);
use File::Basename qw(dirname);
use File::Temp ();
use IO::Select;
use IO::Socket::INET;
use JSON::PP ();
use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);

use Forkloop qw(free_port wait_for);
use Forkloop::Ops qw(find_python_with);

our @EXPORT_OK = qw(upstream_python pattern_bytes pattern_sha256
    pattern_digest);

my $OWNER = $$;
my %LIVE;	# pid => 1: apps and raw servers to kill in END
my $APP = dirname(dirname(abs_path(__FILE__))) . '/upstream_app.py';
my $PYTHON;

END {
	my $status = $?;
	if ($$ == $OWNER) {
		for my $pid (keys %LIVE) {
			kill 'KILL', -$pid;
			kill 'KILL', $pid;
			waitpid($pid, 0);
		}
	}
	$? = $status;
}

# A python3 that imports aiohttp (Debian's, if the one in PATH cannot),
# or undef: a test file skips without it.
sub upstream_python {
	$PYTHON //= find_python_with('aiohttp') // '';
	return $PYTHON eq '' ? undef : $PYTHON;
}

###########################################################################
# The large-body pattern (see upstream_app.py).

my $BASE = join('', map { chr((7 * $_ + 3) & 0xff) } 0 .. 65527);

sub _pattern_blocks {
	my ($n, $cb) = @_;
	my $k = 0;
	while ($n > 0) {
		my $b = sprintf('%08x', $k++) . $BASE;
		$b = substr($b, 0, $n) if $n < 65536;
		$cb->($b);
		$n -= length $b;
	}
}

sub pattern_bytes {
	my ($n) = @_;
	my $s = '';
	_pattern_blocks($n, sub { $s .= $_[0] });
	return $s;
}

my %SHA;
sub pattern_sha256 {
	my ($n) = @_;
	return $SHA{$n} //= do {
		my $d = Digest::SHA->new(256);
		_pattern_blocks($n, sub { $d->add($_[0]) });
		$d->hexdigest;
	};
}

###########################################################################
# The aiohttp app.

# start(name => 'a', port => P (default: a free one), unix => PATH,
#   keepalive_timeout => SECONDS, log => FILE)
sub start {
	my ($class, %o) = @_;
	my $py = upstream_python() or croak "no python3 with aiohttp";
	my $self = bless { name => $o{name} // 'app', unix => $o{unix},
	    keepalive_timeout => $o{keepalive_timeout},
	    port => $o{unix} ? undef : ($o{port} // free_port()),
	    python => $py }, $class;
	$self->{log} = $o{log} // do {
		$self->{log_obj} = File::Temp->new(TMPDIR => 1,
		    TEMPLATE => "upstream-$self->{name}-XXXXXX");
		$self->{log_obj}->filename;
	};
	$self->start_again;
	return $self;
}

sub name { $_[0]{name} }
sub port { $_[0]{port} }
sub pid { $_[0]{pid} }
sub unix_path { $_[0]{unix} }
sub addr { $_[0]{unix} ? "unix:$_[0]{unix}" : "127.0.0.1:$_[0]{port}" }
sub log_text { Forkloop::_slurp($_[0]{log}) // '' }

# (Re)starts the app on its port; dies when it is not ready in 15 s.
sub start_again {
	my ($self) = @_;
	croak "upstream $self->{name} is running" if $self->{pid};
	my @args = ($self->{python}, $APP, '--name', $self->{name});
	push @args, $self->{unix} ? ('--unix', $self->{unix})
	    : ('--port', $self->{port});
	push @args, '--keepalive-timeout', $self->{keepalive_timeout}
	    if defined $self->{keepalive_timeout};
	my $mark = -s $self->{log} || 0;

	my $pid = fork;
	croak "fork: $!" unless defined $pid;
	if ($pid == 0) {
		POSIX::setpgid(0, 0);
		$SIG{$_} = 'DEFAULT' for qw(HUP INT QUIT TERM USR1 USR2 PIPE ALRM);
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>>', $self->{log});
		open(STDERR, '>&', \*STDOUT);
		{ no warnings 'exec'; exec { $args[0] } @args; }
		print STDERR "exec $args[0]: $!\n";
		POSIX::_exit(127);
	}
	POSIX::setpgid($pid, $pid);
	$LIVE{$pid} = 1;
	$self->{pid} = $pid;

	my $ok = wait_for(sub {
		return 'dead' unless $self->alive;
		my $log = $self->log_text;
		return substr($log, $mark) =~ /^ready /m ? 'ready' : 0;
	}, 15);
	return $self if ($ok // '') eq 'ready';
	my $text = substr($self->log_text, $mark);
	$self->kill_now;
	croak "upstream $self->{name} did not start ("
	    . ($ok ? 'exited' : 'not ready in 15 s') . "):\n$text";
}

sub alive {
	my ($self) = @_;
	return 0 unless $self->{pid};
	my $r = waitpid($self->{pid}, WNOHANG);
	return 1 if $r == 0;
	$self->{status} = $?;
	$self->_gone;
	return 0;
}

sub _gone {
	my ($self) = @_;
	kill 'KILL', -$self->{pid};
	delete $LIVE{ $self->{pid} };
	delete $self->{pid};
}

# Graceful: TERM (the app closes its listener, lets requests in flight
# finish) and wait up to $timeout s; then KILL.  Returns the wait status.
sub stop {
	my ($self, $timeout) = @_;
	return $self->{status} unless $self->{pid};
	kill 'TERM', $self->{pid};
	$self->kill_now unless wait_for(sub { !$self->alive }, $timeout // 10);
	return $self->{status};
}

# SIGKILL, the whole group: an upstream that dies mid-answer.
sub kill_now {
	my ($self) = @_;
	return unless $self->{pid} && $$ == $OWNER;
	kill 'KILL', -$self->{pid};
	kill 'KILL', $self->{pid};
	waitpid($self->{pid}, 0);
	$self->{status} = $?;
	$self->_gone;
}

sub DESTROY {
	my ($self) = @_;
	local ($?, $@, $!);
	$self->kill_now if $self->{pid} && $$ == $OWNER;
}

# A request straight to the app (not through forkloop): a parsed
# response as Forkloop's http() gives ({ status, headers, body }), or
# { status => undef, error }.
sub request {
	my ($self, $raw, %o) = @_;
	croak "request: the app listens on a Unix socket" if $self->{unix};
	my $r = eval {
		my $c = Forkloop::Conn->new(port => $self->{port},
		    timeout => $o{timeout} // 10);
		$c->send($raw);
		my $resp = $c->response(head => $raw =~ /^HEAD / ? 1 : 0);
		$c->close;
		$resp;
	};
	return $r || { status => undef, error => $@ || 'unknown error',
	    headers => {} };
}

sub get {
	my ($self, $path, %o) = @_;
	return $self->request(Forkloop::build_request(path => $path, %o), %o);
}

# The app's counters (/stats), decoded; undef if it did not answer.
sub stats {
	my ($self) = @_;
	my $r = $self->get('/stats', timeout => 5);
	return undef unless ($r->{status} // 0) == 200;
	return eval { JSON::PP->new->decode($r->{body}) };
}

sub reset_stats {
	my ($self) = @_;
	return ($self->get('/stats/reset', timeout => 5)->{status} // 0) == 200;
}

###########################################################################
# The raw fake upstream.

package Forkloop::Upstream::Raw;

use Carp qw(croak);
use File::Temp ();
use IO::Select;
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);

use Forkloop qw(free_port wait_for);

# new(script => [steps], port => P (default: a free one))
sub new {
	my ($class, %o) = @_;
	my $script = $o{script} or croak "Raw->new: script => [...] needed";
	my $log = File::Temp->new(TMPDIR => 1, TEMPLATE => 'rawup-XXXXXX');
	my $srv;
	my $port = $o{port};
	for (1 .. 10) {
		$port //= free_port();
		$srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
		    LocalPort => $port, Proto => 'tcp', Listen => 128,
		    ReuseAddr => 1) and last;
		undef $port if !$o{port};
	}
	croak "Raw->new: listen: $!" unless $srv;
	my $self = bless { port => $port, log => $log, script => $script },
	    $class;

	my $pid = fork;
	croak "fork: $!" unless defined $pid;
	if ($pid == 0) {
		POSIX::setpgid(0, 0);
		$SIG{$_} = 'DEFAULT' for qw(HUP INT QUIT TERM USR1 USR2 ALRM);
		$SIG{PIPE} = 'IGNORE';
		$SIG{CHLD} = 'IGNORE';	# connection children reap themselves
		# Bounded: a raw upstream lives 5 minutes at most.
		alarm 300;
		my $conn = 0;
		for (;;) {
			my $c = $srv->accept or next;
			$conn++;
			my $kid = fork;
			if (defined $kid && $kid == 0) {
				close $srv;
				alarm 60;
				_serve($self, $c, $conn);
				POSIX::_exit(0);
			}
			close $c;
		}
	}
	close $srv;
	POSIX::setpgid($pid, $pid);
	$LIVE{$pid} = 1;
	$self->{pid} = $pid;
	return $self;
}

sub port { $_[0]{port} }
sub addr { "127.0.0.1:$_[0]{port}" }

sub _log {
	my ($self, $line) = @_;
	open(my $fh, '>>', $self->{log}->filename) or return;
	syswrite($fh, "$line\n");
	close $fh;
}

# Reads one request (head and a Content-Length or chunked body) from $c
# into $$buf; returns { method, target, head, body_bytes } or undef at
# EOF or after 30 s.
sub _read_request {
	my ($c, $buf) = @_;
	my $sel = IO::Select->new($c);
	my $deadline = time + 30;
	my $fill = sub {
		my $left = $deadline - time;
		return 0 if $left <= 0 || !$sel->can_read($left);
		my $n = sysread($c, my $chunk, 65536);
		return 0 unless $n;
		$$buf .= $chunk;
		return 1;
	};
	my $end;
	until (($end = index($$buf, "\r\n\r\n")) >= 0) {
		return undef unless $fill->();
	}
	my $head = substr($$buf, 0, $end + 4, '');
	my ($method, $target) = $head =~ /^(\S+) (\S+)/;
	my $len = 0;
	if ($head =~ /^Content-Length:\s*(\d+)/mi) {
		$len = $1;
		while (length($$buf) < $len) {
			return undef unless $fill->();
		}
		substr($$buf, 0, $len, '');
	} elsif ($head =~ /^Transfer-Encoding:.*chunked/mi) {
		until ($$buf =~ /(?:^|\r\n)0\r\n\r\n/) {
			return undef unless $fill->();
		}
		$len = length($`) ;
		$$buf = $';
	}
	return { method => $method // '?', target => $target // '?',
	    head => $head, body_bytes => $len };
}

sub _serve {
	my ($self, $c, $conn) = @_;
	my $buf = '';
	my $n = 0;
	for my $step (@{ $self->{script} }) {
		my $req = _read_request($c, \$buf) or return;
		$n++;
		my $head = $req->{head};
		$head =~ s/\r\n/\\r\\n/g;
		$self->_log("$conn $n $req->{method} $req->{target} "
		    . "$req->{body_bytes} $head");
		if ($step->{close}) {
			close $c;
			return;
		}
		if ($step->{silence}) {
			sleep 30;
			return;
		}
		my $out = ref $step->{send} eq 'CODE'
		    ? $step->{send}->($req) : $step->{send} // '';
		for my $piece (ref $out ? @$out : $out) {
			my $off = 0;
			while ($off < length $piece) {
				my $w = syswrite($c, $piece, length($piece) - $off,
				    $off);
				return unless defined $w;
				$off += $w;
			}
			sleep($step->{gap}) if $step->{gap};
		}
		my $then = $step->{then} // 'keep';
		if ($then eq 'silence') {
			sleep 30;
			return;
		}
		if ($then eq 'close') {
			close $c;
			return;
		}
	}
	close $c;
}

# What the server has seen: one { conn, n, method, target, body_bytes,
# head } per request, in the order logged.
sub requests {
	my ($self) = @_;
	my $text = Forkloop::_slurp($self->{log}->filename) // '';
	my @r;
	for my $line (split /\n/, $text) {
		my ($conn, $n, $m, $t, $b, $h) = split / /, $line, 6;
		$h =~ s/\\r\\n/\r\n/g;
		push @r, { conn => $conn, n => $n, method => $m, target => $t,
		    body_bytes => $b, head => $h };
	}
	return \@r;
}

sub stop {
	my ($self) = @_;
	return unless $self->{pid} && $$ == $OWNER;
	kill 'KILL', -$self->{pid};
	kill 'KILL', $self->{pid};
	waitpid($self->{pid}, 0);
	delete $LIVE{ $self->{pid} };
	delete $self->{pid};
}

sub DESTROY {
	my ($self) = @_;
	local ($?, $@, $!);
	$self->stop;
}

1;
