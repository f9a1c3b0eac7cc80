#!/usr/bin/env bash
# 84-ports-taken: the suite does not need an idle machine. Another program holds
# 127.0.0.1:8234 (the factory peer, dialled by a factory-set module, and the port every
# doc example uses: it accepts, greets and echoes, and takes UDP there too), then 20108
# as well (the factory SOCKPORT, TCP and UDP); the scenarios that once depended on them
# (04, 08, 13, 59) and a sample of the rest run as children meanwhile and must pass.
# Two rounds, because with 20108 held a factory-set module cannot even dial 8234 (its
# local port is taken), which would hide a scenario that still talks to the peer on 8234.
# A port some other program already holds counts as taken: only that it is taken matters.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

SCENARIOS=(01-handshake.sh 02-persist-z.sh 04-reld.sh 08-sighup-restart.sh 11-events.sh
  13-banner-mac.sh 59-htpc-timing-real.sh 81-profile.sh)

# hold RELEASE PORT...: another program on PORT (TCP, talking, and UDP) until RELEASE
# exists. Returns once every port is taken, by it or by someone else.
hold() {
  net_py_bg "$@" <<'PY'
import errno, os, socket, sys, threading, time
from m0net import LO, Fail, log, ready

release, ports = sys.argv[1], [int(p) for p in sys.argv[2:]]
held = []

def talk(conn):
    try:
        conn.sendall(b"hello from another program on this port\r\n")
        while (b := conn.recv(4096)):
            conn.sendall(b)
    except OSError:
        pass
    finally:
        conn.close()

def serve(listener):
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=talk, args=(conn,), daemon=True).start()

for port in ports:
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind((LO, port))
        except OSError as e:
            log(f"{LO}:{port} ({'tcp' if kind == socket.SOCK_STREAM else 'udp'}) held by "
                f"someone else already: {e}")
            s.close()
            continue
        held.append(s)
        if kind == socket.SOCK_STREAM:
            s.listen(64)
            threading.Thread(target=serve, args=(s,), daemon=True).start()

# Taken, by us or by another: nobody else can bind them now.
for port in ports:
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        probe = socket.socket(socket.AF_INET, kind)
        try:
            probe.bind((LO, port))
            raise Fail(f"{LO}:{port} is not taken")
        except OSError as e:
            if e.errno != errno.EADDRINUSE:
                raise
        finally:
            probe.close()
ready()
deadline = time.monotonic() + 600
while not os.path.exists(release):
    if time.monotonic() > deadline:
        raise Fail("never released")
    time.sleep(0.05)
PY
}

# run_scenarios WHAT: every scenario of the sample, one after the other, as a child with
# its own files; the first failure fails this one, with the child's output.
run_scenarios() {
  local s rc
  for s in "${SCENARIOS[@]}"; do
    rc=0
    M0_INTEGRATION_DIR=$M0_PY_DIR bash "$M0_PY_DIR/$s" >"$T/$s.log" 2>&1 || rc=$?
    if ((rc != 0)); then
      log "---- $s (status $rc) with $1 taken:"
      tail -n 40 "$T/$s.log" >&2
      fail "$s failed while another program held $1"
    fi
  done
}

hold "$T/release.1" 8234
run_scenarios "127.0.0.1:8234"
touch "$T/release.1"
net_py_wait

hold "$T/release.2" 8234 20108
run_scenarios "127.0.0.1:8234 and 20108"
touch "$T/release.2"
net_py_wait
