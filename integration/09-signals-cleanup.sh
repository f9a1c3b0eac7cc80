#!/usr/bin/env bash
# 09-signals-cleanup: SIGTERM and SIGINT exit 0, remove the tty symlink and leave flash
# untouched; a stale symlink at --tty is replaced; anything else there is refused (1).
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

# No set: no flash file is ever written.
m0_start
m0_stop TERM
[[ ! -e $STATE/flash.conf ]] || fail "flash.conf written without a set"

# A stale symlink (a crashed run) is replaced.
ln -s /nonexistent/pts "$TTY"
m0_start
[[ $(readlink "$TTY") == /dev/pts/* ]] || fail "stale --tty symlink not replaced"
tty_open
enter_command_mode
at 'AT+MID=Sig-Test' '\r\n+ok\r\n'
wait_event flash.saved 1
tty_close
cp -p "$STATE/flash.conf" "$T/flash.before"
m0_stop INT
cmp -s "$STATE/flash.conf" "$T/flash.before" || fail "SIGINT touched flash.conf"
[[ ! "$STATE/flash.conf" -nt "$T/flash.before" ]] || fail "SIGINT rewrote flash.conf"
ls "$STATE" | grep -q tmp && fail "a temporary file was left in the state dir"

# A regular file at --tty is not ours to replace: exit 1, one line, file untouched.
echo "precious" >"$TTY"
rc=0
"$M0EMU" --tty "$TTY" --state "$STATE" --timing fast >"$T/out" 2>"$T/err" || rc=$?
[[ $rc -eq 1 ]] || fail "--tty on a regular file exited $rc, want 1"
[[ $(wc -l <"$T/err") -eq 1 ]] || fail "want one line on stderr: $(cat "$T/err")"
grep -q 'not a symlink' "$T/err" || fail "message: $(cat "$T/err")"
[[ $(cat "$TTY") == precious ]] || fail "the file at --tty was changed"
rm -f "$TTY"

# A --tty in a directory that does not exist: exit 1 with a message.
rc=0
"$M0EMU" --tty "$T/no/such/dir/tty" --state "$STATE" >"$T/out" 2>"$T/err" || rc=$?
[[ $rc -eq 1 ]] || fail "--tty in a missing directory exited $rc, want 1"
[[ $(wc -l <"$T/err") -eq 1 ]] || fail "want one line on stderr: $(cat "$T/err")"
