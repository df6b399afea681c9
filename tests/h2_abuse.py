#!/usr/bin/env python3
# h2_abuse.py: forkloop's HTTP/2 against clients that attack it, one
# worker, over prior-knowledge h2c (raw frames, tests/lib/forkloop_h2.py):
#
#  - rapid reset: streams opened and reset at once, by the thousand
#    (CVE-2023-44487): GOAWAY ENHANCE_YOUR_CALM, or the connection closed
#    (and a GOAWAY, if any, says ENHANCE_YOUR_CALM, as SPEC.md does);
#  - CONTINUATION flood: HEADERS without END_HEADERS, then CONTINUATION
#    after CONTINUATION as fast as they go (CVE-2024-28182): the
#    connection ended (GOAWAY, close) within 5 s, nothing buffered;
#  - SETTINGS flood and PING flood, the replies never read (CVE-2019-9512,
#    9515): GOAWAY ENHANCE_YOUR_CALM, or the connection closed;
#  - empty DATA frames without END_STREAM (CVE-2019-9518): same;
#  - HPACK bomb: one 4 kB literal added to the dynamic table, then
#    referenced 16,000 times in one block (64 MB decoded): 431 or a reset
#    of that stream, the connection goes on;
#  - a client whose window never opens (SETTINGS_INITIAL_WINDOW_SIZE 0, or
#    a connection window left shut) asking for 1 MiB: closed at
#    body_timeout (2s here);
#  - a request body above max_body_size (64k here): 413 or a reset, the
#    connection goes on.
#
# Each attack runs while another client asks for a page every 100 ms and
# must be answered (within 3 s); afterwards the worker is the same process
# (it did not die), its peak RSS during the attack grew by less than
# 32 MB (VmHWM from /proc, reset before each case), and a new client is
# served.  At the end the error log has no alert, crit or emerg.
#
# Output is TAP.  The server runs in a process group of its own and is
# killed on every way out (the end, an exception, a signal, the
# watchdog).  FORKLOOP_BIN names the binary (default: ../forkloop next to
# tests/); FORKLOOP_KEEP=1 keeps the directory.  Needs Debian's
# /usr/bin/python3 with python3-h2 and python3-hpack: run by another
# python3, the file runs itself again with that one.

import os
import sys

# First: the shared module checks for python3-h2, running this file again
# with Debian's python3 if need be, and keeps "import h2" off tests/h2.py.
TESTS = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(TESTS, 'lib'))
from forkloop_h2 import *  # noqa: E402,F401,F403

import errno  # noqa: E402
import random  # noqa: E402
import select  # noqa: E402
import socket  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

SUITE = Suite('h2_abuse', watchdog=150)
T = {}
RSS_LIMIT_KB = 32 * 1024
BODY_TIMEOUT = 2.0
INDEX = b'<!doctype html>\n<title>h2_abuse.py</title>\n'


###########################################################################
# What every attack is checked for.

class Prober(threading.Thread):
    """Another client: a new HTTP/2 connection asking for /index.html
    every 100 ms while the attack goes on; each must be answered within
    3 s."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop_flag = threading.Event()
        self.ok = 0
        self.errors = []
        self.slowest = 0.0

    def run(self):
        while not self.stop_flag.is_set():
            t0 = time.monotonic()
            try:
                with H2Client(T['plain'], timeout=3) as c:
                    r = c.get('/index.html', timeout=3)
                if r.status == 200 and r.body == INDEX:
                    self.ok += 1
                else:
                    self.errors.append('status %s, %d bytes'
                                       % (r.status, len(r.body)))
            except Exception as e:
                self.errors.append('%s: %s' % (e.__class__.__name__, e))
            self.slowest = max(self.slowest, time.monotonic() - t0)
            self.stop_flag.wait(0.1)

    def stop(self):
        # An attack the server ends at once may be over before the first
        # answer: that answer still counts, it was asked for during it.
        deadline = time.monotonic() + 4
        while self.ok + len(self.errors) == 0 and \
                time.monotonic() < deadline:
            time.sleep(0.01)
        self.stop_flag.set()
        self.join(10)


class RssSampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = proc_status(pid, 'VmRSS') or 0
        self.stop_flag = threading.Event()

    def run(self):
        while not self.stop_flag.wait(0.01):
            v = proc_status(self.pid, 'VmRSS')
            if v:
                self.peak = max(self.peak, v)

    def stop(self):
        self.stop_flag.set()
        self.join(5)


def attack_case(title):
    """A case that runs its attack under watch: another client served
    during it, the same worker after it, the peak RSS bounded."""
    def reg(fn):
        def run():
            s = T['server']
            workers = s.workers()
            check(workers == T['workers'], 'before the attack the workers '
                  'are %s, at the start %s' % (workers, T['workers']))
            pid = workers[0]
            rss0 = proc_status(pid, 'VmRSS')
            hwm_reset = reset_hwm(pid)
            sampler = RssSampler(pid)
            sampler.start()
            prober = Prober()
            prober.start()
            try:
                fn()
            finally:
                prober.stop()
                sampler.stop()
            peak = sampler.peak
            if hwm_reset:
                peak = max(peak, proc_status(pid, 'VmHWM') or 0)
            diag('worker %d: RSS %d kB before, peak %d kB during; other '
                 'client: %d answers, slowest %.2f s'
                 % (pid, rss0 or 0, peak, prober.ok, prober.slowest))
            check(s.alive() and s.workers() == workers,
                  'after the attack the workers are %s, before %s (a '
                  'worker died?)\n%s' % (s.workers(), workers,
                                         '\n'.join(s.bad_log_lines()[:5])))
            check(not prober.errors, 'another client was not served during '
                  'the attack: %s' % '; '.join(prober.errors[:3]))
            check(prober.ok > 0, 'another client got no answer during the '
                  'attack')
            check(rss0 and peak - rss0 < RSS_LIMIT_KB,
                  'the worker\'s RSS grew from %s kB to %d kB during the '
                  'attack (limit +%d kB)' % (rss0, peak, RSS_LIMIT_KB))
            r = h2_get(T['plain'], '/index.html', timeout=3)
            check(r.status == 200 and r.body == INDEX,
                  'after the attack a new client gets %s' % r)
        SUITE.add(title, run)
        return fn
    return reg


def open_conn(**kw):
    c = RawConn(T['plain'], **kw)
    c.handshake()
    return c


def tcp_state(sock):
    """The kernel's TCP state of sock: 1 ESTABLISHED, 7 CLOSE, 8
    CLOSE_WAIT (the peer closed) ..."""
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)
        return info[0]
    except OSError:
        return 7


def server_closed(sock):
    return tcp_state(sock) in (7, 8) or sock.getsockopt(
        socket.SOL_SOCKET, socket.SO_ERROR) != 0


def flood(sock, chunk, max_bytes, max_secs):
    """Sends chunk (whole frames) over and over without reading, up to
    max_bytes or max_secs: (bytes sent, why it stopped: limit, time,
    blocked (the server stopped reading for 1.5 s) or closed)."""
    sock.setblocking(False)
    view = memoryview(chunk)
    off = 0
    sent = 0
    deadline = time.monotonic() + max_secs
    stalled = None
    try:
        while sent < max_bytes:
            now = time.monotonic()
            if now >= deadline:
                return sent, 'time'
            _, w, _ = select.select([], [sock], [], 0.1)
            if not w:
                if server_closed(sock):
                    return sent, 'closed'
                stalled = stalled or now
                if now - stalled >= 1.5:
                    return sent, 'blocked'
                continue
            stalled = None
            try:
                n = sock.send(view[off:])
            except BlockingIOError:
                continue
            except OSError as e:
                return sent, 'closed (%s)' % errno.errorcode.get(e.errno,
                                                                  e.errno)
            sent += n
            off = (off + n) % len(chunk)
        return sent, 'limit'
    finally:
        sock.setblocking(True)


def wait_end(c, quiet_secs, read_secs):
    """After a flood: wait quiet_secs without reading for the server to
    close (it may be waiting on its own output), then read everything for
    up to read_secs.  Returns (closed, GOAWAY frames, frames read)."""
    deadline = time.monotonic() + quiet_secs
    while time.monotonic() < deadline and not server_closed(c.sock):
        time.sleep(0.05)
    goaways = []
    deadline = time.monotonic() + read_secs
    n0 = c.nframes
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False, goaways, c.nframes - n0
        try:
            f = c.recv_frame(left)
        except Closed:
            return True, goaways, c.nframes - n0
        if f is not None and f.type == GOAWAY:
            goaways.append(f)
            c.last_goaway = f


def goaway_text(goaways):
    return ', '.join(describe_frame(g) for g in goaways) or 'no GOAWAY'


def check_flood_stopped(c, what, sent, why, quiet=3.0, read=5.0):
    """The server must have answered the flood with GOAWAY
    ENHANCE_YOUR_CALM or by closing the connection."""
    closed, goaways, nread = wait_end(c, quiet, read)
    codes = [goaway_fields(g)[0] for g in goaways]
    diag('%s: %d bytes sent (%s), then %d frames read, %s, %s'
         % (what, sent, why, nread, goaway_text(goaways),
            'closed' if closed else 'still open'))
    if ENHANCE_YOUR_CALM in codes:
        return
    check(closed, '%s: the server neither sent GOAWAY(ENHANCE_YOUR_CALM) '
          'nor closed the connection (%d bytes of it taken in, %s; then %s)'
          % (what, sent, why, goaway_text(goaways)))
    check(not [x for x in codes if x not in (ENHANCE_YOUR_CALM, NO_ERROR)],
          '%s: closed after %s, not ENHANCE_YOUR_CALM (SPEC.md)'
          % (what, goaway_text(goaways)))


###########################################################################
# The attacks.

@attack_case('rapid reset: HEADERS then RST_STREAM, up to 20,000 streams: '
             'GOAWAY ENHANCE_YOUR_CALM or close before the end')
def _():
    c = open_conn()
    block = request_block('GET', '/index.html', 'localhost', 'http')
    sid = 1
    streams = 0
    t0 = time.monotonic()
    stopped = None
    reset_goaway = None
    while streams < 20000 and time.monotonic() - t0 < 8:
        batch = b''.join(headers_frame(sid + 2 * i, block) +
                         rst_stream(sid + 2 * i, CANCEL) for i in range(100))
        sid += 200
        c.send(batch)
        if getattr(c, 'send_error', None):
            stopped = 'closed while sending (%s)' % c.send_error
            break
        streams += 100
        # Read what came back, so our side never blocks the server.
        try:
            while True:
                f = c.recv_frame(0.001)
                if f is None:
                    break
                if f.type == GOAWAY:
                    reset_goaway = f
                    break
        except Closed as e:
            stopped = 'closed (%s)' % e
            break
        if reset_goaway is not None:
            code, _ = goaway_fields(reset_goaway)
            if code == ENHANCE_YOUR_CALM:
                stopped = 'GOAWAY(ENHANCE_YOUR_CALM)'
                break
            # Another code: the server may still close; keep going a
            # little to see.
            if c.wait_closed(1.0):
                stopped = 'closed after %s' % describe_frame(reset_goaway)
            break
    secs = time.monotonic() - t0
    diag('rapid reset: %d streams opened and reset in %.2f s; %s'
         % (streams, secs, stopped or 'not stopped'))
    c.close()
    T['rapid_reset_goaway'] = reset_goaway
    check(stopped, '%d streams opened and reset within %.1f s: neither '
          'GOAWAY(ENHANCE_YOUR_CALM) nor a close%s'
          % (streams, secs, '; only %s, and the connection left open'
             % describe_frame(reset_goaway) if reset_goaway else ''))


@SUITE.case('rapid reset: the GOAWAY, if one was sent, says '
            'ENHANCE_YOUR_CALM (SPEC.md)')
def _():
    g = T.get('rapid_reset_goaway')
    if g is None:
        return
    code, _ = goaway_fields(g)
    check(code == ENHANCE_YOUR_CALM, 'rapid reset answered by %s; SPEC.md '
          'says GOAWAY ENHANCE_YOUR_CALM (libnghttp2\'s own limiter, '
          'nghttp2_option_set_stream_reset_rate_limit, sends '
          'INTERNAL_ERROR)' % describe_frame(g))


@attack_case('CONTINUATION flood: HEADERS without END_HEADERS, then '
             'CONTINUATION frames of 16 kB as fast as they go: the '
             'connection ends (within 5 s, while the flood goes on), '
             'nothing buffered')
def _():
    c = open_conn()
    step = c.max_frame_size()
    block = request_block('GET', '/index.html', 'localhost', 'http')
    c.send(headers_frame(1, block, end_headers=False))
    # Each CONTINUATION carries one whole literal field of step bytes.
    lit = hp_literal('x-flood', 'f' * (step - 12))
    lit = hp_literal('x-flood', 'f' * (step - 12 + step - len(lit)))
    check(len(lit) == step, 'test bug: a literal of %d' % len(lit))
    chunk = continuation(1, lit, end_headers=False) * 4
    t0 = time.monotonic()
    sent, why = flood(c.sock, chunk, 1 << 40, 5)
    secs = time.monotonic() - t0
    closed, goaways, _ = wait_end(c, 0.0, 2.0)
    diag('CONTINUATION flood: %d MB taken in over %.2f s (%s), then %s, %s'
         % (sent >> 20, secs, why, goaway_text(goaways),
            'closed' if closed else 'still open'))
    check(why.startswith('closed') or (why == 'blocked' and closed),
          'the connection is still open after %.1f s of CONTINUATION '
          'frames (%d MB taken in, %s; %s)'
          % (secs, sent >> 20, why, goaway_text(goaways)))
    c.close()


@attack_case('SETTINGS flood, the ACKs never read: GOAWAY '
             'ENHANCE_YOUR_CALM or close')
def _():
    c = RawConn(T['plain'], rcvbuf=4096)
    c.handshake()
    chunk = settings() * 7000
    sent, why = flood(c.sock, chunk, 40 << 20, 4)
    check_flood_stopped(c, 'SETTINGS flood', sent, why)
    c.close()


@attack_case('PING flood, the ACKs never read: GOAWAY ENHANCE_YOUR_CALM or '
             'close')
def _():
    c = RawConn(T['plain'], rcvbuf=4096)
    c.handshake()
    chunk = ping(b'flooding') * 4000
    sent, why = flood(c.sock, chunk, 60 << 20, 4)
    check_flood_stopped(c, 'PING flood', sent, why)
    c.close()


@attack_case('empty DATA frames without END_STREAM, up to 1,000,000: '
             'GOAWAY ENHANCE_YOUR_CALM or close')
def _():
    c = open_conn()
    c.send(headers_frame(1, request_block('POST', '/echo', 'localhost',
                                          'http'), end_stream=False))
    chunk = data_frame(1, b'') * 7000
    sent, why = flood(c.sock, chunk, 9 * 1000000, 6)
    check_flood_stopped(c, 'empty DATA flood', sent, why, quiet=1.0,
                        read=3.0)
    c.close()


@attack_case('HPACK bomb: a 4 kB entry referenced 16,000 times in one '
             'block: 431 or a reset of that stream; the connection goes on')
def _():
    c = open_conn()
    base = request_block('GET', '/index.html', 'localhost', 'http')
    c.send(headers_frame(1, base + hp_literal('x-bomb', 'B' * 4000,
                                              index=True)))
    r = c.outcome(1, 3)
    check(r.kind == 'response' and r.status == 200, 'the request that '
          'adds the 4 kB entry: %s' % r)
    n = c.max_frame_size() - len(base)
    c.send(headers_frame(3, base + hp_indexed(62) * n))
    r = c.outcome(3, 5)
    diag('HPACK bomb (%d references, %d MB decoded): %s'
         % (n, n * 4038 >> 20, r))
    check((r.kind == 'response' and r.status == 431) or r.kind == 'rst',
          'the bomb on stream 3: expected 431 or RST_STREAM, got %s' % r)
    check(r.status != 200, 'the bomb was served: %s' % r)
    c.send(headers_frame(5, base))
    r = c.outcome(5, 3)
    check(r.kind == 'response' and r.status == 200 and r.body == INDEX,
          'the next request on that connection: %s' % r)
    c.close()


def stalled_download(c, sid, what, want_data):
    """Asks for /big.bin without ever opening a window; the server must
    close the connection at body_timeout (not sooner than half of it,
    not much later)."""
    c.send(headers_frame(sid, request_block('GET', '/big.bin', 'localhost',
                                            'http')))
    t0 = time.monotonic()
    got = 0
    headers = False
    deadline = t0 + BODY_TIMEOUT + 5
    closed_at = None
    while time.monotonic() < deadline:
        try:
            f = c.recv_frame(deadline - time.monotonic())
        except Closed:
            closed_at = time.monotonic() - t0
            break
        if f is None:
            break
        if f.type == HEADERS and f.sid == sid:
            headers = True
        elif f.type == DATA and f.sid == sid:
            got += len(f.payload)
            check(not f.flags & END_STREAM, '%s: the whole body was sent'
                  % what)
        elif f.type == SETTINGS and not f.flags & ACK:
            c.send(settings(ack=True))
    check(headers, '%s: no response HEADERS' % what)
    check(got <= want_data, '%s: %d bytes of DATA beyond the window of %d'
          % (what, got, want_data))
    check(closed_at is not None, '%s: still open %.1f s after the request '
          '(body_timeout %.0fs)' % (what, BODY_TIMEOUT + 5, BODY_TIMEOUT))
    diag('%s: %d bytes of DATA, closed after %.2f s%s' % (
        what, got, closed_at, ', ' + describe_frame(c.last_goaway)
        if c.last_goaway else ''))
    check(closed_at >= BODY_TIMEOUT / 2, '%s: closed after %.2f s, before '
          'body_timeout (%.0fs)' % (what, closed_at, BODY_TIMEOUT))


@attack_case('zero window: SETTINGS_INITIAL_WINDOW_SIZE 0, GET of 1 MiB, '
             'the window never opened: closed at body_timeout (2s)')
def _():
    T['stalls0'] = status_totals(T['plain']).get('h2_flow_stalls')
    c = RawConn(T['plain'])
    c.handshake([(INITIAL_WINDOW_SIZE, 0)])
    stalled_download(c, 1, 'stream window 0', 0)
    c.close()


@attack_case('connection window left shut: GET of 1 MiB, 64 kB read, no '
             'WINDOW_UPDATE ever: closed at body_timeout (2s)')
def _():
    c = RawConn(T['plain'])
    c.handshake([(INITIAL_WINDOW_SIZE, 2 ** 31 - 1)])
    stalled_download(c, 1, 'connection window 65535', 65535)
    c.close()


@SUITE.case('the status route counts those stalls (h2_flow_stalls grows)')
def _():
    before = T.get('stalls0')
    check(before is not None, 'no h2_flow_stalls in /status totals')
    after = status_totals(T['plain']).get('h2_flow_stalls')
    check(after is not None and after > before,
          'h2_flow_stalls %s before the stalled downloads, %s after'
          % (before, after))


@attack_case('a request body above max_body_size (64k), with content-length '
             'and without: 413 or a reset; the connection goes on')
def _():
    body = random.Random(7).randbytes(100000)
    with H2Client(T['plain'], timeout=5) as c:
        for hdrs in ([('content-length', str(len(body)))], []):
            r = c.get('/echo', 'POST', hdrs + [('content-type',
                                                'application/x-test')],
                      body=body, timeout=5)
            what = 'with content-length' if hdrs else 'without'
            diag('%s: %s' % (what, r))
            check(r.status == 413 or (r.status is None
                                      and r.reset is not None),
                  'a body of %d bytes over max_body_size 64k (%s): %s'
                  % (len(body), what, r))
        r = c.get('/index.html', timeout=3)
        check(r.status == 200 and r.body == INDEX, 'then GET on the same '
              'connection: %s%s' % (r, c.goaway_text()))


@SUITE.case('after all this: no worker died, no alert, crit or emerg in the '
            'error log; QUIT stops the server with status 0')
def _():
    s = T['server']
    check(s.workers() == T['workers'], 'workers now %s, at the start %s'
          % (s.workers(), T['workers']))
    bad = s.bad_log_lines()
    status = s.stop()
    check(not bad, '\n'.join(bad[:10]))
    check(status == 0, 'exit status %s after QUIT' % status)


###########################################################################

def setup(d):
    www = os.path.join(d, 'www')
    os.makedirs(www)
    with open(os.path.join(www, 'index.html'), 'wb') as f:
        f.write(INDEX)
    with open(os.path.join(www, 'big.bin'), 'wb') as f:
        f.write(random.Random(1).randbytes(1 << 20))
    T.update(plain=free_port())
    T['server'] = Server(d, """workers 1;
worker_connections 1024;
shutdown_timeout 5s;

http {
    listen 127.0.0.1:%(plain)d;
    server_name localhost;
    root %(www)s;
    access_log off;
    route /echo echo;
    route /delay/ delay;
    route /status status;
    body_timeout %(bt)ds;
    max_body_size 64k;
}
""" % dict(T, www=www, bt=int(BODY_TIMEOUT)))
    T['workers'] = T['server'].start(workers=1)


if __name__ == '__main__':
    sys.exit(SUITE.run(setup))
