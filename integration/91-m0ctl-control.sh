#!/usr/bin/env bash
# 91-m0ctl-control: m0ctl's control commands and their exit codes, as scripts use them:
# status prints one JSON object with mode and links; an action prints the t_ms of its
# request, and `wait EVENT --since T` finds what it caused even when it came before wait
# started; wait exits 1 at its timeout; a refusal (power on while on, an unknown device)
# is one line on stderr and exit 1; a bad argument is exit 2; an unreachable channel is
# exit 1; $M0CTL_CONTROL stands for --control. The channel on a loopback TCP port
# (--control-port, m0ctl's tcp:PORT); bad --control values (exit 2, or 1 when the path
# is a file that is not a socket, left untouched).
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"
: "${M0CTL:?M0CTL must name the m0ctl binary (meson test sets it)}"

CTL=$T/ctl
m0_start --control "$CTL"
ctl() { "$M0CTL" --control "$CTL" "$@"; }
expect_rc() { # WANT CMD...: run, require the exit status
  local want=$1 rc=0
  shift
  "$@" >"$T/out" 2>"$T/err" || rc=$?
  [[ $rc -eq $want ]] || { cat "$T/out" "$T/err" >&2; fail "'$*' exited $rc, want $want"; }
}

expect_rc 0 ctl status
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["mode"]=="transparent", s; assert isinstance(s["links"], list), s' "$T/out" ||
  fail "status did not print a JSON object with mode and links"
expect_rc 0 ctl list
grep -q '"devices":\[{"dev":""' "$T/out" || fail "list: $(cat "$T/out")"

# restart: prints its t_ms; wait --since finds the restart's ready although it is over.
t=$(ctl restart) || fail "restart failed"
[[ $t =~ ^[0-9]+$ ]] || fail "restart printed '$t', want a t_ms"
wait_event restart 1
wait_event ready 2
expect_rc 0 ctl wait ready --since "$t" --timeout 5
grep -q '"ev":"ready"' "$T/out" || fail "wait did not print the event"
expect_rc 0 ctl wait restart cause=control --since "$t" --timeout 5
expect_rc 1 ctl wait restart cause=sighup --since "$t" --timeout 0.5
grep -q "no restart event with those fields within 0.500 s" "$T/err" || fail "wait's timeout message: $(cat "$T/err")"
expect_rc 1 ctl wait ready --timeout 0.3

# power: off, refused twice, status says off, on again.
expect_rc 0 ctl power off
expect_rc 1 ctl power off
grep -q "the power is already off (state)" "$T/err" || fail "power off twice: $(cat "$T/err")"
[[ $(ctl status | python3 -c 'import json,sys; print(json.load(sys.stdin)["mode"])') == off ]] ||
  fail "status does not say off"
expect_rc 1 ctl restart
expect_rc 0 ctl power on
expect_rc 0 ctl wait ready --since "$(cat "$T/out")" --timeout 5

# The environment stands for --control; a device that does not exist is a refusal.
M0CTL_CONTROL=$CTL expect_rc 0 "$M0CTL" status
expect_rc 1 ctl --dev nope status
grep -q 'no device named "nope"' "$T/err" || fail "unknown device: $(cat "$T/err")"
expect_rc 1 "$M0CTL" --dev nope --control "$CTL" status

# Usage errors are exit 2, an unreachable channel exit 1.
expect_rc 2 ctl power sideways
expect_rc 2 ctl wait ready
expect_rc 2 ctl wait ready link --timeout 1
expect_rc 2 ctl status --bogus
expect_rc 2 "$M0CTL" nosuchcommand
# A prefix several names begin with is refused, naming them; a unique one runs.
expect_rc 2 "$M0CTL" se
grep -qx "m0ctl: ambiguous command 'se': set or search? (see m0ctl --help)" "$T/err" ||
  fail "ambiguous prefix: $(cat "$T/err")"
expect_rc 0 ctl stat
expect_rc 2 "$M0CTL" status
expect_rc 1 "$M0CTL" --control "$T/nothing-here" status
expect_rc 0 ctl call '{"id":7,"cmd":"status"}'
grep -q '"id":7,"ok":true' "$T/out" || fail "call: $(cat "$T/out")"
expect_rc 1 ctl call '{"id":8,"cmd":"nope"}'
m0_stop
[[ ! -e $CTL ]] || fail "the control socket is still there after exit"

# The loopback TCP port, alone; m0ctl's tcp:PORT.
CP=$(free_ports tcp 1)
m0_start --control-port "$CP"
grep -q "control: 127.0.0.1:$CP" "$T/stdout.$M0_RUN" || fail "the banner does not name the control port"
expect_rc 0 "$M0CTL" --control "tcp:$CP" status
grep -q '"mode":"transparent"' "$T/out" || fail "status over TCP: $(cat "$T/out")"
expect_rc 2 "$M0CTL" --control "tcp:nope" status
m0_stop

# Bad control options: usage errors (2) and runtime failures (1), one line each.
long=$T/$(printf 'x%.0s' {1..120})
rc=0; "$M0EMU" --control "$long" --tty "$TTY" --state "$STATE" 2>"$T/err" || rc=$?
[[ $rc -eq 2 ]] && grep -q -- "--control: a Unix socket's path has at most 107 bytes" "$T/err" ||
  fail "an over-long --control path: exit $rc, $(cat "$T/err")"
rc=0; "$M0EMU" --control-port 0 --tty "$TTY" --state "$STATE" 2>"$T/err" || rc=$?
[[ $rc -eq 2 ]] || fail "--control-port 0: exit $rc"
touch "$T/regular"
rc=0; "$M0EMU" --control "$T/regular" --tty "$TTY" --state "$STATE" --web-port "$(free_ports tcp 1)" \
  --timing fast -q 2>"$T/err" || rc=$?
[[ $rc -eq 1 ]] && grep -q "exists and is not a socket" "$T/err" ||
  fail "--control on a regular file: exit $rc, $(cat "$T/err")"
[[ -f $T/regular ]] || fail "the regular file was removed"
