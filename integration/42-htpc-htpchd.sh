#!/usr/bin/env bash
# 42-htpc-htpchd: what of the HTTP response reaches the host. HTPCHD=off (factory): the
# whole response, status line, headers and body exactly as the server sent them (a
# chunked body with its chunk sizes). HTPCHD=on (set with AT, used after AT+Z): only the
# body, de-chunked: nothing of the status line or the headers.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=HTPC,192.168.0.201,$P"
net_py_bg "$P" <<'PY'
import sys
from m0net import *
port = int(sys.argv[1])
chunked = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n"
           b"\r\n5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n")
# Requests alternate: a response with Content-Length, then a chunked one.
server = HttpPeer(port, answers=[HTTP_ANSWER, chunked, HTTP_ANSWER, chunked])
ready()
wait_event("ready", where={"proto": "HTPC"})
tty = Tty()

tty.write(b"a=1")
tty.expect(HTTP_ANSWER, "tty: HTPCHD=off, the whole response")
wait_event("http.response", 1)
tty.write(b"a=2")
tty.expect(chunked, "tty: HTPCHD=off, the whole chunked response")
wait_event("http.response", 2)

tty.handshake()
tty.at("AT+HTPCHD", "\r\n+ok=off\r\n")
tty.at("AT+HTPCHD=on", "\r\n+ok\r\n")
tty.at("AT+Z", "\r\n+ok\r\n")
wait_event("ready", 2)

tty.write(b"a=3")
tty.expect(b"hello, host\n", "tty: HTPCHD=on, the body only")
wait_event("http.response", 3)
tty.write(b"a=4")
tty.expect(b"hello, world", "tty: HTPCHD=on, the chunked body, de-chunked")
wait_event("http.response", 4)
expect_nothing(tty, 0.5, "waiting after the last body (nothing else is due)")
targets = [r["target"] for r in server.wait_requests(4)]
if targets != ["/2.php?a=1", "/2.php?a=2", "/2.php?a=3", "/2.php?a=4"]:
    raise Fail(f"server: targets {targets}")
tty.close()
server.close()
PY
m0_start
net_py_wait
m0_stop
