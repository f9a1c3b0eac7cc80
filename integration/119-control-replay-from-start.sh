#!/usr/bin/env bash
# 119-control-replay-from-start: subscribe's replay (`m0ctl wait --since 0`) holds the
# process's first events, the ones emitted while the boards were set up and before the
# control channel's listeners opened (web.listening, udp1500.listening, ready), as the
# --events file does: the history is kept from the first event whenever a control channel
# is configured. In a fleet (--no-tty) every module's boot events are replayable, per
# module (--dev) and all at once.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"
: "${M0CTL:?M0CTL must name the m0ctl binary (meson test sets it)}"

export M0CTL_CONTROL=$T/ctl

# replay: every event line subscribe replays from t_ms 0 (into $T/replay).
replay() {
  printf '{"cmd":"subscribe","replay":512,"since_ms":0}\n' |
    socat -t 1 - "UNIX-CONNECT:$M0CTL_CONTROL" | grep '"ev":' >"$T/replay" || true
}

# wait_ctl ARGS...: m0ctl wait with a generous timeout; the event is in the past already.
wait_ctl() {
  "$M0CTL" wait "$@" --since 0 --timeout 10 >"$T/wait.out" 2>"$T/wait.err" ||
    fail "m0ctl wait $* --since 0: exit $? ($(cat "$T/wait.err")); events: $(head -5 "$EVENTS")"
}

# One module: its boot events, before the channel opened.
m0_start --control "$M0CTL_CONTROL"
for ev in web.listening udp1500.listening ready; do
  grep -qF "\"ev\":\"$ev\"" "$EVENTS" || fail "no $ev in --events: $(cat "$EVENTS")"
  wait_ctl "$ev"
done
# The replay is the --events file's head: the same first line, byte for byte.
replay
[[ $(head -1 "$T/replay") == "$(head -1 "$EVENTS")" ]] ||
  fail "the replay's first line: '$(head -1 "$T/replay")', --events: '$(head -1 "$EVENTS")'"
m0_stop

# A fleet: every module's ready, each by its name, and all of them in one replay.
N=3
fleet_start $N --no-tty --bind 127.119.0.1 --udp1500-port 0 --control "$M0CTL_CONTROL"
for k in $(seq 1 $N); do
  wait_ctl --dev "m000$k" ready
  wait_ctl --dev "m000$k" web.listening
done
replay
got=$(grep -c '"ev":"ready"' "$T/replay" || true)
[[ $got -eq $N ]] || fail "the fleet's replay holds $got ready events, want $N: $(cat "$T/replay")"
m0_stop
