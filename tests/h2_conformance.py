#!/usr/bin/env python3
# h2_conformance.py: forkloop's HTTP/2 against RFC 9113 (sections 3 to 8)
# and RFC 7541 (HPACK), case by case as h2spec does (h2spec is not
# packaged in Debian): raw frames built with struct and header blocks
# encoded by hand (tests/lib/forkloop_h2.py), over a plain socket with
# prior knowledge, and the cases marked so over TLS with ALPN h2 too.
#
# Each case is named by the section that sets the rule and expects what
# that section says: a connection error is a GOAWAY with the error code
# (a close without GOAWAY is accepted too, as h2spec does), a stream
# error a RST_STREAM with it, or a GOAWAY with it (RFC 9113 5.4.1: "an
# endpoint MAY choose to treat a stream error as a connection error");
# only the 5.4.2 case insists that a stream error leaves the connection
# up, as SPEC.md says (RST_STREAM for stream errors).
# A malformed request (RFC 9113 8.1.1) must not be served: RST_STREAM
# PROTOCOL_ERROR, a GOAWAY PROTOCOL_ERROR or a 4xx answer pass.
#
# Output is TAP.  The server runs in a process group of its own and is
# killed on every way out (the end, an exception, a signal, the
# watchdog).  FORKLOOP_BIN names the binary (default: ../forkloop next to
# tests/); FORKLOOP_KEEP=1 keeps the directory; FORKLOOP_H2_VERBOSE=1
# prints what the server answered in every error case.  Needs Debian's
# /usr/bin/python3 with python3-h2 and python3-hpack: run by another
# python3, the file runs itself again with that one.

import os
import sys

# First: the shared module checks for python3-h2, running this file again
# with Debian's python3 if need be, and keeps "import h2" off tests/h2.py.
TESTS = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(TESTS, 'lib'))
from forkloop_h2 import *  # noqa: E402,F401,F403

import struct  # noqa: E402
import time  # noqa: E402

SUITE = Suite('h2_conformance', watchdog=120)
T = {}
OPEN = []               # connections of the running case
SENTINEL = b'sentinel'
VERBOSE = os.environ.get('FORKLOOP_H2_VERBOSE')   # diag every outcome

INDEX = (b'<!doctype html>\n<title>h2_conformance.py</title>\n'
         + b'<p>' + b'0123456789' * 20 + b'</p>\n')


###########################################################################
# Helpers.

def open_conn(tls=False, pairs=(), wait_ack=False, handshake=True):
    c = RawConn(T['tls'] if tls else T['plain'], tls=tls)
    OPEN.append(c)
    if tls:
        check(c.alpn == 'h2', 'ALPN chose %r, not h2' % c.alpn)
    if handshake:
        c.handshake(pairs, wait_ack=wait_ack)
    return c


def req(c, method='GET', path='/index.html', extra=(), authority='localhost'):
    return request_block(method, path, authority,
                         'https' if c.tls else 'http', extra)


def codes_text(codes):
    return '/'.join(error_name(x) for x in codes)


def conn_error(c, codes, rule, timeout=2.0):
    """The frames sent before must end the connection with one of codes."""
    c.send(ping(SENTINEL))
    r = c.outcome(0, timeout, SENTINEL)
    if VERBOSE:
        diag('got %s' % r)
    if r.kind == 'goaway':
        check(r.code in codes, '%s: expected a connection error %s, got %s'
              % (rule, codes_text(codes), r))
        return r
    check(r.kind == 'closed', '%s: expected a connection error %s '
          '(GOAWAY), got %s' % (rule, codes_text(codes), r))
    diag('closed without a GOAWAY (%s)' % r.why)
    return r


def stream_error(c, sid, codes, rule, conn_codes=None, timeout=2.0):
    """A RST_STREAM on sid with one of codes, or (the RFC allowing a
    connection error too) a GOAWAY with one of conn_codes."""
    if sid in c.streams and c.streams[sid].kind == 'response':
        del c.streams[sid]      # the error comes after its response
    c.send(ping(SENTINEL))
    r = c.outcome(sid, timeout, SENTINEL)
    if VERBOSE:
        diag('got %s' % r)
    if r.kind == 'rst':
        check(r.code in codes, '%s: expected a stream error %s, got %s'
              % (rule, codes_text(codes), r))
        return r
    if conn_codes is not None and r.kind == 'goaway':
        check(r.code in conn_codes, '%s: expected a stream error %s or a '
              'connection error %s, got %s'
              % (rule, codes_text(codes), codes_text(conn_codes), r))
        return r
    if conn_codes is not None and r.kind == 'closed':
        diag('closed without a GOAWAY (%s)' % r.why)
        return r
    raise Fail('%s: expected a stream error %s%s, got %s'
               % (rule, codes_text(codes),
                  ' or a connection error %s' % codes_text(conn_codes)
                  if conn_codes else '', r))


def malformed(c, sid, rule):
    """RFC 9113 8.1.1: a malformed request is a stream error
    PROTOCOL_ERROR; the server may answer (4xx) before resetting."""
    c.send(ping(SENTINEL))
    r = c.outcome(sid, 2.0, SENTINEL)
    if VERBOSE:
        diag('got %s' % r)
    ok = ((r.kind == 'rst' and r.code == PROTOCOL_ERROR
           and (r.final is None or 400 <= r.final < 500))
          or (r.kind == 'goaway' and r.code == PROTOCOL_ERROR)
          or (r.kind == 'response' and r.final is not None
              and 400 <= r.final < 500)
          or r.kind == 'closed')
    check(ok, '%s: the request is malformed (RFC 9113 8.1.1); expected '
          'RST_STREAM(PROTOCOL_ERROR) (or a 4xx answer), got %s' % (rule, r))
    if r.kind == 'closed':
        diag('closed without a GOAWAY (%s)' % r.why)
    return r


def served(c, sid, status=200, timeout=5, body=None):
    r = c.outcome(sid, timeout)
    check(r.kind == 'response', 'stream %d: expected a whole response, '
          'got %s' % (sid, r))
    check(r.status == status, 'stream %d: status %s, expected %d (%s)'
          % (sid, r.status, status, r))
    if body is not None:
        check(r.body == body, 'stream %d: body %r, expected %r'
              % (sid, r.body[:80], body[:80]))
    return r


def still_alive(c, what):
    check(c.alive(), '%s: the connection no longer answers a PING' % what)


def with_conn_cleanup(fn, tls):
    def run():
        try:
            fn(tls)
        finally:
            while OPEN:
                OPEN.pop().close()
    return run


def case(title, both=False):
    """A case on a plain connection (h2c, prior knowledge); both=True adds
    the same over TLS (ALPN h2)."""
    def reg(fn):
        SUITE.add(title + (' [h2c]' if both else ''),
                  with_conn_cleanup(fn, False))
        if both:
            SUITE.add(title + ' [h2, TLS]', with_conn_cleanup(fn, True))
        return fn
    return reg


###########################################################################
# RFC 9113 3: starting HTTP/2.

@case('RFC 9113 3.4/1: after the client preface the server\'s first frame '
      'is SETTINGS, and it acknowledges ours (6.5.3)', both=True)
def _(tls):
    c = open_conn(tls, wait_ack=True)
    c.send(headers_frame(1, req(c)))
    served(c, 1, body=INDEX)


@case('RFC 9113 3.4/2: an invalid connection preface: connection error '
      'PROTOCOL_ERROR (GOAWAY or close), nothing served', both=True)
def _(tls):
    c = open_conn(tls, handshake=False)
    c.send(b'PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n' + settings() +
           headers_frame(1, req(c)))
    got = b''
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and not c.eof:
        c.sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            d = c.sock.recv(65536)
        except OSError:
            break
        if not d:
            c.eof = 'closed'
            break
        got += d
    check(c.eof, 'the connection is still open 3 s after an invalid '
          'preface (got %r)' % got[:100])
    if got.startswith(b'HTTP/1.'):
        # A plain port that took the bytes for HTTP/1.1: an error
        # status, never a 2xx.
        check(not tls, 'an HTTP/1.1 answer on an ALPN h2 connection: %r'
              % got[:80])
        st = int(got.split(b' ', 2)[1])
        check(st >= 400, 'an invalid preface was answered %d' % st)
        return
    c.buf, c.pos = got, 0
    frames = []
    try:
        while True:
            f = c.recv_frame(0)
            if f is None:
                break
            frames.append(f)
    except Closed:
        pass
    check(not [f for f in frames if f.type in (HEADERS, DATA)],
          'served after an invalid preface: %s' % frames)
    gas = [f for f in frames if f.type == GOAWAY]
    if gas:
        code, _ = goaway_fields(gas[0])
        check(code == PROTOCOL_ERROR, 'GOAWAY %s, expected PROTOCOL_ERROR'
              % error_name(code))


@case('RFC 9113 3.4/3: a preface followed by a PING instead of SETTINGS: '
      'connection error PROTOCOL_ERROR', both=True)
def _(tls):
    c = open_conn(tls, handshake=False)
    c.send(PREFACE + ping(SENTINEL))
    r = c.outcome(0, 2.0, SENTINEL)
    check(r.kind in ('goaway', 'closed'), 'RFC 9113 3.4 (the first frame '
          'must be SETTINGS): expected a connection error PROTOCOL_ERROR, '
          'got %s' % r)
    if r.kind == 'goaway':
        check(r.code == PROTOCOL_ERROR, 'GOAWAY %s, expected '
              'PROTOCOL_ERROR' % error_name(r.code))


###########################################################################
# RFC 9113 4: frames.

@case('RFC 9113 4.1/1 and 5.5: frames of unknown types (on stream 0, on '
      'an idle and an open stream) are ignored', both=True)
def _(tls):
    c = open_conn(tls)
    c.send(frame(0x20, 0, 0, b'ignore me') + frame(0xfa, 0xff, 7, b'x' * 40))
    c.send(headers_frame(1, req(c), end_stream=False) +
           frame(0x21, 0, 1, b'ext') + data_frame(1, b'', end_stream=True))
    served(c, 1, body=INDEX)
    still_alive(c, 'after unknown frame types')


@case('RFC 9113 4.1/2: undefined flags are ignored (PING with flags 0xfe '
      'is answered by a PING ACK with the same payload and only ACK set)')
def _(tls):
    c = open_conn(tls)
    c.send(frame(PING, 0xfe, 0, b'flags!!!'))
    deadline = time.monotonic() + 2
    while True:
        f = c.read_event(deadline - time.monotonic())
        check(f is not None, 'no PING ACK within 2 s')
        check(f.type != GOAWAY, 'got %r' % f)
        if f.type == PING:
            break
    check(f.flags == ACK and f.payload == b'flags!!!',
          'expected PING(ACK) with b"flags!!!", got %r' % f)


@case('RFC 9113 4.1/3: the reserved bit of a stream identifier is ignored '
      '(HEADERS on 0x80000001 is stream 1)')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(0x80000001, req(c)))
    served(c, 1, body=INDEX)


@case('RFC 9113 4.2/1: a DATA frame of exactly SETTINGS_MAX_FRAME_SIZE '
      'octets is accepted')
def _(tls):
    c = open_conn(tls)
    n = c.max_frame_size()
    body = bytes(range(256)) * (n // 256) + b'z' * (n % 256)
    c.send(headers_frame(1, req(c, 'POST', '/echo', [
        ('content-length', str(n)),
        ('content-type', 'application/octet-stream')]), end_stream=False))
    c.send(data_frame(1, body, end_stream=True))
    served(c, 1, body=body)


@case('RFC 9113 4.2/2: a DATA frame larger than SETTINGS_MAX_FRAME_SIZE: '
      'FRAME_SIZE_ERROR', both=True)
def _(tls):
    c = open_conn(tls)
    n = c.max_frame_size() + 1
    c.send(headers_frame(1, req(c, 'POST', '/echo',
                                [('content-length', str(n))]),
                         end_stream=False))
    c.send(data_frame(1, b'x' * n, end_stream=True))
    stream_error(c, 1, [FRAME_SIZE_ERROR], 'RFC 9113 4.2',
                 conn_codes=[FRAME_SIZE_ERROR])


@case('RFC 9113 4.2/3: a HEADERS frame larger than SETTINGS_MAX_FRAME_SIZE: '
      'connection error FRAME_SIZE_ERROR')
def _(tls):
    c = open_conn(tls)
    n = c.max_frame_size()
    fill = n - len(req(c))
    while True:
        block = req(c) + hp_literal('x-pad', 'p' * fill)
        if len(block) == n + 1:
            break
        check(len(block) < n + 1 or fill > 0, 'test bug: no block of %d'
              % (n + 1))
        fill += 1 if len(block) < n + 1 else -1
    c.send(headers_frame(1, block))
    conn_error(c, [FRAME_SIZE_ERROR], 'RFC 9113 4.2 (a frame carrying a '
               'field block)')


@case('RFC 9113 4.3/1: a header block that does not decode (an index '
      'beyond both tables): connection error COMPRESSION_ERROR', both=True)
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c) + hp_indexed(70)))
    conn_error(c, [COMPRESSION_ERROR], 'RFC 9113 4.3')


@case('RFC 9113 4.3/2: a PRIORITY frame inside a field block (HEADERS '
      'without END_HEADERS): connection error PROTOCOL_ERROR')
def _(tls):
    c = open_conn(tls)
    block = req(c)
    c.send(headers_frame(1, block[:5], end_headers=False) +
           priority(1, 0) + continuation(1, block[5:]))
    conn_error(c, [PROTOCOL_ERROR], 'RFC 9113 4.3 and 6.2')


@case('RFC 9113 4.3/3: DATA on the stream inside its field block: '
      'connection error PROTOCOL_ERROR')
def _(tls):
    c = open_conn(tls)
    block = req(c, 'POST', '/echo')
    c.send(headers_frame(1, block[:5], end_stream=False, end_headers=False) +
           data_frame(1, b'abc') + continuation(1, block[5:]))
    conn_error(c, [PROTOCOL_ERROR], 'RFC 9113 4.3 and 6.10')


###########################################################################
# RFC 9113 5: streams.

@case('RFC 9113 5.1/1: DATA on an idle stream: connection error '
      'PROTOCOL_ERROR', both=True)
def _(tls):
    c = open_conn(tls)
    c.send(data_frame(1, b'abc'))
    conn_error(c, [PROTOCOL_ERROR], 'RFC 9113 5.1 (idle)')


@case('RFC 9113 5.1/2: WINDOW_UPDATE on an idle stream: connection error '
      'PROTOCOL_ERROR')
def _(tls):
    c = open_conn(tls)
    c.send(window_update(1, 100))
    conn_error(c, [PROTOCOL_ERROR], 'RFC 9113 5.1 (idle)')


@case('RFC 9113 5.1/3: CONTINUATION on an idle stream: connection error '
      'PROTOCOL_ERROR')
def _(tls):
    c = open_conn(tls)
    c.send(continuation(1, req(c)))
    conn_error(c, [PROTOCOL_ERROR], 'RFC 9113 5.1 (idle) and 6.10')


@case('RFC 9113 5.1/4: DATA on a half-closed (remote) stream: stream error '
      'STREAM_CLOSED')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c, path='/delay/1000')))
    c.send(data_frame(1, b'late'))
    stream_error(c, 1, [STREAM_CLOSED], 'RFC 9113 5.1 (half-closed '
                 'remote)', conn_codes=[STREAM_CLOSED])


@case('RFC 9113 5.1/5: HEADERS on a half-closed (remote) stream: stream '
      'error STREAM_CLOSED')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c, path='/delay/1000')))
    c.send(headers_frame(1, hp_block([('x-trailer', 'late')])))
    stream_error(c, 1, [STREAM_CLOSED], 'RFC 9113 5.1 (half-closed '
                 'remote)', conn_codes=[STREAM_CLOSED, PROTOCOL_ERROR])


@case('RFC 9113 5.1/6: WINDOW_UPDATE, PRIORITY and an unknown frame on a '
      'half-closed (remote) stream are accepted: the response comes')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c, path='/delay/200')))
    c.send(window_update(1, 1000) + priority(1, 0, 200) +
           frame(0x30, 0, 1, b'?'))
    r = served(c, 1)
    check(r.body.startswith(b'delayed 200'), 'body %r' % r.body[:80])


@case('RFC 9113 5.1/7: DATA after the client\'s RST_STREAM (closed): '
      'stream error STREAM_CLOSED')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c, 'POST', '/echo'), end_stream=False))
    c.send(rst_stream(1, CANCEL))
    c.send(data_frame(1, b'after reset', end_stream=True))
    stream_error(c, 1, [STREAM_CLOSED], 'RFC 9113 5.1 (closed: "any frame '
                 'other than PRIORITY after receiving a RST_STREAM")',
                 conn_codes=[STREAM_CLOSED])


@case('RFC 9113 5.1/8: HEADERS after the client\'s RST_STREAM (closed): '
      'STREAM_CLOSED')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c, 'POST', '/echo'), end_stream=False))
    c.send(rst_stream(1, CANCEL))
    c.send(headers_frame(1, req(c)))
    stream_error(c, 1, [STREAM_CLOSED], 'RFC 9113 5.1 (closed)',
                 conn_codes=[STREAM_CLOSED, PROTOCOL_ERROR])


@case('RFC 9113 5.1/9: DATA on a closed stream (request and response '
      'done): STREAM_CLOSED')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c)))
    served(c, 1, body=INDEX)
    c.send(data_frame(1, b'too late'))
    stream_error(c, 1, [STREAM_CLOSED], 'RFC 9113 5.1 (closed: "any frames '
                 'after receiving a frame with the END_STREAM flag")',
                 conn_codes=[STREAM_CLOSED])


@case('RFC 9113 5.1/10: HEADERS on a closed stream (request and response '
      'done): connection error STREAM_CLOSED or PROTOCOL_ERROR (5.1.1)')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c)))
    served(c, 1, body=INDEX)
    c.send(headers_frame(1, req(c)))
    stream_error(c, 1, [STREAM_CLOSED], 'RFC 9113 5.1 and 5.1.1',
                 conn_codes=[STREAM_CLOSED, PROTOCOL_ERROR])


@case('RFC 9113 5.1.1/1: an even stream identifier from the client: '
      'connection error PROTOCOL_ERROR', both=True)
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(2, req(c)))
    conn_error(c, [PROTOCOL_ERROR], 'RFC 9113 5.1.1')


@case('RFC 9113 5.1.1/2: a stream identifier lower than one already used '
      '(5, then 3): connection error PROTOCOL_ERROR')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(5, req(c)))
    served(c, 5, body=INDEX)
    c.send(headers_frame(3, req(c)))
    conn_error(c, [PROTOCOL_ERROR, STREAM_CLOSED], 'RFC 9113 5.1.1 ("an '
               'unexpected stream identifier")')


@case('RFC 9113 5.1.2: one stream more than SETTINGS_MAX_CONCURRENT_STREAMS: '
      'that stream is refused (PROTOCOL_ERROR or REFUSED_STREAM), the '
      'others are served')
def _(tls):
    c = open_conn(tls)
    n = c.server_settings.get(MAX_CONCURRENT_STREAMS)
    if n is None or n > 1000:
        raise Skip('the server advertises no small stream limit (%s)' % n)
    blk = req(c, path='/delay/1500')
    c.send(b''.join(headers_frame(2 * i + 1, blk) for i in range(n + 1)))
    last = 2 * n + 1
    t0 = time.monotonic()
    stream_error(c, last, [REFUSED_STREAM, PROTOCOL_ERROR],
                 'RFC 9113 5.1.2', conn_codes=[PROTOCOL_ERROR])
    check(time.monotonic() - t0 < 1.4, 'refused only after %.1f s'
          % (time.monotonic() - t0))
    if c.last_goaway is None and not c.eof:
        r = served(c, 1)
        check(r.body.startswith(b'delayed 1500'), 'body %r' % r.body[:80])


@case('RFC 9113 5.3.1/1: HEADERS that depend on their own stream: stream '
      'error PROTOCOL_ERROR')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c), dep=1))
    stream_error(c, 1, [PROTOCOL_ERROR], 'RFC 9113 5.3.1',
                 conn_codes=[PROTOCOL_ERROR])


@case('RFC 9113 5.3.1/2: PRIORITY that makes a stream depend on itself: '
      'stream error PROTOCOL_ERROR')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c, path='/delay/500')))
    c.send(priority(1, 1))
    stream_error(c, 1, [PROTOCOL_ERROR], 'RFC 9113 5.3.1',
                 conn_codes=[PROTOCOL_ERROR])


@case('RFC 9113 5.4.1: after a connection error the server sends GOAWAY '
      'with the last stream it processed, then closes the TCP connection')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c)))
    served(c, 1, body=INDEX)
    c.send(data_frame(0, b'x'))
    c.send(ping(SENTINEL))
    r = c.outcome(0, 2.0, SENTINEL)
    check(r.kind == 'goaway', 'expected GOAWAY(PROTOCOL_ERROR), got %s' % r)
    check(r.code == PROTOCOL_ERROR, 'GOAWAY %s' % error_name(r.code))
    check(r.last_sid == 1, 'GOAWAY last_stream_id %d, expected 1 (RFC 9113 '
          '6.8)' % r.last_sid)
    check(c.wait_closed(3), 'the TCP connection is still open 3 s after the '
          'GOAWAY')


@case('RFC 9113 5.4.2 and SPEC.md: a stream error is a RST_STREAM that '
      'leaves the connection working (malformed request on 1, GET on 3)')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c, extra=[('connection', 'close')])))
    malformed(c, 1, 'RFC 9113 8.2.2')
    if c.last_goaway is None and not c.eof:
        c.send(headers_frame(3, req(c)))
        served(c, 3, body=INDEX)
    else:
        raise Fail('the server ended the connection for a stream error')


@case('RFC 9113 5.5/1: an unknown SETTINGS parameter is ignored (and '
      'acknowledged)', both=True)
def _(tls):
    c = open_conn(tls, pairs=[(0xff, 1), (0x7777, 0xffffffff)],
                  wait_ack=True)
    c.send(headers_frame(1, req(c)))
    served(c, 1, body=INDEX)


@case('RFC 9113 5.5/2: an unknown frame type inside a field block: '
      'connection error PROTOCOL_ERROR')
def _(tls):
    c = open_conn(tls)
    block = req(c)
    c.send(headers_frame(1, block[:5], end_headers=False) +
           frame(0x22, 0, 1, b'ext') + continuation(1, block[5:]))
    conn_error(c, [PROTOCOL_ERROR], 'RFC 9113 5.5 and 6.10')


###########################################################################
# RFC 9113 6: frame definitions.

@case('RFC 9113 6.1/1: DATA on stream 0: connection error PROTOCOL_ERROR',
      both=True)
def _(tls):
    c = open_conn(tls)
    c.send(data_frame(0, b'abc'))
    conn_error(c, [PROTOCOL_ERROR], 'RFC 9113 6.1')


@case('RFC 9113 6.1/2: DATA whose Pad Length is not less than the payload: '
      'connection error PROTOCOL_ERROR')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c, 'POST', '/echo'), end_stream=False))
    c.send(frame(DATA, PADDED | END_STREAM, 1, bytes([10]) + b'abc'))
    conn_error(c, [PROTOCOL_ERROR], 'RFC 9113 6.1')


@case('RFC 9113 6.1/3: padded DATA is accepted, and the padding is not '
      'part of the body')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c, 'POST', '/echo',
                                [('content-type', 'text/plain')]),
                         end_stream=False))
    c.send(data_frame(1, b'hello, ', pad=20) +
           data_frame(1, b'padded', pad=0, end_stream=True))
    r = served(c, 1, body=b'hello, padded')
    check(r.header('content-type') == 'text/plain',
          'content-type %r' % r.header('content-type'))


@case('RFC 9113 6.2/1: HEADERS on stream 0: connection error PROTOCOL_ERROR',
      both=True)
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(0, req(c)))
    conn_error(c, [PROTOCOL_ERROR], 'RFC 9113 6.2')


@case('RFC 9113 6.2/2: HEADERS whose Pad Length is not less than the '
      'payload: connection error PROTOCOL_ERROR')
def _(tls):
    c = open_conn(tls)
    block = req(c)
    c.send(frame(HEADERS, PADDED | END_HEADERS | END_STREAM, 1,
                 bytes([len(block) + 1]) + block))
    conn_error(c, [PROTOCOL_ERROR], 'RFC 9113 6.2')


@case('RFC 9113 6.2/3: padded HEADERS and HEADERS with a priority are '
      'served')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c), pad=30))
    served(c, 1, body=INDEX)
    c.send(headers_frame(3, req(c), dep=1, weight=256, exclusive=True))
    served(c, 3, body=INDEX)
    c.send(headers_frame(5, req(c), dep=99, weight=1, pad=0))
    served(c, 5, body=INDEX)


@case('RFC 9113 6.2/4: HEADERS without END_HEADERS followed by HEADERS '
      'on another stream: connection error PROTOCOL_ERROR')
def _(tls):
    c = open_conn(tls)
    block = req(c)
    c.send(headers_frame(1, block[:5], end_headers=False) +
           headers_frame(3, block))
    conn_error(c, [PROTOCOL_ERROR], 'RFC 9113 6.2 and 6.10')


@case('RFC 9113 6.3/1: PRIORITY on stream 0: connection error '
      'PROTOCOL_ERROR')
def _(tls):
    c = open_conn(tls)
    c.send(priority(0, 1))
    conn_error(c, [PROTOCOL_ERROR], 'RFC 9113 6.3')


@case('RFC 9113 6.3/2: PRIORITY of length 4: stream error FRAME_SIZE_ERROR')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c, path='/delay/500')))
    c.send(frame(PRIORITY, 0, 1, struct.pack('>I', 0)))
    stream_error(c, 1, [FRAME_SIZE_ERROR], 'RFC 9113 6.3',
                 conn_codes=[FRAME_SIZE_ERROR])


@case('RFC 9113 6.3/3: PRIORITY frames are ignored safely: on idle streams '
      '(then used), depending on idle streams, exclusive, on closed streams')
def _(tls):
    c = open_conn(tls)
    c.send(priority(3, 0, 10) + priority(5, 3, 1, exclusive=True) +
           priority(9, 101, 256) + priority(11, 0, 1))
    c.send(headers_frame(3, req(c)))
    served(c, 3, body=INDEX)
    c.send(headers_frame(5, req(c)))
    served(c, 5, body=INDEX)
    c.send(priority(3, 5, 100) + priority(1, 3))
    c.send(headers_frame(13, req(c)))
    served(c, 13, body=INDEX)
    still_alive(c, 'after PRIORITY frames')


@case('RFC 9113 6.4/1: RST_STREAM on stream 0: connection error '
      'PROTOCOL_ERROR')
def _(tls):
    c = open_conn(tls)
    c.send(rst_stream(0, CANCEL))
    conn_error(c, [PROTOCOL_ERROR], 'RFC 9113 6.4')


@case('RFC 9113 6.4/2: RST_STREAM on an idle stream: connection error '
      'PROTOCOL_ERROR', both=True)
def _(tls):
    c = open_conn(tls)
    c.send(rst_stream(1, CANCEL))
    conn_error(c, [PROTOCOL_ERROR], 'RFC 9113 6.4 and 5.1 (idle)')


@case('RFC 9113 6.4/3: RST_STREAM of length 3: connection error '
      'FRAME_SIZE_ERROR')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c, path='/delay/500')))
    c.send(frame(RST_STREAM, 0, 1, b'\0\0\x08'))
    conn_error(c, [FRAME_SIZE_ERROR], 'RFC 9113 6.4')


@case('RFC 9113 6.4/4: RST_STREAM cancels a stream in progress: nothing '
      'more on it, no RST_STREAM back (5.4.2), the connection goes on')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c, path='/delay/400')))
    c.send(rst_stream(1, CANCEL))
    r = c.outcome(1, 0.9)
    check(r.kind == 'timeout' and not [f for f in r.frames if f.sid == 1],
          'after our RST_STREAM, stream 1 got %s' % r)
    c.send(headers_frame(3, req(c)))
    served(c, 3, body=INDEX)


@case('RFC 9113 6.5/1: a SETTINGS ACK with a payload: connection error '
      'FRAME_SIZE_ERROR', both=True)
def _(tls):
    c = open_conn(tls, wait_ack=True)
    c.send(frame(SETTINGS, ACK, 0, struct.pack('>HI', 1, 4096)))
    conn_error(c, [FRAME_SIZE_ERROR], 'RFC 9113 6.5')


@case('RFC 9113 6.5/2: SETTINGS on a stream other than 0: connection error '
      'PROTOCOL_ERROR')
def _(tls):
    c = open_conn(tls)
    c.send(frame(SETTINGS, 0, 1, b''))
    conn_error(c, [PROTOCOL_ERROR], 'RFC 9113 6.5')


@case('RFC 9113 6.5/3: SETTINGS of a length not a multiple of 6: connection '
      'error FRAME_SIZE_ERROR', both=True)
def _(tls):
    c = open_conn(tls)
    c.send(frame(SETTINGS, 0, 0, struct.pack('>HI', 3, 100) + b'\0\x04'))
    conn_error(c, [FRAME_SIZE_ERROR], 'RFC 9113 6.5')


@case('RFC 9113 6.5.2/1: SETTINGS_ENABLE_PUSH 2: connection error '
      'PROTOCOL_ERROR', both=True)
def _(tls):
    c = open_conn(tls)
    c.send(settings((ENABLE_PUSH, 2)))
    conn_error(c, [PROTOCOL_ERROR], 'RFC 9113 6.5.2')


@case('RFC 9113 6.5.2/2: SETTINGS_INITIAL_WINDOW_SIZE 2^31: connection '
      'error FLOW_CONTROL_ERROR', both=True)
def _(tls):
    c = open_conn(tls)
    c.send(settings((INITIAL_WINDOW_SIZE, 2 ** 31)))
    conn_error(c, [FLOW_CONTROL_ERROR], 'RFC 9113 6.5.2')


@case('RFC 9113 6.5.2/3: SETTINGS_MAX_FRAME_SIZE 16383: connection error '
      'PROTOCOL_ERROR')
def _(tls):
    c = open_conn(tls)
    c.send(settings((MAX_FRAME_SIZE, 16383)))
    conn_error(c, [PROTOCOL_ERROR], 'RFC 9113 6.5.2')


@case('RFC 9113 6.5.2/4: SETTINGS_MAX_FRAME_SIZE 2^24: connection error '
      'PROTOCOL_ERROR', both=True)
def _(tls):
    c = open_conn(tls)
    c.send(settings((MAX_FRAME_SIZE, 2 ** 24)))
    conn_error(c, [PROTOCOL_ERROR], 'RFC 9113 6.5.2')


@case('RFC 9113 6.5.2/5: the largest allowed values (MAX_FRAME_SIZE '
      '2^24-1, INITIAL_WINDOW_SIZE 2^31-1, HEADER_TABLE_SIZE 2^32-1) are '
      'accepted')
def _(tls):
    c = open_conn(tls, pairs=[(MAX_FRAME_SIZE, 2 ** 24 - 1),
                              (INITIAL_WINDOW_SIZE, 2 ** 31 - 1),
                              (HEADER_TABLE_SIZE, 2 ** 32 - 1)],
                  wait_ack=True)
    c.send(headers_frame(1, req(c)))
    served(c, 1, body=INDEX)


@case('RFC 9113 6.5.2/6 and RFC 7541 4.2: SETTINGS_HEADER_TABLE_SIZE 0: '
      'the server\'s header blocks then use no dynamic table')
def _(tls):
    c = open_conn(tls, pairs=[(HEADER_TABLE_SIZE, 0)], wait_ack=True)
    c.decoder.header_table_size = 0
    c.decoder.max_allowed_table_size = 0
    for sid in (1, 3, 5):
        c.send(headers_frame(sid, req(c)))
        served(c, sid, body=INDEX)


@case('RFC 9113 6.7/1: PING is answered by a PING with ACK and the same '
      'payload', both=True)
def _(tls):
    c = open_conn(tls)
    for payload in (b'\0' * 8, b'\xff\x01\x02\x03abcd'):
        c.send(ping(payload))
        deadline = time.monotonic() + 2
        while True:
            f = c.read_event(deadline - time.monotonic())
            check(f is not None, 'no PING ACK within 2 s')
            check(f.type != GOAWAY, 'got %r' % f)
            if f.type == PING:
                break
        check(f.flags & ACK and f.payload == payload and f.sid == 0,
              'expected PING(ACK, %r), got %r' % (payload, f))


@case('RFC 9113 6.7/2: a PING with ACK from the client is not answered')
def _(tls):
    c = open_conn(tls)
    c.send(ping(b'unasked!', ack=True) + ping(b'realping'))
    deadline = time.monotonic() + 2
    while True:
        f = c.read_event(deadline - time.monotonic())
        check(f is not None, 'no PING ACK within 2 s')
        if f.type == PING:
            break
    check(f.payload == b'realping' and f.flags & ACK,
          'the first PING from the server is %r' % f)


@case('RFC 9113 6.7/3: PING on a stream: connection error PROTOCOL_ERROR')
def _(tls):
    c = open_conn(tls)
    c.send(frame(PING, 0, 1, b'12345678'))
    conn_error(c, [PROTOCOL_ERROR], 'RFC 9113 6.7')


@case('RFC 9113 6.7/4: PING of length 7: connection error FRAME_SIZE_ERROR',
      both=True)
def _(tls):
    c = open_conn(tls)
    c.send(frame(PING, 0, 0, b'1234567'))
    conn_error(c, [FRAME_SIZE_ERROR], 'RFC 9113 6.7')


@case('RFC 9113 6.8/1: GOAWAY on a stream: connection error PROTOCOL_ERROR')
def _(tls):
    c = open_conn(tls)
    c.send(frame(GOAWAY, 0, 1, struct.pack('>II', 0, 0)))
    conn_error(c, [PROTOCOL_ERROR], 'RFC 9113 6.8')


@case('RFC 9113 6.8/2: after the client\'s GOAWAY the stream in progress '
      'is completed', both=True)
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c, path='/delay/300')))
    c.send(goaway(0, NO_ERROR))
    r = served(c, 1)
    check(r.body.startswith(b'delayed 300'), 'body %r' % r.body[:80])


@case('RFC 9113 6.9/1: WINDOW_UPDATE of 0 on the connection: connection '
      'error PROTOCOL_ERROR', both=True)
def _(tls):
    c = open_conn(tls)
    c.send(window_update(0, 0))
    conn_error(c, [PROTOCOL_ERROR], 'RFC 9113 6.9')


@case('RFC 9113 6.9/2: WINDOW_UPDATE of 0 on a stream: stream error '
      'PROTOCOL_ERROR')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c, path='/delay/500')))
    c.send(window_update(1, 0))
    stream_error(c, 1, [PROTOCOL_ERROR], 'RFC 9113 6.9',
                 conn_codes=[PROTOCOL_ERROR])


@case('RFC 9113 6.9/3: WINDOW_UPDATE of length 3: connection error '
      'FRAME_SIZE_ERROR')
def _(tls):
    c = open_conn(tls)
    c.send(frame(WINDOW_UPDATE, 0, 0, b'\0\0\x01'))
    conn_error(c, [FRAME_SIZE_ERROR], 'RFC 9113 6.9')


@case('RFC 9113 6.9.1/1: a connection window above 2^31-1: connection '
      'error FLOW_CONTROL_ERROR', both=True)
def _(tls):
    c = open_conn(tls)
    c.send(window_update(0, 2 ** 31 - 1))
    conn_error(c, [FLOW_CONTROL_ERROR], 'RFC 9113 6.9.1')


@case('RFC 9113 6.9.1/2: a stream window above 2^31-1: stream error '
      'FLOW_CONTROL_ERROR')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c, path='/delay/500')))
    c.send(window_update(1, 2 ** 31 - 1))
    stream_error(c, 1, [FLOW_CONTROL_ERROR], 'RFC 9113 6.9.1',
                 conn_codes=[FLOW_CONTROL_ERROR])


def read_data(c, sid, until, timeout):
    """DATA payload bytes on sid (without opening any window) until
    until(bytes, ended) or timeout: (bytes, ended, headers)."""
    got = b''
    ended = False
    hdrs = None
    deadline = time.monotonic() + timeout
    while not until(got, ended):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        f = c.read_event(left)
        if f is None:
            break
        check(f.type not in (GOAWAY, RST_STREAM), 'got %r' % f)
        if f.type == SETTINGS and not f.flags & ACK:
            c.send(settings(ack=True))
        if f.sid != sid:
            continue
        if f.type == HEADERS and hdrs is None:
            hdrs = f.headers
        if f.type == DATA:
            got += data_payload(f)
        if f.type in (DATA, HEADERS) and f.flags & END_STREAM:
            ended = True
    return got, ended, hdrs


@case('RFC 9113 6.9.1/3: the server keeps to a small stream window '
      '(SETTINGS_INITIAL_WINDOW_SIZE 10), and goes on after WINDOW_UPDATE',
      both=True)
def _(tls):
    c = open_conn(tls, pairs=[(INITIAL_WINDOW_SIZE, 10)])
    c.send(headers_frame(1, req(c)))
    got, ended, hdrs = read_data(c, 1, lambda g, e: e or len(g) > 10, 0.8)
    check(hdrs is not None, 'no response HEADERS (the window holds back '
          'DATA only)')
    check(len(got) <= 10 and not ended, 'sent %d bytes%s with a window '
          'of 10' % (len(got), ' and END_STREAM' if ended else ''))
    check(len(got) == 10, 'only %d bytes sent in a window of 10' % len(got))
    c.send(window_update(1, len(INDEX)))
    more, ended, _ = read_data(c, 1, lambda g, e: e, 2)
    check(ended and got + more == INDEX, 'after WINDOW_UPDATE: %d bytes, '
          'END_STREAM %s' % (len(got + more), ended))


@case('RFC 9113 6.9.2/1: SETTINGS_INITIAL_WINDOW_SIZE 0 holds DATA back; '
      'a later SETTINGS raising it releases the response')
def _(tls):
    c = open_conn(tls, pairs=[(INITIAL_WINDOW_SIZE, 0)])
    c.send(headers_frame(1, req(c)))
    got, ended, hdrs = read_data(c, 1, lambda g, e: e or g, 0.6)
    check(hdrs is not None and not got and not ended,
          'with a window of 0: headers %s, %d bytes, END_STREAM %s'
          % (hdrs is not None, len(got), ended))
    c.send(settings((INITIAL_WINDOW_SIZE, 65535)))
    more, ended, _ = read_data(c, 1, lambda g, e: e, 2)
    check(ended and more == INDEX, 'after SETTINGS: %d bytes, END_STREAM %s'
          % (len(more), ended))


@case('RFC 9113 6.9.2/2: a SETTINGS_INITIAL_WINDOW_SIZE change that takes '
      'a stream window above 2^31-1: connection error FLOW_CONTROL_ERROR')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c, path='/delay/800')))
    c.send(window_update(1, 2 ** 31 - 1 - 65535))
    c.send(settings((INITIAL_WINDOW_SIZE, 65536)))
    conn_error(c, [FLOW_CONTROL_ERROR], 'RFC 9113 6.9.2')


@case('RFC 9113 6.10/1: HEADERS and one CONTINUATION are served',
      both=True)
def _(tls):
    c = open_conn(tls)
    block = req(c)
    c.send(headers_frame(1, block[:7], end_headers=False) +
           continuation(1, block[7:]))
    served(c, 1, body=INDEX)


@case('RFC 9113 6.10/2: HEADERS and three CONTINUATIONs, split inside a '
      'literal, are served')
def _(tls):
    c = open_conn(tls)
    block = req(c, path='/hello/continued')
    a, b, d = len(block) // 4, len(block) // 2, 3 * len(block) // 4
    c.send(headers_frame(1, block[:a], end_headers=False) +
           continuation(1, block[a:b], end_headers=False) +
           continuation(1, block[b:d], end_headers=False) +
           continuation(1, block[d:]))
    r = served(c, 1)
    check(b'hello, continued!' in r.body, 'body %r' % r.body[:80])


@case('RFC 9113 6.10/3: a CONTINUATION without END_HEADERS followed by '
      'DATA: connection error PROTOCOL_ERROR')
def _(tls):
    c = open_conn(tls)
    block = req(c, 'POST', '/echo')
    c.send(headers_frame(1, block[:4], end_stream=False, end_headers=False) +
           continuation(1, block[4:8], end_headers=False) +
           data_frame(1, b'x', end_stream=True))
    conn_error(c, [PROTOCOL_ERROR], 'RFC 9113 6.10')


@case('RFC 9113 6.10/4: CONTINUATION on stream 0: connection error '
      'PROTOCOL_ERROR')
def _(tls):
    c = open_conn(tls)
    block = req(c)
    c.send(headers_frame(1, block[:4], end_headers=False) +
           continuation(0, block[4:]))
    conn_error(c, [PROTOCOL_ERROR], 'RFC 9113 6.10')


@case('RFC 9113 6.10/5: CONTINUATION on another stream than its HEADERS: '
      'connection error PROTOCOL_ERROR', both=True)
def _(tls):
    c = open_conn(tls)
    block = req(c)
    c.send(headers_frame(1, block[:4], end_headers=False) +
           continuation(3, block[4:]))
    conn_error(c, [PROTOCOL_ERROR], 'RFC 9113 6.10')


@case('RFC 9113 6.10/6: CONTINUATION after a HEADERS with END_HEADERS: '
      'connection error PROTOCOL_ERROR')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c, path='/delay/500')) +
           continuation(1, hp_block([('x-late', 'x')])))
    conn_error(c, [PROTOCOL_ERROR], 'RFC 9113 6.10')


@case('RFC 9113 6.6 and 8.4: PUSH_PROMISE from a client: connection error '
      'PROTOCOL_ERROR', both=True)
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c, path='/delay/500')))
    c.send(frame(PUSH_PROMISE, END_HEADERS, 1,
                 struct.pack('>I', 2) + req(c, path='/pushed')))
    conn_error(c, [PROTOCOL_ERROR], 'RFC 9113 8.4')


###########################################################################
# RFC 9113 7: error codes.

@case('RFC 9113 7/1: RST_STREAM with an unknown error code is a reset like '
      'any other: no connection error, the connection goes on')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c, path='/delay/300')))
    c.send(rst_stream(1, 0xdeadbeef))
    still_alive(c, 'after RST_STREAM(0xdeadbeef)')
    c.send(headers_frame(3, req(c)))
    served(c, 3, body=INDEX)


@case('RFC 9113 7/2: GOAWAY with an unknown error code: no special '
      'behaviour, the stream in progress is completed')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c, path='/delay/300')))
    c.send(goaway(0, 0xdeadbeef, b'bye'))
    r = served(c, 1)
    check(r.body.startswith(b'delayed 300'), 'body %r' % r.body[:80])


###########################################################################
# RFC 9113 8: HTTP semantics.

@case('RFC 9113 8.1/1: a request with trailers (HEADERS, DATA, HEADERS '
      'with END_STREAM) is served', both=True)
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c, 'POST', '/echo',
                                [('content-type', 'text/plain'),
                                 ('te', 'trailers')]), end_stream=False))
    c.send(data_frame(1, b'body before trailers'))
    c.send(headers_frame(1, hp_block([('x-checksum', 'abc')])))
    served(c, 1, body=b'body before trailers')


@case('RFC 9113 8.1/2: trailers without END_STREAM: malformed')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c, 'POST', '/echo'), end_stream=False))
    c.send(data_frame(1, b'abc'))
    c.send(headers_frame(1, hp_block([('x-trailer', 'x')]),
                         end_stream=False))
    malformed(c, 1, 'RFC 9113 8.1')


@case('RFC 9113 8.1/3: a pseudo-header in trailers: malformed')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c, 'POST', '/echo'), end_stream=False))
    c.send(data_frame(1, b'abc'))
    c.send(headers_frame(1, hp_block([(':path', '/other')])))
    malformed(c, 1, 'RFC 9113 8.1 and 8.3')


@case('RFC 9113 8.1.1/1: content-length larger than the DATA sent: '
      'malformed', both=True)
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c, 'POST', '/echo',
                                [('content-length', '10')]),
                         end_stream=False))
    c.send(data_frame(1, b'abcde', end_stream=True))
    malformed(c, 1, 'RFC 9113 8.1.1')


@case('RFC 9113 8.1.1/2: content-length smaller than the DATA sent: '
      'malformed')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c, 'POST', '/echo',
                                [('content-length', '3')]),
                         end_stream=False))
    c.send(data_frame(1, b'abcde', end_stream=True))
    malformed(c, 1, 'RFC 9113 8.1.1')


@case('RFC 9113 8.1.1/3: content-length that matches DATA in several '
      'frames is served')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c, 'POST', '/echo',
                                [('content-length', '15')]),
                         end_stream=False))
    c.send(data_frame(1, b'abcde') + data_frame(1, b'') +
           data_frame(1, b'fghij') + data_frame(1, b'klmno', end_stream=True))
    served(c, 1, body=b'abcdefghijklmno')


@case('RFC 9113 8.1.1/4: a non-numeric content-length: malformed')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c, 'POST', '/echo',
                                [('content-length', '1x')]),
                         end_stream=False))
    c.send(data_frame(1, b'ab', end_stream=True))
    malformed(c, 1, 'RFC 9113 8.1.1 and RFC 9110 8.6')


@case('RFC 9113 8.2/1: an uppercase field name: malformed', both=True)
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c, extra=[('X-Upper', 'x')])))
    malformed(c, 1, 'RFC 9113 8.2')


def each_malformed(tls, extras, rule):
    """One connection, one stream per extra field list; each malformed."""
    c = open_conn(tls)
    sid = 1
    for extra in extras:
        if c.last_goaway is not None or c.eof:
            c = open_conn(tls)
            sid = 1
        c.send(headers_frame(sid, req(c, extra=extra)))
        try:
            malformed(c, sid, rule)
        except Fail as e:
            raise Fail('with %r: %s' % (extra, e))
        sid += 2


@case('RFC 9113 8.2.1/1: field names with a space, a colon, a control '
      'byte, a non-ASCII byte, or empty: malformed')
def _(tls):
    each_malformed(tls, [[('x y', '1')], [('x:y', '1')], [('x\x01y', '1')],
                         [('x\xe9', '1')], [('', 'empty name')]],
                   'RFC 9113 8.2.1')


@case('RFC 9113 8.2.1/2: field values with NUL, CR or LF: malformed',
      both=True)
def _(tls):
    each_malformed(tls, [[('x-a', 'a\0b')], [('x-a', 'a\rb')],
                         [('x-a', 'a\nb')]], 'RFC 9113 8.2.1')


@case('RFC 9113 8.2.1/3: field values that start or end with whitespace: '
      'malformed')
def _(tls):
    each_malformed(tls, [[('x-a', ' lead')], [('x-a', 'trail ')],
                         [('x-a', '\ttab')]], 'RFC 9113 8.2.1')


for _name, _value in (('connection', 'keep-alive'), ('keep-alive', '300'),
                      ('proxy-connection', 'keep-alive'),
                      ('transfer-encoding', 'chunked'),
                      ('upgrade', 'h2c')):
    def _mk(name, value):
        def fn(tls):
            c = open_conn(tls)
            c.send(headers_frame(1, req(c, extra=[(name, value)])))
            malformed(c, 1, 'RFC 9113 8.2.2')
        return fn
    case('RFC 9113 8.2.2/%s: the connection-specific field "%s: %s": '
         'malformed' % (_name, _name, _value),
         both=_name == 'connection')(_mk(_name, _value))


@case('RFC 9113 8.2.2/te: TE other than "trailers" ("te: gzip"): malformed')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c, extra=[('te', 'gzip')])))
    malformed(c, 1, 'RFC 9113 8.2.2')


@case('RFC 9113 8.2.2/te-trailers: "te: trailers" is allowed: served')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c, extra=[('te', 'trailers')])))
    served(c, 1, body=INDEX)


@case('RFC 9113 8.3/1: an unknown pseudo-header (:foo): malformed',
      both=True)
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c) + hp_literal(':foo', 'bar')))
    malformed(c, 1, 'RFC 9113 8.3')


@case('RFC 9113 8.3/2: a response pseudo-header (:status) in a request: '
      'malformed')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c) + hp_literal(':status', '200')))
    malformed(c, 1, 'RFC 9113 8.3')


@case('RFC 9113 8.3/3: a pseudo-header after a regular field: malformed',
      both=True)
def _(tls):
    c = open_conn(tls)
    scheme = 'https' if tls else 'http'
    c.send(headers_frame(1, hp_block([
        (':method', 'GET'), (':scheme', scheme), ('x-regular', 'x'),
        (':path', '/index.html'), (':authority', 'localhost')])))
    malformed(c, 1, 'RFC 9113 8.3')


for _name, _value in ((':method', 'GET'), (':path', '/other.html'),
                      (':scheme', 'http'), (':authority', 'localhost')):
    def _mk(name, value):
        def fn(tls):
            c = open_conn(tls)
            fields = request_fields(scheme='https' if tls else 'http')
            i = [k for k, v in fields].index(name)
            fields.insert(i + 1, (name, value if name != ':scheme' else
                                  ('https' if tls else 'http')))
            c.send(headers_frame(1, hp_block(fields)))
            malformed(c, 1, 'RFC 9113 8.3.1')
        return fn
    case('RFC 9113 8.3.1/dup%s: %s twice: malformed' % (_name, _name))(
        _mk(_name, _value))


for _name in (':method', ':scheme', ':path'):
    def _mk(name):
        def fn(tls):
            c = open_conn(tls)
            fields = [(k, v) for k, v in request_fields(
                scheme='https' if tls else 'http') if k != name]
            c.send(headers_frame(1, hp_block(fields)))
            malformed(c, 1, 'RFC 9113 8.3.1')
        return fn
    case('RFC 9113 8.3.1/no%s: a request without %s: malformed'
         % (_name, _name), both=_name == ':path')(_mk(_name))


@case('RFC 9113 8.3.1/empty-path: an empty :path: malformed')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c, path='')))
    malformed(c, 1, 'RFC 9113 8.3.1')


@case('RFC 9113 8.3.1/host: a request with Host and no :authority is '
      'served, and one with both (the same) too')
def _(tls):
    c = open_conn(tls)
    fields = [(k, v) for k, v in request_fields(
        scheme='https' if tls else 'http') if k != ':authority']
    c.send(headers_frame(1, hp_block(fields + [('host', 'localhost')])))
    served(c, 1, body=INDEX)
    c.send(headers_frame(3, req(c, extra=[('host', 'localhost')])))
    served(c, 3, body=INDEX)


@case('RFC 9110 4.2.1/empty-host: an empty :authority or host field '
      '(libnghttp2 resets either: malformed), an :authority of a port '
      'alone (400)')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c, authority='')))
    malformed(c, 1, 'RFC 9110 4.2.1')
    c.send(headers_frame(3, req(c, authority=':8080')))
    served(c, 3, status=400)
    fields = [(k, v) for k, v in request_fields(
        scheme='https' if tls else 'http') if k != ':authority']
    c.send(headers_frame(5, hp_block(fields + [('host', '')])))
    malformed(c, 5, 'RFC 9110 4.2.1')
    c.send(headers_frame(7, req(c)))
    served(c, 7, body=INDEX)


###########################################################################
# RFC 7541: HPACK.

@case('RFC 7541 6.1: indexed field 0: connection error COMPRESSION_ERROR',
      both=True)
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, hp_indexed(0) + req(c)))
    conn_error(c, [COMPRESSION_ERROR], 'RFC 7541 6.1 and RFC 9113 4.3')


@case('RFC 7541 2.3.3: index 62 with an empty dynamic table: connection '
      'error COMPRESSION_ERROR')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c) + hp_indexed(62)))
    conn_error(c, [COMPRESSION_ERROR], 'RFC 7541 2.3.3')


@case('RFC 7541 6.2: a literal whose name index is beyond the tables: '
      'connection error COMPRESSION_ERROR')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c) + hp_literal(None, 'v', name_index=100)))
    conn_error(c, [COMPRESSION_ERROR], 'RFC 7541 2.3.3 and 6.2')


@case('RFC 7541 5.1: an integer too large to decode (index with ten '
      'continuation bytes): connection error COMPRESSION_ERROR')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c) + b'\xff' + b'\xff' * 9 + b'\x7f'))
    conn_error(c, [COMPRESSION_ERROR], 'RFC 7541 5.1')


def huffman_literal(name, code_bytes):
    """A literal without indexing whose value is Huffman-coded bytes."""
    return (b'\x00' + hp_str(name) +
            hp_int(len(code_bytes), 7, 0x80) + code_bytes)


@case('RFC 7541 5.2/1: a Huffman string that contains EOS: connection '
      'error COMPRESSION_ERROR')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c) + huffman_literal('x-h', b'\xff' * 4)))
    conn_error(c, [COMPRESSION_ERROR], 'RFC 7541 5.2')


@case('RFC 7541 5.2/2: Huffman padding longer than 7 bits: connection '
      'error COMPRESSION_ERROR')
def _(tls):
    c = open_conn(tls)
    # 'a' is 00011, then 11 bits of padding
    c.send(headers_frame(1, req(c) + huffman_literal('x-h', b'\x1f\xff')))
    conn_error(c, [COMPRESSION_ERROR], 'RFC 7541 5.2')


@case('RFC 7541 5.2/3: Huffman padding that is not the EOS prefix (zero '
      'bits): connection error COMPRESSION_ERROR')
def _(tls):
    c = open_conn(tls)
    # 'a' is 00011, then 000
    c.send(headers_frame(1, req(c) + huffman_literal('x-h', b'\x18')))
    conn_error(c, [COMPRESSION_ERROR], 'RFC 7541 5.2')


@case('RFC 7541 5.2/4: a valid Huffman value is decoded (/hello/ with a '
      'Huffman-coded name)')
def _(tls):
    c = open_conn(tls)
    enc = hpack.huffman.HuffmanEncoder(
        hpack.huffman_constants.REQUEST_CODES,
        hpack.huffman_constants.REQUEST_CODES_LENGTH)
    path = enc.encode(b'/hello/huffman')
    fields = [(k, v) for k, v in request_fields(
        scheme='https' if tls else 'http') if k != ':path']
    c.send(headers_frame(1, hp_block(fields) + b'\x04' +
                         hp_int(len(path), 7, 0x80) + path))
    r = served(c, 1)
    check(b'hello, huffman!' in r.body, 'body %r' % r.body[:80])


@case('RFC 7541 6.3/1: a dynamic table size update larger than '
      'SETTINGS_HEADER_TABLE_SIZE: connection error COMPRESSION_ERROR')
def _(tls):
    c = open_conn(tls)
    limit = c.server_settings.get(HEADER_TABLE_SIZE, 4096)
    c.send(headers_frame(1, hp_size_update(limit + 1) + req(c)))
    conn_error(c, [COMPRESSION_ERROR], 'RFC 7541 6.3')


@case('RFC 7541 4.2: a dynamic table size update after a field: '
      'connection error COMPRESSION_ERROR')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, req(c) + hp_size_update(100)))
    conn_error(c, [COMPRESSION_ERROR], 'RFC 7541 4.2')


@case('RFC 7541 6.3/2: table size updates to 0 and back at the start of a '
      'block are served')
def _(tls):
    c = open_conn(tls)
    c.send(headers_frame(1, hp_size_update(0) + hp_size_update(4096) +
                         req(c)))
    served(c, 1, body=INDEX)


@case('RFC 7541 2.3.2 and 6.2.1: an entry added with incremental indexing '
      'is used by later blocks (index 62, then 63 once a second entry is added)',
      both=True)
def _(tls):
    c = open_conn(tls)
    base = [(k, v) for k, v in request_fields(
        scheme='https' if tls else 'http') if k != ':path']
    c.send(headers_frame(1, hp_block(base) +
                         hp_literal(':path', '/hello/dynamic', index=True)))
    r = served(c, 1)
    check(b'hello, dynamic!' in r.body, 'stream 1: %r' % r.body[:80])
    c.send(headers_frame(3, hp_block(base) + hp_indexed(62)))
    r = served(c, 3)
    check(b'hello, dynamic!' in r.body, 'stream 3 (index 62): %r'
          % r.body[:80])
    c.send(headers_frame(5, hp_block(base) + hp_indexed(62) +
                         hp_literal('x-second', 'v', index=True)))
    r = served(c, 5)
    check(b'hello, dynamic!' in r.body, 'stream 5 (index 62, then a second '
          'entry): %r' % r.body[:80])
    c.send(headers_frame(7, hp_block(base) + hp_indexed(63) +
                         hp_indexed(62)))
    r = served(c, 7)
    check(b'hello, dynamic!' in r.body, 'stream 7 (index 63): %r'
          % r.body[:80])


@case('RFC 7541 4.4: entries evicted from the dynamic table cannot be '
      'referenced (COMPRESSION_ERROR); the surviving ones can')
def _(tls):
    c = open_conn(tls)
    base = req(c)
    # Five entries of 32 + 4 + 1000 octets: the 4096-octet table keeps
    # the three newest (62, 63, 64).
    adds = b''.join(hp_literal('x-e%d' % i, chr(0x61 + i) * 1000,
                               index=True) for i in range(1, 6))
    c.send(headers_frame(1, base + adds))
    served(c, 1, body=INDEX)
    c.send(headers_frame(3, base + hp_indexed(62) + hp_indexed(64)))
    served(c, 3, body=INDEX)
    c.send(headers_frame(5, base + hp_indexed(65)))
    conn_error(c, [COMPRESSION_ERROR], 'RFC 7541 4.4 (index 65 was evicted)')


@case('RFC 7541 4.4: an entry larger than the table empties it; a '
      'reference to the old entries is then COMPRESSION_ERROR')
def _(tls):
    c = open_conn(tls)
    base = req(c)
    c.send(headers_frame(1, base + hp_literal('x-small', 's', index=True)))
    served(c, 1, body=INDEX)
    c.send(headers_frame(3, base + hp_literal('x-huge', 'h' * 4100,
                                              index=True)))
    served(c, 3, body=INDEX)
    c.send(headers_frame(5, base + hp_indexed(62)))
    conn_error(c, [COMPRESSION_ERROR], 'RFC 7541 4.4')


###########################################################################

def setup(d):
    ca, cert, key = make_certs(d)
    www = os.path.join(d, 'www')
    os.makedirs(www)
    with open(os.path.join(www, 'index.html'), 'wb') as f:
        f.write(INDEX)
    T.update(plain=free_port(), tls=free_port())
    T['server'] = Server(d, """workers 1;
worker_connections 1024;
shutdown_timeout 5s;

http {
    listen 127.0.0.1:%(plain)d;
    listen 127.0.0.1:%(tls)d ssl;
    server_name localhost;
    ssl_certificate %(cert)s;
    ssl_certificate_key %(key)s;
    root %(www)s;
    access_log %(dir)s/access.log;
    route /hello/ hello;
    route /delay/ delay;
    route /echo echo;
}
""" % dict(T, cert=cert, key=key, www=www, dir=d))
    T['workers'] = T['server'].start(workers=1)


@SUITE.case('after all this: the same worker, and it serves HTTP/2')
def _():
    s = T['server']
    check(s.alive(), 'the master exited')
    check(s.workers() == T['workers'], 'workers now %s, at the start %s'
          % (s.workers(), T['workers']))
    with RawConn(T['plain']) as c:
        c.handshake()
        c.send(headers_frame(1, request_block()))
        served(c, 1, body=INDEX)


@SUITE.case('after all this: no worker died, no alert, crit or emerg in the '
            'error log; QUIT stops the server with status 0')
def _():
    s = T['server']
    bad = s.bad_log_lines()
    status = s.stop()
    check(not bad, '\n'.join(bad[:10]))
    check(status == 0, 'exit status %s after QUIT' % status)


if __name__ == '__main__':
    sys.exit(SUITE.run(setup))
