#!/usr/bin/env bash
# 13-banner-mac: the startup banner names the tty and its pts, the web URL (from
# --web-port, else from WEBPORT), the work mode and peer from flash, the state dir; the derived MAC is
# stable for a state dir, has the D8B04C OUI, and differs between state dirs.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

m0_start --web-port 18080
b=$T/stdout.$M0_RUN
pts=$(readlink "$TTY")
grep -qF "$TTY -> $pts" "$b" || fail "banner lacks the tty"
grep -qF 'http://127.0.0.1:18080/ (user and password: AT+WEBU)' "$b" ||
  fail "banner lacks the web URL"
grep -qF 'TCPC 192.168.0.201:8234 (dialled as 127.0.0.1:8234, --net loopback)' "$b" ||
  fail "banner lacks the work mode"
grep -qF "$(cd "$STATE" && pwd -P)" "$b" || fail "banner lacks the state dir"
grep -q 'timing: *fast' "$b" || fail "banner lacks the timing"
mac=$(sed -n 's/.*MAC \([0-9A-F]\{12\}\).*/\1/p' "$b")
[[ $mac == D8B04C* ]] || fail "derived MAC '$mac' lacks the D8B04C OUI"
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
