#!/usr/bin/env bash
# 73-udp1500-refused: what changes nothing. Wrong credentials get FF 01 <cmd> 50 (m0ctl
# exits 1), a wrong MAC gets silence (m0ctl: no answer, exit 1), a bad checksum with the
# module's MAC gets FF 01 <cmd> 45, a T24 set with a wrong password or MAC gets silence,
# and a value the parameter table refuses gets 45. Each one is a udp1500.rejected event
# with its reason; flash.conf, the saved values (AT) and the running device are untouched.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"
: "${M0CTL:?M0CTL must name the m0ctl binary (meson test sets it)}"

MAC=D8B04C0073AA
flash_write 'AT+MID=Keep-73'
m0_start --mac "$MAC"
before=$(sha256sum "$STATE/flash.conf")

rc=0
out=$("$M0CTL" netset --to 127.0.0.1 --port "$UDP1500_PORT" --mac "$MAC" --password wrong MID=x) || rc=$?
[[ $rc -eq 1 ]] || fail "wrong password: m0ctl exited $rc, want 1"
grep -qF 'read (03): FF 01 03 50' <<<"$out" || fail "wrong password: $out"
wait_event udp1500.rejected 1
grep -qF '"reason":"credentials","reply":4,"proto":"ff","cmd":"read"' "$EVENTS" || fail "no credentials event"

rc=0
"$M0CTL" netset --to 127.0.0.1 --port "$UDP1500_PORT" --mac D8B04C0073AB --timeout 1000 MID=x \
  >"$T/ctl.out" 2>"$T/ctl.err" || rc=$?
[[ $rc -eq 1 ]] || fail "wrong MAC: m0ctl exited $rc, want 1"
grep -qF 'no answer' "$T/ctl.err" || fail "wrong MAC: $(cat "$T/ctl.err")"
wait_event udp1500.rejected 2
grep -qF '"reason":"mac","reply":0' "$EVENTS" || fail "no mac event"

rc=0
"$M0CTL" netset --to 127.0.0.1 --port "$UDP1500_PORT" --mac "$MAC" FOO=1 2>"$T/ctl.err" || rc=$?
[[ $rc -eq 2 ]] || fail "unknown parameter: m0ctl exited $rc, want 2"

net_py "$UDP1500_PORT" "$MAC" <<'PY'
import sys
from m0net import *
port, mac = int(sys.argv[1]), bytes.fromhex(sys.argv[2])
u = Udp(0, "tool")

def ff(cmd, params=b"", user=b"admin\0", password=b"admin\0", delta=0):
    body = bytes([19 + len(params), cmd]) + mac + user + password + params
    return b"\xff" + body + bytes([(sum(body) + delta) & 0xFF])

def refused(reason, n):
    wait_event("udp1500.rejected", n)
    got = events("udp1500.rejected")[n - 1]
    if got["reason"] != reason:
        raise Fail(f"rejected #{n}: reason {got['reason']!r}, want {reason!r}")

def silent(what):
    u.sock.setblocking(False)
    try:
        d = u.sock.recv(2048)
        raise Fail(f"{what}: the module answered {d.hex(' ')}")
    except BlockingIOError:
        pass
    finally:
        u.sock.settimeout(TIMEOUT)

n = count("udp1500.rejected")
u.send(ff(0x02, delta=1), port)                       # a restart with a bad checksum
d, _ = u.recv("the bad-checksum reply")
same(d, bytes.fromhex("FF 01 02 45"), "bad checksum")
n += 1; refused("checksum", n)
basic = bytearray(67)
u.send(ff(0x05, bytes(basic)), port)                  # WEBPORT 0, empty MID: refused
d, _ = u.recv("the refused-value reply")
same(d, bytes.fromhex("FF 01 05 45"), "a value the table refuses")
n += 1; refused("invalid", n)
u.send(ff(0x0C), port)                                # cloud: not on the M0
d, _ = u.recv("the unsupported-command reply")
same(d, bytes.fromhex("FF 01 0C 45"), "unsupported command")
n += 1; refused("command", n)
u.send(b"\xff\x13\x02" + mac, port)                   # LEN says 19, 9 bytes came
n += 1; refused("length", n); silent("wrong length")
u.send(b"0123456789" * 4, port)
d, _ = u.recv("T24 search")
block = d[7:]
u.send(mac + b"110416" + block, port)                 # T24 set, wrong password
n += 1; refused("password", n); silent("T24 wrong password")
u.send(bytes.fromhex("D8B04C0073AB") + b"110415" + block, port)  # another module's MAC
n += 1; refused("mac", n); silent("T24 wrong MAC")
if count("restart") != 0 or count("udp1500.accepted", {"cmd": "set"}) != 0:
    raise Fail("a refused datagram restarted or set something")
PY
[[ $(sha256sum "$STATE/flash.conf") == "$before" ]] || fail "flash.conf changed"
[[ $(count_events flash.saved) -eq 0 && $(count_events restart) -eq 0 ]] || fail "something was saved or restarted"
tty_open
enter_command_mode
at 'AT+MID' '\r\n+ok=Keep-73\r\n'
at 'AT+WEBPORT' '\r\n+ok=80\r\n'
tty_close
m0_stop
