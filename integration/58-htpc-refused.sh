#!/usr/bin/env bash
# 58-htpc-refused: nobody listens on SOCK's port. The frame is lost (no retry: a request
# is not a stream to resume): http.error with reason refused, a drop event (to_net,
# not-connected), nothing to the host. Once a server listens, the next frame gets its
# request and its response.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=HTPC,192.168.0.201,$P"
m0_start
net_py "$P" <<'PY'
import sys
from m0net import *
port = int(sys.argv[1])
tty = Tty()
tty.write(b"lost=1")
err = wait_event("http.error", where={"link": 0})
if err.get("reason") != "refused":
    raise Fail(f"http.error: want reason refused: {err}")
drop = wait_event("drop", where={"dir": "to_net", "reason": "not-connected"})
if drop.get("bytes") != len(b"lost=1"):
    raise Fail(f"drop: want the frame's {len(b'lost=1')} bytes: {drop}")
expect_nothing(tty, 0.3, "after a refused request (nothing for the host)")

server = HttpPeer(port)
tty.write(b"kept=2")
tty.expect(HTTP_ANSWER, "tty: the response to the next frame")
reqs = server.wait_requests(1)
if reqs[0]["target"] != "/2.php?kept=2" or count("http.request") != 1:
    raise Fail(f"want one request, for kept=2: {reqs[0]['target']}, {events('http.request')}")
tty.close()
server.close()
PY
m0_stop
