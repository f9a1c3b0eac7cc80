#!/usr/bin/env bash
# 98-noise: a noisy serial line, end to end with the real tty. Bit errors at 1e-3 per bit
# corrupt about that share of the server's bytes on their way to the host (a byte
# changes with 1 - 0.999^8 = 0.8%: 100000 bytes, within 6 sigma); byte loss of 5% on the
# host's side takes about 5% of what the host sends before it reaches the server; the
# same seed hits the same bytes (host to device: run twice, identical); the fault ends
# after for_s by itself; and `m0ctl at` gets through a line with noise both ways.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"
: "${M0CTL:?M0CTL must name the m0ctl binary (meson test sets it)}"

export M0_CONTROL=$T/ctl
P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPC,192.168.0.201,$P" "AT+SOCKPORT=0"
net_py_bg "$P" "$M0CTL" <<'PY'
import subprocess, sys, time
from m0net import *
from ctl import CONTROL, Control
port, m0ctl = int(sys.argv[1]), sys.argv[2]
listener = tcp_listen(port)
ready()
server = accept(listener, "server")
wait_event("net.connected")
tty = Tty()
c = Control()
c.ok("subscribe")

# Bit errors toward the host.
N = 100_000
c.ok("uart.fault", dir="to_host", bit_error=0.001, seed=11)
server.write(b"U" * N)
got = tty.read_exact(N, "the server's bytes through the noise")
changed = sum(1 for b in got if b != 0x55)
expect, sigma = N * (1 - 0.999 ** 8), (N * 0.008 * 0.992) ** 0.5
log(f"bit errors 1e-3: {changed} of {N} bytes changed (expected {expect:.0f} +- {sigma:.0f})")
if abs(changed - expect) > 6 * sigma:
    raise Fail(f"{changed} bytes changed, expected about {expect:.0f}")
st = c.ok("status")["faults"]["uart"]["to_host"]
if st["corrupted"] != changed:
    raise Fail(f"status counts {st['corrupted']} corrupted bytes, the host saw {changed}")
c.ok("uart.fault", dir="to_host")  # cleared
c.wait_event("fault.cleared", fault="uart", dir="to_host", cause="cleared")

# Byte loss from the host, seeded: twice the same bytes lost.
def lossy_run():
    c.ok("uart.fault", dir="from_host", loss=0.05, seed=5)
    sent = data(20_000, 9).replace(b"+", b"-")
    tty.write(sent)
    time.sleep(0.5)
    c.ok("uart.fault", dir="from_host")
    tty.write(b"#END#")
    got = b""
    while not got.endswith(b"#END#"):
        got += server.read_some(what="the host's bytes through the loss")
    return got[:-5]
first, second = lossy_run(), lossy_run()
kept = len(first)
expect, sigma = 20_000 * 0.95, (20_000 * 0.05 * 0.95) ** 0.5
log(f"loss 5%: {kept} of 20000 bytes reached the server (expected {expect:.0f} +- {sigma:.0f})")
if abs(kept - expect) > 6 * sigma:
    raise Fail(f"{kept} bytes kept, expected about {expect:.0f}")
if first != second:
    raise Fail("the same seed did not lose the same bytes")

# A window: ends by itself.
c.ok("uart.fault", dir="both", bit_error=0.5, for_s=0.3)
c.wait_event("fault.cleared", fault="uart", dir="to_host", cause="timeout")
tty.write(b"clean")
server.expect(b"clean")

# m0ctl at through light noise both ways (retries where a byte was hit).
c.ok("uart.fault", dir="both", bit_error=0.0005, seed=3)
tty.close()
wait_event("tty.detach")
for i in range(3):
    r = subprocess.run([m0ctl, "at", "--tty", TTY, "--timeout", "2", "AT+VER"],
                       capture_output=True, timeout=120)
    log(f"m0ctl at under noise: {r.returncode} {r.stdout!r} {r.stderr!r}")
    if r.returncode == 0 and r.stdout == b"+ok=V4017\n":
        break
else:
    raise Fail("m0ctl at never got through a line with bit errors at 5e-4")
PY
m0_start --control "$M0_CONTROL"
net_py_wait
m0_stop
