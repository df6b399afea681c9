#!/usr/bin/perl
# chat_ws_browser.t: the sample chat page (conf/www/chat.html) in a real
# browser.  Headless Chromium opens it twice; the test drives the two
# pages through Chromium's DevTools protocol (remote debugging, itself a
# WebSocket: tests/lib/Forkloop/WebSocket.pm talks to it), types a line
# into page A and presses Enter, and reads page B's DOM until the line
# shows; an nc client of the same room hears it too, and its own line
# shows in both pages.  The sample site's index links to the page.

use strict;
use warnings;

use Test::More;
use IO::Select;
use IO::Socket::INET;
use JSON::PP ();
use Time::HiRes qw(time sleep);
use Forkloop qw(wait_for printable);
use Forkloop::Ops qw(start_bg which);
use Forkloop::WebSocket;

Forkloop::check_binary();
Forkloop::watchdog(200);

my ($chromium) = grep { defined } map { which($_) }
    qw(chromium chromium-browser google-chrome);
plan skip_all => 'headless Chromium is missing (Debian package chromium)'
    unless $chromium;

my $src = Forkloop::srcdir();
my %files = map { ("www/$_" => Forkloop::_slurp("$src/conf/www/$_")) }
    qw(index.html chat.html style.css);
my $s = Forkloop->new(files => \%files, config => <<'CONF');
workers 2;
worker_connections 256;
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    root %%TESTDIR%%/www;
    access_log %%TESTDIR%%/access.log;
    websocket /chat 127.0.0.1:%%PORT_CHAT%%;
}
chat {
    listen 127.0.0.1:%%PORT_CHAT%%;
}
CONF
my $base = 'http://127.0.0.1:' . $s->port('http');

like($s->http_get('/')->{body} // '', qr{<a href="/chat\.html">},
    'the sample index links to chat.html');

###########################################################################
# Chromium with remote debugging; its port is in DevToolsActivePort.

my $profile = $s->path('chromium-profile');
my $browser = start_bg([$chromium, qw(--headless --no-sandbox --disable-gpu
    --no-first-run --disable-background-networking --disable-component-update
    --disable-sync --disable-dev-shm-usage --remote-debugging-port=0),
    "--user-data-dir=$profile", 'about:blank'],
    log => $s->path('chromium.log'));
my $devtools_port;
wait_for(sub {
	return 1 unless $browser->alive;
	my $f = Forkloop::_slurp("$profile/DevToolsActivePort") // '';
	($devtools_port) = $f =~ /^(\d+)\n/;
	return defined $devtools_port;
}, 60);
unless ($devtools_port) {
	diag(substr($browser->log_text, -2000));
	BAIL_OUT('Chromium did not open its DevTools port');
}

# A new page at $url: its DevTools WebSocket, as a client with a counter.
sub open_page {
	my ($url) = @_;
	my $c = Forkloop::Conn->new(port => $devtools_port, timeout => 30);
	# PUT: Chromium refuses a GET of /json/new (since 111).
	$c->send("PUT /json/new?$url HTTP/1.1\r\n"
	    . "Host: 127.0.0.1:$devtools_port\r\nConnection: close\r\n\r\n");
	my $r = $c->response;
	$c->close;
	my $target = JSON::PP->new->decode($r->{body});
	my ($path) = $target->{webSocketDebuggerUrl} =~ m{^ws://[^/]+(/.*)$}
	    or die "no DevTools WebSocket for $url: $r->{body}\n";
	my $ws = Forkloop::WebSocket->open(port => $devtools_port,
	    path => $path, host => "127.0.0.1:$devtools_port", timeout => 30);
	die "DevTools handshake: $ws->{response}{status}\n" unless $ws->ok;
	return { ws => $ws, id => 0 };
}

# One DevTools command; its result (events on the way are skipped).
sub cdp {
	my ($page, $method, $params) = @_;
	my $id = ++$page->{id};
	my $json = JSON::PP->new->canonical;
	$page->{ws}->send_text($json->encode({ id => $id, method => $method,
	    params => $params // {} }));
	my $deadline = time + 30;
	while (time < $deadline) {
		my $f = $page->{ws}->read_frame($deadline - time) or last;
		next unless $f->{op} == 1;
		my $m = eval { $json->decode($f->{payload}) } or next;
		next unless ($m->{id} // 0) == $id;
		die "$method: $m->{error}{message}\n" if $m->{error};
		return $m->{result};
	}
	die "$method: no answer within 30 s\n";
}

# A JavaScript expression's value in the page.
sub js {
	my ($page, $expr) = @_;
	my $r = cdp($page, 'Runtime.evaluate', { expression => $expr,
	    returnByValue => JSON::PP::true });
	return $r->{result}{value};
}

sub page_log { js($_[0], 'document.getElementById("log").innerText') // '' }

my @pages = map { open_page("$base/chat.html") } 1 .. 2;
my ($A, $B) = @pages;
for my $i (0, 1) {
	ok(wait_for(sub { (js($pages[$i], 'document.body.dataset.state')
	    // '') eq 'open' }, 30), 'page ' . ('A', 'B')[$i] . ': the '
	    . 'WebSocket is open') or diag(js($pages[$i],
	    'document.getElementById("state").textContent'));
}

# An nc user in the same room.
my $nc = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
    PeerPort => $s->port('chat'), Proto => 'tcp', Timeout => 5)
    or die "connect chat: $!";
$nc->blocking(0);
my $nc_buf = '';
sub nc_wait {
	my ($re) = @_;
	my $sel = IO::Select->new($nc);
	my $deadline = time + 20;
	while ($nc_buf !~ $re && time < $deadline) {
		next unless $sel->can_read($deadline - time);
		my $n = sysread($nc, my $chunk, 65536);
		last if defined $n && $n == 0;
		$nc_buf .= $chunk if $n;
	}
	return $nc_buf =~ $re ? $& : undef;
}
my $nc_name = (nc_wait(qr/^\* welcome, (\S+)$/m) // '') =~ s/^\* welcome, //r;
ok(wait_for(sub { page_log($B) =~ /\Q$nc_name\E joined/ }, 20),
    'page B shows the nc user joining');

###########################################################################
# Typing in page A.

my $line = 'hello from page A ' . int(rand(1e6));
js($A, 'document.getElementById("text").focus()');
cdp($A, 'Input.insertText', { text => $line });
for my $type (qw(keyDown keyUp)) {
	cdp($A, 'Input.dispatchKeyEvent', { type => $type, key => 'Enter',
	    code => 'Enter', windowsVirtualKeyCode => 13,
	    $type eq 'keyDown' ? (text => "\r") : () });
}
ok(wait_for(sub { page_log($B) =~ /^guest\d+-\d+: \Q$line\E$/m }, 20),
    'page B shows the line typed in page A, with its sender\'s name')
    or diag('page B: ' . printable(page_log($B), 600));
like(page_log($A), qr/^me: \Q$line\E$/m, 'page A shows it as its own');
is(js($A, 'document.getElementById("text").value'), '',
    'page A: the input is empty again');
ok(nc_wait(qr/^guest\d+-\d+: \Q$line\E$/m), 'the nc user hears it too');

print {$nc} "hello from nc\n";
ok(wait_for(sub { page_log($A) =~ /^\Q$nc_name\E: hello from nc$/m
    && page_log($B) =~ /^\Q$nc_name\E: hello from nc$/m }, 20),
    'both pages show the nc user\'s line');

# Markup in a line is text, not HTML.
print {$nc} "<b id=\"injected\">bold</b>\n";
ok(wait_for(sub { page_log($A) =~ /<b id="injected">bold<\/b>/ }, 20),
    'a line with markup shows as text');
is(js($A, 'document.getElementById("injected") === null'), 1,
    '... and makes no element');

###########################################################################
# The end.

$_->{ws}->close for @pages;
$browser->stop(5);
close $nc;
$s->stop;
like($s->read_file('access.log') // '', qr{"GET /chat HTTP/1\.1" 101 .*Chrom}s,
    'the access log has the browser\'s 101');
is($s->exit_status, 0, 'stop: exit status 0');
$s->log_clean_ok;

done_testing();
