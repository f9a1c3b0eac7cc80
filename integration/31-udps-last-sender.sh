#!/usr/bin/env bash
# 31-udps-last-sender: a UDP server answers whoever sent the last datagram: after A
# writes, the host's data goes to A; after B writes, to B only; after A again, to A.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

{ read -r DEV; read -r FIRST; } < <(free_ports udp 2)
flash_write "AT+SOCK=UDPS,127.0.0.1,$FIRST" "AT+SOCKPORT=$DEV"
m0_start
net_py "$DEV" <<'PY'
import sys
from m0net import *
dev = int(sys.argv[1])
a, b = Udp(0, "sender A"), Udp(0, "sender B")
wait_event("net.listening", where={"udp": True})
tty = Tty()

def exchange(sender, seed):
    question = f"question from {sender.name} #{seed}".encode()
    sender.send(question, dev)
    tty.expect(question, f"tty: the datagram from {sender.name}")
    answer = serial_safe(64, seed)
    tty.write(answer)
    # The answer must be the next thing this sender gets: had an earlier answer gone to
    # it as well, that one would come first.
    got = sender.recv_bytes(len(answer), f"the answer to {sender.name}")
    same(b"".join(d for d, _ in got), answer, f"{sender.name}: the host's answer")

exchange(a, 81)
exchange(b, 82)
exchange(b, 83)
exchange(a, 84)
exchange(b, 85)
tty.close()
PY
m0_stop
