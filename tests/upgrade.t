#!/usr/bin/perl
# upgrade.t: the binary upgrade on USR2, nginx-style, under wrk load
# (issue 5, "Binary upgrade on USR2"):
#
#   - USR2: the master moves its pid file to PIDFILE.oldbin and starts the
#     binary again with the listening sockets; the new master writes the
#     pid file and starts its workers; both generations run.  WINCH to the
#     old master stops its workers gracefully; QUIT makes it leave, taking
#     the .oldbin file with it; the new master serves on.  Keep-alive and
#     "Connection: close" wrk clients over the whole sequence: 0 socket
#     errors, 0 non-2xx.
#   - a failed upgrade (the config is broken by then, so the new master
#     exits at once): the old master puts its pid file back and its
#     workers serve on, nothing lost.
#   - going back: USR2, WINCH, then HUP to the old master brings its
#     workers back and QUIT to the new one leaves the old one in charge,
#     its pid file restored.
#   - the new master exits (TERM) after WINCH: as in nginx, the old master
#     takes its pid file back and starts its workers again.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time sleep);
use Forkloop qw(wait_for proc_alive);
use Forkloop::Load qw(start_wrk wrk_clean_ok wrk_summary have_wrk
    children_of);

Forkloop::check_binary();
plan skip_all => 'wrk is not installed' unless have_wrk();
Forkloop::watchdog(120);

my %site = (
	'www/index.html' => "upgrade\n",
	'www/small.txt' => ('0123456789abcdef' x 32) . "\n",
);

sub slurp_pid {
	my ($path) = @_;
	open(my $fh, '<', $path) or return undef;
	my $s = do { local $/; <$fh> } // '';
	return $s =~ /^(\d+)\s*\z/ ? $1 : undef;
}

# The new master is not our child: QUIT, then wait for it and its
# workers to go (KILL after the bound).  Returns true when it went by
# itself.
sub stop_foreign_master {
	my ($pid, $timeout) = @_;
	my @workers = children_of($pid);
	kill 'QUIT', $pid;
	my $gone = wait_for(sub {
		!proc_alive($pid) && !grep { proc_alive($_) } @workers
	}, $timeout // 15);
	unless ($gone) {
		diag("master $pid still running after QUIT; killing it");
		kill 'KILL', $pid, @workers;
	}
	return $gone;
}

# Two wrk runs, keep-alive and close, over $seconds, and a client that
# waits for every answer (5 s at most), since wrk does not count one
# still outstanding when it stops.
sub start_loads {
	my ($s, $seconds) = @_;
	return (start_wrk($s, path => '/small.txt', connections => 30,
	    duration => $seconds, timeout => 2),
	    start_wrk($s, path => '/small.txt', connections => 10,
	    threads => 1, duration => $seconds, close => 1, timeout => 2),
	    $s->start_load(path => '/small.txt'));
}

sub loads_running {
	my ($ka, $cl) = @_;
	return $ka->running && $cl->running;
}

sub loads_clean_ok {
	my ($what, $ka, $cl, $one) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	wrk_clean_ok($ka->finish, "$what, keep-alive");
	wrk_clean_ok($cl->finish, "$what, Connection: close");
	my $res = $one->finish;
	is($res->{fail}, 0, "$what, one connection per request: none "
	    . 'failed') or diag(join("\n", @{ $res->{errors} }));
	cmp_ok($res->{ok}, '>', 0, "$what, one connection per request: "
	    . 'requests were made');
}

subtest 'USR2, WINCH, QUIT under load: no request lost' => sub {
	my $s = Forkloop->new(config => { workers => 2 }, files => \%site);
	my $old = $s->pid;
	my $pid_file = $s->pid_file;
	my $oldbin = "$pid_file.oldbin";
	my @old_workers = $s->wait_workers(2);
	is(scalar @old_workers, 2, 'two workers');
	my $mark = $s->log_mark;

	my ($ka, $cl, $one) = start_loads($s, 9);
	sleep 0.7;
	my $t0 = time;
	$s->signal('USR2');
	my $new = wait_for(sub {
		my $p = slurp_pid($pid_file);
		return defined $p && $p != $old ? $p : 0;
	}, 5);
	ok($new, 'the pid file now names a new master')
	    or diag("logged:\n" . $s->log_since($mark) . "stderr:\n"
	    . ($s->stderr // ''));
	is(slurp_pid($oldbin), $old, 'PIDFILE.oldbin names the old one');
	$new ||= 0;
	my $nw = wait_for(sub {
		my @c = children_of($new);
		return @c == 2 ? \@c : 0;
	}, 5);
	my @new_workers = $nw ? @$nw : ();
	is(scalar @new_workers, 2, 'the new master has started two '
	    . 'workers');
	is_deeply([grep { $_ != $new } children_of($old)], \@old_workers,
	    'the old workers still run beside them');
	like($s->log_since($mark), qr/upgrade: took 2 sockets from the old master/,
	    'the new master took the two listening sockets');
	note(sprintf('new master %d ready %.2f s after USR2', $new,
	    time - $t0));

	sleep 1.5;	# both generations under load
	my $wmark = $s->log_mark;
	$s->signal('WINCH');
	my $drained = wait_for(sub {
		!grep { proc_alive($_) } @old_workers }, 10);
	ok($drained, 'WINCH: the old workers finish and exit')
	    or diag('old master children: ' . join(' ', children_of($old)));
	is_deeply([grep { $_ != $new } children_of($old)], [],
	    'and the old master starts no new ones');
	like($s->log_since($wmark), qr/workers told to finish/,
	    'the old master logs it');
	ok($s->alive, 'the old master still runs');
	is_deeply([children_of($new)], \@new_workers,
	    'the new workers are untouched');

	sleep 0.5;
	$s->signal('QUIT');
	is($s->wait_exit(10), 0, 'QUIT: the old master exits with status 0');
	ok(!-e $oldbin, 'the .oldbin file is gone');
	is(slurp_pid($pid_file), $new, 'the pid file names the new master');
	ok(proc_alive($new), 'the new master runs on');
	ok(loads_running($ka, $cl), 'wrk ran over the whole sequence');
	note(sprintf('USR2 to the old master gone: %.1f s', time - $t0));

	loads_clean_ok('upgrade', $ka, $cl, $one);

	my $r = $s->http_get('/small.txt');
	is($r->{status}, 200, 'the new master serves');
	is_deeply([children_of($new)], \@new_workers, 'with its two workers');

	ok(stop_foreign_master($new), 'QUIT to the new master: it and its '
	    . 'workers exit');
	ok(!-e $pid_file, 'and it removes the pid file');
	$s->stop;
	is_deeply([$s->orphans], [], 'no process of either generation is '
	    . 'left');
	$s->log_clean_ok([]);
};

subtest 'a failed upgrade: the old master carries on' => sub {
	my $s = Forkloop->new(config => { workers => 2 }, files => \%site);
	my $old = $s->pid;
	my $pid_file = $s->pid_file;
	my @workers = $s->wait_workers(2);
	my $mark = $s->log_mark;
	my $good = $s->config_text;

	my ($ka, $cl, $one) = start_loads($s, 4);
	sleep 0.5;
	# The new master reads the config as it is now: broken.
	$s->write_config($good . "this_is_not_a_directive on;\n");
	$s->signal('USR2');
	my $said = wait_for(sub {
		$s->log_since($mark) =~ /upgrade: the new master (\d+) exited with status (\d+); this master stays/
		    ? [$1, $2] : 0;
	}, 10);
	ok($said, 'the old master logs that the new one exited')
	    or diag("logged:\n" . $s->log_since($mark));
	like($s->log_since($mark), qr/upgrade: started .* as pid \d+/,
	    'after it had started it');
	isnt($said && $said->[1], 0, 'with a non-zero status');
	like($s->stderr // '', qr/this_is_not_a_directive/,
	    'the new master said what is wrong with the config');
	ok(wait_for(sub { (slurp_pid($pid_file) // 0) == $old }, 5),
	    'the pid file is back and names the old master');
	ok(!-e "$pid_file.oldbin", 'no .oldbin file is left');
	ok($s->alive, 'the old master runs');
	is_deeply([$s->worker_pids], \@workers, 'with the same workers');
	ok(loads_running($ka, $cl), 'wrk ran over the failed upgrade');
	loads_clean_ok('failed upgrade', $ka, $cl, $one);

	# Fixed, the next upgrade works.
	$s->write_config($good);
	$s->signal('USR2');
	my $new = wait_for(sub {
		my $p = slurp_pid($pid_file);
		return defined $p && $p != $old ? $p : 0;
	}, 5);
	ok($new, 'with the config fixed, a new USR2 starts a new master');
	ok($new && stop_foreign_master($new), 'which is stopped again');
	ok(wait_for(sub { (slurp_pid($pid_file) // 0) == $old }, 5),
	    'and the old master takes its pid file back');
	is($s->stop, 0, 'QUIT: exit status 0');
	is_deeply([$s->orphans], [], 'no worker outlives the master');
	ok(!-e $pid_file, 'the pid file is removed');
	$s->log_clean_ok([qr/upgrade: the new master \d+ exited/]);
};

subtest 'going back: HUP to the old master, QUIT to the new one' => sub {
	my $s = Forkloop->new(config => { workers => 2 }, files => \%site);
	my $old = $s->pid;
	my $pid_file = $s->pid_file;
	my @old_workers = $s->wait_workers(2);
	my $mark = $s->log_mark;

	my ($ka, $cl, $one) = start_loads($s, 7);
	sleep 0.5;
	$s->signal('USR2');
	my $new = wait_for(sub {
		my $p = slurp_pid($pid_file);
		return defined $p && $p != $old ? $p : 0;
	}, 5) || 0;
	ok($new, 'USR2: a new master');
	ok(wait_for(sub { my @c = children_of($new); @c == 2 }, 5),
	    'with two workers');
	$s->signal('WINCH');
	ok(wait_for(sub { !grep { proc_alive($_) } @old_workers }, 10),
	    'WINCH: the old workers exit');

	$s->signal('HUP');
	my $back = wait_for(sub {
		my @w = grep { $_ != $new } children_of($old);
		return @w == 2 ? \@w : 0;
	}, 5);
	ok($back, 'HUP to the old master: two workers again')
	    or diag("logged:\n" . $s->log_since($mark));
	sleep 0.5;
	ok(stop_foreign_master($new), 'QUIT to the new master: it exits');
	ok(wait_for(sub { (slurp_pid($pid_file) // 0) == $old }, 5),
	    'the old master has its pid file back');
	ok(!-e "$pid_file.oldbin", 'no .oldbin file is left');
	ok(loads_running($ka, $cl), 'wrk ran over the whole sequence');
	loads_clean_ok('going back', $ka, $cl, $one);
	is($s->http_get('/small.txt')->{status}, 200,
	    'the old master serves');
	is($s->stop, 0, 'QUIT: exit status 0');
	is_deeply([$s->orphans], [], 'no worker outlives the master');
	# The new master's exit is what upgrade_failed reports.
	$s->log_clean_ok([qr/upgrade: the new master \d+ exited/]);
};

# nginx: "When the new master process exits, the old master process will
# start new worker processes automatically" -- the way back when the new
# binary is given TERM, or dies, after the old workers were stopped.
subtest 'the new master exits after WINCH: the old master starts its '
    . 'workers again' => sub {
	my $s = Forkloop->new(config => { workers => 2 }, files => \%site);
	my $old = $s->pid;
	my $pid_file = $s->pid_file;
	my @old_workers = $s->wait_workers(2);
	$s->signal('USR2');
	my $new = wait_for(sub {
		my $p = slurp_pid($pid_file);
		return defined $p && $p != $old ? $p : 0;
	}, 5) || 0;
	ok($new, 'USR2: a new master');
	my $nw = wait_for(sub {
		my @c = children_of($new);
		return @c == 2 ? \@c : 0;
	}, 5);
	ok($nw, 'with two workers');
	$s->signal('WINCH');
	ok(wait_for(sub { !grep { proc_alive($_) } @old_workers }, 10),
	    'WINCH: the old workers exit');
	is($s->http_get('/small.txt')->{status}, 200,
	    'the new workers serve alone');

	my $mark = $s->log_mark;
	kill 'TERM', $new;
	ok(wait_for(sub { !proc_alive($new)
	    && !grep { proc_alive($_) } @{ $nw || [] } }, 10),
	    'TERM: the new master and its workers exit');
	ok(wait_for(sub { (slurp_pid($pid_file) // 0) == $old }, 5),
	    'the old master has its pid file back');
	my $back = wait_for(sub {
		my @w = grep { $_ != $new } children_of($old);
		return @w == 2 ? \@w : 0;
	}, 5);
	ok($back, 'the old master starts two workers again')
	    or diag("logged since the TERM:\n" . $s->log_since($mark)
	    . 'old master children: ' . join(' ', children_of($old)));
	my $r = $s->http_get('/small.txt', timeout => 3);
	is($r->{status}, 200, 'and serves again')
	    or diag('the port accepts (the old master holds the sockets) '
	    . 'but nobody answers');
	ok($s->alive, 'the old master runs');
	is($s->stop, 0, 'QUIT: exit status 0');
	is_deeply([$s->orphans], [], 'no worker outlives the master');
	$s->log_clean_ok([qr/upgrade: the new master \d+ exited/]);
};

done_testing();
