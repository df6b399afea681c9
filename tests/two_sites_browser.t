#!/usr/bin/perl
# two_sites_browser.t: the two-site sample (conf/two-sites.conf, its pages
# conf/www and conf/www-b) in a browser.  forkloop runs the sample as it
# ships, its port changed to a free one; headless Chromium loads
# http://a.localhost:PORT/ and http://b.localhost:PORT/ (Chromium takes
# every *.localhost name as the loopback address, RFC 6761 6.3) and each
# name gets its own site, chosen by the Host header; a name that is
# neither gets the first block, the default.  --dump-dom prints the page.

use strict;
use warnings;

use Test::More;
use Forkloop;
use Forkloop::Ops qw(run_cmd which);

Forkloop::check_binary();
Forkloop::watchdog(240);

my ($chromium) = grep { defined } map { which($_) }
    qw(chromium chromium-browser google-chrome);
plan skip_all => 'headless Chromium is missing (Debian package chromium)'
    unless $chromium;

my $src = Forkloop::srcdir() . '/conf';
my $sample = Forkloop::_slurp("$src/two-sites.conf");
my %files;
for my $f (qw(www/index.html www/style.css www-b/index.html
    www-b/style.css)) {
	$files{$f} = Forkloop::_slurp("$src/$f");
}
ok($sample =~ /listen 127\.0\.0\.1:8081;/ && $files{'www-b/index.html'},
    'the sample config and both sites\' pages are in conf/');

# The sample as it ships, on a free port, with the pid file the harness
# watches.
my $conf = $sample =~ s/127\.0\.0\.1:8081/127.0.0.1:%%PORT_HTTP%%/gr
    =~ s/^pid two-sites\.pid;/pid forkloop.pid;/mr;
my $s = Forkloop->new(start => 0, raw_config => 1, files => \%files,
    config => $conf);
my $check = Forkloop::run_forkloop(args => ['-t', '-c', $s->conf_file]);
is($check->{exit}, 0, 'forkloop -t accepts the sample')
    or diag($check->{stderr});
$s->run;
my $port = $s->port('http');

my $profile = $s->path('chromium-profile');
my @cmd = ($chromium, qw(--headless --no-sandbox --disable-gpu
    --disable-quic --no-first-run --disable-background-networking
    --disable-component-update --disable-sync --disable-dev-shm-usage),
    '--host-resolver-rules=MAP *.localhost 127.0.0.1',
    "--user-data-dir=$profile");

sub dom {
	my ($host) = @_;
	my $r = run_cmd([@cmd, '--dump-dom', "http://$host:$port/"],
	    timeout => 90);
	diag("chromium exit $r->{exit}: " . substr($r->{stderr} // '', -1500))
	    if ($r->{exit} // 1) != 0;
	return $r->{stdout} // '';
}

my $a = dom('a.localhost');
like($a, qr{<h1>forkloop is running</h1>},
    'a.localhost: the sample site (conf/www)')
    or diag(substr($a, 0, 1500));
unlike($a, qr{id="site">b\.localhost}, '... not the second site');

my $b = dom('b.localhost');
like($b, qr{<h1 id="site">b\.localhost</h1>},
    'b.localhost: the second site (conf/www-b)')
    or diag(substr($b, 0, 1500));

my $other = dom('c.localhost');
like($other, qr{<h1>forkloop is running</h1>},
    'another name: the first block, the default');

ok($s->alive, 'forkloop still running');
$s->stop;
is($s->exit_status, 0, 'stop: exit status 0');

done_testing();
