#!/usr/bin/env bash
# 44-htpc-garbage: the server answers something that is not HTTP (an SSH banner: a wrong
# service on the port). The device reports http.error (with llhttp's reason), passes
# nothing of it to the host, closes that connection, and the next frame is a new request
# on a new connection whose response reaches the host whole.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=HTPC,192.168.0.201,$P"
net_py_bg "$P" <<'PY'
import sys
from m0net import *
port = int(sys.argv[1])
listener = tcp_listen(port)
ready()
wait_event("ready", where={"proto": "HTPC"})
tty = Tty()

tty.write(b"q=1")
peer = accept(listener, "not an HTTP server")
req = http_read_request(peer)
if not req.startswith(b"GET /2.php?q=1 HTTP/1.1\r\n"):
    raise Fail(f"first request: {show(req)}")
peer.write(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
err = wait_event("http.error", where={"link": 0})
if not isinstance(err.get("reason"), str) or not err["reason"] or \
        not str(err.get("code")).startswith("HPE_"):
    raise Fail(f"http.error: want llhttp's reason and code (HPE_...): {err}")
peer.expect_closed("waiting for the device to close the connection that answered garbage")
peer.close()
if count("http.response"):
    raise Fail(f"http.response for garbage: {events('http.response')}")

tty.write(b"q=2")
server = accept(listener, "HTTP server")
req = http_read_request(server)
if not req.startswith(b"GET /2.php?q=2 HTTP/1.1\r\n"):
    raise Fail(f"second request: {show(req)}")
server.write(HTTP_ANSWER)
tty.expect(HTTP_ANSWER, "tty: the next response, whole (and nothing of the garbage)")
wait_event("http.response", where={"link": 0, "status": 200})
server.expect_closed("waiting for the device to close after the response")
if count("http.error") != 1:
    raise Fail(f"want exactly one http.error: {events('http.error')}")
tty.close()
PY
m0_start
net_py_wait
m0_stop
