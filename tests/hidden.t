#!/usr/bin/perl
# hidden.t: names that start with "." are not served (404, as if absent):
# .git/config, .env, .htpasswd, in any folder and in any spelling the
# path decoder turns into them (%2e, /a/../.git); /.well-known/ is (RFC
# 8615: ACME challenges, security.txt); "hidden_files on" serves them all.

use strict;
use warnings;

use Test::More;
use Forkloop;

Forkloop::check_binary();
Forkloop::watchdog(60);

my %files = (
	'www/index.html' => "index\n",
	'www/.git/config' => "[core]\n\trepositoryformatversion = 0\n",
	'www/.env' => "DB_PASSWORD=secret\n",
	'www/sub/.htpasswd' => "admin:\$apr1\$x\n",
	'www/sub/visible.txt' => "visible\n",
	'www/.well-known/acme-challenge/token1' => "token1.thumb\n",
	'www/.well-known/security.txt' => "Contact: mailto:sec\@example\n",
	'www/.well-known/.hidden-inside' => "no\n",
	'www/not.hidden.txt' => "dots inside are fine\n",
);

my $s = Forkloop->new(start => 0, files => \%files, config => <<'CONF');
workers 1;
worker_connections 256;
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    root %%TESTDIR%%/www;
}
http {
    listen 127.0.0.1:%%PORT_OPEN%%;
    root %%TESTDIR%%/www;
    hidden_files on;
}
CONF
$s->run;

sub get {
	my ($path, $port) = @_;
	return $s->http("GET $path HTTP/1.1\r\nHost: x\r\nConnection: close"
	    . "\r\n\r\n", port => $port // $s->port('http'));
}

for my $path ('/.git/config', '/.git/', '/.git', '/.env', '/sub/.htpasswd',
    '/%2egit/config', '/%2Eenv', '/sub/../.env', '/x/..%2f.env',
    '/.well-known/.hidden-inside') {
	my $r = get($path);
	is($r->{status}, 404, "$path: 404");
	unlike($r->{body} // '', qr/secret|repositoryformat|apr1/,
	    "$path: nothing of the file");
}

for my $case (['/.well-known/acme-challenge/token1', "token1.thumb\n"],
    ['/.well-known/security.txt', "Contact: mailto:sec\@example\n"],
    ['/not.hidden.txt', "dots inside are fine\n"],
    ['/sub/visible.txt', "visible\n"]) {
	my ($path, $body) = @$case;
	my $r = get($path);
	is($r->{status}, 200, "$path: 200");
	is($r->{body}, $body, "$path: the file");
}
is(get('/.well-known')->{status}, 301, '/.well-known: to the folder');

my $open = $s->port('open');
is(get('/.env', $open)->{body}, "DB_PASSWORD=secret\n",
    'hidden_files on: .env is served');
is(get('/.git/config', $open)->{status}, 200,
    'hidden_files on: .git/config is served');

$s->stop;
is($s->exit_status, 0, 'stop: exit status 0');
$s->log_clean_ok;

done_testing();
