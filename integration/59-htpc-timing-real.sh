#!/usr/bin/env bash
# 59-htpc-timing-real: with --timing real (the default: the UART runs at 115200 baud), a
# host write of 300 bytes is one unbroken run on the line, hence one frame (spec §2.2: a
# frame ends after 4 idle character times or at 400 bytes) and one HTTP request: one
# POST whose body is the 300 bytes, one response to the host. The device's own pacing of
# the line (about 1 ms of bytes at a time) is not idleness.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=HTPC,192.168.0.201,$P" "AT+HTPTP=POST" "AT+HTPURL=/bulk"
net_py_bg "$P" <<'PY'
import sys, time
from m0net import *
port = int(sys.argv[1])
server = HttpPeer(port)
ready()
wait_event("ready", where={"proto": "HTPC"})
tty = Tty()
body = serial_safe(300, 59)
tty.write(body)
tty.expect(HTTP_ANSWER, "tty: the response")
wait_event("http.response")
time.sleep(0.5)  # a minimum: room for any further request to show up
reqs = server.requests
bodies = [len(r["body"]) for r in reqs]
if len(reqs) != 1:
    raise Fail(f"one 300-byte write became {len(reqs)} requests with bodies of {bodies} "
               "bytes: the line was never idle, so it is one frame")
same(reqs[0]["body"], body, "server: the body")
expect_nothing(tty, 0.2, "after the one response")
tty.close()
server.close()
PY
m0_start --timing real
net_py_wait
m0_stop
