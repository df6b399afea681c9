#!/usr/bin/perl
# proxy_protocol.t: "listen ADDR proxy_protocol;" on an http block.  A
# PROXY header, version 1 (TCP4, TCP6, UNKNOWN) or version 2 (binary,
# built here), comes first and its source address is the one the access
# log shows; a connection without a valid header is closed without a
# response; a listener without proxy_protocol treats "PROXY ..." as a bad
# request.  Then Debian's haproxy in front (send-proxy and send-proxy-v2):
# the access log shows the address haproxy's client connected from.  The
# haproxy part is skipped, saying why, only when haproxy is missing.

use strict;
use warnings;

use Test::More;
use IO::Select;
use IO::Socket::INET;
use Socket qw(IPPROTO_TCP TCP_NODELAY inet_aton inet_pton AF_INET6);
use Time::HiRes qw(time sleep);
use Forkloop qw(wait_for parse_response build_request printable free_port);
use Forkloop::Ops qw(which start_bg);

Forkloop::check_binary();
Forkloop::watchdog(180);

my $index = "proxy_protocol.t index\n";
my $s = Forkloop->new(files => { 'www/index.html' => $index },
    config => { workers => 2, http => {
    listen => ['127.0.0.1:%%PORT_PP%% proxy_protocol',
        '127.0.0.1:%%PORT_HTTP%%'],
    header_timeout => '2s' } });
my $pp = $s->port('pp');
my $plain = $s->port('http');
my @expected_errors;

# One connection: writes each of @{ $o{chunks} } (pausing $o{pause}
# seconds between them), then reads until the server closes or the
# timeout.  Returns { buf, eof, reset, elapsed, error }.
sub exchange {
	my (%o) = @_;
	my $t0 = time;
	my $deadline = $t0 + ($o{timeout} // 5);
	my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $o{port}, Proto => 'tcp', Timeout => 5,
	    $o{local} ? (LocalAddr => $o{local}) : ())
	    or return { error => "connect: $!", buf => '' };
	setsockopt($sock, IPPROTO_TCP, TCP_NODELAY, 1);
	my %r = (buf => '', eof => 0);
	my @chunks = @{ $o{chunks} };
	for my $i (0 .. $#chunks) {
		my $off = 0;
		while ($off < length $chunks[$i]) {
			my $n = syswrite($sock, $chunks[$i], length($chunks[$i])
			    - $off, $off);
			unless (defined $n) {
				$r{error} = "write: $!";
				last;
			}
			$off += $n;
		}
		last if $r{error};
		sleep($o{pause}) if $o{pause} && $i < $#chunks;
	}
	$sock->blocking(0);
	my $sel = IO::Select->new($sock);
	while ((my $left = $deadline - time) > 0) {
		next unless $sel->can_read($left);
		my $n = sysread($sock, my $chunk, 65536);
		if (!defined $n) {
			next if $!{EAGAIN} || $!{EINTR};
			$r{reset} = 1 if $!{ECONNRESET};
			$r{error} //= "read: $!" unless $!{ECONNRESET};
			$r{eof} = 1;
			last;
		}
		if ($n == 0) {
			$r{eof} = 1;
			last;
		}
		$r{buf} .= $chunk;
	}
	close $sock;
	$r{elapsed} = time - $t0;
	return \%r;
}

sub request { build_request(path => $_[0], %{ $_[1] || {} }) }

# The response in an exchange's bytes, or undef.
sub response_of {
	my ($r) = @_;
	my ($resp) = eval { parse_response($r->{buf}, eof => $r->{eof}) };
	return $resp;
}

# The access log line of the request for $path (waits for the worker to
# write it out).
sub log_line {
	my ($path) = @_;
	my $line;
	wait_for(sub {
		($line) = grep { m{"GET \Q$path\E HTTP/} }
		    split /\n/, $s->read_file('access.log') // '';
		return defined $line;
	}, 10);
	return $line // '';
}

sub v2_header {
	my ($ver_cmd, $fam, $block) = @_;
	return "\r\n\r\n\0\r\nQUIT\n" . pack('CCn', $ver_cmd, $fam,
	    length $block) . $block;
}

sub v2_tcp4 {
	my ($src, $dst, $sport, $dport, $tlvs) = @_;
	return v2_header(0x21, 0x11, inet_aton($src) . inet_aton($dst)
	    . pack('nn', $sport, $dport) . ($tlvs // ''));
}

sub v2_tcp6 {
	my ($src, $dst, $sport, $dport, $tlvs) = @_;
	return v2_header(0x21, 0x21, inet_pton(AF_INET6, $src)
	    . inet_pton(AF_INET6, $dst) . pack('nn', $sport, $dport)
	    . ($tlvs // ''));
}

sub tlv { pack('Cn', $_[0], length $_[1]) . $_[1] }

my @good = (
	['v1 TCP4', '/?v1-tcp4', '192.0.2.10',
	    ["PROXY TCP4 192.0.2.10 192.0.2.20 56324 80\r\n"]],
	['v1 TCP6', '/?v1-tcp6', '2001:db8::10',
	    ["PROXY TCP6 2001:db8::10 2001:db8::20 56324 80\r\n"]],
	['v1 TCP6, full form', '/?v1-tcp6-full', '2001:db8:1:2:3:4:5:6',
	    ["PROXY TCP6 2001:0db8:0001:0002:0003:0004:0005:0006 ::1 1 2\r\n"]],
	['v1 UNKNOWN (the connection\'s own address)', '/?v1-unknown',
	    '127.0.0.1', ["PROXY UNKNOWN\r\n"]],
	['v1 UNKNOWN with addresses, ignored', '/?v1-unknown-more',
	    '127.0.0.1', ["PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"]],
	['v1 header in byte-sized writes', '/?v1-split', '203.0.113.99',
	    [split //, "PROXY TCP4 203.0.113.99 203.0.113.1 1024 8080\r\n"]],
	['v2 TCP4', '/?v2-tcp4', '198.51.100.7',
	    [v2_tcp4('198.51.100.7', '198.51.100.8', 40000, 80)]],
	['v2 TCP6', '/?v2-tcp6', '2001:db8::7',
	    [v2_tcp6('2001:db8::7', '2001:db8::8', 40000, 443)]],
	['v2 TCP4 with TLVs', '/?v2-tlv', '198.51.100.77',
	    [v2_tcp4('198.51.100.77', '198.51.100.8', 1, 2,
	    tlv(0x02, 'example.com') . tlv(0x04, ''))]],
	['v2 LOCAL (the connection\'s own address)', '/?v2-local',
	    '127.0.0.1', [v2_header(0x20, 0x00, '')]],
	['v2 header in byte-sized writes', '/?v2-split', '198.51.100.200',
	    [split //, v2_tcp4('198.51.100.200', '198.51.100.8', 5, 6)]],
);

subtest 'a valid header, then a request' => sub {
	for my $case (@good) {
		my ($name, $path, $addr, $header) = @$case;
		my $split = @$header > 1;
		my $r = exchange(port => $pp, pause => $split ? 0.005 : 0,
		    chunks => [@$header, request($path)]);
		my $resp = response_of($r);
		is($resp && $resp->{status}, 200, "$name: 200")
		    or diag(printable($r->{buf}) . ($r->{error} // ''));
	}
	# The workers write their access log out in a while: look once.
	for my $case (@good) {
		my ($name, $path, $addr) = @$case;
		like(log_line($path), qr/^\Q$addr\E /,
		    "$name: the access log line starts with $addr");
	}
};

subtest 'keep-alive: one header, several requests' => sub {
	my $r = exchange(port => $pp, chunks => [
	    "PROXY TCP4 192.0.2.55 192.0.2.1 4000 80\r\n"
	    . request('/?ka-1', { keepalive => 1 })
	    . request('/?ka-2', { keepalive => 1 })
	    . "PROXY TCP4 192.0.2.66 192.0.2.1 4000 80\r\n"
	    . request('/?ka-3')]);
	my @status = $r->{buf} =~ m{^HTTP/1\.1 (\d{3}) }mg;
	is("@status", '200 200 400', 'two answers, then a second header is '
	    . 'a bad request (400)') or diag(printable($r->{buf}, 400));
	like(log_line('/?ka-1'), qr/^192\.0\.2\.55 /, 'first request logged '
	    . 'with the header\'s address');
	like(log_line('/?ka-2'), qr/^192\.0\.2\.55 /, 'and the second');
};

my @bad = (
	['no header', request('/?no-header')],
	['an empty line', "\r\n" . request('/?empty-line')],
	['lower case', "proxy TCP4 192.0.2.1 192.0.2.2 1 2\r\n"
	    . request('/?lower')],
	['garbage', "HELLO WORLD\r\n" . request('/?garbage')],
	['v1 unknown protocol', "PROXY UDP4 192.0.2.1 192.0.2.2 1 2\r\n"
	    . request('/?udp4')],
	['v1 five octets', "PROXY TCP4 192.0.2.1.5 192.0.2.2 1 2\r\n"
	    . request('/?five')],
	['v1 leading zero', "PROXY TCP4 192.0.2.01 192.0.2.2 1 2\r\n"
	    . request('/?zero')],
	['v1 port too big', "PROXY TCP4 192.0.2.1 192.0.2.2 65536 2\r\n"
	    . request('/?port')],
	['v1 two spaces', "PROXY  TCP4 192.0.2.1 192.0.2.2 1 2\r\n"
	    . request('/?spaces')],
	['v1 LF only', "PROXY TCP4 192.0.2.1 192.0.2.2 1 2\n"
	    . request('/?lf')],
	['v1 IPv6 in TCP4', "PROXY TCP4 2001:db8::1 192.0.2.2 1 2\r\n"
	    . request('/?mixed')],
	['v1 line over 107 bytes', "PROXY UNKNOWN " . ('x' x 120) . "\r\n"
	    . request('/?long')],
	['v2 version 1', v2_header(0x11, 0x11, "\0" x 12)
	    . request('/?v2-version')],
	['v2 command 2', v2_header(0x22, 0x11, "\0" x 12)
	    . request('/?v2-command')],
	['v2 family 4', v2_header(0x21, 0x41, "\0" x 12)
	    . request('/?v2-family')],
	['v2 TCP4 block too short', v2_header(0x21, 0x11, "\0" x 8)
	    . request('/?v2-short')],
	['v2 broken TLV', v2_tcp4('192.0.2.1', '192.0.2.2', 1, 2,
	    "\x02\x00\x09abc") . request('/?v2-tlv-bad')],
	['v2 bad signature', "\r\n\r\n\0\r\nQUIT\r" . pack('CCn', 0x21, 0x11,
	    12) . ("\0" x 12) . request('/?v2-sig')],
);

subtest 'no valid header: closed without a response' => sub {
	for my $case (@bad) {
		my ($name, $bytes) = @$case;
		my $r = exchange(port => $pp, chunks => [$bytes], timeout => 5);
		ok($r->{eof} && $r->{elapsed} < 1.5,
		    "$name: the connection is closed at once")
		    or diag("eof $r->{eof}, after $r->{elapsed} s");
		is(printable($r->{buf}), '', "$name: nothing was sent back");
	}
	# Nothing, or half a header, then silence: header_timeout (2s).
	for my $case (['silence', ''],
	    ['half a v1 header', 'PROXY TCP4 192.0.2.1 19'],
	    ['half a v2 header', substr(v2_tcp4('192.0.2.1', '192.0.2.2',
	    1, 2), 0, 20)]) {
		my ($name, $bytes) = @$case;
		my $r = exchange(port => $pp, chunks => [$bytes], timeout => 8);
		ok($r->{eof} && $r->{elapsed} < 6,
		    "$name: closed within header_timeout")
		    or diag("eof $r->{eof}, after $r->{elapsed} s");
		is(printable($r->{buf}), '', "$name: nothing was sent back");
	}
	my @paths = map { $_->[1] =~ m{GET (\S+)} } @bad;
	my $log = $s->read_file('access.log') // '';
	ok(!grep({ $log =~ m{"GET \Q$_\E } } @paths),
	    'none of their requests was served');
};

subtest 'a listener without proxy_protocol' => sub {
	my $r = exchange(port => $plain, chunks => [
	    "PROXY TCP4 192.0.2.10 192.0.2.20 56324 80\r\n"
	    . request('/?plain-proxy')]);
	my $resp = response_of($r);
	is($resp && $resp->{status}, 400, '"PROXY ..." is a bad request: 400')
	    or diag(printable($r->{buf}));
	$r = exchange(port => $plain, chunks => [request('/?plain')]);
	$resp = response_of($r);
	is($resp && $resp->{status}, 200, 'a plain request: 200');
	like(log_line('/?plain'), qr/^127\.0\.0\.1 /,
	    'logged with the peer\'s address');
	$r = exchange(port => $plain, chunks => [
	    v2_tcp4('198.51.100.99', '198.51.100.8', 1, 2)
	    . request('/?plain-v2')]);
	$resp = response_of($r);
	ok(!$r->{buf} || ($resp && $resp->{status} == 400),
	    'a v2 header is not taken either (400 or closed)')
	    or diag(printable($r->{buf}));
	unlike($s->read_file('access.log') // '', qr/^198\.51\.100\.99 /m,
	    'and its address is not logged');
};

subtest 'behind haproxy' => sub {
	my $haproxy = which('haproxy') // (-x '/usr/sbin/haproxy'
	    ? '/usr/sbin/haproxy' : undef);
	plan skip_all => 'haproxy is missing (Debian package haproxy)'
	    unless $haproxy;
	my ($fe1, $fe2) = (free_port(), free_port());
	my $cfg = $s->write_file('haproxy.cfg', <<"CFG");
global
    maxconn 200

defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s

frontend fe_v1
    bind 127.0.0.1:$fe1
    default_backend forkloop_v1

frontend fe_v2
    bind 127.0.0.1:$fe2
    default_backend forkloop_v2

backend forkloop_v1
    server s1 127.0.0.1:$pp send-proxy

backend forkloop_v2
    server s2 127.0.0.1:$pp send-proxy-v2
CFG
	my $check = Forkloop::Ops::run_cmd([$haproxy, '-c', '-f', $cfg],
	    timeout => 30);
	is($check->{exit}, 0, 'haproxy -c accepts its config')
	    or diag($check->{stdout} . $check->{stderr});
	my $hlog = $s->path('haproxy.log');
	my $h = start_bg([$haproxy, '-f', $cfg, '-db'], log => $hlog);
	my $up = wait_for(sub {
		return 'exited' unless $h->alive;
		for my $p ($fe1, $fe2) {
			my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
			    PeerPort => $p, Proto => 'tcp', Timeout => 1)
			    or return 0;
			close $c;
		}
		return 'up';
	}, 15);
	is($up, 'up', 'haproxy runs in the foreground and listens')
	    or diag($h->log_text);

	my @logged;
	for my $case (['send-proxy (v1)', $fe1, 'v1'],
	    ['send-proxy-v2', $fe2, 'v2']) {
		my ($name, $port, $tag) = @$case;
		# From 127.0.0.1, as the client would be on this machine.
		my $path = "/?via-haproxy-$tag";
		my $r = exchange(port => $port, chunks => [request($path)],
		    timeout => 10);
		my $resp = response_of($r);
		is($resp && $resp->{status}, 200, "$name: 200 through haproxy")
		    or diag(printable($r->{buf}) . ($r->{error} // ''));
		is($resp && $resp->{body}, $index, "$name: the index page");
		push @logged, [$path, '127.0.0.1', "$name: the access log "
		    . 'shows 127.0.0.1'];

		# From 127.0.0.2: haproxy itself connects from 127.0.0.1,
		# so only the header can tell forkloop this address.
		$path = "/?via-haproxy-$tag-from-127.0.0.2";
		$r = exchange(port => $port, chunks => [request($path)],
		    local => '127.0.0.2', timeout => 10);
		$resp = response_of($r);
		is($resp && $resp->{status}, 200,
		    "$name: 200 for a client on 127.0.0.2")
		    or diag(printable($r->{buf}) . ($r->{error} // ''));
		push @logged, [$path, '127.0.0.2', "$name: the access log "
		    . 'shows the client\'s 127.0.0.2, not haproxy\'s 127.0.0.1'];
	}
	for my $l (@logged) {
		my ($path, $addr, $name) = @$l;
		like(log_line($path), qr/^\Q$addr\E /, $name);
	}

	# Several clients at once through one haproxy.
	my @res = Forkloop::exchange_many(port => $fe2, timeout => 20,
	    requests => [ map { request("/?many-$_") } 1 .. 20 ]);
	is(scalar(grep { $_->{ok} && $_->{result}{status} == 200 } @res), 20,
	    'twenty requests at once through haproxy: all 200');

	my $status = $h->stop(10);
	ok(!$h->alive, 'haproxy stopped');
	note("haproxy exit status " . ($status // 'none'));
};

is($s->stop, 0, 'QUIT: exit status 0');
is_deeply([$s->orphans], [], 'no worker outlives the master');
$s->log_clean_ok(\@expected_errors);

done_testing();
