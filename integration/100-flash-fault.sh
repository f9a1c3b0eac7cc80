#!/usr/bin/env bash
# 100-flash-fault: flash that fails, seen by the host and the web page. The next two
# saves answer +ERR=-5 over the serial port (m0ctl at exits 1) and change nothing, the
# third succeeds; full flash refuses every save, the web page's form included (its
# answer says "not permitted now"), until cleared; flash.error events name the fault.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"
: "${M0CTL:?M0CTL must name the m0ctl binary (meson test sets it)}"

CTL=$T/ctl
m0_start --control "$CTL"
ctl() { "$M0CTL" --control "$CTL" "$@"; }
at_out() { # WANT_RC WANT_STDOUT AT...
  local want=$1 out=$2 rc=0
  shift 2
  "$M0CTL" at --tty "$TTY" "$@" >"$T/out" 2>"$T/err" || rc=$?
  [[ $rc -eq $want && $(cat "$T/out") == "$out" ]] ||
    fail "m0ctl at $*: exit $rc, '$(cat "$T/out")' (want $want, '$out'): $(cat "$T/err")"
}

ctl flash fail 2 >/dev/null || fail "m0ctl flash fail 2"
at_out 1 "+ERR=-5" AT+MID=one
at_out 1 "+ERR=-5" AT+MID=two
wait_event fault.cleared
grep -q '"ev":"flash.error","error":"EIO","fault":"fail","left":0' "$EVENTS" || fail "no flash.error for the fault"
at_out 0 "+ok=USR-M0" AT+MID
at_out 0 "+ok" AT+MID=three
flash_has "AT+MID=three"

ctl flash full >/dev/null || fail "m0ctl flash full"
at_out 1 "+ERR=-5" AT+E=off
net_py "$WEB_PORT" <<'PY'
import base64, json, sys, urllib.error, urllib.request
from m0net import *
port = int(sys.argv[1])
req = urllib.request.Request(f"http://127.0.0.1:{port}/api/config", method="POST",
                             data=json.dumps({"MID": "fromweb"}).encode())
req.add_header("Content-Type", "application/json")
req.add_header("Authorization", "Basic " + base64.b64encode(b"admin:admin").decode())
try:
    urllib.request.urlopen(req, timeout=TIMEOUT)
    raise Fail("the web page's save was accepted on a full flash")
except urllib.error.HTTPError as e:
    body = json.loads(e.read())
    if e.code != 422 or body["errors"]["MID"]["code"] != -5:
        raise Fail(f"web page: {e.code} {body}")
PY
ctl flash ok >/dev/null || fail "m0ctl flash ok"
at_out 0 "+ok" AT+E=off
flash_has "AT+E=off"
grep -q '"AT+MID=fromweb"' "$STATE/flash.conf" && fail "the refused web save reached flash"
"$M0CTL" --control "$CTL" status | grep -q '"flash":null' || fail "status still shows a flash fault"
m0_stop
