#!/usr/bin/perl
# chat.t: the group chat service (issue 7), "chat { listen ADDR; }" with
# two workers, so the clients of one room sit in different processes.
#
#  - 20 clients, spread by SO_REUSEPORT over both workers, each renamed
#    with /nick and each sending 50 lines: every client receives all 950
#    lines of the others, "NAME: text", each sender's in order; join,
#    rename and leave notices reach everybody.
#  - A client that never reads does not stall the others and is dropped
#    once its queue (queue 16k) is full: told so, then closed; the room
#    is told it left.
#  - A reload (HUP) in the middle of the traffic loses no line: clients of
#    the old workers still hear, and are heard by, clients that connect to
#    the new ones, up to the last line they send before they leave, and
#    their leave notices too; then the old workers exit.
#  - A line over max_line is refused with a notice and not delivered; so
#    is an invalid /nick.
#
# Every client is non-blocking and served by one select loop (pump) with a
# deadline; the file as a whole is bounded by the harness's alarm.

use strict;
use warnings;

use Test::More;
use IO::Select;
use IO::Socket::INET;
use Socket qw(SOL_SOCKET SO_RCVBUF IPPROTO_TCP TCP_NODELAY inet_aton
    pack_sockaddr_in);
use Time::HiRes qw(time sleep);
use Forkloop qw(wait_for printable);

Forkloop::check_binary();
Forkloop::watchdog(300);

my $QUEUE = 16 * 1024;
my $MAX_LINE = 4096;

my $s = Forkloop->new(config => <<'CONF');
workers 2;
# Ten clients of this one process must sit on both workers: the kernel's
# hash spreads them; steering would keep them on the worker of this
# process's CPU.
reuseport_steering off;
worker_connections 1024;
shutdown_timeout 60s;

chat {
    listen 127.0.0.1:%%PORT_CHAT%%;
    max_line 4k;
    queue 16k;
    idle_timeout 5m;
}
CONF
my $port = $s->port('chat');
my @expected_errors;

###########################################################################
# Clients.

# A line's text after "m<seq> ", from its sender's name and number: the
# receiver checks every byte.  $len pads it to about that many bytes.
sub payload {
	my ($name, $seq, $len) = @_;
	my $p = "from $name #$seq ";
	$p .= substr(('abcdefghijklmnopqrstuvwxyz0123456789' x
	    (1 + int(($len // 0) / 36))), 0, ($len // 0) - length $p)
	    if ($len // 0) > length $p;
	return $p;
}

# connect_client(name => LABEL, rcvbuf => BYTES, noread => 1)
sub connect_client {
	my (%o) = @_;
	my $sock = IO::Socket::INET->new(Proto => 'tcp') or die "socket: $!";
	if ($o{rcvbuf}) {
		setsockopt($sock, SOL_SOCKET, SO_RCVBUF, pack('i', $o{rcvbuf}))
		    or die "SO_RCVBUF: $!";
	}
	$sock->connect(pack_sockaddr_in($port, inet_aton('127.0.0.1')))
	    or die "connect to chat port $port: $!";
	setsockopt($sock, IPPROTO_TCP, TCP_NODELAY, 1);
	$sock->blocking(0);
	return { sock => $sock, label => $o{name} // '?', in => '',
	    out => '', eof => 0, read => !$o{noread}, notices => [],
	    other => [], seq => {}, bad => [], nlines => 0, mlines => 0,
	    last => '', len => $o{len} // 0 };
}

# One line received by $c.
sub got_line {
	my ($c, $line) = @_;
	$c->{nlines}++;
	$c->{last} = $line;
	if ($line =~ /^\* /) {
		push @{ $c->{notices} }, $line;
		$c->{welcome} //= $1 if $line =~ /^\* welcome, (\S+)$/;
	} elsif ($line =~ /^([^\s:]+): m(\d+) (.*)\z/s) {
		my ($from, $seq, $text) = ($1, $2, $3);
		push @{ $c->{seq}{$from} }, $seq;
		$c->{mlines}++;
		push @{ $c->{bad} }, "from $from m$seq: "
		    . printable($text, 60)
		    if @{ $c->{bad} } < 5 && $text ne payload($from, $seq,
		    $c->{len_of}{$from} // 0);
	} else {
		push @{ $c->{other} }, $line;
	}
}

# The select loop: writes what each client has queued, reads every client
# that reads, until $cond->() is true (returns 1) or $timeout seconds
# pass (returns 0).
sub pump {
	my ($clients, $cond, $timeout) = @_;
	my $deadline = time + ($timeout // 10);
	for (;;) {
		return 1 if $cond->();
		my $left = $deadline - time;
		return 0 if $left <= 0;
		my ($rin, $win) = ('', '');
		my %by;
		for my $c (@$clients) {
			next unless $c->{sock};
			my $fd = fileno $c->{sock};
			$by{$fd} = $c;
			vec($rin, $fd, 1) = 1 if $c->{read} && !$c->{eof};
			vec($win, $fd, 1) = 1 if length $c->{out}
			    && !$c->{write_error};
		}
		my ($rout, $wout);
		my $n = select($rout = $rin, $wout = $win, undef,
		    $left < 0.2 ? $left : 0.2);
		next unless $n && $n > 0;
		for my $fd (keys %by) {
			my $c = $by{$fd};
			if (vec($wout, $fd, 1)) {
				my $w = syswrite($c->{sock}, $c->{out}, 65536);
				if (defined $w) {
					substr($c->{out}, 0, $w, '');
				} elsif (!$!{EAGAIN} && !$!{EINTR}) {
					$c->{write_error} = "$!";
				}
			}
			next unless vec($rout, $fd, 1);
			my $r = sysread($c->{sock}, my $chunk, 262144);
			if (!defined $r) {
				next if $!{EAGAIN} || $!{EINTR};
				$c->{reset} = 1;
				$r = 0;
			}
			if ($r == 0) {
				$c->{eof} = 1;
				next;
			}
			$c->{bytes} += $r;
			$c->{in} .= $chunk;
			while ($c->{in} =~ s/^([^\n]*)\n//) {
				got_line($c, $1);
			}
		}
	}
}

sub close_client {
	my ($c) = @_;
	close $c->{sock} if $c->{sock};
	delete $c->{sock};
}

sub say_to {
	my ($c, @lines) = @_;
	$c->{out} .= "$_\n" for @lines;
}

# Connects clients one at a time, each once its welcome came (so the
# join notices are in a known order); returns them.
sub connect_many {
	my ($all, @names) = @_;
	my @new;
	for my $name (@names) {
		my $c = connect_client(name => $name);
		push @$all, $c;
		push @new, $c;
		pump($all, sub { defined $c->{welcome} }, 10)
		    or die "no welcome for $name within 10 s\n";
		$c->{guest} = $c->{welcome};
		($c->{worker}) = $c->{guest} =~ /^guest(\d+)-/;
	}
	return @new;
}

# Sends /nick for each of @who and waits until every client of @hear has
# seen each rename (but its own).
sub rename_all {
	my ($all, $who, $hear) = @_;
	say_to($_, "/nick $_->{label}") for @$who;
	my @missing;
	my $ok = pump($all, sub {
		@missing = ();
		for my $h (@$hear) {
			my %n = map { $_ => 1 } @{ $h->{notices} };
			for my $c (@$who) {
				next if $c == $h;
				push @missing, "$h->{label} did not hear "
				    . "$c->{guest} become $c->{label}" unless
				    $n{"* $c->{guest} is now $c->{label}"};
			}
		}
		return !@missing;
	}, 20);
	Test::More::diag(join("\n", @missing[0 .. ($#missing < 5 ? $#missing
	    : 5)])) if @missing;
	$_->{name} = $_->{label} for @$who;
	return $ok;
}

# How a received sequence differs from the expected one, briefly.
sub seq_diff {
	my ($got, $exp) = @_;
	my (%g, %e, @why);
	$g{$_}++ for @$got;
	$e{$_}++ for @$exp;
	my @missing = grep { !$g{$_} } @$exp;
	my @extra = grep { !$e{$_} } sort { $a <=> $b } keys %g;
	my @dup = grep { $g{$_} > 1 } sort { $a <=> $b } keys %g;
	my $short = sub { my @l = @_; @l > 8 ? "@l[0 .. 7] ..." . @l
	    . " in all" : "@l" };
	push @why, 'missing ' . $short->(@missing) if @missing;
	push @why, 'unexpected ' . $short->(@extra) if @extra;
	push @why, 'twice ' . $short->(@dup) if @dup;
	my @order = grep { $e{$_} && $g{$_} == 1 } @$got;
	push @why, 'out of order' if "@order" ne join(' ',
	    grep { $g{$_} } @$exp);
	return join('; ', @why) || 'differs';
}

# What each receiver is missing or has wrong: $want->($receiver, $sender)
# gives the expected sequence numbers of sender's lines at receiver.
sub check_delivery {
	my ($receivers, $senders, $want) = @_;
	my @bad;
	for my $r (@$receivers) {
		my $name = $r->{name} // $r->{label};
		push @bad, "$name got its own lines"
		    if $r->{seq}{$name};
		for my $snd (@$senders) {
			next if $snd == $r;
			my @exp = @{ $want->($r, $snd) };
			my @got = @{ $r->{seq}{ $snd->{name} } || [] };
			next if "@got" eq "@exp";
			push @bad, "$name from $snd->{name}: "
			    . seq_diff(\@got, \@exp);
		}
		push @bad, "$name: wrong text: @{ $r->{bad} }" if @{ $r->{bad} };
		push @bad, "$name: unexpected lines: "
		    . join(' | ', map { printable($_, 60) }
		    @{ $r->{other} }[0 .. ($#{ $r->{other} } < 2
		    ? $#{ $r->{other} } : 2)]) if @{ $r->{other} };
	}
	return @bad > 10 ? (@bad[0 .. 9], (@bad - 10) . " more") : @bad;
}

###########################################################################

subtest '20 clients over 2 workers, 50 lines each' => sub {
	my @workers = $s->wait_workers(2);
	is(scalar @workers, 2, 'two workers');
	my @all;
	my @c = eval { connect_many(\@all, map { "c$_" } 0 .. 19) };
	is(scalar @c, 20, 'twenty clients connected, each welcomed')
	    or diag($@);
	return unless @c == 20;
	my %on = map { $_->{worker} => 1 } @c;
	is(join(' ', sort { $a <=> $b } keys %on), join(' ', @workers),
	    'the clients are spread over both workers (by their guest '
	    . 'names)') or diag(join(' ', map { $_->{guest} } @c));
	my %count;
	$count{ $_->{worker} }++ for @c;
	note('clients per worker: ' . join(', ', map { "$_: $count{$_}" }
	    sort keys %count));

	# Each client heard every later client join.
	my $joins = pump(\@all, sub {
		for my $i (0 .. $#c) {
			my %n = map { $_ => 1 } @{ $c[$i]{notices} };
			for my $j ($i + 1 .. $#c) {
				return 0 unless $n{"* $c[$j]{guest} joined"};
			}
		}
		return 1;
	}, 10);
	ok($joins, 'join notices: each client heard every later one join');
	ok(!grep({ my $g = $_->{guest}; grep { /^\* \Q$g\E joined$/ }
	    @{ $_->{notices} } } @c), 'and nobody its own');

	ok(rename_all(\@all, \@c, \@c), '/nick: every client heard all '
	    . '19 renames ("* guest... is now cN")');

	# Five bursts of ten lines from every client: a burst to each client
	# (19 x 10 lines) stays well inside its 16k queue plus the kernel's
	# buffers even when this test is starved of CPU, so only a client
	# that stops reading is judged slow; the next burst waits for the
	# one before.
	my $t0 = time;
	my $done = 1;
	for my $burst (0 .. 4) {
		for my $c (@c) {
			say_to($c, map { "m$_ " . payload($c->{name}, $_) }
			    $burst * 10 + 1 .. $burst * 10 + 10);
		}
		my $want = 19 * 10 * ($burst + 1);
		$done &&= pump(\@all, sub { !grep { $_->{mlines} < $want } @c },
		    30);
	}
	ok($done, 'every client received 950 lines')
	    or diag(join(' ', map { "$_->{name}:$_->{mlines}" } @c));
	note(sprintf("%d lines delivered in %.2f s", 20 * 950, time - $t0));
	my @bad = check_delivery(\@c, \@c, sub { [1 .. 50] });
	is(join("\n", @bad), '', 'all 50 lines of each of the 19 others, in '
	    . 'order, "NAME: text" intact, none of its own');
	ok(!grep({ $_->{write_error} || $_->{eof} } @c),
	    'no client was cut off');

	# Leaving: the others are told, by the new name.
	my $gone = shift @c;
	close_client($gone);
	my $left = pump(\@all, sub { !grep { $_->{last} ne '* c0 left' } @c },
	    10);
	ok($left, 'c0 leaves: the 19 others get "* c0 left"')
	    or diag(join(' | ', map { printable($_->{last}, 40) } @c));
	close_client($_) for @c;
};

subtest 'a client that never reads' => sub {
	my @all;
	my @c = eval { connect_many(\@all, qw(a b r1 r2)) };
	is(scalar @c, 4, 'four clients') or diag($@);
	return unless @c == 4;
	# A small receive buffer, so that the server's side fills sooner.
	my $slow = connect_client(name => 'slow', rcvbuf => 4096,
	    noread => 1);
	push @all, $slow;
	# Its name comes in its welcome, which it never reads: the others
	# know it by its join notice, the one of none of them.
	my %known = map { $_->{guest} => 1 } @c;
	my $guest;
	pump(\@all, sub {
		($guest) = grep { !$known{$_} }
		    map { /^\* (\S+) joined$/ ? $1 : () } @{ $c[0]{notices} };
		defined $guest }, 10);
	ok(defined $guest, 'and a fifth that never reads');
	$slow->{guest} = $guest // '?';
	ok(rename_all(\@all, [$slow, @c], \@c), 'renamed: slow, a, b, r1, r2');

	# Enough volume to fill every buffer between the server and the
	# slow client: the kernel's (up to tcp_wmem's maximum on the
	# server's side) and then the 16k queue.
	my $wmem = 4194304;
	if (open(my $fh, '<', '/proc/sys/net/ipv4/tcp_wmem')) {
		my @v = split ' ', scalar <$fh>;
		$wmem = $v[2] if @v == 3;
	}
	my $len = 1000;
	my $n = int((1.25 * $wmem + 262144) / (2 * $len)) + 1;
	my ($a, $b) = @c[0, 1];
	$_->{len_of} = { a => $len, b => $len } for @all;

	# In rounds of 32 lines from each sender, the next once the four
	# readers have had the last: a reader that keeps reading never
	# has more than 64 KB on its way, which the kernel's buffers hold,
	# so only a client that does not read at all can fill its queue.
	my $t0 = time;
	my ($sent, $stalled) = (0, 0);
	while ($sent < $n && !$stalled) {
		my $to = $sent + 32 < $n ? $sent + 32 : $n;
		for my $snd ($a, $b) {
			say_to($snd, map { "m$_ "
			    . payload($snd->{name}, $_, $len) }
			    $sent + 1 .. $to);
		}
		$sent = $to;
		$stalled = !pump(\@all, sub {
			$c[2]{mlines} >= 2 * $sent && $c[3]{mlines} >= 2 * $sent
			    && $a->{mlines} >= $sent && $b->{mlines} >= $sent
		}, 20);
	}
	ok(!$stalled, "the others got all 2 x $n lines of ${len} bytes "
	    . "while the slow client read nothing")
	    or diag("stalled after $sent lines each: "
	    . join(' ', map { "$_->{name}:$_->{mlines}" } @c));
	note(sprintf("%.1f MB to each reader in %.2f s",
	    2 * $n * $len / 1e6, time - $t0));
	my @bad = check_delivery([@c], [$a, $b], sub { [1 .. $n] });
	is(join("\n", @bad), '', 'each in order and intact');

	my $dropped = '';
	wait_for(sub {
		($dropped) = $s->error_log =~ /^(.*\bslow fell \d+ bytes behind.*)$/m;
		$dropped //= '';
	}, 10);
	my ($behind) = $dropped =~ /fell (\d+) bytes/;
	ok(defined $behind, 'the error log says the slow client was dropped')
	    or diag($s->error_log);
	ok(defined $behind && $behind <= $QUEUE
	    && $behind + $len + 20 > $QUEUE,
	    'when its queue (16k) could not take the next line')
	    or diag($dropped);

	# Now it reads: what was queued, the notice, then the close.
	$slow->{read} = 1;
	$slow->{len_of} = { a => $len, b => $len };
	my $closed = pump(\@all, sub { $slow->{eof} }, 30);
	ok($closed, 'its socket is closed once its buffers drained')
	    or diag("it read " . ($slow->{bytes} // 0) . " bytes");
	is($slow->{last}, '* you are not reading; disconnecting',
	    'the last line it got is the notice');
	is($slow->{in}, '', 'nothing after it');
	cmp_ok($slow->{mlines}, '<', 2 * $n, 'it got less than everything');
	my @prefix;
	for my $snd ($a, $b) {
		my $got = $slow->{seq}{ $snd->{name} } || [];
		push @prefix, "from $snd->{name}: " . printable(join(',', @$got),
		    80) if join(',', @$got) ne join(',', 1 .. @$got);
	}
	is(join('; ', @prefix), '', 'and what it got was each sender\'s '
	    . 'first lines, in order');
	ok(!@{ $slow->{bad} }, 'intact') or diag("@{ $slow->{bad} }");

	# The room should hear that it is gone.
	my $told = pump(\@all, sub {
		!grep { !grep { /^\* slow\b.*\b(left|disconnect)/ }
		    @{ $_->{notices} } } @c }, 5);
	ok($told, 'the others are told the slow client left')
	    or diag('notices at r1: ' . join(' | ', @{ $c[2]{notices} }));
	ok(!grep({ $_->{eof} } @c), 'the others are still connected');
	close_client($_) for @all;
};

subtest 'a reload in the middle of the traffic' => sub {
	my @old_workers = $s->wait_workers(2);
	is(scalar @old_workers, 2, 'two workers');
	my @all;
	my @old = eval { connect_many(\@all, map { "o$_" } 0 .. 9) };
	is(scalar @old, 10, 'ten clients before the reload') or diag($@);
	return unless @old == 10;
	my %on = map { $_->{worker} => 1 } @old;
	is(scalar keys %on, 2, 'on both workers');
	ok(rename_all(\@all, \@old, \@old), 'renamed o0..o9');

	# Lines 1..25, a round at a time; the HUP after round 10.
	my @new_workers;
	for my $k (1 .. 25) {
		say_to($_, "m$k " . payload($_->{name}, $k)) for @old;
		pump(\@all, sub { 0 }, 0.03);
		if ($k == 10) {
			$s->signal('HUP');
		}
	}
	my $first = pump(\@all, sub { !grep { $_->{mlines} < 9 * 25 } @old },
	    30);
	ok($first, 'lines 1-25 (the HUP came after 10) reached everybody')
	    or diag(join(' ', map { "$_->{name}:$_->{mlines}" } @old));
	my @bad = check_delivery(\@old, \@old, sub { [1 .. 25] });
	is(join("\n", @bad), '', 'all of them, in order');

	my %was = map { $_ => 1 } @old_workers;
	my $gen2 = wait_for(sub {
		my @w = grep { !$was{$_} } $s->worker_pids;
		return @w == 2 ? \@w : 0;
	}, 15);
	@new_workers = $gen2 ? @$gen2 : ();
	is(scalar @new_workers, 2, 'two new workers');
	ok(!grep({ !Forkloop::proc_alive($_) } @old_workers),
	    'the old workers still run: they have chat clients');

	# The old workers stop accepting at the QUIT the master sends them.
	my $quit = wait_for(sub { my $log = $s->error_log;
		!grep { $log !~ /\b$_: .*finishing its connections/ }
		    @old_workers }, 10);
	ok($quit, 'the old workers were told to finish');

	my @new = eval { connect_many(\@all, map { "n$_" } 0 .. 5) };
	is(scalar @new, 6, 'six clients after the reload') or diag($@);
	return unless @new == 6;
	my %new_w = map { $_ => 1 } @new_workers;
	ok(!grep({ !$new_w{ $_->{worker} } } @new),
	    'they are on the new workers')
	    or diag(join(' ', map { $_->{guest} } @new));
	my $joins = pump(\@all, sub {
		for my $o (@old) {
			my %n = map { $_ => 1 } @{ $o->{notices} };
			return 0 if grep { !$n{"* $_->{guest} joined"} } @new;
		}
		return 1;
	}, 10);
	ok($joins, 'the old clients heard the new ones join');
	ok(rename_all(\@all, \@new, [@old, @new]),
	    'and rename (n0..n5): old and new clients heard it');

	# Lines 26..50 of the old clients, 1..50 of the new ones, mixed.
	for my $k (1 .. 50) {
		say_to($_, "m$k " . payload($_->{name}, $k)) for @new;
		say_to($_, "m" . ($k + 25) . " " . payload($_->{name}, $k + 25))
		    for $k <= 25 ? @old : ();
		pump(\@all, sub { 0 }, 0.01) if $k % 10 == 0;
	}
	my $done = pump(\@all, sub {
		!grep({ $_->{mlines} < 9 * 50 + 6 * 50 } @old)
		    && !grep({ $_->{mlines} < 10 * 25 + 5 * 50 } @new)
	}, 60);
	ok($done, 'everything arrived')
	    or diag(join(' ', map { "$_->{name}:$_->{mlines}" } @old, @new));
	@bad = check_delivery(\@old, [@old, @new], sub { [1 .. 50] });
	is(join("\n", @bad), '', 'old clients: every line of the old and of '
	    . 'the new clients, in order');
	my %is_old = map { $_ => 1 } @old;
	@bad = check_delivery(\@new, [@old, @new], sub {
		$is_old{ $_[1] } ? [26 .. 50] : [1 .. 50] });
	is(join("\n", @bad), '', 'new clients: every line sent since they '
	    . 'joined, in order');
	ok(!grep({ $_->{eof} } @old, @new), 'nobody was cut off');

	# Last words: each old client sends one more line and leaves at
	# once, the line and the end of its stream together (a shutdown,
	# not a close: a close with unread input would be a reset, which
	# may throw away what the server has not read yet).  The old
	# workers then have no client and finish.
	pump(\@all, sub { !grep { length $_->{out} } @old }, 5);
	for my $o (@old) {
		my $line = "m51 " . payload($o->{name}, 51) . "\n";
		syswrite($o->{sock}, $line) == length $line
		    or diag("$o->{name}: last line not written: $!");
		shutdown($o->{sock}, 1);
	}
	my $closed = pump(\@all, sub { !grep { !$_->{eof} } @old }, 10);
	ok($closed, 'the server closes each old client after its end');
	close_client($_) for @old;
	my $gone = wait_for(sub {
		!grep { Forkloop::proc_alive($_) } @old_workers }, 15);
	ok($gone, 'the old workers exit once their clients have left');
	my @unheard;
	my $left = pump(\@all, sub {
		@unheard = ();
		for my $n (@new) {
			my %seen = map { $_ => 1 } @{ $n->{notices} };
			push @unheard, grep { !$seen{"* $_ left"} }
			    map { $_->{name} } @old;
		}
		return !@unheard;
	}, 5);
	my %count;
	$count{$_}++ for @unheard;
	pump(\@all, sub {
		!grep { $_->{mlines} < 10 * 26 + 5 * 50 } @new }, 5);
	@bad = check_delivery(\@new, \@old, sub { [26 .. 51] });
	is(join("\n", @bad), '', 'the new clients got the last line each old '
	    . 'client sent before it left');
	ok($left, 'the new clients heard the old ones leave')
	    or diag('leave notices missing (of 6): ' . join(', ',
	    map { "$_ ($count{$_})" } sort keys %count) . '; the last on '
	    . 'each old worker: ' . join(', ', map { my $w = $_;
	    (grep { $_->{worker} == $w } @old)[-1]{name} } @old_workers));
	close_client($_) for @new;
};

subtest 'max_line' => sub {
	my @all;
	my @c = eval { connect_many(\@all, qw(x y z)) };
	is(scalar @c, 3, 'three clients') or diag($@);
	return unless @c == 3;
	ok(rename_all(\@all, \@c, \@c), 'renamed x, y, z');
	my ($x, $y, $z) = @c;
	my $near = 'N' x ($MAX_LINE - 96);
	say_to($x, "m1 $near");
	say_to($x, 'm2 ' . ('L' x $MAX_LINE));		# over by 3
	say_to($x, 'm3 after the long line');
	pump(\@all, sub { $y->{mlines} >= 2 && $z->{mlines} >= 2 }, 10);
	# Half a line, then the rest: 20000 bytes in five writes.
	my $huge = 'm4 ' . ('H' x 20000);
	for my $i (0 .. 4) {
		$x->{out} .= substr($huge, $i * 4000,
		    $i == 4 ? length($huge) : 4000);
		pump(\@all, sub { $x->{out} eq '' }, 5);
		sleep 0.05;
	}
	say_to($x, '');
	say_to($x, 'm5 after the huge line');
	say_to($x, '/nick not:valid');
	say_to($x, 'm6 last');
	my $done = pump(\@all, sub { $y->{last} eq 'x: m6 last'
	    && $z->{last} eq 'x: m6 last' }, 10);
	ok($done, 'the lines after the long ones arrive');
	for my $r ($y, $z) {
		is(join(',', @{ $r->{seq}{x} || [] }), '1,3,5,6',
		    "$r->{name}: lines m1, m3, m5, m6 of x; not m2 (over "
		    . "max_line) nor m4 (20000 bytes)");
	}
	my @long = grep { /^\* line too long; not sent$/ } @{ $x->{notices} };
	is(scalar @long, 2, 'x got "* line too long; not sent" twice, one '
	    . 'for each refused line')
	    or diag(join(' | ', @{ $x->{notices} }));
	ok(grep({ /^\* names are / } @{ $x->{notices} }),
	    'an invalid /nick is refused with a notice');
	ok(!grep({ /line too long|names are/ } map { @{ $_->{notices} } }
	    $y, $z), 'the others hear nothing of it');
	ok(!grep({ $_->{eof} } @c), 'nobody was disconnected');
	close_client($_) for @c;
};

is($s->stop, 0, 'QUIT: exit status 0');
is_deeply([$s->orphans], [], 'no worker outlives the master');
$s->log_clean_ok(\@expected_errors);

done_testing();
