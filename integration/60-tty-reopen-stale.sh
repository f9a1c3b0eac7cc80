#!/usr/bin/env bash
# 60-tty-reopen-stale: programs opening the tty one after another (issue 12, defect 1).
# Each writes a command of its own and closes at once, after part of its reply or after
# all of it (tty-reopen-soak.py); with the device in command mode every byte a program
# reads must be its own echo and reply. A program that opens once the emulator has seen
# the previous close (its tty.detach) never reads a byte meant for the previous one,
# never sees select() report readable and then find nothing, and gets its whole reply:
# this holds whatever the timing, since the previous program's unread bytes are taken
# as the kernel ordered them (docs/user-guide.md).
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

SOAK=$M0_INTEGRATION_DIR/tty-reopen-soak.py

# soak ARGS...: run the soak, leave its counts in the variables cycles stale blocked lost.
soak() {
  local out rc=0
  out=$(/usr/bin/python3 "$SOAK" "$TTY" "$@" 2>"$T/soak.err") || rc=$?
  ((rc == 0)) || { cat "$T/soak.err" >&2; fail "the soak stopped (status $rc)"; }
  [[ $out =~ ^cycles=([0-9]+)\ stale=([0-9]+)\ blocked=([0-9]+)\ lost=([0-9]+)$ ]] ||
    fail "the soak printed '$out'"
  cycles=${BASH_REMATCH[1]} stale=${BASH_REMATCH[2]}
  blocked=${BASH_REMATCH[3]} lost=${BASH_REMATCH[4]}
  log "soak $*: $out"
  [[ -s $T/soak.err ]] && head -5 "$T/soak.err" >&2
  return 0
}

m0_start
tty_open
enter_command_mode
tty_close

# Each program opens after the emulator reported the previous detach, and writes after
# it reported its attach. 600 cycles take about 6 s; at least 150 must run (a third of
# them close at once, which is what leaves bytes behind).
soak --cycles 600 --seconds 15 --events "$EVENTS"
((cycles >= 150)) || fail "only $cycles cycles ran"
((stale == 0 && blocked == 0 && lost == 0)) ||
  fail "$cycles programs, each opening after the previous detach: $stale read bytes" \
    "meant for another, $blocked found nothing after select() said readable," \
    "$lost did not get their reply"

# The device is still there, in command mode, and the next host gets only its own reply.
tty_open
at 'AT' '\r\n+ok\r\n'
tty_close
m0_stop
