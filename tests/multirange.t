#!/usr/bin/perl
# multirange.t: Range requests with several ranges (RFC 9110 14.6): 206
# multipart/byteranges, each part with its Content-Type and
# Content-Range and the file's bytes, in the request's order;
# overlapping and touching ranges coalesced (one range left: a plain
# 206); unsatisfiable ranges dropped, all of them 416 with bytes */SIZE;
# the amplification guards (more than 16 ranges, or more bytes than the
# file: 200 with the whole file; 1,000 ranges answered at once, and the
# worker lives); If-Range, HEAD; a file held in memory and one sent from
# its descriptor; over HTTP/1.1 and h2c (curl).

use strict;
use warnings;

use Test::More;
use Forkloop;

Forkloop::check_binary();
Forkloop::watchdog(60);

my $small = Forkloop::pseudo_random_bytes(1000, 11);
my $big = Forkloop::pseudo_random_bytes(300 * 1024, 13);
my $s = Forkloop->new(files => {
	'www/small.txt' => $small,
	'www/big.bin' => $big,
	'www/empty.txt' => '',
}, config => <<'CONF');
workers 1;
worker_connections 256;
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    root %%TESTDIR%%/www;
    http2 on;
    max_header_size 64k;
}
CONF
my $port = $s->port('http');

sub get {
	my ($target, @headers) = @_;
	my %o = (ref $headers[-1] eq 'HASH') ? %{ pop @headers } : ();
	my $method = $o{method} // 'GET';
	return $s->http("$method $target HTTP/1.1\r\nHost: a.example\r\n"
	    . join('', map { "$_\r\n" } @headers)
	    . "Connection: close\r\n\r\n", %o);
}

# The parts of a multipart/byteranges body: [headers, bytes] each, or a
# string saying what is wrong with it.
sub parts {
	my ($type, $body) = @_;
	$type =~ m{^multipart/byteranges; boundary=([0-9A-Za-z'()+_,./:=?-]{1,70})$}
	    or return "not multipart/byteranges: $type";
	my $b = $1;
	my @parts;
	my $pos = 0;
	my $delim = "--$b\r\n";
	substr($body, 0, length $delim) eq $delim
	    or return 'the body does not start with the boundary';
	$pos = length $delim;
	for (my $n = 0; $n < 100; $n++) {
		my $end = index($body, "\r\n\r\n", $pos);
		return 'a part without the end of its headers' if $end < 0;
		my %h;
		for (split /\r\n/, substr($body, $pos, $end - $pos)) {
			/^([^:]+):\s*(.*)$/ or return "a bad part header: $_";
			$h{lc $1} = $2;
		}
		($h{'content-range'} // '') =~ m{^bytes (\d+)-(\d+)/(\d+)$}
		    or return 'a part without Content-Range';
		my $len = $2 - $1 + 1;
		my $data = substr($body, $end + 4, $len);
		push @parts, [\%h, $data, $1, $2, $3];
		$pos = $end + 4 + $len;
		my $next = "\r\n--$b";
		return 'no boundary after a part'
		    unless substr($body, $pos, length $next) eq $next;
		$pos += length $next;
		if (substr($body, $pos, 4) eq "--\r\n") {
			return 'bytes after the closing boundary'
			    if $pos + 4 != length $body;
			return \@parts;
		}
		return 'no CRLF after a boundary'
		    unless substr($body, $pos, 2) eq "\r\n";
		$pos += 2;
	}
	return 'too many parts';
}

# Checks a multipart answer of $file against [start, end] pairs.
sub multipart_ok {
	my ($r, $file, $want, $name) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	subtest $name => sub {
		is($r->{status}, 206, 'status 206');
		is($r->{headers}{'content-length'}, length $r->{body},
		    'Content-Length is the body\'s');
		my $p = parts($r->{headers}{'content-type'} // '', $r->{body});
		ok(ref $p, 'a well-formed multipart body') or diag($p), return;
		is(scalar @$p, scalar @$want, scalar(@$want) . ' parts');
		for my $i (0 .. $#$want) {
			my ($h, $data, $from, $to, $size) = @{ $p->[$i] // [] };
			my ($ws, $we) = @{ $want->[$i] };
			is("$from-$to/$size", "$ws-$we/" . length $file,
			    "part $i: Content-Range");
			like($h->{'content-type'} // '', qr{^(text/plain|application/octet-stream)},
			    "part $i: the file's Content-Type");
			ok(defined $data && $data eq substr($file, $ws, $we - $ws + 1),
			    "part $i: the file's bytes");
		}
	};
}

multipart_ok(get('/small.txt', 'Range: bytes=0-9,100-199'), $small,
    [[0, 9], [100, 199]], 'two ranges');
multipart_ok(get('/small.txt', 'Range: bytes=500-509, -10'), $small,
    [[500, 509], [990, 999]], 'a suffix range, after a space');
multipart_ok(get('/small.txt', 'Range: bytes=900-909,0-9'), $small,
    [[900, 909], [0, 9]], "in the request's order");
multipart_ok(get('/small.txt', 'Range: bytes=0-1,2000-,5-6'), $small,
    [[0, 1], [5, 6]], 'an unsatisfiable range dropped');
multipart_ok(get('/small.txt', 'Range: bytes=0-9,5-14,100-109,110-119'),
    $small, [[0, 14], [100, 119]], 'overlapping and touching coalesced');
multipart_ok(get('/big.bin', 'Range: bytes=0-99,150000-150099,-100'), $big,
    [[0, 99], [150000, 150099], [length($big) - 100, length($big) - 1]],
    'a file sent from its descriptor');
my @sixteen = map { [$_ * 10, $_ * 10 + 1] } 0 .. 15;
multipart_ok(get('/small.txt', 'Range: bytes='
    . join(',', map { "$_->[0]-$_->[1]" } @sixteen)), $small, \@sixteen,
    '16 ranges');

subtest 'one range left, guards, 416' => sub {
	my $r = get('/small.txt', 'Range: bytes=0-99,50-149');
	is($r->{status}, 206, 'overlapping: 206');
	is($r->{headers}{'content-range'}, 'bytes 0-149/1000',
	    'coalesced into one range');
	ok($r->{body} eq substr($small, 0, 150), 'its bytes, not multipart');
	$r = get('/small.txt', 'Range: bytes='
	    . join(',', map { $_ * 10 . '-' . ($_ * 10 + 1) } 0 .. 16));
	is($r->{status}, 200, '17 ranges: 200');
	ok($r->{body} eq $small, 'the whole file');
	$r = get('/small.txt', 'Range: bytes=0-599,400-999');
	is($r->{status}, 200, 'ranges adding up to more than the file: 200');
	ok($r->{body} eq $small, 'the whole file');
	$r = get('/small.txt', 'Range: bytes=0-,0-');
	is($r->{status}, 200, 'the file twice: 200');
	$r = get('/small.txt', 'Range: bytes=2000-3000,5000-');
	is($r->{status}, 416, 'all unsatisfiable: 416');
	is($r->{headers}{'content-range'}, 'bytes */1000', 'bytes */1000');
	$r = get('/small.txt', 'Range: bytes=0-1,5-2');
	is($r->{status}, 200, 'an invalid range: the field is ignored');
	$r = get('/small.txt', 'Range: bytes=0-1,5-6', { method => 'HEAD' });
	is($r->{status}, 200, 'HEAD: 200');
	is($r->{headers}{'content-length'}, 1000, 'of the whole file');
	$r = get('/small.txt', 'Range: bytes=0-1,5-6', 'If-Range: "other"');
	is($r->{status}, 200, 'If-Range of another tag: 200');
	my $etag = get('/small.txt')->{headers}{etag};
	$r = get('/small.txt', 'Range: bytes=0-1,5-6', "If-Range: $etag");
	is($r->{status}, 206, 'If-Range of its tag: 206');
	$r = get('/empty.txt', 'Range: bytes=0-1,5-6');
	is($r->{status}, 200, 'an empty file: 200');
};

subtest '1,000 ranges' => sub {
	my @pids = $s->worker_pids;
	my $spec = join(',', map { $_ * 2 . '-' . $_ * 2 } 0 .. 999);
	my $r = get('/big.bin', "Range: bytes=$spec");
	is($r->{status}, 200, 'status 200');
	is(length($r->{body} // ''), length $big, 'the whole file, once');
	cmp_ok($r->{elapsed}, '<', 5, 'answered, not stuck');
	$spec = join(',', map { 2000 + $_ . '-' } 0 .. 999);
	$r = get('/small.txt', "Range: bytes=$spec");
	is($r->{status}, 200, 'a thousand unsatisfiable ones: 200 too');
	is_deeply([$s->worker_pids], \@pids, 'the same worker');
	is(get('/small.txt')->{status}, 200, 'which still answers');
};

subtest 'h2c' => sub {
	my $out = `curl -s --http2-prior-knowledge -D - -H 'Range: bytes=0-9,100-199' http://127.0.0.1:$port/small.txt`;
	my ($head, $body) = split /\r\n\r\n/, $out, 2;
	like($head, qr{^HTTP/2 206}, 'h2c: 206');
	my ($type) = $head =~ /^content-type: ([^\r]*)\r$/mi;
	my $p = parts($type // '', $body // '');
	ok(ref $p, 'a well-formed multipart body') or diag($p);
	$p = [] unless ref $p;
	is(scalar @$p, 2, 'two parts');
	ok(@$p == 2 && $p->[0][1] eq substr($small, 0, 10)
	    && $p->[1][1] eq substr($small, 100, 100), 'their bytes');
	$out = `curl -s --http2-prior-knowledge -D - -H 'Range: bytes=1000-1099,200000-200099' http://127.0.0.1:$port/big.bin`;
	($head, $body) = split /\r\n\r\n/, $out, 2;
	($type) = $head =~ /^content-type: ([^\r]*)\r$/mi;
	$p = parts($type // '', $body // '');
	ok(ref $p && @$p == 2 && $p->[0][1] eq substr($big, 1000, 100)
	    && $p->[1][1] eq substr($big, 200000, 100), 'of a large file');
	$out = `curl -s --http2-prior-knowledge -o /dev/null -w '%{http_code}' -H 'Range: bytes=5000-,6000-' http://127.0.0.1:$port/small.txt`;
	is($out, '416', 'all unsatisfiable: 416');
};

$s->stop;
is($s->exit_status, 0, 'stop: exit status 0');
$s->log_clean_ok;

done_testing();
