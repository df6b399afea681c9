#!/usr/bin/env python3
# h2.py: forkloop's HTTP/2 features, with Debian's python3-h2 (through
# tests/lib/forkloop_h2.py), curl (--http2 over TLS, --http2-prior-knowledge
# over plain TCP) and a few raw frames:
#
#  - static files over h2c and h2: GET, HEAD, Range (206, 416),
#    If-None-Match and If-Modified-Since (304), 404 with error_page, 405
#    with Allow; server, date, content-length, no connection-specific
#    fields; add_header and expires; return;
#  - the routes: /hello/NAME, 100 concurrent /delay/500 on one connection
#    (done in well under 5 s), POST /echo with bodies of 0, 1, 100000
#    bytes and 1 MiB (flow control both ways), two 1 MiB at once, 1 MiB
#    downloads;
#  - the status route's h2_* counters (JSON and Prometheus), access log
#    lines with HTTP/2.0;
#  - virtual hosts by :authority (and Host), 421 when :authority names
#    another block than SNI;
#  - ALPN (h2 when offered, http/1.1 when only that is), "http2 off;"
#    (ALPN gives http/1.1, the preface is not HTTP/2), HTTP/1.1 and
#    Upgrade: h2c (answered in HTTP/1.1) on the same plain port;
#  - http2_max_concurrent_streams and http2_initial_window_size advertised
#    in SETTINGS and kept, http2_max_header_size (431, the connection goes
#    on), keepalive_timeout (GOAWAY, close), "listen ... http2;";
#  - graceful GOAWAY on HUP and on QUIT with a /delay stream in flight:
#    the stream completes; no worker died, no alert in the error log.
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

import email.utils  # noqa: E402
import hashlib  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import struct  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

SUITE = Suite('h2', watchdog=150)
case = SUITE.case
T = {}
INDEX = b'<!doctype html>\n<title>h2.py site a</title>\n<p>0123456789</p>\n'
INDEX_B = b'<!doctype html>\n<title>h2.py site b</title>\n'
PAGE_404 = b'<!doctype html><title>lost</title><p>our own 404 page</p>\n'
BIG = random.Random(2).randbytes(1 << 20)
CONNECTION_FIELDS = ('connection', 'keep-alive', 'proxy-connection',
                     'transfer-encoding', 'upgrade')


def curl(args, timeout=15):
    """curl with -sS; returns (exit status, http_version, code, body)."""
    out = os.path.join(T['dir'], 'curl.out')
    try:
        os.unlink(out)
    except OSError:
        pass
    r = subprocess.run(['curl', '-sS', '--max-time', str(timeout), '-o', out,
                        '-w', '%{http_version} %{response_code}'] + args,
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=timeout + 5)
    ver, _, code = r.stdout.decode().strip().partition(' ')
    body = open(out, 'rb').read() if os.path.exists(out) else b''
    return r.returncode, ver, code, body, r.stderr.decode()


def need_curl():
    if shutil.which('curl') is None:
        raise Skip('curl is missing')


def h2c(**kw):
    return H2Client(T['plain'], **kw)


def h2s(hostname='localhost', **kw):
    return H2Client(T['tls'], tls=True, hostname=hostname, **kw)


def expect(r, status, body=None, what=''):
    check(r.status == status, '%sstatus %s, expected %d (%r)'
          % (what, r.status, status, r))
    if body is not None:
        check(r.body == body, '%sbody of %d bytes %r, expected %d bytes %r'
              % (what, len(r.body), r.body[:60], len(body), body[:60]))


def totals_when(cond, timeout=5):
    deadline = time.monotonic() + timeout
    while True:
        t = status_totals(T['plain'])
        if cond(t) or time.monotonic() >= deadline:
            return t
        time.sleep(0.1)


###########################################################################
# curl and ALPN.

@case('curl --http2-prior-knowledge http://127.0.0.1:PORT/: HTTP/2, 200, '
      'the file')
def _():
    need_curl()
    rc, ver, code, body, err = curl(['--http2-prior-knowledge',
                                     'http://127.0.0.1:%d/' % T['plain']])
    check(rc == 0, 'curl exit %d: %s' % (rc, err))
    check(ver == '2' and code == '200', 'HTTP version %s, status %s'
          % (ver, code))
    check(body == INDEX, 'body %r' % body[:80])


@case('curl --http2 -k https://127.0.0.1:PORT/: HTTP/2, 200, the file')
def _():
    need_curl()
    rc, ver, code, body, err = curl(['--http2', '-k', 'https://127.0.0.1:%d/'
                                     % T['tls']])
    check(rc == 0, 'curl exit %d: %s' % (rc, err))
    check(ver == '2' and code == '200', 'HTTP version %s, status %s'
          % (ver, code))
    check(body == INDEX, 'body %r' % body[:80])


@case('ALPN: h2 chosen when offered (h2, http/1.1); http/1.1 when only '
      'that is offered, and HTTP/1.1 is served on it')
def _():
    s = connect(T['tls'], tls=True, alpn=('h2', 'http/1.1'))
    got = s.selected_alpn_protocol()
    s.close()
    check(got == 'h2', 'offered h2 and http/1.1: ALPN chose %r' % got)
    s = connect(T['tls'], tls=True, alpn=('http/1.1',))
    try:
        got = s.selected_alpn_protocol()
        check(got == 'http/1.1', 'offered http/1.1: ALPN chose %r' % got)
        s.sendall(b'GET /index.html HTTP/1.1\r\nHost: localhost\r\n'
                  b'Connection: close\r\n\r\n')
        raw = recv_until_close(s, 5)
    finally:
        s.close()
    check(raw.startswith(b'HTTP/1.1 200 ') and raw.endswith(INDEX),
          'HTTP/1.1 over ALPN http/1.1: %r' % raw[:80])


###########################################################################
# Static files.

@case('GET over h2 (TLS): 200, the file, server: forkloop, date, '
      'content-length, content-type, add_header and expires, no '
      'connection-specific fields')
def _():
    with h2s() as c:
        r = c.get('/index.html')
    expect(r, 200, INDEX)
    check(re.match(r'forkloop(/[0-9.]+)?$', r.header('server') or ''),
          'server: %r' % r.header('server'))
    date = r.header('date')
    check(date and email.utils.parsedate_to_datetime(date) is not None,
          'date: %r' % date)
    check(r.header('content-length') == str(len(INDEX)),
          'content-length: %r' % r.header('content-length'))
    check((r.header('content-type') or '').startswith('text/html'),
          'content-type: %r' % r.header('content-type'))
    check(r.header('x-h2-test') == 'yes', 'add_header X-H2-Test: %r'
          % r.header('x-h2-test'))
    check(r.header('cache-control') == 'max-age=3600',
          'expires 1h: cache-control %r' % r.header('cache-control'))
    bad = [k for k, v in r.headers if k in CONNECTION_FIELDS]
    check(not bad, 'connection-specific fields in an HTTP/2 response: %s'
          % bad)
    T['etag'] = r.header('etag')
    T['last_modified'] = r.header('last-modified')


@case('a head of more fields than a stream holds inline (20): all 30 '
      'add_header fields come over h2c, names in lower case, in order')
def _():
    with H2Client(T['many']) as c:
        r = c.get('/index.html')
    expect(r, 200, INDEX)
    got = [(k, v) for k, v in r.headers if k.startswith('x-many-')]
    want = [('x-many-%02d' % i, 'v%d' % i) for i in range(30)]
    check(got == want, 'add_header fields: %r, expected %r' % (got, want))


@case('HEAD over h2c: 200, content-length of the file, no body')
def _():
    with h2c() as c:
        r = c.get('/index.html', 'HEAD')
    expect(r, 200, b'')
    check(r.header('content-length') == str(len(INDEX)),
          'content-length: %r' % r.header('content-length'))


@case('Range over h2c: bytes=2-9 and bytes=-5 give 206 with Content-Range; '
      'bytes=999999- gives 416')
def _():
    with h2c() as c:
        r = c.get('/index.html', headers=[('range', 'bytes=2-9')])
        expect(r, 206, INDEX[2:10], 'bytes=2-9: ')
        check(r.header('content-range') == 'bytes 2-9/%d' % len(INDEX),
              'content-range %r' % r.header('content-range'))
        r = c.get('/index.html', headers=[('range', 'bytes=-5')])
        expect(r, 206, INDEX[-5:], 'bytes=-5: ')
        r = c.get('/index.html', headers=[('range', 'bytes=999999-')])
        expect(r, 416, None, 'bytes=999999-: ')


@case('conditional GET over h2: If-None-Match with the ETag and '
      'If-Modified-Since with Last-Modified give 304 without a body')
def _():
    check(T.get('etag') and T.get('last_modified'),
          'no etag/last-modified from the GET before: %r %r'
          % (T.get('etag'), T.get('last_modified')))
    with h2s() as c:
        r = c.get('/index.html', headers=[('if-none-match', T['etag'])])
        expect(r, 304, b'', 'If-None-Match: ')
        r = c.get('/index.html',
                  headers=[('if-modified-since', T['last_modified'])])
        expect(r, 304, b'', 'If-Modified-Since: ')
        r = c.get('/index.html', headers=[('if-none-match', '"other"')])
        expect(r, 200, INDEX, 'If-None-Match "other": ')


@case('404 over h2 with the block\'s error_page; 405 with Allow for DELETE '
      'on a file and POST on /hello/')
def _():
    with h2c() as c:
        r = c.get('/no-such-file.html')
        expect(r, 404, PAGE_404, '/no-such-file.html: ')
        r = c.get('/index.html', 'DELETE')
        expect(r, 405, None, 'DELETE /index.html: ')
        allow = r.header('allow') or ''
        check('GET' in allow and 'DELETE' not in allow,
              'DELETE /index.html: allow %r' % allow)
        r = c.get('/hello/x', 'POST', body=b'x')
        expect(r, 405, None, 'POST /hello/x: ')
        check('GET' in (r.header('allow') or ''), 'POST /hello/x: allow %r'
              % r.header('allow'))


@case('return in a block, over h2c: 302 to https://$host$request_uri '
      '($host from :authority)')
def _():
    with H2Client(T['ret'], authority='Localhost:%d' % T['ret']) as c:
        r = c.get('/some/path?x=1')
    expect(r, 302, None)
    check(r.header('location') == 'https://localhost/some/path?x=1',
          'location: %r' % r.header('location'))


###########################################################################
# Routes.

@case('/hello/world over h2c and h2: 200, text/html, the greeting')
def _():
    for c in (h2c(), h2s()):
        with c:
            r = c.get('/hello/world')
        expect(r, 200, None)
        check(b'<h1>hello, world!</h1>' in r.body, 'body %r' % r.body[:80])
        check((r.header('content-type') or '').startswith('text/html'),
              'content-type %r' % r.header('content-type'))


@case('100 concurrent /delay/500 streams on one connection: all 200, done '
      'in under 5 s (not one after another)')
def _():
    with h2c(timeout=15) as c:
        c.settle(0.2)
        limit = c.remote_settings.get(MAX_CONCURRENT_STREAMS)
        check(limit is None or limit >= 100, 'the server allows only %s '
              'concurrent streams' % limit)
        t0 = time.monotonic()
        sids = [c.start('/delay/500') for _ in range(100)]
        rs = c.wait(sids, 15)
        secs = time.monotonic() - t0
    diag('100 x /delay/500 on one connection: %.2f s' % secs)
    bad = [r for r in rs if r.status != 200
           or not r.body.startswith(b'delayed 500')]
    check(not bad, '%d streams failed: %s' % (len(bad), bad[:3]))
    check(secs < 5, '100 x /delay/500 took %.1f s' % secs)
    check(secs >= 0.45, '100 x /delay/500 took only %.2f s' % secs)


def echo_case(size):
    def fn():
        body = random.Random(size).randbytes(size)
        with h2c(timeout=20) as c:
            r = c.get('/echo', 'POST', [('content-type', 'application/x-h2')],
                      body=body, timeout=20)
        expect(r, 200, None)
        check(r.body == body, 'echo of %d bytes came back as %d bytes%s'
              % (size, len(r.body), '' if len(r.body) != size
                 else ' that differ'))
        check(r.header('content-type') == 'application/x-h2',
              'content-type %r' % r.header('content-type'))
    return fn


for _size in (0, 1, 100000, 1 << 20):
    SUITE.add('POST /echo with a body of %d bytes over h2c: the same bytes '
              'back (flow control)' % _size, echo_case(_size))


@case('two POST /echo of 1 MiB at once on one TLS connection: both come '
      'back whole')
def _():
    a = random.Random(11).randbytes(1 << 20)
    b = random.Random(12).randbytes(1 << 20)
    with h2s(timeout=20) as c:
        s1 = c.start('/echo', 'POST', [('content-type', 'text/a')], body=a)
        s2 = c.start('/echo', 'POST', [('content-type', 'text/b')], body=b)
        r1, r2 = c.wait([s1, s2], 20)
    expect(r1, 200, None, 'first: ')
    expect(r2, 200, None, 'second: ')
    check(r1.body == a and r2.body == b, 'bodies: %d and %d bytes, equal '
          '%s %s' % (len(r1.body), len(r2.body), r1.body == a, r2.body == b))


@case('GET of a 1 MiB file over h2c and h2 (flow control): every byte')
def _():
    sha = hashlib.sha256(BIG).hexdigest()
    for c in (h2c(timeout=20), h2s(timeout=20)):
        with c:
            r = c.get('/big.bin', timeout=20)
        expect(r, 200, None)
        check(len(r.body) == len(BIG) and
              hashlib.sha256(r.body).hexdigest() == sha,
              '%d bytes, sha256 %s' % (len(r.body),
                                       hashlib.sha256(r.body).hexdigest()))
        check(r.header('content-length') == str(len(BIG)),
              'content-length %r' % r.header('content-length'))


###########################################################################
# Status and access log.

H2_STATS = ('h2_connections', 'h2_streams', 'h2_resets_sent',
            'h2_resets_received', 'h2_goaways_sent', 'h2_flow_stalls')


@case('the status route counts HTTP/2: h2_connections +3 and h2_streams +6 '
      'after 3 connections with 6 streams; all h2_* in JSON and Prometheus')
def _():
    before = status_totals(T['plain'])
    missing = [k for k in H2_STATS if k not in before]
    check(not missing, 'not in /status totals: %s' % missing)
    for client, n in ((h2c, 2), (h2c, 3), (h2s, 1)):
        with client() as c:
            rs = c.wait([c.start('/hello/counted') for _ in range(n)])
            check(all(r.status == 200 for r in rs), 'requests: %s' % rs)
    after = totals_when(lambda t: t['h2_connections'] >=
                        before['h2_connections'] + 3 and
                        t['h2_streams'] >= before['h2_streams'] + 6)
    dc = after['h2_connections'] - before['h2_connections']
    ds = after['h2_streams'] - before['h2_streams']
    check(dc == 3, 'h2_connections +%d, expected +3' % dc)
    check(ds == 6, 'h2_streams +%d, expected +6' % ds)
    line, _, body = http11_get(T['plain'], '/status?format=prometheus')
    check(' 200 ' in line + ' ', 'prometheus: %s' % line)
    text = body.decode('latin-1')
    for k in H2_STATS:
        name = 'forkloop_%s_total' % k
        check(re.search(r'^%s(\{[^}]*\})? \d+' % name, text, re.M),
              'no %s in the Prometheus text' % name)


@case('the status route counts resets and GOAWAYs: h2_resets_received '
      'after a client RST_STREAM, h2_goaways_sent and h2_resets_sent after '
      'errors')
def _():
    before = status_totals(T['plain'])
    with RawConn(T['plain']) as c:
        c.handshake()
        c.send(headers_frame(1, request_block(path='/delay/1000')))
        c.send(rst_stream(1, CANCEL))
        # A malformed request: a stream error the server sends.
        c.send(headers_frame(3, request_block(
            extra=[('connection', 'close')])))
        r = c.outcome(3, 3)
        check(r.kind == 'rst' or (r.status or 0) >= 400,
              'malformed request: %s' % r)
        reset_sent = r.kind == 'rst'
        # A connection error: GOAWAY.
        c.send(frame(PING, 0, 1, b'12345678'))
        r = c.outcome(0, 3)
        check(r.kind in ('goaway', 'closed'), 'PING on stream 1: %s' % r)
    after = totals_when(lambda t: t['h2_goaways_sent'] >
                        before['h2_goaways_sent'] and
                        t['h2_resets_received'] > before['h2_resets_received'])
    for k in ('h2_resets_received', 'h2_goaways_sent') + (
            ('h2_resets_sent',) if reset_sent else ()):
        check(after[k] > before[k], '%s %d before, %d after'
              % (k, before[k], after[k]))


@case('access log: requests over h2c and h2 are logged as "GET /path '
      'HTTP/2.0" with their status')
def _():
    tag = '%08x' % random.getrandbits(32)
    with h2c() as c:
        expect(c.get('/hello/log-h2c-' + tag), 200)
    with h2s() as c:
        expect(c.get('/hello/log-h2-' + tag), 200)
    log = os.path.join(T['dir'], 'access.log')
    deadline = time.monotonic() + 5
    while True:
        text = read(log)
        lines = [l for l in text.splitlines() if tag in l]
        if len(lines) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    for path in ('/hello/log-h2c-' + tag, '/hello/log-h2-' + tag):
        m = [l for l in lines if '"GET %s HTTP/2.0" 200 ' % path in l]
        check(m, 'no line with "GET %s HTTP/2.0" 200 in access.log: %s'
              % (path, lines))


###########################################################################
# Virtual hosts.

@case('virtual hosts over h2c: :authority b.example gets site b, '
      'localhost site a; Host without :authority chooses too')
def _():
    with h2c() as c:
        expect(c.get('/index.html', authority='b.example'), 200, INDEX_B,
               ':authority b.example: ')
        expect(c.get('/index.html', authority='localhost'), 200, INDEX,
               ':authority localhost: ')
    with RawConn(T['plain']) as c:
        c.handshake()
        c.send(headers_frame(1, hp_block([
            (':method', 'GET'), (':scheme', 'http'),
            (':path', '/index.html'), ('host', 'b.example')])))
        r = c.outcome(1, 5)
        check(r.kind == 'response' and r.status == 200 and r.body == INDEX_B,
              'Host b.example without :authority: %s' % r)


@case('virtual hosts over TLS: SNI b.example with :authority b.example '
      'gets site b (also with curl --http2); SNI localhost with :authority '
      'b.example gets 421')
def _():
    with h2s(hostname='b.example') as c:
        expect(c.get('/index.html', authority='b.example'), 200, INDEX_B,
               'SNI b, :authority b: ')
    with h2s(hostname='localhost') as c:
        r = c.get('/index.html', authority='b.example')
        expect(r, 421, None, 'SNI localhost, :authority b.example: ')
        r = c.get('/index.html', authority='localhost')
        expect(r, 200, INDEX, 'then on the same connection, :authority '
               'localhost: ')
    if shutil.which('curl'):
        rc, ver, code, body, err = curl([
            '--http2', '--cacert', T['ca'], '--resolve',
            'b.example:%d:127.0.0.1' % T['tls'],
            'https://b.example:%d/index.html' % T['tls']])
        check(rc == 0 and ver == '2' and code == '200' and body == INDEX_B,
              'curl https://b.example/: exit %d, HTTP/%s %s, %r %s'
              % (rc, ver, code, body[:60], err))


###########################################################################
# Configuration.

@case('SETTINGS: http2_max_concurrent_streams 37 and http2_initial_window_'
      'size 1m advertised; 128 by default')
def _():
    with RawConn(T['d']) as c:
        st = c.handshake()
    check(st.get(MAX_CONCURRENT_STREAMS) == 37,
          'SETTINGS_MAX_CONCURRENT_STREAMS %s, configured 37 (%s)'
          % (st.get(MAX_CONCURRENT_STREAMS), st))
    check(st.get(INITIAL_WINDOW_SIZE) == 1 << 20,
          'SETTINGS_INITIAL_WINDOW_SIZE %s, configured 1m (%s)'
          % (st.get(INITIAL_WINDOW_SIZE), st))
    with RawConn(T['plain']) as c:
        st = c.handshake()
    check(st.get(MAX_CONCURRENT_STREAMS) == 128,
          'default SETTINGS_MAX_CONCURRENT_STREAMS %s, expected 128 (%s)'
          % (st.get(MAX_CONCURRENT_STREAMS), st))
    check(st.get(INITIAL_WINDOW_SIZE, 65535) == 65535,
          'default SETTINGS_INITIAL_WINDOW_SIZE %s, expected 65535'
          % st.get(INITIAL_WINDOW_SIZE))


@case('http2_max_concurrent_streams 37: a 38th stream at once is refused '
      '(RST_STREAM REFUSED_STREAM or PROTOCOL_ERROR), the 37 are served')
def _():
    with RawConn(T['d']) as c:
        c.handshake()
        block = request_block(path='/delay/1000')
        c.send(b''.join(headers_frame(2 * i + 1, block) for i in range(38)))
        r = c.outcome(75, 3)
        check((r.kind == 'rst' and r.code in (REFUSED_STREAM,
                                              PROTOCOL_ERROR))
              or (r.kind == 'goaway' and r.code == PROTOCOL_ERROR),
              'stream 75, the 38th: %s' % r)
        if r.kind == 'rst':
            for sid in range(1, 75, 2):
                o = c.outcome(sid, 5)
                check(o.kind == 'response' and o.status == 200,
                      'stream %d: %s' % (sid, o))


@case('the windows port D advertises are kept: a POST body that fills '
      'them at once, without waiting for WINDOW_UPDATE, is echoed')
def _():
    with RawConn(T['d']) as c:
        st = c.handshake()
        window = st.get(INITIAL_WINDOW_SIZE, 65535)
        c.send(headers_frame(1, request_block(
            'POST', '/echo', extra=[('content-type', 'x/y')]),
            end_stream=False))
        c.outcome(0, 0.5)       # the server's WINDOW_UPDATEs, if any
        conn_window = 65535 + sum(
            struct.unpack('>I', f.payload)[0] for f in c.log
            if f.type == WINDOW_UPDATE and f.sid == 0)
        n = min(window, conn_window)
        diag('stream window %d, connection window %d' % (window,
                                                         conn_window))
        body = random.Random(5).randbytes(n)
        step = c.max_frame_size()
        c.send(b''.join(data_frame(1, body[i:i + step],
                                   end_stream=i + step >= len(body))
                        for i in range(0, len(body), step)))
        r = c.outcome(1, 10)
        check(r.kind == 'response' and r.status == 200 and r.body == body,
              'echo of %d bytes: %s' % (n, r))


@case('http2_max_header_size 4k: a 5000-byte header gets 431 on its '
      'stream; the next request on the connection is served')
def _():
    with H2Client(T['d']) as c:
        r = c.get('/index.html', headers=[('x-big', 'y' * 5000)])
        expect(r, 431, None, 'a 5000-byte header: ')
        r = c.get('/index.html')
        expect(r, 200, INDEX, 'then: ')


@case('keepalive_timeout 1s: an idle HTTP/2 connection gets GOAWAY '
      '(NO_ERROR) and is closed')
def _():
    with RawConn(T['d']) as c:
        c.handshake()
        c.send(headers_frame(1, request_block()))
        r = c.outcome(1, 3)
        check(r.kind == 'response' and r.status == 200, 'request: %s' % r)
        t0 = time.monotonic()
        closed = c.wait_closed(5)
        secs = time.monotonic() - t0
        check(closed, 'still open 5 s after the last response')
        check(c.last_goaway is not None, 'closed after %.1f s without GOAWAY'
              % secs)
        code, last = goaway_fields(c.last_goaway)
        check(code == NO_ERROR and last == 1, 'GOAWAY %s last_stream_id %s'
              % (error_name(code), last))
        check(0.5 <= secs <= 3, 'closed after %.2f s (keepalive_timeout 1s)'
              % secs)


@case('http2 off: ALPN offers only http/1.1, the preface on the plain port '
      'gets an HTTP/1.1 error, HTTP/1.1 is served')
def _():
    s = connect(T['off_tls'], tls=True, alpn=('h2', 'http/1.1'))
    got = s.selected_alpn_protocol()
    s.close()
    check(got == 'http/1.1', 'http2 off, offered h2 and http/1.1: ALPN '
          'chose %r' % got)
    s = connect(T['off'])
    try:
        s.sendall(PREFACE + settings())
        raw = recv_until_close(s, 5)
    finally:
        s.close()
    check(re.match(rb'HTTP/1\.[01] [45]\d\d ', raw),
          'http2 off: the preface was answered %r' % raw[:80])
    line, _, body = http11_get(T['off'], '/index.html')
    check(line.startswith('HTTP/1.1 200') and body == INDEX,
          'HTTP/1.1 GET: %s' % line)


@case('http2 on: HTTP/1.1 is still served on the same plain port, and '
      'Upgrade: h2c is answered in HTTP/1.1 (no 101)')
def _():
    line, hdrs, body = http11_get(T['plain'], '/index.html')
    check(line.startswith('HTTP/1.1 200') and body == INDEX,
          'HTTP/1.1 GET: %s' % line)
    line, hdrs, body = http11_get(
        T['plain'], '/index.html',
        extra='Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n')
    check(line.startswith('HTTP/1.1 200') and body == INDEX,
          'Upgrade: h2c: %s %r' % (line, body[:40]))


@case('config: "listen ADDR http2;" is accepted (forkloop -t), "http2 '
      'maybe;" is a FILE:LINE: error')
def _():
    conf = os.path.join(T['dir'], 'check.conf')
    for text, good in (("http {\n    listen 127.0.0.1:%d http2;\n"
                        "    root %s;\n}\n" % (free_port(), T['www']), True),
                       ("http {\n    listen 127.0.0.1:%d;\n    root %s;\n"
                        "    http2 maybe;\n}\n" % (free_port(), T['www']),
                        False)):
        with open(conf, 'w') as f:
            f.write(text)
        r = subprocess.run([BIN, '-t', '-c', conf], capture_output=True,
                           stdin=subprocess.DEVNULL, timeout=10)
        out = (r.stdout + r.stderr).decode('latin-1')
        if good:
            check(r.returncode == 0, '-t of a config with "listen ... '
                  'http2;": exit %d: %s' % (r.returncode, out))
        else:
            check(r.returncode != 0 and '%s:4:' % conf in out,
                  '-t of "http2 maybe;": exit %d: %s' % (r.returncode, out))


###########################################################################
# Signals.

def delay_in_flight(ms):
    """A raw h2c connection with GET /delay/MS on stream 1, taken by the
    server (a PING after the HEADERS has been answered)."""
    c = RawConn(T['plain'])
    c.handshake()
    c.send(headers_frame(1, request_block(path='/delay/%d' % ms)))
    check(c.alive(), 'no PING ACK after the request')
    return c


def graceful(c, sig_name):
    """The stream in flight completes; a GOAWAY NO_ERROR with
    last_stream_id >= 1 comes; then the connection closes."""
    r = c.outcome(1, 10)
    check(r.kind == 'response' and r.status == 200
          and r.body.startswith(b'delayed 1500'),
          'after %s, the stream in flight: %s' % (sig_name, r))
    closed = c.wait_closed(8)
    check(c.last_goaway is not None, 'after %s: no GOAWAY' % sig_name)
    code, last = goaway_fields(c.last_goaway)
    check(code == NO_ERROR and last >= 1, 'after %s: GOAWAY %s '
          'last_stream_id %s' % (sig_name, error_name(code), last))
    gas = [f for f in c.log if f.type == GOAWAY]
    diag('%s: %s' % (sig_name, ', '.join(describe_frame(g) for g in gas)))
    check(closed, 'after %s the connection is still open 8 s after the '
          'response' % sig_name)


@case('HUP with a /delay/1500 stream in flight: GOAWAY, the stream '
      'completes, the old workers exit, the new ones serve HTTP/2')
def _():
    s = T['server']
    old = s.workers()
    c = delay_in_flight(1500)
    try:
        s.signal(signal.SIGHUP)
        graceful(c, 'HUP')
    finally:
        c.close()
    new = s.wait_workers(lambda w: len(w) == len(old)
                         and not set(w) & set(old), 10)
    check(len(new) == len(old) and not set(new) & set(old),
          'workers %s after the HUP, before %s' % (new, old))
    T['workers'] = new
    with h2c() as c2:
        expect(c2.get('/index.html'), 200, INDEX, 'after the HUP: ')


@case('after all this: the same workers (those of the reload), no '
      '"signal", alert, crit or emerg in the error log')
def _():
    s = T['server']
    check(s.alive(), 'the master exited')
    check(s.workers() == T['workers'], 'workers now %s, after the reload %s'
          % (s.workers(), T['workers']))
    bad = s.bad_log_lines()
    check(not bad, '\n'.join(bad[:10]))


@case('QUIT with a /delay/1500 stream in flight: GOAWAY, the stream '
      'completes, the master exits 0')
def _():
    s = T['server']
    c = delay_in_flight(1500)
    try:
        s.signal(signal.SIGQUIT)
        graceful(c, 'QUIT')
    finally:
        c.close()
    try:
        s.proc.wait(10)
    except subprocess.TimeoutExpired:
        pass
    check(s.proc.poll() == 0, 'exit status %s after QUIT' % s.proc.poll())
    bad = s.bad_log_lines()
    check(not bad, '\n'.join(bad[:10]))


###########################################################################

def setup(d):
    T['dir'] = d
    ca, cert, key = make_certs(d)
    T['ca'] = ca
    www = T['www'] = os.path.join(d, 'www')
    os.makedirs(os.path.join(www, 'errors'))
    os.makedirs(os.path.join(d, 'www-b'))
    for path, data in (('www/index.html', INDEX), ('www/big.bin', BIG),
                       ('www/errors/404.html', PAGE_404),
                       ('www-b/index.html', INDEX_B)):
        with open(os.path.join(d, path), 'wb') as f:
            f.write(data)
    T.update(plain=free_port(), tls=free_port(), off=free_port(),
             off_tls=free_port(), d=free_port(), ret=free_port(),
             many=free_port())
    many = ''.join('    add_header X-Many-%02d v%d;\n' % (i, i)
                   for i in range(30))
    ssl = '    ssl_certificate %s;\n    ssl_certificate_key %s;\n' % (cert,
                                                                       key)
    T['server'] = Server(d, """workers 2;
worker_connections 1024;
shutdown_timeout 10s;

http {
    listen 127.0.0.1:%(plain)d;
    listen 127.0.0.1:%(tls)d ssl;
    server_name localhost;
%(ssl)s    root %(www)s;
    access_log %(dir)s/access.log;
    route /hello/ hello;
    route /delay/ delay;
    route /echo echo;
    route /status status;
    max_body_size 4m;
    add_header X-H2-Test yes;
    expires 1h;
    error_page 404 /errors/404.html;
}

http {
    listen 127.0.0.1:%(plain)d;
    listen 127.0.0.1:%(tls)d ssl;
    server_name b.example;
%(ssl)s    root %(dir)s/www-b;
}

http {
    listen 127.0.0.1:%(off)d;
    listen 127.0.0.1:%(off_tls)d ssl;
    http2 off;
%(ssl)s    root %(www)s;
}

http {
    listen 127.0.0.1:%(d)d;
    root %(www)s;
    route /delay/ delay;
    route /echo echo;
    max_body_size 4m;
    http2_max_concurrent_streams 37;
    http2_initial_window_size 1m;
    http2_max_header_size 4k;
    keepalive_timeout 1s;
}

http {
    listen 127.0.0.1:%(many)d;
    root %(www)s;
%(many_headers)s}

http {
    listen 127.0.0.1:%(ret)d;
    root %(www)s;
    return 302 https://$host$request_uri;
}
""" % dict(T, ssl=ssl, www=www, dir=d, many_headers=many))
    T['workers'] = T['server'].start(workers=2)


if __name__ == '__main__':
    sys.exit(SUITE.run(setup))
