#!/usr/bin/env bash
# 06-bad-option: every bad option or value exits 2 with exactly one line on stderr that
# names what was wrong, prints nothing on stdout, and creates nothing (no tty, no state).
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

# bad WORD ARGS...: m0emu ARGS must exit 2 with one stderr line containing WORD.
bad() {
  local word=$1 rc=0 lines
  shift
  "$M0EMU" --tty "$TTY" --state "$STATE" "$@" >"$T/out" 2>"$T/err" || rc=$?
  [[ $rc -eq 2 ]] || fail "m0emu $* exited $rc, want 2 (stderr: $(cat "$T/err"))"
  [[ ! -s $T/out ]] || fail "m0emu $* printed on stdout: $(cat "$T/out")"
  lines=$(wc -l <"$T/err")
  [[ $lines -eq 1 ]] || fail "m0emu $* wrote $lines lines on stderr, want 1: $(cat "$T/err")"
  grep -q '^m0emu: ' "$T/err" || fail "m0emu $*: message lacks the 'm0emu: ' prefix"
  grep -qF -- "$word" "$T/err" || fail "m0emu $*: message does not name '$word': $(cat "$T/err")"
  [[ ! -e $TTY && ! -L $TTY && ! -e $STATE ]] || fail "m0emu $* created files"
  rm -f "$T/out" "$T/err"
}

bad "--timing" --timing slow
bad "'slow'" --timing slow
bad "--dialect" --dialect vendor
bad "--net" --net lan
bad "--bind" --bind localhost
bad "--bind" --bind 127.0.0.256
bad "--web-port" --web-port 0
bad "--web-port" --web-port 65536
bad "--web-port" --web-port 80x
bad "--mac" --mac D8B04C00000
bad "--mac" --mac D8B04C00000G
bad "--mac" --mac D8:B0:4C:00:00:01
bad "--boot-ms" --boot-ms -1
bad "--boot-ms" --boot-ms 60001
bad "--web-host" --web-host "a b"
bad "--web-host" --web-host ""
bad "--web-host" --web-host .example
bad "--web-host" --web-host 'm0..example'
bad "--web-host" --web-host 127.0.0.1:80
bad "at most 16" $(for i in $(seq 17); do printf -- '--web-host h%d ' "$i"; done)
bad "--uart" --uart serial:7001
bad "--uart" --uart tcp:
bad "--uart" --uart tcp:65536
bad "--uart" --uart rfc2217:localhost:7001
bad "--uart" --uart tcp:::1:7001
bad "--uart" --uart 'tcp:[127.0.0.1]:7001'
bad "given twice" --uart tcp:7001 --uart rfc2217:127.0.0.1:7001
bad "at most 4" --uart tcp:0 --uart tcp:0 --uart tcp:0 --uart tcp:0 --uart tcp:0
bad "--frobnicate" --frobnicate
bad "-x" -x
bad "--tty" --tty
bad "--events" --events
bad "--line-faults" --line-faults=yes
bad "extra" extra
# A flag given a value is named by its long name, whichever flag it is.
bad "--help: takes no value" --help=1
bad "--verbose: takes no value" --verbose=yes
bad "-x" -h -x
# The first bad option is the one reported, even among good ones.
bad "--timing" --dialect field --timing 1 -q

# And the good ones parse: --help and --version exit 0 on stdout.
"$M0EMU" --help >"$T/out" 2>"$T/err" || fail "--help exited non-zero"
grep -q -- '--timing real|fast' "$T/out" || fail "--help lacks the options"
[[ ! -s $T/err ]] || fail "--help wrote on stderr"
# -h is --help: the same text, byte for byte, and nothing else happens.
"$M0EMU" -h >"$T/out.h" 2>"$T/err" || fail "-h exited non-zero"
cmp -s "$T/out" "$T/out.h" || fail "-h does not print what --help prints: $(head -3 "$T/out.h")"
[[ ! -s $T/err ]] || fail "-h wrote on stderr"
grep -q -- '-h, --help' "$T/out" || fail "--help does not list -h"
"$M0EMU" --tty "$TTY" --state "$STATE" -q -h >"$T/out.h" || fail "-q -h exited non-zero"
cmp -s "$T/out" "$T/out.h" || fail "-q -h does not print the help"
[[ ! -e $TTY && ! -L $TTY && ! -e $STATE ]] || fail "-h created files"
"$M0EMU" --version >"$T/out" || fail "--version exited non-zero"
grep -qE '^m0emu [0-9]+\.[0-9]+\.[0-9]+$' "$T/out" || fail "--version: $(cat "$T/out")"
# Valid values of every kind start fine. --net host with a TCP server configured: the
# device listens on --bind (loopback) and dials nobody.
mkdir -p "$STATE"
printf '# m0emu flash v1\nAT+SOCK=TCPS,127.0.0.1,47811\nAT+SOCKPORT=0\n' >"$STATE/flash.conf"
m0_start --bind ::1 --net host --dialect field --mac 0123456789ab \
  --boot-ms 0 --line-faults --web-host m0.example --web-host M0-Bench_2 -q
[[ ! -s $T/stdout.$M0_RUN ]] || fail "-q still printed a banner"
m0_stop
