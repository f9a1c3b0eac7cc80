#!/usr/bin/env bash
# 11-events: the --events stream is one JSON object per line, t_ms first and never
# decreasing, then ev, then the core's fields; names are the documented ones. Also
# --events - puts the same stream on stdout, and nothing else (the banner goes to stderr,
# so a reader can parse every line).
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

check_stream() { # FILE [REQUIRED_EVENT...]
  python3 - "$@" <<'PY' || fail "bad event stream in $1"
import json, sys
import os, re
# Every event the program writes must be documented: the names come from docs/events.md.
docs = os.path.join(os.environ["M0_INTEGRATION_DIR"], "..", "docs", "events.md")
with open(docs) as d:
    known = set(re.findall(r"^\| `([a-z0-9_.]+)` \|", d.read(), re.M))
assert "ready" in known and "flash.saved" in known, f"no event table found in {docs}"
path, required = sys.argv[1], set(sys.argv[2:])
seen, last = set(), -1
with open(path, "rb") as f:
    data = f.read()
assert data.endswith(b"\n"), "the stream does not end with a newline"
for n, raw in enumerate(data.decode().split("\n")[:-1], 1):
    obj = json.loads(raw)  # every line, --events - included: nothing else is on it
    keys = list(obj)
    assert keys[:2] == ["t_ms", "ev"], f"line {n}: keys {keys}"
    assert isinstance(obj["t_ms"], int) and obj["t_ms"] >= last, f"line {n}: t_ms"
    last = obj["t_ms"]
    assert obj["ev"] in known, f"line {n}: unknown event {obj['ev']!r}"
    if obj["ev"].startswith("tty."):
        assert obj.get("pts", "").startswith("/dev/pts/"), f"line {n}: pts"
    if obj["ev"] == "flash.saved":
        assert obj["path"].endswith("/flash.conf"), f"line {n}: path"
    seen.add(obj["ev"])
missing = required - seen
assert not missing, f"missing events: {sorted(missing)}"
PY
}

m0_start
tty_open
enter_command_mode
at 'AT+MID=Ev-Test' '\r\n+ok\r\n'
at 'AT+ENTM' '\r\n+ok\r\n'
wait_event mode.transparent
tty_close
kill -HUP "$M0_PID"
wait_event ready 2
m0_stop
check_stream "$T/events.$M0_RUN" ready tty.attach tty.detach mode.command \
  mode.transparent flash.saved restart

# The events file is truncated at start: a second run starts a fresh stream.
m0_start
m0_stop
[[ $(grep -c '"ev":"ready"' "$T/events.$M0_RUN") -eq 1 ]] || fail "events file not truncated"

# --events - : the stream on stdout, alone; the banner on stderr.
out=$T/stdout.events
"$M0EMU" --tty "$TTY" --state "$STATE" --timing fast --events - >"$out" 2>"$T/stderr.events" &
M0_PID=$!
deadline=$((SECONDS + M0_TIMEOUT))
until grep -q '"ev":"ready"' "$out"; do
  ((SECONDS < deadline)) || fail "no ready on stdout"
  sleep 0.05
done
grep -q '^m0emu ' "$T/stderr.events" || fail "no banner on stderr"
grep -q '^  tty: ' "$T/stderr.events" || fail "the banner on stderr lacks the tty"
grep -v '^{' "$out" && fail "stdout holds lines other than events"
m0_stop
check_stream "$out" ready
