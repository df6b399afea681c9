#!/usr/bin/perl
# auth.t: auth_basic and auth_basic_user_file, as nginx's auth_basic:
# an htpasswd file made now with each hash kind (bcrypt $2y$ and $2b$,
# SHA-512 and SHA-256 crypt, apr1, {SHA}); good and wrong passwords,
# an unknown user, no Authorization, malformed credentials; 401 with
# the challenge; "auth_basic off" and a realm of its own in a location;
# one check per connection and user on keep-alive, HTTP/1.1 and h2c, and
# one bcrypt per worker for credentials it proved before; the
# Authorization passed on through proxy_pass; $remote_user in the access
# log; the file read again on HUP; and the config errors, each with its
# FILE:LINE.

use strict;
use warnings;

use MIME::Base64 qw(encode_base64);
use Digest::SHA qw(sha1_base64);
use Time::HiRes qw(time);
use Test::More;
use Forkloop;
use Forkloop::Upstream;

Forkloop::check_binary();
Forkloop::watchdog(120);

# One hash per kind, made by the tools an operator would use.
sub run_cmd {
	my (@cmd) = @_;
	open(my $fh, '-|', @cmd) or die "@cmd: $!";
	my $out = do { local $/; <$fh> };
	close($fh) or die "@cmd failed: $?";
	chomp $out;
	return $out;
}

sub htpasswd_line {
	my ($user, $hash) = @_;
	return "$user:$hash\n";
}

my %hash = (
	'sha512' => run_cmd('openssl', 'passwd', '-6', 'pw-sha512'),
	'sha256' => run_cmd('openssl', 'passwd', '-5', 'pw-sha256'),
	'apr1' => run_cmd('openssl', 'passwd', '-apr1', 'pw-apr1'),
	# htpasswd -B writes $2y$ (apache2-utils); cost 5 keeps it quick.
	'bcrypt2y' => (split /:/, run_cmd('htpasswd', '-nbBC', '5', 'x',
	    'pw-bcrypt2y'), 2)[1],
	# libxcrypt's own bcrypt prefix, $2b$, through python3's crypt.
	'bcrypt2b' => run_cmd('python3', '-W', 'ignore', '-c',
	    'import crypt; print(crypt.crypt("pw-bcrypt2b", '
	    . 'crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=32)))'),
	# {SHA}: base64 of SHA-1, as htpasswd -s writes it.
	'sha1' => '{SHA}' . sha1_base64('pw-sha1') . '=',
);
like($hash{bcrypt2y}, qr/^\$2y\$05\$/, 'htpasswd -B made a $2y$ hash');
like($hash{bcrypt2b}, qr/^\$2b\$05\$/, 'python3 crypt made a $2b$ hash');
like($hash{sha512}, qr/^\$6\$/, 'openssl made a SHA-512 crypt');
like($hash{sha256}, qr/^\$5\$/, 'openssl made a SHA-256 crypt');
like($hash{apr1}, qr/^\$apr1\$/, 'openssl made an apr1 hash');

# Two users for the keep-alive cases alone, so that they begin unproved.
my $fresh = (split /:/, run_cmd('htpasswd', '-nbBC', '5', 'x', 'pw-fresh'),
    2)[1];
my $fresh2 = run_cmd('python3', '-W', 'ignore', '-c',
    'import crypt; print(crypt.crypt("pw-fresh2", '
    . 'crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=32)))');
my $users = "# made by auth.t\n\n"
    . join('', map { htpasswd_line($_, $hash{$_}) } sort keys %hash)
    . htpasswd_line('fresh', $fresh) . htpasswd_line('fresh2', $fresh2);

my $A = Forkloop::Upstream->start(name => 'a');
my $s = Forkloop->new(start => 0, files => {
    'www/index.html' => "secret\n",
    'www/pub/index.html' => "public\n",
    'www/ops/index.html' => "ops\n",
    'users' => $users,
    'ops-users' => htpasswd_line('ops', $hash{sha512}),
}, config => sub {
	my ($self) = @_;
	my $dir = $self->testdir;
	my $up = $A->addr;
	return <<"CONF";
workers 1;
error_log $dir/error.log debug;
http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    root $dir/www;
    access_log $dir/access.log;
    auth_basic "Staff \\"only\\"";
    auth_basic_user_file users;
    location /pub/ {
        auth_basic off;
    }
    location /ops/ {
        auth_basic "Operations";
        auth_basic_user_file ops-users;
    }
    location /app/ {
        proxy_pass http://$up/;
    }
}
CONF
});
$s->run;

sub basic { 'Basic ' . encode_base64(join(':', @_), '') }

sub get {
	my ($path, @headers) = @_;
	my $h = '';
	while (my ($k, $v) = splice(@headers, 0, 2)) {
		$h .= "$k: $v\r\n";
	}
	return $s->http("GET $path HTTP/1.1\r\nHost: a\r\n$h"
	    . "Connection: close\r\n\r\n");
}

my $challenge = 'Basic realm="Staff \"only\"", charset="UTF-8"';

subtest 'each hash kind: the right password in, a wrong one out' => sub {
	for my $kind (sort keys %hash) {
		my $r = get('/', Authorization => basic($kind, "pw-$kind"));
		is($r->{status}, 200, "$kind: the right password: 200");
		is($r->{body}, "secret\n", "$kind: the file");
		$r = get('/', Authorization => basic($kind, "pw-$kind-"));
		is($r->{status}, 401, "$kind: a password one byte longer: 401");
		$r = get('/', Authorization => basic($kind, 'pw-'));
		is($r->{status}, 401, "$kind: a prefix of it: 401");
		$r = get('/', Authorization => basic($kind, ''));
		is($r->{status}, 401, "$kind: an empty password: 401");
	}
};

subtest 'no credentials, or none that hold: 401 and the challenge' => sub {
	my $r = get('/');
	is($r->{status}, 401, 'no Authorization: 401');
	is($r->{headers}{'www-authenticate'}, $challenge,
	    'the realm quoted, with charset="UTF-8"');
	$r = get('/', Authorization => basic('nobody', 'pw-sha1'));
	is($r->{status}, 401, 'an unknown user: 401');
	is($r->{headers}{'www-authenticate'}, $challenge, 'and the challenge');
	$r = get('/', Authorization => 'Basic !!!!');
	is($r->{status}, 401, 'malformed base64: 401');
	$r = get('/', Authorization => 'Basic '
	    . encode_base64('sha1pw-sha1', ''));
	is($r->{status}, 401, 'no colon in the decoded pair: 401');
	$r = get('/', Authorization => 'Bearer '
	    . encode_base64('sha1:pw-sha1', ''));
	is($r->{status}, 401, 'another scheme: 401');
	$r = get('/', Authorization => 'basic '
	    . encode_base64('sha1:pw-sha1', ''));
	is($r->{status}, 200, 'the scheme is case-insensitive (RFC 9110 11.1)');
	$r = get('/', Authorization => basic('sha1', 'pw-sha1'),
	    Authorization => basic('sha1', 'pw-sha1'));
	is($r->{status}, 400, 'two Authorization fields: 400');
};

# Failures are logged at most once a second per worker: one line soon,
# not one per request.
subtest 'an unknown user is logged, and a flood is not' => sub {
	my $mark = $s->log_mark;
	my $seen = Forkloop::wait_for(sub {
		get('/', Authorization => basic('nobody', 'x'));
		return $s->log_since($mark) =~ /\[warn\].*auth_basic_user_file "[^"]*users": user "nobody": not found/;
	}, 5);
	ok($seen, 'the unknown user is logged, with the file');
	$mark = $s->log_mark;
	my $t0 = time;
	my @codes = map { get('/', Authorization => basic("flood$_", 'x'))
	    ->{status} } 1 .. 40;
	is(scalar(grep { $_ == 401 } @codes), 40, 'forty unknown users: 401');
	my $lines = () = $s->log_since($mark) =~ /user "flood\d+": not found/g;
	cmp_ok($lines, '<=', int(time - $t0) + 2,
	    "at most one line a second ($lines lines)");
	ok(Forkloop::wait_for(sub {
		get('/', Authorization => basic('nobody2', 'x'));
		return $s->log_since($mark) =~ /user "nobody2": not found \(and \d+ failures not logged since the last\)/;
	}, 5), 'a later line counts those left out');
};

subtest 'locations: off, and a realm and file of their own' => sub {
	my $r = get('/pub/');
	is($r->{status}, 200, 'auth_basic off in a location: 200 without');
	is($r->{body}, "public\n", 'its file');
	$r = get('/pub/../index.html');
	is($r->{status}, 401, 'out of it by dot segments: the block asks');
	$r = get('/ops/');
	is($r->{status}, 401, 'a location with a realm of its own: 401');
	is($r->{headers}{'www-authenticate'},
	    'Basic realm="Operations", charset="UTF-8"', 'its realm');
	$r = get('/ops/', Authorization => basic('sha512', 'pw-sha512'));
	is($r->{status}, 401, 'a user of the block\'s file: not in its file');
	$r = get('/ops/', Authorization => basic('ops', 'pw-sha512'));
	is($r->{status}, 200, 'a user of its own file: 200');
};

# Debug lines: "verified" for each bcrypt (or other) verification,
# "recognised" for credentials the worker proved before (an HMAC).
sub checks_since {
	my ($mark, $user, $what) = @_;
	my @n = $s->log_since($mark) =~ /user "\Q$user\E" of "[^"]*" \Q$what\E/g;
	return scalar @n;
}

subtest 'keep-alive: checked once per connection and user' => sub {
	my $mark = $s->log_mark;
	my $c = $s->connect;
	my $req = sub {
		my ($auth) = @_;
		$c->send("GET / HTTP/1.1\r\nHost: a\r\n"
		    . ($auth ? "Authorization: $auth\r\n" : '') . "\r\n");
		return $c->response;
	};
	my @codes = map { $req->(basic('fresh', 'pw-fresh'))->{status} } 1 .. 3;
	is("@codes", '200 200 200', 'three requests on one connection');
	is(checks_since($mark, 'fresh', 'verified'), 1,
	    'one bcrypt verification');
	is(checks_since($mark, 'fresh', 'recognised'), 0,
	    'and nothing else: the connection remembers');
	is($req->(basic('fresh', 'wrong'))->{status}, 401,
	    'then a wrong password on it: 401, not the remembered user');
	is($req->(undef)->{status}, 401, 'then none: 401');
	is($req->(basic('sha256', 'pw-sha256'))->{status}, 200,
	    'then another user: 200');
	is($req->(basic('fresh', 'pw-fresh'))->{status}, 200,
	    'then the first again: 200');
	is(checks_since($mark, 'fresh', 'verified'), 1,
	    'no second bcrypt for it');
	is(checks_since($mark, 'fresh', 'recognised'), 1,
	    'but one look in the worker\'s memory: the connection keeps its '
	    . 'last user only');
	$c->close;

	$mark = $s->log_mark;
	$c = $s->connect;
	@codes = map { $req->(basic('fresh', 'pw-fresh'))->{status} } 1 .. 3;
	is("@codes", '200 200 200', 'a new connection, three requests');
	is(checks_since($mark, 'fresh', 'verified'), 0,
	    'no bcrypt: the worker proved these credentials before');
	is(checks_since($mark, 'fresh', 'recognised'), 1,
	    'recognised once, for the connection');
	is($req->(basic('fresh', 'pw-fresh-'))->{status}, 401,
	    'a wrong password is never remembered: 401');
	$c->close;
};

# Requests on one h2c connection through python3-h2, one after another
# (curl 7.88 does not reuse a prior-knowledge connection): the statuses.
my $H2_CLIENT = <<'PY';
import socket, sys
import h2.config, h2.connection, h2.events
port, auths = int(sys.argv[1]), sys.argv[2:]
sock = socket.create_connection(('127.0.0.1', port), timeout=10)
conn = h2.connection.H2Connection(h2.config.H2Configuration(
    client_side=True, header_encoding='utf-8'))
conn.initiate_connection()
sock.sendall(conn.data_to_send())
out = []
for auth in auths:
    sid = conn.get_next_available_stream_id()
    headers = [(':method', 'GET'), (':path', '/'), (':scheme', 'http'),
               (':authority', 'a')]
    if auth != '-':
        headers.append(('authorization', auth))
    conn.send_headers(sid, headers, end_stream=True)
    sock.sendall(conn.data_to_send())
    status = None
    while status is None or not done:
        done = False
        data = sock.recv(65536)
        if not data:
            sys.exit('closed')
        for ev in conn.receive_data(data):
            if isinstance(ev, h2.events.ResponseReceived):
                status = dict(ev.headers)[':status']
            if isinstance(ev, h2.events.StreamEnded) and ev.stream_id == sid:
                done = True
            if isinstance(ev, h2.events.DataReceived):
                conn.acknowledge_received_data(ev.flow_controlled_length,
                                               ev.stream_id)
        sock.sendall(conn.data_to_send())
        if done and status is not None:
            break
    out.append(status)
print(' '.join(out))
PY

sub h2_statuses {
	my (@auth) = @_;
	my $out = run_cmd('/usr/bin/python3', '-c', $H2_CLIENT,
	    $s->port('http'), @auth);
	return $out;
}

subtest 'h2c: 401, and one check for a connection' => sub {
	my $port = $s->port('http');
	my $out = `curl -s -o /dev/null -w '%{http_code} %{http_version}' --http2-prior-knowledge http://127.0.0.1:$port/`;
	is($out, '401 2', 'no credentials over h2c (curl): 401');
	my $mark = $s->log_mark;
	my $good = basic('fresh2', 'pw-fresh2');
	is(h2_statuses($good, $good, $good), '200 200 200',
	    'three requests on one h2 connection');
	is(checks_since($mark, 'fresh2', 'verified'), 1,
	    'one bcrypt verification');
	is(checks_since($mark, 'fresh2', 'recognised'), 0,
	    'and nothing else: the connection remembers');
	$mark = $s->log_mark;
	is(h2_statuses($good, basic('fresh2', 'nope'), '-', $good),
	    '200 401 401 200', 'then a wrong password and none: 401');
	is(checks_since($mark, 'fresh2', 'verified')
	    + checks_since($mark, 'fresh2', 'recognised'), 1,
	    'a new connection: checked once');
};

subtest 'proxy_pass: checked here, and passed on as nginx does' => sub {
	my $r = get('/app/headers');
	is($r->{status}, 401, 'no credentials: 401, the upstream not asked');
	my $auth = basic('apr1', 'pw-apr1');
	$r = get('/app/headers', Authorization => $auth);
	is($r->{status}, 200, 'with them: the upstream answers');
	my ($sent) = $r->{body} =~ /"authorization",\s*"([^"]*)"/i;
	is($sent, $auth, 'the upstream got the Authorization field');
};

subtest '$remote_user in the access log' => sub {
	get('/', Authorization => basic('sha256', 'pw-sha256'));
	get('/pub/');
	my $ok = Forkloop::wait_for(sub {
		my $log = $s->read_file('access.log') // '';
		return $log =~ m{ - sha256 \[.*"GET / HTTP/1.1" 200 }
		    && $log =~ m{ - - \[.*"GET /pub/ HTTP/1.1" 200 };
	}, 5);
	ok($ok, 'the user, and "-" where none was asked')
	    or diag($s->read_file('access.log'));
};

subtest 'HUP reads the file again' => sub {
	my @old = $s->wait_workers(1);
	$s->write_file('users', htpasswd_line('sha1', '{SHA}'
	    . sha1_base64('changed') . '='));
	$s->signal('HUP');
	my @new = $s->wait_workers(1, exclude => \@old);
	ok(@new, 'a new worker');
	my $r = get('/', Authorization => basic('sha1', 'changed'));
	is($r->{status}, 200, 'the new password: 200');
	$r = get('/', Authorization => basic('sha1', 'pw-sha1'));
	is($r->{status}, 401, 'the old one: 401');
	$r = get('/', Authorization => basic('sha512', 'pw-sha512'));
	is($r->{status}, 401, 'a user no longer in the file: 401');

	# A reload with a broken file fails; the running worker stays.
	$s->write_file('users', "plain:text\n");
	$s->signal('HUP');
	ok(Forkloop::wait_for(sub { $s->error_log =~ /reload failed/ }, 10),
	    'a plain-text password: the reload fails');
	like($s->error_log, qr{users:1: the password of "plain" is not},
	    'and says where');
	is(get('/', Authorization => basic('sha1', 'changed'))->{status}, 200,
	    'the running worker keeps the file it had');
};

$s->stop;
is($s->exit_status, 0, 'stop: exit status 0');
$s->log_clean_ok([qr/reload failed/]);

# Config errors: FILE:LINE of the config, or of the user file for a bad
# line in it.
my $t = Forkloop->new(start => 0, config => { workers => 1 }, files => {
    'good' => htpasswd_line('u', $hash{sha512}),
    'plain' => "# comment\nu:secret\n",
    'des' => "u:abJnggxhB/yWI\n",
    'twice' => htpasswd_line('u', $hash{sha512}) . "v:$hash{apr1}\n"
	. htpasswd_line('u', $hash{sha256}),
    'nocolon' => "u\n",
    'short' => 'u:' . substr($hash{bcrypt2y}, 0, 59) . "\n",
});
my $dir = $t->testdir;
my @broken = (
	['a missing user file', "http {\n listen 8080;\n auth_basic x;\n"
	    . " auth_basic_user_file\n $dir/missing;\n}\n", 5],
	['auth_basic without a user file', "http {\n listen 8080;\n"
	    . " auth_basic x;\n}\n", 3],
	['a location turning auth_basic on without a file',
	    "http {\n listen 8080;\n location / {\n  auth_basic x;\n }\n}\n", 4],
	['auth_basic in an echo block', "echo {\n listen 8080;\n"
	    . " auth_basic x;\n}\n", 3],
	["nginx's satisfy", "http {\n listen 8080;\n satisfy any;\n}\n", 3],
	["nginx's auth_request", "http {\n listen 8080;\n"
	    . " auth_request /auth;\n}\n", 3],
);
$t->config_errors_ok(\@broken);
{
	my $f = $t->write_file('satisfy.conf', "http {\n listen 8080;\n"
	    . " satisfy any;\n}\n");
	my $r = Forkloop::run_forkloop(args => ['-t', '-c', $f]);
	like($r->{stderr}, qr/"satisfy" is nginx's; forkloop always wants both/,
	    'satisfy: the hint says what forkloop does');
}

my @bad_files = (
	['a plain-text password', 'plain', 2, qr/"u" is not a bcrypt/],
	['a DES crypt', 'des', 1, qr/plain text is refused/],
	['a user twice', 'twice', 3, qr/user "u" is also on line 1/],
	['a line without a colon', 'nocolon', 1, qr/not "USER:HASH"/],
	['a bcrypt hash cut short', 'short', 1, qr/"u" is not a bcrypt/],
);
for my $case (@bad_files) {
	my ($name, $file, $line, $why) = @$case;
	my $conf = $t->write_file('f.conf', "http {\n listen 8080;\n"
	    . " auth_basic x;\n auth_basic_user_file $file;\n}\n");
	my $r = Forkloop::run_forkloop(args => ['-t', '-c', $conf]);
	is($r->{exit}, 1, "$name: -t exits 1");
	like($r->{stderr}, qr/^\Q$dir\/$file\E:$line: .*$why.*\(auth_basic_user_file at \Q$conf\E:4\)/m,
	    "$name: $file:$line:, and the directive's place")
	    or diag($r->{stderr});
}
my $conf = $t->write_file('f.conf', "http {\n listen 8080;\n auth_basic x;\n"
    . " auth_basic_user_file good;\n location /p/ { auth_basic off; }\n}\n");
my $r = Forkloop::run_forkloop(args => ['-t', '-c', $conf]);
is($r->{exit}, 0, 'a good file passes -t') or diag($r->{stderr});

done_testing();
