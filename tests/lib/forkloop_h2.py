# forkloop_h2.py: what the HTTP/2 tests (tests/h2.py, h2_conformance.py,
# h2_abuse.py) share:
#
#  - TAP output: a plan, "ok N - name" / "not ok N - name", "# diag",
#    skips, a watchdog and signal handlers that kill every server started;
#  - Server: forkloop started from a config text on free 127.0.0.1 ports,
#    in a process group of its own, waited for (pid file and ports), and
#    stopped on every way out; its workers, their RSS, its error log;
#  - certificates for localhost, a.example and b.example (openssl);
#  - RawConn: raw HTTP/2 frames over a plain socket (prior knowledge) or
#    TLS with ALPN h2, with a small HPACK encoder of our own (so a test can
#    send what no library would: uppercase names, bad indexes, ...) and
#    the hpack module's decoder for what the server sends;
#  - H2Client: requests through Debian's python3-h2 (h2.connection), with
#    flow control, many streams at once, and GOAWAY recorded.
#
# Needs /usr/bin/python3 with python3-h2 and python3-hpack: imported by a
# test file run by another python3, it runs that file again with Debian's
# (else the file prints a TAP skip and ends).

import os
import sys

# tests/h2.py is a test, not the h2 package: "import h2" must not find it.
TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path = [p for p in sys.path if os.path.abspath(p or '.') != TESTS]

try:
    import h2  # noqa: F401
    import hpack  # noqa: F401
except ImportError:
    if os.path.realpath(sys.executable) != os.path.realpath(
            '/usr/bin/python3') and os.access('/usr/bin/python3', os.X_OK) \
            and not os.environ.get('FORKLOOP_H2_REEXEC'):
        os.environ['FORKLOOP_H2_REEXEC'] = '1'
        os.execv('/usr/bin/python3', ['/usr/bin/python3'] + sys.argv)
    print('1..0 # SKIP python3-h2 and python3-hpack are needed '
          '(Debian packages python3-h2, python3-hpack)')
    sys.exit(0)

import copy
import json
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import tempfile
import time
import traceback

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings
import hpack

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.abspath(os.environ.get('FORKLOOP_BIN')
                      or os.path.join(HERE, '..', 'forkloop'))


###########################################################################
# TAP.

class Fail(Exception):
    pass


class Skip(Exception):
    pass


def diag(msg):
    for line in str(msg).splitlines() or ['']:
        print('# ' + line)
    sys.stdout.flush()


def check(cond, msg):
    if not cond:
        raise Fail(msg)


SERVERS = []        # every Server started, killed on every way out


def kill_all():
    for s in SERVERS:
        s.kill()


class Suite:
    """Cases registered in order, run one after another; a case passes
    unless it raises.  run() prints the plan first, so a crash in the
    setup still leaves a whole TAP stream behind."""

    def __init__(self, name, watchdog):
        self.name = name
        self.watchdog = watchdog
        self.cases = []
        self.dir = None

    def case(self, name):
        def reg(fn):
            self.cases.append((name, fn))
            return fn
        return reg

    def add(self, name, fn):
        self.cases.append((name, fn))

    def run(self, setup):
        print('1..%d' % len(self.cases))
        sys.stdout.flush()
        if not (os.path.isfile(BIN) and os.access(BIN, os.X_OK)):
            print('Bail out! forkloop binary not found or not executable: '
                  '%s (set FORKLOOP_BIN)' % BIN)
            return 1

        def on_signal(signum, frame):
            diag('caught signal %d; killing the servers' % signum)
            kill_all()
            os._exit(1)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, on_signal)

        def on_alarm(signum, frame):
            print('Bail out! watchdog: %s still running after %ds'
                  % (self.name, self.watchdog))
            sys.stdout.flush()
            kill_all()
            os._exit(1)
        signal.signal(signal.SIGALRM, on_alarm)
        signal.alarm(self.watchdog)

        self.dir = tempfile.mkdtemp(prefix='forkloop-%s-' % self.name)
        keep = os.environ.get('FORKLOOP_KEEP')
        if keep:
            diag('test directory: %s' % self.dir)
        t0 = time.monotonic()
        try:
            try:
                setup(self.dir)
            except Exception as e:
                for i, (name, _) in enumerate(self.cases, 1):
                    print('not ok %d - %s' % (i, name))
                diag('setup failed: %s' % (e if isinstance(e, Fail)
                                          else traceback.format_exc()))
                return 1
            failed = 0
            for i, (name, fn) in enumerate(self.cases, 1):
                t1 = time.monotonic()
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
                if time.monotonic() - t1 > 5:
                    diag('(that case took %.1f s)' % (time.monotonic() - t1))
                sys.stdout.flush()
            diag('%s: %d cases, %d failed, %.1f s'
                 % (self.name, len(self.cases), failed,
                    time.monotonic() - t0))
            return 1 if failed else 0
        finally:
            signal.alarm(0)
            kill_all()
            if keep:
                diag('kept %s' % self.dir)
            else:
                shutil.rmtree(self.dir, ignore_errors=True)


###########################################################################
# The server.

def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def read(path):
    try:
        with open(path, 'rb') as f:
            return f.read().decode('utf-8', 'replace')
    except OSError:
        return ''


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


def proc_status(pid, field):
    """A kB field of /proc/PID/status (VmRSS, VmHWM), or None."""
    m = re.search(r'^%s:\s+(\d+)\s+kB' % field,
                  read('/proc/%d/status' % pid), re.M)
    return int(m.group(1)) if m else None


def reset_hwm(pid):
    """Resets VmHWM (the peak RSS) of pid to its RSS (clear_refs 5)."""
    try:
        with open('/proc/%d/clear_refs' % pid, 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


class Server:
    def __init__(self, tmp, config, name='forkloop'):
        self.dir = tmp
        self.conf = os.path.join(tmp, name + '.conf')
        self.pidfile = os.path.join(tmp, name + '.pid')
        self.errlog = os.path.join(tmp, name + '-error.log')
        self.stderr = os.path.join(tmp, name + '-stderr.log')
        self.proc = None
        text = ('pid %s;\nerror_log %s info;\ndaemon off;\n'
                % (self.pidfile, self.errlog)) + config
        with open(self.conf, 'w') as f:
            f.write(text)
        self.ports = sorted(set(int(p) for p in re.findall(
            r'^\s*listen\s+127\.0\.0\.1:(\d+)', text, re.M)))
        SERVERS.append(self)

    def start(self, timeout=10, workers=None):
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
            if self.ready() and (workers is None
                                 or len(self.workers()) == workers):
                return self.workers()
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

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def workers(self):
        return proc_children(self.proc.pid) if self.alive() else []

    def wait_workers(self, cond, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            w = self.workers()
            if cond(w) or time.monotonic() >= deadline:
                return w
            time.sleep(0.05)

    def signal(self, sig):
        self.proc.send_signal(sig)

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

    def bad_log_lines(self):
        """Lines of the error log that say a worker died or something
        went badly wrong."""
        return [l for l in self.error_log().splitlines()
                if re.search(r'\[(alert|crit|emerg)\]', l)
                or re.search(r'signal \d|(killed by|exited on|died of|on) '
                             r'signal|core dump|Sanitizer|runtime error:',
                             l, re.I)]


###########################################################################
# Certificates: a root CA and one leaf for localhost, a.example, b.example.

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
subjectAltName = DNS:localhost,DNS:a.example,DNS:b.example,IP:127.0.0.1
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
    """Writes ca.pem, leaf.pem, leaf.key into d; returns their paths."""
    if shutil.which('openssl') is None:
        raise Fail('openssl is missing (Debian package openssl)')
    with open(os.path.join(d, 'x509.cnf'), 'w') as f:
        f.write(OPENSSL_CNF)
    open(os.path.join(d, 'empty.cnf'), 'w').close()
    ec = ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']
    openssl('genpkey', *ec, '-out', 'ca.key', cwd=d)
    openssl('req', '-new', '-x509', '-key', 'ca.key', '-subj',
            '/CN=forkloop h2 test root', '-days', '3', '-config',
            'x509.cnf', '-extensions', 'v3_ca', '-out', 'ca.pem', cwd=d)
    openssl('genpkey', *ec, '-out', 'leaf.key', cwd=d)
    openssl('req', '-new', '-key', 'leaf.key', '-subj', '/CN=localhost',
            '-config', 'x509.cnf', '-out', 'leaf.csr', cwd=d)
    openssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey',
            'ca.key', '-set_serial', str(int(time.time())), '-days', '3',
            '-extfile', 'x509.cnf', '-extensions', 'v3_leaf',
            '-out', 'leaf.pem', cwd=d)
    return tuple(os.path.join(d, n) for n in ('ca.pem', 'leaf.pem',
                                             'leaf.key'))


def tls_context(alpn=('h2', 'http/1.1'), ca=None):
    if ca:
        ctx = ssl.create_default_context(cafile=ca)
    else:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    return ctx


def connect(port, tls=False, alpn=('h2',), hostname='localhost',
            timeout=5, rcvbuf=None, ca=None):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    try:
        s.connect(('127.0.0.1', port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls:
            s = tls_context(alpn, ca).wrap_socket(s, server_hostname=hostname)
    except Exception:
        s.close()
        raise
    return s


###########################################################################
# HTTP/2 constants (RFC 9113 6, 7, 11).

DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, \
    GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
FRAME_NAMES = ['DATA', 'HEADERS', 'PRIORITY', 'RST_STREAM', 'SETTINGS',
               'PUSH_PROMISE', 'PING', 'GOAWAY', 'WINDOW_UPDATE',
               'CONTINUATION']
END_STREAM = ACK = 0x1
END_HEADERS = 0x4
PADDED = 0x8
PRIORITY_FLAG = 0x20

NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR, \
    SETTINGS_TIMEOUT, STREAM_CLOSED, FRAME_SIZE_ERROR, REFUSED_STREAM, \
    CANCEL, COMPRESSION_ERROR, CONNECT_ERROR, ENHANCE_YOUR_CALM, \
    INADEQUATE_SECURITY, HTTP_1_1_REQUIRED = range(14)
ERROR_NAMES = ['NO_ERROR', 'PROTOCOL_ERROR', 'INTERNAL_ERROR',
               'FLOW_CONTROL_ERROR', 'SETTINGS_TIMEOUT', 'STREAM_CLOSED',
               'FRAME_SIZE_ERROR', 'REFUSED_STREAM', 'CANCEL',
               'COMPRESSION_ERROR', 'CONNECT_ERROR', 'ENHANCE_YOUR_CALM',
               'INADEQUATE_SECURITY', 'HTTP_1_1_REQUIRED']

HEADER_TABLE_SIZE, ENABLE_PUSH, MAX_CONCURRENT_STREAMS, \
    INITIAL_WINDOW_SIZE, MAX_FRAME_SIZE, MAX_HEADER_LIST_SIZE = range(1, 7)
SETTING_NAMES = {1: 'HEADER_TABLE_SIZE', 2: 'ENABLE_PUSH',
                 3: 'MAX_CONCURRENT_STREAMS', 4: 'INITIAL_WINDOW_SIZE',
                 5: 'MAX_FRAME_SIZE', 6: 'MAX_HEADER_LIST_SIZE',
                 8: 'ENABLE_CONNECT_PROTOCOL', 9: 'NO_RFC7540_PRIORITIES'}

PREFACE = b'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'


def error_name(code):
    return (ERROR_NAMES[code] if 0 <= code < len(ERROR_NAMES)
            else '0x%x' % code)


def frame(ftype, flags, sid, payload=b''):
    """One frame: 24-bit length, type, flags, 31-bit stream id (RFC 9113
    4.1); sid may carry the reserved bit on purpose."""
    return struct.pack('>I', len(payload))[1:] + struct.pack(
        '>BBI', ftype, flags, sid) + payload


def settings(*pairs, ack=False):
    return frame(SETTINGS, ACK if ack else 0, 0,
                 b''.join(struct.pack('>HI', k, v) for k, v in pairs))


def ping(data=b'12345678', ack=False):
    return frame(PING, ACK if ack else 0, 0, data)


def rst_stream(sid, code):
    return frame(RST_STREAM, 0, sid, struct.pack('>I', code))


def window_update(sid, increment):
    return frame(WINDOW_UPDATE, 0, sid, struct.pack('>I', increment))


def goaway(last_sid, code, debug=b''):
    return frame(GOAWAY, 0, 0, struct.pack('>II', last_sid, code) + debug)


def priority(sid, dep, weight=16, exclusive=False):
    return frame(PRIORITY, 0, sid, struct.pack(
        '>IB', dep | (0x80000000 if exclusive else 0), weight - 1))


def data_frame(sid, payload, end_stream=False, pad=None):
    flags = END_STREAM if end_stream else 0
    if pad is not None:
        flags |= PADDED
        payload = bytes([pad]) + payload + b'\0' * pad
    return frame(DATA, flags, sid, payload)


def headers_frame(sid, block, end_stream=True, end_headers=True,
                  pad=None, dep=None, weight=16, exclusive=False):
    flags = (END_STREAM if end_stream else 0) | \
        (END_HEADERS if end_headers else 0)
    payload = block
    if dep is not None:
        flags |= PRIORITY_FLAG
        payload = struct.pack('>IB', dep | (0x80000000 if exclusive else 0),
                              weight - 1) + payload
    if pad is not None:
        flags |= PADDED
        payload = bytes([pad]) + payload + b'\0' * pad
    return frame(HEADERS, flags, sid, payload)


def continuation(sid, block, end_headers=True):
    return frame(CONTINUATION, END_HEADERS if end_headers else 0, sid, block)


###########################################################################
# HPACK, the encoding side, by hand (RFC 7541 5, 6): no Huffman, so every
# byte a test puts in a name or value reaches the server as it is.

def hp_int(value, prefix_bits, first=0):
    """An integer with an N-bit prefix; first holds the bits above it."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out = [first | limit]
    value -= limit
    while value >= 128:
        out.append((value & 0x7f) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def hp_str(s):
    s = s.encode('latin-1') if isinstance(s, str) else s
    return hp_int(len(s), 7) + s


def hp_indexed(index):
    """6.1: an indexed field."""
    return hp_int(index, 7, 0x80)


def hp_literal(name, value, index=False, name_index=None):
    """6.2.1 (index=True, incremental indexing) or 6.2.2 (without
    indexing); the name literal, or from the table at name_index."""
    first, bits = (0x40, 6) if index else (0x00, 4)
    if name_index is not None:
        return hp_int(name_index, bits, first) + hp_str(value)
    return bytes([first]) + hp_str(name) + hp_str(value)


def hp_size_update(size):
    """6.3: a dynamic table size update."""
    return hp_int(size, 5, 0x20)


def hp_block(fields):
    return b''.join(hp_literal(k, v) for k, v in fields)


def request_fields(method='GET', path='/index.html', authority='localhost',
                   scheme='http', extra=()):
    return [(':method', method), (':scheme', scheme), (':path', path),
            (':authority', authority)] + list(extra)


def request_block(*args, **kw):
    return hp_block(request_fields(*args, **kw))


###########################################################################
# A raw HTTP/2 connection.

class Closed(Exception):
    pass


class Frame:
    def __init__(self, ftype, flags, sid, payload):
        self.type = ftype
        self.flags = flags
        self.sid = sid
        self.payload = payload
        self.headers = None     # decoded, for HEADERS

    def __repr__(self):
        return describe_frame(self)


def describe_frame(f):
    name = (FRAME_NAMES[f.type] if f.type < len(FRAME_NAMES)
            else 'type 0x%x' % f.type)
    extra = ''
    if f.type == GOAWAY and len(f.payload) >= 8:
        last, code = struct.unpack('>II', f.payload[:8])
        extra = ' %s last_stream_id=%d debug=%r' % (
            error_name(code), last & 0x7fffffff, f.payload[8:80])
    elif f.type == RST_STREAM and len(f.payload) == 4:
        extra = ' ' + error_name(struct.unpack('>I', f.payload)[0])
    elif f.type == SETTINGS:
        extra = ' ' + ' '.join(
            '%s=%d' % (SETTING_NAMES.get(k, k), v) for k, v in
            parse_settings(f.payload)) if not f.flags & ACK else ' ACK'
    elif f.type == HEADERS and f.headers is not None:
        extra = ' ' + ' '.join('%s: %s' % (k, v[:40]) for k, v in f.headers
                               if k in (':status', 'content-length'))
    elif f.type == WINDOW_UPDATE and len(f.payload) == 4:
        extra = ' +%d' % struct.unpack('>I', f.payload)[0]
    elif f.type == PING:
        extra = '%s %r' % (' ACK' if f.flags & ACK else '', f.payload)
    elif f.type == DATA:
        extra = ' %d bytes' % len(f.payload)
    if f.type in (DATA, HEADERS) and f.flags & END_STREAM:
        extra += ' END_STREAM'
    return '%s(stream %d, flags 0x%x, %d bytes%s)' % (
        name, f.sid, f.flags, len(f.payload), extra)


def parse_settings(payload):
    return [struct.unpack('>HI', payload[i:i + 6])
            for i in range(0, len(payload) - len(payload) % 6, 6)]


class RawConn:
    """One client connection that sends whatever bytes a test builds and
    reads the server's frames one by one."""

    def __init__(self, port, tls=False, alpn=('h2',), hostname='localhost',
                 timeout=5, rcvbuf=None):
        self.sock = connect(port, tls, alpn, hostname, timeout, rcvbuf)
        self.tls = tls
        self.alpn = self.sock.selected_alpn_protocol() if tls else None
        self.buf = b''
        self.pos = 0
        self.nframes = 0
        self.decoder = hpack.Decoder()
        self.server_settings = {}
        self.log = []           # every frame received, for messages
        self.eof = None         # why the connection ended, once it did
        self.last_goaway = None
        self.streams = {}       # sid -> Outcome, what each stream got

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def send(self, data):
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError) as e:
            # The server may already have closed after an error; what it
            # sent before is still to be read.
            self.send_error = e

    def recv_frame(self, timeout):
        """The next frame, None on timeout; raises Closed at the end."""
        deadline = time.monotonic() + timeout
        while True:
            buf, pos = self.buf, self.pos
            if len(buf) - pos >= 9:
                n = int.from_bytes(buf[pos:pos + 3], 'big')
                if len(buf) - pos >= 9 + n:
                    ftype, flags, sid = struct.unpack_from('>BBI', buf,
                                                           pos + 3)
                    f = Frame(ftype, flags, sid & 0x7fffffff,
                              bytes(buf[pos + 9:pos + 9 + n]))
                    self.pos = pos + 9 + n
                    self.nframes += 1
                    if len(self.log) < 1000:
                        self.log.append(f)
                    return f
            if self.eof:
                raise Closed(self.eof)
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(262144)
            except (socket.timeout, ssl.SSLWantReadError):
                return None
            except (ConnectionResetError, BrokenPipeError) as e:
                self.eof = 'reset (%s)' % e.__class__.__name__
                continue
            except ssl.SSLError as e:
                self.eof = 'TLS error %s' % e
                continue
            if not data:
                self.eof = 'closed'
                continue
            self.buf = self.buf[self.pos:] + data
            self.pos = 0

    def read_event(self, timeout):
        """A frame as recv_frame, but a header block (HEADERS and its
        CONTINUATIONs) comes back as one HEADERS frame, decoded."""
        f = self.recv_frame(timeout)
        if f is None or f.type not in (HEADERS, PUSH_PROMISE):
            return f
        block = headers_payload(f)
        while not f.flags & END_HEADERS:
            c = self.recv_frame(max(timeout, 2))
            check(c is not None and c.type == CONTINUATION and c.sid == f.sid,
                  'the server broke a header block with %r' % c)
            block += c.payload
            if c.flags & END_HEADERS:
                f.flags |= END_HEADERS
        try:
            f.headers = [(k.decode('latin-1'), v.decode('latin-1'))
                         for k, v in self.decoder.decode(block, raw=True)]
        except Exception as e:
            raise Fail('the server sent a header block HPACK cannot '
                       'decode (%s): %r' % (e, block[:64]))
        return f

    def handshake(self, pairs=(), timeout=3, wait_ack=False):
        """Preface and our SETTINGS; the server's SETTINGS must be its
        first frame (RFC 9113 3.4); we ACK it."""
        self.send(PREFACE + settings(*pairs))
        f = self.recv_frame(timeout)
        check(f is not None, 'no SETTINGS from the server within %ss '
              'after the preface' % timeout)
        check(f.type == SETTINGS and not f.flags & ACK,
              'the first frame from the server is %r, not SETTINGS' % f)
        self.server_settings = dict(parse_settings(f.payload))
        self.send(settings(ack=True))
        if wait_ack:
            deadline = time.monotonic() + timeout
            while True:
                f = self.read_event(deadline - time.monotonic())
                check(f is not None, 'no SETTINGS ACK within %ss' % timeout)
                if f.type == SETTINGS and f.flags & ACK:
                    break
        return self.server_settings

    def max_frame_size(self):
        return self.server_settings.get(MAX_FRAME_SIZE, 16384)

    def track(self, f):
        """Keeps what each stream got, whichever call read it."""
        if f.sid == 0 or f.type not in (HEADERS, DATA, RST_STREAM):
            return
        st = self.streams.get(f.sid)
        if st is None:
            st = self.streams[f.sid] = Outcome()
        st.frames.append(f)
        if f.type == RST_STREAM:
            st.kind = 'rst'
            st.code = struct.unpack('>I', f.payload[:4])[0] \
                if len(f.payload) >= 4 else None
            return
        if f.type == HEADERS:
            status = None
            for k, v in f.headers:
                if k == ':status':
                    status = int(v)
            if status is not None and st.final is None:
                if st.status is None or status >= 200:
                    st.status = status
                    st.headers = f.headers
                if status >= 200:
                    st.final = status
            elif st.final is not None:
                st.trailers = f.headers
        elif f.type == DATA:
            st.body += data_payload(f)
        if f.flags & END_STREAM and st.kind is None:
            st.kind = 'response'

    def outcome(self, sid, timeout=2.0, sentinel=None):
        """Reads until something decides the fate of stream sid (0: of
        the connection): its response ends, it is reset, a GOAWAY comes,
        the connection ends, or timeout.  Answers the server's PINGs and
        SETTINGS and opens the windows for what it receives.  If sentinel
        (a PING payload we sent after the frames under test) is acked,
        the server has read everything: we wait only 0.5 s more."""
        r = Outcome()
        deadline = time.monotonic() + timeout
        while True:
            st = self.streams.get(sid) if sid else None
            if st is not None and st.kind is not None:
                res = copy.copy(st)
                res.frames = [f for f in st.frames if f not in r.frames] \
                    + r.frames
                res.ping_acked = r.ping_acked
                return res
            if self.last_goaway is not None and (
                    sid == 0 or goaway_fields(self.last_goaway)[0]
                    != NO_ERROR or self.eof):
                r.kind = 'goaway'
                r.code, r.last_sid = goaway_fields(self.last_goaway)
                r.goaway_frame = self.last_goaway
                self.merge(r, st)
                return r
            left = deadline - time.monotonic()
            if left <= 0:
                r.kind = 'timeout'
                self.merge(r, st)
                return r
            try:
                f = self.read_event(left)
            except Closed as e:
                r.kind = 'closed'
                r.why = str(e)
                self.merge(r, st)
                return r
            if f is None:
                r.kind = 'timeout'
                self.merge(r, st)
                return r
            r.frames.append(f)
            self.track(f)
            if f.type == GOAWAY:
                self.last_goaway = f
            elif f.type == PING and not f.flags & ACK:
                self.send(ping(f.payload, ack=True))
            elif f.type == PING and sentinel and f.payload == sentinel:
                r.ping_acked = True
                deadline = min(deadline, time.monotonic() + 0.5)
            elif f.type == SETTINGS and not f.flags & ACK:
                self.send(settings(ack=True))
            elif f.type == DATA and f.payload:
                self.send(window_update(0, len(f.payload)))
                if not f.flags & END_STREAM:
                    self.send(window_update(f.sid, len(f.payload)))

    @staticmethod
    def merge(r, st):
        """What stream st got so far, into the outcome r."""
        if st is None:
            return
        r.status, r.final, r.headers = st.status, st.final, st.headers
        r.body, r.trailers = st.body, st.trailers

    def request(self, sid, path='/index.html', method='GET', extra=(),
                body=None, authority='localhost', timeout=5):
        """A whole request on stream sid; the Outcome of it."""
        scheme = 'https' if self.tls else 'http'
        block = request_block(method, path, authority, scheme, extra)
        self.send(headers_frame(sid, block, end_stream=body is None))
        if body is not None:
            step = self.max_frame_size()
            chunks = [body[i:i + step] for i in range(0, len(body), step)]
            self.send(b''.join(data_frame(sid, c) for c in chunks[:-1]) +
                      data_frame(sid, chunks[-1] if chunks else b'',
                                 end_stream=True))
        return self.outcome(sid, timeout)

    def alive(self, timeout=2, payload=b'alive?!!'):
        """True if the connection still answers a PING with its ACK."""
        self.send(ping(payload))
        deadline = time.monotonic() + timeout
        while True:
            try:
                f = self.read_event(deadline - time.monotonic())
            except Closed:
                return False
            if f is not None and f.type == GOAWAY:
                self.last_goaway = f
            if f is None or f.type == GOAWAY:
                return False
            self.track(f)
            if f.type == PING and f.flags & ACK and f.payload == payload:
                return True
            if f.type == SETTINGS and not f.flags & ACK:
                self.send(settings(ack=True))

    def wait_closed(self, timeout):
        """Reads and drops frames until the server closes: True if it
        did within timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                f = self.recv_frame(deadline - time.monotonic())
            except Closed:
                return True
            if f is not None and f.type == GOAWAY:
                self.last_goaway = f
        return False


def headers_payload(f):
    """The header block fragment of a HEADERS or PUSH_PROMISE frame."""
    p = f.payload
    pad = 0
    if f.flags & PADDED:
        pad = p[0]
        p = p[1:]
    if f.type == HEADERS and f.flags & PRIORITY_FLAG:
        p = p[5:]
    if f.type == PUSH_PROMISE:
        p = p[4:]
    return p[:len(p) - pad] if pad else p


def data_payload(f):
    if f.flags & PADDED and f.payload:
        pad = f.payload[0]
        return f.payload[1:len(f.payload) - pad]
    return f.payload


def goaway_fields(f):
    if len(f.payload) < 8:
        return None, None
    last, code = struct.unpack('>II', f.payload[:8])
    return code, last & 0x7fffffff


class Outcome:
    def __init__(self):
        self.kind = None        # response, rst, goaway, closed, timeout
        self.code = None        # of RST_STREAM or GOAWAY
        self.last_sid = None
        self.status = None      # first :status seen
        self.final = None
        self.headers = []
        self.trailers = None
        self.body = b''
        self.frames = []
        self.why = ''
        self.ping_acked = False
        self.goaway_frame = None

    def header(self, name):
        for k, v in self.headers:
            if k == name:
                return v
        return None

    def __str__(self):
        if self.kind == 'response':
            s = 'a response %s with %d body bytes' % (self.status,
                                                      len(self.body))
        elif self.kind == 'rst':
            s = 'RST_STREAM(%s)' % error_name(self.code)
            if self.status:
                s = 'a %s response, then %s' % (self.status, s)
        elif self.kind == 'goaway':
            s = 'GOAWAY(%s, last_stream_id=%s)' % (error_name(self.code),
                                                    self.last_sid)
            dbg = self.goaway_frame.payload[8:120] if self.goaway_frame \
                else b''
            if dbg:
                s += ' debug %r' % dbg
        elif self.kind == 'closed':
            s = 'the connection %s without a GOAWAY' % self.why
        else:
            s = 'nothing decisive within the time allowed'
            if self.ping_acked:
                s += ' (our PING after it was acknowledged: the frame ' \
                     'was accepted)'
        other = [describe_frame(f) for f in self.frames
                 if f.type not in (SETTINGS, WINDOW_UPDATE)][-6:]
        if other:
            s += '; frames: ' + ', '.join(other)
        return s


###########################################################################
# Requests through python3-h2.

class Response:
    def __init__(self, sid):
        self.sid = sid
        self.status = None
        self.headers = []
        self.body = b''
        self.trailers = None
        self.ended = False
        self.reset = None       # the error code of a RST_STREAM
        self.t_end = None

    def header(self, name):
        for k, v in self.headers:
            if k == name:
                return v
        return None

    def header_all(self, name):
        return [v for k, v in self.headers if k == name]

    def __repr__(self):
        return '<stream %d: %s, %d bytes%s>' % (
            self.sid, self.status, len(self.body),
            ', reset %s' % error_name(self.reset)
            if self.reset is not None else '')


class H2Client:
    """A client connection driven by h2.connection.H2Connection."""

    def __init__(self, port, tls=False, hostname='localhost', timeout=10,
                 local_settings=None, authority=None, alpn=('h2',)):
        self.sock = connect(port, tls, alpn, hostname, timeout)
        self.tls = tls
        self.timeout = timeout
        self.authority = authority or hostname
        if tls:
            got = self.sock.selected_alpn_protocol()
            if got != 'h2':
                self.sock.close()
                raise Fail('ALPN chose %r, not h2' % got)
        cfg = h2.config.H2Configuration(client_side=True,
                                        header_encoding='latin-1')
        self.conn = h2.connection.H2Connection(config=cfg)
        if local_settings:
            self.conn.local_settings = h2.settings.Settings(
                client=True, initial_values=local_settings)
        self.conn.initiate_connection()
        self.streams = {}
        self.pending = {}       # sid -> body bytes still to send
        self.goaways = []       # ConnectionTerminated events
        self.remote_settings = {}
        self.closed = False
        self.events = []
        self.flush()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def start(self, path, method='GET', headers=(), body=None,
              authority=None):
        sid = self.conn.get_next_available_stream_id()
        hdrs = [(':method', method), (':scheme',
                                      'https' if self.tls else 'http'),
                (':path', path), (':authority', authority or self.authority)]
        hdrs += list(headers)
        self.streams[sid] = Response(sid)
        self.conn.send_headers(sid, hdrs, end_stream=body is None)
        if body is not None:
            self.pending[sid] = memoryview(body)
            self.send_bodies()
        self.flush()
        return sid

    def send_bodies(self):
        for sid in list(self.pending):
            body = self.pending[sid]
            while True:
                try:
                    window = self.conn.local_flow_control_window(sid)
                except h2.exceptions.StreamClosedError:
                    del self.pending[sid]
                    break
                n = min(window, self.conn.max_outbound_frame_size,
                        len(body))
                if n <= 0 and len(body):
                    break
                last = n == len(body)
                self.conn.send_data(sid, body[:n].tobytes(), end_stream=last)
                body = body[n:]
                if last:
                    del self.pending[sid]
                    break
                self.pending[sid] = body
        self.flush()

    def pump(self, timeout):
        """Reads once (up to timeout) and handles the events."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(262144)
        except (socket.timeout, ssl.SSLWantReadError):
            return False
        except (ConnectionResetError, BrokenPipeError):
            data = b''
        if not data:
            self.closed = True
            return False
        events = self.conn.receive_data(data)
        for ev in events:
            self.events.append(ev)
            r = self.streams.get(getattr(ev, 'stream_id', None))
            if isinstance(ev, h2.events.ResponseReceived):
                r.status = int(dict(ev.headers)[':status'])
                r.headers = list(ev.headers)
            elif isinstance(ev, h2.events.InformationalResponseReceived):
                pass
            elif isinstance(ev, h2.events.TrailersReceived):
                r.trailers = list(ev.headers)
            elif isinstance(ev, h2.events.DataReceived):
                if r is not None:
                    r.body += ev.data
                self.conn.acknowledge_received_data(
                    ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, h2.events.StreamEnded):
                r.ended = True
                r.t_end = time.monotonic()
                self.pending.pop(ev.stream_id, None)
            elif isinstance(ev, h2.events.StreamReset):
                if r is not None:
                    r.reset = ev.error_code
                    r.t_end = time.monotonic()
                self.pending.pop(ev.stream_id, None)
            elif isinstance(ev, h2.events.ConnectionTerminated):
                self.goaways.append(ev)
            elif isinstance(ev, h2.events.RemoteSettingsChanged):
                for k, v in ev.changed_settings.items():
                    self.remote_settings[int(k)] = v.new_value
        if self.pending:
            self.send_bodies()
        self.flush()
        return True

    def wait(self, sids, timeout=None):
        """Until every stream of sids has ended or been reset."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            left = [s for s in sids if not (self.streams[s].ended
                                           or self.streams[s].reset
                                           is not None)]
            if not left:
                return [self.streams[s] for s in sids]
            if self.closed:
                raise Fail('the connection closed with %d of %d streams '
                           'unfinished (%s)%s' % (
                               len(left), len(sids),
                               [self.streams[s] for s in left][:5],
                               self.goaway_text()))
            t = deadline - time.monotonic()
            if t <= 0:
                raise Fail('%d of %d streams unfinished after %ss: %s%s'
                           % (len(left), len(sids),
                              timeout or self.timeout,
                              [self.streams[s] for s in left][:5],
                              self.goaway_text()))
            self.pump(min(t, 1.0))

    def goaway_text(self):
        if not self.goaways:
            return ''
        g = self.goaways[-1]
        return '; GOAWAY(%s, last_stream_id=%s, %r)' % (
            error_name(int(g.error_code)), g.last_stream_id,
            g.additional_data)

    def get(self, path, method='GET', headers=(), body=None,
            authority=None, timeout=None):
        sid = self.start(path, method, headers, body, authority)
        return self.wait([sid], timeout)[0]

    def settle(self, timeout=0.3):
        """Reads whatever arrives within timeout (SETTINGS, ...)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.closed:
            self.pump(max(0.01, deadline - time.monotonic()))


def h2_get(port, path, tls=False, **kw):
    with H2Client(port, tls=tls) as c:
        return c.get(path, **kw)


def http11_get(port, path, host='localhost', timeout=5, tls=False,
               extra=''):
    """An HTTP/1.1 request with Connection: close: (status line, headers
    dict, body)."""
    s = connect(port, tls, ('http/1.1',), timeout=timeout)
    try:
        s.sendall(('GET %s HTTP/1.1\r\nHost: %s\r\n%sConnection: close'
                   '\r\n\r\n' % (path, host, extra)).encode())
        raw = recv_until_close(s, timeout)
    finally:
        s.close()
    head, _, body = raw.partition(b'\r\n\r\n')
    lines = head.decode('latin-1').split('\r\n')
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(':')
        hdrs[k.strip().lower()] = v.strip()
    return lines[0], hdrs, body


def recv_until_close(s, timeout):
    deadline = time.monotonic() + timeout
    buf = b''
    while time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        except (ConnectionResetError, ssl.SSLError):
            break
        if not d:
            break
        buf += d
    return buf


def status_totals(port, tls=False):
    """The "totals" of the status route, over HTTP/1.1 (so that reading
    them does not count as HTTP/2)."""
    line, _, body = http11_get(port, '/status', tls=tls)
    check(' 200 ' in line + ' ', 'GET /status: %s' % line)
    try:
        return json.loads(body)['totals']
    except (ValueError, KeyError) as e:
        raise Fail('/status is not JSON with totals (%s): %r'
                   % (e, body[:200]))
