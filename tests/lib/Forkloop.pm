package Forkloop;

# Forkloop.pm: the harness of forkloop's integration tests (tests/*.t).
#
# One Forkloop object is one server under test: a temporary directory that
# holds its config, pid file, error log, stderr and site, and the master
# running in the foreground as our child.  The master is put in a process
# group of its own, so the master and every worker can be killed together
# whatever state a failing test leaves them in: DESTROY and END both do it,
# and stop() does it after the polite signals have had their chance.
#
# Nothing here sleeps for a fixed time to "let the server start": readiness
# is the pid file plus every listen port accepting, polled with a bound, and
# every read and write has a deadline (select, not alarm: the one alarm of
# the process is the per-file watchdog()), so a hung server fails a test
# instead of hanging it.
#
#	use Forkloop qw(wait_for);
#	my $s = Forkloop->new(config => { workers => 2, echo => {} },
#	    files => { 'www/index.html' => "hi\n" });
#	my $r = $s->http_get('/');		# { status, headers, body, ... }
#	my @workers = $s->wait_workers(2);
#	is($s->stop, 0, 'exit status 0 on QUIT');
#
# Config placeholders: %%TESTDIR%% is the temporary directory, %%PORT_X%%
# a free port remembered under the name X (so %%PORT_HTTP%% stays the same
# port when the config is rewritten for a reload).  $s->port('http') gives
# it back.
#
# The client side (connections with deadlines, HTTP framing, many clients
# at once) is in Forkloop/Conn.pm; its functions are exported from here
# too, so a test needs only "use Forkloop".
#
# FORKLOOP_BIN names the binary (default: ../forkloop next to tests/);
# FORKLOOP_KEEP=1 keeps the temporary directories and prints where they are.

use strict;
use warnings;

use Carp qw(croak);
use Cwd qw(abs_path);
use Exporter qw(import);
use File::Basename qw(dirname);
use File::Path qw(make_path);
use File::Spec;
use File::Temp ();
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Test::More ();
use Time::HiRes qw(time sleep);

use Forkloop::Conn qw(build_request parse_response http_done exchange_many
    printable);

our @EXPORT_OK = qw(free_port wait_for forkloop_bin srcdir proc_alive
    run_forkloop pseudo_random_bytes build_request parse_response http_done
    exchange_many printable config_errors_ok);

# A write to a connection the server closed must fail the test, not kill it.
$SIG{PIPE} = 'IGNORE';

my $TESTS_DIR = dirname(dirname(abs_path(__FILE__)));

# Servers started by this process: master pid => process group.  END uses
# it; forked helpers (see start_load) must never touch it.
my %LIVE;
my $OWNER = $$;
my %PORTS_GIVEN;

sub forkloop_bin {
	my $bin = $ENV{FORKLOOP_BIN};
	$bin = "$TESTS_DIR/../forkloop" if !defined $bin || $bin eq '';
	return File::Spec->rel2abs($bin);
}

sub srcdir {
	my $dir = $ENV{FORKLOOP_SRCDIR};
	$dir = dirname($TESTS_DIR) if !defined $dir || $dir eq '';
	return File::Spec->rel2abs($dir);
}

# Every test file calls this first: without a binary nothing can pass, and
# saying so once beats a screen of identical start-up failures.
sub check_binary {
	my $bin = forkloop_bin();
	Test::More::BAIL_OUT("forkloop binary not found or not executable: "
	    . "$bin (set FORKLOOP_BIN)") unless -f $bin && -x _;
	return $bin;
}

# Bounds a whole test file.  Nothing else in the harness uses alarm(), so
# this one can stay armed for the file's whole run.
sub watchdog {
	my ($seconds) = @_;
	$SIG{ALRM} = sub {
		Test::More::diag("watchdog: test file still running after "
		    . "${seconds}s; killing its servers");
		kill_all();
		exit 255;
	};
	alarm $seconds;
}

# The kernel picks the port; another process could take it before the
# server binds it, which is unlikely enough on a test machine.
sub free_port {
	for (1 .. 20) {
		my $sock = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
		    LocalPort => 0, Proto => 'tcp', Listen => 1)
		    or croak "free_port: $!";
		my $port = $sock->sockport;
		close $sock;
		next if $PORTS_GIVEN{$port}++;
		return $port;
	}
	croak "free_port: no new port after 20 tries";
}

# Polls $cond until it returns true (and returns that value) or until
# $timeout seconds have passed (and returns false).  The interval grows
# from 10 ms to 100 ms so quick conditions are seen quickly.
sub wait_for {
	my ($cond, $timeout) = @_;
	my $deadline = time + ($timeout // 10);
	my $delay = 0.01;

	for (;;) {
		my $v = $cond->();
		return $v if $v;
		return undef if time >= $deadline;
		sleep($delay);
		$delay *= 2 if $delay < 0.1;
	}
}

# Deterministic bytes for a test file: an LCG, packed 32 bits at a time.
sub pseudo_random_bytes {
	my ($len, $seed) = @_;
	my $x = ($seed // 1) & 0xffffffff;
	my @words;

	for (1 .. int(($len + 3) / 4)) {
		$x = ($x * 1103515245 + 12345) & 0xffffffff;
		push @words, $x;
	}
	return substr(pack('N*', @words), 0, $len);
}

###########################################################################
# Processes, from /proc.

# pid => { state, ppid, pgrp } for every process we can see.
sub proc_table {
	my %t;
	opendir(my $dh, '/proc') or croak "opendir /proc: $!";
	for my $pid (grep { /^\d+\z/ } readdir $dh) {
		open(my $fh, '<', "/proc/$pid/stat") or next;
		my $stat = do { local $/; <$fh> };
		close $fh;
		# The command name is in parentheses and may hold anything,
		# so the fields after it are taken from the last ')'.
		next unless defined $stat
		    && $stat =~ /\)\s+(\S)\s+(\d+)\s+(\d+)/s;
		$t{$pid} = { state => $1, ppid => $2, pgrp => $3 };
	}
	closedir $dh;
	return \%t;
}

# True when $pid exists and is not a zombie.
sub proc_alive {
	my ($pid) = @_;
	open(my $fh, '<', "/proc/$pid/stat") or return 0;
	my $stat = do { local $/; <$fh> };
	return 0 unless defined $stat && $stat =~ /\)\s+(\S)/s;
	return $1 ne 'Z' && $1 ne 'X';
}

sub _group_members {
	my ($pgid) = @_;
	my $t = proc_table();
	return sort { $a <=> $b }
	    grep { $t->{$_}{pgrp} == $pgid && $t->{$_}{state} !~ /^[ZX]$/ }
	    keys %$t;
}

# Kills every server this process started, at once.  For END and the
# watchdog: no politeness, the test is over.
sub kill_all {
	return unless $$ == $OWNER;
	for my $pid (keys %LIVE) {
		kill 'KILL', -$LIVE{$pid};
		kill 'KILL', $pid;
		waitpid($pid, 0);
		delete $LIVE{$pid};
	}
}

END {
	my $status = $?;
	kill_all();
	$? = $status;
}

# The servers run in process groups of their own, so a ^C or a TERM for
# the test does not reach them: pass it on.  A forked helper just leaves.
for my $name (qw(INT TERM HUP)) {
	next if defined $SIG{$name} && $SIG{$name} ne 'DEFAULT';
	$SIG{$name} = sub {
		POSIX::_exit(1) if $$ != $OWNER;
		Test::More::diag("caught SIG$_[0]; killing the servers");
		kill_all();
		exit 1;
	};
}

###########################################################################
# Running forkloop as a command (-t, -V, -s): bounded, output captured.

# run_forkloop(args => [...], timeout => 10)
# For each [name, config text, line] in @$cases: "forkloop -t" on the
# text exits 1 and says "FILE:LINE: " at that line.  $self writes the file.
sub config_errors_ok {
	my ($self, $cases) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	for my $case (@$cases) {
		my ($name, $text, $line) = @$case;
		my $file = $self->write_file('broken.conf', $text);
		my $r = run_forkloop(args => ['-t', '-c', $file]);
		Test::More::is($r->{exit}, 1, "$name: -t exits 1");
		Test::More::like($r->{stderr}, qr/^\Q$file\E:$line: /m,
		    "$name: $file:$line:") or Test::More::diag($r->{stderr});
	}
}

# Returns { status => $?, exit => code or undef, signal => number or 0,
#   stdout, stderr, timed_out }.
sub run_forkloop {
	my (%o) = @_;
	my $timeout = $o{timeout} // 10;
	my $out = File::Temp->new(TMPDIR => 1);
	my $err = File::Temp->new(TMPDIR => 1);
	my $bin = forkloop_bin();

	my $pid = fork;
	croak "fork: $!" unless defined $pid;
	if ($pid == 0) {
		$SIG{$_} = 'DEFAULT' for qw(HUP INT QUIT TERM USR1 USR2 PIPE ALRM);
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>', $out->filename);
		open(STDERR, '>', $err->filename);
		{ no warnings 'exec'; exec { $bin } $bin, @{ $o{args} || [] }; }
		print STDERR "exec $bin: $!\n";
		POSIX::_exit(127);
	}

	my $status;
	my $done = wait_for(sub {
		return 0 if waitpid($pid, WNOHANG) != $pid;
		$status = $?;
		return 1;
	}, $timeout);
	unless ($done) {
		kill 'KILL', $pid;
		waitpid($pid, 0);
		$status = $?;
	}

	my %r = (status => $status, timed_out => !$done,
	    stdout => _slurp($out->filename) // '',
	    stderr => _slurp($err->filename) // '');
	$r{signal} = $status & 127;
	$r{exit} = $r{signal} ? undef : $status >> 8;
	return \%r;
}

sub _slurp {
	my ($path) = @_;
	open(my $fh, '<', $path) or return undef;
	binmode $fh;
	local $/;
	my $s = <$fh>;
	return $s // '';
}

###########################################################################
# The server object.

# Forkloop->new(
#   config => STRING | CODE | HASH,  # CODE gets $self, returns the text
#   files  => { 'www/index.html' => CONTENT, ... },  # written first
#   start  => 0,                     # write everything, do not run
#   raw_config => 1,                 # do not add pid/error_log/daemon
#   ready_timeout => 10,
# );
sub new {
	my ($class, %o) = @_;
	my $self = bless {
		owner => $$,
		ports => {},
		ready_timeout => $o{ready_timeout} // 10,
		raw_config => $o{raw_config},
	}, $class;

	$self->{dir_obj} = File::Temp->newdir('forkloop-test-XXXXXX',
	    TMPDIR => 1, CLEANUP => !$ENV{FORKLOOP_KEEP});
	$self->{dir} = $self->{dir_obj}->dirname;
	Test::More::diag("forkloop test directory: $self->{dir}")
	    if $ENV{FORKLOOP_KEEP};
	make_path("$self->{dir}/www");

	my $files = $o{files} || {};
	$self->write_file($_, $files->{$_}) for sort keys %$files;
	$self->write_config($o{config} // {});
	$self->run unless defined $o{start} && !$o{start};
	return $self;
}

sub testdir { $_[0]{dir} }
sub path { "$_[0]{dir}/$_[1]" }
sub pid { $_[0]{pid} }
sub conf_file { "$_[0]{dir}/forkloop.conf" }
sub pid_file { "$_[0]{dir}/forkloop.pid" }
sub error_log_file { "$_[0]{dir}/error.log" }
sub stderr_file { "$_[0]{dir}/stderr.log" }
sub config_text { $_[0]{config_text} }
sub orphans { @{ $_[0]{orphans} || [] } }
sub exit_status { $_[0]{status} }

sub port {
	my ($self, $name) = @_;
	$name = lc $name;
	return $self->{ports}{$name} //= free_port();
}

sub write_file {
	my ($self, $name, $content) = @_;
	my $path = $self->path($name);
	make_path(dirname($path));
	open(my $fh, '>', $path) or croak "write $path: $!";
	binmode $fh;
	print {$fh} $content;
	close $fh or croak "write $path: $!";
	return $path;
}

sub read_file {
	my ($self, $name) = @_;
	return _slurp($self->path($name));
}

sub expand {
	my ($self, $text) = @_;
	$text =~ s/%%TESTDIR%%/$self->{dir}/g;
	$text =~ s/%%PORT_(\w+)%%/$self->port($1)/ge;
	return $text;
}

# The config as a hash: main directives by name, an http block (on unless
# http => undef) and an echo block (when echo is given).  Block values are
# hashes of directive => value; "routes" is a list of "PREFIX HANDLER";
# "extra" a list of literal lines.  A value of undef leaves a directive out.
sub hash_config {
	my ($h) = @_;
	my %main = (workers => 1, worker_connections => 1024,
	    shutdown_timeout => '5s', %$h);
	my $http = exists $main{http} ? delete $main{http} : {};
	my $echo = delete $main{echo};
	my $extra = delete $main{extra};
	my @out;

	for my $k (sort keys %main) {
		push @out, "$k $main{$k};" if defined $main{$k};
	}
	push @out, @$extra if $extra;
	if ($http) {
		my %b = (listen => '127.0.0.1:%%PORT_HTTP%%',
		    root => '%%TESTDIR%%/www', index => 'index.html',
		    access_log => '%%TESTDIR%%/access.log',
		    keepalive_timeout => '75s', header_timeout => '10s',
		    routes => ['/hello/ hello', '/delay/ delay', '/echo echo'],
		    %$http);
		push @out, '', 'http {', _block_lines(\%b), '}';
	}
	if ($echo) {
		my %b = (listen => '127.0.0.1:%%PORT_ECHO%%',
		    idle_timeout => '5m', %$echo);
		push @out, '', 'echo {', _block_lines(\%b), '}';
	}
	return join("\n", @out) . "\n";
}

sub _block_lines {
	my ($b) = @_;
	my %b = %$b;
	my $routes = delete $b{routes} || [];
	my $extra = delete $b{extra} || [];
	my @out;

	for my $k ('listen', grep { $_ ne 'listen' } sort keys %b) {
		next unless defined $b{$k};
		for my $v (ref $b{$k} ? @{ $b{$k} } : $b{$k}) {
			push @out, "    $k $v;";
		}
	}
	push @out, map { "    route $_;" } @$routes;
	push @out, map { "    $_" } @$extra;
	return @out;
}

# Writes the config file (for a reload too: ports keep their numbers).
# pid, error_log and "daemon off" are added at the top when missing.
sub write_config {
	my ($self, $config) = @_;
	my $text = ref $config eq 'CODE' ? $config->($self)
	    : ref $config eq 'HASH' ? hash_config($config) : $config;
	$text = $self->expand($text);

	unless ($self->{raw_config}) {
		my $code = join("\n", map { s/#.*//r } split /\n/, $text);
		my @top;
		push @top, "pid $self->{dir}/forkloop.pid;"
		    unless $code =~ /^\s*pid\s/m;
		push @top, "error_log $self->{dir}/error.log info;"
		    unless $code =~ /^\s*error_log\s/m;
		push @top, 'daemon off;' unless $code =~ /^\s*daemon\s/m;
		$text = join("\n", @top, '') . $text if @top;
	}
	$self->{config_text} = $text;
	$self->write_file('forkloop.conf', $text);

	# Ports to wait for: every "listen ADDR:PORT" outside comments.
	my @listen;
	for my $line (split /\n/, $text) {
		$line =~ s/#.*//;
		push @listen, [$1, $2]
		    if $line =~ /^\s*listen\s+([0-9.]+):(\d+)\b/;
	}
	$self->{listen} = \@listen;
	return $self->conf_file;
}

# Starts the master and waits until it is ready: the pid file holds a pid
# and every listen port accepts.  Dies (after killing what started) when
# the master exits or is not ready within ready_timeout seconds.
sub run {
	my ($self, @args) = @_;
	croak "forkloop is already running" if $self->{pid};
	my $bin = forkloop_bin();
	my $conf = $self->conf_file;
	my $out = $self->stderr_file;
	unlink $self->pid_file;

	my $pid = fork;
	croak "fork: $!" unless defined $pid;
	if ($pid == 0) {
		POSIX::setpgid(0, 0);
		# Ignored signals survive exec; the server must see these.
		$SIG{$_} = 'DEFAULT' for qw(HUP INT QUIT TERM USR1 USR2 PIPE ALRM);
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>>', $out);
		open(STDERR, '>&', \*STDOUT);
		chdir $self->{dir};
		{ no warnings 'exec'; exec { $bin } $bin, @args, '-c', $conf; }
		print STDERR "exec $bin: $!\n";
		POSIX::_exit(127);
	}
	# Both sides set the group, so it is set before either goes on.
	POSIX::setpgid($pid, $pid);
	$self->{pid} = $pid;
	$self->{pgid} = $pid;
	delete $self->{status};
	$LIVE{$pid} = $pid;

	my $state = wait_for(sub {
		return 'exited' unless $self->alive;
		my $p = $self->pid_from_file;
		return 0 unless defined $p;
		for my $l (@{ $self->{listen} }) {
			my $sock = IO::Socket::INET->new(PeerAddr => $l->[0],
			    PeerPort => $l->[1], Proto => 'tcp', Timeout => 1)
			    or return 0;
			close $sock;
		}
		return 'ready';
	}, $self->{ready_timeout});

	return $self if defined $state && $state eq 'ready';

	my $why = defined $state
	    ? "exited with status " . ($self->{status} // '?')
	    : "was not ready within $self->{ready_timeout}s";
	$self->kill_now;
	croak "forkloop $why\n--- stderr:\n" . ($self->stderr // '')
	    . "--- error log:\n" . ($self->error_log // '');
}

# The pid in the pid file, or undef while it is missing or incomplete.
sub pid_from_file {
	my ($self) = @_;
	my $s = _slurp($self->pid_file);
	return undef unless defined $s && $s =~ /^(\d+)\s*\z/;
	return $1;
}

# True while the master runs; reaps it (and keeps its status) once not.
sub alive {
	my ($self) = @_;
	return 0 unless $self->{pid};
	return 0 if $$ != $self->{owner};
	my $r = waitpid($self->{pid}, WNOHANG);
	return 1 if $r == 0;
	$self->{status} = $r == $self->{pid} ? $? : -1;
	delete $LIVE{ $self->{pid} };
	$self->{last_pid} = delete $self->{pid};
	return 0;
}

# Waits up to $timeout seconds for the master to exit by itself; returns
# its wait status, or undef while it still runs.
sub wait_exit {
	my ($self, $timeout) = @_;
	return $self->{status} unless $self->{pid};
	wait_for(sub { !$self->alive }, $timeout // 10);
	return $self->{pid} ? undef : $self->{status};
}

sub signal {
	my ($self, $name) = @_;
	croak "signal $name: forkloop is not running" unless $self->{pid};
	kill($name, $self->{pid}) or croak "kill $name $self->{pid}: $!";
	return $self;
}

# The master's children that are not zombies, sorted.
sub worker_pids {
	my ($self) = @_;
	my $master = $self->{pid} or return ();
	my $t = proc_table();
	return sort { $a <=> $b }
	    grep { $t->{$_}{ppid} == $master && $t->{$_}{state} !~ /^[ZX]$/ }
	    keys %$t;
}

# Waits until the master has exactly $n workers, none of them in
# exclude => [pids]; returns them, or an empty list after the timeout.
sub wait_workers {
	my ($self, $n, %o) = @_;
	my %old = map { $_ => 1 } @{ $o{exclude} || [] };
	my $w = wait_for(sub {
		my @w = $self->worker_pids;
		return 0 if @w != $n || grep { $old{$_} } @w;
		return \@w;
	}, $o{timeout} // 10);
	return $w ? @$w : ();
}

# Graceful stop: QUIT, then TERM after $o{timeout} (default 15) seconds,
# then KILL 5 seconds later.  Returns the master's wait status ($?) and
# records workers still alive 2 s after the master exits in orphans().
sub stop {
	my ($self, %o) = @_;
	my $pid = $self->{pid};

	if ($pid) {
		kill 'QUIT', $pid;
	}
	if ($pid && !defined $self->wait_exit($o{timeout} // 15)) {
		Test::More::diag("forkloop $pid still running after QUIT; "
		    . "sending TERM");
		kill 'TERM', $pid;
		if (!defined $self->wait_exit(5)) {
			Test::More::diag("forkloop $pid still running after "
			    . "TERM; sending KILL");
			$self->kill_now;
		}
	}
	$self->_collect_orphans($self->{pgid})
	    if $self->{pgid} && !$self->{orphans_checked}++;
	return $self->{status};
}

sub _collect_orphans {
	my ($self, $pgid) = @_;
	wait_for(sub { !_group_members($pgid) }, 2);
	my @left = _group_members($pgid);
	if (@left) {
		$self->{orphans} = \@left;
		kill 'KILL', -$pgid;
	}
}

# The end without ceremony: KILL to the whole process group.
sub kill_now {
	my ($self) = @_;
	return unless $$ == $self->{owner};
	if ($self->{pgid}) {
		kill 'KILL', -$self->{pgid};
	}
	if ($self->{pid}) {
		kill 'KILL', $self->{pid};
		waitpid($self->{pid}, 0);
		$self->{status} = $?;
		delete $LIVE{ $self->{pid} };
		$self->{last_pid} = delete $self->{pid};
	}
}

sub DESTROY {
	my ($self) = @_;
	local ($?, $@, $!);
	return unless $self->{owner} && $$ == $self->{owner};
	$self->kill_now;
}

###########################################################################
# Logs.

# The error log, rotated copies (error.log.*) first.
sub error_log {
	my ($self) = @_;
	my $dir = $self->{dir};
	my @files = sort glob("$dir/error.log.*");
	push @files, "$dir/error.log";
	return join('', map { _slurp($_) // '' } @files);
}

sub stderr { _slurp($_[0]->stderr_file) }

# Offsets into error.log, to look at what a step logged.
sub log_mark { -s $_[0]->error_log_file || 0 }

sub log_since {
	my ($self, $mark) = @_;
	my $s = _slurp($self->error_log_file) // '';
	return length($s) > $mark ? substr($s, $mark) : '';
}

# Lines of the error log and stderr that say something went wrong
# ([error], [alert], [crit], [emerg], sanitizers, a process dead of a
# signal whatever the level), less those matching an expected pattern.
sub log_problems {
	my ($self, @expected) = @_;
	my $text = ($self->error_log // '') . ($self->stderr // '');
	my @bad = grep {
		/\[(?:error|alert|crit|emerg)\]/ || /Sanitizer|runtime error:/
		    || /(?:killed by|exited on|died of) signal|core dump/i
	} split /\n/, $text;
	for my $re (@expected) {
		@bad = grep { $_ !~ $re } @bad;
	}
	return @bad;
}

sub log_clean_ok {
	my ($self, $expected, $name) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	return Test::More::is(join("\n", $self->log_problems(@{ $expected || [] })),
	    '', $name // 'no unexpected errors or alerts in the error log');
}

###########################################################################
# Clients.

sub connect {
	my ($self, %o) = @_;
	return Forkloop::Conn->new(port => $o{port} // $self->port('http'),
	    timeout => $o{timeout});
}

# One request on a new connection: raw bytes in, parsed response out.
# Never dies: on a failure the response has error set and status undef
# (and a diag says why, unless quiet => 1).  A server may answer before
# it has read everything (a 413, say) and close: when the write fails,
# what it answered is still returned, with send_error set.
sub http {
	my ($self, $raw, %o) = @_;
	my $t0 = time;
	my $r = eval {
		my $c = $self->connect(%o);
		my $send_error = eval { $c->send($raw); 1 } ? undef : $@;
		my $head = $o{head} // ($raw =~ /^HEAD / ? 1 : 0);
		my $resp = eval {
			$c->response(head => $head, timeout => $o{timeout});
		};
		$c->close;
		die $send_error if $send_error && !$resp;
		die $@ unless $resp;
		chomp($resp->{send_error} = $send_error) if $send_error;
		$resp;
	};
	unless ($r) {
		my $err = $@ || 'unknown error';
		chomp $err;
		Test::More::diag("request " . printable($raw, 60)
		    . " failed: $err") unless $o{quiet};
		$r = { error => $err, status => undef, headers => {},
		    body => undef };
	}
	$r->{elapsed} = time - $t0;
	return $r;
}

sub http_get {
	my ($self, $path, %o) = @_;
	return $self->http(build_request(%o, path => $path), %o);
}

sub http_head {
	my ($self, $path, %o) = @_;
	return $self->http(build_request(%o, method => 'HEAD', path => $path),
	    %o, head => 1);
}

###########################################################################
# Background load: a forked process that sends requests, one connection
# each, until told to stop, and counts what failed.  For watching a server
# while it reloads.

sub start_load {
	my ($self, %o) = @_;
	my $path = $o{path} // '/';
	my $max = $o{max_seconds} // 60;
	my $stop_file = $self->path("load-stop-" . ++$self->{loads});
	unlink $stop_file;

	pipe(my $rd, my $wr) or croak "pipe: $!";
	my $pid = fork;
	croak "fork: $!" unless defined $pid;
	if ($pid == 0) {
		close $rd;
		my ($ok, $fail, @errors) = (0, 0);
		eval {
			my $end = time + $max;
			while (!-e $stop_file && time < $end) {
				my $r = $self->http_get($path, quiet => 1,
				    timeout => 5);
				if (($r->{status} // 0) == 200) {
					$ok++;
					next;
				}
				$fail++;
				push @errors, $r->{error}
				    // "status $r->{status}" if @errors < 5;
			}
			1;
		} or push @errors, "load process died: $@";
		s/\n/ /g for @errors;
		print {$wr} join("\n", "$ok $fail", @errors), "\n";
		close $wr;
		# No END blocks, no DESTROY: the servers are not ours.
		POSIX::_exit(0);
	}
	close $wr;
	return bless { pid => $pid, fh => $rd, stop_file => $stop_file },
	    'Forkloop::Load';
}

package Forkloop::Load;

use IO::Select;
use Time::HiRes qw(time);

# Stops the load; returns { ok => N, fail => N, errors => [...] }.
sub finish {
	my ($self) = @_;
	my $fh;
	open($fh, '>', $self->{stop_file}) and close $fh;
	my $out = '';
	my $deadline = time + 20;
	my $sel = IO::Select->new($self->{fh});
	while (time < $deadline) {
		next unless $sel->can_read($deadline - time);
		my $n = sysread($self->{fh}, my $chunk, 4096);
		last unless $n;
		$out .= $chunk;
	}
	kill 'KILL', $self->{pid} unless $out =~ /\n\z/;
	waitpid($self->{pid}, 0);
	my ($counts, @errors) = split /\n/, $out;
	my ($ok, $fail) = ($counts // '') =~ /^(\d+) (\d+)/;
	return { ok => $ok // 0, fail => $fail // 1,
	    errors => @errors ? \@errors
	        : defined $ok ? [] : ['no report from the load process'] };
}

1;
