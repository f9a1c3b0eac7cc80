#!/usr/bin/env bash
# 10-flash-bad: an unparseable flash.conf is moved to flash.conf.bad (replacing an older
# one) and replaced by factory defaults; a flash file with bad lines keeps its good lines,
# reports each bad one on stderr, and is not rewritten.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

mkdir -p "$STATE"
printf 'an older bad file\n' >"$STATE/flash.conf.bad"
printf 'AT+MID=NoHeader\n\0binary\n' >"$STATE/flash.conf"
cp "$STATE/flash.conf" "$T/garbage"
m0_start
cmp -s "$STATE/flash.conf.bad" "$T/garbage" || fail "flash.conf.bad is not the old file"
head -n 1 "$STATE/flash.conf" | grep -qx '# m0emu flash v1' || fail "no fresh flash.conf"
flash_has 'AT+MID=USR-M0'
grep -q 'flash.conf.bad' "$T/stderr.$M0_RUN" || fail "stderr does not mention flash.conf.bad"
grep -q 'flash.conf.bad' "$T/stdout.$M0_RUN" || fail "banner does not mention flash.conf.bad"
wait_event flash.saved 1
tty_open
enter_command_mode
at 'AT+MID' '\r\n+ok=USR-M0\r\n'
tty_close
m0_stop

# Bad lines: each reported with its number, the rest applies.
{
  echo '# m0emu flash v1'
  echo 'AT+MAXSK=99'
  echo 'AT+MID=Good-Line'
  echo 'AT+NOSUCH=1'
  echo 'AT+HEARTTM=77'
} >"$STATE/flash.conf"
cp "$STATE/flash.conf" "$T/partial"
rm -f "$STATE/flash.conf.bad"
m0_start
grep -q '^m0emu: flash.conf line 2: ' "$T/stderr.$M0_RUN" || fail "line 2 not reported"
grep -q '^m0emu: flash.conf line 4: ' "$T/stderr.$M0_RUN" || fail "line 4 not reported"
[[ ! -e $STATE/flash.conf.bad ]] || fail "a flash file with bad lines was set aside"
tty_open
enter_command_mode
at 'AT+MID' '\r\n+ok=Good-Line\r\n'
at 'AT+HEARTTM' '\r\n+ok=77\r\n'
at 'AT+MAXSK' '\r\n+ok=4\r\n'
tty_close
m0_stop
cmp -s "$STATE/flash.conf" "$T/partial" || fail "flash.conf rewritten without a set"
