#!/usr/bin/env bash
# 71-udp1500-netset-restart: a set through the FF protocol. `m0ctl netset` reads the
# module's blocks, writes the basic, port and heartbeat blocks that changed (each answered
# FF 01 <cmd> 4B once flash has it) and restarts the module (FF 01 02 4B); the module comes
# back running the new values, as AT shows, and flash.conf holds them. Writing the same
# values again changes nothing and writes nothing.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"
: "${M0CTL:?M0CTL must name the m0ctl binary (meson test sets it)}"

MAC=D8B04C0071AA
m0_start --mac "$MAC"
ctl=("$M0CTL" netset --to 127.0.0.1 --port "$UDP1500_PORT" --mac "$MAC")
out=$("${ctl[@]}" MID=Net-71 'UART=9600,7,2,EVEN,NFC' 'SOCK=TCPS,0.0.0.0,4071' MAXSK=2 \
  HEARTEN=on HEARTTM=45 'WANN=STATIC,192.168.0.71,255.255.255.0,192.168.0.1') ||
  fail "m0ctl netset failed: $out"
log "$out"
for line in 'basic settings (05): FF 01 05 4B ok' 'port settings (06): FF 01 06 4B ok' \
  'heartbeat/registration (21): FF 01 21 4B ok' 'restart (02): FF 01 02 4B ok'; do
  grep -qxF "$line" <<<"$out" || fail "netset output lacks '$line'"
done
wait_event ready 2
grep -q '"ev":"restart","cause":"udp1500"' "$EVENTS" || fail "no restart with cause udp1500"
[[ $(count_events flash.saved) -eq 3 ]] || fail "one flash write per block expected"

tty_open
enter_command_mode
at 'AT+MID' '\r\n+ok=Net-71\r\n'
at 'AT+UART' '\r\n+ok=9600,7,2,EVEN,NFC\r\n'
at 'AT+SOCK' '\r\n+ok=TCPS,0.0.0.0,4071\r\n'
at 'AT+MAXSK' '\r\n+ok=2\r\n'
at 'AT+HEARTEN' '\r\n+ok=on\r\n'
at 'AT+HEARTTM' '\r\n+ok=45\r\n'
at 'AT+WANN' '\r\n+ok=STATIC,192.168.0.71,255.255.255.0,192.168.0.1\r\n'
at 'AT+ENTM' '\r\n+ok\r\n'
tty_close
flash_has 'AT+MID=Net-71'
flash_has 'AT+SOCK=TCPS,0.0.0.0,4071'
grep -qF '"mode":"transparent","proto":"TCPS"' "$EVENTS" || fail "not running TCPS after the restart"

# The same values again: nothing to write, no restart.
saves=$(count_events flash.saved)
out=$("${ctl[@]}" MID=Net-71 MAXSK=2) || fail "m0ctl netset (no change) failed: $out"
grep -qF "nothing to change" <<<"$out" || fail "expected nothing to change: $out"
[[ $(count_events flash.saved) -eq $saves && $(count_events restart) -eq 1 ]] ||
  fail "an unchanged set wrote flash or restarted"

# --no-restart: saved now, running at the next restart (SIGHUP).
out=$("${ctl[@]}" --no-restart MID=Later-71) || fail "m0ctl netset --no-restart failed: $out"
grep -qxF 'basic settings (05): FF 01 05 4B ok' <<<"$out" || fail "no basic reply: $out"
grep -q 'restart' <<<"$out" && fail "--no-restart restarted: $out"
search=$("$M0CTL" search --to 127.0.0.1 --port "$UDP1500_PORT") || fail "search failed"
[[ $search == Net-71* ]] || fail "the running name changed before the restart: $search"
kill -HUP "$M0_PID"
wait_event ready 3
search=$("$M0CTL" search --to 127.0.0.1 --port "$UDP1500_PORT") || fail "search failed"
[[ $search == Later-71* ]] || fail "the new name is not running after the restart: $search"
m0_stop
