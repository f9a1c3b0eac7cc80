#!/usr/bin/env bash
# 44-htpc-errors: a request that fails does not hold up the next. Nobody listens: the
# frame is lost (no retry: a request is not a stream to resume), http.error with reason
# refused, a drop event (to_net, not-connected), nothing to the host. The server answers
# something that is not HTTP (an SSH banner: a wrong service on the port): http.error
# with llhttp's reason and code, nothing of it to the host, the connection closed by the
# device. Each time the next frame is a new request whose response reaches the host whole.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=HTPC,192.168.0.201,$P"
net_py_bg "$P" <<'PY'
import sys
from m0net import *
port = int(sys.argv[1])
ready()
wait_event("ready", where={"proto": "HTPC"})
tty = Tty()

tty.write(b"lost=1")
err = wait_event("http.error", where={"link": 0})
if err.get("reason") != "refused":
    raise Fail(f"http.error: want reason refused: {err}")
drop = wait_event("drop", where={"dir": "to_net", "reason": "not-connected"})
if drop.get("bytes") != len(b"lost=1"):
    raise Fail(f"drop: want the frame's {len(b'lost=1')} bytes: {drop}")
expect_nothing(tty, 0.3, "after a refused request (nothing for the host)")

listener = tcp_listen(port)

tty.write(b"q=1")
peer = accept(listener, "not an HTTP server")
req = http_read_request(peer)
if not req.startswith(b"GET /2.php?q=1 HTTP/1.1\r\n"):
    raise Fail(f"the request answered with garbage: {show(req)}")
peer.write(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
err = wait_event("http.error", 2, where={"link": 0})
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
    raise Fail(f"the request after the garbage: {show(req)}")
server.write(HTTP_ANSWER)
tty.expect(HTTP_ANSWER, "tty: the next response, whole (and nothing of the garbage)")
wait_event("http.response", where={"link": 0, "status": 200})
server.expect_closed("waiting for the device to close after the response")
if count("http.error") != 2 or count("http.request") != 2:
    raise Fail(f"want two http.error (refused, garbage) and two requests sent: "
               f"{events('http.error')} {events('http.request')}")
tty.close()
PY
m0_start
net_py_wait
m0_stop
