#!/usr/bin/env bash
# 90-control-protocol: the control channel's protocol (docs/control.md). A greeting; one
# answer per request with its id; precise errors that change nothing (malformed JSON,
# unknown command, unknown device, a bad or unknown member, a line over 256 KiB) and a
# connection that goes on after each; a client that disconnects mid-request or before
# reading its answer; 50 clients at once, each answered and each seeing the same event;
# a subscriber that never reads while 8000 restarts make events: the emulator keeps
# serving the others, and the slow one, once it reads, gets at most its 1 MiB bound and
# then a control.lost line counting what it missed.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

export M0_CONTROL=$T/ctl
P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPS,192.168.0.201,$P" "AT+SOCKPORT=$P"
m0_start --control "$M0_CONTROL" --boot-ms 0
net_py <<'PY'
import json, socket, time
from m0net import *
from ctl import CONTROL, Control

c = Control()
g = c.greeting
if g.get("protocol") != 1 or g.get("devices") != [""]:
    raise Fail(f"greeting: {g}")

# One answer per request, with its id (numbers and strings alike).
st = c.ok("status")
for key in ("mode", "links", "host", "config", "faults", "counters"):
    if key not in st:
        raise Fail(f"status lacks {key}: {st}")
if st["mode"] != "transparent" or st["powered"] is not True or st["proto"] != "TCPS":
    raise Fail(f"status: {st}")
c.send_raw(b'{"id":"abc","cmd":"list"}\n')
a = c.answer("abc")
if a["result"]["devices"][0]["dev"] != "":
    raise Fail(f"list: {a}")

# Malformed JSON: a parse error with id null, and the connection goes on.
for bad in (b'not json', b'{"id":1,"cmd":"status"', b'{"id":1,,}', b'[1,2]', b'{"id":1}{}'):
    c.send_raw(bad + b"\n")
    a = c.line()
    if a.get("ok") is not False or a["error"]["code"] != "parse" or a["id"] is not None:
        raise Fail(f"malformed {bad!r}: {a}")
c.ok("status")

# No cmd, a cmd that is no string, an id that is an object: bad-request.
for bad in ({"id": 5}, {"id": 6, "cmd": 7}, {"id": {"x": 1}, "cmd": "status"}):
    c.send_raw(json.dumps(bad).encode() + b"\n")
    a = c.line()
    if a.get("ok") is not False or a["error"]["code"] != "bad-request":
        raise Fail(f"bad request {bad}: {a}")

msg = c.error("reboot", "unknown-command")
if "commands:" not in msg or "status" not in msg:
    raise Fail(f"unknown command's message: {msg}")
msg = c.error("status", "unknown-device", dev="nope")
if '"nope"' not in msg:
    raise Fail(f"unknown device's message: {msg}")
c.error("list", "bad-param", dev="")
# A bad member changes nothing: the power stays on.
c.error("power", "bad-param", state="sideways")
c.error("power", "bad-param", state="off", for_s=-1)
c.error("power", "bad-param", state="off", for_s="1")
c.error("power", "bad-param", state="off", minutes=1)
c.error("power", "bad-param")
c.error("power", "state", state="on")
if c.ok("status")["mode"] != "transparent":
    raise Fail("a refused request changed the device")

# A line over 256 KiB is refused whole; the next one is answered.
c.send_raw(b'{"id":9,"cmd":"status","pad":"' + b"x" * 300_000 + b'"}\n')
a = c.line()
if a["error"]["code"] != "too-long":
    raise Fail(f"long line: {a}")
c.ok("status")

# A client that goes away mid-request, and one that never reads its answer.
for partial in (b'{"id":1,"cmd":"pow', b'{"id":1,"cmd":"restart"}\n'):
    s = socket.socket(socket.AF_UNIX)
    s.connect(CONTROL)
    s.sendall(partial)
    s.close()
c.ok("status")

# 50 clients at once: each answered, each sees the same restart.
many = [Control(name=f"client{i}") for i in range(50)]
for i, m in enumerate(many):
    m.send_raw(json.dumps({"id": i, "cmd": "status"}).encode() + b"\n")
for i, m in enumerate(many):
    if m.answer(i)["ok"] is not True:
        raise Fail(f"client {i} was not answered")
    m.ok("subscribe")
c.ok("restart")
for m in many:
    m.wait_event("restart", cause="control")
    m.close()

# A subscriber that never reads.
slow = socket.socket(socket.AF_UNIX)
slow.connect(CONTROL)
slow.sendall(b'{"id":1,"cmd":"subscribe"}\n')
time.sleep(0.2)
N = 8000  # ~4 events of ~90 bytes each: about 3 MiB owed to the slow one
for batch in range(0, N, 500):
    c.send_raw(b"".join(json.dumps({"id": f"r{i}", "cmd": "restart"}).encode() + b"\n"
                        for i in range(batch, batch + 500)))
    for i in range(batch, batch + 500):
        if c.answer(f"r{i}")["ok"] is not True:
            raise Fail(f"restart {i} refused")
c.stream.clear()
st = c.ok("status")  # the others are still served
if st["counters"]["restarts"] < N:
    raise Fail(f"restarts: {st['counters']}")
got = b""
slow.settimeout(TIMEOUT)
while b'"ev":"control.lost"' not in got:
    b = slow.recv(65536)
    if not b:
        raise Fail("the slow subscriber was disconnected")
    got += b
    if len(got) > 4 * 1024 * 1024:
        raise Fail("the slow subscriber got more than 4 MiB: the bound did not hold")
lost = [json.loads(l) for l in got.split(b"\n") if b"control.lost" in l][0]
if lost["lines"] <= 0:
    raise Fail(f"control.lost: {lost}")
log(f"slow subscriber: {len(got)} bytes, then {lost}")
slow.close()
c.ok("status")
PY
m0_stop
[[ ! -e $M0_CONTROL ]] || fail "the control socket is still there after exit"
