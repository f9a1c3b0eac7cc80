#!/usr/bin/env bash
# 72-udp1500-t24-set: a set through the similar-T24 protocol, as fairwaves' tool does it:
# 40 bytes (MAC, password 110415, the 28-byte block) from a random port; the module answers
# with the 35-byte block carrying the new values and restarts with them; a T24 search
# afterwards returns exactly the block that was written, and AT shows the values.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

MAC=D8B04C0072AA
m0_start --mac "$MAC"
net_py "$UDP1500_PORT" "$MAC" <<'PY'
import sys
from m0net import *
port, mac = int(sys.argv[1]), bytes.fromhex(sys.argv[2])
u = Udp(0, "tool")
u.send(b"0123456789" * 4, port)
d, addr = u.recv("the T24 search reply")
if len(d) != 35 or d[:6] != mac or d[6] != 0xB1:
    raise Fail(f"T24 search reply {d.hex(' ')}")
block = bytearray(d[7:])
block[0:4] = bytes([100, 0, 0, 127])            # destination 127.0.0.100, little-endian
block[4:6] = (9072).to_bytes(2, "little")
block[10:12] = (7272).to_bytes(2, "little")      # module port: SOCKPORT
block[16] = 0                                    # UDP client
block[17:20] = (57600).to_bytes(3, "little")
block[20] = 0x03 | 0x04 | 0x08 | 0x10            # 8 data, 2 stop, even parity
block[23] = 0x80 | 0x40                          # RFCEN, INDEXEN
u.send(mac + b"110415" + bytes(block), port)
d, addr = u.recv("the T24 set reply")
same(d, mac + b"\xb1" + bytes(block), "the set reply: the new values")
wait_event("restart", where={"cause": "udp1500"})
wait_event("ready", 2)
u.send(b"0123456789" * 4, port)
d, addr = u.recv("the T24 search reply after the restart")
same(d[7:], bytes(block), "the block after the restart")
wait_event("udp1500.accepted", where={"proto": "t24", "cmd": "set", "reply": 35})
PY
grep -qF '"mode":"transparent","proto":"UDPC"' "$EVENTS" || fail "not running UDPC after the set"
tty_open
enter_command_mode
at 'AT+SOCK' '\r\n+ok=UDPC,127.0.0.100,9072\r\n'
at 'AT+SOCKPORT' '\r\n+ok=7272\r\n'
at 'AT+UART' '\r\n+ok=57600,8,2,EVEN,NFC\r\n'
at 'AT+INDEXEN' '\r\n+ok=on\r\n'
tty_close
m0_stop
