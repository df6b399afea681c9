#!/usr/bin/perl
# defer_accept.t: http listeners use TCP_DEFER_ACCEPT unless
# "defer_accept off": a client that connects and says nothing stays in the
# kernel (SYN_RECV on the server's side, read from /proc/net/tcp) instead
# of being handed to a worker, is handed over after about a second all the
# same, and is served when it speaks.  "defer_accept off" takes effect on
# reload, and echo listeners never defer.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(sleep);
use Forkloop qw(wait_for);
use Forkloop::Conn;

Forkloop::check_binary();
Forkloop::watchdog(90);

plan skip_all => '/proc/net/tcp is not readable' unless -r '/proc/net/tcp';

my %TCP_STATE = ('01' => 'ESTABLISHED', '03' => 'SYN_RECV');

# The state of the server's end of the connection from $client_port to
# $server_port, as /proc/net/tcp lists it, or undef when it is not there.
sub server_end_state {
	my ($server_port, $client_port) = @_;
	open(my $fh, '<', '/proc/net/tcp') or return undef;
	<$fh>;
	while (my $line = <$fh>) {
		my (undef, $local, $remote, $state) = split ' ', $line;
		my ($lport) = $local =~ /:([0-9A-F]+)$/;
		my ($rport) = $remote =~ /:([0-9A-F]+)$/;
		return $state if hex($lport) == $server_port
		    && hex($rport) == $client_port;
	}
	return undef;
}

# A connection that sends nothing, and the state of its server end once
# that end is listed (polled for up to a second).
sub silent_connection {
	my ($port) = @_;
	my $c = Forkloop::Conn->new(port => $port);
	my $cport = $c->sock->sockport;
	my $state = wait_for(sub { server_end_state($port, $cport) }, 1);
	return ($c, $cport, $state // 'none');
}

sub state_name { $TCP_STATE{$_[0]} // $_[0] }

my $s = Forkloop->new(config => { workers => 1, echo => {} });
my $http = $s->port('HTTP');

# Reloads with defer_accept set to $value; the new worker's count.
sub reload_with_defer {
	my ($value) = @_;
	my @old = $s->wait_workers(1);
	$s->write_config({ workers => 1, echo => {},
	    http => { defer_accept => $value } });
	$s->signal('HUP');
	my @new = $s->wait_workers(1, exclude => \@old, timeout => 15);
	return scalar @new;
}

subtest 'default: a silent client waits in the kernel' => sub {
	my ($c, $cport, $state) = silent_connection($http);
	is(state_name($state), 'SYN_RECV',
	    'the server end of a silent connection is not yet accepted');

	# The kernel repeats its SYN-ACK after a second; the client's
	# acknowledgement of it completes the connection.
	my $later = wait_for(sub {
		my $st = server_end_state($http, $cport) // '';
		return $st eq '01' ? $st : undef;
	}, 10);
	is(state_name($later // 'none'), 'ESTABLISHED',
	    'it is handed over in the end');

	$c->send("GET /hello/world HTTP/1.1\r\nHost: t\r\n\r\n");
	my $r = eval { $c->response(timeout => 10) };
	is($r && $r->{status}, 200, 'and answered when it speaks') or diag($@);
	like($r ? $r->{body} : '', qr/world/, 'with the hello body');
};

subtest 'default: a client that speaks at once is answered at once' => sub {
	my $c = Forkloop::Conn->new(port => $http);
	$c->send("GET /hello/now HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
	my $r = eval { $c->response(timeout => 10) };
	is($r && $r->{status}, 200, 'answered') or diag($@);
};

subtest 'echo listeners never defer' => sub {
	my ($c, $cport, $state) = silent_connection($s->port('ECHO'));
	is(state_name($state), 'ESTABLISHED',
	    'a silent echo client is accepted at once');
	$c->send("ping\n");
	my $got = eval { $c->read_bytes(5, timeout => 10) };
	is($got, "ping\n", 'and echoed to') or diag($@);
};

subtest 'defer_accept off, by reload' => sub {
	is(reload_with_defer('off'), 1, 'the reload made a new worker');

	my ($c, $cport, $state) = silent_connection($http);
	is(state_name($state), 'ESTABLISHED',
	    'a silent client is accepted at once');
	$c->send("GET /hello/off HTTP/1.1\r\nHost: t\r\n\r\n");
	my $r = eval { $c->response(timeout => 10) };
	is($r && $r->{status}, 200, 'and answered') or diag($@);
};

subtest 'defer_accept on again, by reload' => sub {
	is(reload_with_defer('on'), 1, 'the reload made a new worker');
	my ($c, $cport, $state) = silent_connection($http);
	is(state_name($state), 'SYN_RECV', 'silent clients wait again');
};

my $st = $s->stop;
is($st, 0, 'stopped cleanly');
unlike($s->read_file('error.log'), qr/\[(?:warn|error|crit|alert)\]/,
    'no warning or error logged');

done_testing();
