#!/usr/bin/perl
# log_format.t: nginx's log_format and access_log PATH NAME [buffer=]
# [flush=]: the variables ($remote_addr, $time_local, $request, $status,
# $body_bytes_sent, $http_NAME, $request_time, $host, $server_protocol,
# $uri, $args, $scheme, ...), single-quoted strings joined, escape=json
# and the default \xHH escaping, a location's own log, HTTP/2 requests;
# flush= writing within its time; and the config errors (an unknown
# variable, an unknown format, a bad parameter).

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(sleep);
use JSON::PP;
use Forkloop qw(wait_for);

Forkloop::check_binary();
Forkloop::watchdog(60);

my $s = Forkloop->new(start => 0, files => {
    'www/index.html' => "index\n",
    'www/api/x.json' => "{}\n",
}, config => <<'CONF');
workers 1;
worker_connections 256;
log_format main '$remote_addr - $remote_user [$time_local] "$request" '
    '$status $body_bytes_sent "$http_referer" "$http_user_agent" '
    'rt=$request_time host=$host proto=$server_protocol scheme=$scheme';
log_format js escape=json '{"uri":"$uri","args":"$args",'
    '"ua":"$http_user_agent","status":$status,"bytes":$body_bytes_sent,'
    '"x":"${http_x_test}"}';
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    root %%TESTDIR%%/www;
    access_log %%TESTDIR%%/main.log main buffer=4k flush=100ms;
    location /api/ {
        access_log %%TESTDIR%%/api.log js;
    }
}
http {
    listen 127.0.0.1:%%PORT_COMBINED%%;
    root %%TESTDIR%%/www;
    access_log %%TESTDIR%%/combined.log combined buffer=64k;
}
CONF
$s->run;
my $port = $s->port('http');

$s->http("GET /index.html?q=1 HTTP/1.1\r\nHost: Example.ORG:8080\r\n"
    . "User-Agent: my \"agent\"\r\nReferer: http://ref.example/\r\n"
    . "Connection: close\r\n\r\n");
my $main;
ok(wait_for(sub { ($main = $s->read_file('main.log') // '') =~ /\n/ }, 3),
    'flush=100ms: the line is written without a stop');
like($main, qr{^127\.0\.0\.1\ -\ -\ \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d\ [+-]\d{4}\]\ 
    "GET\ /index\.html\?q=1\ HTTP/1\.1"\ 200\ 6\ "http://ref\.example/"\ 
    "my\ \\x22agent\\x22"\ rt=\d+\.\d{3}\ host=example\.org\ 
    proto=HTTP/1\.1\ scheme=http$}mx,
    'every variable, the default escaping, $host in lower case without '
    . 'its port') or diag($main);

my $out = `curl -s --http2-prior-knowledge -o /dev/null http://127.0.0.1:$port/`;
ok(wait_for(sub { ($main = $s->read_file('main.log') // '') =~
    m{"GET / HTTP/2\.0" 200 6 .* proto=HTTP/2\.0} }, 3),
    'an HTTP/2 request: HTTP/2.0') or diag($main);

$s->http("GET /api/x.json?a=%22b HTTP/1.1\r\nHost: a\r\nX-Test: q\"u\\o\r\n"
    . "User-Agent: t\r\nConnection: close\r\n\r\n");
$s->http("GET /api/none HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
# The built-in combined format: the escaping in runs (a quote, a
# backslash, a tab and a byte above 0x7f among plain bytes), the
# address, status and byte count written without printf, and a
# User-Agent longer than the line's room cut without breaking its shape.
my $cport = $s->port('combined');
$s->http("GET /index.html HTTP/1.1\r\nHost: a\r\nUser-Agent: a\"b\\c\td\xe9e"
    . "f\r\nReferer: r\r\nConnection: close\r\n\r\n", port => $cport);
$s->http("GET /none HTTP/1.1\r\nHost: a\r\nUser-Agent: " . ('x' x 6000)
    . "\"\r\nConnection: close\r\n\r\n", port => $cport);
$s->stop;
my @comb = split /\n/, $s->read_file('combined.log') // '';
is(scalar @comb, 2, 'combined: two lines');
like($comb[0] // '', qr{^127\.0\.0\.1 - - \[[^\]]+\] "GET /index\.html HTTP/1\.1" 200 6 "r" "a\\x22b\\x5Cc\\x09d\\xE9ef"$},
    'combined: runs of plain bytes and each escape as nginx writes it')
    or diag($comb[0]);
like($comb[1] // '', qr{^127\.0\.0\.1 - - \[[^\]]+\] "GET /none HTTP/1\.1" 404 \d+ "-" "x{100,}(?:\\x22)?"$},
    'combined: a long User-Agent is cut inside its quotes') or diag(substr($comb[1] // '', 0, 200));
my @api = split /\n/, $s->read_file('api.log') // '';
is(scalar @api, 2, 'the location\'s own log has its two requests');
my @j = map { eval { decode_json($_) } } @api;
is(scalar @j, 2, 'escape=json: each line is JSON') or diag(join("\n", @api));
is($j[0]{uri}, '/api/x.json', '$uri');
is($j[0]{args}, 'a=%22b', '$args as sent');
is($j[0]{x}, 'q"u\\o', '${http_x_test}: quotes and backslashes kept');
is($j[0]{status}, 200, '$status');
is($j[0]{bytes}, 3, '$body_bytes_sent');
is($j[1]{status}, 404, 'the second: 404');
like($api[1], qr/"ua":"-"/, 'a missing field: "-", as nginx');
unlike($s->read_file('main.log') // '', qr{/api/}, 'and not in main.log');
is($s->exit_status, 0, 'stop: exit status 0');
$s->log_clean_ok;

my @broken = (
	['an unknown variable', "log_format a '\$nosuch';\nhttp {\n"
	    . " listen 8080;\n}\n", 1],
	['an unknown format', "http {\n listen 8080;\n access_log\n"
	    . " /tmp/x.log\n nope;\n}\n", 5],
	['a bad parameter', "http {\n listen 8080;\n access_log /tmp/x.log"
	    . " combined\n gzip;\n}\n", 4],
	['a bad escape', "log_format a\n escape=xml '\$status';\n"
	    . "http {\n listen 8080;\n}\n", 2],
	['combined is built in', "log_format combined '\$status';\n"
	    . "http {\n listen 8080;\n}\n", 1],
	['a second format of a name', "log_format a '\$status';\n"
	    . "log_format a '\$uri';\nhttp {\n listen 8080;\n}\n", 2],
);
Forkloop->new(start => 0, config => { workers => 1 })
    ->config_errors_ok(\@broken);

done_testing();
