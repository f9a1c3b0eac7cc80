#!/usr/bin/env bash
# 43-htpc-htphead: HTPHEAD's <<CRLF>> tokens. The value is stored and answered as typed
# (commas included), and each piece between the tokens reaches the server as a header
# line of its own, in order, after Host, the header block ending with one empty line.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=HTPC,192.168.0.201,$P" "AT+HTPURL=/in?"
net_py_bg "$P" <<'PY'
import sys
from m0net import *
port = int(sys.argv[1])
server = HttpPeer(port)
ready()
wait_event("ready", where={"proto": "HTPC"})
tty = Tty()

head = "X-Device: m0<<CRLF>>Accept: text/plain, */*<<CRLF>>Authorization: Basic bTA6bTA="
tty.handshake()
tty.at(f"AT+HTPHEAD={head}", "\r\n+ok\r\n")
tty.at("AT+HTPHEAD", f"\r\n+ok={head}\r\n")
tty.at("AT+Z", "\r\n+ok\r\n")
wait_event("ready", 2)

tty.write(b"v=1")
tty.expect(HTTP_ANSWER, "tty: the response")
req = server.wait_requests(1)[0]
want = (b"GET /in?v=1 HTTP/1.1\r\n"
        b"Host: 192.168.0.201:%d\r\n"
        b"X-Device: m0\r\n"
        b"Accept: text/plain, */*\r\n"
        b"Authorization: Basic bTA6bTA=\r\n"
        b"\r\n" % port)
same(req["raw"], want, "server: the request's bytes")
names = [k for k, _ in req["headers"]]
if names != ["Host", "X-Device", "Accept", "Authorization"]:
    raise Fail(f"server: header names {names}")
if "<<CRLF>>" in req["raw"].decode("latin-1"):
    raise Fail("server: a <<CRLF>> token reached the wire")
tty.close()
server.close()
PY
m0_start
net_py_wait
m0_stop
