#!/usr/bin/env bash
# 29-tcp-slow-reader: a TCP client of the device's server that reads slowly (nothing for
# a while, then 4 KiB at a time with pauses) while the host writes 4 MB in --timing fast:
# every byte arrives, in order. The device must hold or back-pressure, never drop.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPS,127.0.0.1,$P" "AT+SOCKPORT=$P"
m0_start
net_py "$P" <<'PY'
import hashlib, sys, threading, time
from m0net import *
port = int(sys.argv[1])
wait_event("net.listening")
tty = Tty()
client = tcp_connect(port, "slow client")
client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
wait_event("net.connected", where={"accepted": True})

payload = serial_safe(4 * 1000 * 1000, 61)
errors = []
def write():
    try:
        tty.write(payload, "the host writing 4 MB")
    except BaseException as e:
        errors.append(e)
writer = threading.Thread(target=write, daemon=True)
writer.start()
time.sleep(2)  # a minimum: the reader holds off, so every buffer on the way fills up
got = client.read_exact(len(payload), "the slow client reading", slow=(4096, 0.002))
writer.join()
if errors:
    raise errors[0]
log(f"sha256 got {hashlib.sha256(got).hexdigest()} want {hashlib.sha256(payload).hexdigest()}")
same(got, payload, "slow client: the host's 4 MB")
drops = [e for e in events("drop") if e.get("dir") == "to_net"]
if drops:
    raise Fail(f"the device reported dropping bytes for the network: {drops}")
tty.close()
PY
m0_stop
