#!/usr/bin/env bash
# 63-flash-slow-save: the flash write runs off the loop. Each save is made slow (4 s) with
# the test-only M0EMU_TEST_FLASH_DELAY_MS, and the order of what happens shows the loop
# going on meanwhile, without timing anything:
#  - an AT set in command mode: the web page answers while its save is in flight (no
#    flash.saved yet, no reply on the tty), then +ok arrives, then the command typed
#    behind it runs;
#  - a web apply in transparent mode: a TCP client and the host exchange bytes both ways
#    while the save is in flight, and the HTTP answer comes after flash.saved;
#  - a web client that resets during its apply's save: the save lands, the page goes on;
#  - SIGTERM during a save: the write finishes (flash.conf has it) and the exit is clean.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

P=$(free_ports tcp 1)
flash_write "AT+SOCK=TCPS,192.168.0.201,8234" "AT+SOCKPORT=$P"
export M0EMU_TEST_FLASH_DELAY_MS=4000
m0_start
net_py "$P" "$WEB_PORT" <<'PY'
import base64, json, socket, struct, sys, threading, urllib.request
from m0net import *
port, web = int(sys.argv[1]), int(sys.argv[2])
wait_event("net.listening")


def post_config(body):
    req = urllib.request.Request(f"http://{LO}:{web}/api/config", method="POST",
                                 data=json.dumps(body).encode())
    req.add_header("Content-Type", "application/json")
    req.add_header("Authorization", "Basic " + base64.b64encode(b"admin:admin").decode())
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:  # 422: some fields refused
        return e.code, json.loads(e.read())


# ---- an AT set: the web page answers during its save, +ok comes after ----
tty = Tty()
tty.handshake()
wait_event("mode.command")
tty.write(b"AT+MID=slow\rAT+MID\r")
# The echo leaves in the loop turn that queued the save: the save is in flight now.
tty.expect(b"AT+MID=slow\r", "tty: the echo of the set (the rest waits for the save)")
status = web_status(web)
if count("flash.saved") != 0:
    raise Fail("the web page answered only after the save: the loop was blocked")
if status.get("state") != "command":
    raise Fail(f"/api/status during the save: state {status.get('state')!r}, want command")
tty.expect(b"\r\n+ok\r\n", "tty: +ok once the save is done")
if count("flash.saved") != 1:
    raise Fail("+ok came before flash.saved")
tty.expect(b"AT+MID\r\r\n+ok=slow\r\n", "tty: the command typed meanwhile, after +ok")
tty.at("AT+ENTM", "\r\n+ok\r\n")

# ---- a web apply: TCP moves both ways during its save, the answer comes after ----
client = tcp_connect(port)
wait_event("net.connected", where={"accepted": True})
answer = {}


def apply():
    answer["result"] = post_config({"MID": "web", "SOCKPORT": "99999"})
    answer["saved_events"] = count("flash.saved")


poster = threading.Thread(target=apply)
poster.start()
time.sleep(0.5)  # a minimum: the request reaches the device and its save starts
up, down = serial_safe(2000, 63), data(2000, 64)
tty.write(up)
client.expect(up, "client: the host's bytes during the save")
client.write(down)
tty.expect(down, "tty: the client's bytes during the save")
if count("flash.saved") != 1 or not poster.is_alive():
    raise Fail("the bytes moved only after the web apply's save: the loop was blocked")
poster.join(TIMEOUT)
if poster.is_alive():
    raise Fail("POST /api/config never answered")
status, body = answer["result"]
if answer["saved_events"] != 2:
    raise Fail(f"the HTTP answer came before the save's outcome ({answer})")
# SOCKPORT 99999 is refused at once; MID is saved by the one write.
if status != 422 or body["saved"] != ["MID"] or "SOCKPORT" not in body["errors"]:
    raise Fail(f"POST /api/config answered {status} {body}")
client.close()

# ---- a client that resets while its apply's save is in flight: the save lands ----
body = b'{"MID":"gone"}'
raw = tcp_connect(web, "web client")
raw.write(b"POST /api/config HTTP/1.1\r\nHost: 127.0.0.1\r\n"
          b"Authorization: Basic " + base64.b64encode(b"admin:admin") + b"\r\n"
          b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
time.sleep(0.5)  # a minimum: the request reaches the device
# A reset, not a FIN: the server closes the connection while its answer is owed.
raw.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
raw.close()
wait_event("flash.saved", 3)
if web_status(web).get("state") != "transparent":
    raise Fail("the device is not in transparent mode after the abandoned apply")
got = post_config({"MID": "again"})
if got[0] != 200 or got[1]["saved"] != ["MID"]:
    raise Fail(f"POST /api/config after an abandoned one: {got}")

# ---- a set in flight at SIGTERM: written before the exit ----
tty.handshake()
tty.write(b"AT+MID=last\r")
tty.expect(b"AT+MID=last\r", "tty: the echo of the last set")
tty.close()
PY
# The last save is still in flight (4 s): the signal comes during it.
m0_stop TERM
[[ $(grep -c '"ev":"flash.saved"' "$T/events.$M0_RUN") -eq 5 ]] ||
  fail "the save in flight at SIGTERM did not finish"
flash_has 'AT+MID=last'
