#!/usr/bin/env bash
# 113-peer-map: --peer ADDR[:PORT]=HOST[:PORT] points a dialled address at a server on
# any loopback address and port. UDPC: the device's datagrams for 10.9.8.7:7000 reach a
# peer on 127.0.0.1:U, and that peer's answers count as the device's peer (UDPC keeps only
# its peer's datagrams). TCPC: a name (no lookup in loopback mode) goes to its server; an
# entry with a port wins over one without. Bad maps are usage errors.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

{ read -r DEV; read -r U; } < <(free_ports udp 2)
flash_write "AT+SOCK=UDPC,10.9.8.7,7000" "AT+SOCKPORT=$DEV"
m0_start --bind 127.113.0.1 --peer "10.9.8.7:7000=127.0.0.1:$U" --peer "10.9.8.7=127.0.0.1:1"
net_py "$U" "$DEV" <<'PY'
import sys
from m0net import *
u = int(sys.argv[1])
peer = Udp(u, "peer")
wait_event("net.listening", where={"udp": True})
tty = Tty()
up = serial_safe(300, 3)
tty.write(up)
dgrams = peer.recv_bytes(len(up), "the host's frame")
same(b"".join(d for d, _ in dgrams), up, "peer: the frame sent to 10.9.8.7:7000")
addr = dgrams[0][1]
if addr != ("127.113.0.1", int(sys.argv[2])):
    raise Fail(f"the frame came from {addr}, not from the device's address and SOCKPORT")
back = data(200, 4)
peer.sock.sendto(back, addr)
tty.expect(back, "tty: the mapped peer's answer")
tty.close()
PY
m0_stop

P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPC,server.example,9000"
net_py_bg "$P" <<'PY'
import sys
from m0net import *
listener = tcp_listen(int(sys.argv[1]))
ready()
c = accept(listener, "server.example's server")
if c.sock.getpeername()[0] != "127.113.0.1":
    raise Fail(f"the device connected from {c.sock.getpeername()}, not from its --bind")
tty = Tty()
up = serial_safe(100, 5)
tty.write(up)
c.expect(up, "server: the host's bytes")
e = wait_event("net.connecting")
if e["peer"] != "server.example:9000" or e["dial"] != f"127.0.0.1:{sys.argv[1]}":
    raise Fail(f"net.connecting: {e}")
tty.close()
PY
m0_start --bind 127.113.0.1 --peer "server.example=127.0.0.2:1" \
  --peer "SERVER.example:9000=127.0.0.1:$P"
net_py_wait
m0_stop

# Bad maps: exit 2, one line naming --peer.
for bad in "10.0.0.1" "=127.0.0.1:5" "10.0.0.1=192.168.1.1:5" "10.0.0.1:0=127.0.0.1" \
  "10.0.0.1=127.0.0.1:99999" "10.0.0.1=localhost"; do
  rc=0
  timeout 20 "$M0EMU" --state "$T/bad" --tty "$T/bad.tty" --peer "$bad" >"$T/out" 2>"$T/err" ||
    rc=$?
  [[ $rc -eq 2 ]] || fail "--peer '$bad' exited $rc, want 2"
  [[ $(wc -l <"$T/err") -eq 1 ]] && grep -q -- "--peer" "$T/err" || fail "--peer '$bad': $(cat "$T/err")"
done
rc=0
timeout 20 "$M0EMU" --state "$T/bad" --tty "$T/bad.tty" --peer "10.0.0.1=127.0.0.1" \
  --peer "10.0.0.1=127.0.0.2" >"$T/out" 2>"$T/err" || rc=$?
[[ $rc -eq 2 ]] && grep -q "mapped twice" "$T/err" || fail "a twice mapped address: $rc $(cat "$T/err")"
rc=0
timeout 20 "$M0EMU" --state "$T/bad" --tty "$T/bad.tty" --net host --peer "10.0.0.1=127.0.0.1" >"$T/out" 2>"$T/err" || rc=$?
[[ $rc -eq 2 ]] || fail "--peer with --net host exited $rc, want 2"
