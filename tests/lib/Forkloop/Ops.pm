package Forkloop::Ops;

# Forkloop/Ops.pm: helpers for the operations tests (status.t, systemd.t,
# proxy_protocol.t, chat.t): outside programs run with a time bound
# (python3, chromium, haproxy), the status route fetched and decoded, and
# a few protocol odds and ends.  Everything it starts in the background
# runs in a process group of its own and is killed in END whatever state
# a failing test leaves it in.
#
#	use Forkloop::Ops qw(run_cmd start_bg status_json);
#	my $r = run_cmd(['python3', '-c', $code], timeout => 20);
#	my $bg = start_bg(['haproxy', '-f', $cfg, '-db'], log => $file);
#	$bg->stop;
#	my $st = status_json($s);	# decoded JSON of /status

use strict;
use warnings;

use Carp qw(croak);
use Exporter qw(import);
use File::Spec;
use File::Temp ();
use JSON::PP ();
use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);

use Forkloop qw(wait_for);

our @EXPORT_OK = qw(run_cmd start_bg which find_python_with status_json
    status_get);

my $OWNER = $$;
my %BG;		# pid => 1, background programs still to be killed

END {
	my $status = $?;
	if ($$ == $OWNER) {
		for my $pid (keys %BG) {
			kill 'KILL', -$pid;
			kill 'KILL', $pid;
			waitpid($pid, 0);
		}
	}
	$? = $status;
}

# The first executable called $name in PATH (or $name itself when it has
# a slash and is executable), or undef.
sub which {
	my ($name) = @_;
	return -x $name ? $name : undef if $name =~ m{/};
	for my $dir (File::Spec->path) {
		my $p = "$dir/$name";
		return $p if -f $p && -x _;
	}
	return undef;
}

# A whole file, or '' when it cannot be read (Forkloop's, which gives
# undef for that).
sub _slurp { Forkloop::_slurp($_[0]) // '' }

# run_cmd([argv...], timeout => 30, env => { NAME => value }, stdin => BYTES)
# Runs a program with a deadline, in a process group of its own so that
# whatever it forks goes too.  Returns { exit, signal, timed_out, stdout,
# stderr, elapsed }.
sub run_cmd {
	my ($argv, %o) = @_;
	my $timeout = $o{timeout} // 30;
	my $out = File::Temp->new(TMPDIR => 1);
	my $err = File::Temp->new(TMPDIR => 1);
	my $in = File::Temp->new(TMPDIR => 1);
	print {$in} $o{stdin} // '';
	close $in;
	my $t0 = time;

	my $pid = fork;
	croak "fork: $!" unless defined $pid;
	if ($pid == 0) {
		POSIX::setpgid(0, 0);
		$SIG{$_} = 'DEFAULT' for qw(HUP INT QUIT TERM USR1 USR2 PIPE ALRM);
		open(STDIN, '<', $in->filename);
		open(STDOUT, '>', $out->filename);
		open(STDERR, '>', $err->filename);
		$ENV{$_} = $o{env}{$_} for keys %{ $o{env} || {} };
		{ no warnings 'exec'; exec { $argv->[0] } @$argv; }
		print STDERR "exec $argv->[0]: $!\n";
		POSIX::_exit(127);
	}
	POSIX::setpgid($pid, $pid);
	$BG{$pid} = 1;
	my $status;
	my $done = wait_for(sub {
		return 0 if waitpid($pid, WNOHANG) != $pid;
		$status = $?;
		return 1;
	}, $timeout);
	# The group too: a browser leaves helpers behind.
	kill 'KILL', -$pid;
	unless ($done) {
		kill 'KILL', $pid;
		waitpid($pid, 0);
		$status = $?;
	}
	delete $BG{$pid};
	return { exit => ($status & 127) ? undef : $status >> 8,
	    signal => $status & 127, timed_out => !$done,
	    stdout => _slurp($out->filename), stderr => _slurp($err->filename),
	    elapsed => time - $t0 };
}

# start_bg([argv...], log => FILE, env => {...}): a program in the
# background (stdout and stderr to FILE), in its own process group.
# Returns an object with pid, alive, log and stop (TERM, then KILL).
sub start_bg {
	my ($argv, %o) = @_;
	my $log = $o{log} // '/dev/null';
	my $pid = fork;
	croak "fork: $!" unless defined $pid;
	if ($pid == 0) {
		POSIX::setpgid(0, 0);
		$SIG{$_} = 'DEFAULT' for qw(HUP INT QUIT TERM USR1 USR2 PIPE ALRM);
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>>', $log);
		open(STDERR, '>&', \*STDOUT);
		$ENV{$_} = $o{env}{$_} for keys %{ $o{env} || {} };
		{ no warnings 'exec'; exec { $argv->[0] } @$argv; }
		print STDERR "exec $argv->[0]: $!\n";
		POSIX::_exit(127);
	}
	POSIX::setpgid($pid, $pid);
	$BG{$pid} = 1;
	return bless { pid => $pid, log => $log }, 'Forkloop::Ops::Bg';
}

# A python3 that can import $module: the one in PATH first, then
# Debian's own (/usr/bin/python3), since a python of a version manager
# in PATH does not see the modules of Debian's python3-* packages.
sub find_python_with {
	my ($module) = @_;
	my %seen;
	for my $py (grep { defined } which('python3'), '/usr/bin/python3') {
		next if $seen{$py}++ || !-x $py;
		my $r = run_cmd([$py, '-c', "import $module"], timeout => 30);
		return $py if defined $r->{exit} && $r->{exit} == 0;
	}
	return undef;
}

# GET $path (default /status) from server $s; the parsed response.
sub status_get {
	my ($s, $query, %o) = @_;
	my $path = ($o{path} // '/status') . (defined $query ? "?$query" : '');
	return $s->http_get($path, quiet => 1, timeout => 5, %o);
}

# The JSON of /status, decoded, or undef (with a diag saying why).
sub status_json {
	my ($s, %o) = @_;
	my $r = status_get($s, undef, %o);
	unless (($r->{status} // 0) == 200) {
		Test::More::diag("GET /status: "
		    . ($r->{error} // "status $r->{status}"));
		return undef;
	}
	my $j = eval { JSON::PP->new->decode($r->{body}) };
	Test::More::diag("/status is not JSON: $@") unless $j;
	$j->{_content_type} = $r->{headers}{'content-type'} if $j;
	$j->{_raw} = $r->{body} if $j;
	return $j;
}

package Forkloop::Ops::Bg;

use POSIX qw(WNOHANG);
use Forkloop qw(wait_for);

sub pid { $_[0]{pid} }

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
	delete $BG{ $self->{pid} };
	$self->{last_pid} = delete $self->{pid};
}

sub log_text { Forkloop::Ops::_slurp($_[0]{log}) }

# TERM, then KILL after $timeout seconds; the group goes too.
sub stop {
	my ($self, $timeout) = @_;
	return $self->{status} unless $self->{pid};
	kill 'TERM', $self->{pid};
	unless (wait_for(sub { !$self->alive }, $timeout // 5)) {
		kill 'KILL', -$self->{pid};
		kill 'KILL', $self->{pid};
		waitpid($self->{pid}, 0);
		$self->{status} = $?;
		$self->_gone;
	}
	return $self->{status};
}

sub DESTROY {
	my ($self) = @_;
	local ($?, $@, $!);
	$self->stop(2) if $self->{pid} && $$ == $OWNER;
}

1;
