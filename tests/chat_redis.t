#!/usr/bin/perl
# chat_redis.t: one chat room across hosts through Redis (issue 15).
# A real redis-server on a free loopback port (tests/lib/Forkloop/
# Redis.pm) and three forkloop instances as the hosts (2, 2 and 1
# workers), each "redis_channel forkloop-test; chat_history 20;", each
# with a status route to read its counters.
#
#  - Lines cross hosts: 9 clients, 3 per host, 30 lines each: every
#    client gets each other's 30 lines once, in order, and none of its own.
#  - History: a client that joins gets the last 20 lines marked
#    "* history: ", then "* end of history"; the list in Redis holds them.
#  - Stats: lines in/out per room, Redis state, history size.
#  - Hostile frames published by another Redis client (junk, binary, bad
#    header, two lines, 2 MB): dropped and logged, nothing delivered,
#    workers alive.  A frame in the documented format is delivered once;
#    the same frame again is dropped as a repeat; a jump in its number
#    counts lines lost.
#  - Redis paused (SIGSTOP) while one host sends 5000 lines of 1 KB:
#    local clients get them all; what waits for Redis is bounded (the
#    rest counts as publish failures, to the line); once Redis runs on,
#    the other host's readers get a gap-free prefix in order, and its
#    client that never reads is the only one disconnected.
#  - Redis killed and restarted: clients stay connected, same-host
#    delivery goes on across workers, lines then cross hosts again; the
#    loss and the return are logged once per connection, not per line.
#  - HUP reload of one host while another sends: clients of the old
#    workers miss no line and get none twice.
#  - SIGKILL of one host: the others' clients notice nothing.
#  - Binary upgrade (USR2, WINCH, QUIT): the new master is another host
#    to Redis; its clients and those of the old workers hear each other
#    once, in order, until the old ones leave.
#  - History survives every host: a new host's first client gets it.
#  - redis_password: a wrong one is refused and logged once per
#    connection however often it is tried; the right one connects.
#  - Config errors: FILE:LINE for each.

use strict;
use warnings;

use Test::More;
use IO::Select;
use IO::Socket::INET;
use JSON::PP ();
use Socket qw(SOL_SOCKET SO_RCVBUF IPPROTO_TCP TCP_NODELAY inet_aton
    pack_sockaddr_in);
use Time::HiRes qw(time sleep);
use Forkloop qw(wait_for printable config_errors_ok proc_alive);
use Forkloop::Load qw(children_of);
use Forkloop::Redis;

Forkloop::check_binary();
Forkloop::watchdog(400);

my $redis = Forkloop::Redis->new
    or plan skip_all => 'redis-server not installed (contrib/debian-setup)';
my $CHANNEL = 'forkloop-test';
my $HISTORY = 20;

sub host_config {
	my ($workers, %o) = @_;
	my $rp = $redis->port;
	my $hist = $o{history} // $HISTORY;
	my $pass = defined $o{password} ? "redis_password $o{password};" : '';
	return <<"CONF";
workers $workers;
worker_connections 1024;
shutdown_timeout 30s;

http {
    listen 127.0.0.1:%%PORT_HTTP%%;
    root %%TESTDIR%%/www;
    route /status status;
}

chat {
    listen 127.0.0.1:%%PORT_CHAT%%;
    redis 127.0.0.1:$rp;
    redis_channel $CHANNEL;
    chat_history $hist;
    $pass
    max_line 4k;
    queue 1m;
}
CONF
}

sub status {
	my ($s) = @_;
	my $r = $s->http_get('/status', quiet => 1);
	return undef unless ($r->{status} // 0) == 200;
	return eval { JSON::PP->new->decode($r->{body}) };
}

sub chat_stats { my $j = status($_[0]); return $j ? $j->{totals}{chat} : {} }

# Waits until every worker of $s (there are $n) has its Redis
# connections up.
sub redis_up {
	my ($s, $n) = @_;
	return wait_for(sub {
		my $c = chat_stats($s);
		($c->{redis_state} // '') eq 'up'
		    && ($c->{redis_workers_up} // 0) == $n }, 15);
}

my %hosts = (h1 => 2, h2 => 2, h3 => 1);
my %s;
for my $h (sort keys %hosts) {
	$s{$h} = Forkloop->new(config => host_config($hosts{$h}));
}
for my $h (sort keys %hosts) {
	ok(redis_up($s{$h}, $hosts{$h}), "$h: its $hosts{$h} workers are "
	    . "connected to Redis") or diag(explain(chat_stats($s{$h})));
}

###########################################################################
# Clients: non-blocking, one select loop (pump) with a deadline.

sub connect_client {
	my ($host, $label, %o) = @_;
	my $sock = IO::Socket::INET->new(Proto => 'tcp') or die "socket: $!";
	setsockopt($sock, SOL_SOCKET, SO_RCVBUF, pack('i', $o{rcvbuf}))
	    or die "SO_RCVBUF: $!" if $o{rcvbuf};
	$sock->connect(pack_sockaddr_in($s{$host}->port('chat'),
	    inet_aton('127.0.0.1'))) or die "connect to $host: $!";
	setsockopt($sock, IPPROTO_TCP, TCP_NODELAY, 1);
	$sock->blocking(0);
	return { sock => $sock, host => $host, label => $label, in => '',
	    out => '', eof => 0, read => !$o{noread}, lines => [],
	    seq => {}, history => [], other => [], mlines => 0 };
}

sub got_line {
	my ($c, $line) = @_;
	push @{ $c->{lines} }, $line;
	if ($line =~ /^\* history: (.*)\z/s) {
		push @{ $c->{history} }, $1;
	} elsif ($line =~ /^\* /) {
		$c->{welcome} //= $1 if $line =~ /^\* welcome, (\S+)$/;
		$c->{named} = 1 if $line eq "* you are now $c->{label}";
		$c->{end_history} //= scalar @{ $c->{lines} }
		    if $line eq '* end of history';
	} elsif ($line =~ /^([^\s:]+): m(\d+) (.*)\z/s) {
		push @{ $c->{seq}{$1} }, $2;
		$c->{mlines}++;
		push @{ $c->{other} }, "bad text: " . printable($line, 60)
		    unless $3 eq "from $1" || $3 =~ /^from \Q$1\E x+\z/;
	} else {
		push @{ $c->{other} }, $line;
	}
}

sub pump {
	my ($clients, $cond, $timeout) = @_;
	my $deadline = time + ($timeout // 10);
	for (;;) {
		return 1 if $cond->();
		my $left = $deadline - time;
		return 0 if $left <= 0;
		my ($rin, $win, %by) = ('', '');
		for my $c (@$clients) {
			next unless $c->{sock};
			my $fd = fileno $c->{sock};
			$by{$fd} = $c;
			vec($rin, $fd, 1) = 1 if $c->{read} && !$c->{eof};
			vec($win, $fd, 1) = 1 if length $c->{out};
		}
		my ($rout, $wout);
		my $n = select($rout = $rin, $wout = $win, undef,
		    $left < 0.1 ? $left : 0.1);
		next unless $n && $n > 0;
		for my $fd (keys %by) {
			my $c = $by{$fd};
			if (vec($wout, $fd, 1)) {
				my $w = syswrite($c->{sock}, $c->{out}, 65536);
				substr($c->{out}, 0, $w, '') if defined $w;
			}
			next unless vec($rout, $fd, 1);
			my $r = sysread($c->{sock}, my $chunk, 262144);
			next if !defined $r && ($!{EAGAIN} || $!{EINTR});
			if (!$r) {
				$c->{eof} = 1;
				next;
			}
			$c->{in} .= $chunk;
			got_line($c, $1) while $c->{in} =~ s/^([^\n]*)\n//;
		}
	}
}

sub say_to { my ($c, @l) = @_; $c->{out} .= "$_\n" for @l }
sub line_of { my ($c, $k, $pad) = @_; "m$k from $c->{label}"
    . ($pad ? ' ' . ('x' x $pad) : '') }

# Connects and names clients ([host, label], ...), each once welcomed.
sub join_clients {
	my ($all, @who) = @_;
	my @new;
	for my $w (@who) {
		my $c = connect_client(@$w);
		push @$all, $c;
		push @new, $c;
		say_to($c, "/nick $c->{label}");
		pump($all, sub { $c->{named} }, 10)
		    or die "$c->{label} on $w->[0] was not renamed in 10 s\n";
	}
	return @new;
}

sub close_all { for (@_) { close $_->{sock} if $_->{sock}; delete $_->{sock} } }

# What a receiver got wrong from senders, against $want->($r, $snd).
sub check_delivery {
	my ($receivers, $senders, $want) = @_;
	my @bad;
	for my $r (@$receivers) {
		push @bad, "$r->{label} got its own lines" if $r->{seq}{ $r->{label} };
		for my $snd (@$senders) {
			next if $snd == $r;
			my $exp = join ',', @{ $want->($r, $snd) };
			my $got = join ',', @{ $r->{seq}{ $snd->{label} } || [] };
			push @bad, "$r->{label} from $snd->{label}: got "
			    . printable($got, 80) . " want " . printable($exp, 80)
			    if $got ne $exp;
		}
		push @bad, "$r->{label}: " . join(' | ', @{ $r->{other} }[0 ..
		    ($#{ $r->{other} } < 2 ? $#{ $r->{other} } : 2)])
		    if @{ $r->{other} };
	}
	return @bad > 8 ? (@bad[0 .. 7], (@bad - 8) . ' more') : @bad;
}

sub reset_seen { for (@_) { $_->{seq} = {}; $_->{mlines} = 0; $_->{other} = [] } }

###########################################################################

my @all;
my @c;
subtest 'lines cross hosts: once each, in order' => sub {
	@c = eval { join_clients(\@all, map { my $h = $_;
	    map { [$h, "$h-c$_"] } 1 .. 3 } sort keys %hosts) };
	is(scalar @c, 9, 'nine clients, three on each host') or diag($@);
	return unless @c == 9;
	for my $burst (0 .. 2) {
		for my $c (@c) {
			say_to($c, map { line_of($c, $_) }
			    $burst * 10 + 1 .. $burst * 10 + 10);
		}
		my $want = 8 * 10 * ($burst + 1);
		pump(\@all, sub { !grep { $_->{mlines} < $want } @c }, 20);
	}
	# Anything that would come twice comes now.
	pump(\@all, sub { 0 }, 0.5);
	is(join("\n", check_delivery(\@c, \@c, sub { [1 .. 30] })), '',
	    'each of 9 clients got the 30 lines of each of the 8 others '
	    . 'once, in order, and none of its own');
};

subtest 'history' => sub {
	my ($late) = join_clients(\@all, ['h2', 'late']);
	ok(defined $late->{end_history}, 'a client joining h2 got '
	    . '"* end of history"');
	my @h = @{ $late->{history} };
	is(scalar @h, $HISTORY, "$HISTORY lines of history before it");
	my $first_live = (grep { $late->{lines}[$_] !~ /^\* (history:|welcome|end of history)/ }
	    0 .. $#{ $late->{lines} })[0] // 1e9;
	cmp_ok($late->{end_history} - 1, '<=', $first_live,
	    'all of it before anything live');
	my (%by, @bad);
	for (@h) {
		push(@bad, $_), next unless /^([^\s:]+): m(\d+) from \1$/;
		push @{ $by{$1} }, $2;
	}
	for my $who (sort keys %by) {
		my @s = @{ $by{$who} };
		push @bad, "$who: @s is not its last lines in order"
		    unless "@s" eq join(' ', 31 - @s .. 30);
	}
	is(join('; ', @bad), '', 'each sender\'s last lines, in order');
	my $list = $redis->command('LRANGE', "$CHANNEL:history", 0, -1);
	is(ref $list eq 'ARRAY' ? scalar @$list : -1, $HISTORY,
	    "Redis's list \"$CHANNEL:history\" holds $HISTORY frames");
	ok(!grep({ !/^fl1 [0-9a-f]{16} [0-9a-f]{16} [1-9]\d* L\n[^\n]+\n\z/ }
	    @{ $list || [] }), 'each in the documented format');
};

subtest 'stats' => sub {
	my $st = chat_stats($s{h1});
	my ($room) = @{ $st->{rooms} || [] };
	is($st->{redis_state}, 'up', 'h1: redis_state up');
	is($room->{lines_in}, 90, 'h1: lines_in 90 (3 clients x 30)');
	cmp_ok($room->{lines_out}, '>=', 3 * 240, 'h1: lines_out counts '
	    . 'every delivery (3 clients x 240 lines and the notices)');
	is($room->{history}, $HISTORY, "history $HISTORY");
	my $r = $s{h1}->http_get('/status?format=prometheus', quiet => 1);
	like($r->{body}, qr/^forkloop_chat_lines_in_total\{room="127\.0\.0\.1:\d+"\} 90$/m,
	    'Prometheus: forkloop_chat_lines_in_total');
	like($r->{body}, qr/^forkloop_chat_redis_workers_up 2$/m,
	    'Prometheus: forkloop_chat_redis_workers_up 2');
	$r = $s{h1}->http_get('/status?format=html', quiet => 1);
	like($r->{body}, qr/<table id="chat">.*<td>90<\/td>/s,
	    'HTML: the chat table');
};

subtest 'hostile frames on the channel' => sub {
	my %pids = map { $_ => join(' ', $s{$_}->worker_pids) } keys %hosts;
	my $mark = $s{h1}->log_mark;
	pump(\@all, sub { 0 }, 0.5);
	my $before = chat_stats($s{h1});
	reset_seen(@c);
	my $n0 = { map { $_->{label} => scalar @{ $_->{lines} } } @c };
	my $id = '0123456789abcdef';
	my @junk = ('hello', join('', map { chr } 0 .. 255) x 4,
	    "fl1 zz $id 1 L\nx: m1 from x\n",
	    "fl1 $id $id 1 X\nx: m1 from x\n",
	    "fl1 $id $id 1 L\nx: m1 from x\nsecond: line\n",
	    "fl1 $id $id 0 L\nx: m1 from x\n",
	    "fl1 $id $id 1 L\n" . ('y' x (2 * 1024 * 1024)) . "\n");
	my $reached = 0;
	for my $j (@junk) {
		my $n = $redis->command('PUBLISH', $CHANNEL, $j);
		$reached = $n if !ref $n && $n > $reached;
	}
	is($reached, 5, 'each reached the 5 workers\' subscribers');
	pump(\@all, sub { 0 }, 1);
	my @got = map { @{ $_->{lines} }[$n0->{ $_->{label} } .. $#{ $_->{lines} }] } @c;
	is(join(' | ', map { printable($_, 80) } @got), '', 'no client got anything');
	like($s{h1}->log_since($mark), qr/dropped a frame of \d+ bytes on redis channel \Q$CHANNEL\E: /,
	    'the error log says a frame was dropped');
	is(join(' | ', map { "$_: " . join(' ', $s{$_}->worker_pids) } sort keys %hosts),
	    join(' | ', map { "$_: $pids{$_}" } sort keys %hosts),
	    'every worker of every host still runs');

	# The documented format, from a host that is not there.
	my $frame = "fl1 00000000000000aa 00000000000000bb %d L\nmallory: m%d from mallory\n";
	$redis->command('PUBLISH', $CHANNEL, sprintf($frame, 1, 1));
	$redis->command('PUBLISH', $CHANNEL, sprintf($frame, 1, 1));
	$redis->command('PUBLISH', $CHANNEL, sprintf($frame, 5, 5));
	pump(\@all, sub { !grep { @{ $_->{seq}{mallory} || [] } < 2 } @c }, 5);
	pump(\@all, sub { 0 }, 0.3);
	is(join(' ', map { join(',', @{ $_->{seq}{mallory} || [] }) } @c),
	    join(' ', ('1,5') x 9), 'a valid frame reaches every client once; '
	    . 'the same one again does not; the next (number 5) does');
	my $after = chat_stats($s{h1});
	is($after->{redis_lines_lost} - ($before->{redis_lines_lost} // 0), 2 * 3,
	    'h1: 3 lines counted lost (2 to 4) by each of its 2 workers');
	is($after->{redis_frames_dropped} - $before->{redis_frames_dropped},
	    2 * (@junk + 1), 'h1: frames dropped: the junk and the repeat, '
	    . 'by each worker');
};

subtest 'Redis paused: bounded, and only the slow client goes' => sub {
	my ($snd) = grep { $_->{label} eq 'h1-c1' } @c;
	my @h1 = grep { $_->{host} eq 'h1' && $_ != $snd } @c;
	my @h2 = grep { $_->{host} eq 'h2' } @c;
	my @far = grep { $_->{host} ne 'h1' } @c;
	my $slow = connect_client('h2', 'slow', rcvbuf => 4096, noread => 1);
	push @all, $slow;
	say_to($slow, '/nick slow');
	pump(\@all, sub { 0 }, 0.5);
	reset_seen(@c);
	my $before = chat_stats($s{h1});
	my $mark2 = $s{h2}->log_mark;
	$redis->pause;
	# In rounds, each once h1's readers have had the last: the test
	# reads them as fast as it can, and only the one that does not
	# read at all may be judged slow.
	my ($n, $sent, $local) = (5000, 0, 1);
	while ($sent < $n && $local) {
		say_to($snd, map { line_of($snd, $_, 1000) } $sent + 1 .. $sent + 250);
		$sent += 250;
		$local = pump(\@all, sub { !grep { $_->{mlines} < $sent } @h1 }, 30);
	}
	ok($local, "while Redis is stopped, h1's other clients get all $n "
	    . 'lines of 1 KB') or diag(join(' ', map { "$_->{label}:$_->{mlines}" } @h1));
	my $mid = chat_stats($s{h1});
	my $failed = $mid->{redis_publish_failures} - $before->{redis_publish_failures};
	ok($failed > 0 && $failed < $n, "what waits for Redis is bounded: "
	    . "$failed lines counted as publish failures");
	$redis->resume;
	my $want = $n - $failed;
	my $got = pump(\@all, sub { !grep { $_->{mlines} < $want } @far }, 60);
	ok($got, "Redis runs on: the other hosts' readers get the $want "
	    . 'published lines') or diag(join(' ', map { "$_->{label}:$_->{mlines}" } @far));
	pump(\@all, sub { 0 }, 0.5);
	is(join("\n", check_delivery(\@far, [$snd], sub { [1 .. $want] })), '',
	    'the first lines, gap-free and in order: the failures are the '
	    . 'last, to the line');

	# On until the client that never reads has more waiting than its
	# queue and the kernel's buffers hold (at most 16 MB more).
	my $dropped = sub { $s{h2}->log_since($mark2) =~ /\bslow fell \d+ bytes behind/ };
	my ($k, $ok) = ($n, 1);
	while (!$dropped->() && $k < $n + 16000 && $ok) {
		say_to($snd, map { line_of($snd, $_, 1000) } $k + 1 .. $k + 250);
		$k += 250;
		my $w = $want + $k - $n;
		$ok = pump(\@all, sub { !grep { $_->{mlines} < $w } @far }, 30);
	}
	ok($dropped->(), 'h2 dropped the client that never reads')
	    or diag("after " . ($k - $n) . " more lines");
	pump(\@all, sub { 0 }, 0.5);
	is(join("\n", check_delivery(\@far, [$snd],
	    sub { [1 .. $want, $n + 1 .. $k] })), '',
	    'the readers got every line since, in order');
	ok(!grep({ $_->{eof} } @c), 'and no client but the slow one was cut off');
	close_all($slow);
	@all = grep { $_ != $slow } @all;
};

subtest 'Redis killed and restarted' => sub {
	my @h1 = grep { $_->{host} eq 'h1' } @c;
	my @h2 = grep { $_->{host} eq 'h2' } @c;
	my %m = map { $_ => $s{$_}->log_mark } keys %hosts;
	my %w = map { $_->{welcome} =~ /^guest(\d+)-/ ? ($1 => 1) : () } @h1;
	# SO_REUSEPORT chooses: more clients until both workers have one.
	for my $i (1 .. 30) {
		last if keys %w == 2;
		my ($x) = join_clients(\@all, ['h1', "h1-x$i"]);
		$w{$1} = 1 if $x->{welcome} =~ /^guest(\d+)-/;
		push @c, $x;
		push @h1, $x;
	}
	ok(keys %w == 2, 'h1\'s clients are on both its workers');
	reset_seen(@c);
	$redis->stop;
	for my $c (@h1) { say_to($c, map { line_of($c, $_) } 1 .. 10) }
	my $local = pump(\@all, sub { !grep { $_->{mlines} < 20 } @h1 }, 20);
	ok($local, 'Redis gone: h1\'s clients still hear each other, across '
	    . 'its two workers');
	pump(\@all, sub { 0 }, 0.5);
	is(join(' ', map { $_->{mlines} } @h2), '0 0 0',
	    'h2 hears nothing of it (lost, not queued)');
	$redis->start;
	my $t0 = time;
	my $up = !grep { !redis_up($s{$_}, $hosts{$_}) } sort keys %hosts;
	ok($up, 'Redis back: every worker of every host reconnects');
	note(sprintf('all reconnected %.2f s after Redis answered', time - $t0));
	reset_seen(@c);
	for my $c (@c) { say_to($c, map { line_of($c, $_) } 11 .. 15) }
	pump(\@all, sub { !grep { $_->{mlines} < 40 } @c }, 20);
	is(join("\n", check_delivery(\@c, \@c, sub { [11 .. 15] })), '',
	    'lines cross hosts again, once each, in order');
	ok(!grep({ $_->{eof} } @c), 'no client was disconnected');
	for my $h (sort keys %hosts) {
		my $log = $s{$h}->log_since($m{$h});
		my $lost = () = $log =~ /redis \S+ \w+ lost: /g;
		my $back = () = $log =~ /redis \S+ \w+ connected again/g;
		is("$lost $back", join(' ', (2 * $hosts{$h}) x 2), "$h: the loss "
		    . 'and the return logged once per connection')
		    or diag($log);
	}
	cmp_ok(chat_stats($s{h1})->{redis_reconnects}, '>=', 4,
	    'h1: reconnects counted');
};

subtest 'HUP reload of a host while another sends' => sub {
	my @old_w = $s{h1}->wait_workers(2);
	my ($snd) = grep { $_->{label} eq 'h2-c1' } @c;
	my @old = grep { $_->{host} eq 'h1' } @c;
	reset_seen(@c);
	for my $k (1 .. 40) {
		say_to($snd, line_of($snd, $k));
		pump(\@all, sub { 0 }, 0.03);
		$s{h1}->signal('HUP') if $k == 10;
	}
	my %was = map { $_ => 1 } @old_w;
	my $gen2 = wait_for(sub { my @w = grep { !$was{$_} } $s{h1}->worker_pids;
	    @w == 2 ? \@w : 0 }, 15);
	is(scalar @{ $gen2 || [] }, 2, 'h1 has two new workers');
	my $up = wait_for(sub { my $c = chat_stats($s{h1});
		my @w = $s{h1}->worker_pids;
		($c->{redis_state} // '') eq 'up'
		    && ($c->{redis_workers_up} // 0) == @w }, 15);
	ok($up, 'they are connected to Redis, and so are the old ones')
	    or diag(explain(status($s{h1})));
	my @new = eval { join_clients(\@all, ['h1', 'h1-n1'], ['h1', 'h1-n2']) };
	is(scalar @new, 2, 'two clients join h1\'s new workers') or diag($@);
	say_to($snd, map { line_of($snd, $_) } 41 .. 50);
	for my $c (@new) { say_to($c, map { line_of($c, $_) } 1 .. 10) }
	my $done = pump(\@all, sub { !grep { $_->{mlines} < 50 + 20 } @old }, 20);
	ok($done, 'the old clients got everything');
	pump(\@all, sub { 0 }, 0.5);
	is(join("\n", check_delivery(\@old, [$snd, @new], sub {
	    $_[1] == $snd ? [1 .. 50] : [1 .. 10] })), '',
	    'clients of the old workers: every line of h2 across the reload '
	    . 'and of the new workers, once each, in order');
	is(join("\n", check_delivery([grep { $_->{host} eq 'h2' && $_ != $snd } @c],
	    \@new, sub { [1 .. 10] })), '', 'h2 got the new workers\' lines once');
	ok(Forkloop::proc_alive($old_w[0]) || Forkloop::proc_alive($old_w[1]),
	    'the old workers still run, for their clients');
	close_all(@old);
	my $gone = wait_for(sub { !grep { Forkloop::proc_alive($_) } @old_w }, 15);
	ok($gone, 'and exit once their clients have left');
	@c = grep { $_->{host} ne 'h1' } @c;
	push @c, @new;
};

subtest 'a host killed with SIGKILL' => sub {
	$s{h3}->kill_now;
	my @live = grep { $_->{host} ne 'h3' } @c;
	close_all(grep { $_->{host} eq 'h3' } @c);
	reset_seen(@live);
	for my $c (@live) { say_to($c, map { line_of($c, $_) } 101 .. 105) }
	my $want = 5 * (@live - 1);
	pump(\@all, sub { !grep { $_->{mlines} < $want } @live }, 20);
	pump(\@all, sub { 0 }, 0.3);
	is(join("\n", check_delivery(\@live, \@live, sub { [101 .. 105] })), '',
	    'the other hosts\' clients go on, once each, in order');
	ok(!grep({ $_->{eof} } @live), 'none of them was disconnected');
	@c = @live;
};

subtest 'binary upgrade (USR2, WINCH, QUIT) while clients talk' => sub {
	my $u = Forkloop->new(config => host_config(2));
	$s{u} = $u;
	ok(redis_up($u, 2), 'a host with 2 workers');
	my $old_master = $u->pid;
	my @old_w = children_of($old_master);
	my @ua;
	my @old = eval { join_clients(\@ua, ['u', 'u-o1'], ['u', 'u-o2'],
	    ['u', 'u-o3']) };
	is(scalar @old, 3, 'three clients') or diag($@);
	return unless @old == 3;
	$u->signal('USR2');
	my $new_master = wait_for(sub {
		my ($p) = grep { $_ != $old_w[0] && $_ != $old_w[1] }
		    children_of($old_master);
		return 0 unless $p && children_of($p) == 2;
		return $p;
	}, 15);
	ok($new_master, 'USR2: a new master with two workers');
	return unless $new_master;
	my @new_w = children_of($new_master);
	$u->signal('WINCH');
	# The old workers stop accepting; their chat clients stay.
	ok(wait_for(sub { $u->error_log =~ /\b$old_w[0]: .*finishing its connections/
	    && $u->error_log =~ /\b$old_w[1]: .*finishing its connections/ }, 10),
	    'WINCH: the old workers finish');
	my $up = wait_for(sub { my $n = () = $u->error_log
	    =~ /redis \S+ \w+ connected$/mg; $n >= 8 }, 10);
	ok($up, 'the new workers are connected to Redis');
	my @new = eval { join_clients(\@ua, ['u', 'u-n1'], ['u', 'u-n2']) };
	is(scalar @new, 2, 'two clients join the new workers') or diag($@);
	my %nw = map { $_ => 1 } @new_w;
	ok(!grep({ !($_->{welcome} =~ /^guest(\d+)-/ && $nw{$1}) } @new),
	    'they are on the new master\'s workers');
	for my $k (1 .. 20) {
		say_to($_, line_of($_, $k)) for @old, @new;
		pump(\@ua, sub { 0 }, 0.01) if $k % 5 == 0;
	}
	pump(\@ua, sub { !grep { $_->{mlines} < 4 * 20 } @old, @new }, 20);
	pump(\@ua, sub { 0 }, 0.5);
	is(join("\n", check_delivery([@old, @new], [@old, @new], sub { [1 .. 20] })),
	    '', 'old and new masters\' clients hear each other through Redis, '
	    . 'once each, in order');
	close_all(@old);
	ok(wait_for(sub { !grep { proc_alive($_) } @old_w }, 15),
	    'the old workers exit once their clients have left');
	$u->signal('QUIT');
	is($u->wait_exit(10), 0, 'QUIT: the old master exits');
	close_all(@new);
	kill 'QUIT', $new_master;
	ok(wait_for(sub { !proc_alive($new_master)
	    && !grep { proc_alive($_) } @new_w }, 15), 'the new master stops');
};

subtest 'history survives every host' => sub {
	my $list = $redis->command('LRANGE', "$CHANNEL:history", 0, -1);
	my @texts = map { /\n(.*)\n\z/s ? $1 : '?' } @{ ref $list ? $list : [] };
	is(scalar @texts, $HISTORY, "Redis holds $HISTORY lines");
	close_all(@all);
	is($s{$_}->stop, 0, "$_ stops") for qw(h1 h2);
	my $h4 = Forkloop->new(config => host_config(1));
	$s{h4} = $h4;
	ok(redis_up($h4, 1), 'a new host connects');
	ok(wait_for(sub { (chat_stats($h4)->{rooms}[0]{history} // 0) == $HISTORY }, 10),
	    'and has read the history');
	my @one;
	my ($c) = join_clients(\@one, ['h4', 'first']);
	is(join("\n", @{ $c->{history} }), join("\n", @texts),
	    'its first client gets Redis\'s list as history, in order');
	close_all($c);
	is($h4->stop, 0, 'h4 stops');
};

subtest 'redis_password' => sub {
	my $r = $redis->command(qw(CONFIG SET requirepass s3cret));
	is($r, 'OK', 'Redis now wants a password');
	my $bad = Forkloop->new(config => host_config(1, password => 'wrong'));
	my $refused = wait_for(sub { my $n = () = $bad->error_log
	    =~ /redis \S+ \w+ refused AUTH: /g; $n >= 2 }, 10);
	ok($refused, 'a wrong one: refused, logged');
	pump([], sub { 0 }, 1.5);	# several more tries, at most 500 ms apart
	my $n = () = $bad->error_log =~ /refused AUTH/g;
	is($n, 2, 'once per connection, not once per try');
	isnt(chat_stats($bad)->{redis_state}, 'up', 'its redis_state is not up');
	is($bad->stop, 0, 'it stops');
	my $good = Forkloop->new(config => host_config(1, password => 's3cret'));
	$s{good} = $good;
	ok(redis_up($good, 1), 'the right one: connected');
	ok(wait_for(sub { (chat_stats($good)->{rooms}[0]{history} // 0) == $HISTORY }, 10),
	    'and has read the history');
	my @two;
	my ($c) = join_clients(\@two, ['good', 'pw']);
	is(scalar @{ $c->{history} }, $HISTORY, 'and its client gets the history');
	close_all($c);
	is($good->stop, 0, 'it stops');
	$s{bad} = $bad;
};

subtest 'config errors' => sub {
	my $rp = $redis->port;
	config_errors_ok($s{h4}, [
	    ['chat_history without redis', "chat {\n listen 127.0.0.1:1;\n"
		. " chat_history 5;\n}\n", 3],
	    ['a bad address', "chat {\n listen 127.0.0.1:1;\n redis nowhere;\n}\n", 3],
	    ['port 0', "chat {\n listen 127.0.0.1:1;\n redis 127.0.0.1:0;\n}\n", 3],
	    ['one channel, two rooms', "chat {\n listen 127.0.0.1:1;\n"
		. " redis 127.0.0.1:$rp;\n redis_channel x;\n}\nchat {\n"
		. " listen 127.0.0.1:2;\n redis 127.0.0.1:$rp;\n"
		. " redis_channel x;\n}\n", 8],
	    ['chat_history too big', "chat {\n listen 127.0.0.1:1;\n"
		. " redis 127.0.0.1:$rp;\n chat_history 10001;\n}\n", 4],
	]);
};

for my $h (sort keys %s) {
	$s{$h}->log_clean_ok([], "$h: no unexpected errors in its log");
}
done_testing();
