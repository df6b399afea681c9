#!/usr/bin/perl
# bench/proxy.pl: the reverse proxy's cost, forkloop beside nginx and h2o
# as reverse proxies in front of the same upstreams (bench/run proxy; see
# bench/README.md, "The reverse proxy").
#
# Workloads, each run against every front, interleaved, BENCH_ROUNDS times:
#   proxy-small   GET / answered by bench/ceiling.c (a fixed 22-byte answer,
#                 so the upstream is not the limit), 50 keep-alive clients
#                 (wrk), the fronts keeping 32 upstream connections per
#                 worker: requests/s, and the front's CPU time per request
#   proxy-down    4 clients each download 100 MiB at once (curl), from a
#                 forkloop serving the file (sendfile): MiB/s in all, and the
#                 front's peak resident memory above its idle size, per
#                 connection
#   proxy-up      4 clients each upload 100 MiB at once (curl, POST with a
#                 length) to the aiohttp test app's /upload, which reads and
#                 hashes it: the same two figures
#   ws-idle       10,000 WebSockets opened through the front to the aiohttp
#                 app's echo route and left idle (bench/idle-conns.c -w):
#                 the front's memory per tunnel (RSS and PSS)
# The fronts are tuned as their users would: nginx with "keepalive 32",
# proxy_http_version 1.1, the usual proxy_set_header lines (Host,
# X-Real-IP, X-Forwarded-For, X-Forwarded-Proto: forkloop and h2o send
# these without being asked), reuseport; h2o with its defaults (it keeps
# upstream connections alive by itself) and proxy.websocket on.  No access
# logs.  Two workers (threads for h2o) each, as the machine has two CPUs.
use strict;
use warnings;
use File::Path qw(make_path remove_tree);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX qw(WNOHANG _exit setpgid);
use Time::HiRes qw(sleep time);

sub env { my ($k, $d) = @_; defined $ENV{$k} && $ENV{$k} ne '' ? $ENV{$k} : $d }

my $HERE = $0 =~ m{^(.*)/} ? $1 : '.';
my $SRC = "$HERE/..";
my $ROUNDS = env('BENCH_ROUNDS', 3);
my $DUR = env('BENCH_DURATION', 5);
$DUR =~ s/s$//;
my $PAUSE = env('BENCH_PAUSE', 1);
my @WORKLOADS = split ' ', env('BENCH_WORKLOADS', 'proxy-small proxy-down proxy-up ws-idle');
my @FRONTS = split ' ', env('BENCH_SERVERS', 'forkloop nginx h2o');
my $IDLE = env('BENCH_IDLE_CONNS', 10000);
my $XFER_MIB = env('BENCH_PROXY_MIB', 100);
my $XFER_CLIENTS = env('BENCH_PROXY_CLIENTS', 4);
my $FL = env('FORKLOOP_BIN', "$SRC/forkloop");
my $NGINX = env('NGINX_BIN', '/usr/sbin/nginx');
my $H2O = env('H2O_BIN', '/usr/bin/h2o');
my $WRK = env('WRK_BIN', 'wrk');
my $CURL = env('CURL_BIN', 'curl');
my $CC = env('CC', 'cc');
my $KEEP = env('BENCH_KEEP', 0);
my $HZ = POSIX::sysconf(POSIX::_SC_CLK_TCK()) || 100;
my $MAIN = $$;

my %WANTS = map { $_ => 1 } @WORKLOADS;
for (@WORKLOADS) {
	die "bench/proxy: unknown workload $_\n" unless /^(proxy-small|proxy-down|proxy-up|ws-idle)$/;
}
for (@FRONTS) { die "bench/proxy: unknown server $_\n" unless /^(forkloop|nginx|h2o)$/ }
-x $FL or die "bench/proxy: $FL is not built (make first)\n";

# ---------------------------------------------------------- processes

my (%LIVE, $TMP);

sub cleanup {
	return if $$ != $MAIN;
	kill 'TERM', $_ for keys %LIVE;
	my $until = time + 10;
	while (%LIVE && time < $until) {
		for (keys %LIVE) { delete $LIVE{$_} if waitpid($_, WNOHANG) != 0 }
		sleep 0.05 if %LIVE;
	}
	for (keys %LIVE) { kill 'KILL', -$_; kill 'KILL', $_; waitpid($_, 0); delete $LIVE{$_} }
	return unless $TMP && -d $TMP;
	if ($KEEP) { print STDERR "bench/proxy: kept $TMP\n" } else { remove_tree($TMP) }
}
END { my $rc = $?; cleanup(); $? = $rc }
$SIG{INT} = sub { cleanup(); _exit(130) };
$SIG{TERM} = sub { cleanup(); _exit(143) };

sub spawn {
	my ($name, $log, @cmd) = @_;
	my $pid = fork // die "bench/proxy: fork: $!\n";
	if ($pid == 0) {
		setpgid(0, 0);
		open STDIN, '<', '/dev/null';
		open STDOUT, '>>', $log or _exit(126);
		open STDERR, '>&', \*STDOUT;
		exec @cmd or _exit(127);
	}
	setpgid($pid, $pid);
	$LIVE{$pid} = $name;
	return $pid;
}

sub stop_pid {
	my ($pid) = @_;
	return unless $LIVE{$pid};
	kill 'TERM', $pid;
	my $until = time + 10;
	while (time < $until) { last if waitpid($pid, WNOHANG) != 0; sleep 0.05 }
	kill 'KILL', -$pid;
	waitpid($pid, WNOHANG);
	delete $LIVE{$pid};
}

sub free_port {
	my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
	    Proto => 'tcp', Listen => 1, ReuseAddr => 1) or die "bench/proxy: no free port: $!\n";
	my $p = $s->sockport;
	close $s;
	return $p;
}

sub slurp { my ($f) = @_; open my $fh, '<', $f or return ''; local $/; my $d = <$fh>; return $d // '' }
sub spew { my ($f, $d) = @_; open my $fh, '>', $f or die "bench/proxy: $f: $!\n"; print $fh $d; close $fh or die "bench/proxy: $f: $!\n" }

sub run_capture {
	my ($limit, @cmd) = @_;
	my $pid = open(my $fh, '-|') // die "bench/proxy: fork: $!\n";
	if ($pid == 0) {
		open STDERR, '>&', \*STDOUT;
		exec 'timeout', '-k', '5', $limit, @cmd or _exit(127);
	}
	local $/;
	my $out = <$fh>;
	close $fh;
	return ($out // '', $? >> 8);
}

# Wait until the port accepts, or die with the log.
sub wait_port {
	my ($name, $pid, $port, $log) = @_;
	my $until = time + 20;
	while (time < $until) {
		die "bench/proxy: $name exited at start:\n" . slurp($log) if waitpid($pid, WNOHANG) != 0;
		my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 1);
		if ($s) { close $s; return }
		sleep 0.05;
	}
	die "bench/proxy: $name does not accept on $port:\n" . slurp($log);
}

sub proc_tree {
	my ($root) = @_;
	my %kids;
	opendir my $dh, '/proc' or return ($root);
	for my $p (grep { /^\d+$/ } readdir $dh) {
		push @{$kids{$1}}, $p if slurp("/proc/$p/stat") =~ /\)\s+\S+\s+(\d+)/;
	}
	my @out;
	my @todo = ($root);
	while (@todo) { my $p = shift @todo; push @out, $p; push @todo, @{$kids{$p} || []} }
	return @out;
}

sub cpu_of {
	my $t = 0;
	for my $p (@_) {
		my $st = slurp("/proc/$p/stat");
		$st =~ s/^.*\)\s+//s;
		my @f = split ' ', $st;
		$t += ($f[11] + $f[12]) / $HZ if @f > 12;
	}
	return $t;
}

sub rss_of { my $n = 0; for (@_) { $n += $1 if slurp("/proc/$_/status") =~ /^VmRSS:\s+(\d+)/m } return $n }
sub pss_of { my $n = 0; for (@_) { $n += $1 if slurp("/proc/$_/smaps_rollup") =~ /^Pss:\s+(\d+)/m } return $n }

sub median {
	my @v = sort { $a <=> $b } grep { defined } @_;
	return undef unless @v;
	return @v % 2 ? $v[$#v / 2] : ($v[@v / 2 - 1] + $v[@v / 2]) / 2;
}

# ------------------------------------------------------------ set-up

$TMP = tempdir('forkloop-bench-proxy.XXXXXX', TMPDIR => 1);
chmod 0755, $TMP;
my $NOFILE = env('BENCH_NOFILE', 1024);
my $CEILING = "$TMP/ceiling";
system($CC, '-O2', '-o', $CEILING, "$HERE/ceiling.c") == 0 or die "bench/proxy: cannot build ceiling.c\n";
my $IDLE_BIN = "$TMP/idle-conns";
if ($WANTS{'ws-idle'}) {
	system($CC, '-O2', '-o', $IDLE_BIN, "$HERE/idle-conns.c", '-lssl', '-lcrypto') == 0
	    or die "bench/proxy: cannot build idle-conns.c\n";
	# The client and the app each hold one socket per WebSocket; each
	# front's two workers hold two (client and upstream) for half of them.
	die "bench/proxy: ws-idle needs an open files limit above " . ($IDLE + 100)
	    . " (bench/run proxy raises it; now $NOFILE)\n" if $NOFILE < $IDLE + 100;
}
my $SITE = "$TMP/site";
make_path($SITE);
my $BIG = "$SITE/big.bin";
if ($WANTS{'proxy-down'} || $WANTS{'proxy-up'}) {
	open my $fh, '>', $BIG or die "bench/proxy: $BIG: $!\n";
	my $block = join '', map { chr(($_ * 7) % 251) } 0 .. 65535;
	print $fh $block for 1 .. $XFER_MIB * 16;
	close $fh or die "bench/proxy: $BIG: $!\n";
}

# The upstreams: ceiling (fast, fixed answer), a forkloop serving the big
# file, and the aiohttp app (uploads, WebSockets).  Started once.
my %UP;
sub start_upstreams {
	my $p = free_port();
	my $pid = spawn('ceiling', "$TMP/ceiling.log", $CEILING, $p, 1);
	wait_port('ceiling', $pid, $p, "$TMP/ceiling.log");
	$UP{ceiling} = $p;
	if ($WANTS{'proxy-down'}) {
		my $fp = free_port();
		make_path("$TMP/files");
		spew("$TMP/files/f.conf", "workers 1;\npid $TMP/files/pid;\ndaemon off;\n"
		    . "http {\n listen 127.0.0.1:$fp;\n root $SITE;\n}\n");
		$pid = spawn('files', "$TMP/files/log", $FL, '-c', "$TMP/files/f.conf");
		wait_port('files', $pid, $fp, "$TMP/files/log");
		$UP{files} = $fp;
	}
	if ($WANTS{'proxy-up'} || $WANTS{'ws-idle'}) {
		my $ap = free_port();
		$pid = spawn('app', "$TMP/app.log", '/usr/bin/python3', "$SRC/tests/lib/upstream_app.py", '--port', $ap);
		wait_port('app', $pid, $ap, "$TMP/app.log");
		$UP{app} = $ap;
	}
}

sub conf_forkloop {
	my ($d, $port) = @_;
	my $files = $UP{files} ? "upstream files { server 127.0.0.1:$UP{files}; keepalive 32; }\n" : '';
	my $app = $UP{app} ? "upstream app { server 127.0.0.1:$UP{app}; keepalive 32; }\n" : '';
	return <<"EOF";
workers 2;
pid $d/forkloop.pid;
daemon off;
worker_connections 30000;
worker_rlimit_nofile $NOFILE;
upstream fast { server 127.0.0.1:$UP{ceiling}; keepalive 32; }
$files$app
http {
    listen 127.0.0.1:$port;
    root $SITE;
    max_body_size 1g;
    location / { proxy_pass http://fast; }
@{[ $UP{files} ? "    location /big.bin { proxy_pass http://files; }\n" : '' ]}@{[ $UP{app} ? "    location /upload { proxy_pass http://app; }\n    location /ws { proxy_pass http://app; proxy_read_timeout 1h; }\n" : '' ]}}
EOF
}

sub conf_nginx {
	my ($d, $port) = @_;
	my $user = $> == 0 ? "user root;\n" : '';
	my $files = $UP{files} ? "    upstream files { server 127.0.0.1:$UP{files}; keepalive 32; }\n" : '';
	my $app = $UP{app} ? "    upstream app { server 127.0.0.1:$UP{app}; keepalive 32; }\n" : '';
	my $loc = '';
	$loc .= "        location /big.bin { proxy_pass http://files; }\n" if $UP{files};
	$loc .= <<"EOF" if $UP{app};
        location /upload { proxy_pass http://app; }
        location /ws {
            proxy_pass http://app;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_read_timeout 1h;
        }
EOF
	return <<"EOF";
# nginx as a reverse proxy, written by bench/proxy.pl.
${user}worker_processes 2;
worker_rlimit_nofile $NOFILE;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 30000; }
http {
    access_log off;
    keepalive_timeout 75s;
    keepalive_requests 1000000000;
    client_max_body_size 1g;
    client_body_temp_path $d/body;
    proxy_temp_path $d/proxy;
    fastcgi_temp_path $d/fastcgi;
    uwsgi_temp_path $d/uwsgi;
    scgi_temp_path $d/scgi;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host \$host;
    proxy_set_header X-Real-IP \$remote_addr;
    proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto \$scheme;
    upstream fast { server 127.0.0.1:$UP{ceiling}; keepalive 32; }
$files$app    server {
        listen 127.0.0.1:$port reuseport;
        location / { proxy_pass http://fast; }
$loc    }
}
EOF
}

sub conf_h2o {
	my ($d, $port) = @_;
	my $user = $> == 0 ? "user: root\n" : '';
	my $paths = '';
	$paths .= "      /big.bin:\n        proxy.reverse.url: http://127.0.0.1:$UP{files}/big.bin\n" if $UP{files};
	$paths .= "      /upload:\n        proxy.reverse.url: http://127.0.0.1:$UP{app}/upload\n"
	    . "      /ws:\n        proxy.reverse.url: http://127.0.0.1:$UP{app}/ws\n"
	    . "        proxy.websocket: ON\n        proxy.websocket.timeout: 3600000\n" if $UP{app};
	return <<"EOF";
# h2o as a reverse proxy, written by bench/proxy.pl.
${user}num-threads: 2
max-connections: 30000
http1-request-timeout: 75
pid-file: $d/h2o.pid
error-log: $d/error.log
listen:
  host: 127.0.0.1
  port: $port
hosts:
  default:
    paths:
$paths      /:
        proxy.reverse.url: http://127.0.0.1:$UP{ceiling}/
EOF
}

my %FRONT;
sub start_front {
	my ($name) = @_;
	my $d = "$TMP/$name";
	remove_tree($d);
	make_path($d);
	chmod 0755, $d;
	my $port = free_port();
	my @cmd;
	if ($name eq 'forkloop') {
		spew("$d/f.conf", conf_forkloop($d, $port));
		@cmd = ($FL, '-c', "$d/f.conf");
	} elsif ($name eq 'nginx') {
		spew("$d/n.conf", conf_nginx($d, $port));
		@cmd = ($NGINX, '-p', "$d/", '-e', "$d/error.log", '-c', "$d/n.conf",
		    '-g', 'daemon off; master_process on;');
	} else {
		spew("$d/h.conf", conf_h2o($d, $port));
		@cmd = ($H2O, '-c', "$d/h.conf");
	}
	my $pid = spawn($name, "$d/stderr.log", @cmd);
	wait_port($name, $pid, $port, "$d/stderr.log");
	sleep 0.5;
	my @pids = proc_tree($pid);
	# The answer must be the upstream's, through the front.
	my ($out) = run_capture(10, $CURL, '-s', "http://127.0.0.1:$port/");
	die "bench/proxy: $name does not pass / to the upstream: $out\n"
	    unless $out eq '<h1>hello, world!</h1>';
	$FRONT{$name} = { pid => $pid, port => $port, dir => $d, pids => \@pids };
	return $FRONT{$name};
}

sub stop_front {
	my ($name) = @_;
	my $f = delete $FRONT{$name} or return;
	stop_pid($f->{pid});
}

# ------------------------------------------------------------ workloads

sub run_small {
	my ($f) = @_;
	my $cpu0 = cpu_of(@{$f->{pids}});
	my @cmd = ($WRK, '-t2', '-c50', "-d${DUR}s", '--timeout', '2s',
	    '-s', "$HERE/wrk-report.lua", "http://127.0.0.1:$f->{port}/");
	my ($out, $rc) = run_capture($DUR + 30, @cmd);
	my $cpu = cpu_of(@{$f->{pids}}) - $cpu0;
	die "bench/proxy: wrk gave no result (exit $rc): $out\n" unless $out =~ /^BENCH (.*)$/m;
	my %r = map { split /=/, $_, 2 } split ' ', $1;
	my $errs = $r{connect} + $r{read} + $r{write} + $r{timeout} + $r{status};
	return { rps => $r{requests} / ($r{duration_us} / 1e6),
	    cpu_us => $r{requests} ? $cpu / $r{requests} * 1e6 : undef,
	    p99_us => $r{p99_us}, errors => $errs };
}

# $XFER_CLIENTS curls at once; the front's resident size sampled every
# 20 ms.  Returns MiB/s in all and peak KiB above the idle size per client.
sub run_xfer {
	my ($f, $up) = @_;
	my @pids = @{$f->{pids}};
	my $base = rss_of(@pids);
	my $cpu0 = cpu_of(@pids);
	my (@kids, @outs);
	my $t0 = time;
	for my $i (1 .. $XFER_CLIENTS) {
		my $out = "$TMP/curl.$i";
		my @cmd = $up
		    ? ($CURL, '-s', '-o', '/dev/null', '-w', '%{http_code} %{size_upload}',
			'-H', 'Expect:', '--data-binary', "\@$BIG", "http://127.0.0.1:$f->{port}/upload")
		    : ($CURL, '-s', '-o', '/dev/null', '-w', '%{http_code} %{size_download}',
			"http://127.0.0.1:$f->{port}/big.bin");
		my $pid = fork // die "bench/proxy: fork: $!\n";
		if ($pid == 0) {
			open STDOUT, '>', $out or _exit(126);
			exec 'timeout', '120', @cmd or _exit(127);
		}
		push @kids, $pid;
		push @outs, $out;
	}
	my $peak = $base;
	my %done;
	while (keys %done < @kids) {
		for (@kids) { $done{$_} = 1 if !$done{$_} && waitpid($_, WNOHANG) != 0 }
		my $r = rss_of(@pids);
		$peak = $r if $r > $peak;
		sleep 0.02;
	}
	my $secs = time - $t0;
	my $cpu = cpu_of(@pids) - $cpu0;
	my $want = -s $BIG;
	my $bad = 0;
	for (@outs) {
		my ($code, $n) = split ' ', slurp($_);
		$bad++ unless ($code // '') eq '200' && ($n // 0) == $want;
	}
	return { mibps => $XFER_CLIENTS * $want / 1048576 / $secs,
	    cpu_ms_gib => $cpu * 1000 / ($XFER_CLIENTS * $want / 1073741824),
	    peak_kib => ($peak - $base) / $XFER_CLIENTS, errors => $bad };
}

sub run_ws_idle {
	my ($f) = @_;
	my @pids = @{$f->{pids}};
	my ($rss0, $pss0) = (rss_of(@pids), pss_of(@pids));
	pipe(my $r, my $w) or die "bench/proxy: pipe: $!\n";
	my $pid = open(my $out, '-|') // die "bench/proxy: fork: $!\n";
	if ($pid == 0) {
		open STDIN, '<&', $r or _exit(126);
		close $w;
		exec $IDLE_BIN, '-w', '127.0.0.1', $f->{port}, $IDLE, '/ws', 90 or _exit(127);
	}
	close $r;
	my $line = <$out> // '';
	my ($open, $failed) = $line =~ /^ready (\d+) (\d+)/ ? ($1, $2) : (0, $IDLE);
	sleep 1;
	my ($rss, $pss) = (rss_of(@pids), pss_of(@pids));
	close $w;
	local $/;
	<$out>;
	close $out;
	return { open => $open, errors => $IDLE - $open,
	    rss_b => $open ? ($rss - $rss0) * 1024 / $open : undef,
	    pss_b => $open ? ($pss - $pss0) * 1024 / $open : undef };
}

# ------------------------------------------------------------ the run

start_upstreams();
my %RES;	# workload => front => [results]
my @ORDER = @FRONTS;
for my $round (1 .. $ROUNDS) {
	for my $w (@WORKLOADS) {
		for my $name (@ORDER) {
			my $f = start_front($name);
			my $res = $w eq 'proxy-small' ? run_small($f)
			    : $w eq 'proxy-down' ? run_xfer($f, 0)
			    : $w eq 'proxy-up' ? run_xfer($f, 1) : run_ws_idle($f);
			stop_front($name);
			push @{$RES{$w}{$name}}, $res;
			printf STDERR "round %d %-11s %-8s %s\n", $round, $w, $name,
			    join(' ', map { defined $res->{$_} ? sprintf('%s=%.1f', $_, $res->{$_}) : "$_=n/a" }
				sort keys %$res);
			sleep $PAUSE;
		}
	}
	# Rotate the order so that no front always runs first.
	push @ORDER, shift @ORDER;
}

my %COLS = (
	'proxy-small' => [['rps', 'requests/s', '%.0f'], ['cpu_us', 'CPU us/request', '%.1f'], ['p99_us', 'p99 us', '%.0f']],
	'proxy-down' => [['mibps', 'MiB/s', '%.0f'], ['cpu_ms_gib', 'CPU ms/GiB', '%.0f'], ['peak_kib', 'peak KiB/conn', '%.0f']],
	'proxy-up' => [['mibps', 'MiB/s', '%.0f'], ['cpu_ms_gib', 'CPU ms/GiB', '%.0f'], ['peak_kib', 'peak KiB/conn', '%.0f']],
	'ws-idle' => [['rss_b', 'RSS bytes/tunnel', '%.0f'], ['pss_b', 'PSS bytes/tunnel', '%.0f'], ['open', 'open', '%d']],
);
print "bench/proxy: medians of $ROUNDS rounds ($DUR s wrk runs; $XFER_CLIENTS x $XFER_MIB MiB transfers; $IDLE idle WebSockets)\n";
for my $w (@WORKLOADS) {
	print "\n$w\n";
	printf "  %-9s", 'server';
	printf " %18s", $_->[1] for @{$COLS{$w}};
	print "  errors\n";
	for my $name (@FRONTS) {
		my $rs = $RES{$w}{$name};
		printf "  %-9s", $name;
		for my $c (@{$COLS{$w}}) {
			my $m = median(map { $_->{$c->[0]} } @$rs);
			printf " %18s", defined $m ? sprintf($c->[2], $m) : 'n/a';
		}
		my $e = 0;
		$e += $_->{errors} for @$rs;
		print "  $e\n";
	}
	my $key = $COLS{$w}[0][0];
	my $fl = median(map { $_->{$key} } @{$RES{$w}{forkloop} || []});
	for my $peer (grep { $_ ne 'forkloop' } @FRONTS) {
		my $p = median(map { $_->{$key} } @{$RES{$w}{$peer}});
		printf "  forkloop/%s %s: %.2f\n", $peer, $COLS{$w}[0][1], $fl / $p
		    if defined $fl && $p;
	}
}
