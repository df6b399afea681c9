#!/usr/bin/perl
# include.t: "include sites-enabled/*.conf;" as an nginx user writes it.
# forkloop -t accepts a main config that includes a folder of sites, one
# http block per file on ports of their own; the server started on it
# serves both, each its own files, relative paths in a site's file taken
# from the main file's folder; and a mistake in a site's file is reported
# with that file's name and line, a missing file at the include line.

use strict;
use warnings;

use Test::More;
use IO::Socket::INET;
use Forkloop qw(run_forkloop printable wait_for);

Forkloop::check_binary();
Forkloop::watchdog(60);

my $s = Forkloop->new(start => 0, files => {
	'www-a/index.html' => "site a\n",
	'www-b/index.html' => "site b\n",
	'sites-enabled/README' => "not a site: the glob skips it\n",
	'sites-broken/x.conf' => "http {\n    listen 127.0.0.1:1;\n"
	    . "    bogus on;\n}\n" },
    config => <<'CONF');
workers 1;
worker_connections 256;
shutdown_timeout 5s;

include sites-enabled/*.conf;
CONF
my $dir = $s->testdir;

for my $site (qw(a b)) {
	$s->write_file("sites-enabled/$site.conf", $s->expand(<<"SITE"));
# site $site
http {
    listen 127.0.0.1:%%PORT_\U$site\E%%;
    root www-$site;
    access_log $site.log;
}
SITE
}

sub show {
	my ($r) = @_;
	return "exit " . ($r->{exit} // "signal $r->{signal}")
	    . "\nstderr: " . printable($r->{stderr}, 400);
}

subtest 'forkloop -t accepts the sites' => sub {
	my $r = run_forkloop(args => ['-t', '-c', $s->conf_file]);
	is($r->{exit}, 0, '-t: exit 0') or diag(show($r));
};

subtest 'each site answers on its port' => sub {
	$s->run;
	# The harness waits for the main file's listens; these are included.
	for my $site (qw(a b)) {
		ok(wait_for(sub {
			my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
			    PeerPort => $s->port($site), Proto => 'tcp',
			    Timeout => 1) or return 0;
			close $c;
			return 1;
		}, 10), "site $site listens");
		my $r = $s->http_get('/', port => $s->port($site));
		is($r->{status}, 200, "site $site: 200");
		is($r->{body}, "site $site\n", "site $site: its own root");
	}
	ok(wait_for(sub { -s "$dir/a.log" && -s "$dir/b.log" }, 5),
	    'access logs next to the main file');
	is($s->stop, 0, 'stops cleanly');
};

subtest 'mistakes name the file they are in' => sub {
	my $main = $s->write_file('broken.conf',
	    "workers 1;\ninclude sites-broken/*.conf;\n");
	my $r = run_forkloop(args => ['-t', '-c', $main]);
	is($r->{exit}, 1, 'an error in a site: -t exits 1');
	like($r->{stderr}, qr{^\Q$dir\E/sites-broken/x\.conf:3: unknown directive "bogus"}m,
	    'the site file and its line') or diag(show($r));

	$main = $s->write_file('missing.conf',
	    "workers 1;\n\ninclude sites/none.conf;\n");
	$r = run_forkloop(args => ['-t', '-c', $main]);
	is($r->{exit}, 1, 'a missing file: -t exits 1');
	like($r->{stderr}, qr{^\Q$main\E:3: include "\Q$dir\E/sites/none\.conf": cannot open}m,
	    'the including file and line') or diag(show($r));
};

done_testing();
