#!/usr/bin/env bash
# 13-banner-mac: the startup banner names the tty and its pts, the web URL (from
# --web-port, else from WEBPORT), the work mode and peer from flash, the state dir; the derived MAC is
# stable for a state dir, has the D8B04C OUI, and differs between state dirs.
# The factory peer 127.0.0.1:8234 may be any program's on this machine: the host only
# talks to the device once it dials a free port of the scenario's own.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

web=$(free_ports tcp 1)
M0_FACTORY_PEER=1 m0_start --web-port "$web" # the built-in factory settings, banner only
b=$T/stdout.$M0_RUN
pts=$(readlink "$TTY")
grep -qF "$TTY -> $pts" "$b" || fail "banner lacks the tty"
grep -qF "http://127.0.0.1:$web/ (user and password: AT+WEBU)" "$b" ||
  fail "banner lacks the web URL"
grep -qF 'TCPC 192.168.0.201:8234 (dialled as 127.0.0.1:8234, --net loopback)' "$b" ||
  fail "banner lacks the work mode"
grep -qF "$(cd "$STATE" && pwd -P)" "$b" || fail "banner lacks the state dir"
grep -q 'timing: *fast' "$b" || fail "banner lacks the timing"
mac=$(sed -n 's/.*MAC \([0-9A-F]\{12\}\).*/\1/p' "$b")
[[ $mac == D8B04C* ]] || fail "derived MAC '$mac' lacks the D8B04C OUI"
m0_stop

m0_start # from here on the factory peer is the scenario's own (lib.sh)
tty_open
enter_command_mode
at 'AT+MAC' "\\r\\n+ok=$mac\\r\\n"
at 'AT+SOCK=UDPS,127.0.0.1,7000' '\r\n+ok\r\n'
webport=$(free_ports tcp 1)
at "AT+WEBPORT=$webport" '\r\n+ok\r\n'
tty_close
m0_stop

# Same state dir: same MAC; the saved work mode and WEBPORT show up in the banner.
M0_WEB_FROM_WEBPORT=1 m0_start
grep -qF "MAC $mac" "$T/stdout.$M0_RUN" || fail "the derived MAC changed across runs"
grep -qF 'UDPS on 127.0.0.1:20108, first peer 127.0.0.1:7000' "$T/stdout.$M0_RUN" ||
  fail "banner lacks the saved UDPS mode"
grep -qF "http://127.0.0.1:$webport/" "$T/stdout.$M0_RUN" || fail "web URL not from WEBPORT"
m0_stop

# Another state dir: another MAC.
STATE=$T/state2
m0_start
mac2=$(sed -n 's/.*MAC \([0-9A-F]\{12\}\).*/\1/p' "$T/stdout.$M0_RUN")
[[ $mac2 == D8B04C* && $mac2 != "$mac" ]] || fail "MAC for another state dir: '$mac2' vs '$mac'"
m0_stop
