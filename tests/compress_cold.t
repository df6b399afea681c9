#!/usr/bin/perl
# compress_cold.t: on-the-fly gzip and brotli where files come and go
# from the open-file cache.  compress.c compresses into one buffer per
# worker and keeps a copy with the cache entry only for a file asked for
# again; here every answer must still be its own file's bytes: a file's
# first answer (from the buffer), its second and third (the kept copy),
# different files pipelined on one connection (each compressed before
# the last answer went out), more files than the cache holds (2048
# entries a worker) so that entries are evicted, and an evicted file
# asked for again; over HTTP/1.1 and h2c, gzip and brotli.

use strict;
use warnings;

use Test::More;
use IO::Uncompress::Gunzip qw(gunzip $GunzipError);
use Forkloop;

Forkloop::check_binary();
Forkloop::watchdog(120);

my $NFILES = 2100;		# more than a worker's 2048 cache entries

# Each file different, and long enough to compress (some 3 KiB).
sub content {
	my ($i) = @_;
	return join('', map { "<p>file $i, line $_: " . ($i * 7919 + $_ * 31)
	    . " of a page that compresses</p>\n" } 1 .. 50);
}

my $s = Forkloop->new(start => 0, config => <<'CONF');
workers 1;
worker_connections 256;
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    root %%TESTDIR%%/www;
    gzip on;
    gzip_comp_level 6;
    brotli on;
}
CONF
# And a few more that only the brotli and h2c subtests ask for: their
# first answers are compressed for the first time.
$s->write_file(sprintf('www/f%04d.html', $_), content($_))
    for 0 .. $NFILES + 9;
$s->run;

sub gunzipped {
	my ($data) = @_;
	my $out;
	gunzip(\$data => \$out) or return "gunzip: $GunzipError";
	return $out;
}

sub request {
	my ($i, $coding) = @_;
	return sprintf("GET /f%04d.html HTTP/1.1\r\nHost: a\r\n"
	    . "Accept-Encoding: %s\r\n\r\n", $i, $coding // 'gzip');
}

# Asks for the files of @$list in turn on one keep-alive connection and
# returns how many answers were not gzip of their own file (with a diag
# for the first few).
sub bad_answers {
	my ($list, $what) = @_;
	my $c = $s->connect;
	my $bad = 0;
	for my $i (@$list) {
		$c->send(request($i));
		my $r = eval { $c->response };
		my $why = !$r ? "no answer: $@"
		    : $r->{status} != 200 ? "status $r->{status}"
		    : ($r->{headers}{'content-encoding'} // '') ne 'gzip'
		    ? 'not gzip'
		    : gunzipped($r->{body}) ne content($i) ? 'other bytes' : '';
		next if $why eq '';
		diag("$what: f$i: $why") if $bad < 5;
		$bad++;
		last unless $r;
	}
	$c->close;
	return $bad;
}

subtest 'a file asked for once, twice, three times' => sub {
	my @first = map { $s->http(request(5)) } 1 .. 3;
	for my $k (0 .. 2) {
		is($first[$k]{headers}{'content-encoding'}, 'gzip',
		    "answer " . ($k + 1) . ": gzip");
		is(gunzipped($first[$k]{body}), content(5),
		    "answer " . ($k + 1) . ": gunzips to the file");
	}
	is($first[1]{body}, $first[0]{body}, 'the kept copy is the same bytes');
	is($first[2]{body}, $first[0]{body}, 'and stays so');
};

subtest 'different files pipelined on one connection' => sub {
	my $c = $s->connect;
	$c->send(join('', map { request($_) } 10 .. 17));
	for my $i (10 .. 17) {
		my $r = eval { $c->response };
		ok($r && ($r->{headers}{'content-encoding'} // '') eq 'gzip',
		    "f$i: gzip") or diag($@);
		is($r ? gunzipped($r->{body}) : '', content($i),
		    "f$i: its own bytes");
	}
	$c->close;
};

subtest 'more files than the cache holds' => sub {
	is(bad_answers([0 .. $NFILES - 1], 'first pass'), 0,
	    "$NFILES files, each gzip of itself");
	is(bad_answers([0 .. 40, 1000 .. 1040], 'evicted'), 0,
	    'evicted files asked for again');
	is(bad_answers([(2050) x 3, 2051, 2050], 'again'), 0,
	    'a file asked for again and again');
};

subtest 'brotli, first and second time' => sub {
	my $port = $s->port('http');
	for my $i ($NFILES, $NFILES, $NFILES + 1) {
		my $out = `curl -s --compressed -H 'Accept-Encoding: br' -D - http://127.0.0.1:$port/f$i.html`;
		like($out, qr/^content-encoding: br\r?$/mi, "f$i: br");
		$out =~ s/\A.*?\r\n\r\n//s;
		is($out, content($i), "f$i: decodes to the file");
	}
};

# One connection per file: curl 7.88 fails a second h2c request on a
# reused connection ("Error in the HTTP2 framing layer") whatever the
# server.
subtest 'h2c: new files and a kept one' => sub {
	my $port = $s->port('http');
	for my $i ($NFILES + 2, $NFILES + 3, $NFILES + 2) {
		my $out = `curl -s --http2-prior-knowledge --compressed -H 'Accept-Encoding: gzip' -D - http://127.0.0.1:$port/f$i.html`;
		like($out, qr{^HTTP/2 200}, "f$i: HTTP/2");
		like($out, qr/^content-encoding: gzip\r?$/mi, "f$i: gzip");
		$out =~ s/\A.*?\r\n\r\n//s;
		is($out, content($i), "f$i: decodes to the file");
	}
};

$s->stop;
is($s->exit_status, 0, 'stop: exit status 0');
$s->log_clean_ok;

done_testing();
