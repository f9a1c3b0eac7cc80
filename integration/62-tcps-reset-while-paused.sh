#!/usr/bin/env bash
# 62-tcps-reset-while-paused: the host has the tty open but reads nothing, so the device
# stops reading a client once its buffers toward the host are full. A reset from that
# client is still seen at once: net.closed (reason "reset") arrives within 5 s (the
# device looks every 100 ms; before the fix it came only when the host read again),
# and what the device had taken before the reset still reaches the host, in order.
# A graceful close (FIN) behind unread data is not reported early: the host first gets
# every byte sent before it, then the close (reason "closed").
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPS,127.0.0.1,$P" "AT+SOCKPORT=$P"
m0_start
net_py "$P" <<'PY'
import struct, sys, time
from m0net import *
port = int(sys.argv[1])
wait_event("net.listening")
tty = Tty()  # attached: the device keeps the client's bytes for it instead of dropping

def device_side(client):
    """(state, unread bytes) of the device's end of client's connection (/proc/net/tcp):
    state 1 established, 8 close-wait (the FIN came); None once the socket is gone."""
    with open("/proc/net/tcp") as f:
        for line in f.read().splitlines()[1:]:
            fields = line.split()
            local, remote = fields[1].split(":"), fields[2].split(":")
            if int(local[1], 16) == port and int(remote[1], 16) == client.port:
                return int(fields[3], 16), int(fields[4].split(":")[1], 16)
    return None

def fill_until_paused(client, seed):
    """Send until the device leaves bytes unread in its socket for 0.5 s: it paused the
    link (the host reads nothing). Returns everything sent."""
    sent, n = bytearray(), 0
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        side = device_side(client)
        if side is None:
            raise Fail(f"{client.name}: the device's end of the connection is gone")
        if side[1] == 0:
            chunk = data(16384, seed * 1000 + n)
            n += 1
            try:
                sent += chunk[:client.sock.send(chunk)]
            except BlockingIOError:
                pass
            time.sleep(0.01)
            continue
        unread, still = side[1], time.monotonic() + 0.5
        while time.monotonic() < still and device_side(client) == side:
            time.sleep(0.05)
        if device_side(client) == side:
            log(f"{client.name}: paused after {len(sent)} bytes, {unread} unread by the device")
            return bytes(sent)
    raise Fail(f"{client.name}: the device never stopped reading ({len(sent)} bytes sent)")

def host_reads_all(what):
    """Everything the device has for the host (until 1 s of silence)."""
    got = bytearray()
    while True:
        r, _, _ = select.select([tty.fileno()], [], [], 1.0)
        if not r:
            return bytes(got)
        got += tty.read_some(what=what)

# A reset while paused.
one = tcp_connect(port, "client 1")
wait_event("net.connected", where={"accepted": True, "peer": f"127.0.0.1:{one.port}"})
sent = fill_until_paused(one, 1)
one.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
t0 = time.monotonic()
one.close()  # SO_LINGER 0: a reset
wait_event("net.closed", where={"peer": f"127.0.0.1:{one.port}", "reason": "reset"},
           timeout=5)
log(f"client 1: reset reported {time.monotonic() - t0:.3f} s after it was sent")
got = host_reads_all("the host reading what came before the reset")
if not got:
    raise Fail("the host got none of client 1's bytes")
same(got, sent[:len(got)], "tty: client 1's bytes before the reset")
log(f"client 1: the host got {len(got)} of {len(sent)} bytes sent (the rest died with the reset)")

# A graceful close while paused: the FIN reaches the device's socket behind unread data.
two = tcp_connect(port, "client 2")
wait_event("net.connected", where={"accepted": True, "peer": f"127.0.0.1:{two.port}"})
sent = fill_until_paused(two, 2)
two.sock.shutdown(socket.SHUT_WR)
deadline = time.monotonic() + TIMEOUT
while (device_side(two) or (0, 0))[0] != 8:
    if time.monotonic() > deadline:
        raise Fail(f"client 2: the FIN never reached the device's socket: {device_side(two)}")
    time.sleep(0.02)
time.sleep(1.0)  # a minimum: ten looks at the paused link
if count("net.closed", {"peer": f"127.0.0.1:{two.port}"}):
    raise Fail("client 2: its close was reported before the host had its bytes")
got = tty.read_exact(len(sent), "the host reading client 2's bytes")
same(got, sent, "tty: client 2's bytes before its FIN")
wait_event("net.closed", where={"peer": f"127.0.0.1:{two.port}", "reason": "closed"})
drops = events("drop")
if drops:
    raise Fail(f"the device dropped bytes: {drops}")
tty.close()
PY
m0_stop
