package Forkloop::Redis;

# Forkloop/Redis.pm: a real redis-server for the chat tests, and a small
# client to talk to it.
#
# Forkloop::Redis->new starts Debian's redis-server on a free loopback
# port, with no persistence and its own temporary directory, and waits
# until it answers PING.  It is killed when the object goes, at END, and
# on the test's watchdog (kill_all), so a failing test leaves none
# behind.  stop/start restart it on the same port; pause/resume stop
# and continue it (SIGSTOP/SIGCONT) to play a Redis that does not answer.
#
#	my $r = Forkloop::Redis->new or plan skip_all => 'no redis-server';
#	$r->command(qw(PUBLISH room hello));	# 1 (subscribers reached)

use strict;
use warnings;

use File::Temp ();
use IO::Select;
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);

use Forkloop qw(free_port wait_for);

my %LIVE;	# pid => 1, for END
my $OWNER = $$;

sub binary {
	for my $dir (split /:/, ($ENV{PATH} // '') . ':/usr/bin:/usr/sbin') {
		return "$dir/redis-server" if -x "$dir/redis-server";
	}
	return undef;
}

# Returns undef when there is no redis-server to run.
sub new {
	my ($class, %o) = @_;
	my $bin = binary() or return undef;
	my $self = bless { bin => $bin, port => free_port(),
	    dir => File::Temp->newdir('forkloop-redis-XXXXXX', TMPDIR => 1),
	    owner => $$ }, $class;
	$self->start;
	return $self;
}

sub port { $_[0]{port} }
sub address { "127.0.0.1:$_[0]{port}" }
sub log_file { "$_[0]{dir}/redis.log" }

sub start {
	my ($self) = @_;
	my $dir = "$self->{dir}";
	my $pid = fork;
	die "fork: $!" unless defined $pid;
	if ($pid == 0) {
		POSIX::setpgid(0, 0);
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>>', "$dir/redis.log");
		open(STDERR, '>&', \*STDOUT);
		{ exec { $self->{bin} } $self->{bin}, '--port', $self->{port}, '--bind', '127.0.0.1',
		    '--save', '', '--appendonly', 'no', '--dir', $dir,
		    '--daemonize', 'no', '--protected-mode', 'no'; }
		POSIX::_exit(127);
	}
	$self->{pid} = $pid;
	$LIVE{$pid} = 1;
	my $ok = wait_for(sub {
		return 0 if waitpid($pid, WNOHANG) == $pid;
		my $r = eval { $self->command('PING') };
		return defined $r && $r eq 'PONG';
	}, 10);
	die "redis-server did not answer PING within 10 s:\n"
	    . (do { local (@ARGV, $/) = ("$dir/redis.log"); <> } // '')
	    unless $ok;
	return $self;
}

# Kills it (SIGKILL: no goodbye to its clients) and reaps it.
sub stop {
	my ($self) = @_;
	my $pid = delete $self->{pid} or return;
	kill 'CONT', $pid;
	kill 'KILL', $pid;
	waitpid($pid, 0);
	delete $LIVE{$pid};
}

sub pause { kill 'STOP', $_[0]{pid} }
sub resume { kill 'CONT', $_[0]{pid} }

sub DESTROY {
	my ($self) = @_;
	local ($?, $@, $!);
	$self->stop if $$ == ($self->{owner} // 0);
}

END {
	my $status = $?;	# waitpid sets $?: keep the test's
	if ($$ == $OWNER) {
		for my $pid (keys %LIVE) {
			kill 'CONT', $pid;
			kill 'KILL', $pid;
			waitpid($pid, 0);
		}
	}
	$? = $status;
}

###########################################################################
# A client: one command, one reply, on a new connection each time.

sub _encode {
	my (@args) = @_;
	return '*' . @args . "\r\n"
	    . join('', map { '$' . length($_) . "\r\n$_\r\n" } @args);
}

# One reply from $buf at $$pos: a string, number, undef (nil), an array
# ref, or { error => TEXT }.  Dies "short" when the reply is not whole.
sub _parse {
	my ($buf, $pos) = @_;
	my $eol = index($$buf, "\r\n", $$pos);
	die "short\n" if $eol < 0;
	my $type = substr($$buf, $$pos, 1);
	my $line = substr($$buf, $$pos + 1, $eol - $$pos - 1);
	$$pos = $eol + 2;
	return $line if $type eq '+';
	return { error => $line } if $type eq '-';
	return $line + 0 if $type eq ':';
	if ($type eq '$') {
		return undef if $line < 0;
		die "short\n" if length($$buf) < $$pos + $line + 2;
		my $s = substr($$buf, $$pos, $line);
		$$pos += $line + 2;
		return $s;
	}
	if ($type eq '*') {
		return undef if $line < 0;
		return [map { _parse($buf, $pos) } 1 .. $line];
	}
	die "bad reply type '$type'\n";
}

sub command {
	my ($self, @args) = @_;
	my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $self->{port}, Proto => 'tcp', Timeout => 2)
	    or die "connect to redis: $!\n";
	my $out = _encode(@args);
	while (length $out) {
		my $n = syswrite($sock, $out);
		die "write to redis: $!\n" unless defined $n;
		substr($out, 0, $n, '');
	}
	my ($buf, $sel, $deadline) = ('', IO::Select->new($sock), time + 10);
	for (;;) {
		my $pos = 0;
		my $r = eval { _parse(\$buf, \$pos) };
		return $r unless $@;
		die $@ unless $@ eq "short\n";
		my $left = $deadline - time;
		die "no answer from redis\n" if $left <= 0
		    || !$sel->can_read($left);
		my $n = sysread($sock, $buf, 65536, length $buf);
		die "redis closed the connection\n" unless $n;
	}
}

1;
