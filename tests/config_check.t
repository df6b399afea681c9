#!/usr/bin/perl
# config_check.t: the command line and the config checker.  "-t" accepts a
# good file (exit 0) without starting anything, and rejects each broken
# file with exit 1 and "FILE:LINE: message" on stderr, LINE being where
# the mistake is.  A broken file given to a real start fails the same way.

use strict;
use warnings;

use Test::More;
use File::Basename qw(basename);
use File::Path qw(make_path);
use IO::Socket::INET;
use Forkloop qw(run_forkloop srcdir printable);

Forkloop::check_binary();
Forkloop::watchdog(120);

# A directory to write files in; nothing is started from it.
my $d = Forkloop->new(config => { workers => 2, echo => {} }, start => 0);
my $dir = $d->testdir;

sub check {
	my ($file, @args) = @_;
	return run_forkloop(args => [@args, '-t', '-c', $file], timeout => 10);
}

sub show {
	my ($r) = @_;
	return "exit " . ($r->{exit} // "signal $r->{signal}")
	    . ($r->{timed_out} ? ' (timed out)' : '')
	    . "\nstderr: " . printable($r->{stderr}, 400)
	    . "\nstdout: " . printable($r->{stdout}, 400);
}

subtest 'a good file' => sub {
	my $r = check($d->conf_file);
	is($r->{exit}, 0, '-t: exit 0') or diag(show($r));
	ok(!-e $d->pid_file, '-t starts no server (no pid file)');

	# -t must work beside a running server: it binds nothing.
	my $busy = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
	    LocalPort => $d->port('http'), Proto => 'tcp', Listen => 5,
	    ReuseAddr => 1) or die "cannot listen on the test port: $!";
	$r = check($d->conf_file);
	is($r->{exit}, 0, '-t: exit 0 while its port is taken')
	    or diag(show($r));
	close $busy;

	my $plain = $d->write_file('plain.conf', <<'EOF');
# comments, blank lines and every directive of the manual's example

workers 2;
daemon off;
worker_connections 512;
shutdown_timeout 5s;

http {
    listen 127.0.0.1:18080;
    root /tmp;
    index index.html;
    access_log off;
    keepalive_timeout 75s;
    header_timeout 10s;
    route /hello/ hello;
    route /delay/ delay;
    route /echo echo;
}

echo {
    listen 127.0.0.1:17007;
    idle_timeout 5m;
}
EOF
	$r = check($plain);
	is($r->{exit}, 0, '-t: a file with every directive: exit 0')
	    or diag(show($r));
};

subtest 'the shipped configuration' => sub {
	my $in = srcdir() . '/conf/forkloop.conf.in';
	plan skip_all => "no $in" unless -f $in;
	open(my $fh, '<', $in) or die "$in: $!";
	my $text = do { local $/; <$fh> };
	close $fh;
	my $conf_dir = srcdir() . '/conf';
	$text =~ s/\@localstatedir\@/$dir\/var/g;
	$text =~ s/\@sysconfdir\@/$dir\/etc/g;
	$text =~ s/\@pkgdatadir\@/$conf_dir/g;
	make_path("$dir/var/run", "$dir/var/log/forkloop",
	    "$dir/etc/forkloop");
	# As "make install" does: the self-signed certificate it names.
	system('sh', srcdir() . '/contrib/make-localhost-cert',
	    "$dir/etc/forkloop/ssl") == 0
	    or die "contrib/make-localhost-cert failed";
	my $file = $d->write_file('shipped.conf', $text);
	my $r = check($file);
	is($r->{exit}, 0, 'conf/forkloop.conf.in passes -t') or diag(show($r));
};

# name, text, the line (or lines) the error may be reported at.
my @broken = (
	['an unknown directive', <<'EOF', 3],
workers 1;
daemon off;
no_such_directive on;
EOF
	['comments and blank lines count as lines', <<'EOF', 5],
# a comment
daemon off;   # a trailing comment

# another comment
bogus_directive 1;
EOF
	['workers is not a number', <<'EOF', 2],
daemon off;
workers lots;
EOF
	['too many arguments', <<'EOF', 2],
daemon off;
workers 1 2;
EOF
	['daemon neither on nor off', <<'EOF', 1],
daemon maybe;
workers 1;
EOF
	['an unknown error_log level', <<"EOF", 2],
daemon off;
error_log $dir/never.log verbose;
EOF
	['a port out of range', <<'EOF', 3],
daemon off;
http {
    listen 127.0.0.1:99999;
    root /tmp;
}
EOF
	['a listen address that is not one', <<'EOF', 4],
daemon off;
http {
    root /tmp;
    listen not-an-address:80;
}
EOF
	['a route to no handler', <<'EOF', 5],
daemon off;
http {
    listen 127.0.0.1:18080;
    root /tmp;
    route /x/ no_such_handler;
}
EOF
	['a time with a bad unit', <<'EOF', 4],
daemon off;
http {
    listen 127.0.0.1:18080;
    keepalive_timeout 75parsecs;
}
EOF
	['an http directive in the echo block', <<'EOF', 4],
daemon off;
echo {
    listen 127.0.0.1:17007;
    root /tmp;
}
EOF
	['an http directive at the top level', <<'EOF', 2],
daemon off;
root /tmp;
EOF
	['an unknown block', <<'EOF', 2],
daemon off;
mail {
    listen 127.0.0.1:25;
}
EOF
	['a stray }', <<'EOF', 3],
daemon off;
workers 1;
}
workers 2;
EOF
	# The parser sees "workers 1 daemon off;": line 1 or 2 are both fair.
	['a missing semicolon', <<'EOF', [1, 2]],
workers 1
daemon off;
EOF
	# Where an unclosed block is reported: its start or the end of file.
	['an unclosed block', <<'EOF', [2, 3, 4, 5]],
daemon off;
http {
    listen 127.0.0.1:18080;
    root /tmp;
EOF
);

for my $i (0 .. $#broken) {
	my ($name, $text, $lines) = @{ $broken[$i] };
	my @lines = ref $lines ? @$lines : ($lines);
	my $file = $d->write_file("broken-$i.conf", $text);
	my $base = basename($file);
	my $r = check($file);
	is($r->{exit}, 1, "$name: -t exits 1") or diag(show($r));
	my ($line) = $r->{stderr} =~ /(?:^|\/)\Q$base\E:(\d+): \S/m;
	ok(defined $line && grep({ $_ == $line } @lines),
	    "$name: stderr says $base:" . join('|', @lines) . ': ...')
	    or diag(show($r));
}

subtest 'a broken file stops a real start too' => sub {
	my $file = $d->write_file('start-broken.conf', "daemon off;\n"
	    . "pid $dir/start-broken.pid;\nworkers 1;\nbogus 1;\n");
	my $r = run_forkloop(args => ['-c', $file], timeout => 10);
	ok(!$r->{timed_out}, 'forkloop exits instead of running');
	isnt($r->{exit}, 0, 'with a non-zero status') or diag(show($r));
	like($r->{stderr}, qr/start-broken\.conf:4: \S/,
	    'and says where on stderr') or diag(show($r));
	ok(!-e "$dir/start-broken.pid", 'and writes no pid file');
};

subtest 'the command line' => sub {
	my $r = run_forkloop(args => ['-V']);
	is($r->{exit}, 0, '-V: exit 0') or diag(show($r));
	like($r->{stdout} . $r->{stderr}, qr/\S/, '-V: prints a version');

	$r = run_forkloop(args => ['-Z']);
	ok(!$r->{timed_out} && ($r->{exit} // 0) != 0,
	    'an unknown option: a non-zero exit') or diag(show($r));

	$r = run_forkloop(args => ['-t', '-c', "$dir/no-such-file.conf"]);
	ok(!$r->{timed_out} && ($r->{exit} // 0) != 0,
	    'a missing file: a non-zero exit') or diag(show($r));
	like($r->{stderr}, qr/no-such-file\.conf/,
	    'a missing file: stderr names it') or diag(show($r));
};

# What a start would meet, found by -t before any port is bound: a user
# or group that does not exist, a log file that cannot be written where
# it is named (also a location's).
subtest '-t checks users and log files (FILE:LINE:)' => sub {
	my @cases = (
		['an unknown user', "user no_such_user_here;\nhttp {\n"
		    . " listen 127.0.0.1:8080;\n}\n", 1],
		['an unknown group', "workers 1;\nuser root no_such_group_x;\n"
		    . "http {\n listen 127.0.0.1:8080;\n}\n", 2],
		['an access_log in a missing folder', "http {\n"
		    . " listen 127.0.0.1:8080;\n access_log\n"
		    . " /no/such/folder/access.log;\n}\n", 4],
		['an error_log that is a folder', "error_log /tmp;\nhttp {\n"
		    . " listen 127.0.0.1:8080;\n}\n", 1],
		['a location\'s access_log', "http {\n listen 127.0.0.1:8080;\n"
		    . " location /a/ {\n  access_log /no/such/x.log;\n }\n}\n",
		    4],
	);
	Forkloop->new(start => 0, config => { workers => 1 })
	    ->config_errors_ok(\@cases);
	my $t = Forkloop->new(start => 0, config => { workers => 1 });
	my $file = $t->write_file('fine.conf', "user root;\nhttp {\n"
	    . " listen 127.0.0.1:8080;\n access_log " . $t->testdir
	    . "/new.log;\n}\n");
	my $r = run_forkloop(args => ['-t', '-c', $file]);
	is($r->{exit}, 0, 'an existing user and a log file to be made: -t '
	    . 'passes') or diag($r->{stderr});
	ok(!-e $t->testdir . '/new.log', 'and -t made no log file');
};

done_testing();
