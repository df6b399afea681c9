#!/usr/bin/python3
# upstream_app.py: the application behind forkloop's reverse proxy in the
# integration tests (tests/proxy*.t, issue 14): the aiohttp demo
# (/, /hello/{name}, /sleep awaiting asyncio.sleep(0.5)) plus one route per
# case a proxy test needs.  Started by tests/lib/Forkloop/Upstream.pm:
#
#   upstream_app.py [--port N | --unix PATH] [--name NAME]
#                   [--keepalive-timeout SECONDS]
#
# It listens on 127.0.0.1:N (0: the kernel picks; SO_REUSEADDR, so a
# restarted instance gets its old port back) or on a Unix socket, and
# prints "ready PORT" (or "ready unix:PATH") once it serves.  TERM stops
# it gracefully: the listener closes, requests in flight finish.
#
# Every answer names the instance in X-Upstream-Name and the connection
# it came on in X-Upstream-Conn (a serial number).  Routes (GET unless
# said):
#   /                    "Hello, world\n"
#   /hello/{name}        "Hello, NAME\n"
#   /sleep               awaits asyncio.sleep(0.5), then "slept\n"
#   /id                  the instance's name (--name) and a newline
#   /headers             JSON: method, path (with the query, as sent),
#                        version, headers ([name, value] pairs in order),
#                        peer address and port, conn (a serial number of
#                        the connection), conn_requests (its nth request),
#                        name, body_bytes (any method)
#   /slow?ms=N           answers after N ms
#   /sse?n=N&ms=M[&gate=KEY]  text/event-stream, N events "data: I" spaced
#                        by M ms; with gate, event I+1 waits until
#                        /gate/KEY/I+1 is hit (on the app directly), so a
#                        test knows event I reached it before I+1 was sent
#   /gate/{key}/{i}      opens gate KEY up to event (or piece) I
#   /large?bytes=N[&chunked=1][&gate=KEY&at=BYTES]
#                        N bytes of the pattern below, streamed in 64 KiB
#                        writes, with Content-Length (or chunked); X-Sha256
#                        is the sha256 of the body; with gate, the writes
#                        stop after AT bytes until /gate/KEY/1 is hit
#   /chunked             a chunked answer in five writes spaced 50 ms:
#                        "part 0\n" ... "part 4\n"
#   /upload  (POST/PUT)  reads the body as it streams in: JSON bytes,
#                        sha256, chunked (the request was), content_length
#   /close-mid[?chunked=1]  a head with Content-Length: 100000 (or
#                        chunked) and 10000 bytes of "x", then the
#                        connection is aborted
#   /status/{code}       that status, body "status CODE\n" (none for 1xx,
#                        204, 304)
#   /redirect[?self=1]   302 to http://HOST/target?from=redirect, HOST the
#                        Host the request named (self=1: the address the
#                        app listens on)
#   /set-cookie          two Set-Cookie fields
#   /hop                 an answer with hop-by-hop fields a proxy must
#                        drop (Connection: x-foo, close-ish; X-Foo;
#                        Keep-Alive; Upgrade; Proxy-Connection; Trailer)
#                        and X-Kept, X-Hidden which it keeps unless hidden
#   /ws                  WebSocket echo (text and binary; pings answered)
#   /stats               JSON counters: requests, by_path, conns_opened,
#                        conns_closed, open_conns (serials; connections
#                        that carried only /stats and /gate queries are
#                        left out of these four), uploads (each
#                        {bytes, complete, conn}), downloads_aborted,
#                        ws_sessions; for the test, on the app directly
#   /stats/reset         zeroes the counters (POST or GET)
#
# The large-body pattern: 64 KiB blocks, block K being the 8 hex digits of
# K ("%08x") followed by BASE, BASE[j] = (7 * j + 3) mod 256 for j < 65528;
# the body is their concatenation cut at N bytes (the tests build the same
# bytes to check a download and to send an upload).

import argparse
import asyncio
import hashlib
import json
import os
import signal
import socket
import sys

try:
    from aiohttp import web, WSMsgType
    import aiohttp.web_protocol
except ImportError:
    print('upstream_app.py: python3-aiohttp is needed', file=sys.stderr)
    sys.exit(3)

BLOCK = 65536
BASE = bytes((7 * j + 3) & 0xff for j in range(BLOCK - 8))
STATS = {}
CONN_SERIAL = [0]
OPEN = {}           # id(protocol) -> [serial, requests so far]
GATES = {}          # key -> [level, asyncio.Condition]
SHA_CACHE = {}


def reset_stats():
    STATS.clear()
    STATS.update(requests=0, by_path={}, conns_opened=0, conns_closed=0,
                 uploads=[], downloads_aborted=0, ws_sessions=0)


reset_stats()

# Connection accounting: aiohttp has no hook for it, so the handler
# protocol's connection_made/connection_lost are wrapped (the protocol has
# __slots__: what we note is kept here, by its id, while it is open).
# The counters are for the connections the proxy makes: a connection is
# counted from its first request that is not a test's own query (/stats,
# /gate), so asking never changes the answer.
_made = aiohttp.web_protocol.RequestHandler.connection_made
_lost = aiohttp.web_protocol.RequestHandler.connection_lost


def _conn_made(self, transport):
    CONN_SERIAL[0] += 1
    OPEN[id(self)] = [CONN_SERIAL[0], 0]
    return _made(self, transport)


def _conn_lost(self, exc):
    conn = OPEN.pop(id(self), None)
    if conn is not None and conn[1] > 0:
        STATS['conns_closed'] += 1
    return _lost(self, exc)


def is_control(path):
    return path.startswith('/stats') or path.startswith('/gate/')


aiohttp.web_protocol.RequestHandler.connection_made = _conn_made
aiohttp.web_protocol.RequestHandler.connection_lost = _conn_lost


def pattern(n):
    """The first n bytes of the large-body pattern, as 64 KiB pieces."""
    k = 0
    left = n
    while left > 0:
        block = ('%08x' % k).encode() + BASE
        piece = block[:left]
        yield piece
        left -= len(piece)
        k += 1


def pattern_sha256(n):
    if n not in SHA_CACHE:
        h = hashlib.sha256()
        for piece in pattern(n):
            h.update(piece)
        SHA_CACHE[n] = h.hexdigest()
    return SHA_CACHE[n]


def gate(key):
    if key not in GATES:
        GATES[key] = [0, asyncio.Condition()]
    return GATES[key]


async def gate_wait(key, level, timeout=30):
    g = gate(key)
    async with g[1]:
        await asyncio.wait_for(g[1].wait_for(lambda: g[0] >= level), timeout)


def qint(request, name, default):
    try:
        return int(request.query.get(name, default))
    except ValueError:
        raise web.HTTPBadRequest(text='bad %s\n' % name)


@web.middleware
async def count(request, handler):
    path = request.path
    STATS['by_path'][path] = STATS['by_path'].get(path, 0) + 1
    conn = OPEN.get(id(request.protocol))
    if not is_control(path):
        STATS['requests'] += 1
        if conn:
            conn[1] += 1
            if conn[1] == 1:
                STATS['conns_opened'] += 1
    resp = await handler(request)
    return resp


async def index(request):
    return web.Response(text='Hello, world\n')


async def hello(request):
    return web.Response(text='Hello, %s\n' % request.match_info['name'])


async def sleep(request):
    await asyncio.sleep(0.5)
    return web.Response(text='slept\n')


async def ident(request):
    return web.Response(text=request.app['name'] + '\n')


async def headers(request):
    body = await request.read()
    peer = request.transport.get_extra_info('peername') \
        if request.transport else None
    if isinstance(peer, (tuple, list)) and len(peer) >= 2:
        addr, port = peer[0], peer[1]
    else:
        addr, port = (peer or 'unix'), None
    conn = OPEN.get(id(request.protocol), [None, None])
    doc = {
        'method': request.method,
        'path': request.raw_path,
        'version': '%d.%d' % (request.version.major, request.version.minor),
        'headers': [[k.decode('latin-1'), v.decode('latin-1')]
                    for k, v in request.raw_headers],
        'peer': addr,
        'peer_port': port,
        'conn': conn[0],
        'conn_requests': conn[1],
        'name': request.app['name'],
        'body_bytes': len(body),
    }
    return web.json_response(doc)


async def slow(request):
    await asyncio.sleep(qint(request, 'ms', 1000) / 1000.0)
    return web.Response(text='slow\n')


async def sse(request):
    n = qint(request, 'n', 5)
    ms = qint(request, 'ms', 100)
    key = request.query.get('gate')
    resp = web.StreamResponse(headers={'Content-Type': 'text/event-stream',
                                       'Cache-Control': 'no-cache'})
    await resp.prepare(request)
    for i in range(n):
        if i > 0:
            if key:
                await gate_wait(key, i)
            else:
                await asyncio.sleep(ms / 1000.0)
        await resp.write(('id: %d\ndata: event %d\n\n' % (i, i)).encode())
    await resp.write_eof()
    return resp


async def gate_open(request):
    key = request.match_info['key']
    level = int(request.match_info['i'])
    g = gate(key)
    async with g[1]:
        if level > g[0]:
            g[0] = level
        g[1].notify_all()
    return web.Response(text='open %s %d\n' % (key, level))


async def large(request):
    n = qint(request, 'bytes', 1 << 20)
    key = request.query.get('gate')
    at = qint(request, 'at', 1 << 20)
    resp = web.StreamResponse(headers={
        'Content-Type': 'application/octet-stream',
        'X-Sha256': pattern_sha256(n),
        'X-Bytes': str(n)})
    if request.query.get('chunked') == '1':
        resp.enable_chunked_encoding()
    else:
        resp.content_length = n
    await resp.prepare(request)
    sent = 0
    gated = key is None
    try:
        for piece in pattern(n):
            if not gated and sent + len(piece) > at:
                head = at - sent
                if head > 0:
                    await resp.write(piece[:head])
                    piece = piece[head:]
                    sent += head
                await gate_wait(key, 1, timeout=60)
                gated = True
            await resp.write(piece)
            sent += len(piece)
        await resp.write_eof()
    except (ConnectionResetError, asyncio.CancelledError):
        STATS['downloads_aborted'] += 1
        raise
    return resp


async def chunked(request):
    resp = web.StreamResponse(headers={'Content-Type': 'text/plain'})
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    for i in range(5):
        if i:
            await asyncio.sleep(0.05)
        await resp.write(('part %d\n' % i).encode())
    await resp.write_eof()
    return resp


async def upload(request):
    h = hashlib.sha256()
    n = 0
    rec = {'bytes': 0, 'complete': False,
           'conn': OPEN.get(id(request.protocol), [None])[0]}
    STATS['uploads'].append(rec)
    async for data in request.content.iter_any():
        h.update(data)
        n += len(data)
        rec['bytes'] = n
    rec['complete'] = True
    return web.json_response({
        'bytes': n,
        'sha256': h.hexdigest(),
        'chunked': 'chunked' in request.headers.get('Transfer-Encoding',
                                                    '').lower(),
        'content_length': request.headers.get('Content-Length'),
        'method': request.method,
    })


async def close_mid(request):
    resp = web.StreamResponse(headers={'Content-Type': 'text/plain'})
    if request.query.get('chunked') == '1':
        resp.enable_chunked_encoding()
    else:
        resp.content_length = 100000
    await resp.prepare(request)
    await resp.write(b'x' * 10000)
    # Let the bytes leave before the abort throws away what is unsent.
    await asyncio.sleep(0.2)
    request.transport.abort()
    raise asyncio.CancelledError()


async def status(request):
    code = int(request.match_info['code'])
    if code < 200 or code in (204, 304):
        return web.Response(status=code)
    return web.Response(status=code, text='status %d\n' % code)


async def redirect(request):
    if request.query.get('self') == '1':
        host = request.app['self_host']
    else:
        host = request.headers.get('Host', request.app['self_host'])
    raise web.HTTPFound('http://%s/target?from=redirect' % host)


async def set_cookie(request):
    resp = web.Response(text='cookies\n')
    resp.headers.add('Set-Cookie', 'a=1; Path=/')
    resp.headers.add('Set-Cookie', 'b=2; Path=/; HttpOnly')
    return resp


async def hop(request):
    resp = web.Response(text='hop\n')
    resp.headers['Connection'] = 'x-foo'
    resp.headers['X-Foo'] = 'must-be-dropped'
    resp.headers['Keep-Alive'] = 'timeout=5, max=100'
    resp.headers['Proxy-Connection'] = 'keep-alive'
    resp.headers['Upgrade'] = 'example/1'
    resp.headers['Trailer'] = 'X-Checksum'
    resp.headers['X-Kept'] = 'yes'
    resp.headers['X-Hidden'] = 'secret'
    return resp


async def ws(request):
    sock = web.WebSocketResponse(autoping=True)
    await sock.prepare(request)
    STATS['ws_sessions'] += 1
    async for msg in sock:
        if msg.type == WSMsgType.TEXT:
            await sock.send_str(msg.data)
        elif msg.type == WSMsgType.BINARY:
            await sock.send_bytes(msg.data)
        else:
            break
    return sock


async def stats(request):
    doc = dict(STATS)
    doc['open_conns'] = sorted(c[0] for c in OPEN.values() if c[1] > 0)
    return web.json_response(doc)


async def stats_reset(request):
    reset_stats()
    return web.Response(text='reset\n')


async def name_header(request, resp):
    resp.headers['X-Upstream-Name'] = request.app['name']
    conn = OPEN.get(id(request.protocol))
    if conn:
        resp.headers['X-Upstream-Conn'] = str(conn[0])


def make_app(name, self_host):
    app = web.Application(middlewares=[count], client_max_size=1 << 30)
    app.on_response_prepare.append(name_header)
    app['name'] = name
    app['self_host'] = self_host
    r = app.router
    r.add_get('/', index)
    r.add_get('/hello/{name}', hello)
    r.add_get('/sleep', sleep)
    r.add_get('/id', ident)
    r.add_route('*', '/headers', headers)
    r.add_route('*', '/headers/{tail:.*}', headers)
    r.add_get('/slow', slow)
    r.add_get('/sse', sse)
    r.add_get('/gate/{key}/{i}', gate_open)
    r.add_get('/large', large)
    r.add_get('/chunked', chunked)
    r.add_route('POST', '/upload', upload)
    r.add_route('PUT', '/upload', upload)
    r.add_get('/close-mid', close_mid)
    r.add_route('*', '/status/{code:[0-9]{3}}', status)
    r.add_get('/redirect', redirect)
    r.add_get('/set-cookie', set_cookie)
    r.add_get('/hop', hop)
    r.add_get('/ws', ws)
    r.add_get('/stats', stats)
    r.add_route('*', '/stats/reset', stats_reset)
    return app


async def main(args):
    if args.unix:
        self_host = 'localhost'
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(('127.0.0.1', args.port))
        port = sock.getsockname()[1]
        self_host = '127.0.0.1:%d' % port
    app = make_app(args.name, self_host)
    runner = web.AppRunner(app, access_log=None,
                           keepalive_timeout=args.keepalive_timeout,
                           handle_signals=False)
    await runner.setup()
    if args.unix:
        if os.path.exists(args.unix):
            os.unlink(args.unix)
        site = web.UnixSite(runner, args.unix, shutdown_timeout=30)
        await site.start()
        print('ready unix:%s' % args.unix, flush=True)
    else:
        site = web.SockSite(runner, sock, shutdown_timeout=30)
        await site.start()
        print('ready %d' % port, flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    print('stopping', flush=True)
    await runner.cleanup()
    print('stopped', flush=True)


if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('--port', type=int, default=0)
    p.add_argument('--unix')
    p.add_argument('--name', default='app')
    p.add_argument('--keepalive-timeout', type=float, default=75.0)
    asyncio.run(main(p.parse_args()))
