#!/usr/bin/perl
# proxy_stream.t: bodies streaming through the reverse proxy (issue 14,
# proxy-spec.md), with the aiohttp application behind it:
#
#   - a 100 MiB download, checked byte for byte (sha256 of the known
#     pattern), its Content-Length kept; streamed: the client gets the
#     first megabytes while the upstream is held back (a gate the test
#     opens on the app directly), so nothing waits for the whole answer;
#     with a client that stops reading, the worker's memory stays bounded
#     (backpressure, not the 100 MiB in memory);
#   - 100 MiB uploads with Content-Length and chunked, counted and hashed
#     by the upstream, the worker's memory bounded meanwhile;
#   - server-sent events with proxy_buffering off: each event reaches the
#     client before the upstream sends the next (the next is gated on it);
#   - chunked answers re-framed: to HTTP/1.1 clients chunked, to an
#     HTTP/1.0 client by the close, two in a row on one connection;
#   - a client aborting mid-upload and mid-download: forkloop stays up,
#     the next request works, and the upstream connection is closed (not
#     returned to the pool: the app sees it close, the next request
#     comes on another).

use strict;
use warnings;

use Test::More;
use Digest::SHA ();
use IO::Select;
use JSON::PP ();
use Time::HiRes qw(time sleep);
use Forkloop qw(wait_for build_request parse_response printable);
use Forkloop::Upstream qw(upstream_python pattern_bytes pattern_sha256);

Forkloop::check_binary();
plan skip_all => 'python3-aiohttp is needed (Debian package python3-aiohttp)'
    unless upstream_python();
Forkloop::watchdog(300);

my $MiB = 1 << 20;
my $BIG = 100 * $MiB;
# What a worker may grow by while 100 MiB pass through it: well under
# the 100 MiB a proxy that held the whole body would need.
my $RSS_BOUND = 40 * $MiB;

my $A = Forkloop::Upstream->start(name => 'a');
my $a = $A->addr;

# Under AddressSanitizer (--enable-sanitizers) freed memory waits in a
# quarantine of 256 MB by default, which would count as growth here: keep
# it small (ignored by a build without ASan).
$ENV{ASAN_OPTIONS} = join(':', grep { length } $ENV{ASAN_OPTIONS} // '',
    'quarantine_size_mb=4', 'thread_local_quarantine_size_kb=256');

my $s = Forkloop->new(config => <<"CONF");
workers 1;
worker_connections 1024;
shutdown_timeout 5s;
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    root %%TESTDIR%%/www;
    client_max_body_size 200m;
    proxy_pass http://$a;
}
http {
    listen 127.0.0.1:%%PORT_NB%%;
    root %%TESTDIR%%/www;
    proxy_buffering off;
    client_max_body_size 200m;
    proxy_pass http://$a;
}
CONF
my ($worker) = $s->wait_workers(1);

sub rss {
	my ($pid) = @_;
	open(my $fh, '<', "/proc/$pid/status") or return 0;
	while (<$fh>) {
		return $1 * 1024 if /^VmRSS:\s+(\d+)\s+kB/;
	}
	return 0;
}

# A streaming reader for one answer on $c (a Forkloop::Conn): the head,
# then the body by Content-Length, chunked, or to the close, hashed as it
# comes; $o{on_body}->($bytes_so_far) after each read may return 'pause'
# seconds to stop reading for.  Returns { status, headers, head, bytes,
# sha256, complete, chunked, error }.
sub stream_answer {
	my ($c, %o) = @_;
	my $deadline = time + ($o{timeout} // 60);
	my $sel = IO::Select->new($c->sock);
	my $buf = $c->buffer;
	my %r = (bytes => 0, complete => 0);
	my $d = Digest::SHA->new(256);
	my $eof = 0;
	my $read = sub {
		my $left = $deadline - time;
		return 0 if $left <= 0;
		return 1 unless $sel->can_read($left > 1 ? 1 : $left);
		my $n = sysread($c->sock, my $chunk, 262144);
		if (!defined $n) {
			return 1 if $!{EAGAIN} || $!{EINTR};
			$eof = 1;
			return 0;
		}
		$eof = 1 if $n == 0;
		$buf .= $chunk;
		return $n > 0;
	};
	while (index($buf, "\r\n\r\n") < 0) {
		unless ($read->()) {
			$r{error} = "no head ($eof ? 'closed' : 'timed out')";
			return \%r;
		}
	}
	my $end = index($buf, "\r\n\r\n");
	my ($head) = substr($buf, 0, $end + 4, '');
	$r{head} = $head;
	($r{status}) = $head =~ m{^HTTP/1\.\d (\d{3})};
	for my $line (split /\r\n/, $head) {
		$r{headers}{ lc $1 } = $2 if $line =~ /^([^:]+):\s*(.*)$/;
	}
	my $h = $r{headers};
	my $take = sub {
		my ($bytes) = @_;
		$d->add($bytes);
		$r{bytes} += length $bytes;
		my $pause = $o{on_body} ? $o{on_body}->($r{bytes}) : 0;
		sleep($pause) if $pause;
	};
	if (($h->{'transfer-encoding'} // '') =~ /chunked/i) {
		$r{chunked} = 1;
		for (;;) {
			my $nl;
			until (($nl = index($buf, "\r\n")) >= 0) {
				return _end(\%r, $d, 'eof in a chunk size')
				    unless $read->();
			}
			my ($size) = substr($buf, 0, $nl) =~ /^([0-9a-fA-F]+)/
			    or return _end(\%r, $d, 'bad chunk size');
			$size = hex $size;
			if ($size == 0) {
				# The last chunk, trailer fields, an empty line.
				until (substr($buf, $nl + 2)
				    =~ /^(?:[^\r\n]+\r\n)*\r\n/) {
					return _end(\%r, $d, 'eof in the trailer')
					    unless $read->();
				}
				$r{complete} = 1;
				return _end(\%r, $d);
			}
			substr($buf, 0, $nl + 2, '');
			while ($size > 0) {
				if (!length $buf) {
					return _end(\%r, $d, 'eof in chunk data')
					    unless $read->();
					next;
				}
				my $n = $size < length $buf ? $size : length $buf;
				$take->(substr($buf, 0, $n, ''));
				$size -= $n;
			}
			while (length($buf) < 2) {
				return _end(\%r, $d, 'eof after chunk data')
				    unless $read->();
			}
			return _end(\%r, $d, 'no CRLF after chunk data')
			    unless substr($buf, 0, 2, '') eq "\r\n";
		}
	}
	my $len = $h->{'content-length'};
	for (;;) {
		if (length $buf) {
			my $n = length $buf;
			$n = $len - $r{bytes} if defined $len && $n > $len - $r{bytes};
			$take->(substr($buf, 0, $n, ''));
		}
		if (defined $len && $r{bytes} >= $len) {
			$r{complete} = 1;
			return _end(\%r, $d);
		}
		unless ($read->()) {
			$r{complete} = 1 if !defined $len && $eof;
			return _end(\%r, $d, defined $len || !$eof
			    ? ($eof ? 'closed short' : 'timed out') : undef);
		}
	}
}

sub _end {
	my ($r, $d, $err) = @_;
	$r->{sha256} = $d->hexdigest;
	$r->{error} = $err if defined $err;
	return $r;
}

# Sends a body of $n pattern bytes in 64 KiB writes (chunked if asked),
# calling $every->($sent) between writes.
sub send_pattern {
	my ($c, $n, %o) = @_;
	my $sent = 0;
	my $block_no = 0;
	my $base = substr(pattern_bytes(65536), 8);
	while ($sent < $n) {
		my $b = sprintf('%08x', $block_no++) . $base;
		$b = substr($b, 0, $n - $sent) if $n - $sent < 65536;
		$c->send($o{chunked} ? sprintf("%x\r\n%s\r\n", length $b, $b)
		    : $b, timeout => 30);
		$sent += length $b;
		$o{every}->($sent) if $o{every};
		return $sent if defined $o{stop_at} && $sent >= $o{stop_at};
	}
	$c->send("0\r\n\r\n") if $o{chunked};
	return $sent;
}

###########################################################################
# 100 MiB download: gated, so the first part must arrive before the
# upstream has sent the rest.

my $expect = pattern_sha256($BIG);
{
	my $c = $s->connect(timeout => 60);
	$c->send(build_request(path => "/large?bytes=$BIG&gate=dl&at="
	    . (8 * $MiB)));
	my ($early, $opened) = (0, 0);
	my $r = stream_answer($c, timeout => 120, on_body => sub {
		my ($got) = @_;
		return 0 if $opened || $got < 4 * $MiB;
		# 4 MiB reached us while the app is held at 8 MiB.
		$early = ($A->stats // {})->{by_path}{'/large'} ? 1 : 0;
		$opened = ($A->get('/gate/dl/1')->{status} // 0) == 200;
		return 0;
	});
	$c->close;
	is($r->{status}, 200, '100 MiB download: 200');
	ok($early && $opened, '100 MiB download: the first 4 MiB came while '
	    . 'the upstream was held at 8 MiB (streamed, not stored first)');
	is($r->{headers}{'content-length'}, $BIG,
	    '100 MiB download: Content-Length kept');
	ok($r->{complete}, '100 MiB download: whole')
	    or diag($r->{error} // '', " after $r->{bytes} bytes");
	is($r->{bytes}, $BIG, '100 MiB download: every byte');
	is($r->{sha256}, $expect, '100 MiB download: the same bytes (sha256)');
}

# A client that stops reading: the proxy holds back the upstream instead
# of taking the 100 MiB into memory.
{
	my $base = rss($worker);
	my $max = $base;
	my $c = $s->connect(timeout => 60);
	$c->send(build_request(path => "/large?bytes=$BIG"));
	my $paused = 0;
	my $r = stream_answer($c, timeout => 120, on_body => sub {
		my ($got) = @_;
		my $now = rss($worker);
		$max = $now if $now > $max;
		return 0 if $paused || $got < 2 * $MiB;
		$paused = 1;
		# Stop reading for 3 s, watching the worker meanwhile.
		for (1 .. 30) {
			sleep 0.1;
			my $x = rss($worker);
			$max = $x if $x > $max;
		}
		return 0;
	});
	$c->close;
	ok($r->{complete} && $r->{sha256} eq $expect,
	    'slow reader: the 100 MiB still arrive whole');
	cmp_ok($max - $base, '<', $RSS_BOUND, 'slow reader: the worker grew by '
	    . sprintf('%.1f MiB', ($max - $base) / $MiB) . ' (bounded)');
}

###########################################################################
# 100 MiB uploads.

for my $chunked (0, 1) {
	my $what = $chunked ? 'chunked' : 'Content-Length';
	my $base = rss($worker);
	my $max = $base;
	my $c = $s->connect(timeout => 60);
	$c->send("POST /upload HTTP/1.1\r\nHost: localhost\r\n"
	    . "Connection: close\r\nContent-Type: application/octet-stream\r\n"
	    . ($chunked ? "Transfer-Encoding: chunked\r\n"
	        : "Content-Length: $BIG\r\n") . "\r\n");
	my $sent = eval {
		send_pattern($c, $BIG, chunked => $chunked, every => sub {
			return if $_[0] % (4 * $MiB);
			my $x = rss($worker);
			$max = $x if $x > $max;
		});
	} // do { diag("upload ($what): $@"); 0 };
	my $resp = eval { $c->response(timeout => 60) };
	$c->close;
	is($resp && $resp->{status}, 200, "100 MiB upload ($what): 200")
	    or diag($@);
	my $j = $resp ? eval { JSON::PP->new->decode($resp->{body}) } : undef;
	is($j && $j->{bytes}, $BIG, "100 MiB upload ($what): every byte "
	    . 'reached the upstream');
	is($j && $j->{sha256}, $expect,
	    "100 MiB upload ($what): the same bytes (sha256)");
	cmp_ok($max - $base, '<', $RSS_BOUND, "100 MiB upload ($what): the "
	    . 'worker grew by ' . sprintf('%.1f MiB', ($max - $base) / $MiB)
	    . ' (bounded)');
}

###########################################################################
# Server-sent events with proxy_buffering off: event I+1 is not sent
# until the client has event I.

{
	my $c = $s->connect(port => $s->port('nb'), timeout => 10);
	$c->send(build_request(path => '/sse?n=5&gate=sse'));
	my @got;
	# Read the head, then each event, opening the gate after each.
	my $deadline = time + 30;
	my $buf = '';
	my $sel = IO::Select->new($c->sock);
	my $next = 0;
	while ($next < 5 && time < $deadline) {
		last unless $sel->can_read(5);
		my $n = sysread($c->sock, my $chunk, 65536);
		last unless $n;
		$buf .= $chunk;
		while ($buf =~ /data: event (\d+)\n\n/g) {
			next if $1 < $next;
			push @got, $1;
			$next = $1 + 1;
			$A->get("/gate/sse/$next") if $next < 5;
		}
	}
	# Then the end of the answer.
	while ($buf !~ /\r\n0\r\n\r\n\z/ && time < $deadline) {
		last unless $sel->can_read(5);
		my $n = sysread($c->sock, my $chunk, 65536);
		last unless $n;
		$buf .= $chunk;
	}
	$c->close;
	is("@got", '0 1 2 3 4', 'SSE, proxy_buffering off: each event '
	    . 'arrived before the next was sent (gated on it)');
	like($buf, qr{^HTTP/1\.1 200 .*^Content-Type: text/event-stream}ms,
	    'SSE: 200 text/event-stream');
	like($buf, qr{\r\n0\r\n\r\n\z}, 'SSE: ends with the final chunk');
}

###########################################################################
# Chunked answers re-framed.

my $parts = join('', map { "part $_\n" } 0 .. 4);
{
	my $r = $s->http_get('/chunked');
	is($r->{status}, 200, 'chunked answer: 200');
	ok($r->{chunked}, 'chunked answer: chunked to an HTTP/1.1 client');
	is($r->{body}, $parts, 'chunked answer: its bytes');

	my $c = $s->connect;
	$c->send(build_request(path => '/chunked', keepalive => 1)
	    . build_request(path => "/large?bytes=300000&chunked=1",
	    keepalive => 1));
	my $one = eval { $c->response(timeout => 10) };
	my $two = eval { $c->response(timeout => 10) };
	$c->close;
	is($one && $one->{body}, $parts, 'two chunked answers on one '
	    . 'connection: the first');
	ok($two && $two->{body} eq pattern_bytes(300000),
	    'two chunked answers on one connection: the second (300000 bytes)');

	$c = $s->connect;
	$c->send("GET /chunked HTTP/1.0\r\nHost: localhost\r\n\r\n");
	my $all = eval { $c->read_all(timeout => 10) } // $c->buffer;
	$c->close;
	my ($x) = eval { parse_response($all, eof => 1) };
	ok($x && !$x->{chunked}, 'an HTTP/1.0 client gets no chunked framing');
	is($x && $x->{body}, $parts, 'an HTTP/1.0 client: the bytes, to the '
	    . 'close') or diag(printable($all, 300));

	$r = $s->http_get('/large?bytes=1000000&chunked=1');
	ok($r->{body} && $r->{body} eq pattern_bytes(1000000),
	    'a 1 MB chunked answer re-framed whole');
}

###########################################################################
# Clients that go away mid-upload and mid-download.

{
	$A->reset_stats;
	my $c = $s->connect(timeout => 30);
	$c->send("POST /upload HTTP/1.1\r\nHost: localhost\r\n"
	    . "Content-Length: $BIG\r\n\r\n");
	send_pattern($c, $BIG, stop_at => 4 * $MiB);
	# Let some of it reach the app, if it goes on as it comes.
	wait_for(sub {
		my $st = $A->stats or return 0;
		return @{ $st->{uploads} } && $st->{uploads}[0]{bytes} > 0;
	}, 3);
	$c->close;
	my $st;
	my $done = wait_for(sub {
		$st = $A->stats or return 0;
		return 1 unless @{ $st->{uploads} };	# never sent on
		my $conn = $st->{uploads}[0]{conn} // -1;
		return !grep { $_ == $conn } @{ $st->{open_conns} };
	}, 10);
	ok($done, 'client gone mid-upload: the upstream connection that had '
	    . 'the upload is closed') or diag(explain $st);
	ok(!@{ $st->{uploads} || [] } || !$st->{uploads}[0]{complete},
	    'client gone mid-upload: the upstream never saw it whole');
	ok($s->alive, 'client gone mid-upload: forkloop up');
	my $r = $s->http_get('/headers');
	is($r->{status}, 200, 'client gone mid-upload: the next request works');
	my $d = eval { JSON::PP->new->decode($r->{body}) };
	is($d && $d->{body_bytes}, 0, '  and is not mixed with the upload');
}

{
	$A->reset_stats;
	my $c = $s->connect(timeout => 30);
	$c->send(build_request(path => "/large?bytes=$BIG", keepalive => 1));
	my $conn;
	# Read the head and 2 MiB, then go.
	my $got = wait_for(sub {
		$c->_fill(time + 0.2);
		return length($c->buffer) > 2 * $MiB;
	}, 20);
	($conn) = $c->buffer =~ /^X-Upstream-Conn:\s*(\d+)/mi;
	ok($got && $conn, 'mid-download: 2 MiB came, from upstream '
	    . 'connection ' . ($conn // '?'));
	$c->close;
	my $st;
	my $closed = wait_for(sub {
		$st = $A->stats or return 0;
		return !grep { $_ == ($conn // -1) } @{ $st->{open_conns} };
	}, 10);
	ok($closed, 'client gone mid-download: that upstream connection is '
	    . 'closed') or diag(explain $st);
	ok($s->alive, 'client gone mid-download: forkloop up');
	my $x = $s->http_get('/headers');
	is($x->{status}, 200, 'client gone mid-download: the next request '
	    . 'works');
	isnt($x->{headers}{'x-upstream-conn'} // '', $conn // '',
	    '  on another upstream connection');
}

###########################################################################

ok($s->alive, 'forkloop still running');
$s->log_clean_ok([qr/upstream/]);
is($s->stop, 0, 'exit status 0 on QUIT');

done_testing;
