#!/usr/bin/perl
# bench.pl: the body of bench/run (which raises the open files limit first).
#
# Starts forkloop (twice: access log off, and on), nginx (also twice) and
# h2o on free loopback ports with equivalent configurations and the same
# temporary site, plain and over TLS (certificates made at start), checks
# that each answers correctly, drives each with wrk (TLS handshakes with
# bench/tls-conns.c, HTTP/2 with h2load) over several workloads,
# interleaved server by server in every round, and prints a table of
# medians.  Then it measures each server's memory per idle connection,
# HTTP/1.1 plain and TLS, and HTTP/2 over TLS (and h2c), with
# bench/idle-conns.c.  Every server is stopped at the end, on failure and
# on Ctrl-C.  See bench/README.md.
#
# Core Perl only.

use strict;
use warnings;

use Cwd qw(abs_path getcwd);
use Digest::MD5 qw(md5_hex);
use File::Basename qw(dirname);
use File::Copy qw(copy);
use File::Path qw(make_path remove_tree);
use File::Temp qw(tempdir);
use IO::Select;
use IO::Uncompress::Gunzip ();
use IO::Socket::INET;
use POSIX qw(WNOHANG setpgid strftime _exit);
use Time::HiRes qw(time sleep);

$| = 1;
$SIG{PIPE} = 'IGNORE';

my $BENCH_DIR = dirname(abs_path(__FILE__));
my $SRC_DIR = dirname($BENCH_DIR);
my $MAIN_PID = $$;

# ---------------------------------------------------------------- settings

sub env { my ($k, $d) = @_; defined $ENV{$k} && $ENV{$k} ne '' ? $ENV{$k} : $d }

my $DURATION = env('BENCH_DURATION', '5s');
$DURATION =~ /^(\d+)s?$/ or die "bench: BENCH_DURATION must be whole seconds, like 5 or 5s\n";
$DURATION = $1;
my $ROUNDS = env('BENCH_ROUNDS', 3);
$ROUNDS =~ /^[1-9]\d*$/ or die "bench: BENCH_ROUNDS must be a positive number\n";
# wrk threads: -t2 gave higher numbers than -t1 for most servers and
# workloads on the 2-CPU machine this was written on (see README.md).
my $THREADS = env('BENCH_WRK_THREADS', 2);
my $PAUSE = env('BENCH_PAUSE', 1);
my $IDLE_CONNS = env('BENCH_IDLE_CONNS', 10000);
# Memory tests: 1 (plain, tls and h2), 0 (none), or a list of plain, tls,
# h2 (HTTP/2 over TLS) and h2c (cleartext HTTP/2, prior knowledge).
my $DO_MEMORY = env('BENCH_MEMORY', 1);
my @MEMORY = $DO_MEMORY eq '1' ? qw(plain tls h2) : $DO_MEMORY eq '0' ? () : split ' ', $DO_MEMORY;
my $DO_SPEED = env('BENCH_OPENSSL_SPEED', 1);
my $KEEP = env('BENCH_KEEP', 0);
my $PIPE_DEPTH = env('BENCH_PIPELINE_DEPTH', 16);
my $PIPE_PATH = env('BENCH_PIPELINE_PATH', '/hello/world');
my $NOFILE = env('BENCH_NOFILE', 1024);
my $NGINX_EXTRA = env('BENCH_NGINX_HTTP_EXTRA', '');
# h2load prints no percentiles; with 1 it writes a per-request log that
# gives them, which costs the client about 15% of its rate on a 2-CPU
# machine (and so the servers theirs): off by default, p99 is then n/a.
my $H2_P99 = env('BENCH_H2_P99', 0);

my $FORKLOOP = env('FORKLOOP_BIN', "$SRC_DIR/forkloop");
my $NGINX = env('NGINX_BIN', '/usr/sbin/nginx');
my $H2O = env('H2O_BIN', '/usr/bin/h2o');
my $WRK = env('WRK_BIN', 'wrk');
my $CC = env('CC', 'cc');
my $OPENSSL = env('OPENSSL_BIN', 'openssl');
my $H2LOAD = env('H2LOAD_BIN', 'h2load');
my $CURL = env('CURL_BIN', 'curl');

my $HELLO = '<h1>hello, world!</h1>';

# name => [path, connections, extra wrk arguments, unit, TLS certificate,
# options]
# With a certificate (ecdsa or rsa) the workload is https on that
# certificate's port; 'tls-conns' runs bench/tls-conns.c instead of wrk:
# one request per connection, full handshakes, or resumed ones with -r.
# 'h2load', N runs h2load with N concurrent streams per connection: HTTP/2
# over TLS (ALPN h2 only) with a certificate, else cleartext HTTP/2 with
# prior knowledge (h2c) on the server's h2c port.
# Options: gzip => N, on the server's port that compresses on the fly at
# level N; cold => 1, each request for another of $COLD_FILES copies of
# the page (wrk-cold.lua), more than any server's open-file cache holds;
# vhosts => 1, forkloop alone, on its port with 100 blocks and on its
# plain one (one block), back to back.
my %WORKLOAD = (
	hello     => ['/hello/world', 50, [], 'req/s'],
	small     => ['/small.html', 50, [], 'req/s'],
	big       => ['/big.bin', 10, [], 'MiB/s'],
	close     => ['/small.html', 50, ['-H', 'Connection: close'], 'req/s'],
	pipelined => [$PIPE_PATH, 50, ['pipeline'], 'req/s'],
	many      => ['/small.html', 1000, [], 'req/s'],
	'tls-new-ecdsa' => ['/small.html', 50, ['tls-conns'], 'conn/s', 'ecdsa'],
	'tls-new-rsa'   => ['/small.html', 50, ['tls-conns'], 'conn/s', 'rsa'],
	'tls-resumed'   => ['/small.html', 50, ['tls-conns', '-r'], 'conn/s', 'ecdsa'],
	'tls-keepalive' => ['/small.html', 50, [], 'req/s', 'ecdsa'],
	'tls-1m'        => ['/big.bin', 10, [], 'MiB/s', 'ecdsa'],
	'h2-small'      => ['/small.html', 100, ['h2load', 10], 'req/s', 'ecdsa'],
	'h2c-small'     => ['/small.html', 100, ['h2load', 10], 'req/s'],
	'h2-1m'         => ['/big.bin', 10, ['h2load', 1], 'MiB/s', 'ecdsa'],
	'gzip-1'        => ['/page.html', 50, ['-H', 'Accept-Encoding: gzip'], 'req/s', undef, { gzip => 1 }],
	'gzip-6'        => ['/page.html', 50, ['-H', 'Accept-Encoding: gzip'], 'req/s', undef, { gzip => 6 }],
	'gzip-1-cold'   => ['/cold/', 50, ['cold', '-H', 'Accept-Encoding: gzip'], 'req/s', undef,
	    { gzip => 1, cold => 1 }],
	'gzip-6-cold'   => ['/cold/', 50, ['cold', '-H', 'Accept-Encoding: gzip'], 'req/s', undef,
	    { gzip => 6, cold => 1 }],
	vhosts100       => ['/small.html', 50, ['-H', 'Host: site50.example'], 'req/s', undef, { vhosts => 1 }],
	'vhosts100-hello' => ['/hello/world', 50, ['-H', 'Host: site50.example'], 'req/s', undef, { vhosts => 1 }],
);
my @ALL_WORKLOADS = qw(hello small big close pipelined many
    tls-new-ecdsa tls-new-rsa tls-resumed tls-keepalive tls-1m
    h2-small h2c-small h2-1m gzip-1 gzip-6 gzip-1-cold gzip-6-cold vhosts100 vhosts100-hello);
my @WORKLOADS = split ' ', env('BENCH_WORKLOADS', "@ALL_WORKLOADS");
# forkloop+hash: forkloop with "reuseport_steering off", to see what the
# steering of new connections (master/steer.c) gives or costs.
my @ALL_SERVERS = ('forkloop', 'forkloop+log', 'forkloop+hash', 'nginx', 'nginx+log', 'h2o', 'ceiling');
my @SERVERS = split ' ', env('BENCH_SERVERS', join(' ', grep { $_ ne 'forkloop+hash' } @ALL_SERVERS));
my %LOG_WORKLOADS = map { $_ => 1 } split ' ', env('BENCH_LOG_WORKLOADS', "@ALL_WORKLOADS");
# The ceiling (bench/ceiling.c) is no server: a fixed reply from a bare
# epoll loop, run on hello only, to show the limit of this machine.
my %CEILING_WORKLOADS = (hello => 1);
# The "+log" servers run the workloads of BENCH_LOG_WORKLOADS only, and
# are no peers: forkloop+log is compared with nginx+log on its own.
my @PEERS = grep { !/^forkloop/ && !/\+log$/ && $_ ne 'ceiling' } @SERVERS;
for my $w (@WORKLOADS) {
	$WORKLOAD{$w} or die "bench: unknown workload '$w' (know: @ALL_WORKLOADS)\n";
}
for my $s (@SERVERS) {
	grep { $_ eq $s } @ALL_SERVERS or die "bench: unknown server '$s' (know: @ALL_SERVERS)\n";
}
for my $m (@MEMORY) {
	$m =~ /^(plain|tls|h2|h2c)$/
	    or die "bench: BENCH_MEMORY must be 1, 0, or a list of plain, tls, h2 and h2c\n";
}
sub is_h2load { my ($w) = @_; return ($WORKLOAD{$w}[2][0] // '') eq 'h2load' }
# TLS listeners only when something uses them: a forkloop without TLS
# still runs the plain workloads.
my $TLS_ON = (grep { $WORKLOAD{$_}[4] } @WORKLOADS) || (grep { /^(tls|h2)$/ } @MEMORY);
# HTTP/2: checked (and h2load, curl needed) only when something uses it.
# nginx cannot serve HTTP/1.1 and h2c on one port: it gets an h2c port of
# its own when an h2c workload or memory test is chosen.
my $H2C_ON = (grep { is_h2load($_) && !$WORKLOAD{$_}[4] } @WORKLOADS) || (grep { $_ eq 'h2c' } @MEMORY);
my $H2_ON = (grep { is_h2load($_) } @WORKLOADS) || (grep { /^h2c?$/ } @MEMORY);
sub wopt { my ($w, $k) = @_; return ($WORKLOAD{$w}[5] // {})->{$k} }
# On-the-fly gzip: each server gets one more port per level, serving the
# same site with gzip on at that level (only when a gzip workload runs).
my %GZIP_LEVEL = map { wopt($_, 'gzip') => 1 } grep { wopt($_, 'gzip') } @WORKLOADS;
my @GZIP_LEVELS = sort { $a <=> $b } keys %GZIP_LEVEL;
my $GZIP_ON = @GZIP_LEVELS > 0;
# The gzip page: 20 KiB of generated HTML (write_site); the cold variant
# asks for one of $COLD_FILES hard links to it, each thread cycling
# through its own share: more names than forkloop's open-file cache (2048
# entries per worker) and nginx's (open_file_cache max=1000) hold, so no
# server can answer from a cached compressed copy.
my $PAGE_SIZE = 20480;
my $COLD_FILES = 16384;
my $COLD_ON = grep { wopt($_, 'cold') } @WORKLOADS;
# 100 virtual hosts: forkloop only, one more port with 100 blocks
# (server_name siteN.example), each with a root of its own.
my $VHOSTS = 100;
my $VHOSTS_ON = grep { wopt($_, 'vhosts') } @WORKLOADS;

# ---------------------------------------------------------- process control

my %LIVE;		# pid => name: servers and helpers we started
my $TMP;

sub cleanup {
	return if $$ != $MAIN_PID;
	for my $pid (keys %LIVE) {
		kill 'TERM', $pid;
	}
	my $until = time + 10;
	while (%LIVE && time < $until) {
		for my $pid (keys %LIVE) {
			delete $LIVE{$pid} if waitpid($pid, WNOHANG) != 0;
		}
		sleep 0.05 if %LIVE;
	}
	for my $pid (keys %LIVE) {
		kill 'KILL', -$pid;
		kill 'KILL', $pid;
		waitpid($pid, 0);
		delete $LIVE{$pid};
	}
	if ($TMP && -d $TMP) {
		if ($KEEP) {
			print STDERR "bench: kept $TMP\n";
		} else {
			remove_tree($TMP);
		}
	}
}

END { my $rc = $?; cleanup(); $? = $rc; }
$SIG{INT} = sub { print STDERR "\nbench: interrupted; stopping the servers\n"; cleanup(); _exit(130) };
$SIG{TERM} = sub { print STDERR "bench: terminated; stopping the servers\n"; cleanup(); _exit(143) };
$SIG{HUP} = $SIG{TERM};
$SIG{ALRM} = sub { die "bench: ABORT: the whole run took longer than its time budget\n" };

# Start $cmd in a process group of its own with stdout and stderr to $log.
sub spawn {
	my ($name, $log, @cmd) = @_;
	my $pid = fork;
	die "bench: fork: $!\n" unless defined $pid;
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

# Stop a process group politely (TERM), then by force.
sub stop_pid {
	my ($pid) = @_;
	return unless $LIVE{$pid};
	kill 'TERM', $pid;
	my $until = time + 10;
	while (time < $until) {
		last if waitpid($pid, WNOHANG) != 0;
		sleep 0.05;
	}
	kill 'KILL', -$pid;	# the master, or workers it left behind
	waitpid($pid, WNOHANG);
	delete $LIVE{$pid};
}

sub alive { my ($pid) = @_; return waitpid($pid, WNOHANG) == 0 && kill 0, $pid }

# Run a command with a time limit and return its standard output.
sub run_capture {
	my ($limit, @cmd) = @_;
	my $pid = open(my $fh, '-|') // die "bench: fork: $!\n";
	if ($pid == 0) {
		open STDERR, '>&', \*STDOUT;
		exec 'timeout', '-k', '5', $limit, @cmd or _exit(127);
	}
	$LIVE{$pid} = $cmd[0];
	local $/;
	my $out = <$fh>;
	close $fh;
	delete $LIVE{$pid};
	return ($out // '', $? >> 8);
}

sub free_port {
	my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
	    Proto => 'tcp', Listen => 1, ReuseAddr => 1)
	    or die "bench: cannot find a free port: $!\n";
	my $p = $s->sockport;
	close $s;
	return $p;
}

sub slurp { my ($f) = @_; open my $fh, '<', $f or return ''; local $/; my $d = <$fh>; return $d // '' }
sub spew { my ($f, $d) = @_; open my $fh, '>', $f or die "bench: $f: $!\n"; print $fh $d; close $fh or die "bench: $f: $!\n" }

sub tail_of {
	my ($f, $n) = @_;
	my @l = split /\n/, slurp($f);
	@l = @l[-$n .. -1] if @l > $n;
	return join('', map { "    | $_\n" } @l);
}

# ------------------------------------------------------------ the servers

my %SRV;		# name => { pid, port, log, conf, cmd }
my ($SITE, $SMALL, $BIG);

sub write_site {
	$SITE = "$TMP/site";
	make_path("$SITE/hello");
	# 612 bytes of HTML, the size of nginx's classic index.html.
	my $head = "<!DOCTYPE html>\n<html>\n<head>\n<title>forkloop bench</title>\n"
	    . "</head>\n<body>\n<h1>small.html</h1>\n<p>";
	my $tail = "</p>\n</body>\n</html>\n";
	my $fill = '';
	my $i = 0;
	$fill .= "word" . ($i++ % 10) . ' ' while length($head . $fill . $tail) < 612;
	$SMALL = substr($head . $fill, 0, 612 - length($tail)) . $tail;
	die "bench: small.html is not 612 bytes\n" unless length($SMALL) == 612;
	spew("$SITE/small.html", $SMALL);
	# 1 MiB of pseudo-random bytes (an LCG: the same every run).
	my $x = 12345;
	my @w;
	for (1 .. 262144) {
		$x = ($x * 1103515245 + 12345) & 0xffffffff;
		push @w, $x;
	}
	$BIG = pack('N*', @w);
	spew("$SITE/big.bin", $BIG);
	# For h2o without mruby only: a static stand-in for /hello/world.
	spew("$SITE/hello/world.html", $HELLO);
	chmod 0755, $TMP, $SITE, "$SITE/hello";
	write_gzip_site() if $GZIP_ON;
	write_vhost_roots() if $VHOSTS_ON;
}

# A word list for the gzip page: 1,500 made-up words of one to four
# syllables, drawn from the LCG, so the text is as varied as prose (a
# word is chosen with a Zipf-like skew: a few are common, most rare) and
# the page compresses about as real HTML does (2.5 to 1 at level 1, 2.8
# to 1 at level 6), not 100 to 1 as a repeated line would.
sub page_words {
	my ($next) = @_;
	my @on = qw(b c d f g h k l m n p r s t v w br ch cl dr fr gr pl pr sh st th tr);
	my @nu = qw(a e i o u a e i o ea ou ai);
	my @co = ('', '', '', qw(n r s t l m nd st ng rt ck));
	my @words;
	for (1 .. 1500) {
		my $w = '';
		$w .= $on[$next->() % @on] . $nu[$next->() % @nu] . $co[$next->() % @co]
		    for 0 .. $next->() % 4;
		push @words, $w;
	}
	return @words;
}

# page.html: 20 KiB of HTML as a documentation page looks: a head with a
# stylesheet and scripts, a navigation list, sections of headings,
# paragraphs with links and emphasis, lists and a table, from a fixed
# seed (the same bytes every run).
sub make_page {
	my $x = 20261203;
	my $next = sub { $x = ($x * 1103515245 + 12345) & 0x7fffffff; return $x >> 8 };
	my @words = page_words($next);
	# Zipf-like: the index of a word is the square of a uniform draw.
	my $word = sub { my $u = ($next->() % 1000) / 1000; return $words[int($u * $u * @words)] };
	my $words = sub { my ($n) = @_; return join(' ', map { $word->() } 1 .. $n) };
	my $sentence = sub {
		my @w = map { $word->() } 1 .. 6 + $next->() % 14;
		my $i = $next->() % @w;
		$w[$i] = "<a href=\"/$w[$i]/" . $word->() . ".html\">$w[$i]</a>" if $next->() % 3 == 0;
		$i = $next->() % @w;
		$w[$i] = "<em>$w[$i]</em>" if $next->() % 4 == 0;
		return ucfirst(join(' ', @w)) . ($next->() % 5 ? '.' : ',') ;
	};
	my $h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	    . "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	    . "<title>" . ucfirst($words->(4)) . "</title>\n"
	    . "<link rel=\"stylesheet\" href=\"/css/site.css\">\n"
	    . "<script src=\"/js/site.js\" defer></script>\n</head>\n<body>\n"
	    . "<nav class=\"top\">\n<ul>\n";
	$h .= "<li><a href=\"/" . $word->() . "/\">" . ucfirst($word->()) . "</a></li>\n" for 1 .. 8;
	$h .= "</ul>\n</nav>\n<main>\n<h1>" . ucfirst($words->(5)) . "</h1>\n";
	my $tail = "</main>\n<footer>\n<p>" . ucfirst($words->(8)) . ".</p>\n</footer>\n</body>\n</html>\n";
	my $n = 0;
	while (length($h) < $PAGE_SIZE) {
		my $id = $word->();
		$h .= "<section id=\"$id\">\n<h2>" . ucfirst($words->(2 + $next->() % 4)) . "</h2>\n";
		for (1 .. 1 + $next->() % 3) {
			$h .= '<p>' . join(' ', map { $sentence->() } 1 .. 2 + $next->() % 4) . "</p>\n";
		}
		if (++$n % 3 == 0) {
			$h .= "<ul>\n";
			$h .= '<li><code>' . $word->() . '</code> ' . $words->(3 + $next->() % 6) . "</li>\n"
			    for 1 .. 3 + $next->() % 4;
			$h .= "</ul>\n";
		}
		if ($n % 4 == 0) {
			$h .= "<table>\n<tr><th>name</th><th>default</th><th>meaning</th></tr>\n";
			$h .= '<tr><td>' . $word->() . '</td><td>' . $next->() % 10000 . '</td><td>'
			    . $words->(4 + $next->() % 5) . "</td></tr>\n" for 1 .. 4;
			$h .= "</table>\n";
		}
		$h .= "</section>\n";
	}
	# Cut at a tag boundary and close the page at exactly $PAGE_SIZE bytes,
	# padding the last paragraph with words.
	my $room = $PAGE_SIZE - length($tail) - length("</section>\n");
	$h = substr($h, 0, rindex($h, "<section", $room));
	my $p = "<section>\n<p>";
	$p .= $word->() . ' ' while length($h . $p) < $room - 40;
	$p .= "</p>\n";
	$h .= $p;
	$h .= ' ' x ($room - length($h) - 1) . "\n</section>\n" . $tail;
	die "bench: page.html is not $PAGE_SIZE bytes\n" unless length($h) == $PAGE_SIZE;
	return $h;
}

my $PAGE;

sub write_gzip_site {
	$PAGE = make_page();
	spew("$SITE/page.html", $PAGE);
	return unless $COLD_ON;
	make_path("$SITE/cold");
	chmod 0755, "$SITE/cold";
	for my $i (0 .. $COLD_FILES - 1) {
		my $f = sprintf('%s/cold/%05d.html', $SITE, $i);
		link("$SITE/page.html", $f) or die "bench: link $f: $!\n";
	}
}

# One root per virtual host, each with small.html (a link to the plain
# site's) and name.txt, the name of its site: the check asks for it to
# make sure the Host chose the block.
sub write_vhost_roots {
	for my $i (1 .. $VHOSTS) {
		my $d = "$TMP/vhosts/site$i";
		make_path("$d/hello");
		chmod 0755, "$TMP/vhosts", $d, "$d/hello";
		link("$SITE/small.html", "$d/small.html") or die "bench: link $d/small.html: $!\n";
		spew("$d/name.txt", "site$i\n");
	}
}

my $H2O_MRUBY;

# TLS: one certificate of each kind, self-signed, made for this run only.
# The TLS 1.2 ciphers are forkloop's default (ECDHE with AEAD); TLS 1.3
# suites are OpenSSL's defaults everywhere.
my %CERT;		# ecdsa|rsa => [certificate, key]
my @CERT_KINDS = qw(ecdsa rsa);
my $CIPHERS = 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:'
    . 'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:'
    . 'ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305';
my $CURVES = 'X25519:P-256:P-384';

sub make_certs {
	my $d = "$TMP/tls";
	make_path($d);
	chmod 0755, $d;
	my %alg = (ecdsa => ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
	    rsa => ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']);
	for my $k (@CERT_KINDS) {
		my ($crt, $key) = ("$d/$k.pem", "$d/$k.key");
		my ($out, $rc) = run_capture(60, $OPENSSL, 'genpkey', @{$alg{$k}}, '-out', $key);
		die "bench: ABORT: openssl genpkey ($k):\n$out" if $rc != 0;
		($out, $rc) = run_capture(60, $OPENSSL, 'req', '-x509', '-new', '-key', $key,
		    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
		    '-days', '2', '-out', $crt);
		die "bench: ABORT: openssl req ($k):\n$out" if $rc != 0;
		chmod 0644, $crt, $key;
		$CERT{$k} = [$crt, $key];
	}
}

# Signatures per second on one core, as `openssl speed` measures them.
my %SPEED;

sub openssl_speed {
	my ($out, $rc) = run_capture(120, $OPENSSL, 'speed', '-seconds', '3', 'rsa2048', 'ecdsap256');
	$SPEED{rsa} = $1 if $out =~ /^rsa\s+2048 bits\s+\S+\s+\S+\s+([\d.]+)/m;
	$SPEED{ecdsa} = $1 if $out =~ /256 bits ecdsa \(nistp256\)\s+\S+\s+\S+\s+([\d.]+)/;
	warn "bench: cannot read openssl speed's output (exit $rc):\n$out"
	    unless $SPEED{rsa} && $SPEED{ecdsa};
}

sub conf_forkloop {
	my ($name, $port, $log, $tls, $gzip, $vhosts) = @_;
	my $access = $log ? "$TMP/$name/access.log" : 'off';
	my $steering = $name eq 'forkloop+hash' ? "reuseport_steering off;\n" : '';
	my $conf = <<"EOF";
# forkloop, written by bench/run.  Defaults for everything not named here.
workers 2;
worker_connections 20000;
worker_rlimit_nofile $NOFILE;
${steering}http {
    listen 127.0.0.1:$port;
    root $SITE;
    route /hello/ hello;
    access_log $access;
}
EOF
	for my $k (sort keys %$tls) {
		$conf .= <<"EOF";
http {
    listen 127.0.0.1:$tls->{$k} ssl;
    ssl_certificate $CERT{$k}[0];
    ssl_certificate_key $CERT{$k}[1];
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers $CIPHERS;
    ssl_ecdh_curve $CURVES;
    ssl_session_tickets on;
    root $SITE;
    access_log $access;
}
EOF
	}
	# On-the-fly gzip, one block per level (gzip_comp_level is a block's).
	for my $l (sort { $a <=> $b } keys %$gzip) {
		$conf .= <<"EOF";
http {
    listen 127.0.0.1:$gzip->{$l};
    root $SITE;
    gzip on;
    gzip_comp_level $l;
    access_log $access;
}
EOF
	}
	# 100 virtual hosts on one address, each with its own root.
	for my $i (1 .. ($vhosts ? $VHOSTS : 0)) {
		$conf .= <<"EOF";
http {
    listen 127.0.0.1:$vhosts;
    server_name site$i.example;
    root $TMP/vhosts/site$i;
    route /hello/ hello;
    access_log $access;
}
EOF
	}
	return $conf;
}

# nginx's TLS servers, tuned as its users would: HTTP/2 by ALPN (nginx
# 1.22 spells it on the listen line), reuseport, tickets (its default; keys
# made at start and shared by the workers) and no session cache (forkloop
# has none), the open file cache, a buffered access log for nginx+log.
# Clients that offer no ALPN (wrk, tls-conns) get HTTP/1.1 as before.
# With $h2c, one more server for cleartext HTTP/2 (prior knowledge): nginx
# speaks only HTTP/2 on such a port, so it is not the plain one.
sub conf_nginx_tls {
	my ($tls, $access, $h2c) = @_;
	my $conf = '';
	$conf .= <<"EOF" if $h2c;
    server {
        listen 127.0.0.1:$h2c http2 reuseport;
        open_file_cache max=1000 inactive=60s;
        access_log $access;
        root $SITE;
    }
EOF
	for my $k (sort keys %$tls) {
		$conf .= <<"EOF";
    server {
        listen 127.0.0.1:$tls->{$k} ssl http2 reuseport;
        ssl_certificate $CERT{$k}[0];
        ssl_certificate_key $CERT{$k}[1];
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers $CIPHERS;
        ssl_ecdh_curve $CURVES;
        ssl_session_tickets on;
        ssl_session_cache off;
        open_file_cache max=1000 inactive=60s;
        access_log $access;
        root $SITE;
    }
EOF
	}
	return $conf;
}

# nginx's on-the-fly gzip, one server per level, as its users write it:
# the open file cache, and Vary (forkloop and h2o send it).
sub conf_nginx_gzip {
	my ($gzip, $access) = @_;
	my $conf = '';
	for my $l (sort { $a <=> $b } keys %$gzip) {
		$conf .= <<"EOF";
    server {
        listen 127.0.0.1:$gzip->{$l};
        root $SITE;
        gzip on;
        gzip_comp_level $l;
        gzip_vary on;
        open_file_cache max=1000 inactive=60s;
        access_log $access;
    }
EOF
	}
	return $conf;
}

sub conf_nginx {
	my ($name, $port, $log, $tls, $h2c, $gzip) = @_;
	my $user = $> == 0 ? "user root;\n" : '';
	my $d = "$TMP/$name";
	my $access = $log ? "$d/access.log combined buffer=64k flush=1s" : 'off';
	my $tls_servers = conf_nginx_tls($tls, $access, $h2c) . conf_nginx_gzip($gzip, $access);
	return <<"EOF";
# nginx, written by bench/run.  Stock defaults except what matches forkloop;
# its TLS and h2c servers as its users tune them.  keepalive_timeout is
# also HTTP/2's idle timeout (nginx >= 1.19.7).
${user}worker_processes 2;
worker_rlimit_nofile $NOFILE;
pid $d/nginx.pid;
error_log $d/error.log warn;
events {
    worker_connections 20000;
}
http {
    types {
        text/html html;
        application/octet-stream bin;
    }
    default_type application/octet-stream;
    access_log $access;
    sendfile on;
    keepalive_timeout 75s;
    keepalive_requests 1000000000;
    client_body_temp_path $d/body;
    proxy_temp_path $d/proxy;
    fastcgi_temp_path $d/fastcgi;
    uwsgi_temp_path $d/uwsgi;
    scgi_temp_path $d/scgi;
    $NGINX_EXTRA
    server {
        listen 127.0.0.1:$port;
        root $SITE;
        location = /hello/world {
            default_type text/html;
            return 200 "$HELLO";
        }
    }
$tls_servers}
EOF
}

# h2o's TLS listeners, one "listen" each (h2o takes the key several times):
# its defaults otherwise (session tickets and cache, neverbleed: the private
# key in a process of its own).
sub conf_h2o_tls {
	my ($tls) = @_;
	my $conf = '';
	for my $k (sort keys %$tls) {
		$conf .= <<"EOF";
listen:
  host: 127.0.0.1
  port: $tls->{$k}
  ssl:
    certificate-file: $CERT{$k}[0]
    key-file: $CERT{$k}[1]
    minimum-version: TLSv1.2
    cipher-suite: "$CIPHERS"
EOF
	}
	return $conf;
}

# h2o's on-the-fly gzip: one host per level with a listener of its own
# (so it serves only that host), "compress: {gzip: N}" (h2o 2.2 takes a
# gzip quality 1-9 in this mapping; "compress: ON" would be quality 1).
sub conf_h2o_gzip {
	my ($gzip) = @_;
	my $conf = '';
	for my $l (sort { $a <=> $b } keys %$gzip) {
		$conf .= <<"EOF";
  "127.0.0.1:$gzip->{$l}":
    listen:
      host: 127.0.0.1
      port: $gzip->{$l}
    paths:
      /:
        file.dir: $SITE
        compress:
          gzip: $l
EOF
	}
	return $conf;
}

sub conf_h2o {
	my ($name, $port, $log, $tls, $gzip) = @_;
	my $user = $> == 0 ? "user: root\n" : '';
	my $d = "$TMP/$name";
	my $hello = $H2O_MRUBY ? <<"EOF" : <<"EOF";
      /hello/world:
        mruby.handler: |
          Proc.new do |env|
            [200, {"content-type" => "text/html"}, ["$HELLO"]]
          end
EOF
      /hello/world:
        file.file: $SITE/hello/world.html
EOF
	# http1-request-timeout is h2o's keep-alive idle timeout (default 10s),
	# http2-idle-timeout its HTTP/2 one (default 10s).  HTTP/2 otherwise
	# as shipped: h2 by ALPN on the TLS listeners, h2c with prior
	# knowledge (and Upgrade) on the plain one.
	return <<"EOF";
# h2o, written by bench/run.  No access-log: h2o then writes none.
${user}num-threads: 2
max-connections: 20000
http1-request-timeout: 75
http2-idle-timeout: 75
pid-file: $d/h2o.pid
error-log: $d/error.log
listen:
  host: 127.0.0.1
  port: $port
${\ conf_h2o_tls($tls)}hosts:
  default:
    paths:
$hello      /:
        file.dir: $SITE
${\ conf_h2o_gzip($gzip)}
EOF
}

my $FL_COPY;
my $CEILING_BIN;

sub start_server {
	my ($name) = @_;
	my $d = "$TMP/$name";
	remove_tree($d);
	make_path($d);
	chmod 0755, $d;
	my $port = free_port();
	my $tls = {};
	if ($TLS_ON && $name ne 'ceiling') {
		$tls->{$_} = free_port() for @CERT_KINDS;
	}
	# h2c: forkloop and h2o take the HTTP/2 preface on the plain port.
	my $h2c = $H2C_ON && $name =~ /^nginx/ ? free_port() : undef;
	my $gzip = {};
	if ($GZIP_ON && $name ne 'ceiling') {
		$gzip->{$_} = free_port() for @GZIP_LEVELS;
	}
	# The 100 virtual hosts: forkloop (without the log) only.
	my $vhosts = $VHOSTS_ON && $name eq 'forkloop' ? free_port() : undef;
	my $log = $name =~ /\+log$/;
	my ($conf, @cmd);
	if ($name =~ /^forkloop/) {
		$conf = "$d/forkloop.conf";
		spew($conf, conf_forkloop($name, $port, $log, $tls, $gzip, $vhosts));
		@cmd = ($FL_COPY, '-c', $conf);
	} elsif ($name eq 'ceiling') {
		$conf = '(none)';
		@cmd = ($CEILING_BIN, $port, 2);
	} elsif ($name =~ /^nginx/) {
		$conf = "$d/nginx.conf";
		spew($conf, conf_nginx($name, $port, $log, $tls, $h2c, $gzip));
		@cmd = ($NGINX, '-p', "$d/", '-e', "$d/error.log", '-c', $conf,
		    '-g', 'daemon off; master_process on;');
	} else {
		$conf = "$d/h2o.conf";
		spew($conf, conf_h2o($name, $port, $log, $tls, $gzip));
		@cmd = ($H2O, '-c', $conf);
	}
	my $errlog = "$d/stderr.log";
	my $pid = spawn($name, $errlog, @cmd);
	my $until = time + 15;
	my @wait = ($port, (map { $tls->{$_} } sort keys %$tls), $h2c // (),
	    (map { $gzip->{$_} } sort keys %$gzip), $vhosts // ());
	while (@wait && time < $until) {
		if (!alive($pid)) {
			delete $LIVE{$pid};
			die "bench: ABORT: $name exited at start (@cmd)\n"
			    . tail_of($errlog, 20) . tail_of("$d/error.log", 20)
			    . ($name =~ /^forkloop/ && %$tls ? "  (the TLS workloads need a forkloop"
				. " with TLS; without it, choose BENCH_WORKLOADS and BENCH_MEMORY=plain)\n" : '');
		}
		my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$wait[0]", Timeout => 1);
		if ($s) { close $s; shift @wait; next }
		sleep 0.05;
	}
	die "bench: ABORT: $name does not accept on port(s) @wait after 15 s\n" . tail_of($errlog, 20)
	    if @wait;
	# Let every worker come up before the first measurement.
	sleep 0.5;
	$SRV{$name} = { pid => $pid, port => $port, tls => $tls, h2c => $h2c // $port, dir => $d,
	    gzip => $gzip, vhosts => $vhosts,
	    log => $errlog, conf => $conf, cmd => [@cmd], loglen => 0 };
	$SRV{$name}{loglen} = log_size($name);
	return $SRV{$name};
}

sub stop_server {
	my ($name) = @_;
	my $s = delete $SRV{$name} or return;
	stop_pid($s->{pid});
}

sub log_files {
	my ($name) = @_;
	my $d = $SRV{$name}{dir};
	return grep { -f } ("$d/stderr.log", "$d/error.log");
}

sub log_size { my $n = 0; $n += -s $_ for log_files($_[0]); return $n }

# New lines in a server's logs since the last call that look like trouble.
my %ANOMALIES;

sub check_logs {
	my ($name, $when) = @_;
	my $s = $SRV{$name};
	my $text = '';
	for my $f (log_files($name)) {
		$text .= slurp($f);
	}
	my $new = substr($text, $s->{logpos}{all} // $s->{loglen});
	$s->{logpos}{all} = length $text;
	my @bad = grep {
		!/\[info\]/ && !/^\s*$/
		    && !/is ready to serve requests|raised RLIMIT_NOFILE/
		    # h2o's OCSP stapling thread, at start, on self-signed
		    # certificates (no OCSP URI); it may log after we look.
		    && !/fetch-ocsp-response \(using|failed to extract ocsp URI|\[OCSP Stapling\] disabled/
	} split /\n/, $new;
	if (@bad) {
		push @{$ANOMALIES{$name}}, map { "$when: $_" } @bad;
		printf "    ! %s logged %d line(s) during %s, first: %s\n", $name,
		    scalar @bad, $when, $bad[0];
	}
	if (!alive($s->{pid})) {
		delete $LIVE{$s->{pid}};
		die "bench: ABORT: $name (pid $s->{pid}) died during $when\n"
		    . tail_of($s->{log}, 30);
	}
}

# ------------------------------------------------------- correctness check

sub read_response {
	my ($sock, $bufref, $method) = @_;
	my $sel = IO::Select->new($sock);
	my $until = time + 10;
	my $need;
	my ($status, %h, $headlen);
	for (;;) {
		if (!defined $headlen && $$bufref =~ /\r\n\r\n/) {
			$headlen = $+[0];
			my @lines = split /\r\n/, substr($$bufref, 0, $headlen - 4);
			my $sl = shift @lines;
			$sl =~ m{^HTTP/1\.[01] (\d{3})} or return { error => "bad status line '$sl'" };
			$status = $1;
			for (@lines) {
				/^([^:]+):\s*(.*)$/ or next;
				$h{lc $1} = $2;
			}
			return { error => 'chunked answer (Content-Length expected)' }
			    if ($h{'transfer-encoding'} // '') =~ /chunked/i;
			return { error => 'no Content-Length' } unless defined $h{'content-length'};
			$need = $headlen + ($method eq 'HEAD' ? 0 : $h{'content-length'});
		}
		if (defined $need && length($$bufref) >= $need) {
			my $body = substr($$bufref, $headlen, $need - $headlen);
			substr($$bufref, 0, $need) = '';
			return { status => $status, headers => \%h, body => $body };
		}
		my $left = $until - time;
		return { error => 'timeout' } if $left <= 0;
		next unless $sel->can_read($left);
		my $n = sysread($sock, $$bufref, 65536, length $$bufref);
		return { error => 'connection closed early' } if !$n;
	}
}

sub connect_to {
	my ($port) = @_;
	my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 5)
	    or die "bench: ABORT: cannot connect to 127.0.0.1:$port: $!\n";
	return $s;
}

sub request_text {
	my ($path, $port, %o) = @_;
	return "GET $path HTTP/1.1\r\nHost: 127.0.0.1:$port\r\n"
	    . ($o{close} ? "Connection: close\r\n" : '') . "\r\n";
}

# Check what a server answers before measuring it.  Dies loudly on a wrong
# answer: a fast wrong server is no result.
sub check_content {
	my ($name) = @_;
	my $port = $SRV{$name}{port};
	my @fail;
	my $only_hello = $name eq 'ceiling';
	my $expect = sub {
		my ($what, $r, $want) = @_;
		if ($r->{error}) { push @fail, "$what: $r->{error}"; return }
		if ($r->{status} != 200) { push @fail, "$what: status $r->{status}"; return }
		if ($r->{body} ne $want) {
			push @fail, sprintf("%s: body of %d bytes (md5 %s), want %d bytes (md5 %s)%s",
			    $what, length $r->{body}, md5_hex($r->{body}), length $want, md5_hex($want),
			    length($r->{body}) < 200 ? " '$r->{body}'" : '');
		}
	};
	# Keep-alive: three requests, one connection.
	my $s = connect_to($port);
	my $buf = '';
	for my $t (['/hello/world', $HELLO], ['/small.html', $SMALL], ['/big.bin', $BIG]) {
		print $s request_text($t->[0], $port);
		my $r = read_response($s, \$buf, 'GET');
		$expect->("GET $t->[0]", $r, $t->[1]);
		if ($t->[0] eq '/hello/world' && !$r->{error}
		    && ($r->{headers}{'content-type'} // '') !~ m{^text/html}) {
			push @fail, "GET /hello/world: Content-Type '"
			    . ($r->{headers}{'content-type'} // '') . "', want text/html";
		}
		last if $r->{error} || $only_hello;
	}
	close $s;
	# The ceiling answers hello and nothing else.
	if (!$only_hello) {
		# Pipelining: the workload's request, $PIPE_DEPTH times in one write.
		$s = connect_to($port);
		$buf = '';
		my $want = $PIPE_PATH eq '/hello/world' ? $HELLO : $PIPE_PATH eq '/small.html' ? $SMALL : undef;
		print $s request_text($PIPE_PATH, $port) x $PIPE_DEPTH;
		for my $i (1 .. $PIPE_DEPTH) {
			my $r = read_response($s, \$buf, 'GET');
			if (defined $want) { $expect->("pipelined GET $PIPE_PATH #$i", $r, $want) }
			elsif ($r->{error} || $r->{status} != 200) { push @fail, "pipelined GET $PIPE_PATH #$i failed" }
			last if $r->{error};
		}
		close $s;
		# Connection: close is honoured.
		$s = connect_to($port);
		$buf = '';
		print $s request_text('/small.html', $port, close => 1);
		my $r = read_response($s, \$buf, 'GET');
		$expect->('GET /small.html with Connection: close', $r, $SMALL);
		if (!$r->{error}) {
			my $sel = IO::Select->new($s);
			my $closed = 0;
			if ($sel->can_read(5)) {
				my $n = sysread($s, my $more, 1);
				$closed = defined $n && $n == 0;
			}
			push @fail, 'Connection: close: the server kept the connection open' unless $closed;
		}
		close $s;
	}
	push @fail, check_tls_content($name) if %{$SRV{$name}{tls}};
	push @fail, check_h2_content($name) if $H2_ON && !$only_hello;
	push @fail, check_gzip_content($name) if %{$SRV{$name}{gzip} || {}};
	push @fail, check_vhosts_content($name) if $SRV{$name}{vhosts};
	if (@fail) {
		die "bench: ABORT: $name answers wrongly on 127.0.0.1:$port:\n"
		    . join('', map { "    $_\n" } @fail)
		    . ($name =~ /^forkloop/ && grep({ /HTTP\/2/ } @fail) ? "  (the h2* workloads and"
			. " BENCH_MEMORY=h2 need a forkloop with HTTP/2 on)\n" : '');
	}
	my $tls = join('', map { ", $_ on $SRV{$name}{tls}{$_}" } sort keys %{$SRV{$name}{tls}});
	$tls .= ", h2c on $SRV{$name}{h2c}" if $H2C_ON && $SRV{$name}{h2c} != $port;
	print "  $name on 127.0.0.1:$port$tls: answers checked\n";
}

# HTTP/2, fetched by curl: over TLS with ALPN h2 on the ECDSA port (when
# TLS is on) and cleartext with prior knowledge on the h2c port (when h2c
# is on), small.html and big.bin byte for byte, with status 200 over
# HTTP/2.  Returns what is wrong.
sub check_h2_content {
	my ($name) = @_;
	my @fail;
	my @how;
	push @how, ['h2 (TLS, ALPN)', "https://127.0.0.1:$SRV{$name}{tls}{ecdsa}", '--http2']
	    if $SRV{$name}{tls}{ecdsa};
	push @how, ['h2c (prior knowledge)', "http://127.0.0.1:$SRV{$name}{h2c}", '--http2-prior-knowledge']
	    if $H2C_ON;
	for my $h (@how) {
		my ($what, $base, $opt) = @$h;
		for my $t (['/small.html', $SMALL], ['/big.bin', $BIG]) {
			my $f = "$TMP/fetch.out";
			unlink $f;
			my ($out, $rc) = run_capture(30, $CURL, '-sS', '-k', $opt, '-o', $f,
			    '-w', '\nCHECK %{http_version} %{http_code}\n', "$base$t->[0]");
			my ($ver, $code) = $out =~ /^CHECK (\S+) (\d+)$/m;
			if (!defined $code || $rc != 0) {
				push @fail, "$what GET $t->[0]: no answer over HTTP/2 (curl exit $rc): "
				    . first_line($out);
				next;
			}
			if ($ver ne '2' || $code != 200) {
				push @fail, "$what GET $t->[0]: HTTP/$ver $code, want HTTP/2 200";
				next;
			}
			my $body = slurp($f);
			push @fail, sprintf('%s GET %s: body of %d bytes (md5 %s), want %d bytes (md5 %s)',
			    $what, $t->[0], length $body, md5_hex($body), length $t->[1], md5_hex($t->[1]))
			    if $body ne $t->[1];
		}
	}
	return @fail;
}

# On-the-fly gzip, fetched by curl on each level's port with
# "Accept-Encoding: gzip" (and the cold copies' first one): status 200,
# "Content-Encoding: gzip", a body that gunzips to page.html.  The size
# of the compressed body is kept for the bytes saved.  Returns what is
# wrong.
my %GZ_SIZE;		# server => level => bytes of the gzip body

sub check_gzip_content {
	my ($name) = @_;
	my @fail;
	for my $l (sort { $a <=> $b } keys %{$SRV{$name}{gzip}}) {
		my @paths = ('/page.html', $COLD_ON ? ('/cold/00000.html') : ());
		for my $path (@paths) {
			my $what = "gzip level $l GET $path";
			my ($f, $hf) = ("$TMP/fetch.out", "$TMP/fetch.head");
			unlink $f, $hf;
			my ($out, $rc) = run_capture(30, $CURL, '-sS', '-H', 'Accept-Encoding: gzip',
			    '-D', $hf, '-o', $f, '-w', '\nCHECK %{http_code}\n',
			    "http://127.0.0.1:$SRV{$name}{gzip}{$l}$path");
			my ($code) = $out =~ /^CHECK (\d+)$/m;
			if (!defined $code || $rc != 0 || $code != 200) {
				push @fail, "$what: no 200 answer (curl exit $rc): " . first_line($out);
				next;
			}
			my $head = slurp($hf);
			my ($ce) = $head =~ /^content-encoding:\s*(\S+)/mi;
			if (!defined $ce || lc $ce ne 'gzip') {
				push @fail, "$what: Content-Encoding " . ($ce // 'absent') . ', want gzip';
				next;
			}
			my $gz = slurp($f);
			my $plain;
			if (!IO::Uncompress::Gunzip::gunzip(\$gz => \$plain) || $plain ne $PAGE) {
				push @fail, sprintf('%s: %d gzip bytes that do not gunzip to page.html (%s)',
				    $what, length $gz, $IO::Uncompress::Gunzip::GunzipError || 'other bytes');
				next;
			}
			$GZ_SIZE{$name}{$l} = length $gz if $path eq '/page.html';
		}
	}
	return @fail;
}

# The 100 virtual hosts (forkloop's port with 100 blocks): small.html and
# hello with Host: site50.example, as the workloads ask; and name.txt for
# a few names, to be sure the Host chose the block (each root has its own).
sub check_vhosts_content {
	my ($name) = @_;
	my $port = $SRV{$name}{vhosts};
	my @fail;
	my $s = connect_to($port);
	my $buf = '';
	my @asks = (['site50.example', '/small.html', $SMALL], ['site50.example', '/hello/world', $HELLO],
	    map { ["site$_.example", '/name.txt', "site$_\n"] } 1, 50, 77, $VHOSTS);
	for my $a (@asks) {
		my ($host, $path, $want) = @$a;
		print $s "GET $path HTTP/1.1\r\nHost: $host\r\n\r\n";
		my $r = read_response($s, \$buf, 'GET');
		if ($r->{error} || $r->{status} != 200 || $r->{body} ne $want) {
			push @fail, "100 vhosts, Host $host, GET $path: "
			    . ($r->{error} // "status $r->{status}, body '" . substr($r->{body}, 0, 40) . "'");
			last if $r->{error};
		}
	}
	close $s;
	return @fail;
}

# Over TLS, on each certificate's port: small.html and big.bin byte for
# byte, fetched by tls-conns (one connection each), and the certificate's
# key type, TLS version and key exchange.  Returns what is wrong.
my $TLS_CONNS;
my %TLS_INFO;		# server => "version=... cipher=... group=... key=..."

sub check_tls_content {
	my ($name) = @_;
	my @fail;
	for my $k (sort keys %{$SRV{$name}{tls}}) {
		my $port = $SRV{$name}{tls}{$k};
		for my $t (['/small.html', $SMALL], ['/big.bin', $BIG]) {
			my $f = "$TMP/fetch.out";
			unlink $f;
			my ($out, $rc) = run_capture(30, $TLS_CONNS, '-t1', '-c1', '-n1', '-d10',
			    '-o', $f, '127.0.0.1', $port, $t->[0]);
			my $what = "https ($k) GET $t->[0]";
			my ($info) = $out =~ /^BENCH .*?(version=.*)$/m;
			my $ans = slurp($f);
			my $hl = index($ans, "\r\n\r\n");
			if (!$info || $out !~ /^BENCH requests=1 / || $hl < 0) {
				push @fail, "$what: no answer (exit $rc): " . first_line($out);
				next;
			}
			my $body = substr($ans, $hl + 4);
			push @fail, "$what: status line '" . first_line($ans) . "'"
			    unless $ans =~ m{^HTTP/1\.[01] 200 };
			push @fail, sprintf('%s: body of %d bytes (md5 %s), want %d bytes (md5 %s)',
			    $what, length $body, md5_hex($body), length $t->[1], md5_hex($t->[1]))
			    if $body ne $t->[1];
			my $key = $k eq 'ecdsa' ? 'EC' : 'RSA';
			push @fail, "$what: $info, want key=$key, TLS 1.2 or 1.3, X25519"
			    unless $info =~ /key=$key\b/ && $info =~ /version=TLSv1\.[23]\b/
			    && $info =~ /group=X25519\b/;
			$TLS_INFO{$name}{$k} = $info;
		}
	}
	return @fail;
}

# ------------------------------------------------------------------- wrk

my ($SCRIPT_PLAIN, $SCRIPT_PIPE, $SCRIPT_COLD);

# The port a plain workload goes to: the gzip level's, the 100 virtual
# hosts' (unless $one_block: then the plain port, one block), or the
# plain one.
sub plain_port {
	my ($name, $w, $one_block) = @_;
	my $l = wopt($w, 'gzip');
	return $SRV{$name}{gzip}{$l} if $l;
	return $SRV{$name}{vhosts} if wopt($w, 'vhosts') && !$one_block;
	return $SRV{$name}{port};
}

sub run_wrk {
	my ($name, $w, $dur, $conns, $one_block) = @_;
	my ($path, $c, $extra, undef, $cert) = @{$WORKLOAD{$w}};
	$conns //= $c;
	return run_tls_conns($name, $w, $dur, $conns) if ($extra->[0] // '') eq 'tls-conns';
	return run_h2load($name, $w, $dur, $conns) if is_h2load($w);
	my @args = @$extra;
	my $script = $SCRIPT_PLAIN;
	my @tail;
	my $t = $THREADS > $conns ? $conns : $THREADS;
	if (@args && $args[0] eq 'pipeline') {
		@args = ();
		$script = $SCRIPT_PIPE;
		@tail = ('--', $PIPE_DEPTH);
	} elsif (@args && $args[0] eq 'cold') {
		shift @args;
		$script = $SCRIPT_COLD;
		@tail = ('--', $COLD_FILES, $t);
	}
	my $url = $cert ? "https://127.0.0.1:$SRV{$name}{tls}{$cert}$path"
	    : "http://127.0.0.1:" . plain_port($name, $w, $one_block) . $path;
	my @cmd = ($WRK, "-t$t", "-c$conns", "-d${dur}s", '--timeout', '2s',
	    '-s', $script, @args, $url, @tail);
	my ($out, $rc) = run_capture($dur + 30, @cmd);
	return parse_result($name, $w, $out, $rc, @cmd);
}

# bench/tls-conns.c: a new connection (TLS handshake) per request, full
# handshakes, or resumed ones with -r; it counts those the server resumed.
sub run_tls_conns {
	my ($name, $w, $dur, $conns) = @_;
	my ($path, undef, $extra, undef, $cert) = @{$WORKLOAD{$w}};
	my @args = @$extra[1 .. $#$extra];
	my $t = $THREADS > $conns ? $conns : $THREADS;
	my @cmd = ($TLS_CONNS, @args, "-t$t", "-c$conns", "-d$dur", '-T2',
	    '127.0.0.1', $SRV{$name}{tls}{$cert}, $path);
	my ($out, $rc) = run_capture($dur + 30, @cmd);
	my $r = parse_result($name, $w, $out, $rc, @cmd);
	my $key = $cert eq 'ecdsa' ? 'EC' : 'RSA';
	die "bench: ABORT: $name $w: the server's key is $r->{key}, not $key\n"
	    if $r->{key} ne $key && $r->{handshakes} > 0;
	die "bench: ABORT: $name $w: tls-conns resumed $r->{resumed} handshake(s) without -r\n"
	    if !@args && $r->{resumed} > 0;
	# With -r, the first handshake of each connection slot is full.
	my $could = $r->{handshakes} - $conns;
	$r->{resumed_share} = @args ? ($could > 0 ? $r->{resumed} / $could : 0) : undef;
	return $r;
}

# h2load (nghttp2): HTTP/2 over TLS, offering only h2 by ALPN, or h2c
# with prior knowledge; -m concurrent streams per connection, -D seconds.
# It prints no percentiles: with BENCH_H2_P99=1 they come from its
# per-request log.
sub run_h2load {
	my ($name, $w, $dur, $conns) = @_;
	my ($path, undef, $extra, undef, $cert) = @{$WORKLOAD{$w}};
	my $streams = $extra->[1];
	my $t = $THREADS > $conns ? $conns : $THREADS;
	my $url = $cert ? "https://127.0.0.1:$SRV{$name}{tls}{$cert}$path"
	    : "http://127.0.0.1:$SRV{$name}{h2c}$path";
	my $lf = "$TMP/h2load.log";
	unlink $lf;
	my @cmd = ($H2LOAD, "-t$t", "-c$conns", "-m$streams", "-D$dur", '--npn-list=h2',
	    ($H2_P99 ? "--log-file=$lf" : ()), $url);
	my ($out, $rc) = run_capture($dur + 30, @cmd);
	my $want = $cert ? 'h2' : 'h2c';
	my ($proto) = $out =~ /^Application protocol: (\S+)/m;
	die "bench: ABORT: h2load against $name $w did not speak $want (exit $rc): @cmd\n$out"
	    if !defined $proto || $proto ne $want;
	my %r;
	my ($d, $unit) = $out =~ /^finished in ([\d.]+)(us|ms|s),/m;
	my @q = $out =~ /^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/m;
	my @st = $out =~ /^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/m;
	my ($bytes) = $out =~ /^traffic: .*?\((\d+)\) total/m;
	die "bench: ABORT: h2load gave no result (exit $rc) for $name $w: @cmd\n$out"
	    unless defined $d && @q && @st && defined $bytes;
	$r{duration_us} = $d * ($unit eq 's' ? 1e6 : $unit eq 'ms' ? 1e3 : 1);
	# Answers with a status, as wrk counts requests; errored streams
	# (reset, connection lost) and timeouts are its "socket errors".
	$r{requests} = $st[0] + $st[1] + $st[2] + $st[3];
	$r{bytes} = $bytes;
	@r{qw(connect read write timeout)} = (0, $q[5], 0, $q[6]);
	$r{status} = $st[2] + $st[3];
	# Latency of each request (column 3, microseconds), from its log.
	my @lat;
	if ($H2_P99 && open my $fh, '<', $lf) {
		while (<$fh>) {
			my (undef, $code, $us) = split /\t/;
			push @lat, $us + 0 if defined $us;
		}
		close $fh;
	}
	unlink $lf;
	@lat = sort { $a <=> $b } @lat;
	for my $p (50, 90, 99) {
		$r{"p${p}_us"} = @lat ? $lat[int($#lat * $p / 100)] : 0;
	}
	# Without the log, the longest request as h2load prints it.
	my %mul = (us => 1, ms => 1e3, s => 1e6);
	$r{max_us} = @lat ? $lat[-1]
	    : $out =~ /^time for request:\s+\S+\s+([\d.]+)(us|ms|s)\b/m ? $1 * $mul{$2} : 0;
	my $res = derive_result(\%r, $out, @cmd);
	$res->{p99_us} = undef unless @lat;
	return $res;
}

# The BENCH line of wrk-report.lua or tls-conns.
sub parse_result {
	my ($name, $w, $out, $rc, @cmd) = @_;
	my %r;
	if ($out =~ /^BENCH (.*)$/m) {
		%r = map { split /=/, $_, 2 } split ' ', $1;
	} else {
		die "bench: ABORT: $cmd[0] gave no result (exit $rc) for $name $w: @cmd\n$out";
	}
	return derive_result(\%r, $out, @cmd);
}

sub derive_result {
	my ($rr, $out, @cmd) = @_;
	my %r = %$rr;
	$r{rps} = $r{duration_us} > 0 ? $r{requests} / ($r{duration_us} / 1e6) : 0;
	$r{mibps} = $r{duration_us} > 0 ? $r{bytes} / ($r{duration_us} / 1e6) / 1048576 : 0;
	$r{sockerr} = $r{connect} + $r{read} + $r{write} + $r{timeout};
	# wrk 4.1 adds samples for coordinated omission below the histogram's
	# minimum, where its percentile walk does not look; when they exceed
	# 1% it answers 0.  Seen with pipelining (its correction assumes one
	# request per round trip).  Such a p99 is unknown, not 0.
	$r{p99_us} = undef if $r{p99_us} == 0 && $r{max_us} > 0;
	$r{raw} = $out;
	$r{cmd} = "@cmd";
	return \%r;
}

sub median {
	my @v = sort { $a <=> $b } grep { defined } @_;
	return undef unless @v;
	return @v % 2 ? $v[$#v / 2] : ($v[@v / 2 - 1] + $v[@v / 2]) / 2;
}

# CPU time (seconds) used by the whole machine, and by us: every server
# process, and our reaped children (wrk).  Whatever else ran during a
# measurement is noise; bench/run reports it per run.
my $HZ = POSIX::sysconf(POSIX::_SC_CLK_TCK()) || 100;

sub cpu_busy {
	my ($l) = split /\n/, slurp('/proc/stat');
	my (undef, $us, $ni, $sy, $id, $io, $irq, $sirq, $st) = split ' ', $l;
	# Interrupt time is left out: loopback traffic is mostly softirq time
	# that no process is charged for.  Steal (the hypervisor) is noise.
	return ($us + $ni + $sy + ($st // 0)) / $HZ;
}

# CPU time (seconds) of one server: all its processes.
sub cpu_server {
	my ($s) = @_;
	my $t = 0;
	for my $p (proc_tree($s->{pid})) {
		my $st = slurp("/proc/$p/stat");
		$st =~ s/^.*\)\s+//s;
		my @f = split ' ', $st;
		$t += ($f[11] + $f[12]) / $HZ if @f > 12;
	}
	return $t;
}

# CPU time of reaped children: wrk and the tools.
sub cpu_children { my (undef, undef, $cu, $cs) = times; return $cu + $cs }

sub cpu_ours {
	my $t = 0;
	$t += cpu_server($_) for values %SRV;
	my ($u, $sy) = times;
	return $t + $u + $sy + cpu_children();
}

# --------------------------------------------------------------- memory

sub proc_tree {
	my ($root) = @_;
	my %kids;
	opendir my $dh, '/proc' or return ($root);
	for my $p (grep { /^\d+$/ } readdir $dh) {
		my $st = slurp("/proc/$p/stat");
		next unless $st =~ /\)\s+\S+\s+(\d+)/;
		push @{$kids{$1}}, $p;
	}
	my @out;
	my @todo = ($root);
	while (@todo) {
		my $p = shift @todo;
		push @out, $p;
		push @todo, @{$kids{$p} || []};
	}
	return @out;
}

# Sum of VmRSS and of Pss (KiB) over a server's processes.
sub mem_of {
	my ($name) = @_;
	my @pids = proc_tree($SRV{$name}{pid});
	my ($rss, $pss) = (0, 0);
	my $have_pss = 1;
	for my $p (@pids) {
		$rss += $1 if slurp("/proc/$p/status") =~ /^VmRSS:\s+(\d+)/m;
		my $roll = slurp("/proc/$p/smaps_rollup");
		if ($roll =~ /^Pss:\s+(\d+)/m) { $pss += $1 } else { $have_pss = 0 }
	}
	return { rss => $rss, pss => $have_pss ? $pss : undef, procs => scalar @pids };
}

# $kind: plain (HTTP/1.1), tls (HTTP/1.1 over TLS, ECDSA certificate), h2
# (HTTP/2 over TLS, ALPN h2, ECDSA certificate) or h2c (cleartext HTTP/2,
# prior knowledge), after a warm-up of the same kind.
my %MEM_KIND = (
	plain => { warm => 'small', args => [], port => sub { $_[0]{port} },
	    what => 'keep-alive connections (one GET /small.html each)' },
	tls => { warm => 'tls-keepalive', args => ['-s'], port => sub { $_[0]{tls}{ecdsa} },
	    what => 'TLS (ECDSA certificate, full handshake) keep-alive connections (one GET /small.html each)' },
	h2 => { warm => 'h2-small', args => ['-s', '-2'], port => sub { $_[0]{tls}{ecdsa} },
	    what => 'HTTP/2 over TLS (ALPN h2, ECDSA certificate, full handshake) connections'
		. ' (preface and SETTINGS exchanged, one GET /small.html each)' },
	h2c => { warm => 'h2c-small', args => ['-2'], port => sub { $_[0]{h2c} },
	    what => 'cleartext HTTP/2 (prior knowledge) connections'
		. ' (preface and SETTINGS exchanged, one GET /small.html each)' },
);

sub measure_memory {
	my ($name, $client, $kind) = @_;
	my $k = $MEM_KIND{$kind};
	start_server($name);
	check_content($name);
	# Warm up: every worker serves a little, so first-use allocations
	# (buffers, caches) are in the "before" figure.
	run_wrk($name, $k->{warm}, 1, 20);
	sleep 1;
	check_logs($name, 'memory warm-up');
	my $before = mem_of($name);
	my $port = $k->{port}->($SRV{$name});
	my ($in_r, $in_w, $out_r, $out_w);
	pipe($in_r, $in_w) or die "bench: pipe: $!\n";
	pipe($out_r, $out_w) or die "bench: pipe: $!\n";
	my $pid = fork // die "bench: fork: $!\n";
	if ($pid == 0) {
		setpgid(0, 0);
		close $in_w; close $out_r;
		open STDIN, '<&', $in_r;
		open STDOUT, '>&', $out_w;
		exec $client, @{$k->{args}}, '127.0.0.1', $port, $IDLE_CONNS, '/small.html', 240
		    or _exit(127);
	}
	$LIVE{$pid} = 'idle-conns';
	close $in_r; close $out_w;
	my $sel = IO::Select->new($out_r);
	my $line = '';
	my $until = time + 120;
	while ($line !~ /\n/ && time < $until) {
		last unless $sel->can_read($until - time);
		sysread($out_r, $line, 256, length $line) or last;
	}
	my ($open, $failed) = $line =~ /^ready (\d+) (\d+)/ or do {
		stop_pid($pid);
		die "bench: ABORT: idle-conns against $name did not get ready: '$line'\n";
	};
	sleep 2;
	my $after = mem_of($name);
	close $in_w;	# idle-conns reports and exits
	$line = '';
	$until = time + 10;
	while ($line !~ /\n/ && time < $until) {
		last unless $sel->can_read($until - time);
		sysread($out_r, $line, 256, length $line) or last;
	}
	my ($still) = $line =~ /^done (\d+)/;
	stop_pid($pid);
	check_logs($name, 'memory test');
	stop_server($name);
	return { before => $before, after => $after, open => $open,
	    failed => $failed, still => $still // 0 };
}

# One memory table: every server (but the "+log" ones and the ceiling)
# fresh, idle connections of one kind (%MEM_KIND).
sub memory_table {
	my ($client, $kind) = @_;
	print "\nMemory ($kind): $IDLE_CONNS idle $MEM_KIND{$kind}{what}, fresh servers,"
	    . " after a 1 s warm-up ($MEM_KIND{$kind}{warm})\n";
	my @rows;
	for my $name (grep { !/\+log$/ && $_ ne 'ceiling' } @SERVERS) {
		my $m = measure_memory($name, $client, $kind);
		my $b = $m->{before};
		my $a = $m->{after};
		my $n = $m->{open} || 1;
		my $kr = ($a->{rss} - $b->{rss}) / $n;
		my $kp = defined $a->{pss} && defined $b->{pss} ? ($a->{pss} - $b->{pss}) / $n : undef;
		push @rows, [$name, $a->{procs}, $m->{open}, $m->{failed} + ($m->{open} - $m->{still}),
		    $b->{rss}, $a->{rss}, sprintf('%.2f', $kr),
		    $b->{pss} // '-', $a->{pss} // '-', defined $kp ? sprintf('%.2f', $kp) : '-'];
		printf "  %-9s %d connections idle (%d failed, %d closed by the server while held)\n",
		    $name, $m->{open}, $m->{failed}, $m->{open} - $m->{still};
	}
	print "\n";
	print_table(['server', 'procs', 'idle conns', 'lost', 'RSS before KiB', 'RSS after KiB',
	    'RSS KiB/conn', 'PSS before KiB', 'PSS after KiB', 'PSS KiB/conn'], @rows);
	print "\nKiB/conn = (after - before) / idle connections, summed over master and workers;"
	    . " kernel socket memory is not included\n";
}

# ----------------------------------------------------------------- output

sub fmt_val {
	my ($w, $v) = @_;
	return '-' unless defined $v;
	return $WORKLOAD{$w}[3] eq 'MiB/s' ? sprintf('%.1f', $v) : sprintf('%.0f', $v);
}

sub fmt_us { my ($us) = @_; return defined $us ? sprintf('%.2f', $us) : 'n/a' }

sub fmt_ms { my ($us) = @_; return defined $us ? sprintf('%.2f', $us / 1000) : 'n/a' }

sub print_table {
	my ($head, @rows) = @_;
	my @wd = map { length } @$head;
	for my $r (@rows) {
		for my $i (0 .. $#$r) {
			$wd[$i] = length $r->[$i] if length $r->[$i] > ($wd[$i] // 0);
		}
	}
	my $line = sub {
		my ($r) = @_;
		return '| ' . join(' | ', map {
			$_ == 0 ? sprintf('%-*s', $wd[$_], $r->[$_]) : sprintf('%*s', $wd[$_], $r->[$_])
		} 0 .. $#$r) . " |\n";
	};
	print $line->($head);
	print '|' . join('|', map { ($_ == 0 ? ':' : '') . '-' x ($wd[$_] + 1) . ($_ == 0 ? '' : ':') } 0 .. $#wd) . "|\n";
	print $line->($_) for @rows;
}

# results{workload}{server} = [per-round result hashes]
my %RES;
# The vhosts workloads' one-block runs: workload => [per-round results].
my %ONE_BLOCK;

# Per-round median ratio of two servers' (or of one to the best peer's)
# hello rates.
sub hello_ratio {
	my ($num, $den) = @_;
	my @ratios;
	for my $i (0 .. $ROUNDS - 1) {
		my $n = $RES{hello}{$num}[$i] or next;
		my $d = 0;
		for my $p ($den eq 'best' ? @PEERS : ($den)) {
			my $pr = $RES{hello}{$p} or next;
			my $v = $pr->[$i] && $pr->[$i]{rps};
			$d = $v if defined $v && $v > $d;
		}
		push @ratios, $n->{rps} / $d if $d > 0;
	}
	my $m = median(@ratios);
	return defined $m ? sprintf('%.2f', $m) : '-';
}

# CPU microseconds per request, medians over rounds: each server's own
# processes, and wrk's while it drove that server.
sub print_cpu_table {
	my @head = ('workload', (map { "$_ server" } @SERVERS), (map { "wrk on $_" } @SERVERS));
	my @rows;
	for my $w (@WORKLOADS) {
		my @row = ($w);
		for my $k ('srv_us', 'wrk_us') {
			for my $s (@SERVERS) {
				push @row, fmt_us(median(map { $_->{$k} } @{$RES{$w}{$s} || []}));
			}
		}
		$_ eq 'n/a' and $_ = '-' for @row;
		push @rows, \@row;
	}
	print "\nCPU per request, microseconds (medians over rounds; /proc/PID/stat of each"
	    . " server's processes, and wrk's own time):\n\n";
	print_table(\@head, @rows);
}

sub print_ceiling {
	print "\nceiling = bench/ceiling.c, one fixed reply per read from a bare epoll loop"
	    . " (2 processes, no parsing): hello only.\n";
	print "  ceiling/best peer on hello: ", hello_ratio('ceiling', 'best'), "\n";
	for my $f (grep { /^forkloop/ && $RES{hello}{$_} } @SERVERS) {
		print "  $f/ceiling on hello: ", hello_ratio($f, 'ceiling'), "\n";
	}
}

# Median over rounds of the ratio of one server's result to the best of
# others' in the same round.
sub ratio_median {
	my ($w, $key, $num, @dens) = @_;
	my @ratios;
	for my $i (0 .. $ROUNDS - 1) {
		my $mine = $RES{$w}{$num}[$i] or next;
		my $best = 0;
		for my $p (@dens) {
			my $pr = $RES{$w}{$p} or next;
			my $v = $pr->[$i] && $pr->[$i]{$key};
			$best = $v if defined $v && $v > $best;
		}
		push @ratios, $mine->{$key} / $best if $best > 0;
	}
	my $m = median(@ratios);
	return defined $m ? sprintf('%.2f', $m) : '-';
}

# On-the-fly gzip: per server and level, the compressed size (from the
# check), the bytes saved per response, the rate, the server's CPU per
# request and the bytes saved per second of the server's CPU, (page -
# compressed) / CPU per request, medians over rounds; and forkloop's
# ratios to nginx (the issue's goal: >= 1.0x nginx).
sub print_gzip_summary {
	print "\nOn-the-fly gzip of page.html ($PAGE_SIZE bytes of HTML), wrk with"
	    . " 'Accept-Encoding: gzip' (every server's answer checked first: Content-Encoding: gzip,"
	    . " and the body gunzips to the page):\n\n";
	my @rows;
	for my $w (grep { wopt($_, 'gzip') } @WORKLOADS) {
		my $l = wopt($w, 'gzip');
		for my $s (grep { $RES{$w}{$_} } @SERVERS) {
			my @r = @{$RES{$w}{$s}};
			my $gz = $GZ_SIZE{$s}{$l};
			my $saved = defined $gz ? $PAGE_SIZE - $gz : undef;
			my $per_cpu = median(map { $_->{srv_us} && defined $saved ? $saved / $_->{srv_us} : undef } @r);
			my $wire = median(map { $_->{requests} ? $_->{bytes} / $_->{requests} : undef } @r);
			push @rows, [$w, $s, $gz // '-', $saved // '-', fmt_val($w, median(map { $_->{rps} } @r)),
			    sprintf('%.0f', $wire // 0), fmt_us(median(map { $_->{srv_us} } @r)),
			    defined $per_cpu ? sprintf('%.1f', $per_cpu) : '-'];
		}
	}
	print_table(['workload', 'server', 'gzip bytes', 'saved bytes/resp', 'req/s',
	    'wire bytes/resp', 'server CPU us/req', 'MB saved per CPU s'], @rows);
	print "\nwire bytes/resp = what wrk read per answer (head and body; chunked framing for nginx"
	    . " and h2o); MB saved per CPU s = saved bytes per answer / server CPU us per answer"
	    . " (median of the per-round values).\n";
	if (grep { $_ eq 'forkloop' } @SERVERS and grep { $_ eq 'nginx' } @SERVERS) {
		for my $w (grep { wopt($_, 'gzip') } @WORKLOADS) {
			my $l = wopt($w, 'gzip');
			my @pc;
			for my $i (0 .. $ROUNDS - 1) {
				my ($f, $n) = ($RES{$w}{forkloop}[$i], $RES{$w}{nginx}[$i]);
				next unless $f && $n && $f->{srv_us} && $n->{srv_us}
				    && $GZ_SIZE{forkloop}{$l} && $GZ_SIZE{nginx}{$l};
				push @pc, (($PAGE_SIZE - $GZ_SIZE{forkloop}{$l}) / $f->{srv_us})
				    / (($PAGE_SIZE - $GZ_SIZE{nginx}{$l}) / $n->{srv_us});
			}
			my $m = median(@pc);
			printf "  %s: forkloop/nginx req/s %s, bytes saved per CPU s %s\n", $w,
			    ratio_median($w, 'rps', 'forkloop', 'nginx'), defined $m ? sprintf('%.2f', $m) : '-';
		}
	}
	print "  (forkloop keeps the gzip bytes of a file held in its open-file cache with the entry"
	    . " once it is asked for again: page.html is compressed twice per worker, not per request;"
	    . " nginx and h2o compress every answer.  gzip-1-cold and gzip-6-cold ask for $COLD_FILES names, more"
	    . " than the caches hold, so every server compresses every answer there.)\n";
}

# 100 virtual hosts: forkloop on its port with 100 blocks against its
# plain port (one block), the same requests, back to back in each round.
# The issue's goal: within 2% of one block.
sub print_vhosts_summary {
	print "\n100 virtual hosts: forkloop, 'Host: site50.example', 100 http blocks on one address"
	    . " (server_name site1..site$VHOSTS.example, a root each) against its plain port (one"
	    . " block), back to back in every round (which goes first alternates):\n\n";
	my @rows;
	for my $w (grep { $ONE_BLOCK{$_} } @WORKLOADS) {
		my @many = @{$RES{$w}{forkloop} || []};
		my @one = @{$ONE_BLOCK{$w}};
		my @ratio = map { $one[$_]{rps} > 0 ? $many[$_]{rps} / $one[$_]{rps} : undef } 0 .. $#one;
		my @cpu = map { $one[$_]{srv_us} && $many[$_]{srv_us} ? $many[$_]{srv_us} / $one[$_]{srv_us} : undef } 0 .. $#one;
		push @rows, [$w, $WORKLOAD{$w}[0], fmt_val($w, median(map { $_->{rps} } @one)),
		    fmt_val($w, median(map { $_->{rps} } @many)), sprintf('%.3f', median(@ratio)),
		    fmt_us(median(map { $_->{srv_us} } @one)), fmt_us(median(map { $_->{srv_us} } @many)),
		    sprintf('%.3f', median(@cpu))];
	}
	print_table(['workload', 'path', '1 block req/s', '100 blocks req/s', '100/1',
	    'CPU us/req 1', 'CPU us/req 100', 'CPU 100/1'], @rows);
	print "\n100/1 and CPU 100/1: medians of the per-round ratios.\n";
}

# What was negotiated, how the full handshakes compare with what one core
# can sign (openssl speed), and how many handshakes tls-resumed resumed.
sub print_tls_summary {
	print "\nTLS, as negotiated by tls-conns at the check:\n";
	for my $s (grep { $TLS_INFO{$_} } @SERVERS) {
		print "  $s: ", join('; ', map { "$_ $TLS_INFO{$s}{$_}" } sort keys %{$TLS_INFO{$s}}), "\n";
	}
	for my $k (@CERT_KINDS) {
		my $w = "tls-new-$k";
		next unless $RES{$w} && $SPEED{$k};
		printf "%s: full handshakes/s as a share of one core's %s signs/s (%.0f; %d CPUs,"
		    . " shared with the client):\n", $w, $k eq 'rsa' ? 'rsa2048' : 'ecdsap256', $SPEED{$k},
		    first_line(`nproc`) || 1;
		for my $s (grep { $RES{$w}{$_} } @SERVERS) {
			my $m = median(map { $_->{rps} } @{$RES{$w}{$s}});
			printf "  %-12s %8.0f/s = %.2f core\n", $s, $m, $m / $SPEED{$k};
		}
	}
	if ($RES{'tls-resumed'}) {
		print "tls-resumed: handshakes the server resumed, of those that offered a session"
		    . " (median over rounds; the first of each connection slot offers none):\n";
		for my $s (grep { $RES{'tls-resumed'}{$_} } @SERVERS) {
			my $m = median(map { $_->{resumed_share} } @{$RES{'tls-resumed'}{$s}});
			printf "  %-12s %.1f%%%s\n", $s, 100 * $m, $m < 0.99 ? '  ** not a resumption benchmark for this server **' : '';
		}
	}
}

sub first_line { my ($s) = @_; $s //= ''; $s =~ s/\n.*//s; return $s }

# ------------------------------------------------------------------- main

alarm(scalar(@WORKLOADS) * scalar(@SERVERS) * $ROUNDS * ($DURATION + $PAUSE + 40)
    + scalar(@MEMORY) * 3 * 200 + 400);

-x $FORKLOOP or die "bench: $FORKLOOP is not an executable: run make first, or set FORKLOOP_BIN\n";
-x $NGINX or die "bench: no nginx at $NGINX (apt-get install nginx-light, or set NGINX_BIN)\n";
-x $H2O or die "bench: no h2o at $H2O (apt-get install h2o, or set H2O_BIN)\n";
system("command -v $WRK >/dev/null 2>&1") == 0 or die "bench: no wrk (apt-get install wrk)\n";
!$H2_ON || system("command -v $H2LOAD >/dev/null 2>&1") == 0
    or die "bench: no h2load (apt-get install nghttp2-client)\n";
!$H2_ON || `$CURL -V 2>&1` =~ /^Features:.*\bHTTP2\b/m
    or die "bench: no curl with HTTP/2 (apt-get install curl), needed to check the HTTP/2 answers\n";
!$TLS_ON || system("command -v $OPENSSL >/dev/null 2>&1") == 0
    or die "bench: no openssl (apt-get install openssl libssl-dev)\n";

$TMP = tempdir('forkloop-bench.XXXXXX', TMPDIR => 1, CLEANUP => 0);
# A private copy of the binary, so a concurrent rebuild cannot swap it.
make_path("$TMP/bin");
$FL_COPY = "$TMP/bin/forkloop";
copy($FORKLOOP, $FL_COPY) or die "bench: copy $FORKLOOP: $!\n";
chmod 0755, $FL_COPY;
if (grep { $_ eq 'ceiling' } @SERVERS) {
	$CEILING_BIN = "$TMP/bin/ceiling";
	my ($out, $rc) = run_capture(120, $CC, '-O2', '-Wall', '-o', $CEILING_BIN, "$BENCH_DIR/ceiling.c");
	die "bench: ABORT: cannot compile bench/ceiling.c:\n$out" if $rc != 0;
}
if ($TLS_ON) {
	$TLS_CONNS = "$TMP/bin/tls-conns";
	my ($out, $rc) = run_capture(120, $CC, '-O2', '-Wall', '-pthread', '-o', $TLS_CONNS,
	    "$BENCH_DIR/tls-conns.c", '-lssl', '-lcrypto');
	die "bench: ABORT: cannot compile bench/tls-conns.c (needs libssl-dev):\n$out" if $rc != 0;
	make_certs();
	# Before the servers start, on an idle machine.
	openssl_speed() if $DO_SPEED && grep { /^tls-new-/ } @WORKLOADS;
}

my $h2o_version = `$H2O --version 2>&1`;
$H2O_MRUBY = $h2o_version =~ /mruby:\s*YES/i ? 1 : 0;

$SCRIPT_PLAIN = "$TMP/report.lua";
$SCRIPT_PIPE = "$TMP/pipeline.lua";
my $report = slurp("$BENCH_DIR/wrk-report.lua");
spew($SCRIPT_PLAIN, $report);
spew($SCRIPT_PIPE, slurp("$BENCH_DIR/wrk-pipeline.lua") . "\n" . $report);
$SCRIPT_COLD = "$TMP/cold.lua";
spew($SCRIPT_COLD, slurp("$BENCH_DIR/wrk-cold.lua") . "\n" . $report);

my $NCPU = first_line(`nproc`) || 1;
my $cpu = first_line(`grep -m1 'model name' /proc/cpuinfo 2>/dev/null`);
$cpu =~ s/.*:\s*//;
# The revision of the tree the binary was built in (FORKLOOP_BIN may be
# another worktree's), else of this one.
my $GIT_DIR = dirname(abs_path($FORKLOOP));
$GIT_DIR = $SRC_DIR if system("git -C '$GIT_DIR' rev-parse --git-dir >/dev/null 2>&1") != 0;
my $git = first_line(`git -C '$GIT_DIR' rev-parse --short HEAD 2>/dev/null`);
$git .= '+dirty' if $git && `git -C '$GIT_DIR' status --porcelain --untracked-files=no 2>/dev/null` ne '';
my $flmtime = strftime('%Y-%m-%d %H:%M:%S', localtime((stat $FORKLOOP)[9]));

print "forkloop benchmark, bench/run\n";
print "  date:      ", strftime('%Y-%m-%d %H:%M:%S %z', localtime), "\n";
print "  machine:   ", first_line(`uname -srm`), ", ", first_line(`nproc`), " CPUs ($cpu)\n";
print "  forkloop:  ", first_line(`$FL_COPY -V 2>&1`), " ($FORKLOOP, built $flmtime, git $git)\n";
print "  nginx:     ", first_line(`$NGINX -v 2>&1`), "\n";
print "  h2o:       ", first_line($h2o_version), ($H2O_MRUBY ? ' (mruby)' : ' (NO mruby: /hello/world is a static file on h2o)'), "\n";
print "  wrk:       ", first_line(`$WRK -v 2>&1`), "\n";
print "  h2load:    ", first_line(`$H2LOAD --version 2>&1`), "; ", first_line(`$CURL -V 2>&1`), "\n" if $H2_ON;
if ($TLS_ON) {
	print "  openssl:   ", first_line(`$OPENSSL version 2>&1`), "; certificates ECDSA P-256 and RSA-2048,"
	    . " self-signed, made for this run\n";
	printf "  openssl speed -seconds 3 rsa2048 ecdsap256 (one core): rsa2048 %.0f sign/s,"
	    . " ecdsap256 %.0f sign/s\n", $SPEED{rsa}, $SPEED{ecdsa} if %SPEED;
}
print "  settings:  BENCH_DURATION=${DURATION}s BENCH_ROUNDS=$ROUNDS BENCH_WRK_THREADS=$THREADS"
    . " BENCH_PAUSE=$PAUSE open files $NOFILE\n";
print "  workloads: @WORKLOADS; servers: @SERVERS\n";
print "  load:      ", first_line(slurp('/proc/loadavg')), " (/proc/loadavg at start)\n";
print "  temp dir:  $TMP\n\n";

write_site();

print "Starting the servers\n";
start_server($_) for @SERVERS;
check_content($_) for @SERVERS;
print "\n";

my @FOREIGN;
if (@WORKLOADS) {
	print "Measuring: $ROUNDS round(s) x ", scalar(@WORKLOADS), " workload(s), "
	    . "${DURATION}s per run, servers interleaved (the first one rotates every round)\n";
}
# One run of workload $w against server $name, with its CPU figures;
# $one_block: the vhosts workloads' baseline (forkloop's plain port).
sub measure {
	my ($round, $w, $name, $one_block) = @_;
	my ($b0, $o0, $t0) = (cpu_busy(), cpu_ours(), time);
	my ($s0, $c0) = (cpu_server($SRV{$name}), cpu_children());
	my $r = run_wrk($name, $w, $DURATION, undef, $one_block);
	my ($s1, $c1) = (cpu_server($SRV{$name}), cpu_children());
	my ($b1, $o1, $t1) = (cpu_busy(), cpu_ours(), time);
	# CPU per request, in microseconds: on a machine where the server
	# and wrk share the CPUs, this is steadier than the rate, and says
	# who spent what.
	if ($r->{requests} > 0) {
		$r->{srv_us} = ($s1 - $s0) * 1e6 / $r->{requests};
		$r->{wrk_us} = ($c1 - $c0) * 1e6 / $r->{requests};
	}
	# Whatever else ran meanwhile, in CPUs (cores) on average.
	$r->{foreign} = (($b1 - $b0) - ($o1 - $o0)) / ($t1 - $t0);
	$r->{foreign} = 0 if $r->{foreign} < 0;
	push @FOREIGN, $r->{foreign};
	my $shown = $one_block ? "$name/1" : wopt($w, 'vhosts') ? "$name/100" : $name;
	my $tag = "round $round $w $shown";
	my $logl = '';
	$logl = sprintf(' resumed %d/%d', $r->{resumed}, $r->{handshakes})
	    if defined $r->{resumed};
	if ($name =~ /\+log$/) {
		# The logs are written in batches (nginx: flush=1s).
		sleep($name eq 'nginx+log' ? 1.2 : 0.3);
		my $f = "$SRV{$name}{dir}/access.log";
		my $lines = 0;
		if (open my $fh, '<', $f) {
			while (read $fh, my $chunk, 1 << 20) { $lines += ($chunk =~ tr/\n//) }
		}
		$r->{loglines} = $lines;
		$logl .= " access.log lines $lines";
		truncate $f, 0;
	}
	printf "  round %d %-13s %-12s %10s %-6s p99 %8s ms  errors %d+%d  CPU us/req server %s wrk %s  other CPU %.2f%s\n",
	    $round, $w, $shown, fmt_val($w, $WORKLOAD{$w}[3] eq 'MiB/s' ? $r->{mibps} : $r->{rps}),
	    $WORKLOAD{$w}[3], fmt_ms($r->{p99_us}), $r->{sockerr}, $r->{status},
	    fmt_us($r->{srv_us}), fmt_us($r->{wrk_us}), $r->{foreign}, $logl;
	check_logs($name, $tag);
	sleep $PAUSE;
	return $r;
}

for my $round (1 .. $ROUNDS) {
	my @order = @SERVERS;
	push @order, shift @order for 2 .. $round;
	for my $w (@WORKLOADS) {
		for my $name (@order) {
			next if $name =~ /\+log$/ && !$LOG_WORKLOADS{$w};
			next if $name eq 'ceiling' && !$CEILING_WORKLOADS{$w};
			# 100 virtual hosts: forkloop alone, 100 blocks and one
			# block back to back, the first alternating by round.
			if (wopt($w, 'vhosts')) {
				next unless $name eq 'forkloop';
				my %r;
				for my $one ($round % 2 ? (0, 1) : (1, 0)) {
					$r{$one} = measure($round, $w, $name, $one);
				}
				push @{$RES{$w}{$name}}, $r{0};
				push @{$ONE_BLOCK{$w}}, $r{1};
				next;
			}
			push @{$RES{$w}{$name}}, measure($round, $w, $name, 0);
		}
	}
}

my $errors_any = 0;
if (@WORKLOADS) {
	my @fl = grep { /^forkloop/ } @SERVERS;
	my $log_pair = (grep { $_ eq 'forkloop+log' } @SERVERS) && (grep { $_ eq 'nginx+log' } @SERVERS);
	# What the buffered access log costs forkloop: the issue's goal is
	# within 3% of no log (>= 0.97).
	my $log_cost = (grep { $_ eq 'forkloop+log' } @SERVERS) && (grep { $_ eq 'forkloop' } @SERVERS);
	my @head = ('workload', 'unit', @SERVERS,
	    (map { "$_/best" } @PEERS ? @fl : ()), ($log_pair ? 'forkloop+log/nginx+log' : ()),
	    ($log_cost ? 'forkloop+log/forkloop' : ()),
	    (map { "p99 ms $_" } @SERVERS), (map { "err $_" } @SERVERS));
	my @rows;
	for my $w (@WORKLOADS) {
		my $unit = $WORKLOAD{$w}[3];
		my $key = $unit eq 'MiB/s' ? 'mibps' : 'rps';
		my @row = ($w, $unit);
		for my $s (@SERVERS) {
			push @row, fmt_val($w, median(map { $_->{$key} } @{$RES{$w}{$s} || []}));
		}
		if (@PEERS) {
			push @row, ratio_median($w, $key, $_, @PEERS) for @fl;
		}
		push @row, ratio_median($w, $key, 'forkloop+log', 'nginx+log') if $log_pair;
		push @row, ratio_median($w, $key, 'forkloop+log', 'forkloop') if $log_cost;
		for my $s (@SERVERS) {
			my $m = median(map { $_->{p99_us} } @{$RES{$w}{$s} || []});
			push @row, fmt_ms($m);
		}
		for my $s (@SERVERS) {
			my @r = @{$RES{$w}{$s} || []};
			if (!@r) { push @row, '-'; next }
			my ($se, $st) = (0, 0);
			$se += $_->{sockerr} for @r;
			$st += $_->{status} for @r;
			$errors_any += $se + $st;
			push @row, "$se+$st";
		}
		push @rows, \@row;
	}
	print "\nResults: medians over $ROUNDS round(s) of ${DURATION}s, wrk -t$THREADS"
	    . " (ratios: median of the per-round ratio to the best of @PEERS)\n\n";
	print_table(\@head, @rows);
	print_ceiling() if $RES{hello}{ceiling} && @PEERS;
	print_gzip_summary() if $GZIP_ON;
	print_vhosts_summary() if %ONE_BLOCK;
	print_cpu_table();
	print_tls_summary() if grep { $WORKLOAD{$_}[4] } @WORKLOADS;
	print "\nerr = socket errors (connect+read+write+timeout) + answers with status >= 400, summed over rounds\n";
	my @f = sort { $a <=> $b } @FOREIGN;
	printf "other CPU = CPUs used by processes outside the benchmark during a run:"
	    . " median %.2f, max %.2f of %d%s\n", median(@f), $f[-1], $NCPU,
	    median(@f) > 0.1 ? "  ** the machine was busy: the numbers are noisy **" : '';

	print "\nRaw per-round values (round 1, 2, ...):\n";
	for my $w (@WORKLOADS) {
		my $key = $WORKLOAD{$w}[3] eq 'MiB/s' ? 'mibps' : 'rps';
		for my $s (@SERVERS) {
			my @r = @{$RES{$w}{$s} || []} or next;
			printf "  %-13s %-12s %s: %s; p99 ms: %s\n", $w, wopt($w, 'vhosts') ? "$s/100" : $s,
			    $WORKLOAD{$w}[3], join(' ', map { fmt_val($w, $_->{$key}) } @r),
			    join(' ', map { fmt_ms($_->{p99_us}) } @r);
		}
		if (my $o = $ONE_BLOCK{$w}) {
			printf "  %-13s %-12s %s: %s; p99 ms: %s\n", $w, 'forkloop/1', $WORKLOAD{$w}[3],
			    join(' ', map { fmt_val($w, $_->{$key}) } @$o),
			    join(' ', map { fmt_ms($_->{p99_us}) } @$o);
		}
	}
	print "\nwrk, tls-conns and h2load commands (port differs per server):\n";
	for my $w (@WORKLOADS) {
		my ($s) = grep { $RES{$w}{$_} } @SERVERS or next;
		print "  $w: $RES{$w}{$s}[0]{cmd}\n";
	}
}

# Stop the throughput servers before the memory test.
stop_server($_) for keys %SRV;

if (@MEMORY) {
	my $cdir = "$TMP/idle-conns-build";
	make_path($cdir);
	my $client = "$cdir/idle-conns";
	my ($out, $rc) = run_capture(120, $CC, '-O2', '-Wall', '-o', $client, "$BENCH_DIR/idle-conns.c",
	    '-lssl', '-lcrypto');
	die "bench: ABORT: cannot compile bench/idle-conns.c (needs libssl-dev):\n$out" if $rc != 0;
	memory_table($client, $_) for @MEMORY;
}

if (%ANOMALIES) {
	print "\nServer log lines that were not [info] (at most 10 per server):\n";
	for my $n (sort keys %ANOMALIES) {
		my @l = @{$ANOMALIES{$n}};
		print "  $n: ", scalar(@l), " line(s)\n";
		print "    $_\n" for @l[0 .. ($#l < 9 ? $#l : 9)];
	}
} else {
	print "\nNo server logged anything but [info] lines during the runs.\n";
}
print "\nAll servers stopped.\n";
exit 0;
