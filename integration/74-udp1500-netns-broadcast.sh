#!/usr/bin/env bash
# 74-udp1500-netns-broadcast: the setup protocols on a real (private) LAN: two network
# namespaces joined by a veth pair (netns.sh). The module runs with --net host at its
# WANN address 192.168.0.7 and listens on UDP 1500 itself; the host tool at 192.168.0.100
# finds it by broadcast (m0ctl search, to 255.255.255.255:1500) with its address and MAC,
# sets it by broadcast (m0ctl netset, the MAC picks the module), and, with
# --udp1500-reply broadcast, gets a reply every socket on its port hears. The module's
# factory peer 192.168.0.201:8234 is a real address on that LAN: its TCP client reaches
# it from 192.168.0.7. No packet leaves the two namespaces.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"
. "$M0_INTEGRATION_DIR/netns.sh"
: "${M0CTL:?M0CTL must name the m0ctl binary (meson test sets it)}"

MAC=D8B04C0074AA
netns_up
# The factory SOCK is TCPC,192.168.0.201,8234: a peer there, in the host's namespace.
bg_start in_host socat -u TCP-LISTEN:8234,bind=192.168.0.201,reuseaddr OPEN:"$T/peer.out",creat
M0_WRAP=(ip netns exec "$NS_MOD")
M0_FACTORY_PEER=1 m0_start --mac "$MAC" --net host --bind 192.168.0.7 --udp1500-port 1500
grep -qF '"ev":"udp1500.listening","bind":"0.0.0.0:1500","port":1500,"host_port":1500,"reply":"unicast"' \
  "$EVENTS" || fail "not listening on 0.0.0.0:1500 in the module's namespace"

out=$(in_host "$M0CTL" search) || fail "m0ctl search by broadcast found nothing"
log "search: $out"
read -r name mac ip version mode <<<"$out"
[[ $name == USR-M0 && $mac == "$MAC" && $ip == 192.168.0.7 && $version == V4017 && $mode == TCPC ]] ||
  fail "search line: $out"
grep -q '"ev":"udp1500.accepted","from":"192.168.0.100:[0-9]*","proto":"ff","cmd":"search"' "$EVENTS" ||
  fail "the search did not come from 192.168.0.100"

# --net host on the LAN: the TCP client dials the real 192.168.0.201 from 192.168.0.7.
wait_event net.connected
grep -qF '"ev":"net.connected","link":0,"peer":"192.168.0.201:8234"' "$EVENTS" ||
  fail "the TCP client did not reach 192.168.0.201:8234"
tty_open
send 'hello-lan'
deadline=$((SECONDS + M0_TIMEOUT))
until grep -qF hello-lan "$T/peer.out" 2>/dev/null; do
  ((SECONDS < deadline)) || fail "the peer at 192.168.0.201 got nothing"
  sleep 0.05
done
tty_close

# A set by broadcast: the MAC picks the module; it restarts with the new name.
out=$(in_host "$M0CTL" netset --mac "$MAC" MID=Lan-74) || fail "m0ctl netset failed: $out"
grep -qxF 'restart (02): FF 01 02 4B ok' <<<"$out" || fail "netset: $out"
wait_event ready 2
out=$(in_host "$M0CTL" search) || fail "search after the set failed"
[[ $out == "Lan-74 "* ]] || fail "the new name is not running: $out"
m0_stop

# Broadcast replies: two sockets share the tool's port; a broadcast reaches both, a
# unicast reply would reach one.
M0_FACTORY_PEER=1 m0_start --mac "$MAC" --net host --bind 192.168.0.7 --udp1500-port 1500 --udp1500-reply broadcast
grep -qF '"reply":"broadcast"' "$EVENTS" || fail "broadcast replies not on"
in_host python3 - "$MAC" <<'PY' || fail "the broadcast reply did not reach both sockets"
import socket, sys
mac = bytes.fromhex(sys.argv[1])
socks = []
for _ in range(2):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.bind(("0.0.0.0", socks[0].getsockname()[1] if socks else 0))
    s.settimeout(30)
    socks.append(s)
socks[0].sendto(bytes.fromhex("FF010102"), ("255.255.255.255", 1500))
for i, s in enumerate(socks):
    d, addr = s.recvfrom(100)
    assert len(d) == 36 and d[9:15] == mac and d[5:9] == bytes([192, 168, 0, 7]), (i, d.hex())
    assert addr == ("192.168.0.7", 1500), (i, addr)
PY
m0_stop
