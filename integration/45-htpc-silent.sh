#!/usr/bin/env bash
# 45-htpc-silent: the server takes the request and never answers. The device gives up on
# its own (the HTTP client's 10 s timeout; this scenario only bounds the wait, at 20 s):
# http.error, the connection closed by the device, nothing to the host; the next frame
# is a new request whose response reaches the host whole.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=HTPC,192.168.0.201,$P" "AT+HTPTP=POST" "AT+HTPURL=/slow"
net_py_bg "$P" <<'PY'
import sys
from m0net import *
port = int(sys.argv[1])
listener = tcp_listen(port)
ready()
wait_event("ready", where={"proto": "HTPC"})
tty = Tty()

tty.write(b"first")
silent = accept(listener, "silent server")
req = http_read_request(silent)
if not req.startswith(b"POST /slow HTTP/1.1\r\n") or not req.endswith(b"\r\n\r\nfirst"):
    raise Fail(f"first request: {show(req)}")
err = wait_event("http.error", where={"link": 0}, timeout=20)
if err.get("reason") != "timeout" or err.get("code") != "":
    raise Fail(f"http.error: want reason timeout, code empty: {err}")
silent.expect_closed("waiting for the device to close the unanswered request")
silent.close()

tty.write(b"second")
server = accept(listener, "HTTP server")
req = http_read_request(server)
if not req.endswith(b"\r\n\r\nsecond"):
    raise Fail(f"second request: {show(req)}")
server.write(HTTP_ANSWER)
tty.expect(HTTP_ANSWER, "tty: the next response, whole (nothing before it)")
wait_event("http.response", where={"link": 0, "status": 200})
if count("http.error") != 1 or count("http.response") != 1:
    raise Fail(f"want one http.error, one http.response: {events()}")
tty.close()
PY
m0_start
net_py_wait
m0_stop
