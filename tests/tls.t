#!/usr/bin/perl
# tls.t: TLS ("listen ADDR ssl;", OpenSSL 3), seen by the clients users
# use: curl --cacert and openssl s_client (and sslscan when installed).
# The certificates are made here, at test time: a root CA, an
# intermediate under it, and leaves whose files hold the leaf and the
# intermediate; the clients trust the root only, so the chain must be
# sent.
#
#  - -t: a good TLS file passes; a broken certificate, a broken key, a
#    key that is not the certificate's, TLSv1.1, TLSv1 and SSLv3, an
#    unknown cipher list or curve, an ssl listener without a certificate
#    are "FILE:LINE:" errors at the line of the directive at fault.
#  - HTTPS with curl: GET, two requests on one connection, HEAD, Range,
#    If-None-Match, a 1 MiB file byte for byte, POST /echo.
#  - s_client: TLS 1.2 and 1.3 work, TLS 1.0 and 1.1 get alert
#    protocol_version, CBC ciphers are refused; ALPN h2 then http/1.1, and alert
#    no_application_protocol (RFC 7301 3.2) for a client that offers
#    none the server has; SNI picks the block (exact, wildcard, upper
#    case and trailing dot, ranked as nginx ranks them), unknown or no
#    SNI the first; an RSA and an ECDSA certificate in one block,
#    chosen by what the client can do.
#  - Requests pipelined in one TLS record are all answered, in order.
#  - Session tickets: resumed (TLS 1.3 and 1.2) on both workers and
#    across a reload; not with ssl_session_tickets off, nor after
#    ssl_session_timeout; a ticket of another forkloop gets a full
#    handshake; ssl_session_ticket_rotate makes new keys, the previous
#    still decrypt, old ones stop.  A TLS 1.2 session of block a offered
#    with SNI b.example is not resumed (RFC 6066 3), and block b answers
#    whatever the version.  ssl_prefer_server_ciphers, ssl_ecdh_curve,
#    ssl_protocols and ssl_session_timeout as configured.
#  - Plain HTTP on the TLS port: 400 "The plain HTTP request was sent to
#    HTTPS port"; a ClientHello on a plain port: 400.  Both then close.
#  - The access log's combined_ssl format; the tls_* counters of /status
#    (JSON over TLS and Prometheus) follow what the test did.
#  - Echo and chat over TLS.
#  - Reload (HUP): a new certificate is served; a broken one is refused
#    by -t and by the reload, and the old workers keep serving the old.
#  - sslscan: nothing below TLS 1.2, only AEAD ciphers with ECDHE, no
#    group weaker than P-256 / X25519 (skipped when sslscan is missing).
#
# Hostile clients (split and truncated ClientHellos, stalled handshakes,
# resets, renegotiation, 1,000 handshakes at once) and the PROXY protocol
# before TLS are in tls_hostile.py.

use strict;
use warnings;

use Test::More;
use Digest::SHA qw(sha256_hex);
use File::Copy qw(copy);
use JSON::PP ();
use Time::HiRes qw(time sleep);
use Forkloop qw(wait_for pseudo_random_bytes printable run_forkloop);
use Forkloop::Ops qw(run_cmd which status_json status_get);
use Forkloop::Raw ();
use Forkloop::TLS qw(make_ca make_cert s_client curl tls_status_json
    client_hello_bytes ktls_available sess_info prometheus_sum);

Forkloop::check_binary();
Forkloop::watchdog(240);

plan skip_all => 'openssl and curl are needed (Debian packages openssl, '
    . 'curl)' unless which('openssl') && which('curl');

my @COUNTERS = qw(tls_handshakes tls_resumed tls_failed_protocol
    tls_failed_cipher tls_failed_certificate tls_failed_timeout
    tls_failed_other tls_ktls);
my $PLAIN_400 = 'The plain HTTP request was sent to HTTPS port';

###########################################################################
# Certificates, in a directory of their own (a server that is never
# started): root -> intermediate -> leaves.

my $pki_s = Forkloop->new(start => 0);
my $pki = $pki_s->testdir;
my $root = make_ca($pki, name => 'root', cn => 'forkloop tls.t root');
my $ica = make_ca($pki, name => 'ica', cn => 'forkloop tls.t intermediate',
    issuer => $root);
my $other_root = make_ca($pki, name => 'other', cn => 'another root');
my %cert = (
	a => make_cert($pki, name => 'a', cn => 'localhost', ca => $ica,
	    dns => ['localhost', 'a.example'], ip => ['127.0.0.1']),
	arsa => make_cert($pki, name => 'arsa', cn => 'localhost', ca => $ica,
	    dns => ['localhost', 'a.example'], ip => ['127.0.0.1'],
	    key_type => 'rsa'),
	b => make_cert($pki, name => 'b', cn => 'b.example', ca => $ica,
	    dns => ['b.example', '*.wild.example']),
	a2 => make_cert($pki, name => 'a2', cn => 'reloaded.localhost',
	    ca => $ica, dns => ['localhost', 'a.example']),
);
my $CA = $root->{cert};

sub slurp { Forkloop::_slurp($_[0]) // '' }

# The number of the first line of $text that matches $re.
sub line_of {
	my ($text, $re) = @_;
	my @lines = split /\n/, $text;
	for my $i (0 .. $#lines) {
		return $i + 1 if $lines[$i] =~ $re;
	}
	return undef;
}

sub show { Forkloop::TLS::show(@_) }

###########################################################################
# The main server: two workers; two ssl blocks on one address (SNI), the
# first with an ECDSA and an RSA certificate; a plain block for /status
# without TLS; echo and chat over TLS.

my $index = "<!doctype html>\n<title>tls.t</title>\n<p>block a</p>\n";
my $index_b = "block b\n";
my $big = pseudo_random_bytes(1024 * 1024, 443);
my $text = join('', map { sprintf("line %04d of range.txt\n", $_) } 0 .. 99);

my $s = Forkloop->new(start => 0, files => {
	'www/index.html' => $index, 'www/range.txt' => $text,
	'www/big.bin' => $big, 'www-b/index.html' => $index_b,
	'a.crt' => slurp($cert{a}{cert}), 'a.key' => slurp($cert{a}{key}) },
    config => <<"CONF");
workers 2;
# One client's connections must reach both workers (the ticket keys are
# shared): the kernel's hash spreads them; steering would keep them on
# the worker of the client's CPU.
reuseport_steering off;
worker_connections 1024;
shutdown_timeout 5s;
ssl_session_ticket_rotate 1h;

http {
    listen 127.0.0.1:%%PORT_HTTPS%% ssl;
    server_name localhost a.example *.example;
    ssl_certificate %%TESTDIR%%/a.crt;
    ssl_certificate_key %%TESTDIR%%/a.key;
    ssl_certificate $cert{arsa}{cert};
    ssl_certificate_key $cert{arsa}{key};
    root %%TESTDIR%%/www;
    index index.html;
    access_log %%TESTDIR%%/access.log combined_ssl;
    keepalive_timeout 75s;
    route /status status;
    route /echo echo;
}

http {
    listen 127.0.0.1:%%PORT_HTTPS%% ssl;
    server_name b.example *.wild.example;
    ssl_certificate $cert{b}{cert};
    ssl_certificate_key $cert{b}{key};
    root %%TESTDIR%%/www-b;
    index index.html;
    access_log %%TESTDIR%%/access-b.log combined_ssl;
}

http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    root %%TESTDIR%%/www;
    access_log %%TESTDIR%%/access-plain.log;
    route /status status;
}

echo {
    listen 127.0.0.1:%%PORT_ECHO%% ssl;
    ssl_certificate $cert{a}{cert};
    ssl_certificate_key $cert{a}{key};
    idle_timeout 1m;
}

chat {
    listen 127.0.0.1:%%PORT_CHAT%% ssl;
    ssl_certificate $cert{a}{cert};
    ssl_certificate_key $cert{a}{key};
}
CONF

my $conf_text = $s->config_text;
my $LINE_A_CERT = line_of($conf_text, qr{ssl_certificate\s+\S*/a\.crt;});
my $LINE_A_KEY = line_of($conf_text, qr{ssl_certificate_key\s+\S*/a\.key;});

subtest 'the configuration passes -t' => sub {
	my $r = run_forkloop(args => ['-t', '-c', $s->conf_file]);
	is($r->{exit}, 0, '-t: the test\'s TLS configuration: exit 0')
	    or diag("stderr: $r->{stderr}");
};

# Start it whatever -t said: a failure to start says more.
my $started = eval { $s->run; 1 };
ok($started, 'forkloop starts with TLS listeners') or diag($@);
unless ($started) {
	done_testing();
	exit 1;
}
my @workers = $s->wait_workers(2);
is(scalar @workers, 2, 'two workers');
my $https = $s->port('https');
my @expected_errors;

# The tls_* totals of the plain /status: reading them costs no handshake.
sub counters {
	my $st = status_json($s) or return undef;
	my %c = map { $_ => $st->{totals}{$_} } @COUNTERS;
	$c{_workers} = $st->{workers};
	return \%c;
}

# Polls the counters until $cond->($now) holds (the workers may publish
# them a little later); returns the last ones seen.
sub counters_when {
	my ($cond, $timeout) = @_;
	my $c;
	wait_for(sub { $c = counters(); $c && $cond->($c) }, $timeout // 5);
	return $c;
}

sub delta_ok {
	my ($before, $after, $want, $name) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my (%got, %exp);
	for my $k (sort keys %$want) {
		$got{$k} = $after && defined $after->{$k} && defined $before->{$k}
		    ? $after->{$k} - $before->{$k} : undef;
		$exp{$k} = $want->{$k};
	}
	return is_deeply(\%got, \%exp, $name);
}

# The access log line of a request for $path, waited for.
sub log_line {
	my ($file, $path) = @_;
	my $line;
	wait_for(sub {
		($line) = grep { m{"GET \Q$path\E HTTP/1\.[01]"} }
		    split /\n/, slurp($s->path($file));
		return defined $line;
	}, 10);
	return $line // '';
}

###########################################################################

subtest 'HTTPS with curl --cacert' => sub {
	my $r = curl($https, ca => $CA, paths => ['/']);
	my $t = $r->{transfers}[0];
	is($r->{exit}, 0, 'curl exits 0 (the chain verifies against the root)')
	    or diag($r->{stderr});
	is($t->{code}, 200, 'GET /: 200');
	is($t->{verify}, 0, 'certificate verified');
	is($t->{body}, $index, 'GET /: index.html');

	# Keep-alive: two URLs, one connection.
	$r = curl($https, ca => $CA, paths => ['/range.txt', '/']);
	my @t = @{ $r->{transfers} };
	is(join(' ', map { $_->{code} // '-' } @t), '200 200',
	    'two requests: 200 200') or diag($r->{stderr});
	is(join(' ', map { $_->{connects} // '-' } @t), '1 0',
	    'the second reuses the first one\'s connection');
	is($t[0]{body}, $text, 'first body');
	is($t[1]{body}, $index, 'second body');

	$r = curl($https, ca => $CA, paths => ['/range.txt'], args => ['-I']);
	$t = $r->{transfers}[0];
	is($t->{code}, 200, 'HEAD: 200');
	is($t->{headers}{'content-length'}, length $text,
	    'HEAD: the file\'s Content-Length');
	is($t->{size}, 0, 'HEAD: no body');

	$r = curl($https, ca => $CA, paths => ['/range.txt'],
	    args => ['-r', '23-45']);
	$t = $r->{transfers}[0];
	is($t->{code}, 206, 'Range: 206');
	is($t->{headers}{'content-range'}, 'bytes 23-45/' . length $text,
	    'Range: Content-Range');
	is($t->{body}, substr($text, 23, 23), 'Range: the bytes asked for');

	$r = curl($https, ca => $CA, paths => ['/range.txt']);
	my $etag = $r->{transfers}[0]{headers}{etag};
	ok(defined $etag, 'an ETag') or diag($r->{transfers}[0]{head});
	$r = curl($https, ca => $CA, paths => ['/range.txt'],
	    args => ['-H', 'If-None-Match: ' . ($etag // '"x"')]);
	is($r->{transfers}[0]{code}, 304, 'If-None-Match: 304');
	is($r->{transfers}[0]{body} // '', '', '304: no body');

	$r = curl($https, ca => $CA, paths => ['/big.bin'], timeout => 30);
	$t = $r->{transfers}[0];
	is($t->{code}, 200, '1 MiB: 200') or diag($r->{stderr});
	is(length($t->{body} // ''), length $big, '1 MiB: every byte');
	is(sha256_hex($t->{body} // ''), sha256_hex($big),
	    '1 MiB: SHA-256 of the body is the file\'s');

	my $post = pseudo_random_bytes(100 * 1024, 7);
	my $pf = $s->write_file('post.bin', $post);
	$r = curl($https, ca => $CA, paths => ['/echo'], args => [
	    '--data-binary', "\@$pf", '-H',
	    'Content-Type: application/octet-stream']);
	$t = $r->{transfers}[0];
	is($t->{code}, 200, 'POST /echo (100 KiB): 200') or diag($r->{stderr});
	ok(defined $t->{body} && $t->{body} eq $post,
	    'POST /echo: the same body back')
	    or diag('got ' . length($t->{body} // '') . ' bytes');

	# SNI picks block b and its root.
	$r = curl($https, ca => $CA, host => 'b.example', paths => ['/']);
	is($r->{transfers}[0]{body}, $index_b,
	    'https://b.example/: block b\'s root') or diag($r->{stderr});
	$r = curl($https, ca => $CA, host => 'a.example', paths => ['/']);
	is($r->{transfers}[0]{body}, $index, 'https://a.example/: block a\'s root')
	    or diag($r->{stderr});
};

subtest 's_client: protocol versions and ciphers' => sub {
	my $before = counters() or return;
	for my $v (qw(1_2 1_3)) {
		(my $name = "TLSv$v") =~ s/_/./;
		my $r = s_client($https, ca => $CA, args => ["-tls$v"],
		    path => "/?proto-$v");
		ok($r->{handshake}, "-tls$v: handshake") or diag(show($r));
		is($r->{protocol}, $name, "-tls$v: $name");
		is($r->{verify}, 0, "-tls$v: verified");
		is($r->{http} && $r->{http}{status}, 200, "-tls$v: GET: 200");
	}

	# OpenSSL 3 offers TLS 1.0 and 1.1 only at security level 0: the
	# client must really send the old ClientHello for this to test
	# anything (written > 0).
	for my $v (qw(1 1_1)) {
		my $r = s_client($https, ca => $CA,
		    args => ["-tls$v", '-cipher', 'DEFAULT:@SECLEVEL=0']);
		ok(!$r->{handshake}, "-tls$v: no handshake") or diag(show($r));
		cmp_ok($r->{written} // 0, '>', 0, "-tls$v: the ClientHello "
		    . 'was sent');
		is($r->{alert}, 70, "-tls$v: alert protocol_version (70)")
		    or diag(show($r));
	}

	# TLS 1.2 with CBC only, ECDHE or not: no cipher in common.
	for my $c ('ECDHE-ECDSA-AES128-SHA', 'AES128-SHA256') {
		my $r = s_client($https, ca => $CA,
		    args => ['-tls1_2', '-cipher', "$c:\@SECLEVEL=0"]);
		ok(!$r->{handshake}, "-tls1_2 -cipher $c: refused")
		    or diag(show($r));
		is($r->{alert}, 40, "-cipher $c: alert handshake_failure (40)")
		    or diag(show($r));
	}

	my $after = counters_when(sub {
		$_[0]{tls_failed_protocol} >= $before->{tls_failed_protocol} + 2
		    && $_[0]{tls_failed_cipher}
		    >= $before->{tls_failed_cipher} + 2
		    && $_[0]{tls_handshakes} >= $before->{tls_handshakes} + 2;
	});
	delta_ok($before, $after, { tls_failed_protocol => 2,
	    tls_failed_cipher => 2, tls_failed_certificate => 0,
	    tls_handshakes => 2, tls_resumed => 0 },
	    'counters: 2 handshakes, 2 failed on protocol, 2 on cipher');
};

subtest 'ALPN (RFC 7301)' => sub {
	my $r = s_client($https, ca => $CA, args => ['-alpn', 'http/1.1']);
	ok($r->{handshake}, '-alpn http/1.1: handshake') or diag(show($r));
	is($r->{alpn}, 'http/1.1', '-alpn http/1.1: http/1.1 selected');
	is($r->{http} && $r->{http}{status}, 200, '-alpn http/1.1: GET: 200');

	# http2 is on by default: h2 is ours first (tests/h2.py speaks it).
	$r = s_client($https, ca => $CA, args => ['-alpn', 'http/1.1,h2']);
	is($r->{alpn}, 'h2', '-alpn http/1.1,h2: h2 selected, our preference')
	    or diag(show($r));

	$r = s_client($https, ca => $CA);
	ok($r->{handshake}, 'no ALPN: handshake') or diag(show($r));
	ok(!defined $r->{alpn}, 'no ALPN: none selected');

	$r = s_client($https, ca => $CA, args => ['-alpn', 'foo']);
	ok(!$r->{handshake}, '-alpn foo: no handshake') or diag(show($r));
	is($r->{alert}, 120, '-alpn foo: alert no_application_protocol (120)')
	    or diag(show($r));
};

# Block a has "*.example" and comes first; block b's exact b.example and
# its longer *.wild.example still win, as in nginx.
subtest 'SNI picks the block' => sub {
	my @cases = (
		['localhost', 'localhost', $index],
		['a.example', 'localhost', $index],
		['b.example', 'b.example', $index_b],
		['B.EXAMPLE.', 'b.example', $index_b],
		['b.example.', 'b.example', $index_b],
		['x.wild.example', 'b.example', $index_b],
		['X.Wild.Example', 'b.example', $index_b],
		['unknown.example', 'localhost', $index],
		['wild.example', 'localhost', $index],
		[undef, 'localhost', $index],
	);
	for my $c (@cases) {
		my ($sni, $cn, $body) = @$c;
		my $what = defined $sni ? "-servername $sni" : 'no SNI';
		my $r = s_client($https, ca => $CA, servername => $sni);
		is($r->{cn}, $cn, "$what: the certificate of CN $cn")
		    or diag(show($r));
		is($r->{http} && $r->{http}{body}, $body,
		    "$what: that block's root");
	}
};

subtest 'RSA and ECDSA certificates in one block' => sub {
	my @cases = (
		[['-tls1_2', '-cipher', 'ECDHE-RSA-AES128-GCM-SHA256'], 2048,
		    'TLS 1.2, an RSA suite: the RSA certificate'],
		[['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-GCM-SHA256'], 256,
		    'TLS 1.2, an ECDSA suite: the ECDSA certificate'],
		[['-tls1_3', '-sigalgs', 'rsa_pss_rsae_sha256'], 2048,
		    'TLS 1.3, RSA-PSS signatures only: the RSA certificate'],
		[['-tls1_3', '-sigalgs', 'ecdsa_secp256r1_sha256'], 256,
		    'TLS 1.3, ECDSA signatures only: the ECDSA certificate'],
	);
	for my $c (@cases) {
		my ($args, $bits, $name) = @$c;
		my $r = s_client($https, ca => $CA, args => $args);
		ok($r->{handshake} && ($r->{key_bits} // 0) == $bits,
		    "$name ($bits bit key)") or diag(show($r) . ', key '
		    . ($r->{key_bits} // '?') . ' bit');
	}
};

# Session files, in the test directory.
sub sess { $s->path("sess-$_[0].pem") }

subtest 'session tickets: resumption on both workers' => sub {
	my $before = counters() or return;
	my $r = s_client($https, ca => $CA, args => ['-tls1_3', '-sess_out',
	    sess('13')], path => '/?full-13');
	ok($r->{handshake} && !$r->{reused}, 'TLS 1.3: a full handshake')
	    or diag(show($r));
	my $info = sess_info(sess('13'));
	ok($info && $info->{ticket}, 'TLS 1.3: a ticket came')
	    or diag($info ? $info->{text} : 'no session file');
	is($info && $info->{lifetime}, 300, 'its lifetime hint is '
	    . 'ssl_session_timeout\'s default, 5m');

	$r = s_client($https, ca => $CA, args => ['-tls1_3', '-sess_in',
	    sess('13')], path => '/?resumed-13');
	is($r->{reused}, 1, 'TLS 1.3: -sess_in: Reused') or diag(show($r));
	is($r->{http} && $r->{http}{status}, 200, 'and the request is served');

	$r = s_client($https, ca => $CA, args => ['-tls1_2', '-sess_out',
	    sess('12')], path => '/?full-12');
	ok($r->{handshake} && !$r->{reused}, 'TLS 1.2: a full handshake')
	    or diag(show($r));
	$info = sess_info(sess('12'));
	ok($info && $info->{ticket}, 'TLS 1.2: a ticket came')
	    or diag($info ? $info->{text} : 'no session file');
	$r = s_client($https, ca => $CA, args => ['-tls1_2', '-sess_in',
	    sess('12')], path => '/?resumed-12');
	is($r->{reused}, 1, 'TLS 1.2: -sess_in: Reused') or diag(show($r));

	# Many resumptions with the one ticket: SO_REUSEPORT spreads them
	# over both workers, which must share the ticket keys.
	my $mid = counters() or return;
	my $n = 16;
	my @not;
	for my $i (1 .. $n) {
		$r = s_client($https, ca => $CA, args => ['-sess_in',
		    sess('13')], path => "/?many-$i");
		push @not, "$i: " . show($r) unless $r->{reused};
	}
	is(scalar @not, 0, "$n resumptions from one ticket: all Reused")
	    or diag(join("\n", @not[0 .. ($#not > 3 ? 3 : $#not)]));
	my $after = counters_when(sub {
		$_[0]{tls_resumed} >= $mid->{tls_resumed} + $n });
	delta_ok($before, $after, { tls_resumed => $n + 2,
	    tls_handshakes => $n + 4 },
	    'counters: every handshake counted, ' . ($n + 2) . ' resumed');

	# Which workers served them: their own counters moved.
	my %per;
	my $key = defined $after->{_workers}[0]{tls_resumed}
	    ? 'tls_resumed' : 'accepted';
	for my $w (@{ $mid->{_workers} }) {
		$per{ $w->{pid} } = -($w->{$key} // 0);
	}
	$per{ $_->{pid} } += $_->{$key} // 0 for @{ $after->{_workers} };
	# With "accepted" a worker's count may include one status request.
	my $min = $key eq 'accepted' ? 2 : 1;
	my @served = grep { $per{$_} >= $min } keys %per;
	is(scalar @served, 2, "both workers resumed sessions ($key: "
	    . join(', ', map { "$_ +$per{$_}" } sort keys %per) . ')');
};

subtest 'pipelined requests in one TLS record' => sub {
	my $body = 'posted';
	my $req = "GET /range.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"
	    . "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: "
	    . length($body) . "\r\n\r\n$body"
	    . "HEAD / HTTP/1.1\r\nHost: localhost\r\n\r\n"
	    . "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
	my $r = s_client($https, ca => $CA, request => $req);
	my $raw = $r->{http_raw} // '';
	my @got;
	my @head = (0, 0, 1, 0);
	for my $i (0 .. 3) {
		my ($resp, $used) = eval { Forkloop::Conn::parse_response($raw,
		    head => $head[$i], eof => $i == 3) };
		last unless $resp;
		push @got, $resp;
		substr($raw, 0, $used, '');
	}
	is(join(' ', map { $_->{status} } @got), '200 200 200 200',
	    'four responses, in order') or diag(show($r));
	is($got[0] && $got[0]{body}, $text, 'GET /range.txt');
	is($got[1] && $got[1]{body}, $body, 'POST /echo: its body');
	is($got[3] && $got[3]{body}, $index, 'GET /');
};

subtest 'a session of block a offered with SNI b.example' => sub {
	# TLS 1.2: RFC 6066 3: "A server that implements this extension
	# MUST NOT accept the request to resume the session if the
	# server_name extension contains a different name.  Instead, it
	# proceeds with a full handshake to establish a new session."
	# TLS 1.3 leaves that check to the client (RFC 8446 4.6.1), so a
	# server may resume.  Either way the SNI (and the Host header, which
	# says the same) name block b: block b's root must answer.
	for my $v (qw(1_3 1_2)) {
		(my $V = $v) =~ tr/_/./;
		my $f = sess("sni-$v");
		my $r = s_client($https, ca => $CA, args => ["-tls$v",
		    '-sess_out', $f]);
		ok($r->{handshake} && -s $f, "TLS $V: a session with block a")
		    or diag(show($r));
		$r = s_client($https, ca => $CA, servername => 'b.example',
		    args => ["-tls$v", '-sess_in', $f]);
		ok($r->{handshake}, "TLS $V: offered with SNI b.example: "
		    . 'handshake') or diag(show($r));
		if ($v eq '1_2') {
			is($r->{reused}, 0, "TLS $V: ... New, not Reused "
			    . '(RFC 6066 3)') or diag(show($r));
			is($r->{cn}, 'b.example', "TLS $V: ... with block b's "
			    . 'certificate');
		} elsif ($r->{reused}) {
			pass("TLS $V: ... Reused, which TLS 1.3 allows");
		} else {
			is($r->{cn}, 'b.example', "TLS $V: ... New, with "
			    . 'block b\'s certificate');
		}
		is($r->{http} && $r->{http}{body}, $index_b, "TLS $V: ... and "
		    . 'block b\'s root answers (SNI and Host say b.example)')
		    or diag('got ' . printable($r->{http} && $r->{http}{body}));
	}
};

subtest 'access log: combined_ssl' => sub {
	my $line = log_line('access.log', '/?full-13');
	like($line, qr{^127\.0\.0\.1 - - \[[^\]]+\] "GET /\?full-13 HTTP/1\.1" 200 \d+ "-" "-" "TLSv1\.3" "TLS_AES_256_GCM_SHA384" "\."$},
	    'a full TLS 1.3 handshake: "TLSv1.3" "TLS_AES_256_GCM_SHA384" "."');
	$line = log_line('access.log', '/?resumed-13');
	like($line, qr{"GET /\?resumed-13 HTTP/1\.1" 200 \d+ "-" "-" "TLSv1\.3" "TLS_AES_256_GCM_SHA384" "r"$},
	    'a resumed session: "r"');
	$line = log_line('access.log', '/?full-12');
	like($line, qr{"GET /\?full-12 HTTP/1\.1" 200 \d+ "-" "-" "TLSv1\.2" "ECDHE-ECDSA-AES256-GCM-SHA384" "\."$},
	    'TLS 1.2: "TLSv1.2" and the OpenSSL name of the cipher');
	$line = log_line('access.log', '/?resumed-12');
	like($line, qr{"TLSv1\.2" "ECDHE-ECDSA-AES256-GCM-SHA384" "r"$},
	    'TLS 1.2 resumed: "r"');
	my $r = s_client($https, ca => $CA, servername => 'b.example',
	    path => '/in-b');
	$line = log_line('access-b.log', '/in-b');
	like($line, qr{"GET /in-b HTTP/1\.1" 404 \d+ "-" "-" "TLSv1\.3" "\S+" "\."$},
	    'block b logs to its own access log');
	is(log_line('access.log', '/in-b'), '', '... and not to block a\'s');
};

subtest 'plain HTTP on the TLS port, TLS on the plain port' => sub {
	my $before = counters() or return;
	my $x = Forkloop::Raw::exchange($https, "GET / HTTP/1.1\r\n"
	    . "Host: localhost\r\n\r\n", wait_close => 3);
	my $r = $x->{responses}[0];
	is($r && $r->{status}, 400, 'plain HTTP to the TLS port: 400')
	    or diag($x->{error} // '');
	like($r && $r->{body}, qr/\Q$PLAIN_400\E/,
	    "the body says \"$PLAIN_400\"");
	ok($x->{closed}, 'then the connection is closed');

	# The same, a byte at a time: the server must not decide on the
	# first byte alone.
	$x = Forkloop::Raw::exchange($https, "GET /?pieces HTTP/1.1\r\n"
	    . "Host: localhost\r\n\r\n", pieces => 1, gap => 0.005,
	    wait_close => 3, timeout => 10);
	$r = $x->{responses}[0];
	is($r && $r->{status}, 400, 'the same, one byte per write: 400')
	    or diag($x->{error} // '');
	like($r && $r->{body}, qr/\Q$PLAIN_400\E/, '... with that body');

	# Plain bytes to the TLS echo port are not echoed in the clear.
	my $c = Forkloop::Raw->new(port => $s->port('echo'));
	$c->send("hello, in the clear\n");
	ok($c->wait_closed(3), 'plain bytes to the TLS echo port: closed');
	unlike($c->buffer, qr/in the clear/, '... and not echoed');
	$c->close;

	my $hello = eval { client_hello_bytes() };
	ok($hello && $hello =~ /^\x16\x03/, 'a ClientHello (from s_client)')
	    or diag($@);
	$x = Forkloop::Raw::exchange($s->port('http'), $hello // "\x16\x03\x01",
	    wait_close => 3);
	$r = $x->{responses}[0];
	is($r && $r->{status}, 400, 'a ClientHello to the plain port: 400')
	    or diag($x->{error} // '');
	ok($x->{closed}, 'then the connection is closed');

	# The TLS port still works.
	my $s_r = s_client($https, ca => $CA);
	is($s_r->{http} && $s_r->{http}{status}, 200, 'the TLS port still '
	    . 'serves') or diag(show($s_r));
	my $after = counters();
	is($after && $after->{tls_resumed} - $before->{tls_resumed}, 0,
	    'nothing resumed');
};

subtest 'counters: a client that rejects the certificate' => sub {
	my $before = counters() or return;
	my $r = s_client($https, ca => $other_root->{cert});
	ok($r->{exit} && $r->{verify}, 'a client trusting another root gives up')
	    or diag(show($r));
	ok(!$r->{http}, 'and sends no request') or diag(show($r));
	like($r->{out}, qr/unable to get local issuer certificate|certificate verify failed/,
	    'the client says the certificate does not verify');
	my $after = counters_when(sub { $_[0]{tls_failed_certificate}
	    > $before->{tls_failed_certificate} });
	delta_ok($before, $after, { tls_failed_certificate => 1,
	    tls_failed_protocol => 0, tls_failed_cipher => 0,
	    tls_handshakes => 0 },
	    'tls_failed_certificate +1 (the client\'s alert unknown_ca)');
};

subtest '/status over TLS, JSON and Prometheus' => sub {
	my $st = tls_status_json($https, ca => $CA);
	ok($st, 'GET /status over TLS: JSON') or return;
	my $t = $st->{totals} || {};
	my @missing = grep { !defined $t->{$_} || $t->{$_} !~ /^\d+\z/ }
	    @COUNTERS;
	is(join(' ', @missing), '', 'totals has every tls_* counter, a '
	    . 'number') or diag($st->{_raw});
	cmp_ok($t->{tls_handshakes} // 0, '>=', 30, 'tls_handshakes counts '
	    . 'this file\'s handshakes');
	cmp_ok($t->{tls_resumed} // 0, '>=', 18, 'tls_resumed too');
	cmp_ok($t->{tls_failed_protocol} // 0, '>=', 2, 'tls_failed_protocol');
	cmp_ok($t->{tls_failed_cipher} // 0, '>=', 2, 'tls_failed_cipher');
	cmp_ok($t->{tls_failed_certificate} // 0, '>=', 1,
	    'tls_failed_certificate');
	is($t->{tls_failed_timeout}, 0, 'tls_failed_timeout: none here');
	SKIP: {
		skip 'the kernel has the tls ULP: tls_ktls is tested in '
		    . 'tls_hostile.py', 1 if ktls_available();
		is($t->{tls_ktls}, 0, 'tls_ktls: 0, since the kernel has no tls '
		    . 'ULP (/proc/sys/net/ipv4/tcp_available_ulp)');
	}

	my $c = curl($https, ca => $CA, paths => ['/status?format=prometheus']);
	my $tr = $c->{transfers}[0];
	is($tr->{code}, 200, '?format=prometheus over TLS: 200')
	    or diag($c->{stderr});
	my $text = $tr->{body} // '';
	like($text, qr/^# TYPE forkloop_tls_handshakes_total counter$/m,
	    'forkloop_tls_handshakes_total is a counter');
	like($text, qr/^# TYPE forkloop_tls_handshake_failures_total counter$/m,
	    'forkloop_tls_handshake_failures_total is a counter');
	my $hs = prometheus_sum($text, 'forkloop_tls_handshakes_total');
	is($hs, ($t->{tls_handshakes} // 0) + 1, 'handshakes: the JSON\'s + 1 '
	    . '(this request\'s own)');
	for my $reason (qw(protocol cipher certificate timeout other)) {
		my $v = prometheus_sum($text,
		    'forkloop_tls_handshake_failures_total',
		    qr/reason="\Q$reason\E"/);
		is($v, $t->{"tls_failed_$reason"}, "failures{reason=\"$reason\"}:"
		    . " the JSON's tls_failed_$reason");
	}
};

subtest 'echo over TLS' => sub {
	my $c = Forkloop::TLS::Client->new(port => $s->port('echo'), ca => $CA);
	$c->send("hello over TLS\n");
	is($c->read_until(qr/\n/, 5), "hello over TLS\n", 'a line comes back')
	    or diag('stderr: ' . $c->stderr);
	my $data = pseudo_random_bytes(64 * 1024, 5);
	$c->send($data);
	my $back = $c->read_bytes(length $data, 10);
	ok(defined $back && $back eq $data, '64 KiB of binary come back')
	    or diag('got ' . length($c->buffer) . ' bytes');
	$c->close;
};

subtest 'chat over TLS' => sub {
	my @c = map { Forkloop::TLS::Client->new(port => $s->port('chat'),
	    ca => $CA) } 1 .. 2;
	my @name;
	for my $i (0, 1) {
		my $w = $c[$i]->read_until(qr/^\* welcome, (\S+)\n/m, 10);
		($name[$i]) = ($w // '') =~ /^\* welcome, (\S+)$/m;
		ok(defined $name[$i], "client $i is welcomed")
		    or diag('stderr: ' . $c[$i]->stderr);
	}
	return unless defined $name[0] && defined $name[1];
	$c[0]->send("hello from zero\n");
	ok($c[1]->read_until(qr/^\Q$name[0]\E: hello from zero\n/m, 10),
	    'client 1 hears client 0') or diag(printable($c[1]->buffer));
	$c[1]->send("and from one\n");
	ok($c[0]->read_until(qr/^\Q$name[1]\E: and from one\n/m, 10),
	    'client 0 hears client 1') or diag(printable($c[0]->buffer));
	$_->close for @c;
};

###########################################################################
# A second forkloop with its own ticket keys: blocks with tickets on
# (defaults), tickets off, and a TLS 1.2-only block with one curve and a
# server cipher preference.

my $s2 = Forkloop->new(files => { 'www/index.html' => "second\n" },
    config => <<"CONF");
workers 1;
shutdown_timeout 5s;

http {
    listen 127.0.0.1:%%PORT_T%% ssl;
    server_name localhost;
    ssl_certificate $cert{a}{cert};
    ssl_certificate_key $cert{a}{key};
    ssl_certificate $cert{arsa}{cert};
    ssl_certificate_key $cert{arsa}{key};
    root %%TESTDIR%%/www;
    route /status status;
}

http {
    listen 127.0.0.1:%%PORT_N%% ssl;
    server_name localhost;
    ssl_certificate $cert{a}{cert};
    ssl_certificate_key $cert{a}{key};
    ssl_session_tickets off;
    root %%TESTDIR%%/www;
}

http {
    listen 127.0.0.1:%%PORT_E%% ssl;
    server_name localhost;
    ssl_certificate $cert{a}{cert};
    ssl_certificate_key $cert{a}{key};
    ssl_session_timeout 1s;
    root %%TESTDIR%%/www;
}

http {
    listen 127.0.0.1:%%PORT_P%% ssl;
    server_name localhost;
    ssl_certificate $cert{a}{cert};
    ssl_certificate_key $cert{a}{key};
    ssl_protocols TLSv1.2;
    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384;
    ssl_prefer_server_ciphers on;
    ssl_ecdh_curve P-384;
    ssl_session_timeout 1m;
    root %%TESTDIR%%/www;
}
CONF

subtest 'a ticket of another forkloop: a full handshake' => sub {
	my $r = s_client($s2->port('t'), ca => $CA, args => ['-sess_in',
	    sess('13')]);
	ok($r->{handshake}, 'handshake') or diag(show($r));
	is($r->{reused}, 0, 'New, not Reused');
	is($r->{http} && $r->{http}{body}, "second\n", 'and served');
	is($r->{alert}, undef, 'no alert');
};

subtest 'ssl_session_tickets off' => sub {
	my $port = $s2->port('n');
	unlink sess('n13'), sess('n12');
	# OpenSSL may still send a TLS 1.3 client a ticket that is only a
	# session ID (as nginx does with ssl_session_tickets off): what
	# matters is that nothing the client keeps resumes.
	my $r = s_client($port, ca => $CA, args => ['-tls1_3', '-sess_out',
	    sess('n13')]);
	ok($r->{handshake}, 'TLS 1.3: handshake') or diag(show($r));
	if (-s sess('n13')) {
		$r = s_client($port, ca => $CA, args => ['-tls1_3', '-sess_in',
		    sess('n13')]);
		ok($r->{handshake}, 'TLS 1.3: -sess_in: handshake')
		    or diag(show($r));
		is($r->{reused}, 0, 'TLS 1.3: -sess_in of what it gave: New')
		    or diag(sess_info(sess('n13'))->{text});
	} else {
		pass('TLS 1.3: no session to save') for 1 .. 2;
	}
	$r = s_client($port, ca => $CA, args => ['-tls1_3', '-sess_in',
	    sess('13')]);
	ok($r->{handshake}, 'TLS 1.3: a ticket of the other server: '
	    . 'handshake') or diag(show($r));
	is($r->{reused}, 0, 'TLS 1.3: ... New') or diag(show($r));

	$r = s_client($port, ca => $CA, args => ['-tls1_2', '-sess_out',
	    sess('n12')]);
	ok($r->{handshake}, 'TLS 1.2: handshake') or diag(show($r));
	my $info = sess_info(sess('n12'));
	if ($info) {
		ok(!$info->{ticket}, 'TLS 1.2: no ticket in the session')
		    or diag($info->{text});
		$r = s_client($port, ca => $CA, args => ['-tls1_2', '-sess_in',
		    sess('n12')]);
		ok($r->{handshake}, 'TLS 1.2: -sess_in: handshake')
		    or diag(show($r));
		is($r->{reused}, 0, 'TLS 1.2: -sess_in: New');
	} else {
		pass('TLS 1.2: neither a ticket nor a session ID: nothing '
		    . 'to resume') for 1 .. 3;
	}
};

subtest 'ssl_session_timeout 1s: an older ticket is not taken' => sub {
	my $port = $s2->port('e');
	my $r = s_client($port, ca => $CA, args => ['-sess_out', sess('e')]);
	ok($r->{handshake}, 'handshake') or diag(show($r));
	my $t0 = time;
	is(sess_info(sess('e')) && sess_info(sess('e'))->{lifetime}, 1,
	    'ticket lifetime hint 1');
	$r = s_client($port, ca => $CA, args => ['-sess_in', sess('e')]);
	is($r->{reused}, 1, 'at once: Reused') or diag(show($r));
	sleep(2.3 - (time - $t0)) if time - $t0 < 2.3;
	$r = s_client($port, ca => $CA, args => ['-sess_in', sess('e')]);
	ok($r->{handshake}, 'after 2.3 s: handshake') or diag(show($r));
	is($r->{reused}, 0, 'after 2.3 s: New') or diag(show($r));
};

subtest 'protocols, ciphers, curve, ticket lifetime as configured' => sub {
	my $p = $s2->port('p');
	my $t = $s2->port('t');
	my $r = s_client($p, ca => $CA, args => ['-tls1_3']);
	ok(!$r->{handshake}, 'ssl_protocols TLSv1.2: -tls1_3 refused')
	    or diag(show($r));
	is($r->{alert}, 70, 'with alert protocol_version') or diag(show($r));

	my $offer = 'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256';
	$r = s_client($p, ca => $CA, args => ['-tls1_2', '-cipher', $offer,
	    '-sess_out', $s2->path('p.sess')]);
	is($r->{cipher}, 'ECDHE-ECDSA-AES128-GCM-SHA256',
	    'ssl_prefer_server_ciphers on: the server\'s first choice')
	    or diag(show($r));
	like($r->{temp_key} // '', qr/secp384r1|P-384/,
	    'ssl_ecdh_curve P-384: the key exchange uses P-384')
	    or diag(show($r));
	my $info = sess_info($s2->path('p.sess'));
	is($info && $info->{lifetime}, 60, 'ssl_session_timeout 1m: '
	    . 'ticket lifetime hint 60');

	$r = s_client($t, ca => $CA, args => ['-tls1_2', '-cipher', $offer]);
	is($r->{cipher}, 'ECDHE-ECDSA-AES256-GCM-SHA384',
	    'ssl_prefer_server_ciphers off (default): the client\'s choice')
	    or diag(show($r));
	like($r->{temp_key} // '', qr/X25519/,
	    'default curves: X25519 first') or diag(show($r));

	$r = s_client($t, ca => $CA, args => ['-tls1_2', '-curves', 'P-521']);
	ok(!$r->{handshake}, 'default curves: a client with P-521 only is '
	    . 'refused') or diag(show($r));
	$r = s_client($t, ca => $CA, args => ['-curves', 'P-256']);
	ok($r->{handshake}, 'default curves: P-256 is accepted')
	    or diag(show($r));
};

subtest 'sslscan: only TLS 1.2+, AEAD with ECDHE, strong groups' => sub {
	my $scan = which('sslscan');
	plan skip_all => 'sslscan is not installed (Debian package sslscan)'
	    unless $scan;
	my $r = run_cmd([$scan, '--no-colour', '--sni-name=localhost',
	    '127.0.0.1:' . $s2->port('t')], timeout => 90);
	is($r->{exit}, 0, 'sslscan ran') or diag($r->{stderr});
	my $out = $r->{stdout};
	my %proto = $out =~ /^(SSLv[23]|TLSv1\.[0-3])\s+(enabled|disabled)/mg;
	is(join(' ', map { "$_ " . ($proto{$_} // '?') }
	    qw(SSLv2 SSLv3 TLSv1.0 TLSv1.1 TLSv1.2 TLSv1.3)),
	    'SSLv2 disabled SSLv3 disabled TLSv1.0 disabled TLSv1.1 disabled '
	    . 'TLSv1.2 enabled TLSv1.3 enabled',
	    'protocols: TLS 1.2 and 1.3 only') or diag($out);
	my @ciphers = $out =~ /^(?:Preferred|Accepted)\s+(TLSv1\.[23])\s+\d+ bits\s+(\S+)/mg;
	my (@seen, @bad);
	while (my ($v, $c) = splice(@ciphers, 0, 2)) {
		push @seen, $c;
		push @bad, "$v $c" unless $c =~ /GCM|CHACHA20|CCM/
		    && ($v eq 'TLSv1.3' || $c =~ /^ECDHE-/);
	}
	cmp_ok(scalar @seen, '>=', 4, 'sslscan found the ciphers')
	    or diag($out);
	is(join(', ', @bad), '', 'every cipher is AEAD (no CBC, RC4, 3DES), '
	    . 'every TLS 1.2 one ECDHE');
	like(join(' ', @seen), qr/ECDHE-RSA-\S+GCM/,
	    'the RSA certificate\'s suites too');
	my @groups = $out =~ /^(TLSv1\.[23])\s+(\d+) bits\s+(\S+)/mg;
	my (%g, @weak);
	while (my ($v, $bits, $name) = splice(@groups, 0, 3)) {
		next if $name =~ /[-_](?:SHA|GCM|CBC)/;	# a cipher line
		$g{$name} = 1;
		push @weak, "$v $name $bits bits" if $bits < 128;
	}
	ok(scalar keys %g, 'sslscan lists key exchange groups') or diag($out);
	is(join(', ', @weak), '', 'no group weaker than P-256 / X25519');
	ok(!grep({ /^(?:secp1|secp224|sect|brainpool|ffdhe)/ } keys %g),
	    'no small or odd curve (' . join(' ', sort keys %g) . ')');
	unlike($out, qr/Insecure session renegotiation supported/i,
	    'no insecure renegotiation');
};

is($s2->stop, 0, 'the second server stops cleanly');
$s2->log_clean_ok([]);

###########################################################################
# ssl_session_ticket_rotate 1s: a third forkloop whose master makes a new
# ticket key every second.

subtest 'ssl_session_ticket_rotate: new keys, the previous still resume, '
    . 'old ones expire' => sub {
	my $s3 = Forkloop->new(files => { 'www/index.html' => "third\n" },
	    config => <<"CONF");
workers 2;
shutdown_timeout 5s;
ssl_session_ticket_rotate 1s;

http {
    listen 127.0.0.1:%%PORT_R%% ssl;
    server_name localhost;
    ssl_certificate $cert{a}{cert};
    ssl_certificate_key $cert{a}{key};
    root %%TESTDIR%%/www;
}
CONF
	my $port = $s3->port('r');
	my $f0 = $s3->path('t0.sess');
	my $f1 = $s3->path('t1.sess');
	my $r = s_client($port, ca => $CA, args => ['-sess_out', $f0]);
	my $t0 = time;		# the ticket is older than this
	my $i0 = sess_info($f0);
	ok($i0 && $i0->{key_name}, 'a ticket') or diag(show($r));
	sleep(1.6 - (time - $t0)) if time - $t0 < 1.6;
	$r = s_client($port, ca => $CA, args => ['-sess_out', $f1]);
	my $i1 = sess_info($f1);
	ok($i1 && $i1->{key_name}, 'a ticket 1.6 s later') or diag(show($r));
	isnt($i1 && $i1->{key_name}, $i0 && $i0->{key_name},
	    'sealed with another key (name ' . ($i1 && $i1->{key_name} // '?')
	    . ')');
	$r = s_client($port, ca => $CA, args => ['-sess_in', $f0]);
	is($r->{reused}, 1, 'the ticket of the previous key still resumes')
	    or diag(show($r));
	my @not = grep { !$_->{reused} } map { s_client($port, ca => $CA,
	    args => ['-sess_in', $f1]) } 1 .. 8;
	is(scalar @not, 0, 'the new key\'s ticket resumes on both workers '
	    . '(8 tries)') or diag(show($not[0]));

	# nginx and h2o keep a few keys for decryption; 7 rotations later
	# the first one must be gone, or rotating would protect nothing.
	sleep(7.2 - (time - $t0)) if time - $t0 < 7.2;
	$r = s_client($port, ca => $CA, args => ['-sess_in', $f0]);
	ok($r->{handshake}, '7 rotations later: handshake') or diag(show($r));
	is($r->{reused}, 0, '7 rotations later: the first ticket is not '
	    . 'taken any more') or diag(show($r));
	is($s3->stop, 0, 'the third server stops cleanly');
	$s3->log_clean_ok([]);
};

###########################################################################
# Reloads of the main server.

subtest 'reload: tickets survive, a new certificate is served' => sub {
	my $r = s_client($https, ca => $CA, args => ['-sess_out',
	    sess('pre-reload')]);
	ok($r->{handshake}, 'a session before the reload') or diag(show($r));
	$s->signal('HUP');
	my @new = $s->wait_workers(2, exclude => \@workers, timeout => 15);
	is(scalar @new, 2, 'HUP: two new workers');
	@workers = @new if @new == 2;
	$r = s_client($https, ca => $CA, args => ['-sess_in',
	    sess('pre-reload')]);
	is($r->{reused}, 1, 'a ticket of the old workers resumes with the '
	    . 'new ones') or diag(show($r));
	$r = s_client($https, ca => $CA, args => ['-tls1_2', '-sess_in',
	    sess('12')]);
	is($r->{reused}, 1, 'so does a TLS 1.2 ticket of the first test')
	    or diag(show($r));

	copy($cert{a2}{cert}, $s->path('a.crt')) or die "copy: $!";
	copy($cert{a2}{key}, $s->path('a.key')) or die "copy: $!";
	$r = s_client($https, ca => $CA);
	is($r->{cn}, 'localhost', 'files replaced, no HUP yet: the old '
	    . 'certificate');
	$s->signal('HUP');
	@new = $s->wait_workers(2, exclude => \@workers, timeout => 15);
	is(scalar @new, 2, 'HUP: two new workers');
	@workers = @new if @new == 2;
	$r = s_client($https, ca => $CA);
	is($r->{cn}, 'reloaded.localhost', 'the new certificate is served')
	    or diag(show($r));
	my $c = curl($https, ca => $CA, paths => ['/']);
	is($c->{transfers}[0]{code}, 200, 'and curl verifies it')
	    or diag($c->{stderr});
	$r = s_client($https, ca => $CA, servername => 'b.example');
	is($r->{cn}, 'b.example', 'block b keeps its own');
};

subtest 'a broken certificate or key: -t says where, a reload keeps '
    . 'the old workers' => sub {
	my $conf = $s->conf_file;
	my $good_crt = slurp($s->path('a.crt'));
	my $good_key = slurp($s->path('a.key'));
	my @cases = (
		['a certificate file that is no PEM', 'a.crt',
		    "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n"
		    . "-----END CERTIFICATE-----\n", [$LINE_A_CERT]],
		['an empty certificate file', 'a.crt', '', [$LINE_A_CERT]],
		['a key file that is no key', 'a.key', "garbage\n",
		    [$LINE_A_KEY]],
		['a key that is not the certificate\'s', 'a.key',
		    slurp($cert{b}{key}), [$LINE_A_CERT, $LINE_A_KEY]],
	);
	for my $case (@cases) {
		my ($name, $file, $content, $lines) = @$case;
		$s->write_file($file, $content);
		my $r = run_forkloop(args => ['-t', '-c', $conf]);
		isnt($r->{exit} // 0, 0, "$name: -t fails");
		my ($line) = $r->{stderr} =~ /\Qforkloop.conf\E:(\d+): \S/;
		ok(defined $line && grep({ $_ == $line } @$lines),
		    "$name: stderr says forkloop.conf:" . join('|', @$lines)
		    . ': ...') or diag("stderr: $r->{stderr}");

		my $mark = $s->log_mark;
		$s->signal('HUP');
		my $said = wait_for(sub {
			$s->log_since($mark) =~ /forkloop\.conf:\d+:/ }, 10);
		ok($said, "$name: HUP: the error log says the reload failed")
		    or diag($s->log_since($mark));
		push @expected_errors, qr/\Q$_\E/
		    for grep { /\S/ } split /\n/, $s->log_since($mark);
		is(join(' ', $s->worker_pids), join(' ', @workers),
		    "$name: HUP: the workers stay");
		my $sr = s_client($https, ca => $CA);
		is($sr->{cn}, 'reloaded.localhost',
		    "$name: HUP: the old certificate is still served")
		    or diag(show($sr));
		$s->write_file('a.crt', $good_crt);
		$s->write_file('a.key', $good_key);
	}
};

subtest 'TLS config errors: FILE:LINE' => sub {
	my $c = $cert{a}{cert};
	my $k = $cert{a}{key};
	my @pair = ("ssl_certificate $c;", "ssl_certificate_key $k;");
	# name, the lines of an http block, the line the error must be
	# reported at (a pattern), or undef: any line of the block.
	my @cases = (
		['ssl_protocols TLSv1.1', [@pair, 'ssl_protocols TLSv1.1;'],
		    qr/ssl_protocols/],
		['ssl_protocols TLSv1 TLSv1.2', [@pair,
		    'ssl_protocols TLSv1 TLSv1.2;'], qr/ssl_protocols/],
		['ssl_protocols SSLv3', [@pair, 'ssl_protocols SSLv3;'],
		    qr/ssl_protocols/],
		['ssl_protocols TLSv9', [@pair, 'ssl_protocols TLSv9;'],
		    qr/ssl_protocols/],
		['an unknown cipher list', [@pair,
		    'ssl_ciphers NO-SUCH-CIPHER;'], qr/ssl_ciphers/],
		['an unknown curve', [@pair, 'ssl_ecdh_curve X25519:P-999;'],
		    qr/ssl_ecdh_curve/],
		['ssl_session_tickets maybe', [@pair,
		    'ssl_session_tickets maybe;'], qr/ssl_session_tickets/],
		['ssl_handshake_timeout 5parsecs', [@pair,
		    'ssl_handshake_timeout 5parsecs;'], qr/ssl_handshake_timeout/],
		['a missing certificate file', ["ssl_certificate $pki/none.crt;",
		    "ssl_certificate_key $k;"], qr/ssl_certificate\s/],
		['ssl_certificate without its key', ["ssl_certificate $c;"],
		    undef],
		['a listen ssl without ssl_certificate', [], undef],
	);
	for my $i (0 .. $#cases) {
		my ($name, $block, $re) = @{ $cases[$i] };
		my $text = "daemon off;\nhttp {\n    listen 127.0.0.1:18443 ssl;\n"
		    . join('', map { "    $_\n" } @$block)
		    . "    root /tmp;\n}\n";
		my $n = () = $text =~ /\n/g;
		my @want = defined $re ? (line_of($text, $re)) : (2 .. $n);
		my $file = $pki_s->write_file("bad-$i.conf", $text);
		my $r = run_forkloop(args => ['-t', '-c', $file]);
		is($r->{exit}, 1, "$name: -t exits 1") or diag("stderr: "
		    . $r->{stderr});
		my ($line) = $r->{stderr} =~ /bad-$i\.conf:(\d+): \S/;
		ok(defined $line && grep({ $_ == $line } @want),
		    "$name: stderr says bad-$i.conf:"
		    . (@want == 1 ? $want[0] : "$want[0]-$want[-1]") . ': ...')
		    or diag("stderr: $r->{stderr}");
	}

	# Blocks on one ssl address must agree on what holds before SNI.
	my $two = "daemon off;\nhttp {\n    listen 127.0.0.1:18443 ssl;\n"
	    . "    server_name a.example;\n    $pair[0]\n    $pair[1]\n"
	    . "    root /tmp;\n}\nhttp {\n    listen 127.0.0.1:18443 ssl;\n"
	    . "    server_name b.example;\n    $pair[0]\n    $pair[1]\n"
	    . "    ssl_protocols TLSv1.3;\n    root /tmp;\n}\n";
	my $file = $pki_s->write_file('bad-shared.conf', $two);
	my $r = run_forkloop(args => ['-t', '-c', $file]);
	is($r->{exit}, 1, 'two blocks on one ssl address, different '
	    . 'ssl_protocols: -t exits 1') or diag("stderr: $r->{stderr}");
	my ($line) = $r->{stderr} =~ /bad-shared\.conf:(\d+): \S/;
	ok(defined $line && $line >= 8 && $line <= 15, '... stderr says '
	    . 'bad-shared.conf:8-15 (the second block): ...')
	    or diag("stderr: $r->{stderr}");

	my $good = $pki_s->write_file('good.conf', "daemon off;\n"
	    . "ssl_session_ticket_rotate 30m;\nhttp {\n"
	    . "    listen 127.0.0.1:18443 ssl;\n"
	    . "    listen 127.0.0.1:18444 ssl proxy_protocol;\n"
	    . "    server_name localhost *.example.com;\n"
	    . "    ssl_certificate $c;\n    ssl_certificate_key $k;\n"
	    . "    ssl_protocols TLSv1.2 TLSv1.3;\n"
	    . "    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:"
	    . "ECDHE-RSA-AES128-GCM-SHA256;\n"
	    . "    ssl_prefer_server_ciphers off;\n"
	    . "    ssl_ecdh_curve X25519:P-256:P-384;\n"
	    . "    ssl_session_tickets on;\n    ssl_session_timeout 5m;\n"
	    . "    ssl_handshake_timeout 10s;\n    ssl_ktls on;\n"
	    . "    root /tmp;\n    access_log $pki/x.log combined_ssl;\n}\n"
	    . "echo {\n    listen 127.0.0.1:18445 ssl;\n"
	    . "    ssl_certificate $c;\n    ssl_certificate_key $k;\n}\n"
	    . "chat {\n    listen 127.0.0.1:18446 ssl;\n"
	    . "    ssl_certificate $c;\n    ssl_certificate_key $k;\n}\n");
	$r = run_forkloop(args => ['-t', '-c', $good]);
	is($r->{exit}, 0, 'every TLS directive with its documented value: '
	    . '-t exits 0') or diag("stderr: $r->{stderr}");
};

subtest 'the server after all this' => sub {
	is(join(' ', $s->worker_pids), join(' ', @workers),
	    'the workers of the last good reload are alive');
	my $c = curl($https, ca => $CA, paths => ['/']);
	is($c->{transfers}[0]{code}, 200, 'it still serves HTTPS')
	    or diag($c->{stderr});
};

is($s->stop, 0, 'stop: exit status 0');
is_deeply([$s->orphans], [], 'no worker outlives the master');
$s->log_clean_ok(\@expected_errors);

done_testing();
