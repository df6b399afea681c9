#!/usr/bin/perl
# echo.t: the echo service: every byte comes back, to the client that sent
# it, however much there is and however many clients send at once; an
# idle client is dropped after idle_timeout.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time);
use Forkloop qw(exchange_many pseudo_random_bytes printable);

Forkloop::check_binary();
Forkloop::watchdog(90);

my $s = Forkloop->new(config => { workers => 2, echo => {} });
my $port = $s->port('echo');

# A done() for exchange_many: as many bytes as were sent.
sub echoed {
	my ($len) = @_;
	return sub { length($_[0]) >= $len };
}

subtest 'one client' => sub {
	my $c = $s->connect(port => $port);
	my @got = eval {
		my @r;
		for my $msg ("hello\n", 'a', 'bc', "def\r\n", "\0\xff\n") {
			$c->send($msg);
			push @r, [$msg, $c->read_bytes(length $msg, timeout => 5)];
		}
		@r;
	};
	is(scalar @got, 5, 'five messages, five echoes') or diag($@);
	is($_->[1], $_->[0], 'echo of ' . printable($_->[0])) for @got;

	my $all = join('', map { chr } 0 .. 255);
	my $back = eval { $c->send($all); $c->read_bytes(256, timeout => 5) };
	is($back, $all, 'every byte value');
	$c->close;
};

subtest '1 MiB on one connection' => sub {
	# exchange_many reads while it writes; a client that wrote it all
	# first would stall on the echo it does not read.
	my $data = pseudo_random_bytes(1024 * 1024, 99);
	my ($res) = exchange_many(port => $port, requests => [$data],
	    done => echoed(length $data), timeout => 20);
	ok($res->{ok}, 'all of it came back') or diag($res->{error});
	ok($res->{buf} eq $data, 'byte for byte')
	    or diag(sprintf('got %d bytes of %d', length $res->{buf},
	        length $data));
};

subtest '50 clients at once' => sub {
	my @data = map {
		my $tag = sprintf("client %02d:", $_);
		$tag . pseudo_random_bytes(20000 + 997 * $_, $_ + 1000) . "$tag end\n";
	} 0 .. 49;
	my @res = exchange_many(port => $port, requests => \@data,
	    done => sub { length($_[0]) >= length($data[ $_[2] ]) },
	    timeout => 20);
	my @bad;
	for my $r (@res) {
		my $want = $data[ $r->{i} ];
		next if $r->{buf} eq $want;
		push @bad, sprintf('client %d: %s; got %d bytes of %d, '
		    . 'starting %s', $r->{i}, $r->{error} // 'wrong bytes',
		    length $r->{buf}, length $want, printable($r->{buf}, 12));
	}
	is(scalar @bad, 0, 'each of 50 clients got exactly its own bytes')
	    or diag(join("\n", @bad[0 .. ($#bad < 4 ? $#bad : 4)]));
};

is($s->stop, 0, 'stop: exit status 0');
is_deeply([$s->orphans], [], 'no worker outlives the master');
$s->log_clean_ok([]);

my $t = Forkloop->new(config => { workers => 1,
    echo => { idle_timeout => '1s' } });

subtest 'idle_timeout 1s' => sub {
	my $c = $t->connect(port => $t->port('echo'));
	my $back = eval { $c->send("x\n"); $c->read_bytes(2, timeout => 5) };
	is($back, "x\n", 'an echo first');
	my $t0 = time;
	ok($c->wait_closed(6), 'the idle connection is closed');
	my $idle = time - $t0;
	cmp_ok($idle, '>', 0.5, 'not before the timeout');
	cmp_ok($idle, '<', 4, 'not long after it');
	$c->close;

	# Traffic keeps a connection alive past the timeout.
	$c = $t->connect(port => $t->port('echo'));
	my $ok = eval {
		for my $i (1 .. 6) {
			$c->send("$i\n");
			die "no echo of $i\n"
			    unless $c->read_bytes(2, timeout => 5) eq "$i\n";
			Time::HiRes::sleep(0.3);
		}
		1;
	};
	ok($ok, 'a connection in use for 1.8 s is not dropped at 1 s')
	    or diag($@);
	$c->close;
};

is($t->stop, 0, 'idle_timeout server: exit status 0');
$t->log_clean_ok([]);

subtest 'QUIT with echo clients connected ends at shutdown_timeout' => sub {
	my $q = Forkloop->new(config => { workers => 2,
	    shutdown_timeout => '1s', echo => {} });
	my @conns = map {
		my $c = $q->connect(port => $q->port('echo'));
		$c->send("$_\n");
		$c->read_bytes(2, timeout => 5);
		$c;
	} 1 .. 3;
	my $t0 = time;
	$q->signal('QUIT');
	my $status = $q->wait_exit(10);
	ok(defined $status, 'the master exits although clients stay');
	cmp_ok(time - $t0, '<', 4, 'about shutdown_timeout after the QUIT');
	ok($conns[0]->wait_closed(2), 'the clients are disconnected');
	$q->stop;
	is_deeply([$q->orphans], [], 'no worker outlives the master');
	$q->log_clean_ok([qr/shutdown|timeout|timed out|clos|kill/i]);
};

done_testing();
