#!/usr/bin/env bash
# 81-profile: a module started from a profile (--profile FILE, then --set NAME=VALUE)
# boots with those settings as its factory settings: echo off and its own SOCK from the
# first command, nothing written until a set, AT+RELD returning to the profile (not the
# built-in defaults), a flash.conf saved earlier winning over the profile (and never
# rewritten at start), and a bad profile or --set refused with exit 2, one line naming
# the option, the line and the reason, nothing started and nothing written.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
cat >"$T/bench.conf" <<EOF
# m0emu flash v1
# A bench module as it leaves the factory: echo off, a TCP server on its own port.
AT+E=off
AT+SOCK=TCPS,192.168.0.201,$P
AT+SOCKPORT=$P

AT+MID=Bench-Profile
EOF

m0_start --profile "$T/bench.conf" --set MAXSK=2 --set AT+mid=Bench-81
b=$T/stdout.$M0_RUN
grep -qF "no flash.conf yet: the profile's factory settings" "$b" ||
  fail "the banner does not say the profile's settings run"
grep -qF "profile: $T/bench.conf + 2 --set" "$b" || fail "the banner does not name the profile"
[[ ! -e $STATE/flash.conf ]] || fail "the profile was written to flash.conf at start"
wait_event net.listening 1
grep '"ev":"net.listening"' "$EVENTS" | grep -qF "127.0.0.1:$P" ||
  fail "the TCP server from the profile does not listen on $P"

tty_open
enter_command_mode
# Echo off from the first command: the reply alone comes back.
at_noecho 'AT+E' '\r\n+ok=off\r\n'
at_noecho 'AT+MID' '\r\n+ok=Bench-81\r\n'
at_noecho 'AT+MAXSK' '\r\n+ok=2\r\n'
at_noecho 'AT+SOCK' "\\r\\n+ok=TCPS,192.168.0.201,$P\\r\\n"
# The user changes the module: flash now holds that.
at_noecho 'AT+MID=Changed' '\r\n+ok\r\n'
at_noecho 'AT+E=on' '\r\n+ok\r\n'
wait_event flash.saved 2
flash_has 'AT+MID=Changed'
tty_close
m0_stop

# Started again with the same profile: flash.conf is what the module saved, and wins.
cp "$STATE/flash.conf" "$T/flash.before"
m0_start --profile "$T/bench.conf" --set MAXSK=2 --set AT+mid=Bench-81
grep -qF 'flash.conf loaded; the profile is what AT+RELD restores' "$T/stdout.$M0_RUN" ||
  fail "the banner does not say flash.conf wins over the profile"
cmp -s "$STATE/flash.conf" "$T/flash.before" || fail "flash.conf was rewritten at start"
tty_open
enter_command_mode
at 'AT+MID' '\r\n+ok=Changed\r\n'
# AT+RELD: back to the profile, saved, echo off again after the restart.
saved=$(count_events flash.saved)
at 'AT+RELD' '\r\n+ok=rebooting...\r\n' # echo on: saved by the user
wait_event flash.saved $((saved + 1))
wait_event ready 2
flash_has 'AT+MID=Bench-81'
flash_has 'AT+E=off'
flash_has 'AT+MAXSK=2'
flash_has "AT+SOCK=TCPS,192.168.0.201,$P"
enter_command_mode
at_noecho 'AT+MID' '\r\n+ok=Bench-81\r\n'
at_noecho 'AT+E' '\r\n+ok=off\r\n'
tty_close
m0_stop

# Refused: exit 2, one line on stderr naming the option, the line and the reason;
# no banner, no tty, flash.conf untouched.
cp "$STATE/flash.conf" "$T/flash.before"
refused() { # refused WANT ARGS...: m0emu ARGS exits 2 with one stderr line holding WANT
  local want=$1 rc=0
  shift
  timeout -s KILL "$M0_TIMEOUT" "$M0EMU" --tty "$TTY" --state "$STATE" --timing fast \
    --web-port "$(free_ports tcp 1)" "$@" >"$T/out" 2>"$T/err" || rc=$?
  [[ $rc -eq 2 ]] || fail "m0emu $* exited $rc, want 2 (stderr: $(cat "$T/err"))"
  [[ $(wc -l <"$T/err") -eq 1 ]] || fail "m0emu $*: want one line on stderr: $(cat "$T/err")"
  grep -qF -- "m0emu: $want" "$T/err" || fail "m0emu $*: stderr lacks '$want': $(cat "$T/err")"
  [[ ! -s $T/out ]] || fail "m0emu $*: printed $(cat "$T/out")"
  [[ ! -e $TTY && ! -L $TTY ]] || fail "m0emu $*: left the tty symlink"
  cmp -s "$STATE/flash.conf" "$T/flash.before" || fail "m0emu $*: flash.conf changed"
}
printf '# m0emu flash v1\nAT+E=off\nAT+UART=9600,8,3,NONE,NFC\n' >"$T/bad.conf"
refused "--profile $T/bad.conf line 3: invalid value '9600,8,3,NONE,NFC' for AT+UART: expected baud,data,stop,parity,flow" \
  --profile "$T/bad.conf"
printf 'AT+E=off\nECHO off\n' >"$T/bad2.conf"
refused "--profile $T/bad2.conf line 2: expected an AT+NAME=value line, got 'ECHO off'" \
  --profile "$T/bad2.conf"
refused "--profile $T/none.conf: cannot read it: No such file or directory" \
  --profile "$T/none.conf"
refused "--set 'RSTIM=30': invalid value '30' for AT+RSTIM" --set E=off --set RSTIM=30
refused "--set 'ECHO=off': unknown parameter 'ECHO'" --set ECHO=off
refused "--set 'VER=V1': AT+VER is a command, not a setting" --set VER=V1
refused "--set 'E': expected NAME=VALUE" --profile "$T/bench.conf" --set E
