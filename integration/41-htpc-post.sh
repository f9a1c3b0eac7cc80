#!/usr/bin/env bash
# 41-htpc-post: HTTP client, POST, against a real HTTP server. The request target is
# HTPURL alone; the frame (any bytes: CR, LF, NUL, 0xFF) is the body, with its
# Content-Length; Host names SOCK's address and port and HTPHEAD's lines follow it. The
# server's whole response (here a 201) reaches the host unchanged.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=HTPC,192.168.0.201,$P" "AT+HTPTP=POST" "AT+HTPURL=/log"
net_py_bg "$P" "$T/http.log" <<'PY'
import sys
from m0net import *
port = int(sys.argv[1])
answer = (b"HTTP/1.1 201 Created\r\nContent-Length: 9\r\nConnection: close\r\n\r\n"
          b"stored\r\n\x00")
server = HttpPeer(port, answers=[answer], log_path=sys.argv[2])
ready()
wait_event("ready", where={"proto": "HTPC"})
tty = Tty()

body = b"\r\n\x00\xff" + serial_safe(196, 41)
tty.write(body)
tty.expect(answer, "tty: the whole response")
req = server.wait_requests(1)[0]
if req["method"] != "POST" or req["target"] != "/log":
    raise Fail(f"server: request {req['method']} {req['target']}, want POST /log")
same(req["body"], body, "server: the POST body (the frame)")
head = req["raw"][:len(req["raw"]) - len(body)]
if not head.startswith(b"POST /log HTTP/1.1\r\n") or not head.endswith(b"\r\n\r\n"):
    raise Fail(f"server: request head {head!r}")
headers = req["headers"]
lengths = [v for k, v in headers if k.lower() == "content-length"]
others = [(k, v) for k, v in headers if k.lower() != "content-length"]
if lengths != [str(len(body))]:
    raise Fail(f"server: Content-Length {lengths}, want one, {len(body)}")
want = [("Host", f"192.168.0.201:{port}"), ("User_Agent", "Mozilla/4.0"),
        ("Connection", "close")]
if others != want:
    raise Fail(f"server: headers {others}, want {want} (and Content-Length)")
sent = wait_event("http.request", where={"link": 0})
if sent.get("method") != "POST" or sent.get("bytes") != len(req["raw"]):
    raise Fail(f"http.request: want method POST, bytes {len(req['raw'])}: {sent}")
got = wait_event("http.response", where={"link": 0})
if got.get("status") != 201 or got.get("bytes") != len(answer):
    raise Fail(f"http.response: want status 201, bytes {len(answer)}: {got}")
tty.close()
server.close()
PY
m0_start
net_py_wait
m0_stop
