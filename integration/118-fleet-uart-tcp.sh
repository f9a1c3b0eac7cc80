#!/usr/bin/env bash
# 118-fleet-uart-tcp: --uart tcp:PORT in a fleet serves each module's UART at its own
# address on the same port (127.118.0.k:PORT), as its web page and UDP 1500; a client of
# module k talks to module k (AT+MAC answers its own MAC). A fixed address with a port
# (tcp:127.0.0.1:PORT) would be bound once per module: refused, exit 2, one line.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

N=3
U=$(free_ports tcp 1)
fleet_start $N --no-tty --bind 127.118.0.1 --mac D8B04C011800 --udp1500-port 0 --uart "tcp:$U"
wait_event uart.listening $N
for k in $(seq 1 $N); do
  grep -qF "\"ev\":\"uart.listening\",\"dev\":\"m000$k\",\"uart\":\"tcp\",\"bind\":\"127.118.0.$k:$U\"" "$EVENTS" ||
    fail "m000$k: not at 127.118.0.$k:$U: $(grep uart.listening "$EVENTS")"
done
net_py "$N" "$U" <<'PY'
import socket, sys, time
from m0net import *
n, port = int(sys.argv[1]), int(sys.argv[2])
for k in (2, 3, 1):
    c = Conn(socket.create_connection((f"127.118.0.{k}", port), timeout=TIMEOUT), f"m000{k}'s UART")
    time.sleep(0.1)
    c.write(b"+++")
    c.expect(b"a")
    c.write(b"a")
    c.expect(b"+ok")
    c.write(b"AT+MAC\r")
    c.expect(f"AT+MAC\r\r\n+ok=D8B04C0118{k - 1:02X}\r\n".encode(), f"m000{k}'s own MAC")
    c.write(b"AT+ENTM\r")
    c.expect(b"AT+ENTM\r\r\n+ok\r\n")
    c.sock.close()
PY
m0_stop

rc=0
"$M0EMU" --fleet "$T/fleet2" --count 2 --no-tty --bind 127.118.1.1 --uart "tcp:127.0.0.1:$U" \
  >"$T/out2" 2>"$T/err2" || rc=$?
[[ $rc -eq 2 ]] || fail "--uart tcp:127.0.0.1:$U in a fleet: exit $rc, want 2 ($(cat "$T/err2"))"
grep -q "^m0emu: --uart: in a fleet each module serves its UART at its own address" "$T/err2" ||
  fail "--uart with an address in a fleet: $(cat "$T/err2")"
[[ $(wc -l <"$T/err2") -le 2 && ! -e $T/fleet2 ]] || fail "the refusal: $(cat "$T/err2"); $(ls "$T")"
