#!/usr/bin/perl
# h2_browser.t: a browser gets HTTP/2.  Headless Chromium loads the sample
# site that ships with forkloop (conf/www/index.html) over HTTPS, where
# ALPN offers h2, and over plain HTTP: the page writes the protocol the
# browser used (PerformanceNavigationTiming.nextHopProtocol) into its
# DOM, which --dump-dom prints: "h2" over HTTPS, "http/1.1" over HTTP.
# The access log shows the HTTP/2.0 request.

use strict;
use warnings;

use Test::More;
use Forkloop;
use Forkloop::Ops qw(run_cmd which);
use Forkloop::TLS qw(make_ca make_cert);

Forkloop::check_binary();
Forkloop::watchdog(200);

my ($chromium) = grep { defined } map { which($_) }
    qw(chromium chromium-browser google-chrome);
plan skip_all => 'headless Chromium is missing (Debian package chromium)'
    unless $chromium;
plan skip_all => 'openssl is missing' unless which('openssl');

my $page = Forkloop::_slurp(Forkloop::srcdir() . '/conf/www/index.html');
my $pki_s = Forkloop->new(start => 0);
my $pki = $pki_s->testdir;
my $ca = make_ca($pki, name => 'root');
my $leaf = make_cert($pki, name => 'leaf', cn => 'localhost', ca => $ca,
    dns => ['localhost'], ip => ['127.0.0.1']);

my $s = Forkloop->new(start => 0, files => { 'www/index.html' => $page },
    config => <<"CONF");
workers 1;
worker_connections 256;
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    listen 127.0.0.1:%%PORT_HTTPS%% ssl;
    ssl_certificate $leaf->{cert};
    ssl_certificate_key $leaf->{key};
    root %%TESTDIR%%/www;
    access_log %%TESTDIR%%/access.log;
}
CONF
$s->run;

my $profile = $s->path('chromium-profile');
my @cmd = ($chromium, qw(--headless --no-sandbox --disable-gpu
    --disable-quic --no-first-run --disable-background-networking
    --disable-component-update --disable-sync --disable-dev-shm-usage
    --ignore-certificate-errors), "--user-data-dir=$profile");

my $https = 'https://127.0.0.1:' . $s->port('https') . '/';
my $dom = run_cmd([@cmd, '--dump-dom', $https], timeout => 90);
is($dom->{exit}, 0, 'chromium --dump-dom over HTTPS exits 0')
    or diag(substr($dom->{stderr} // '', -2000));
like($dom->{stdout} // '', qr{<span id="protocol">h2</span>},
    'the page says it came over h2')
    or diag(substr($dom->{stdout} // '', 0, 2000));

my $http = 'http://127.0.0.1:' . $s->port('http') . '/';
$dom = run_cmd([@cmd, '--dump-dom', $http], timeout => 90);
like($dom->{stdout} // '', qr{<span id="protocol">http/1\.1</span>},
    'over plain HTTP, http/1.1 (a browser sends no h2c preface)')
    or diag(substr($dom->{stdout} // '', 0, 2000));

$s->stop;
like($s->read_file('access.log') // '', qr{"GET / HTTP/2\.0" 200},
    'the access log has the HTTP/2.0 request');
is($s->exit_status, 0, 'stop: exit status 0');
$s->log_clean_ok;

done_testing();
