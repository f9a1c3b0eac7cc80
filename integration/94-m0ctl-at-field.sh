#!/usr/bin/env bash
# 94-m0ctl-at-field: `m0ctl at` against something that is not m0emu: a socat pty pair
# whose far end plays a module in the field dialect (+OK, +OK=VALUE, ON/OFF; the
# handshake's +ok in lower case), written here in a few lines of python. From
# transparent mode and from command mode (after --stay); --dialect doc against it warns
# but works; get strips +OK=; +ERR is exit 1; a module that never answers is exit 1 after
# --timeout, with the port named.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"
: "${M0CTL:?M0CTL must name the m0ctl binary (meson test sets it)}"

pty_pair() { # NAME: a socat pty pair $T/NAME.module <-> $T/NAME.host
  local deadline=$((SECONDS + M0_TIMEOUT))
  bg_start socat pty,raw,echo=0,link="$T/$1.module" pty,raw,echo=0,link="$T/$1.host"
  until [[ -e $T/$1.module && -e $T/$1.host ]]; do
    ((SECONDS < deadline)) || fail "socat made no pty pair"
    sleep 0.05
  done
}
pty_pair live
pty_pair dead

# The module: idle guard, +++ then 'a' within 3 s, echo, replies in the field dialect.
cat >"$T/module.py" <<'PY'
import os, select, sys, termios, time, tty
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
tty.setraw(fd)
# The host's end held too (never read), so socat stays up between the runs of m0ctl;
# O_NOCTTY: a pty opened without it could become the scenario's controlling terminal.
hold = os.open(sys.argv[3], os.O_RDWR | os.O_NOCTTY)
open(sys.argv[3] + ".ready", "w").close()
state, plus, last, line = "transparent", 0, 0.0, b""
answers = {b"AT+VER": b"+OK=V4017", b"AT+UART": b"+OK=115200,8,1,NONE,NFC",
           b"AT+UART?": b"+OK=115200,8,1,NONE,NFC", b"AT+E?": b"+OK=ON",
           b"AT+VER?": b"+OK=V4017", b"AT+ENTM": b"+OK"}
dead = sys.argv[2] == "dead"
while True:
    r, _, _ = select.select([fd], [], [], 0.05)
    now = time.monotonic()
    if state == "wait_a" and now - last > 3:
        state, plus = "transparent", 0
    if not r:
        continue
    for c in os.read(fd, 4096):
        b = bytes([c])
        if dead:
            continue
        if state == "transparent":
            if b == b"+" and (plus > 0 or now - last > 0.02):
                plus += 1
                if plus == 3:
                    os.write(fd, b"a")
                    state, plus = "wait_a", 0
            else:
                plus = 0
        elif state == "wait_a":
            if b == b"a":
                os.write(fd, b"+ok")
                state = "command"
            else:
                state, plus = "transparent", 0
        else:
            os.write(fd, b)  # echo
            if b in (b"\r", b"\n"):
                if line:
                    if not line.upper().startswith(b"AT"):
                        reply = b"+ERR=-1"
                    else:
                        reply = answers.get(line.upper(), b"+ERR=-2")
                    os.write(fd, b"\r\n" + reply + b"\r\n")
                    if line.upper() == b"AT+ENTM":
                        state = "transparent"
                line = b""
            else:
                line += b
        last = now
PY
bg_start python3 "$T/module.py" "$T/live.module" live "$T/live.host"
bg_start python3 "$T/module.py" "$T/dead.module" dead "$T/dead.host"
HOST=$T/live.host
deadline=$((SECONDS + M0_TIMEOUT))
until [[ -e $T/live.host.ready && -e $T/dead.host.ready ]]; do
  ((SECONDS < deadline)) || fail "the module scripts did not start"
  sleep 0.05
done

run() { # WANT_RC ARGS...
  local want=$1 rc=0
  shift
  "$M0CTL" "$@" >"$T/out" 2>"$T/err" || rc=$?
  [[ $rc -eq $want ]] || { cat "$T/out" "$T/err" >&2; fail "m0ctl $* exited $rc, want $want"; }
}
out_is() {
  [[ $(cat "$T/out") == "$1" ]] || { log "stdout: $(cat "$T/out")"; log "stderr: $(cat "$T/err")"; fail "want '$1'"; }
}

run 0 at --tty "$HOST" --dialect field AT+VER AT+UART
out_is $'+OK=V4017\n+OK=115200,8,1,NONE,NFC'
[[ ! -s $T/err ]] || fail "stderr: $(cat "$T/err")"
run 0 at --tty "$HOST" --stay AT+E?
out_is "+OK=ON"
run 0 at --tty "$HOST" --verbose --dialect doc AT+VER # found in command mode; warns
out_is "+OK=V4017"
grep -q "already in command mode" "$T/err" || fail "not found in command mode: $(cat "$T/err")"
grep -q "answers +OK, not the doc dialect's spelling" "$T/err" || fail "no dialect warning"
run 0 get --tty "$HOST" VER
out_is "V4017"
run 1 at --tty "$HOST" AT+NOPE
out_is "+ERR=-2"
run 0 at --tty "$HOST" AT+VER # AT+ENTM was sent after the error
out_is "+OK=V4017"
run 1 at --tty "$T/dead.host" --timeout 1 AT+VER
grep -q "no +++ handshake with the module on $T/dead.host within 3000 ms" "$T/err" || fail "silent module: $(cat "$T/err")"
run 2 at --tty "$HOST" --baud 12345 AT+VER
run 1 at --tty "$T/no-such-port" AT+VER
