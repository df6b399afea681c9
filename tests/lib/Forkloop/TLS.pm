package Forkloop::TLS;

# Forkloop/TLS.pm: the TLS side of forkloop's integration tests (tls.t),
# on top of Forkloop.pm and Forkloop/Ops.pm, with the clients users use:
#
#   - certificates made at test time with openssl genpkey, req and x509,
#     into a test directory: a root CA, an intermediate CA under it, and
#     leaves (EC P-256 or RSA 2048) whose file holds the leaf and then the
#     intermediate, as a server's chain file does;
#	my $root = make_ca($dir, name => 'root');
#	my $ica = make_ca($dir, name => 'ica', issuer => $root);
#	my $a = make_cert($dir, name => 'a', cn => 'localhost',
#	    dns => ['localhost'], ip => ['127.0.0.1'], ca => $ica);
#	# { cert => "$dir/a.crt" (leaf + ica), key => "$dir/a.key", ... }
#   - openssl s_client, run once with a time bound, its report parsed:
#	my $r = s_client($port, ca => $root->{cert}, args => ['-tls1_3'],
#	    path => '/x');
#	# { handshake, reused, protocol, cipher, cn, alpn, alert, written,
#	#   key_bits, temp_key, verify, http => { status, body, ... },
#	#   http_raw (the bytes from the first status line on), out }
#   - openssl s_client as an interactive client (-quiet) for echo and
#     chat: Forkloop::TLS::Client->new(port => P, ca => FILE), send,
#     read_until, close;
#   - curl --cacert over one connection for any number of URLs:
#	my $c = curl($port, ca => $root->{cert}, paths => ['/', '/a']);
#	# { exit, stderr, transfers => [{ code, connects, body, head }] }
#   - the bytes of a real ClientHello (s_client's, caught by a listener),
#     the status JSON over TLS, whether the kernel has the tls ULP.
#
# Every program runs in a process group of its own and is killed by a
# deadline, and in END whatever state a failing test leaves it in.

use strict;
use warnings;

use Carp qw(croak);
use Exporter qw(import);
use File::Temp ();
use IO::Select;
use IO::Socket::INET;
use JSON::PP ();
use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);

use Forkloop qw(wait_for printable);
use Forkloop::Conn ();
use Forkloop::Ops qw(run_cmd which);

our @EXPORT_OK = qw(make_ca make_cert s_client curl tls_status_json
    client_hello_bytes ktls_available sess_info openssl_env
    prometheus_sum);

my $OWNER = $$;
my %CLIENTS;	# pid => 1, interactive s_client processes to be killed

END {
	my $status = $?;
	if ($$ == $OWNER) {
		for my $pid (keys %CLIENTS) {
			kill 'KILL', -$pid;
			kill 'KILL', $pid;
			waitpid($pid, 0);
		}
	}
	$? = $status;
}

# The environment for openssl commands: an empty configuration file, so
# that a system openssl.cnf (a MinProtocol, a CipherString) cannot change
# what the client offers; what it offers is what the test says.
my $EMPTY_CNF;
sub openssl_env {
	unless ($EMPTY_CNF) {
		$EMPTY_CNF = File::Temp->new(TMPDIR => 1, SUFFIX => '.cnf');
		print {$EMPTY_CNF} "# empty: tls.t\n";
		close $EMPTY_CNF;
	}
	return { OPENSSL_CONF => $EMPTY_CNF->filename };
}

sub _openssl {
	my (@args) = @_;
	my $r = run_cmd(['openssl', @args], timeout => 60,
	    env => openssl_env());
	croak "openssl @args: " . ($r->{timed_out} ? 'timed out'
	    : "exit " . ($r->{exit} // "signal $r->{signal}"))
	    . "\n$r->{stderr}" unless defined $r->{exit} && $r->{exit} == 0;
	return $r;
}

sub _slurp { Forkloop::_slurp($_[0]) // '' }

sub _spew {
	my ($path, $text) = @_;
	open(my $fh, '>', $path) or croak "write $path: $!";
	print {$fh} $text;
	close $fh or croak "write $path: $!";
	return $path;
}

###########################################################################
# Certificates.

my $SERIAL = int(time) * 1000 + $$ % 1000;

# A config file for req and x509: the extensions of a CA and of a leaf
# whose names are $o{dns} and $o{ip}.
sub _cnf {
	my ($dir, $name, %o) = @_;
	my @alt;
	my $i = 0;
	push @alt, 'DNS.' . ++$i . " = $_" for @{ $o{dns} || [] };
	$i = 0;
	push @alt, 'IP.' . ++$i . " = $_" for @{ $o{ip} || [] };
	my $text = <<"EOF";
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[v3_leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
	$text .= "subjectAltName = \@alt\n[alt]\n" . join("\n", @alt) . "\n"
	    if @alt;
	return _spew("$dir/$name.cnf", $text);
}

sub _key {
	my ($path, $type) = @_;
	if (($type // 'ec') eq 'rsa') {
		_openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt',
		    'rsa_keygen_bits:2048', '-out', $path);
	} else {
		_openssl('genpkey', '-algorithm', 'EC', '-pkeyopt',
		    'ec_paramgen_curve:P-256', '-out', $path);
	}
	return $path;
}

# Signs $name.csr with $ca into $name.pem (the certificate alone).
sub _sign {
	my ($dir, $name, $ca, $ext, $cnf) = @_;
	_openssl('x509', '-req', '-in', "$dir/$name.csr", '-CA', $ca->{pem},
	    '-CAkey', $ca->{key}, '-set_serial', ++$SERIAL, '-days', 3,
	    '-extfile', $cnf, '-extensions', $ext, '-out', "$dir/$name.pem");
	unlink "$dir/$name.csr";
}

# make_ca($dir, name => 'root', cn => ..., issuer => $parent_ca)
# A CA: self-signed, or signed by issuer.  Returns { name, cn, key, pem
# (its certificate), cert (the same), chain (PEM text of the certificates
# a server sends for a leaf it issued: itself and its issuers but the
# root) }.
sub make_ca {
	my ($dir, %o) = @_;
	my $name = $o{name} // 'ca';
	my $cn = $o{cn} // "forkloop tls.t $name";
	my $cnf = _cnf($dir, $name);
	my %ca = (name => $name, cn => $cn, key => _key("$dir/$name.key",
	    $o{key_type}), pem => "$dir/$name.pem");
	if ($o{issuer}) {
		_openssl('req', '-new', '-key', $ca{key}, '-subj', "/CN=$cn",
		    '-config', $cnf, '-out', "$dir/$name.csr");
		_sign($dir, $name, $o{issuer}, 'v3_ca', $cnf);
		$ca{chain} = _slurp($ca{pem}) . ($o{issuer}{chain} // '');
	} else {
		_openssl('req', '-new', '-x509', '-key', $ca{key}, '-subj',
		    "/CN=$cn", '-days', 3, '-set_serial', ++$SERIAL,
		    '-config', $cnf, '-extensions', 'v3_ca', '-out', $ca{pem});
		$ca{chain} = '';
	}
	$ca{cert} = $ca{pem};
	return \%ca;
}

# make_cert($dir, name => 'a', cn => 'localhost', dns => [...],
#   ip => [...], ca => $ca, key_type => 'ec' | 'rsa')
# A server certificate.  Returns { name, cn, key, cert (leaf + chain, the
# file for ssl_certificate), leaf (the leaf alone) }.
sub make_cert {
	my ($dir, %o) = @_;
	my $name = $o{name} // 'leaf';
	my $cn = $o{cn} // 'localhost';
	my $cnf = _cnf($dir, $name, dns => $o{dns} // [$cn], ip => $o{ip});
	my $key = _key("$dir/$name.key", $o{key_type});
	_openssl('req', '-new', '-key', $key, '-subj', "/CN=$cn", '-config',
	    $cnf, '-out', "$dir/$name.csr");
	_sign($dir, $name, $o{ca}, 'v3_leaf', $cnf);
	my $leaf = _slurp("$dir/$name.pem");
	_spew("$dir/$name.crt", $leaf . ($o{ca}{chain} // ''));
	return { name => $name, cn => $cn, key => $key,
	    cert => "$dir/$name.crt", leaf => "$dir/$name.pem" };
}

###########################################################################
# openssl s_client, once.

# s_client($port, ca => FILE, servername => NAME (undef: no SNI),
#   args => [...], path => '/', request => BYTES, timeout => 10)
# Connects to 127.0.0.1:$port and, unless request => '' is given, sends a
# GET of path with "Connection: close" and reads until the server closes
# (-ign_eof), so the session tickets the server sends after the
# handshake are read too.  The report is parsed: see the top of the file.
sub s_client {
	my ($port, %o) = @_;
	my $sni = exists $o{servername} ? $o{servername} : 'localhost';
	my $request = $o{request} // "GET " . ($o{path} // '/')
	    . " HTTP/1.1\r\nHost: " . ($o{host} // $sni // 'localhost')
	    . "\r\nConnection: close\r\n\r\n";
	my @argv = ('openssl', 's_client', '-connect', "127.0.0.1:$port",
	    defined $sni ? ('-servername', $sni) : ('-noservername'),
	    $o{ca} ? ('-CAfile', $o{ca}, '-verify_return_error') : (),
	    length $request ? ('-ign_eof') : (), @{ $o{args} || [] });
	my $r = run_cmd(\@argv, stdin => $request,
	    timeout => $o{timeout} // 10, env => openssl_env());
	return parse_s_client($r);
}

sub parse_s_client {
	my ($r) = @_;
	my $out = $r->{stdout};
	my $all = $out . $r->{stderr};
	$r->{out} = $all;
	if ($out =~ /^(New|Reused), (\S+), Cipher is (\S+)/m) {
		$r->{reused} = $1 eq 'Reused' ? 1 : 0;
		$r->{protocol} = $2;
		$r->{cipher} = $3;
	}
	$r->{handshake} = defined $r->{cipher} && $r->{cipher} ne '(NONE)'
	    && $r->{protocol} ne '(NONE)' ? 1 : 0;
	($r->{subject}) = $out =~ /^subject=(.*)$/m;
	($r->{cn}) = ($r->{subject} // '') =~ /\bCN\s*=\s*([^,\/]+?)\s*(?:,|$)/;
	($r->{alpn}) = $out =~ /^ALPN protocol: (\S+)/m;
	($r->{alert}) = $all =~ /SSL alert number (\d+)/;
	($r->{read}, $r->{written}) = $out =~
	    /SSL handshake has read (\d+) bytes and written (\d+) bytes/;
	($r->{key_bits}) = $out =~ /^Server public key is (\d+) bit/m;
	($r->{sig_type}) = $out =~ /^Peer signature type: (\S+)/m;
	($r->{temp_key}) = $out =~ /^Server Temp Key: (.*)$/m;
	($r->{verify}) = $out =~ /^\s*Verify return code: (\d+)/m;
	($r->{reneg}) = $out =~ /^Secure Renegotiation IS (NOT )?supported/m
	    ? ($1 ? 'no' : 'yes') : undef;
	if ($out =~ m{(HTTP/1\.[01] \d{3}.*)\z}s) {
		my $raw = $1;
		$r->{http_raw} = $raw;
		my ($resp) = eval { Forkloop::Conn::parse_response($raw,
		    eof => 1) };
		$r->{http} = $resp // { status => undef, raw => $raw,
		    error => $@ || 'incomplete' };
	}
	return $r;
}

# A one-line summary of an s_client report, for diag.
sub show {
	my ($r) = @_;
	return 'no report' unless $r;
	my @l = ('exit ' . ($r->{exit} // "signal $r->{signal}")
	    . ($r->{timed_out} ? ' (timed out)' : ''));
	push @l, "$_=$r->{$_}" for grep { defined $r->{$_} }
	    qw(protocol cipher reused cn alpn alert written verify);
	my @err = grep { /error|alert|fail/i } split /\n/, $r->{stderr} // '';
	push @l, 'stderr: ' . printable(join(' | ', @err[0 .. ($#err > 2
	    ? 2 : $#err)]), 300) if @err;
	return join(', ', @l);
}

# sess_info(FILE): what openssl sess_id says of a saved session:
# { protocol, lifetime (the ticket lifetime hint), ticket (bool),
# key_name (hex: the ticket's first 16 bytes) }, or
# undef when there is no such file.
sub sess_info {
	my ($file) = @_;
	return undef unless -s $file;
	my $r = run_cmd(['openssl', 'sess_id', '-in', $file, '-text',
	    '-noout'], timeout => 10, env => openssl_env());
	my $t = $r->{stdout};
	my %i;
	($i{protocol}) = $t =~ /^\s*Protocol\s*:\s*(\S+)/m;
	($i{lifetime}) = $t =~ /TLS session ticket lifetime hint: (\d+)/;
	$i{ticket} = $t =~ /^\s*TLS session ticket:\s*\n\s*0000 - ([0-9a-f -]{47})/m
	    ? 1 : 0;
	# A stateless ticket starts with the name of the key it is sealed
	# with (RFC 5077 4, and OpenSSL's TLS 1.3 tickets alike).
	($i{key_name} = $1) =~ tr/0-9a-f//cd if $i{ticket};
	$i{text} = $t;
	return \%i;
}

###########################################################################
# curl.

# curl($port, ca => FILE, host => 'localhost', paths => ['/', ...],
#   args => [...], timeout => 20)
# One curl for all the paths, in order, so it keeps one connection for
# them when it can.  Returns { exit, stderr, transfers => [{ code,
# connects (new connections made for it), size, verify, body, head,
# headers => { lc name => value } }] }.
sub curl {
	my ($port, %o) = @_;
	my $host = $o{host} // 'localhost';
	my $tmp = File::Temp->newdir(TMPDIR => 1);
	my $dir = $tmp->dirname;
	my @paths = @{ $o{paths} || ['/'] };
	my @argv = ('curl', '-sS', '--http1.1', '--noproxy', '*',
	    '--max-time', $o{timeout} // 20, '--resolve',
	    "$host:$port:127.0.0.1", '-D', "$dir/head",
	    '-w', '%{http_code} %{num_connects} %{size_download} '
	    . '%{ssl_verify_result}\n');
	push @argv, '--cacert', $o{ca} if $o{ca};
	push @argv, @{ $o{args} || [] };
	for my $i (0 .. $#paths) {
		push @argv, '-o', "$dir/body$i", "https://$host:$port$paths[$i]";
	}
	my $r = run_cmd(\@argv, timeout => ($o{timeout} // 20) + 5);
	my @w = split /\n/, $r->{stdout};
	my @heads = grep { length } split /(?=^HTTP\/)/m, _slurp("$dir/head");
	my @t;
	for my $i (0 .. $#paths) {
		my ($code, $conn, $size, $verify) = split / /, $w[$i] // '';
		my %h;
		my $head = $heads[$i] // '';
		for my $line (split /\r?\n/, $head) {
			$h{lc $1} = $2 if $line =~ /^([^:\s]+):\s*(.*?)\s*$/;
		}
		push @t, { code => $code, connects => $conn, size => $size,
		    verify => $verify, head => $head, headers => \%h,
		    body => -e "$dir/body$i" ? _slurp("$dir/body$i") : undef };
	}
	$r->{transfers} = \@t;
	return $r;
}

# The JSON of /status fetched over TLS with curl, or undef.
sub tls_status_json {
	my ($port, %o) = @_;
	my $r = curl($port, %o, paths => [$o{path} // '/status']);
	my $t = $r->{transfers}[0];
	unless (($r->{exit} // 1) == 0 && ($t->{code} // 0) == 200) {
		Test::More::diag("curl /status over TLS: exit "
		    . ($r->{exit} // '?') . ", code " . ($t->{code} // '?')
		    . ": $r->{stderr}");
		return undef;
	}
	my $j = eval { JSON::PP->new->decode($t->{body}) };
	Test::More::diag("/status over TLS is not JSON: $@") unless $j;
	$j->{_raw} = $t->{body} if $j;
	return $j;
}

# The sum of the samples of a Prometheus metric whose labels match
# $label_re (all of them when undef); undef when there is none.
sub prometheus_sum {
	my ($text, $name, $label_re) = @_;
	my ($sum, $n) = (0, 0);
	for my $line (split /\n/, $text // '') {
		next unless $line =~ /^\Q$name\E(\{[^}]*\})?\s+(\S+)\s*$/;
		my ($labels, $v) = ($1 // '', $2);
		next if defined $label_re && $labels !~ $label_re;
		$sum += $v;
		$n++;
	}
	return $n ? $sum : undef;
}

###########################################################################
# Odds and ends.

# The first TLS record a real client sends (openssl s_client's
# ClientHello for servername $o{servername}), caught by a listener of our
# own.  Dies when none comes within 10 s.
sub client_hello_bytes {
	my (%o) = @_;
	my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
	    LocalPort => 0, Proto => 'tcp', Listen => 1, ReuseAddr => 1)
	    or croak "listen: $!";
	my $port = $l->sockport;
	my $bg = Forkloop::Ops::start_bg(['openssl', 's_client', '-connect',
	    "127.0.0.1:$port", '-servername', $o{servername} // 'localhost',
	    '-ign_eof'], env => openssl_env());
	my $bytes = eval {
		IO::Select->new($l)->can_read(10) or die "no connection\n";
		my $c = $l->accept or die "accept: $!\n";
		$c->blocking(0);
		my $sel = IO::Select->new($c);
		my $buf = '';
		my $deadline = time + 10;
		for (;;) {
			if (length $buf >= 5) {
				my $len = unpack('n', substr($buf, 3, 2));
				last if length $buf >= 5 + $len;
			}
			my $left = $deadline - time;
			die "only " . length($buf) . " bytes of a ClientHello\n"
			    if $left <= 0;
			next unless $sel->can_read($left);
			my $n = sysread($c, my $chunk, 65536);
			die "read: " . ($n // $!) . "\n" unless $n;
			$buf .= $chunk;
		}
		close $c;
		my $len = unpack('n', substr($buf, 3, 2));
		substr($buf, 0, 5 + $len);
	};
	my $err = $@;
	$bg->stop(2);
	close $l;
	croak "client_hello_bytes: $err" unless defined $bytes;
	return $bytes;
}

# True when the kernel offers the tls ULP (kTLS).
sub ktls_available {
	my $ulp = _slurp('/proc/sys/net/ipv4/tcp_available_ulp');
	return $ulp =~ /\btls\b/ ? 1 : 0;
}

###########################################################################
# An interactive client: openssl s_client -quiet, its stdin and stdout
# ours.  For the echo and chat services, which do not close by themselves.

package Forkloop::TLS::Client;

use Carp qw(croak);
use IO::Select;
use POSIX ();
use Time::HiRes qw(time);

# new(port => P, ca => FILE, servername => NAME, args => [...])
sub new {
	my ($class, %o) = @_;
	my $sni = $o{servername} // 'localhost';
	my @argv = ('openssl', 's_client', '-quiet', '-connect',
	    "127.0.0.1:$o{port}", '-servername', $sni,
	    $o{ca} ? ('-CAfile', $o{ca}, '-verify_return_error') : (),
	    @{ $o{args} || [] });
	my $errlog = File::Temp->new(TMPDIR => 1);
	pipe(my $in_r, my $in_w) or croak "pipe: $!";
	pipe(my $out_r, my $out_w) or croak "pipe: $!";
	my $pid = fork;
	croak "fork: $!" unless defined $pid;
	if ($pid == 0) {
		POSIX::setpgid(0, 0);
		$SIG{$_} = 'DEFAULT' for qw(HUP INT QUIT TERM USR1 USR2 PIPE ALRM);
		close $in_w;
		close $out_r;
		open(STDIN, '<&', $in_r);
		open(STDOUT, '>&', $out_w);
		open(STDERR, '>', $errlog->filename);
		$ENV{OPENSSL_CONF} = Forkloop::TLS::openssl_env()->{OPENSSL_CONF};
		{ no warnings 'exec'; exec { $argv[0] } @argv; }
		print STDERR "exec $argv[0]: $!\n";
		POSIX::_exit(127);
	}
	POSIX::setpgid($pid, $pid);
	$CLIENTS{$pid} = 1;
	close $in_r;
	close $out_w;
	$out_r->blocking(0);
	my $old = select($in_w);
	$| = 1;
	select($old);
	return bless { pid => $pid, in => $in_w, out => $out_r, buf => '',
	    eof => 0, errlog => $errlog }, $class;
}

sub buffer { $_[0]{buf} }
sub stderr { Forkloop::TLS::_slurp($_[0]{errlog}->filename) }

sub send {
	my ($self, $data) = @_;
	return 0 unless $self->{in};
	local $SIG{PIPE} = 'IGNORE';
	return syswrite($self->{in}, $data) == length $data ? 1 : 0;
}

# Reads until the buffer matches $re (which is removed with what comes
# before it and returned), the client exits, or $timeout seconds pass
# (both: undef).
sub read_until {
	my ($self, $re, $timeout) = @_;
	return $self->_read(sub {
		return undef unless $self->{buf} =~ $re;
		return $+[0];
	}, $timeout);
}

# Exactly $n bytes, or undef.
sub read_bytes {
	my ($self, $n, $timeout) = @_;
	return $self->_read(sub { length $self->{buf} >= $n ? $n : undef },
	    $timeout);
}

# Reads until $end->() gives the length of what is wanted (then removed
# from the buffer and returned), the client exits, or $timeout seconds
# pass (both: undef).
sub _read {
	my ($self, $end, $timeout) = @_;
	my $deadline = time + ($timeout // 10);
	my $sel = IO::Select->new($self->{out});
	for (;;) {
		my $len = $end->();
		return substr($self->{buf}, 0, $len, '') if defined $len;
		return undef if $self->{eof};
		my $left = $deadline - time;
		return undef if $left <= 0;
		next unless $sel->can_read($left);
		my $n = sysread($self->{out}, my $chunk, 65536);
		if (!defined $n) {
			next if $!{EAGAIN} || $!{EINTR};
			$n = 0;
		}
		if ($n == 0) {
			$self->{eof} = 1;
			next;
		}
		$self->{buf} .= $chunk;
	}
}

sub close {
	my ($self) = @_;
	return unless $self->{pid};
	close $self->{in} if $self->{in};
	delete $self->{in};
	kill 'TERM', -$self->{pid};
	kill 'TERM', $self->{pid};
	unless (Forkloop::wait_for(sub {
		waitpid($self->{pid}, POSIX::WNOHANG()) == $self->{pid} }, 3)) {
		kill 'KILL', -$self->{pid};
		kill 'KILL', $self->{pid};
		waitpid($self->{pid}, 0);
	}
	delete $CLIENTS{ $self->{pid} };
	delete $self->{pid};
	close $self->{out} if $self->{out};
	delete $self->{out};
}

sub DESTROY {
	my ($self) = @_;
	local ($?, $@, $!);
	$self->close if $self->{pid} && $$ == $OWNER;
}

1;
