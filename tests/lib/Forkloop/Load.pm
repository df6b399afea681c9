package Forkloop::Load;

# Forkloop/Load.pm: load and fault helpers for faults.t, upgrade.t and
# reload_load.t, on top of Forkloop.pm:
#
#   - wrk in the background, bounded in time, with its report parsed:
#	my $w = start_wrk($s, path => '/small.txt', connections => 50,
#	    duration => 10, close => 1);
#	... signals ...
#	my $r = $w->finish;	# { requests, non2xx, connect, read, write,
#				#   timeout, errors, output, exit }
#	wrk_clean_ok($r, 'what ran');
#   - processes from /proc: children_of, cpu_seconds (utime + stime);
#   - which worker process holds the server side of a client connection
#     (server_pid_of), from /proc/net/tcp and /proc/PID/fd.
#
# Forkloop.pm also defines a class named Forkloop::Load (the object that
# start_load returns, with its finish method); nothing here touches it:
# the functions below are exported plain functions and wrk runs are
# objects of Forkloop::Load::Wrk.

use strict;
use warnings;

use Carp qw(croak);
use Exporter qw(import);
use File::Temp ();
use POSIX qw(WNOHANG);
use Test::More ();
use Time::HiRes qw(time sleep);

use Forkloop qw(wait_for);

our @EXPORT_OK = qw(start_wrk parse_wrk wrk_clean_ok wrk_summary
    children_of cpu_seconds server_pid_of have_wrk);

my $OWNER = $$;
my %WRK_LIVE;

sub have_wrk {
	for my $dir (split /:/, $ENV{PATH} // '/usr/bin:/bin') {
		return "$dir/wrk" if -x "$dir/wrk";
	}
	return undef;
}

# start_wrk($server, path => '/', connections => 50, threads => 2,
#   duration => 10, close => 0, timeout => 5, port => P, headers => [...])
# Runs wrk in the background for `duration` seconds (keep-alive clients
# unless close => 1, which adds "Connection: close").
sub start_wrk {
	my ($s, %o) = @_;
	my $wrk = have_wrk() or croak "wrk is not installed";
	my $port = $o{port} // $s->port('http');
	my $path = $o{path} // '/';
	my $conns = $o{connections} // 50;
	my $threads = $o{threads} // 2;
	$threads = $conns if $threads > $conns;
	my $duration = $o{duration} // 10;
	my @args = ("-t$threads", "-c$conns", "-d${duration}s",
	    '--timeout', ($o{timeout} // 5) . 's');
	push @args, '-H', 'Connection: close' if $o{close};
	push @args, '-H', $_ for @{ $o{headers} || [] };
	push @args, "http://127.0.0.1:$port$path";

	my $out = File::Temp->new(TMPDIR => 1, TEMPLATE => 'wrk-XXXXXX');
	my $pid = fork;
	croak "fork: $!" unless defined $pid;
	if ($pid == 0) {
		$SIG{$_} = 'DEFAULT' for qw(HUP INT QUIT TERM USR1 USR2 PIPE ALRM);
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>', $out->filename);
		open(STDERR, '>&', \*STDOUT);
		{ no warnings 'exec'; exec { $wrk } $wrk, @args; }
		print STDERR "exec $wrk: $!\n";
		POSIX::_exit(127);
	}
	$WRK_LIVE{$pid} = 1;
	return bless { pid => $pid, out => $out, started => time,
	    duration => $duration, args => \@args,
	    label => $o{label} // join(' ', 'wrk', @args) },
	    'Forkloop::Load::Wrk';
}

# Parses wrk's report.  Missing lines count as zero errors; a report
# with no "N requests in" line has requests undef.
sub parse_wrk {
	my ($text) = @_;
	my %r = (output => $text, connect => 0, read => 0, write => 0,
	    timeout => 0, non2xx => 0, requests => undef);
	$r{requests} = $1 if $text =~ /^\s*(\d+) requests in /m;
	if ($text =~ /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/) {
		@r{qw(connect read write timeout)} = ($1, $2, $3, $4);
	}
	$r{non2xx} = $1 if $text =~ /Non-2xx or 3xx responses: (\d+)/;
	$r{errors} = $r{connect} + $r{read} + $r{write} + $r{timeout};
	return \%r;
}

sub wrk_summary {
	my ($r) = @_;
	return sprintf('%s requests, socket errors connect %d read %d '
	    . 'write %d timeout %d, non-2xx %d', $r->{requests} // 'no',
	    @$r{qw(connect read write timeout non2xx)});
}

# Three tests: wrk ran and made requests, no socket error, no non-2xx.
sub wrk_clean_ok {
	my ($r, $what) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my $ran = Test::More::ok(defined $r->{requests} && $r->{requests} > 0
	    && !$r->{killed}, "$what: wrk ran and made requests");
	Test::More::diag("wrk said:\n$r->{output}") unless $ran;
	Test::More::is($r->{errors}, 0, "$what: no socket errors")
	    or Test::More::diag(wrk_summary($r));
	Test::More::is($r->{non2xx}, 0, "$what: no non-2xx responses")
	    or Test::More::diag(wrk_summary($r));
	Test::More::note("$what: " . wrk_summary($r));
	return $ran;
}

###########################################################################
# /proc

# The children of $ppid that are not zombies, sorted.
sub children_of {
	my ($ppid) = @_;
	my $t = Forkloop::proc_table();
	# An array, so that scalar context gives the count.
	my @c = sort { $a <=> $b }
	    grep { $t->{$_}{ppid} == $ppid && $t->{$_}{state} !~ /^[ZX]$/ }
	    keys %$t;
	return @c;
}

# CPU time (user + system) used so far by $pid, in seconds; undef when
# it is gone.
sub cpu_seconds {
	my ($pid) = @_;
	open(my $fh, '<', "/proc/$pid/stat") or return undef;
	my $stat = do { local $/; <$fh> };
	return undef unless defined $stat && $stat =~ /\)\s+(.*)/s;
	my @f = split ' ', $1;
	# After the command: state(3) ... utime(14) stime(15); $f[0] is 3.
	my $hz = POSIX::sysconf(POSIX::_SC_CLK_TCK()) || 100;
	return ($f[11] + $f[12]) / $hz;
}

# The inode of the socket with this local and remote port on 127.0.0.1.
sub _socket_inode {
	my ($lport, $rport) = @_;
	open(my $fh, '<', '/proc/net/tcp') or return undef;
	my $want_l = sprintf('0100007F:%04X', $lport);
	my $want_r = sprintf('0100007F:%04X', $rport);
	while (my $line = <$fh>) {
		my @f = split ' ', $line;
		next unless @f > 9;
		return $f[9] if $f[1] eq $want_l && $f[2] eq $want_r
		    && $f[9] ne '0';
	}
	return undef;
}

# Which of @pids holds the server end of the client socket $sock (an
# IO::Socket::INET connected to 127.0.0.1); undef if none does (yet).
sub server_pid_of {
	my ($sock, @pids) = @_;
	my $inode = _socket_inode($sock->peerport, $sock->sockport)
	    or return undef;
	for my $pid (@pids) {
		opendir(my $dh, "/proc/$pid/fd") or next;
		for my $fd (readdir $dh) {
			my $l = readlink("/proc/$pid/fd/$fd") // next;
			if ($l eq "socket:[$inode]") {
				closedir $dh;
				return $pid;
			}
		}
		closedir $dh;
	}
	return undef;
}

END {
	if ($$ == $OWNER) {
		for my $pid (keys %WRK_LIVE) {
			kill 'KILL', $pid;
			waitpid($pid, 0);
		}
	}
}

package Forkloop::Load::Wrk;

use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);

sub pid { $_[0]{pid} }

sub running {
	my ($self) = @_;
	return 0 if defined $self->{status};
	my $r = waitpid($self->{pid}, WNOHANG);
	return 1 if $r == 0;
	$self->{status} = $r == $self->{pid} ? $? : -1;
	delete $WRK_LIVE{ $self->{pid} };
	return 0;
}

# Waits for wrk to end (its duration plus `grace` seconds, default 15,
# then KILL) and returns its parsed report, with exit and killed set.
sub finish {
	my ($self, %o) = @_;
	unless (defined $self->{result}) {
		my $deadline = $self->{started} + $self->{duration}
		    + ($o{grace} // 15);
		my $left = $deadline - time;
		Forkloop::wait_for(sub { !$self->running }, $left > 0 ? $left : 0);
		my $killed = 0;
		if ($self->running) {
			Test::More::diag("wrk $self->{pid} still running "
			    . "after its duration; killing it");
			kill 'KILL', $self->{pid};
			waitpid($self->{pid}, 0);
			$self->{status} = $?;
			delete $WRK_LIVE{ $self->{pid} };
			$killed = 1;
		}
		my $text = do {
			open(my $fh, '<', $self->{out}->filename);
			local $/;
			$fh ? <$fh> // '' : '';
		};
		my $r = Forkloop::Load::parse_wrk($text);
		$r->{exit} = $self->{status} >> 8;
		$r->{killed} = $killed;
		$r->{elapsed} = time - $self->{started};
		$self->{result} = $r;
	}
	return $self->{result};
}

1;
