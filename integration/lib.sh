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
# wait for its first `ready`. Later options override the defaults (last one wins). The
# web page gets a free port of its own (WEB_PORT), never the factory WEBPORT 80, unless
# M0_WEB_FROM_WEBPORT=1 (the scenario then set WEBPORT to a free port itself); so do the
# UDP 1500 setup protocols (UDP1500_PORT), so scenarios running at once never share 1500.
# The factory peer is a free port of the scenario's own too (PEER_PORT, the same for all
# its runs: --set SOCK=TCPC,192.168.0.201,PEER_PORT): the built-in 192.168.0.201:8234 is
# dialled as 127.0.0.1:8234, which any program on the machine may hold and talk on (every
# doc example uses it). Not when the scenario gives factory settings of its own
# (--profile, --set) or asks for the built-in ones (M0_FACTORY_PEER=1); a saved SOCK
# (flash_write, AT+SOCK) wins over either, as flash always does.
# M0_WRAP (an array, empty by default) prefixes the command, e.g. (ip netns exec NS).
M0_WRAP=()
m0_start() {
  local web=() peer=() arg
  M0_RUN=$((M0_RUN + 1))
  rm -f "$EVENTS"
  if [[ ${M0_WEB_FROM_WEBPORT:-0} != 1 ]]; then
    WEB_PORT=$(free_ports tcp 1)
    web=(--web-port "$WEB_PORT")
  fi
  if [[ ${M0_FACTORY_PEER:-0} != 1 ]]; then
    PEER_PORT=${PEER_PORT:-$(free_ports tcp 1)}
    peer=(--set "SOCK=TCPC,192.168.0.201,$PEER_PORT")
    for arg in "$@"; do
      [[ $arg == --profile* || $arg == --set* ]] && peer=()
    done
  fi
  UDP1500_PORT=$(free_ports udp 1)
  "${M0_WRAP[@]}" "$M0EMU" --tty "$TTY" --state "$STATE" --events "$EVENTS" --timing fast \
    --udp1500-port "$UDP1500_PORT" "${web[@]}" "${peer[@]}" "$@" \
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

# ---- the network side (scenarios 20-39) ----
#
# A network scenario plays both ends around the device from one python3 program: the host
# on the tty and the peers on 127.0.0.1 (never another address). The module
# integration/m0net.py, next to this file, gives it bounded waits on the --events file, a
# raw tty, TCP and UDP peers, real HTTP servers, similar-RFC2217 packets, and exact
# comparisons that name the first differing byte. `net_py <<'PY' ... PY` runs such a
# program; any failure (or a wait running out: M0_TIMEOUT seconds without progress) fails
# the scenario.
# Bytes bound for the network through the tty never contain '+': a "+++" after a pause
# is the escape sequence, so random data uses serial_safe().

M0_BG_PIDS=() # background peers started by the scenario itself (bg_start)

# Where m0net.py is: python3 runs with it on PYTHONPATH, and writes no bytecode into the
# source tree.
M0_PY_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# bg_start CMD...: start a background process (e.g. a socat peer) that the EXIT trap kills.
bg_start() {
  "$@" 2>>"$T/bg.err" &
  M0_BG_PIDS+=("$!")
}

bg_kill_all() {
  local p
  for p in "${M0_BG_PIDS[@]}"; do
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  M0_BG_PIDS=()
}
# Background peers first, then lib.sh's own cleanup with the scenario's exit status.
trap 'm0__rc=$?; set +e; bg_kill_all; (exit $m0__rc); cleanup' EXIT

# flash_write LINE...: a flash file with these parameter lines (the rest factory), for
# the next m0_start.
flash_write() {
  mkdir -p "$STATE"
  { printf '# m0emu flash v1\n'; printf '%s\n' "$@"; } >"$STATE/flash.conf"
}

# free_ports tcp|udp N: N distinct ports free on 127.0.0.1 right now, one per line.
# Ports handed out earlier in the scenario are never handed out again (they are free
# until their user binds them: the web port chosen by m0_start must not be a peer's).
free_ports() {
  PYTHONPATH=$M0_PY_DIR PYTHONDONTWRITEBYTECODE=1 python3 -c 'import sys, m0net
print("\n".join(str(p) for p in m0net.free_ports(sys.argv[1], int(sys.argv[2]), sys.argv[3])))' \
    "$1" "$2" "$T/ports.given"
}

# net_py [ARGS...] <<'PY' ... PY: run a python3 program (stdin) that imports m0net, with
# this scenario's tty, events file, emulator pid and timeout in its environment.
net_py() {
  local rc=0
  PYTHONPATH=$M0_PY_DIR PYTHONDONTWRITEBYTECODE=1 M0_EVENTS=$EVENTS M0_TTY=$TTY \
    M0_PID=${M0_PID:-} M0_TIMEOUT=$M0_TIMEOUT python3 - "$@" || rc=$?
  ((rc == 0)) || fail "the scenario's network program failed (status $rc)"
}

# net_py_bg [ARGS...] <<'PY' ... PY: the same in the background, for a peer that must be
# listening before the emulator starts: returns once the program called m0net.ready().
# net_py_wait collects it (and fails the scenario if it failed).
NET_PY_PID=""
net_py_bg() {
  local deadline=$((SECONDS + M0_TIMEOUT))
  rm -f "$T/py.ready" "$EVENTS" # the program must not see the last run's events
  # <&0 explicit: `&` would give it /dev/null
  PYTHONPATH=$M0_PY_DIR PYTHONDONTWRITEBYTECODE=1 M0_EVENTS=$EVENTS M0_TTY=$TTY M0_PID="" \
    M0_TIMEOUT=$M0_TIMEOUT M0_READY=$T/py.ready python3 - "$@" <&0 &
  NET_PY_PID=$!
  M0_BG_PIDS+=("$NET_PY_PID")
  until [[ -e $T/py.ready ]]; do
    kill -0 "$NET_PY_PID" 2>/dev/null || { net_py_wait; fail "the network program ended before ready()"; }
    ((SECONDS < deadline)) || fail "the network program never called ready()"
    sleep 0.02
  done
}
net_py_wait() {
  local rc=0 p keep=()
  wait "$NET_PY_PID" || rc=$?
  for p in "${M0_BG_PIDS[@]}"; do [[ $p == "$NET_PY_PID" ]] || keep+=("$p"); done
  M0_BG_PIDS=("${keep[@]}")
  NET_PY_PID=""
  ((rc == 0)) || fail "the scenario's network program failed (status $rc)"
}

# ---- fleets (scenarios 110-119) ----
#
# A fleet scenario runs m0emu --fleet on $FLEET with this scenario's events file. Each
# scenario gives its fleet a base address of its own (--bind 127.1NN.x.1), so nothing it
# binds can meet another scenario's, and its peers still listen on 127.0.0.1 only.

FLEET=$T/fleet

# fleet_start N [options...]: start a fleet of N modules (--count N) and wait for N
# `ready` events. Later options override the defaults.
fleet_start() {
  local n=$1
  shift
  M0_RUN=$((M0_RUN + 1))
  rm -f "$EVENTS"
  "$M0EMU" --fleet "$FLEET" --count "$n" --events "$EVENTS" --timing fast "$@" \
    >"$T/stdout.$M0_RUN" 2>"$T/stderr.$M0_RUN" &
  M0_PID=$!
  wait_event ready "$n"
}

# fleet_flash NAME LINE...: module NAME's flash file (the rest factory), before the start.
fleet_flash() {
  local name=$1
  shift
  mkdir -p "$FLEET/$name"
  { printf '# m0emu flash v1\n'; printf '%s\n' "$@"; } >"$FLEET/$name/flash.conf"
}

# ---- the UART's network servers (scenarios 85-89) ----

# uart_py [ARGS...] <<'PY' ... PY: net_py with Debian's python3, which has pyserial
# (python3-serial): the host is pyserial's own rfc2217:// or socket:// client, unmodified
# (integration/m0uart.py wraps it with m0net's bounded waits).
uart_py() {
  local rc=0
  PYTHONPATH=$M0_PY_DIR PYTHONDONTWRITEBYTECODE=1 M0_EVENTS=$EVENTS M0_TTY=$TTY \
    M0_PID=${M0_PID:-} M0_TIMEOUT=$M0_TIMEOUT /usr/bin/python3 - "$@" || rc=$?
  ((rc == 0)) || fail "the scenario's pyserial program failed (status $rc)"
}
