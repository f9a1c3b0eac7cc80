#!/usr/bin/env bash
# at-session.sh: run AT commands on a USR-M0 (emulated or real) through its serial port,
# as a host program would: the +++ / a handshake, each command and its reply, then
# AT+ENTM back to transparent mode (unless a command restarted the module: AT+Z, AT+RELD).
#
#   at-session.sh [TTY [COMMAND...]]     TTY defaults to ./m0emu.tty, COMMAND to AT+VER
#   at-session.sh ./m0emu.tty AT+VER AT+SOCK AT+UART
#
# Prints each command and its reply, one per line ("AT+VER -> +ok=V4017"); exits 1 on an
# error reply or when the module does not answer within 3 s. Needs socat. The module
# must be in transparent mode (its state after every restart).
set -euo pipefail
tty=${1:-./m0emu.tty}
[[ $# -gt 0 ]] && shift
[[ $# -gt 0 ]] || set -- AT+VER
[[ -e $tty ]] || { echo "at-session: $tty does not exist (is m0emu running?)" >&2; exit 1; }

# One socat holds the port open for the whole session (raw, 115200 8N1: the factory
# AT+UART); its output is read here byte-exactly.
coproc PORT { exec socat - "FILE:$tty,rawer,b115200"; }
trap 'kill "$PORT_PID" 2>/dev/null || true' EXIT
sleep 0.3 # the emulator notices the open (inotify) before it answers anything

# expect BYTES: the next bytes from the module must be exactly BYTES.
expect() {
  local got=""
  IFS= read -r -N "${#1}" -t 3 -u "${PORT[0]}" got || true
  [[ $got == "$1" ]] || { echo "at-session: expected '$1', got '$got'" >&2; exit 1; }
}

# The handshake: an idle line, then "+++" in one write (each '+' within 300 ms of the
# previous one), 'a' back, 'a' within 3 s, "+ok" back.
printf '+++' >&"${PORT[1]}"
expect a
printf 'a' >&"${PORT[1]}"
expect +ok

status=0 restarted=0
for cmd in "$@"; do
  printf '%s\r' "$cmd" >&"${PORT[1]}"
  # The echo (AT+E=on) and the reply lines, up to the final +ok / +ERR line.
  reply=""
  while IFS= read -r -t 3 -u "${PORT[0]}" line; do
    line=${line%$'\r'}
    line=${line##*$'\r'} # drop the echoed command, which ends in CR
    [[ -n $line ]] || continue
    reply=$line
    [[ $line == +ok* || $line == +OK* || $line == +ERR* ]] && break
  done
  [[ -n $reply ]] || { echo "at-session: no reply to $cmd" >&2; exit 1; }
  echo "$cmd -> $reply"
  [[ $reply == +ERR* ]] && status=1
  case ${cmd^^} in AT+Z | AT+RELD) restarted=1 ;; esac
done

if ((restarted == 0)); then
  printf 'AT+ENTM\r' >&"${PORT[1]}" # back to transparent mode, as we found it
  while IFS= read -r -t 3 -u "${PORT[0]}" line; do
    [[ $line == *+ok* || $line == *+OK* ]] && break
  done
fi
exit "$status"
