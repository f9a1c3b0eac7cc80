#!/usr/bin/env bash
# 47-reg-usr-every-tcpc: REGEN=usr, REGTCP=every on a TCP client: REGUSR's bytes (decoded
# from hex) go in front of every serial frame, and nowhere else (not on connecting). A
# long write is cut into frames of at most 400 bytes, each with its own prefix. One
# reg.sent event per connection says that the prefix is on.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPC,192.168.0.201,$P" "AT+REGEN=usr" "AT+REGTCP=every" \
  "AT+REGUSR=4D302D3030303031"
net_py_bg "$P" <<'PY'
import sys
from m0net import *
port = int(sys.argv[1])
reg = b"M0-00001"
listener = tcp_listen(port)
ready()
server = accept(listener, "server")
wait_event("net.connected")
tty = Tty()
expect_nothing(server, 0.5, "connected, before any serial data (REGTCP=every)")

for i in range(3):
    frame = serial_safe(20 + i, 470 + i)
    tty.write(frame)
    server.expect(reg + frame, f"server: frame {i + 1} with its prefix")
# The event is reported once per connection (for its first prefixed frame), not per frame.
ev = wait_event("reg.sent", where={"link": 0})
if ev.get("when") != "every" or ev.get("bytes") != len(reg) or count("reg.sent") != 1:
    raise Fail(f"reg.sent: want one, when every, bytes {len(reg)}: {events('reg.sent')}")

# 1000 bytes in one write: frames of at most 400, however the reads split them.
bulk = serial_safe(1000, 475).replace(b"M", b"m")  # no byte of it can look like reg
tty.write(bulk)
stream = b""


def data_of(stream):
    """The data bytes of the stream so far: prefixes removed, also a partial one at the end."""
    for k in range(len(reg) - 1, 0, -1):
        if stream.endswith(reg[:k]):
            stream = stream[:-k]
            break
    return stream.replace(reg, b"")


while data_of(stream) != bulk:
    if not bulk.startswith(data_of(stream)):
        raise Fail(f"server: {show(stream)} is not the bulk data with prefixes")
    stream += server.read_some(what="the bulk data with prefixes")
pieces = stream.split(reg)
if pieces[0] != b"" or any(len(p) == 0 or len(p) > 400 for p in pieces[1:]):
    raise Fail(f"server: pieces between prefixes of {[len(p) for p in pieces]} bytes "
               "(want a prefix first, then 1..400 bytes after each)")
if len(pieces) - 1 < 3:
    raise Fail(f"server: {len(pieces) - 1} prefixes for 1000 bytes (at least 3 frames)")
tty.close()
server.close()
PY
m0_start
net_py_wait
m0_stop
