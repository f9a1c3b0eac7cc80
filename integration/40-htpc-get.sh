#!/usr/bin/env bash
# 40-htpc-get: HTTP client, GET (the factory HTPTP), against a real HTTP server (python's
# http.server). Each serial frame is one request on a new connection to SOCK's port:
# `GET <HTPURL><frame> HTTP/1.1`, a Host header naming SOCK's address and port, then the
# factory HTPHEAD's two lines; the whole response (HTPCHD=off) reaches the host byte for
# byte. A frame with a space still makes a valid request (the space percent-encoded).
# Frames are answered in order, one connection each.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=HTPC,192.168.0.201,$P"
net_py_bg "$P" "$T/http.log" <<'PY'
import sys
from m0net import *
port = int(sys.argv[1])
server = HttpPeer(port, log_path=sys.argv[2])
ready()
wait_event("ready", where={"proto": "HTPC"})
tty = Tty()

frame = b"temp=21.5&id=7"
tty.write(frame)
tty.expect(HTTP_ANSWER, "tty: the whole response (HTPCHD=off)")
req = server.wait_requests(1)[0]
want = (b"GET /2.php?temp=21.5&id=7 HTTP/1.1\r\n"
        b"Host: 192.168.0.201:%d\r\n"
        b"User_Agent: Mozilla/4.0\r\n"
        b"Connection: close\r\n"
        b"\r\n" % port)
same(req["raw"], want, "server: the request's bytes")
if req["method"] != "GET" or req["target"] != "/2.php?temp=21.5&id=7" or req["body"]:
    raise Fail(f"server: parsed as {req['method']} {req['target']} body {req['body']!r}")
sent = wait_event("http.request", where={"link": 0})
if sent.get("method") != "GET" or sent.get("bytes") != len(want):
    raise Fail(f"http.request: want method GET, bytes {len(want)}: {sent}")
got = wait_event("http.response", where={"link": 0})
if got.get("status") != 200 or got.get("bytes") != len(HTTP_ANSWER):
    raise Fail(f"http.response: want status 200, bytes {len(HTTP_ANSWER)}: {got}")

# A space is not allowed in a request target: the request stays valid.
tty.write(b"name=m0 emu")
tty.expect(HTTP_ANSWER, "tty: the response to the frame with a space")
req = server.wait_requests(2)[1]
if req["target"] != "/2.php?name=m0%20emu":
    raise Fail(f"server: target {req['target']!r}, want '/2.php?name=m0%20emu'")

# Three frames, one request each, answered in order. Each frame is written once the
# device has taken the previous one (its request went out), so no two make one frame.
for i in range(3):
    tty.write(b"n=%d" % i)
    wait_event("http.request", 3 + i)
tty.expect(HTTP_ANSWER * 3, "tty: three responses")
targets = [r["target"] for r in server.wait_requests(5)[2:]]
if targets != ["/2.php?n=0", "/2.php?n=1", "/2.php?n=2"]:
    raise Fail(f"server: targets {targets}, want n=0, n=1, n=2 in order")
wait_event("http.response", 5)
if count("http.error"):
    raise Fail(f"http.error: {events('http.error')}")
tty.close()
server.close()
PY
m0_start
net_py_wait
m0_stop
