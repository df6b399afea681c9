#!/usr/bin/perl
# location_regex.t: regular expressions as an nginx user writes them,
# against the real binary.  "location ~" and "~*" are tried in the order
# written after the longest prefix, unless that prefix has "^~"; "=" is
# first of all; a regex beats a longer plain prefix.  Groups ($1, named
# ones) in return, try_files, alias and add_header; server_name ~REGEX
# after exact names and wildcards, chosen by Host.  Hostile input: %00
# in the path, CR LF in a group that goes into a Location, a long path
# against a regex that backtracks without end (500 and a log line, and
# the worker answers the next request).  And "forkloop -t" errors.

use strict;
use warnings;

use Test::More;
use Forkloop qw(wait_for);

Forkloop::check_binary();
Forkloop::watchdog(90);

my $s = Forkloop->new(start => 0, files => {
    'www/index.html' => "site index\n",
    'www/a.php' => "php source\n",
    'www/pages/about.html' => "about page\n",
    'pics/cat.png' => "cat png\n",
    'pics/sub/dog.png' => "dog png\n",
    'outside.txt' => "outside\n",
}, config => <<'CONF');
workers 1;
worker_connections 256;
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    server_name default.example;
    root %%TESTDIR%%/www;
    location = /exact.php {
        return 200 "exact";
    }
    location ^~ /static/ {
        return 200 "static prefix";
    }
    location /long/plain/prefix/ {
        return 200 "long prefix";
    }
    location ~ \.php$ {
        return 200 "first regex $uri";
    }
    location ~ ^/long/.*\.php$ {
        return 200 "second regex";
    }
    location ~* \.(GIF|jpe?g)$ {
        return 200 "image $1";
    }
    location ~ ^/users/(?<user>[a-z]+)/(\d+)$ {
        add_header X-User $user;
        return 200 "user $user id $2 [$3]";
    }
    location ~ ^/go/([^/]*)$ {
        return 302 /to/$1;
    }
    location ~ ^/page/(\w+)$ {
        try_files /pages/$1.html =410;
    }
    location ~ ^/pics/(.+\.png)$ {
        alias %%TESTDIR%%/pics/$1;
    }
    location ~ ^/many/(.+)$ {
        add_header X-H01 $1;
        add_header X-H02 $1;
        add_header X-H03 $1;
        add_header X-H04 $1;
        add_header X-H05 $1;
        add_header X-H06 $1;
        add_header X-H07 $1;
        add_header X-H08 $1;
        add_header X-H09 $1;
        add_header X-H10 $1;
        add_header X-H11 $1;
        add_header X-H12 $1;
        add_header X-H13 $1;
        add_header X-H14 $1;
        add_header X-H15 $1;
        add_header X-H16 $1;
        add_header X-H17 $1;
        add_header X-H18 $1;
        add_header X-H19 $1;
        add_header X-H20 $1;
        add_header X-H21 $1;
        add_header X-H22 $1;
        add_header X-H23 $1;
        add_header X-H24 $1;
        add_header X-H25 $1;
        add_header X-H26 $1;
        add_header X-H27 $1;
        add_header X-H28 $1;
        add_header X-H29 $1;
        add_header X-H30 $1;
        return 200 "many";
    }
    location ~ ^/bomb/(a+)+b$ {
        return 200 "bomb";
    }
}
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    server_name ~^(www\.)?shop\d*\.example$;
    return 200 "shop regex";
}
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    server_name ~^[a-z0-9]+\.example$;
    return 200 "later regex";
}
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    server_name shop.example;
    return 200 "shop exact";
}
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    server_name *.wild.example;
    return 200 "leading wildcard";
}
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    server_name dots.example;
    root %%TESTDIR%%/www;
    hidden_files on;
    follow_symlinks on;
    location ~ ^/v/([^-]+)-([^-]+)-(.+)$ {
        alias %%TESTDIR%%/www/pages/$1/$2/$3;
    }
    location ~ ^/w/([^-]+)-([^-]+)-(.+)$ {
        try_files /pages/$1/$2/$3 =410;
    }
    location ~ ^/l/([^-]+)-(.+)$ {
        try_files /nothing /pages/$1/$2;
    }
}
CONF
$s->run;

sub get {
	my ($target, %o) = @_;
	my $host = $o{host} // 'default.example';
	return $s->http("GET $target HTTP/1.1\r\nHost: $host\r\n"
	    . "Connection: close\r\n\r\n", %o);
}

subtest 'the order of choice, as nginx' => sub {
	my $r = get('/exact.php');
	is($r->{body}, 'exact', '"=" before any regex');
	$r = get('/static/x.php');
	is($r->{body}, 'static prefix', '"^~" prefix: no regex is tried');
	$r = get('/long/plain/prefix/x.php');
	is($r->{body}, 'first regex /long/plain/prefix/x.php',
	    'a regex beats a longer plain prefix');
	$r = get('/long/plain/prefix/x.html');
	is($r->{body}, 'long prefix', 'no regex matches: the longest prefix');
	$r = get('/long/y.php');
	is($r->{body}, 'first regex /long/y.php', 'two regexes match: the '
	    . 'first written wins, not the longer');
	$r = get('/index.html');
	is($r->{body}, "site index\n", 'nothing matches: the block');
	$r = get('/a/../q.php');
	is($r->{body}, 'first regex /q.php', 'matched on the normalised path');
	$r = get('/q%2Ephp');
	is($r->{body}, 'first regex /q.php', 'matched on the decoded path');
	$r = get('/q.PHP');
	is($r->{status}, 404, '"~" is case-sensitive: .PHP is no match');
};

subtest '~* and groups' => sub {
	my $r = get('/x/photo.JPEG');
	is($r->{body}, 'image JPEG', '"~*" without case, $1 as sent');
	$r = get('/y.gif');
	is($r->{body}, 'image gif', 'lower case too');
	$r = get('/users/bob/42');
	is($r->{body}, 'user bob id 42 []', 'a named group, $2, and an '
	    . 'absent $3 empty');
	is($r->{headers}{'x-user'}, 'bob', 'add_header with a named group');
	$r = get('/go/there?q=1');
	is($r->{status}, 302, 'return 302 from a regex location');
	is($r->{headers}{location}, '/to/there', 'its Location with $1');
	$r = get('/page/about');
	is($r->{body}, "about page\n", 'try_files with $1');
	$r = get('/page/none');
	is($r->{status}, 410, 'try_files falls to =410');
	$r = get('/pics/cat.png');
	is($r->{body}, "cat png\n", 'alias with $1: the file itself');
	$r = get('/pics/sub/dog.png');
	is($r->{body}, "dog png\n", 'a group with a slash');
	$r = get('/pics/../outside.txt');
	is($r->{status}, 404, 'normalised first: /outside.txt is the '
	    . 'block\'s, not found there');
	$r = get('/pics/%2e%2e/%2e%2e/outside.png');
	isnt($r->{status}, 200, 'no way out of the alias folder');
};

subtest 'server_name ~REGEX, by Host' => sub {
	my $r = get('/', host => 'shop.example');
	is($r->{body}, 'shop exact', 'an exact name before every regex');
	$r = get('/', host => 'www.shop2.example');
	is($r->{body}, 'shop regex', 'the first regex that matches');
	$r = get('/', host => 'WWW.Shop.Example:8080');
	is($r->{body}, 'shop regex', 'without case, port ignored');
	$r = get('/', host => 'other.example');
	is($r->{body}, 'later regex', 'a later regex when the first does '
	    . 'not match');
	$r = get('/', host => 'a.wild.example');
	is($r->{body}, 'leading wildcard', 'a wildcard before a regex that '
	    . 'also matches');
	$r = get('/index.html', host => 'no.such.host.org');
	is($r->{body}, "site index\n", 'no name matches: the first block');
};

subtest 'hostile input' => sub {
	my $r = get('/x%00.php');
	is($r->{status}, 400, 'a NUL in the path: 400 before any regex');
	$r = get('/go/a%0d%0aSet-Cookie:%20evil=1');
	is($r->{status}, 302, 'CR LF in the group: still a redirect');
	ok(!exists $r->{headers}{'set-cookie'}, 'and no field of the '
	    . 'client\'s making');
	is($r->{headers}{location}, '/to/a%0D%0ASet-Cookie: evil=1',
	    'the control bytes percent-encoded in the Location');
	my @before = $s->worker_pids;
	my $mark = $s->log_mark;
	# "(a+)+b" on a run of "a" and a "c" backtracks without end;
	# PCRE2's match limit stops it.
	$r = get('/bomb/' . ('a' x 6000) . 'cb', timeout => 20);
	is($r->{status}, 500, 'a regex that backtracks without end: 500');
	ok(wait_for(sub { $s->log_since($mark) =~
	    /\[error\].*location ~ "\^\/bomb.*match limit/ }, 5),
	    'with a log line that names the regex')
	    or diag($s->log_since($mark));
	$r = get('/bomb/aaab');
	is($r->{body}, 'bomb', 'the same worker answers the next request');
	$r = get('/' . ('x' x 8000) . '.php');
	is($r->{status}, 200, 'a path of 8000 bytes');
	like($r->{body} // '', qr/^first regex \/x{8000}\.php$/,
	    'matched whole');
	my @after = $s->worker_pids;
	is("@after", "@before", 'the worker is still the one, alive')
	    or diag("before: @before, after: @after");
	is(scalar @before, 1, 'one worker');
};

subtest 'add_header values over the head\'s room' => sub {
	# 30 fields of a 7,000-byte group: 210,000 bytes, over the 192 KiB
	# a head may have.
	my $mark = $s->log_mark;
	my $r = get('/many/' . ('a' x 7000));
	is($r->{status}, 200, 'answered');
	is($r->{body}, 'many', 'with its body');
	is($r->{headers}{'x-h01'}, 'a' x 7000, 'the first fields whole');
	ok(!exists $r->{headers}{'x-h30'}, 'the last left out');
	my @cut = grep { length($r->{headers}{$_} // '') != 7000 }
	    grep { /^x-h\d\d$/ } keys %{$r->{headers}};
	is("@cut", '', 'no field cut in the middle');
	ok(wait_for(sub { $s->log_since($mark) =~
	    /\[warn\].*over \d+ bytes: the fields past that were left out/ },
	    5), 'a log line says so') or diag($s->log_since($mark));
};

subtest 'groups glued into "..": never outside the root' => sub {
	# The path is normalised before the match, but "$1/$2" can make
	# "../.." again; hidden_files and follow_symlinks, both on here,
	# must not let it through.
	my %o = (host => 'dots.example');
	my $r = get('/v/..-..-outside.txt', %o);
	is($r->{status}, 404, 'alias "$1/$2/$3" with ".." groups: 404');
	unlike($r->{body} // '', qr/^outside/, 'not the file outside');
	$r = get('/w/..-..-outside.txt', %o);
	is($r->{status}, 410, 'try_files with ".." groups: skipped, =410');
	$r = get('/l/..-../outside.txt', %o);
	is($r->{status}, 404, 'try_files\' last argument with "..": 404');
	$r = get('/v/.-.-about.html', %o);
	is($r->{status}, 404, '"." segments too');
	$r = get('/w/..-pages-about.html', %o);
	is($r->{status}, 410, 'even when it would stay inside');
	$r = get('/v/x-y-z', %o);
	is($r->{status}, 404, 'a plain missing file: 404');
};

is($s->stop, 0, 'stop: exit status 0');
$s->log_clean_ok([qr/location ~ "\^\/bomb/, qr/fields past that were left out/]);

my @broken = (
	['a regex that does not compile', "http {\n listen 8080;\n"
	    . " location ~ ^/(a { }\n}\n", 3],
	['a regex server_name that does not compile', "http {\n"
	    . " listen 8080;\n server_name a.example\n ~^[b;\n}\n", 4],
	['a regex location in a location', "http {\n listen 8080;\n"
	    . " location / {\n  location ~ x { }\n }\n}\n", 4],
	['proxy_pass with a URI in a regex location', "http {\n"
	    . " listen 8080;\n location ~ ^/a {\n"
	    . "  proxy_pass http://127.0.0.1:9/b/;\n }\n}\n", 4],
	['an unknown variable in a regex location', "http {\n"
	    . " listen 8080;\n location ~ ^/(?<n>a) {\n"
	    . "  return 200 \$m;\n }\n}\n", 4],
);
my $t = Forkloop->new(start => 0, config => { workers => 1 });
$t->config_errors_ok(\@broken);
my $file = $t->write_file('quoted.conf', "http {\n listen 8080;\n"
    . " location ~ \"(x\" { }\n}\n");
my $r = Forkloop::run_forkloop(args => ['-t', '-c', $file]);
like($r->{stderr}, qr/^\Q$file\E:3: invalid regular expression "\(x": missing closing parenthesis at offset 2$/m,
    'PCRE2\'s message and offset are quoted');

done_testing();
