# lib.sh: shared helpers of the integration scenarios (sourced, bash).
#
# Every scenario runs the real binary ($M0EMU) on its own mktemp directory: its own state
# dir, tty symlink and --events file, --timing fast unless it asks otherwise. It waits for
# events by polling the events file, and talks to the tty through one socat per session
# (a bash coprocess), reading exact byte counts with a timeout. Timeouts are generous
# (M0_TIMEOUT, 30 s per wait) and only ever bound a wait: nothing asserts a duration.
# Sleeps are minimums (an idle line before +++), never deadlines. The EXIT trap kills
# whatever the scenario started, so no process outlives it.

set -euo pipefail
export LC_ALL=C # bytes, not characters, for read -N and comparisons

: "${M0EMU:?M0EMU must name the m0emu binary (meson test sets it)}"
M0_TIMEOUT=${M0_TIMEOUT:-30}

T=$(mktemp -d "${TMPDIR:-/tmp}/m0emu-it.XXXXXX")
STATE=$T/state
TTY=$T/tty
EVENTS=$T/events
M0_PID=""
TTY_PID=""
M0_RUN=0 # how many times m0_start ran: logs are per run

log() { printf '%s\n' "$*" >&2; }

dump() {
  local f
  for f in "$T"/stdout.* "$T"/stderr.* "$T"/events.* "$EVENTS" "$T/socat.err"; do
    [[ -s $f ]] || continue
    log "---- $f"
    cat "$f" >&2 || true
  done
}

fail() {
  log "FAIL: $*"
  dump
  exit 1
}

cleanup() {
  local rc=$?
  set +e
  if [[ -n $TTY_PID ]]; then kill -KILL "$TTY_PID" 2>/dev/null; wait "$TTY_PID" 2>/dev/null; fi
  if [[ -n $M0_PID ]]; then kill -KILL "$M0_PID" 2>/dev/null; wait "$M0_PID" 2>/dev/null; fi
  if [[ $rc -eq 0 ]]; then rm -rf "$T"; else log "(scenario files kept in $T)"; fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# ---- the emulator ----

# m0_start [options...]: start m0emu on this scenario's state, tty and events file and
# wait for its first `ready`. Later options override the defaults (last one wins).
m0_start() {
  M0_RUN=$((M0_RUN + 1))
  rm -f "$EVENTS"
  "$M0EMU" --tty "$TTY" --state "$STATE" --events "$EVENTS" --timing fast "$@" \
    >"$T/stdout.$M0_RUN" 2>"$T/stderr.$M0_RUN" &
  M0_PID=$!
  wait_event ready 1
}

# m0_stop [SIGNAL]: signal m0emu (TERM), require a clean exit (0, so sanitizers found
# nothing) and the tty symlink gone.
m0_stop() {
  local sig=${1:-TERM} rc=0
  [[ -n $M0_PID ]] || fail "m0_stop: not running"
  kill -"$sig" "$M0_PID"
  wait "$M0_PID" || rc=$?
  M0_PID=""
  cp "$EVENTS" "$T/events.$M0_RUN" 2>/dev/null || true
  [[ $rc -eq 0 ]] || fail "m0emu exited with status $rc after SIG$sig (want 0)"
  [[ ! -e $TTY && ! -L $TTY ]] || fail "the tty symlink $TTY is still there after SIG$sig"
}

# count_events NAME: how many NAME events the current run wrote so far.
count_events() {
  local n
  n=$(grep -c "\"ev\":\"$1\"" "$EVENTS" 2>/dev/null || true)
  echo "${n:-0}"
}

# wait_event NAME [COUNT]: wait until the events file holds COUNT (1) NAME events.
wait_event() {
  local name=$1 count=${2:-1} deadline=$((SECONDS + M0_TIMEOUT))
  while (($(count_events "$name") < count)); do
    if [[ -n $M0_PID ]] && ! kill -0 "$M0_PID" 2>/dev/null; then
      fail "m0emu exited while waiting for event $name (#$count)"
    fi
    ((SECONDS < deadline)) || fail "no event $name (#$count) within ${M0_TIMEOUT}s"
    sleep 0.05
  done
}

# ---- a host session on the tty: one socat, as a coprocess ----

# tty_open: open the tty like a host (raw, 115200 8N1: the factory AT+UART) and wait
# until the emulator has seen the attach.
tty_open() {
  local before
  before=$(count_events tty.attach)
  [[ -z $TTY_PID ]] || fail "tty_open: a session is already open"
  coproc TTYIO { exec socat - FILE:"$TTY",rawer,b115200 2>>"$T/socat.err"; }
  TTY_PID=$TTYIO_PID
  TTY_IN=${TTYIO[0]}
  TTY_OUT=${TTYIO[1]}
  wait_event tty.attach $((before + 1))
}

# tty_close: end the session (EOF to socat) and wait until the emulator saw the detach.
tty_close() {
  local before
  before=$(count_events tty.detach)
  eval "exec ${TTY_OUT}>&-"
  wait "$TTY_PID" || true
  TTY_PID=""
  wait_event tty.detach $((before + 1))
}

# send FORMAT: bytes to the device (printf %b escapes: \r \n \xHH).
send() {
  printf '%b' "$1" >&"$TTY_OUT"
}

# expect BYTES: the next bytes from the device must be exactly BYTES (%b escapes).
expect() {
  local want got rc=0
  want=$(printf '%b.' "$1")
  want=${want%.} # keep trailing CR/LF that $() would strip
  IFS= read -r -N "${#want}" -t "$M0_TIMEOUT" -u "$TTY_IN" got || rc=$?
  if [[ $got != "$want" ]]; then
    log "expected: $(printf '%s' "$want" | od -An -c | tr -s ' ' | tr -d '\n')"
    log "got:      $(printf '%s' "$got" | od -An -c | tr -s ' ' | tr -d '\n')"
    [[ $rc -eq 0 ]] || log "(read ended with status $rc: timeout or EOF)"
    fail "unexpected reply from the tty"
  fi
}

# enter_command_mode: the +++ / a handshake. The sleep is the idle guard before the
# first '+' (a minimum); the three '+' go in one write, well inside 300 ms of each other.
enter_command_mode() {
  sleep 0.1
  send '+++'
  expect 'a'
  send 'a'
  expect '+ok'
}

# at CMD REPLY: send CMD + CR, expect the echo of CMD + CR (AT+E=on) then REPLY.
# at_noecho CMD REPLY: the same with echo off.
at() {
  send "$1\r"
  expect "$1\r$2"
}
at_noecho() {
  send "$1\r"
  expect "$2"
}

# ---- files ----

# flash_has LINE: flash.conf holds exactly this line.
flash_has() {
  grep -qxF -- "$1" "$STATE/flash.conf" || fail "flash.conf lacks '$1'"
}
