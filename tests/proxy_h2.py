#!/usr/bin/env python3
# proxy_h2.py: HTTP/2 clients through the reverse proxy (issue 14), with
# Debian's python3-h2 (tests/lib/forkloop_h2.py) and the aiohttp test app
# (tests/lib/upstream_app.py) as the upstream:
#
#  - a request body with content-length goes upstream whole, with that
#    length; one without (HTTP/2 needs none) goes upstream chunked;
#  - a body is streamed: the upstream has read the first DATA before the
#    client has sent END_STREAM, and the client's window opens again only
#    as the upstream takes the bytes (the proxy never holds the body);
#  - a body larger than max_body_size without content-length: the stream
#    is reset, the upstream's upload is left unfinished, the connection
#    goes on;
#  - a client that resets its stream mid-upload: the upstream sees the
#    upload end unfinished, the worker lives, the next request works;
#  - GETs over HTTP/2 still go on kept upstream connections (a request
#    without a body is not streamed).
#
# Output is TAP; the servers are killed on every way out.

import os
import sys

TESTS = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(TESTS, 'lib'))

from forkloop_h2 import (SERVERS, Fail, H2Client, Response, Server,  # noqa: E402
                         Suite, check, free_port)

import hashlib  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402

import h2.errors  # noqa: E402

APP = os.path.join(TESTS, 'lib', 'upstream_app.py')
suite = Suite('proxy_h2', watchdog=120)
S = {}


class App:
    """upstream_app.py on a free port, killed with the servers."""

    def __init__(self):
        self.proc = subprocess.Popen(
            ['/usr/bin/python3', APP, '--port', '0', '--name', 'h2app'],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            start_new_session=True)
        SERVERS.append(self)
        line = self.proc.stdout.readline().decode()
        if not line.startswith('ready '):
            raise Fail('upstream_app.py did not start: %r' % line)
        self.port = int(line.split()[1])

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def get(self, path):
        with urllib.request.urlopen('http://127.0.0.1:%d%s'
                                    % (self.port, path), timeout=5) as r:
            return r.read().decode()

    def stats(self):
        return json.loads(self.get('/stats'))


def setup(tmp):
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        raise Fail('python3-aiohttp is needed (Debian package '
                   'python3-aiohttp)')
    app = App()
    port = free_port()
    srv = Server(tmp, '''
workers 1;
upstream app { server 127.0.0.1:%d; keepalive 8; }
http {
    listen 127.0.0.1:%d;
    http2 on;
    root %s;
    max_body_size 4m;
    proxy_pass http://app;
}
''' % (app.port, port, tmp))
    srv.start()
    S.update(app=app, srv=srv, port=port)


def body_of(n):
    return bytes((i * 31 + 7) & 0xff for i in range(n))


def upload_json(resp):
    check(resp.status == 200, 'status %s, body %r' % (resp.status,
                                                     resp.body[:200]))
    return json.loads(resp.body.decode())


@suite.case('a 3 MiB body with content-length goes upstream whole, with '
            'that length')
def _():
    body = body_of(3 << 20)
    with H2Client(S['port'], authority='127.0.0.1') as c:
        r = c.get('/upload', method='POST', body=body,
                  headers=[('content-length', str(len(body)))], timeout=30)
    j = upload_json(r)
    check(j['bytes'] == len(body), 'upstream read %s bytes' % j['bytes'])
    check(j['sha256'] == hashlib.sha256(body).hexdigest(), 'sha256 differs')
    check(j['content_length'] == str(len(body)) and not j['chunked'],
          'upstream framing: %r' % j)


@suite.case('a 1 MiB body without content-length goes upstream chunked, '
            'whole')
def _():
    body = body_of(1 << 20)
    with H2Client(S['port'], authority='127.0.0.1') as c:
        r = c.get('/upload', method='POST', body=body, timeout=30)
    j = upload_json(r)
    check(j['bytes'] == len(body), 'upstream read %s bytes' % j['bytes'])
    check(j['sha256'] == hashlib.sha256(body).hexdigest(), 'sha256 differs')
    check(j['chunked'] and j['content_length'] is None,
          'upstream framing: %r' % j)


def open_upload(c, headers=()):
    sid = c.conn.get_next_available_stream_id()
    c.streams[sid] = Response(sid)
    c.conn.send_headers(sid, [(':method', 'POST'), (':scheme', 'http'),
                              (':path', '/upload'),
                              (':authority', '127.0.0.1')] + list(headers),
                        end_stream=False)
    c.flush()
    return sid


def send_frames(c, sid, data):
    for i in range(0, len(data), 16384):
        c.conn.send_data(sid, data[i:i + 16384], end_stream=False)
    c.flush()


def upstream_upload(cond, timeout=5):
    deadline = time.monotonic() + timeout
    while True:
        ups = S['app'].stats()['uploads']
        if ups and cond(ups[-1]):
            return ups[-1]
        if time.monotonic() > deadline:
            return ups[-1] if ups else None
        time.sleep(0.05)


@suite.case('streamed: the upstream reads the first DATA before the '
            'client ends the body, and the window opens as it takes it')
def _():
    S['app'].get('/stats/reset')
    first = body_of(40000)
    rest = body_of(200000)
    with H2Client(S['port'], authority='127.0.0.1') as c:
        c.settle(0.2)
        sid = open_upload(c)
        window0 = c.conn.local_flow_control_window(sid)
        check(window0 >= len(first), 'the stream window is %d' % window0)
        send_frames(c, sid, first)
        up = upstream_upload(lambda u: u['bytes'] >= len(first))
        check(up is not None and up['bytes'] == len(first)
              and not up['complete'],
              'the upstream has %r of an unfinished body' % (up,))
        # The proxy gives what the upstream took back to the window
        # (libnghttp2 sends WINDOW_UPDATE once half a window is taken).
        low = window0 - len(first)
        deadline = time.monotonic() + 5
        while (c.conn.local_flow_control_window(sid) <= low
               and time.monotonic() < deadline):
            c.pump(0.2)
        check(c.conn.local_flow_control_window(sid) >= low + 32768,
              'the window is %d after %d sent of %d' % (
                  c.conn.local_flow_control_window(sid), len(first),
                  window0))
        c.pending[sid] = memoryview(rest)
        c.send_bodies()
        r = c.wait([sid], 30)[0]
    j = upload_json(r)
    check(j['bytes'] == len(first) + len(rest), 'upstream read %s bytes'
          % j['bytes'])
    check(j['sha256'] == hashlib.sha256(first + rest).hexdigest(),
          'sha256 differs')


@suite.case('over max_body_size without content-length: the stream is '
            'reset, the upstream upload left unfinished, the connection '
            'goes on')
def _():
    S['app'].get('/stats/reset')
    with H2Client(S['port'], authority='127.0.0.1') as c:
        r = c.get('/upload', method='POST', body=body_of((4 << 20) + 65536),
                  timeout=30)
        check(r.reset is not None or (r.status or 0) >= 400,
              'the stream: %s' % r)
        up = upstream_upload(lambda u: not u['complete'], 2)
        check(up is None or not up['complete'],
              'the upstream saw a complete upload: %r' % (up,))
        r2 = c.get('/hello/again', timeout=10)
        check(r2.status == 200 and r2.body == b'Hello, again\n',
              'the next stream: %s %r' % (r2.status, r2.body))


@suite.case('a client that resets its upload: the upstream sees it end '
            'unfinished; the worker lives; the next request works')
def _():
    S['app'].get('/stats/reset')
    workers = S['srv'].workers()
    with H2Client(S['port'], authority='127.0.0.1') as c:
        c.settle(0.2)
        sid = open_upload(c)
        send_frames(c, sid, body_of(30000))
        up = upstream_upload(lambda u: u['bytes'] >= 30000)
        check(up is not None and up['bytes'] == 30000,
              'the upstream has %r' % (up,))
        c.conn.reset_stream(sid, h2.errors.ErrorCodes.CANCEL)
        c.flush()
        c.settle(0.5)
    time.sleep(0.3)
    up = S['app'].stats()['uploads'][-1]
    check(not up['complete'], 'the upstream upload: %r' % (up,))
    check(S['srv'].workers() == workers, 'workers %s, were %s'
          % (S['srv'].workers(), workers))
    with H2Client(S['port'], authority='127.0.0.1') as c:
        r = c.get('/hello/next', timeout=10)
    check(r.status == 200 and r.body == b'Hello, next\n',
          'the next request: %s %r' % (r.status, r.body))


@suite.case('GETs over HTTP/2 go on a kept upstream connection')
def _():
    with H2Client(S['port'], authority='127.0.0.1') as c:
        a = c.get('/headers', timeout=10)
        b = c.get('/headers', timeout=10)
    ja, jb = json.loads(a.body.decode()), json.loads(b.body.decode())
    check(ja['conn'] == jb['conn'] and jb['conn_requests'] >= 2,
          'connections %s and %s (requests on the second: %s)'
          % (ja['conn'], jb['conn'], jb['conn_requests']))
    names = [k.lower() for k, _ in jb['headers']]
    check('transfer-encoding' not in names and 'content-length' not in
          names, 'a GET went up with body framing: %r' % jb['headers'])


@suite.case('no worker died, no error in the log')
def _():
    bad = S['srv'].bad_log_lines()
    bad = [b for b in bad if 'upstream' not in b]
    check(not bad, 'log: %s' % bad[:5])


sys.exit(suite.run(setup))
