#!/usr/bin/env bash
# 70-udp1500-search-read: the vendor's searches on loopback, unicast. `m0ctl search --to
# 127.0.0.1` sends the FF search (FF 01 01 02) and the T24 search (40 ASCII bytes) and
# lists the module once, merged from both replies: name, MAC, address, version, work
# mode. The FF read (cmd 03) comes back as three datagrams of 130, 50 and 84 bytes that
# hold the saved configuration; `m0ctl netset --read` shows it as NAME=VALUE.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"
: "${M0CTL:?M0CTL must name the m0ctl binary (meson test sets it)}"

MAC=D8B04C0070AA
m0_start --mac "$MAC"
wait_event udp1500.listening
grep -qF "\"bind\":\"127.0.0.1:$UDP1500_PORT\"" "$EVENTS" || fail "not listening at 127.0.0.1:$UDP1500_PORT"
grep -qF "setup:   UDP 127.0.0.1:$UDP1500_PORT" "$T/stdout.$M0_RUN" || fail "the banner lacks the setup port"

out=$("$M0CTL" search --to 127.0.0.1 --port "$UDP1500_PORT") || fail "m0ctl search failed"
log "search: $out"
[[ $(printf '%s\n' "$out" | wc -l) -eq 1 ]] || fail "one module expected, got: $out"
read -r name mac ip version mode <<<"$out"
[[ $name == USR-M0 && $mac == "$MAC" && $ip == 127.0.0.1 && $version == V4017 && $mode == TCPC ]] ||
  fail "search line: $out"
wait_event udp1500.accepted 2
grep -q '"ev":"udp1500.accepted","from":"127.0.0.1:[0-9]*","proto":"ff","cmd":"search","bytes":4,"reply":36' "$EVENTS" ||
  fail "no accepted FF search event"
grep -q '"proto":"t24","cmd":"search","bytes":40,"reply":35' "$EVENTS" || fail "no accepted T24 search event"

json=$("$M0CTL" search --to 127.0.0.1 --port "$UDP1500_PORT" --json) || fail "m0ctl search --json failed"
python3 - "$json" "$MAC" "$UDP1500_PORT" "$PEER_PORT" <<'PY' || fail "search --json: $json"
import json, sys
m = json.loads(sys.argv[1])
assert m["name"] == "USR-M0" and m["mac"] == sys.argv[2] and m["ip"] == "127.0.0.1", m
assert m["version"] == "V4017" and m["t24_version"] == 0xB1 and m["mode"] == "TCPC", m
assert m["from"] == f"127.0.0.1:{sys.argv[3]}" and m["ff"] and m["t24"] and m["checksum_ok"], m
assert m["peer"] == f"192.168.0.201:{sys.argv[4]}" and m["local_port"] == 20108 and m["baud"] == 115200, m
PY

# A saved value shows in the read (AT answers saved values too) before any restart.
tty_open
enter_command_mode
at 'AT+MID=Bench-70' '\r\n+ok\r\n'
at 'AT+SOCKPORT=4321' '\r\n+ok\r\n'
read_out=$("$M0CTL" netset --to 127.0.0.1 --port "$UDP1500_PORT" --mac "$MAC" --read) ||
  fail "m0ctl netset --read failed"
for line in "MAC=$MAC" MID=Bench-70 SOCKPORT=4321 WEBU=admin,admin 'UART=115200,8,1,NONE,NFC' \
  "SOCK=TCPC,192.168.0.201,$PEER_PORT" HEARTEN=off RFCEN=on; do
  grep -qxF -- "$line" <<<"$read_out" || fail "read lacks $line: $read_out"
done
grep -q '"proto":"ff","cmd":"read","bytes":22,"reply":264' "$EVENTS" || fail "no accepted read event"

# The three datagrams, as a raw client sees them.
net_py "$UDP1500_PORT" "$MAC" <<'PY'
import sys
from m0net import *
port, mac = int(sys.argv[1]), bytes.fromhex(sys.argv[2])
body = bytes([0x13, 0x03]) + mac + b"admin\0admin\0"
u = Udp(0, "tool")
u.send(b"\xff" + body + bytes([sum(body) & 0xFF]), port)
sizes = []
for _ in range(3):
    d, addr = u.recv("the read reply")
    if addr != (LO, port):
        raise Fail(f"a reply from {addr}, not from the module's port {port}")
    sizes.append(len(d))
    if len(d) == 130:
        same(d[21:29], b"Bench-70", "the basic block's module name")
        same(d[53:59], mac, "the basic block's MAC")
        same(d[67 + 12:67 + 14], (4321).to_bytes(2, "little"), "the port block's local port")
if sizes != [130, 50, 84]:
    raise Fail(f"read reply datagrams {sizes}, want [130, 50, 84]")
PY
tty_close
m0_stop
