#!/usr/bin/env python3
# tls_hostile.py: forkloop's TLS against clients that misbehave, and the
# PROXY protocol before TLS, with Python's ssl module (the standard
# library only) and openssl s_client.  What tls.t does with curl and
# s_client, this file does where a byte-level client is needed:
#
#  - a ClientHello in 1-byte writes (made with ssl.MemoryBIO, sent a byte
#    at a time): the handshake still completes;
#  - a truncated ClientHello, random garbage, a handshake record of
#    garbage: the server closes at once and stays up;
#  - a client that stops mid-handshake, one that sends nothing, one that
#    sends its ClientHello a byte every 0.3 s: each is closed at
#    ssl_handshake_timeout (1s here), and tls_failed_timeout counts it;
#  - a slow reader of 1 MiB gets every byte; a reset (SO_LINGER 0) in
#    the middle of a 1 MiB download harms nothing;
#  - a renegotiation (openssl s_client -tls1_2, "R") is refused;
#  - "listen ADDR ssl proxy_protocol": a PROXY v1 line, then TLS on the
#    same socket (in two writes and in one): served, and the access log
#    shows the PROXY source; TLS without the PROXY line is closed;
#  - 1,000 handshakes at once against 2 workers, all done in 10 s;
#  - the client's Finished and two request records in one segment: both
#    answered (read ahead leaves the second in OpenSSL's buffer); a
#    request record cut in two, 1 s apart: answered, no worker spinning;
#  - HUP with a TLS request in progress and an idle TLS keep-alive
#    connection: the request is finished, the old workers exit;
#  - afterwards: the server answers, no worker died (same pids), no
#    alert, crit or emerg in the error log;
#  - kTLS, skipped when the kernel has no tls ULP.
#
# Output is TAP, for automake's TAP driver.  The server runs in a process
# group of its own and is killed on every way out (the end, an exception,
# a signal, the watchdog).  FORKLOOP_BIN names the binary (default:
# ../forkloop next to tests/); FORKLOOP_KEEP=1 keeps the directory.

import errno
import hashlib
import json
import os
import random
import re
import resource
import selectors
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.path.abspath(os.environ.get('FORKLOOP_BIN')
                      or os.path.join(HERE, '..', 'forkloop'))
WATCHDOG = 170
CONCURRENT = 1000
HOSTNAME = 'localhost'


def diag(msg):
    for line in str(msg).splitlines() or ['']:
        print('# ' + line)
    sys.stdout.flush()


class Skip(Exception):
    pass


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


###########################################################################
# The server.

def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def proc_children(ppid):
    """The live children of ppid, sorted."""
    kids = []
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % name) as f:
                stat = f.read()
        except OSError:
            continue
        rest = stat[stat.rfind(')') + 2:].split()
        if len(rest) > 1 and int(rest[1]) == ppid and rest[0] not in 'ZX':
            kids.append(int(name))
    return sorted(kids)


class Server:
    def __init__(self, tmp, config):
        self.dir = tmp
        self.conf = os.path.join(tmp, 'forkloop.conf')
        self.pidfile = os.path.join(tmp, 'forkloop.pid')
        self.errlog = os.path.join(tmp, 'error.log')
        self.stderr = os.path.join(tmp, 'stderr.log')
        self.proc = None
        text = ('pid %s;\nerror_log %s info;\ndaemon off;\n'
                % (self.pidfile, self.errlog)) + config
        with open(self.conf, 'w') as f:
            f.write(text)
        self.ports = [int(p) for p in
                      re.findall(r'^\s*listen\s+127\.0\.0\.1:(\d+)', text, re.M)]

    def start(self, timeout=10):
        out = open(self.stderr, 'ab')
        self.proc = subprocess.Popen([BIN, '-c', self.conf], cwd=self.dir,
                                     stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True)
        out.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise Fail('forkloop exited with status %s\n%s\n%s'
                           % (self.proc.returncode, read(self.stderr),
                              read(self.errlog)))
            if self.ready():
                return
            time.sleep(0.05)
        self.kill()
        raise Fail('forkloop not ready within %ds\n%s\n%s'
                   % (timeout, read(self.stderr), read(self.errlog)))

    def ready(self):
        if not re.match(r'^\d+\s*$', read(self.pidfile)):
            return False
        for port in self.ports:
            try:
                socket.create_connection(('127.0.0.1', port), 1).close()
            except OSError:
                return False
        return True

    def workers(self):
        return proc_children(self.proc.pid) if self.alive() else []

    def wait_workers(self, n, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            w = self.workers()
            if len(w) == n:
                return w
            time.sleep(0.05)
        return self.workers()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=15):
        """QUIT, then KILL; returns the master's exit status."""
        if self.proc is None:
            return None
        if self.alive():
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                diag('forkloop still running %ds after QUIT' % timeout)
        status = self.proc.poll()
        self.kill()
        return status

    def kill(self):
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass

    def error_log(self):
        return read(self.errlog) + read(self.stderr)


def read(path):
    try:
        with open(path, 'rb') as f:
            return f.read().decode('utf-8', 'replace')
    except OSError:
        return ''


###########################################################################
# Certificates: a root CA and a leaf for localhost, EC P-256.

OPENSSL_CNF = """[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
authorityKeyIdentifier = keyid:always
"""


def openssl(*args, cwd=None):
    env = dict(os.environ, OPENSSL_CONF=os.path.join(cwd, 'empty.cnf'))
    r = subprocess.run(['openssl'] + list(args), cwd=cwd, env=env,
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=60)
    if r.returncode != 0:
        raise Fail('openssl %s: %s' % (' '.join(args), r.stderr.decode()))


def make_certs(d):
    with open(os.path.join(d, 'x509.cnf'), 'w') as f:
        f.write(OPENSSL_CNF)
    open(os.path.join(d, 'empty.cnf'), 'w').close()
    ec = ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']
    openssl('genpkey', *ec, '-out', 'ca.key', cwd=d)
    openssl('req', '-new', '-x509', '-key', 'ca.key', '-subj',
            '/CN=tls_hostile.py root', '-days', '3', '-config', 'x509.cnf',
            '-extensions', 'v3_ca', '-out', 'ca.pem', cwd=d)
    openssl('genpkey', *ec, '-out', 'leaf.key', cwd=d)
    openssl('req', '-new', '-key', 'leaf.key', '-subj', '/CN=localhost',
            '-config', 'x509.cnf', '-out', 'leaf.csr', cwd=d)
    openssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey',
            'ca.key', '-set_serial', str(int(time.time())), '-days', '3',
            '-extfile', 'x509.cnf', '-extensions', 'v3_leaf',
            '-out', 'leaf.pem', cwd=d)


###########################################################################
# Clients.

CA = None


def client_ctx(**kw):
    ctx = ssl.create_default_context(cafile=CA)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    for k, v in kw.items():
        setattr(ctx, k, v)
    return ctx


def request(path, host=HOSTNAME):
    return ('GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n'
            % (path, host)).encode()


def parse_response(raw):
    """(status, headers, body) of one response read to the close."""
    head, sep, body = raw.partition(b'\r\n\r\n')
    check(sep, 'no whole response head: %r' % raw[:200])
    lines = head.decode('latin-1').split('\r\n')
    m = re.match(r'HTTP/1\.[01] (\d{3})', lines[0])
    check(m, 'bad status line %r' % lines[0])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(':')
        headers[k.strip().lower()] = v.strip()
    if 'content-length' in headers:
        body = body[:int(headers['content-length'])]
    return int(m.group(1)), headers, body


def recv_all(sock, timeout):
    """Everything until the close; raises on timeout."""
    deadline = time.monotonic() + timeout
    buf = b''
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise Fail('no close within %ss (%d bytes read)'
                       % (timeout, len(buf)))
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except ssl.SSLZeroReturnError:
            return buf
        except socket.timeout:
            continue
        if not data:
            return buf
        buf += data


def https_get(port, path, timeout=10, ctx=None):
    ctx = ctx or client_ctx()
    with socket.create_connection(('127.0.0.1', port), timeout) as raw:
        with ctx.wrap_socket(raw, server_hostname=HOSTNAME) as s:
            s.sendall(request(path))
            return parse_response(recv_all(s, timeout))


def http_get(port, path, timeout=5):
    with socket.create_connection(('127.0.0.1', port), timeout) as s:
        s.sendall(request(path))
        return parse_response(recv_all(s, timeout))


def wait_closed(sock, timeout):
    """Reads and drops until the peer closes: (closed, seconds, bytes)."""
    t0 = time.monotonic()
    got = b''
    while time.monotonic() - t0 < timeout:
        sock.settimeout(max(0.01, timeout - (time.monotonic() - t0)))
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return True, time.monotonic() - t0, got
        if not data:
            return True, time.monotonic() - t0, got
        got += data
    return False, time.monotonic() - t0, got


class BioClient:
    """A TLS client over a plain socket through ssl.MemoryBIO, so the test
    chooses how the bytes go out."""

    def __init__(self, sock, ctx=None):
        self.sock = sock
        self.inc = ssl.MemoryBIO()
        self.out = ssl.MemoryBIO()
        self.obj = (ctx or client_ctx()).wrap_bio(
            self.inc, self.out, server_hostname=HOSTNAME)

    def client_hello(self):
        try:
            self.obj.do_handshake()
        except ssl.SSLWantReadError:
            pass
        return self.out.read()

    def flush(self):
        data = self.out.read()
        if data:
            self.sock.sendall(data)

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise Fail('timed out')
        self.sock.settimeout(left)
        data = self.sock.recv(65536)
        if not data:
            self.inc.write_eof()
            return False
        self.inc.write(data)
        return True

    def handshake(self, timeout=10, send_finished=True):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.obj.do_handshake()
                if send_finished:
                    self.flush()
                return
            except ssl.SSLWantReadError:
                self.flush()
                if not self._fill(deadline):
                    raise Fail('closed by the server during the handshake')

    def get(self, path, timeout=10):
        self.obj.write(request(path))
        self.flush()
        return parse_response(self.read_to_close(timeout))

    def read_to_close(self, timeout=10):
        deadline = time.monotonic() + timeout
        buf = b''
        while True:
            try:
                data = self.obj.read(65536)
                if not data:
                    break
                buf += data
            except ssl.SSLWantReadError:
                self.flush()
                if not self._fill(deadline):
                    break
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                break
        return buf


###########################################################################
# The test plan.

CASES = []


def case(name):
    def reg(fn):
        CASES.append((name, fn))
        return fn
    return reg


S = None        # the server
T = {}          # ports and files
STATE = {}      # what cases leave for later ones


def status():
    code, _, body = http_get(T['plain'], '/status')
    check(code == 200, 'GET /status: %s' % code)
    return json.loads(body)


def totals():
    return status()['totals']


def totals_when(cond, timeout=5):
    deadline = time.monotonic() + timeout
    while True:
        t = totals()
        if cond(t) or time.monotonic() >= deadline:
            return t
        time.sleep(0.1)


def failures(t):
    return sum(t.get(k, 0) for k in (
        'tls_failed_protocol', 'tls_failed_cipher', 'tls_failed_certificate',
        'tls_failed_timeout', 'tls_failed_other'))


def still_serves():
    code, _, body = https_get(T['tls'], '/index.html', timeout=5)
    check(code == 200 and body == T['index'],
          'after it, GET /index.html over TLS: %s' % code)


def log_line(name, path, timeout=10):
    deadline = time.monotonic() + timeout
    pat = re.compile(r'^.*"GET %s HTTP/1\.1".*$' % re.escape(path), re.M)
    while True:
        m = pat.search(read(os.path.join(S.dir, name)))
        if m or time.monotonic() >= deadline:
            return m.group(0) if m else ''
        time.sleep(0.1)


@case('HTTPS GET / with the ssl module (TLS 1.3, verified)')
def _():
    code, headers, body = https_get(T['tls'], '/index.html')
    check(code == 200, 'status %s' % code)
    check(body == T['index'], 'body %r' % body[:80])
    STATE['totals0'] = totals()


@case('a ClientHello in 1-byte writes: the handshake completes, GET 200')
def _():
    with socket.create_connection(('127.0.0.1', T['tls']), 10) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c = BioClient(s)
        hello = c.client_hello()
        check(len(hello) > 100 and hello[0] == 0x16,
              'a ClientHello of %d bytes' % len(hello))
        for i in range(len(hello)):
            s.sendall(hello[i:i + 1])
            if i % 16 == 0:
                time.sleep(0.001)
        c.handshake()
        check(c.obj.version() in ('TLSv1.3', 'TLSv1.2'),
              'version %s' % c.obj.version())
        code, _, body = c.get('/index.html')
        check(code == 200 and body == T['index'], 'GET: %s' % code)


@case('a ClientHello of more than 4 KiB in one write (a long ALPN list): '
      'the handshake completes, GET 200')
def _():
    # The server reads the start of a connection itself to tell TLS from
    # plain HTTP (4 KiB at most) and gives those bytes to OpenSSL, which
    # must then read the rest of the record from the socket.
    ctx = client_ctx()
    ctx.set_alpn_protocols(['x-%03d-' % i + 'a' * 200 for i in range(30)]
                           + ['http/1.1'])
    with socket.create_connection(('127.0.0.1', T['tls']), 10) as s:
        c = BioClient(s, ctx)
        hello = c.client_hello()
        check(len(hello) > 6000 and hello[0] == 0x16,
              'a ClientHello of %d bytes' % len(hello))
        s.sendall(hello)
        c.handshake()
        check(c.obj.selected_alpn_protocol() == 'http/1.1',
              'ALPN %s' % c.obj.selected_alpn_protocol())
        code, _, body = c.get('/index.html')
        check(code == 200 and body == T['index'], 'GET: %s' % code)


@case('a truncated ClientHello, then close: the server stays up')
def _():
    before = totals()
    with socket.create_connection(('127.0.0.1', T['tls']), 10) as s:
        hello = BioClient(s).client_hello()
        s.sendall(hello[:len(hello) // 2])
        time.sleep(0.1)
    # And a truncated one the client does not close: the server waits
    # for the rest (up to the handshake timeout), it does not answer.
    with socket.create_connection(('127.0.0.1', T['tls']), 10) as s:
        hello = BioClient(s).client_hello()
        s.sendall(hello[:40])
        s.settimeout(0.5)
        try:
            data = s.recv(100)
            check(not data, 'answered a truncated ClientHello: %r' % data)
        except socket.timeout:
            pass
    still_serves()
    after = totals_when(lambda t: failures(t) >= failures(before) + 2)
    check(failures(after) - failures(before) == 2,
          'two failed handshakes counted, got %d (%s)'
          % (failures(after) - failures(before),
             {k: after[k] - before[k] for k in after
              if k.startswith('tls_failed')}))


@case('random garbage instead of a ClientHello: closed at once, '
      'no response but a 400 or an alert')
def _():
    rnd = random.Random(4242)
    junk = bytes([0x80 | rnd.randrange(128)]) + bytes(
        rnd.randrange(256) for _ in range(4095))
    for name, data in (('garbage', junk),
                       ('a handshake record of garbage',
                        b'\x16\x03\x01\x00\x80' + junk[:128]),
                       # OpenSSL skips a few empty records, not 40
                       ('40 empty handshake records',
                        b'\x16\x03\x01\x00\x00' * 40),
                       ('an SSLv2 ClientHello',
                        bytes.fromhex('802e0103010015000000100700c0'
                                      '050080030080010080080080060040'
                                      '0400800200801f2d7e1b0c6f3e2c57'
                                      '8e0e9a73f1c4d2'))):
        with socket.create_connection(('127.0.0.1', T['tls']), 10) as s:
            try:
                s.sendall(data)
            except OSError:
                pass
            closed, secs, got = wait_closed(s, 5)
            check(closed, '%s: still open after 5 s' % name)
            check(secs < 3, '%s: closed only after %.1f s' % (name, secs))
            check(b' 200 ' not in got, '%s: answered %r' % (name, got[:80]))
            check(not got or got[:1] == b'\x15' or got.startswith(b'HTTP/1.1 400'),
                  '%s: answered neither an alert nor a 400: %r'
                  % (name, got[:80]))
    still_serves()


@case('a handshake stopped after the ServerHello: closed at '
      'ssl_handshake_timeout (1s), tls_failed_timeout +1')
def _():
    before = totals()
    with socket.create_connection(('127.0.0.1', T['slow']), 10) as s:
        t0 = time.monotonic()
        c = BioClient(s)
        s.sendall(c.client_hello())
        s.settimeout(5)
        first = s.recv(65536)
        check(first[:1] == b'\x16', 'the server\'s flight: %r' % first[:20])
        closed, _, _ = wait_closed(s, 8)
        secs = time.monotonic() - t0
        check(closed, 'still open after %.1f s' % secs)
        check(0.8 <= secs <= 4, 'closed after %.2f s, not about 1 s' % secs)
        diag('closed after %.2f s' % secs)
    after = totals_when(
        lambda t: t['tls_failed_timeout'] > before['tls_failed_timeout'])
    check(after['tls_failed_timeout'] - before['tls_failed_timeout'] == 1,
          'tls_failed_timeout: %d -> %d' % (before['tls_failed_timeout'],
                                            after['tls_failed_timeout']))
    check(after['tls_handshakes'] == before['tls_handshakes'],
          'tls_handshakes moved: %d -> %d' % (before['tls_handshakes'],
                                              after['tls_handshakes']))


@case('a connection that sends nothing: closed at ssl_handshake_timeout')
def _():
    with socket.create_connection(('127.0.0.1', T['slow']), 10) as s:
        closed, secs, got = wait_closed(s, 8)
        check(closed, 'still open after %.1f s' % secs)
        check(0.8 <= secs <= 4, 'closed after %.2f s' % secs)


@case('a ClientHello sent a byte every 0.2 s: cut at ssl_handshake_timeout')
def _():
    with socket.create_connection(('127.0.0.1', T['slow']), 10) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        hello = BioClient(s).client_hello()
        t0 = time.monotonic()
        closed = False
        for i in range(len(hello)):
            try:
                s.sendall(hello[i:i + 1])
            except OSError:
                closed = True
                break
            s.settimeout(0.2)
            try:
                data = s.recv(65536)
                if not data:
                    closed = True
                    break
            except socket.timeout:
                pass
            except ConnectionResetError:
                closed = True
                break
            if time.monotonic() - t0 > 6:
                break
        secs = time.monotonic() - t0
        check(closed, 'still open after %.1f s' % secs)
        check(secs <= 4, 'closed after %.2f s' % secs)


@case('PROXY v1, then TLS on the same socket: served, the access log '
      'shows the PROXY source')
def _():
    with socket.create_connection(('127.0.0.1', T['pp']), 10) as raw:
        raw.sendall(b'PROXY TCP4 192.0.2.77 192.0.2.1 55555 443\r\n')
        with client_ctx().wrap_socket(raw, server_hostname=HOSTNAME) as s:
            s.sendall(request('/index.html?pp-two-writes'))
            code, _, body = parse_response(recv_all(s, 10))
            version = s.version()
            cipher = s.cipher()[0]
    check(code == 200 and body == T['index'], 'GET: %s' % code)
    line = log_line('access-pp.log', '/index.html?pp-two-writes')
    check(line.startswith('192.0.2.77 '), 'log line: %r' % line)
    check(line.endswith('"%s" "%s" "."' % (version, cipher)),
          'combined_ssl fields: %r' % line)


@case('PROXY v1 and the ClientHello in one write: served')
def _():
    with socket.create_connection(('127.0.0.1', T['pp']), 10) as s:
        c = BioClient(s)
        s.sendall(b'PROXY TCP4 198.51.100.9 198.51.100.1 4242 443\r\n'
                  + c.client_hello())
        c.handshake()
        code, _, body = c.get('/index.html?pp-one-write')
    check(code == 200 and body == T['index'], 'GET: %s' % code)
    line = log_line('access-pp.log', '/index.html?pp-one-write')
    check(line.startswith('198.51.100.9 '), 'log line: %r' % line)


@case('TLS without the PROXY line on a proxy_protocol listener: closed, '
      'no handshake')
def _():
    with socket.create_connection(('127.0.0.1', T['pp']), 10) as s:
        s.sendall(BioClient(s).client_hello())
        closed, secs, got = wait_closed(s, 5)
        check(closed, 'still open after 5 s')
        check(not got.startswith(b'\x16'),
              'the server went on with the handshake: %r' % got[:20])


@case('1 MiB over TLS: SHA-256 checks out')
def _():
    code, headers, body = https_get(T['tls'], '/big.bin', timeout=20)
    check(code == 200, 'status %s' % code)
    check(hashlib.sha256(body).hexdigest() == T['big_sha'],
          '%d bytes, SHA-256 differs' % len(body))


@case('a slow reader of 1 MiB (small receive buffer, 8 KiB reads with '
      'pauses) gets every byte')
def _():
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    raw.settimeout(10)
    raw.connect(('127.0.0.1', T['tls']))
    with client_ctx().wrap_socket(raw, server_hostname=HOSTNAME) as s:
        s.sendall(request('/big.bin'))
        deadline = time.monotonic() + 30
        buf = b''
        n = 0
        while time.monotonic() < deadline:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                data = s.recv(8192)
            except ssl.SSLZeroReturnError:
                break
            if not data:
                break
            buf += data
            n += 1
            if n % 8 == 0:
                time.sleep(0.01)
    code, _, body = parse_response(buf)
    check(code == 200, 'status %s' % code)
    check(len(body) == len(T['big']) and
          hashlib.sha256(body).hexdigest() == T['big_sha'],
          '%d bytes of %d, or not the same bytes' % (len(body), len(T['big'])))


@case('a reset (SO_LINGER 0) in the middle of a 1 MiB download: the '
      'server stays up, no worker dies')
def _():
    workers = S.workers()
    for _ in range(3):
        raw = socket.create_connection(('127.0.0.1', T['tls']), 10)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        s = client_ctx().wrap_socket(raw, server_hostname=HOSTNAME)
        s.sendall(request('/big.bin'))
        got = 0
        s.settimeout(5)
        while got < 128 * 1024:
            data = s.recv(65536)
            check(data, 'closed after %d bytes' % got)
            got += len(data)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack('ii', 1, 0))
        s.close()
    time.sleep(0.3)
    still_serves()
    check(S.workers() == workers,
          'workers %s, before %s' % (S.workers(), workers))


@case('renegotiation (openssl s_client -tls1_2, "R") is refused; the '
      'server stays up')
def _():
    env = dict(os.environ, OPENSSL_CONF=os.path.join(T['dir'], 'empty.cnf'))
    p = subprocess.Popen(
        ['openssl', 's_client', '-tls1_2', '-crlf', '-connect',
         '127.0.0.1:%d' % T['tls'], '-servername', HOSTNAME, '-CAfile', CA],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, env=env, start_new_session=True)
    out = []
    reader = threading.Thread(
        target=lambda: [out.append(l) for l in iter(p.stdout.readline, b'')],
        daemon=True)
    reader.start()

    def seen(pat, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pat, b''.join(out)):
                return True
            time.sleep(0.05)
        return False
    try:
        check(seen(rb'Verify return code: 0', 10), 'no handshake: %r'
              % b''.join(out)[-500:])
        check(seen(rb'Secure Renegotiation IS supported', 1),
              'the server does not say it supports secure renegotiation '
              '(RFC 5746)')
        p.stdin.write(b'R\n')
        p.stdin.flush()
        check(seen(rb'RENEGOTIATING', 5), 's_client did not renegotiate')
        time.sleep(0.5)
        try:
            p.stdin.write(b'GET /index.html HTTP/1.1\nHost: localhost\n'
                          b'Connection: close\n\n')
            p.stdin.flush()
        except OSError:
            pass
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            pass
        text = b''.join(out)
        after = text[text.find(b'RENEGOTIATING'):]
        check(b'HTTP/1.1 200' not in after,
              'renegotiated and served: %r' % after[:300])
        check(p.poll() is not None, 'the connection is still open 5 s '
              'after a renegotiation attempt')
        diag('s_client: %s' % after.decode('latin-1').strip()[:200])
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        p.wait()
    still_serves()


@case('%d handshakes at once against 2 workers: all done within 10 s'
      % CONCURRENT)
def _():
    before = totals()
    ctx = client_ctx()
    sel = selectors.DefaultSelector()
    conns = []
    errors = []
    done = []
    t0 = time.monotonic()
    deadline = t0 + 10

    def step(c):
        try:
            c['sock'].do_handshake()
        except ssl.SSLWantReadError:
            sel.modify(c['sock'], selectors.EVENT_READ, c)
        except ssl.SSLWantWriteError:
            sel.modify(c['sock'], selectors.EVENT_WRITE, c)
        except (ssl.SSLError, OSError) as e:
            sel.unregister(c['sock'])
            c['sock'].close()
            errors.append('%d: %s' % (c['i'], e))
        else:
            sel.unregister(c['sock'])
            c['t'] = time.monotonic() - t0
            done.append(c)

    for i in range(CONCURRENT):
        s = socket.socket()
        s.setblocking(False)
        err = s.connect_ex(('127.0.0.1', T['tls']))
        if err not in (0, errno.EINPROGRESS):
            errors.append('%d: connect: %s' % (i, os.strerror(err)))
            s.close()
            continue
        c = {'i': i, 'sock': s, 'state': 'connect'}
        conns.append(c)
        sel.register(s, selectors.EVENT_WRITE, c)
    try:
        while sel.get_map() and time.monotonic() < deadline:
            for key, _ in sel.select(min(0.5, deadline - time.monotonic())):
                c = key.data
                if c['state'] == 'connect':
                    sel.unregister(c['sock'])
                    err = c['sock'].getsockopt(socket.SOL_SOCKET,
                                               socket.SO_ERROR)
                    if err:
                        errors.append('%d: connect: %s'
                                      % (c['i'], os.strerror(err)))
                        c['sock'].close()
                        continue
                    c['sock'] = ctx.wrap_socket(
                        c['sock'], server_hostname=HOSTNAME,
                        do_handshake_on_connect=False)
                    c['state'] = 'tls'
                    sel.register(c['sock'], selectors.EVENT_WRITE, c)
                step(c)
        left = len(sel.get_map())
    finally:
        for c in conns:
            try:
                c['sock'].close()
            except OSError:
                pass
        sel.close()
    secs = time.monotonic() - t0
    diag('%d handshakes done in %.2f s, %d errors, %d unfinished'
         % (len(done), secs, len(errors), left))
    check(not errors, '%d failed: %s' % (len(errors), '; '.join(errors[:5])))
    check(len(done) == CONCURRENT, 'only %d of %d within 10 s'
          % (len(done), CONCURRENT))
    after = totals_when(lambda t: t['tls_handshakes']
                        >= before['tls_handshakes'] + CONCURRENT)
    check(after['tls_handshakes'] - before['tls_handshakes'] >= CONCURRENT,
          'tls_handshakes +%d, not +%d'
          % (after['tls_handshakes'] - before['tls_handshakes'], CONCURRENT))
    still_serves()


def workers_cpu_seconds():
    ticks = 0
    for pid in S.workers():
        fields = read('/proc/%d/stat' % pid).rsplit(')', 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf('SC_CLK_TCK')


@case('the Finished and two pipelined requests in one write: both are '
      'answered (what OpenSSL read ahead is not left waiting for an event)')
def _():
    with socket.create_connection(('127.0.0.1', T['tls']), 10) as s:
        c = BioClient(s)
        c.handshake(send_finished=False)
        # Two writes: two records, after the Finished, in one segment.
        c.obj.write(('GET /index.html HTTP/1.1\r\nHost: %s\r\n\r\n'
                     % HOSTNAME).encode())
        c.obj.write(request('/index.html'))
        c.flush()
        raw = c.read_to_close()
    heads = re.findall(rb'HTTP/1\.1 (\d{3})', raw)
    check(heads == [b'200', b'200'], 'answers %r' % heads)
    check(raw.count(T['index']) == 2, 'two bodies in %d bytes' % len(raw))


@case('a WebSocket upgrade and a ping in two records of one segment: '
      'the 101, then the pong (what was read with the upgrade goes to the tunnel)')
def _():
    with socket.create_connection(('127.0.0.1', T['tls']), 10) as s:
        c = BioClient(s)
        c.handshake()
        c.obj.write(('GET /chat HTTP/1.1\r\nHost: %s\r\n'
                     'Upgrade: websocket\r\nConnection: Upgrade\r\n'
                     'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'
                     'Sec-WebSocket-Version: 13\r\n\r\n'
                     % HOSTNAME).encode())
        mask = b'\x01\x02\x03\x04'
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(b'abc'))
        c.obj.write(b'\x89\x83' + mask + payload)   # a masked ping
        c.flush()
        deadline = time.monotonic() + 3
        buf = b''
        while b'\x8a\x03abc' not in buf and time.monotonic() < deadline:
            try:
                buf += c.obj.read(65536)
            except ssl.SSLWantReadError:
                try:
                    if not c._fill(deadline):
                        break
                except Fail:
                    break
    check(buf.startswith(b'HTTP/1.1 101'), 'answer %r' % buf[:40])
    check(b'\x8a\x03abc' in buf, 'no pong within 3 s: %r' % buf[-40:])


@case('a request record cut in two with 1 s between: answered, and the '
      'workers do not spin on the half record meanwhile')
def _():
    with socket.create_connection(('127.0.0.1', T['tls']), 10) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c = BioClient(s)
        c.handshake()
        c.obj.write(request('/index.html'))
        record = c.out.read()
        s.sendall(record[:len(record) // 2])
        time.sleep(0.2)
        cpu0 = workers_cpu_seconds()
        time.sleep(1)
        cpu = workers_cpu_seconds() - cpu0
        s.sendall(record[len(record) // 2:])
        code, _, body = parse_response(c.read_to_close())
    check(code == 200 and body == T['index'], 'GET: %s' % code)
    check(cpu < 0.5, 'workers used %.2f s of CPU in the 1 s wait' % cpu)


@case('kTLS: a 1 MiB download goes through kTLS (tls_ktls grows)')
def _():
    try:
        ulp = read('/proc/sys/net/ipv4/tcp_available_ulp')
    except OSError:
        ulp = ''
    if not re.search(r'\btls\b', ulp):
        raise Skip('the kernel has no tls ULP '
                   '(/proc/sys/net/ipv4/tcp_available_ulp: %s)'
                   % (ulp.strip() or 'empty'))
    before = totals()
    code, _, body = https_get(T['tls'], '/big.bin', timeout=20)
    check(code == 200 and hashlib.sha256(body).hexdigest() == T['big_sha'],
          'download: %s' % code)
    after = totals_when(lambda t: t['tls_ktls'] > before['tls_ktls'])
    check(after['tls_ktls'] > before['tls_ktls'],
          'tls_ktls stays %d' % after['tls_ktls'])


def read_one(sock, buf, timeout):
    """One response with a Content-Length off a keep-alive connection:
    (status, body, rest of buf)."""
    deadline = time.monotonic() + timeout
    while True:
        head, sep, rest = buf.partition(b'\r\n\r\n')
        if sep:
            m = re.search(rb'(?im)^content-length:\s*(\d+)', head)
            n = int(m.group(1)) if m else 0
            if len(rest) >= n:
                status = int(head.split(b' ', 2)[1])
                return status, rest[:n], rest[n:]
        left = deadline - time.monotonic()
        if left <= 0:
            raise Fail('no whole response within %ss: %r' % (timeout, buf[:100]))
        sock.settimeout(left)
        data = sock.recv(65536)
        if not data:
            raise Fail('closed before a whole response: %r' % buf[:100])
        buf += data


@case('HUP with a TLS request in progress and an idle TLS keep-alive '
      'connection: the request is finished, the old workers exit')
def _():
    old = S.workers()
    ka = ('GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n').encode()
    ctx = client_ctx()
    idle = ctx.wrap_socket(socket.create_connection(('127.0.0.1', T['tls']),
                                                    10),
                           server_hostname=HOSTNAME)
    busy = ctx.wrap_socket(socket.create_connection(('127.0.0.1', T['tls']),
                                                    10),
                           server_hostname=HOSTNAME)
    try:
        idle.sendall(ka)
        code, body, _ = read_one(idle, b'', 5)
        check(code == 200, 'keep-alive request: %s' % code)
        # A quick request and a slow one pipelined; once the quick one
        # is answered, the slow one is in the worker's hands.
        busy.sendall(ka + request('/delay/1500'))
        code, _, rest = read_one(busy, b'', 5)
        check(code == 200, 'first pipelined request: %s' % code)
        S.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 15
        new = []
        while time.monotonic() < deadline:
            new = S.workers()
            if len(new) == 2 and not set(new) & set(old):
                break
            time.sleep(0.05)
        check(len(new) == 2 and not set(new) & set(old),
              'workers %s after the HUP, before %s' % (new, old))
        STATE['workers'] = new
        code, _, body = parse_response(rest + recv_all(busy, 10))
        check(code == 200, 'the request in progress: %s' % code)
        closed, secs, got = wait_closed(idle, 5)
        check(closed, 'the idle keep-alive connection is still open')
    finally:
        idle.close()
        busy.close()
    still_serves()


@case('after all this: the same workers (those of the reload), and the '
      'server answers')
def _():
    check(S.alive(), 'the master exited')
    check(S.workers() == STATE['workers'],
          'workers now %s, at the start %s' % (S.workers(), STATE['workers']))
    still_serves()
    st = status()
    pids = sorted(w['pid'] for w in st['workers'])
    check(pids == STATE['workers'], '/status workers %s' % pids)


@case('after all this: no alert, crit or emerg in the error log, no worker '
      'died of a signal')
def _():
    bad = [l for l in S.error_log().splitlines()
           if re.search(r'\[(alert|crit|emerg)\]', l)
           or re.search(r'(killed by|exited on|died of) signal|core dump'
                        r'|Sanitizer|runtime error:', l, re.I)]
    check(not bad, '\n'.join(bad[:10]))


@case('stop: QUIT, exit status 0, no worker left')
def _():
    workers = S.workers()
    status_ = S.stop()
    check(status_ == 0, 'exit status %s' % status_)
    time.sleep(0.2)
    left = [w for w in workers if os.path.exists('/proc/%d' % w)
            and proc_state(w) not in 'ZX']
    check(not left, 'workers left: %s' % left)


def proc_state(pid):
    s = read('/proc/%d/stat' % pid)
    return s[s.rfind(')') + 2:][:1] if s else 'X'


###########################################################################

def main():
    global S, CA
    print('1..%d' % len(CASES))
    sys.stdout.flush()

    if not (os.path.isfile(BIN) and os.access(BIN, os.X_OK)):
        print('Bail out! forkloop binary not found or not executable: %s '
              '(set FORKLOOP_BIN)' % BIN)
        return 1
    if shutil.which('openssl') is None:
        for i, (name, _) in enumerate(CASES, 1):
            print('ok %d # SKIP openssl is missing (Debian package '
                  'openssl)' % i)
        return 0

    # 1,000 clients and the server's share of them need descriptors.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 4 * CONCURRENT
    if soft < want and (hard == resource.RLIM_INFINITY or hard > soft):
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (want if hard == resource.RLIM_INFINITY
                            else min(want, hard), hard))

    tmp = tempfile.mkdtemp(prefix='forkloop-tls-hostile-')
    keep = os.environ.get('FORKLOOP_KEEP')
    if keep:
        diag('test directory: %s' % tmp)

    def on_signal(signum, frame):
        diag('caught signal %d; killing the server' % signum)
        if S:
            S.kill()
        os._exit(1)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    def on_alarm(signum, frame):
        print('Bail out! watchdog: still running after %ds' % WATCHDOG)
        sys.stdout.flush()
        if S:
            S.kill()
        os._exit(1)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(WATCHDOG)

    try:
        make_certs(tmp)
        CA = os.path.join(tmp, 'ca.pem')
        www = os.path.join(tmp, 'www')
        os.makedirs(www)
        T['index'] = b'<!doctype html>\n<title>tls_hostile.py</title>\n'
        big = random.Random(1).randbytes(1024 * 1024)
        T['big_sha'] = hashlib.sha256(big).hexdigest()
        T['big'] = big
        with open(os.path.join(www, 'index.html'), 'wb') as f:
            f.write(T['index'])
        with open(os.path.join(www, 'big.bin'), 'wb') as f:
            f.write(big)
        T.update(dir=tmp, tls=free_port(), slow=free_port(), pp=free_port(),
                 plain=free_port(), chat=free_port())
        cert = ('    ssl_certificate %s/leaf.pem;\n'
                '    ssl_certificate_key %s/leaf.key;\n' % (tmp, tmp))
        S = Server(tmp, """workers 2;
worker_connections 4096;
shutdown_timeout 5s;

http {
    listen 127.0.0.1:%(tls)d ssl;
    server_name localhost;
%(cert)s    root %(www)s;
    access_log %(dir)s/access.log combined_ssl;
    route /delay/ delay;
    websocket /chat 127.0.0.1:%(chat)d;
}

chat {
    listen 127.0.0.1:%(chat)d;
}

http {
    listen 127.0.0.1:%(slow)d ssl;
    server_name localhost;
%(cert)s    ssl_handshake_timeout 1s;
    root %(www)s;
}

http {
    listen 127.0.0.1:%(pp)d ssl proxy_protocol;
    server_name localhost;
%(cert)s    root %(www)s;
    access_log %(dir)s/access-pp.log combined_ssl;
}

http {
    listen 127.0.0.1:%(plain)d;
    root %(www)s;
    route /status status;
}
""" % dict(T, cert=cert, www=www))
        try:
            S.start()
            STATE['workers'] = S.wait_workers(2)
            if len(STATE['workers']) != 2:
                raise Fail('workers: %s' % STATE['workers'])
        except Exception as e:
            for i, (name, _) in enumerate(CASES, 1):
                print('not ok %d - %s' % (i, name))
            diag('forkloop did not start: %s' % e)
            return 1

        failed = 0
        for i, (name, fn) in enumerate(CASES, 1):
            try:
                fn()
                print('ok %d - %s' % (i, name))
            except Skip as e:
                print('ok %d - %s # SKIP %s' % (i, name, e))
            except Fail as e:
                failed += 1
                print('not ok %d - %s' % (i, name))
                diag(e)
            except Exception:
                failed += 1
                print('not ok %d - %s' % (i, name))
                diag(traceback.format_exc())
            sys.stdout.flush()
        return 1 if failed else 0
    finally:
        signal.alarm(0)
        if S:
            S.kill()
        if keep:
            diag('kept %s' % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
