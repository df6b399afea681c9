#!/usr/bin/perl
# status.t: the status route ("route /status status;").  Its JSON has one
# entry per live worker and totals that are the sums of those entries; the
# request counters move with the requests made (2xx and 4xx classes, bytes
# sent) and the master's reload and respawn counts move with HUP and a
# worker killed with -9.  The Prometheus text (?format=prometheus) is read
# by a real parser, python3's prometheus_client (Debian package
# python3-prometheus-client), and the HTML page (?format=html) is rendered
# by headless Chromium (Debian package chromium): the DOM it builds holds
# the right totals, and its screenshot is a real picture of the tables.
# Those two parts are skipped, saying why, only when the tool is missing.

use strict;
use warnings;

use Test::More;
use Compress::Zlib qw(uncompress);
use JSON::PP ();
use Forkloop qw(wait_for);
use Forkloop::Ops qw(run_cmd which find_python_with status_get status_json);

Forkloop::check_binary();
Forkloop::watchdog(240);

my @CLASSES = qw(1xx 2xx 3xx 4xx 5xx);
my $index = "<!doctype html>\n<title>status.t</title>\n<p>hello</p>\n";

my $s = Forkloop->new(config => { workers => 2, http => {
    routes => ['/status status', '/hello/ hello', '/delay/ delay'] } },
    files => { 'www/index.html' => $index, 'www/a.txt' => "a\n" });
my @workers = $s->wait_workers(2);
is(scalar @workers, 2, 'two workers');
my @expected_errors;

# The status once every connection but the status request's own is
# closed: the counters of a quiet server.  The status requests made while
# waiting are counted too (2xx, bytes sent): their bodies are kept in
# {_polled}.
sub quiet_status {
	my ($st, @polled);
	wait_for(sub {
		push @polled, $st->{_raw} if $st;
		$st = status_json($s);
		return $st && $st->{totals}{active} == 1;
	}, 10);
	$st->{_polled} = \@polled if $st;
	return $st;
}

sub sum_of {
	my ($list, @path) = @_;
	my $sum = 0;
	for my $w (@$list) {
		my $v = $w;
		$v = $v->{$_} for @path;
		$sum += $v // 0;
	}
	return $sum;
}

# Totals must be the sums of the worker entries, in one snapshot.
sub check_consistent {
	my ($st, $what) = @_;
	my $t = $st->{totals};
	my $w = $st->{workers};
	my @bad;
	for my $k (qw(accepted active idle requests bytes_sent)) {
		push @bad, "$k: total $t->{$k}, workers " . sum_of($w, $k)
		    if $t->{$k} != sum_of($w, $k);
	}
	for my $c (@CLASSES) {
		push @bad, "responses $c: total $t->{responses}{$c}, workers "
		    . sum_of($w, 'responses', $c)
		    if $t->{responses}{$c} != sum_of($w, 'responses', $c);
	}
	my $classes = 0;
	$classes += $t->{responses}{$_} for @CLASSES;
	push @bad, "requests $t->{requests} but the classes add up to "
	    . $classes if $classes != $t->{requests};
	for my $e (@$w) {
		my $n = 0;
		$n += $e->{responses}{$_} for @CLASSES;
		push @bad, "worker $e->{pid}: requests $e->{requests}, "
		    . "classes $n" if $n != $e->{requests};
	}
	is(join("\n", @bad), '', "$what: the totals are the sums of the "
	    . "worker entries");
}

sub pids_of { join ' ', sort { $a <=> $b } map { $_->{pid} } @{ $_[0]{workers} } }

subtest 'JSON: workers and totals' => sub {
	my $r = status_get($s);
	is($r->{status}, 200, 'GET /status: 200');
	like($r->{headers}{'content-type'} // '', qr{^application/json\b},
	    'Content-Type application/json');
	my $st = eval { JSON::PP->new->decode($r->{body} // '') };
	ok($st, 'the body is JSON') or diag($@);
	return unless $st;
	is(ref $st->{workers}, 'ARRAY', 'a workers array');
	is(scalar @{ $st->{workers} }, 2, 'one entry per worker');
	is(pids_of($st), join(' ', @workers), 'their pids are the workers\'');
	is($st->{master_pid}, $s->pid, 'master_pid');
	is($st->{generation}, 1, 'generation 1');
	is($st->{reloads}, 0, 'no reload yet');
	is($st->{respawns}, 0, 'no respawn yet');
	is($st->{totals}{workers}, 2, 'totals: 2 workers');
	is(join(' ', sort map { $_->{slot} } @{ $st->{workers} }), '0 1',
	    'slots 0 and 1');
	ok(!grep({ $_->{generation} != 1 } @{ $st->{workers} }),
	    'every worker is of generation 1');
	ok(!grep({ abs($_->{started} - time) > 120 } @{ $st->{workers} }),
	    'start times are now');
	is(join(',', sort keys %{ $st->{totals}{responses} }),
	    join(',', @CLASSES), 'responses by class 1xx..5xx');

	$st = quiet_status();
	ok($st, 'the server is quiet') or return;
	check_consistent($st, 'quiet');
};

subtest 'JSON: counters follow the requests' => sub {
	my $before = quiet_status() or return;
	my %body;
	my ($ok, $notfound, $bytes) = (0, 0, length $before->{_raw});
	for my $path ('/', '/a.txt', '/hello/x', '/', '/a.txt', '/') {
		my $r = $s->http_get($path);
		$ok++ if ($r->{status} // 0) == 200;
		$bytes += length($r->{body} // '');
	}
	is($ok, 6, 'six requests answered 200');
	for my $path ('/missing', '/nope/x', '/../etc') {
		my $r = $s->http_get($path, quiet => 1);
		$notfound++ if ($r->{status} // 0) >= 400
		    && $r->{status} < 500;
		$bytes += length($r->{body} // '');
	}
	is($notfound, 3, 'three requests answered 4xx');
	my $after = quiet_status() or return;
	my ($b, $a) = ($before->{totals}, $after->{totals});

	# The first status request counts too: it is answered (and
	# counted) before the requests above; so do the status requests
	# made while waiting for a quiet server.
	my $polls = @{ $after->{_polled} };
	$bytes += length for @{ $after->{_polled} };
	is($a->{responses}{'2xx'} - $b->{responses}{'2xx'}, 7 + $polls,
	    '2xx: +7 (six requests and the first status request)'
	    . ($polls ? " + $polls polls" : ''));
	is($a->{responses}{'4xx'} - $b->{responses}{'4xx'}, 3, '4xx: +3');
	is($a->{responses}{$_} - $b->{responses}{$_}, 0, "$_: unchanged")
	    for qw(1xx 3xx 5xx);
	is($a->{requests} - $b->{requests}, 10 + $polls, 'requests: +10'
	    . ($polls ? " + $polls polls" : ''));
	is($a->{accepted} - $b->{accepted}, 10 + $polls,
	    'accepted: +10 (one connection each)');
	is($a->{bytes_sent} - $b->{bytes_sent}, $bytes,
	    "bytes_sent: + the $bytes body bytes received");
	check_consistent($after, 'after the requests');

	# A keep-alive connection left open counts as active and idle.
	my $c = $s->connect;
	$c->send(Forkloop::build_request(path => '/a.txt', keepalive => 1));
	my $r = eval { $c->response(timeout => 5) };
	is($r && $r->{status}, 200, 'a keep-alive request');
	my $st;
	my $seen = wait_for(sub {
		$st = status_json($s);
		$st && $st->{totals}{idle} == 1 && $st->{totals}{active} == 2;
	}, 5);
	ok($seen, 'the open connection shows as active and idle')
	    or diag("totals: " . JSON::PP->new->canonical->encode(
	    $st ? $st->{totals} : {}));
	$c->close;
};

subtest 'reloads and respawns' => sub {
	$s->signal('HUP');
	my @new = $s->wait_workers(2, exclude => \@workers, timeout => 15);
	is(scalar @new, 2, 'HUP: two new workers');
	my $st;
	my $ok = wait_for(sub {
		$st = status_json($s);
		return $st && $st->{reloads} == 1
		    && pids_of($st) eq join(' ', @new);
	}, 10);
	ok($ok, 'reloads 1, and the entries are the new workers\'')
	    or diag("status: " . ($st ? $st->{_raw} : 'none'));
	is($st->{generation}, 2, 'generation 2');
	is($st->{respawns}, 0, 'a reload is no respawn');
	ok(!grep({ $_->{generation} != 2 } @{ $st->{workers} }),
	    'the workers are of generation 2');
	is($st->{totals}{workers}, 2, 'totals: 2 workers');

	my ($victim) = grep { $_->{pid} == $new[0] } @{ $st->{workers} };
	kill 'KILL', $new[0];
	my @now = $s->wait_workers(2, exclude => [$new[0]]);
	is(scalar @now, 2, 'kill -9 of a worker: two workers again');
	$ok = wait_for(sub {
		$st = status_json($s);
		return $st && $st->{respawns} == 1
		    && pids_of($st) eq join(' ', @now);
	}, 10);
	ok($ok, 'respawns 1, and the entries are the live workers\'')
	    or diag("status: " . ($st ? $st->{_raw} : 'none'));
	is($st->{reloads}, 1, 'reloads still 1');
	is($st->{generation}, 2, 'the generation is unchanged');
	my ($replacement) = grep { $_->{pid} != $new[1] } @{ $st->{workers} };
	is($replacement && $replacement->{slot}, $victim && $victim->{slot},
	    'the replacement takes the dead worker\'s slot');
	@workers = @now;

	for my $line (split /\n/, $s->error_log) {
		push @expected_errors, qr/^\Q$line\E$/
		    if $line =~ /\b$new[0]\b/ && $line =~ /signal|kill/i;
	}
};

subtest 'Prometheus text, read by prometheus_client' => sub {
	my $before = quiet_status() or return;
	my $r = status_get($s, 'format=prometheus');
	is($r->{status}, 200, 'GET /status?format=prometheus: 200');
	like($r->{headers}{'content-type'} // '',
	    qr{^text/plain;\s*version=0\.0\.4}, 'Content-Type text/plain; '
	    . 'version=0.0.4');
	my $text = $r->{body} // '';

	# The lines themselves, before any parser.
	like($text, qr/^# HELP forkloop_requests_total \S.*$/m,
	    'a HELP line for forkloop_requests_total');
	like($text, qr/^# TYPE forkloop_requests_total counter$/m,
	    'a TYPE line: counter');
	my (%help, %type, @order_bad, @names_bad);
	for my $line (split /\n/, $text) {
		if ($line =~ /^# HELP (\S+) /) {
			$help{$1} = 1;
		} elsif ($line =~ /^# TYPE (\S+) (\S+)$/) {
			$type{$1} = $2;
		} elsif ($line =~ /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/) {
			my $name = $1;
			push @names_bad, $name unless $name =~ /^forkloop_/;
			push @order_bad, $name
			    unless $help{$name} && $type{$name};
		} elsif ($line ne '') {
			push @names_bad, "line: $line";
		}
	}
	is(join(' ', @names_bad), '', 'every sample is a forkloop_* metric');
	is(join(' ', @order_bad), '', 'HELP and TYPE come before the '
	    . 'samples of every metric');
	like($text, qr/\n\z/, 'the text ends with a newline');

	my $py = find_python_with('prometheus_client');
	SKIP: {
		skip 'python3 with prometheus_client is missing (Debian '
		    . 'package python3-prometheus-client)', 11 unless $py;
		my $code = <<'PY';
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for f in text_string_to_metric_families(sys.stdin.read()):
    out.append({"name": f.name, "type": f.type,
                "help": f.documentation,
                "samples": [[x.name, x.labels, x.value] for x in f.samples]})
print(json.dumps(out))
PY
		my $p = run_cmd([$py, '-c', $code], stdin => $text,
		    timeout => 60);
		is($p->{exit}, 0, "the parser reads it ($py)")
		    or diag($p->{stderr});
		my $fams = eval { JSON::PP->new->decode($p->{stdout}) } || [];
		my %fam = map { $_->{name} => $_ } @$fams;
		# The parser names a counter's family without "_total".
		my $req = $fam{forkloop_requests} // $fam{forkloop_requests_total};
		ok($req, 'a forkloop_requests family')
		    or diag('families: ' . join(' ', sort keys %fam));
		$req //= { samples => [] };
		is($req->{type}, 'counter', 'of type counter');
		like($req->{help} // '', qr/\S/, 'with its HELP text');
		my @samples = grep { $_->[0] eq 'forkloop_requests_total' }
		    @{ $req->{samples} };
		is(scalar @samples, 2 * 5, 'samples forkloop_requests_total: '
		    . 'two workers, five classes');
		my %by;
		for my $x (@samples) {
			$by{ $x->[1]{worker} // '?' }{ $x->[1]{code} // '?' }
			    = $x->[2];
		}
		is(join(' ', sort { $a <=> $b } keys %by), join(' ', @workers),
		    'the worker label is the worker pid');
		is(join(' ', map { join(',', sort keys %{ $by{$_} }) }
		    sort keys %by), join(' ', (join(',', @CLASSES)) x 2),
		    'a code label per class');

		# The JSON request just before is one more 2xx.
		my ($same, @diff) = (1);
		for my $w (@{ $before->{workers} }) {
			for my $c (@CLASSES) {
				my $got = $by{ $w->{pid} }{$c} // -1;
				my $want = $w->{responses}{$c};
				push @diff, "$w->{pid} $c: $got, JSON $want"
				    if $got != $want && !($c eq '2xx'
				    && $got == $want + 1);
			}
		}
		my $sum2 = 0;
		$sum2 += $by{$_}{'2xx'} // 0 for keys %by;
		is(join('; ', @diff), '', 'the values are the JSON\'s');
		is($sum2, $before->{totals}{responses}{'2xx'} + 1,
		    '2xx over all workers: the JSON\'s + 1 (the JSON request)');

		my %single;
		for my $name (qw(forkloop_reloads forkloop_respawns
		    forkloop_generation)) {
			my $f = $fam{$name} // $fam{"${name}_total"};
			$single{$name} = $f && @{ $f->{samples} }
			    ? $f->{samples}[0][2] : undef;
		}
		is_deeply(\%single, { forkloop_reloads => 1,
		    forkloop_respawns => 1, forkloop_generation => 2 },
		    'reloads 1, respawns 1, generation 2');
		my @nohelp = grep { ($_->{help} // '') eq '' } @$fams;
		is(join(' ', map { $_->{name} } @nohelp), '',
		    'every family has a HELP text');
	}
};

###########################################################################
# PNG, enough of it to look at a screenshot: 8-bit, not interlaced, grey,
# RGB or RGBA; returns the header fields and the unfiltered rows.

sub png_decode {
	my ($png) = @_;
	return { error => 'no PNG signature' }
	    unless substr($png, 0, 8) eq "\x89PNG\r\n\x1a\n";
	my ($pos, $idat, %h) = (8, '');
	while ($pos + 8 <= length $png) {
		my ($len, $type) = unpack('Na4', substr($png, $pos, 8));
		my $data = substr($png, $pos + 8, $len);
		push @{ $h{chunks} }, $type;
		@h{qw(width height depth ctype comp filter interlace)}
		    = unpack('NNCCCCC', $data) if $type eq 'IHDR';
		$idat .= $data if $type eq 'IDAT';
		$pos += 12 + $len;
		last if $type eq 'IEND';
	}
	my %bpp = (0 => 1, 2 => 3, 4 => 2, 6 => 4);
	return { %h, error => 'IHDR missing' } unless $h{width};
	return { %h, error => 'not 8-bit grey/RGB/RGBA, not interlaced' }
	    unless $h{depth} == 8 && !$h{interlace} && $bpp{ $h{ctype} };
	my $raw = uncompress($idat);
	return { %h, error => 'IDAT does not inflate' } unless defined $raw;
	my $bpp = $bpp{ $h{ctype} };
	my $stride = $h{width} * $bpp;
	return { %h, error => 'short image data' }
	    if length($raw) < $h{height} * ($stride + 1);
	my @prev = (0) x $stride;
	my @rows;
	for my $y (0 .. $h{height} - 1) {
		my $off = $y * ($stride + 1);
		my $f = ord substr($raw, $off, 1);
		my @c = unpack('C*', substr($raw, $off + 1, $stride));
		if ($f == 1) {
			$c[$_] = ($c[$_] + $c[$_ - $bpp]) & 255
			    for $bpp .. $#c;
		} elsif ($f == 2) {
			$c[$_] = ($c[$_] + $prev[$_]) & 255 for 0 .. $#c;
		} elsif ($f == 3) {
			for my $i (0 .. $#c) {
				my $l = $i >= $bpp ? $c[$i - $bpp] : 0;
				$c[$i] = ($c[$i] + (($l + $prev[$i]) >> 1)) & 255;
			}
		} elsif ($f == 4) {
			for my $i (0 .. $#c) {
				my $l = $i >= $bpp ? $c[$i - $bpp] : 0;
				my $u = $prev[$i];
				my $ul = $i >= $bpp ? $prev[$i - $bpp] : 0;
				my $p = $l + $u - $ul;
				my ($pl, $pu, $pul) = (abs($p - $l), abs($p - $u),
				    abs($p - $ul));
				$c[$i] = ($c[$i] + ($pl <= $pu && $pl <= $pul ? $l
				    : $pu <= $pul ? $u : $ul)) & 255;
			}
		} elsif ($f != 0) {
			return { %h, error => "bad filter type $f in row $y" };
		}
		push @rows, \@c;
		@prev = @c;
	}
	return { %h, bpp => $bpp, rows => \@rows };
}

# Dark pixels (text) and the rows crossed by a long grey line (the
# tables' borders, 1px solid #999).
sub png_look {
	my ($img) = @_;
	my ($dark, @lines) = (0);
	my $bpp = $img->{bpp};
	for my $y (0 .. $#{ $img->{rows} }) {
		my $p = $img->{rows}[$y];
		my ($run, $best) = (0, 0);
		for (my $x = 0; $x < $img->{width}; $x++) {
			my ($r, $g, $b) = @$p[$x * $bpp .. $x * $bpp + 2];
			($g, $b) = ($r, $r) if $bpp < 3;
			my $l = ($r + $g + $b) / 3;
			$dark++ if $l < 80;
			if ($l > 100 && $l < 210 && abs($r - $g) < 12
			    && abs($g - $b) < 12) {
				$best = $run if ++$run > $best;
			} else {
				$run = 0;
			}
		}
		push @lines, $y if $best >= 300;
	}
	# Neighbouring rows are one line drawn over two.
	my @merged;
	for my $y (@lines) {
		push @merged, $y unless @merged && $y - $merged[-1] <= 2
		    && ($merged[-1] = $y);
	}
	return { dark => $dark, lines => scalar @merged };
}

# The cells of the table with id $id in an HTML/DOM text, row by row.
sub table_cells {
	my ($html, $id) = @_;
	$html =~ m{<table\b[^>]*\bid="\Q$id\E"[^>]*>(.*?)</table>}s or return;
	my @rows;
	for my $tr ($1 =~ m{<tr\b[^>]*>(.*?)</tr>}sg) {
		push @rows, [ map { my $t = $_; $t =~ s/<[^>]*>//g;
		    $t =~ s/^\s+|\s+$//g; $t } $tr =~ m{<t[hd]\b[^>]*>(.*?)</t[hd]>}sg ];
	}
	return @rows;
}

subtest 'HTML page in headless Chromium' => sub {
	my $r = status_get($s, 'format=html');
	is($r->{status}, 200, 'GET /status?format=html: 200');
	like($r->{headers}{'content-type'} // '', qr{^text/html\b},
	    'Content-Type text/html');
	my @rows = table_cells($r->{body} // '', 'totals');
	is(scalar @rows, 2, 'a totals table, header and values');

	my ($chromium) = grep { defined } map { which($_) }
	    qw(chromium chromium-browser google-chrome);
	SKIP: {
		skip 'headless Chromium is missing (Debian package chromium)',
		    14 unless $chromium;
		my $profile = $s->path('chromium-profile');
		my @cmd = ($chromium, qw(--headless --no-sandbox --disable-gpu
		    --disable-quic --no-first-run --disable-background-networking
		    --disable-component-update --disable-sync
		    --disable-dev-shm-usage), "--user-data-dir=$profile");
		my $url = 'http://127.0.0.1:' . $s->port('http')
		    . '/status?format=html';

		# The JSON just before the page: the page shows one more
		# request (that JSON's), 2xx, and its body in bytes sent.
		my $st = quiet_status();
		my $dom = run_cmd([@cmd, '--dump-dom', $url], timeout => 90);
		is($dom->{exit}, 0, 'chromium --dump-dom exits 0')
		    or diag(substr($dom->{stderr}, -2000));
		my @t = table_cells($dom->{stdout}, 'totals');
		is(scalar @t, 2, 'the DOM has the totals table, two rows')
		    or diag(substr($dom->{stdout}, 0, 2000));
		my %cell;
		@cell{ @{ $t[0] || [] } } = @{ $t[1] || [] };
		my $tot = $st ? $st->{totals} : {};
		is($cell{workers}, 2, 'totals: workers 2');
		is($cell{requests}, ($tot->{requests} // 0) + 1,
		    'totals: requests, the JSON\'s + 1');
		is($cell{'2xx'}, ($tot->{responses}{'2xx'} // 0) + 1,
		    'totals: 2xx, the JSON\'s + 1');
		is($cell{'4xx'}, $tot->{responses}{'4xx'},
		    'totals: 4xx, the JSON\'s');
		is($cell{'5xx'}, $tot->{responses}{'5xx'},
		    'totals: 5xx, the JSON\'s');
		is($cell{'bytes sent'}, ($tot->{bytes_sent} // 0)
		    + length($st ? $st->{_raw} : ''),
		    'totals: bytes sent, the JSON\'s + its body');
		# The JSON counted its own connection already.
		cmp_ok($cell{accepted} // 0, '>=', ($tot->{accepted} // 0) + 1,
		    'totals: accepted counts the browser\'s connection');
		my @w = table_cells($dom->{stdout}, 'workers');
		is(join(' ', sort { $a <=> $b } map { $_->[0] } @w[1 .. $#w]),
		    join(' ', @workers), 'the workers table lists the worker '
		    . 'pids');

		my $png = $s->path('status.png');
		my $shot = run_cmd([@cmd, "--screenshot=$png",
		    '--window-size=1000,700', $url], timeout => 90);
		is($shot->{exit}, 0, 'chromium --screenshot exits 0')
		    or diag(substr($shot->{stderr}, -2000));
		my $bytes = $s->read_file('status.png') // '';
		cmp_ok(length $bytes, '>', 2000, 'the screenshot is a file of '
		    . 'more than 2000 bytes');
		my $img = png_decode($bytes);
		ok(!$img->{error} && $img->{width} == 1000
		    && $img->{height} == 700, 'it is a 1000x700 PNG that '
		    . 'decodes') or diag($img->{error} // "$img->{width}x"
		    . "$img->{height}");
		my $look = $img->{rows} ? png_look($img) : { dark => 0,
		    lines => 0 };
		# Totals: 3 borders across (2 rows); workers: 2 + 2 rows;
		# TLS: 3 (2 rows).
		ok($look->{dark} > 1000 && $look->{lines} == 3 + 4 + 3,
		    'it shows text and the three tables (10 row borders)')
		    or diag("dark pixels $look->{dark}, grey lines "
		    . "$look->{lines}; kept in " . $s->testdir);
	}
};

is($s->stop, 0, 'QUIT: exit status 0');
is_deeply([$s->orphans], [], 'no worker outlives the master');
$s->log_clean_ok(\@expected_errors);

done_testing();
