#!/usr/bin/perl
# locations.t: "location" blocks as an nginx user writes them: exact
# ("=") before the longest prefix, "^~" as a prefix, the block's
# directives inherited wherever they stand in the block (before or after
# the location), a location's own root, alias, index, return,
# add_header (which replaces the block's list), expires, default_type,
# error_page, max_body_size and access_log; try_files for a single-page
# app ($uri, $uri/, a fallback path, =404); over HTTP/1.1 and, where
# curl can, HTTP/2; and the config errors (a broken regex, nesting,
# a duplicate, root with alias, directives a location cannot hold).

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(sleep);
use Forkloop qw(wait_for);

Forkloop::check_binary();
Forkloop::watchdog(60);

my $s = Forkloop->new(start => 0, files => {
    'www/index.html' => "site index\n",
    'www/page.html' => "page\n",
    'www/img/logo.txt' => "from www/img\n",
    'pics/logo.txt' => "from pics\n",
    'pics/index.html' => "pics index\n",
    'docs/index.htm' => "docs htm\n",
    'docs/a.html' => "docs a\n",
    'www/app/index.html' => "spa shell\n",
    'www/app/main.js' => "js asset\n",
    'www/app/sub/index.html' => "sub index\n",
    'www/app/.env' => "SECRET=1\n",
    'www/errors/404.html' => "custom not found\n",
    'www/data/blob.unknownext' => "blob\n",
}, config => <<'CONF');
workers 1;
worker_connections 256;
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    root %%TESTDIR%%/www;
    access_log %%TESTDIR%%/access.log;
    add_header X-Block block;
    location /img/ {
        alias %%TESTDIR%%/pics/;
        add_header X-Loc img;
        expires 1h;
    }
    location ^~ /docs/ {
        alias %%TESTDIR%%/docs;
        index index.htm;
        access_log %%TESTDIR%%/docs.log;
    }
    location = /exact {
        return 200 "exact $uri";
    }
    location /exact {
        return 200 "prefix $uri";
    }
    location /old/ {
        return 301 https://$host$request_uri;
    }
    location /app/ {
        try_files $uri $uri/ /app/index.html;
    }
    location /strict/ {
        try_files $uri =404;
    }
    location /data/ {
        default_type application/x-data;
    }
    location /small/ {
        max_body_size 10;
    }
    location /err/ {
        error_page 404 /errors/404.html;
    }
    route /echo echo;
    route /hello/ hello;
    default_type text/x-after;
    expires 5m;
}
CONF
$s->run;

sub get {
	my ($target, %o) = @_;
	my $method = $o{method} // 'GET';
	my $body = $o{body} // '';
	my $extra = length $body ? "Content-Length: " . length($body)
	    . "\r\n" : '';
	return $s->http("$method $target HTTP/1.1\r\nHost: a.example\r\n"
	    . $extra . "Connection: close\r\n\r\n$body", %o);
}

subtest 'exact, then the longest prefix; else the block' => sub {
	my $r = get('/exact');
	is($r->{body}, 'exact /exact', '"= /exact" for /exact');
	$r = get('/exact/more');
	is($r->{body}, 'prefix /exact/more', 'the prefix /exact for below it');
	$r = get('/exactly');
	is($r->{body}, 'prefix /exactly', 'a prefix matches mid-segment, '
	    . 'as in nginx');
	$r = get('/page.html');
	is($r->{status}, 200, 'no location: the block');
	is($r->{body}, "page\n", 'the block\'s root');
	is($r->{headers}{'x-block'}, 'block', 'the block\'s add_header');
	like($r->{headers}{'cache-control'} // '', qr/max-age=300/,
	    'expires from after the locations in the block');
	$r = get('/a/../exact');
	is($r->{body}, 'exact /exact', 'matched on the normalised path');
	$r = get('/%65xact');
	is($r->{body}, 'exact /exact', 'matched on the decoded path');
};

subtest 'alias, and add_header replacing the block\'s' => sub {
	my $r = get('/img/logo.txt');
	is($r->{status}, 200, 'status 200');
	is($r->{body}, "from pics\n", 'alias: the prefix stands for pics/');
	is($r->{headers}{'x-loc'}, 'img', 'the location\'s add_header');
	ok(!exists $r->{headers}{'x-block'},
	    'not the block\'s: a location\'s list replaces it');
	like($r->{headers}{'cache-control'} // '', qr/max-age=3600/,
	    'the location\'s expires');
	$r = get('/img/');
	is($r->{body}, "pics index\n", 'the alias folder\'s index');
	$r = get('/img/../img/logo.txt');
	is($r->{body}, "from pics\n", 'after normalising');
	$r = get('/img/%2e%2e/index.html');
	is($r->{body}, "site index\n", '"/img/%2e%2e/" leaves the location '
	    . 'before it is chosen: the block\'s file, nothing outside');
	$r = get('/docs/');
	is($r->{body}, "docs htm\n", '^~, alias without a slash, own index');
	$r = get('/docs/a.html');
	is($r->{body}, "docs a\n", 'a file under it');
	$r = get('/docs');
	is($r->{status}, 404, '/docs is not under "/docs/": the block\'s '
	    . 'root has no docs/, 404 (as nginx, which redirects only for '
	    . 'proxy_pass)');
};

subtest 'return, default_type, error_page, max_body_size' => sub {
	my $r = get('/old/x?y=1');
	is($r->{status}, 301, 'return 301 in a location');
	is($r->{headers}{location}, 'https://a.example/old/x?y=1',
	    'with $host$request_uri');
	$r = get('/data/blob.unknownext');
	is($r->{headers}{'content-type'}, 'application/x-data',
	    'the location\'s default_type');
	$r = get('/page.unknownext');
	is($r->{status}, 404, 'missing');
	$r = get('/err/missing');
	is($r->{status}, 404, 'error_page keeps the status');
	is($r->{body}, "custom not found\n", 'the location\'s error page');
	$r = get('/nothing-here');
	like($r->{body}, qr/404 Not Found/, 'elsewhere the built-in page');
	$r = get('/small/x', method => 'POST', body => 'x' x 11);
	is($r->{status}, 413, 'max_body_size 10 in /small/: 11 bytes: 413');
	$r = get('/echo', method => 'POST', body => 'x' x 11);
	is($r->{status}, 200, 'the block\'s limit elsewhere: 200');
	is($r->{body}, 'x' x 11, 'echoed');
	$r = get('/hello/loc');
	like($r->{body}, qr/hello, loc/, 'routes still work');
};

subtest 'try_files' => sub {
	my $r = get('/app/main.js');
	is($r->{body}, "js asset\n", '$uri: the file');
	$r = get('/app/some/client/route');
	is($r->{status}, 200, 'a client-side route: 200');
	is($r->{body}, "spa shell\n", 'the fallback /app/index.html');
	$r = get('/app/sub/');
	is($r->{body}, "sub index\n", '$uri/: the folder\'s index');
	$r = get('/app/.env');
	is($r->{status}, 404, 'a hidden file: 404 before any try_files');
	$r = get('/strict/none');
	is($r->{status}, 404, '=404 when nothing matches');
};

subtest 'HTTP/2 chooses the same locations' => sub {
	my $curl = `command -v curl 2>/dev/null`;
	chomp $curl;
	plan skip_all => 'no curl' unless $curl;
	my $port = $s->port('http');
	my $out = `curl -s --http2-prior-knowledge -D - http://127.0.0.1:$port/img/logo.txt`;
	like($out, qr{^HTTP/2 200}m, 'h2c: 200');
	like($out, qr/^x-loc: img/mi, 'h2c: the location\'s header');
	like($out, qr/from pics/, 'h2c: the alias');
};

subtest 'access_log per location' => sub {
	get('/docs/a.html');
	get('/page.html');
	$s->stop;
	my $docs = $s->read_file('docs.log') // '';
	my $main = $s->read_file('access.log') // '';
	like($docs, qr{"GET /docs/a.html HTTP/1.1" 200}, 'docs.log has the '
	    . '/docs/ request');
	unlike($docs, qr{/page.html}, 'and not the others');
	like($main, qr{"GET /page.html HTTP/1.1" 200}, 'access.log has the '
	    . 'block\'s');
	unlike($main, qr{GET /docs/a.html}, 'and not /docs/');
};
is($s->exit_status, 0, 'stop: exit status 0');
$s->log_clean_ok;

my @broken = (
	['a regular expression that does not compile', "http {\n"
	    . " listen 8080;\n location ~\n (\\.php\$ { }\n}\n", 4],
	['nested', "http {\n listen 8080;\n location /a/ {\n"
	    . "  location /a/b/ { }\n }\n}\n", 4],
	['a duplicate', "http {\n listen 8080;\n location /a/ { }\n"
	    . " location\n /a/ { }\n}\n", 5],
	['root and alias', "http {\n listen 8080;\n location /a/ {\n"
	    . "  root /tmp;\n  alias /tmp;\n }\n}\n", 3],
	['listen in a location', "http {\n listen 8080;\n location /a/ {\n"
	    . "  listen 8081;\n }\n}\n", 4],
	['alias outside a location', "http {\n listen 8080;\n alias /tmp;\n"
	    . "}\n", 3],
	['no slash', "http {\n listen 8080;\n location a/ { }\n}\n", 3],
	['a bad modifier', "http {\n listen 8080;\n location !\n /a { }\n"
	    . "}\n", 3],
	['try_files with a bad code', "http {\n listen 8080;\n"
	    . " try_files \$uri =99;\n}\n", 3],
	['try_files with one argument', "http {\n listen 8080;\n"
	    . " try_files \$uri;\n}\n", 3],
	['try_files with a named location', "http {\n listen 8080;\n"
	    . " try_files \$uri \@app;\n}\n", 3],
);
Forkloop->new(start => 0, config => { workers => 1 })
    ->config_errors_ok(\@broken);

done_testing();
