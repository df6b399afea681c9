#!/usr/bin/perl
# nginx_config.t: an nginx user's site config, as nginx's documentation
# and the usual tutorials write one, with "server { }" renamed "http { }"
# (forkloop's site block) and the "http { }" and "events { }" wrappers
# dropped (their directives sit at the top level): forkloop -t accepts it,
# and the server started on it does what nginx would with it: the index,
# try_files with =404 and the error_page, a 301 return, an alias folder
# with expires, gzip with nginx's gzip_* words, server_tokens off,
# add_header, allow/deny with auth_basic, limit_req with proxy_pass and
# nginx's usual proxy_set_header lines (to an upstream that is down:
# 502), and an access log in nginx's "main" log_format.

use strict;
use warnings;

use Test::More;
use Forkloop qw(run_forkloop printable free_port wait_for);

Forkloop::check_binary();
Forkloop::watchdog(60);

my $htpasswd = `openssl passwd -apr1 s3cret 2>/dev/null`;
chomp $htpasswd;
plan skip_all => 'openssl is needed to make the htpasswd file'
    unless $htpasswd =~ /^\$apr1\$/;

my ($dead1, $dead2) = (free_port(), free_port());
my $s = Forkloop->new(start => 0, files => {
	'www/index.html' => "<h1>home</h1>\n",
	'www/404.html' => "<h1>not here</h1>\n",
	'www/notes.txt' => ("a line of text to compress\n" x 40),
	'www/admin/index.html' => "admin\n",
	'static/app.css' => "body { color: black }\n",
	'htpasswd' => "alice:$htpasswd\n",
}, config => <<"CONF");
worker_processes 1;
worker_shutdown_timeout 5s;
worker_connections 256;

log_format main '\$remote_addr - \$remote_user [\$time_local] "\$request" '
                '\$status \$body_bytes_sent "\$http_referer" '
                '"\$http_user_agent" "\$http_x_forwarded_for"';

limit_req_zone \$binary_remote_addr zone=one:10m rate=100r/s;

upstream backend {
    server 127.0.0.1:$dead1 weight=5;
    server 127.0.0.1:$dead2 backup;
    keepalive 16;
}

http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    server_name example.com www.example.com;
    root %%TESTDIR%%/www;
    index index.html index.htm;

    client_max_body_size 1m;
    client_header_timeout 10s;
    client_body_timeout 10s;
    keepalive_timeout 65;
    server_tokens off;

    gzip on;
    gzip_types text/plain application/json;
    gzip_min_length 20;
    gzip_comp_level 5;

    access_log %%TESTDIR%%/access.log main buffer=32k flush=1s;
    error_page 404 /404.html;
    add_header X-Frame-Options SAMEORIGIN;

    location / {
        try_files \$uri \$uri/ =404;
    }
    location = /old {
        return 301 /new;
    }
    location /static/ {
        alias %%TESTDIR%%/static/;
        expires 30d;
    }
    location /api/ {
        limit_req zone=one burst=20 nodelay;
        proxy_pass http://backend;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host \$host;
        proxy_set_header X-Real-IP \$remote_addr;
        proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
        proxy_connect_timeout 5s;
        proxy_read_timeout 60s;
    }
    location /admin/ {
        allow 127.0.0.1;
        deny all;
        auth_basic "Restricted";
        auth_basic_user_file %%TESTDIR%%/htpasswd;
    }
}
CONF

my $t = run_forkloop(args => ['-t', '-c', $s->conf_file]);
is($t->{exit}, 0, 'forkloop -t accepts the nginx-style config')
    or diag(printable($t->{stderr}, 600));
$s->run;

my $r = $s->http_get('/');
is($r->{status}, 200, 'GET /: 200');
is($r->{body}, "<h1>home</h1>\n", '... the index file');
is($r->{headers}{server}, 'forkloop', 'server_tokens off: no version');
is($r->{headers}{'x-frame-options'}, 'SAMEORIGIN', 'add_header');

$r = $s->http_get('/nothing-here');
is($r->{status}, 404, 'try_files ... =404: 404');
is($r->{body}, "<h1>not here</h1>\n", '... with the error_page');

$r = $s->http_get('/old');
is($r->{status}, 301, 'location = /old { return 301 /new; }: 301');
like($r->{headers}{location} // '', qr{/new\z}, '... to /new');

$r = $s->http_get('/static/app.css');
is($r->{status}, 200, 'alias: 200');
is($r->{body}, "body { color: black }\n", '... the file from the alias');
like($r->{headers}{'cache-control'} // '', qr/max-age=2592000/,
    'expires 30d: max-age=2592000');

$r = $s->http_get('/notes.txt', headers => ['Accept-Encoding' => 'gzip']);
is($r->{headers}{'content-encoding'}, 'gzip', 'gzip on, gzip_types: gzip');
ok(length($r->{body} // '') < 40 * 27, '... and smaller');

$r = $s->http_get('/admin/', quiet => 1);
is($r->{status}, 401, 'allow, then auth_basic: 401 without credentials');
like($r->{headers}{'www-authenticate'} // '', qr/^Basic realm="Restricted"/,
    '... with the realm');
$r = $s->http_get('/admin/', headers => ['Authorization' => 'Basic '
    . 'YWxpY2U6czNjcmV0']);		# alice:s3cret
is($r->{status}, 200, 'auth_basic with the password: 200');

$r = $s->http_get('/api/items', quiet => 1);
is($r->{status}, 502, 'proxy_pass to an upstream that is down: 502');

ok(wait_for(sub {
	my $log = $s->read_file('access.log') // '';
	return $log =~ m{^127\.0\.0\.1 - alice \[[^\]]+\] "GET /admin/ HTTP/1\.1" 200 \d+ "-" "[^"]*" "-"$}m;
}, 5), 'the access log in nginx\'s "main" format, $remote_user included')
    or diag($s->read_file('access.log'));

ok($s->alive, 'forkloop still running');
is($s->stop, 0, 'exit status 0 on QUIT');

done_testing;
