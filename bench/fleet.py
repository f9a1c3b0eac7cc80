#!/usr/bin/env python3
"""fleet.py: a fleet of m0emu modules in one process, measured (see bench/fleet).

Every module is a TCP client (the factory work mode) of one server run here, in a thread
of this process: --peer sends the factory peer 192.168.0.201:8234 to the server's port,
and each module connects from its own address (127.200.x.y). Nothing leaves 127/8.

  size         a fleet of N modules (with ptys, and without): start to every `ready`
               (the spawn to the N-th ready event), resident memory once every module is
               connected and idle, per module ((RSS of N - RSS of 1) / (N - 1)).
  idle CPU     FLEET_N modules connected, idle: the process's CPU time over FLEET_IDLE_S
               seconds (utime + stime from /proc), as a share of one core.
  heartbeats   FLEET_N modules send a 3-byte NET heartbeat every second (HEARTTM=1);
               counted: the beats due in FLEET_HEART_S seconds from the last module's
               connection. A beat's lateness is against the module's own schedule: its
               connection (net.connected, the fleet's clock) + k s, the grid the core
               keeps. As sent: its heart.sent t_ms (whole ms; the TCP write follows at
               once). As received: the kernel's receive time at the server
               (SO_TIMESTAMPNS, so the server's own speed does not count), carried to the
               fleet's clock by the smallest send-to-receive gap. p50, p99, max; beats
               missing against those due.
  storm        the server goes away for FLEET_STORM_S seconds (every module retries once
               a second, refused at once): the fleet's CPU meanwhile; then it listens
               again: the time until all FLEET_N are connected again.
  processes    FLEET_PROCS separate m0emu processes (the alternative today) against a
               fleet of as many, --no-tty both: total PSS (proportional set size, so
               shared library pages count once) and RSS, and the time from spawning to
               the last `ready`, as ratios in the same run.

FLEET_ONLY (size,load,procs) runs only the parts named. Reports only: nothing here fails
on a number.
"""
import argparse
import json
import os
import platform
import resource
import selectors
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

LO = "127.0.0.1"
# Folders of finished runs, removed at exit, not between runs: deleting 10,000 modules'
# files right before the next fleet starts makes that fleet's every file creation dearer
# on a journal-less ext4 (it skips inodes deleted in the last seconds, scanning them one
# by one), which is the benchmark's doing, not the fleet's.
TRASH = []
# Fleets running: stopped at exit whatever ended the benchmark (a fleet left behind on a
# timeout held its 4,000 ptys and retried its connections for ever).
LIVE = []
# The kernel's receive time of TCP data (recvmsg ancillary data): what the server below
# records, so its own Python time per read does not count as the module's lateness.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
SCM_TIMESTAMPNS = SO_TIMESTAMPNS
BASE = "127.200.0.1"
PROC_BASE = (127, 201)


def env_int(name, default):
    return int(os.environ.get(name, default))


def free_port():
    s = socket.socket()
    s.bind((LO, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for limit in (max(want, hard), hard):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
            break
        except (ValueError, OSError):
            continue
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# ---- the server ----

class Server:
    """TCP server on 127.0.0.1 in a thread: counts connections, timestamps what arrives
    (heartbeats are 3 bytes, one write each: a read of 3k bytes is k beats)."""

    def __init__(self, port):
        self.port = port
        self.sel = selectors.DefaultSelector()
        self.lock = threading.Lock()
        self.listener = None
        self.conns = {}  # socket -> peer address
        self.accepted = 0
        self.accept_times = []
        self.beats = {}  # peer address -> [monotonic times]
        self.record = False
        self.stop_flag = False
        self.wake_r, self.wake_w = socket.socketpair()
        self.sel.register(self.wake_r, selectors.EVENT_READ, "wake")
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def _call(self, fn):
        done = threading.Event()
        with self.lock:
            self.pending = (fn, done)
        self.wake_w.send(b"x")
        done.wait()

    def listen(self):
        """Listen (again): a listener already there is kept; the accept counts restart."""
        def go():
            self.accepted = 0
            self.accept_times = []
            if self.listener is not None:
                return
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((LO, self.port))
            s.listen(4096)
            s.setblocking(False)
            self.listener = s
            self.sel.register(s, selectors.EVENT_READ, "listen")
        self._call(go)

    def go_away(self):
        """Close the listener and every connection: the modules are refused until listen()."""
        def go():
            if self.listener is not None:
                self.sel.unregister(self.listener)
                self.listener.close()
                self.listener = None
            for c in list(self.conns):
                self.sel.unregister(c)
                c.close()
            self.conns.clear()
        self._call(go)

    def set_record(self, on):
        def go():
            self.record = on
            if on:
                self.beats = {}
        self._call(go)

    def connected(self):
        return len(self.conns)

    def run(self):
        try:
            self._run()
        except Exception:  # the bench must not wait forever on a dead server
            import traceback
            traceback.print_exc()
            os._exit(1)

    def _run(self):
        while not self.stop_flag:
            for key, _ in self.sel.select(1.0):
                now = time.monotonic()
                if key.data == "wake":
                    self.wake_r.recv(64)
                    with self.lock:
                        fn, done = self.pending
                    fn()
                    done.set()
                elif key.data == "listen":
                    for _ in range(256):
                        try:
                            c, addr = self.listener.accept()
                        except (BlockingIOError, OSError):
                            break
                        c.setblocking(False)
                        c.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
                        self.conns[c] = addr[0]
                        self.accepted += 1
                        self.accept_times.append(now)
                        self.sel.register(c, selectors.EVENT_READ, "conn")
                else:
                    c = key.fileobj
                    if c not in self.conns:
                        continue  # closed earlier in this batch (go_away)
                    try:
                        data, anc, _, _ = c.recvmsg(65536, 64)
                    except (BlockingIOError, InterruptedError):
                        continue
                    except OSError:
                        data, anc = b"", []
                    for level, kind, value in anc:
                        if level == socket.SOL_SOCKET and kind == SCM_TIMESTAMPNS:
                            sec, nsec = struct.unpack("qq", value[:16])
                            now = sec + nsec / 1e9  # the kernel's receive time
                    if not data:
                        self.sel.unregister(c)
                        self.conns.pop(c, None)
                        c.close()
                        continue
                    if self.record and len(data) >= 3:
                        # The timestamp is the last segment's: beats that waited in
                        # one read for a slow server have no time of their own.
                        peer = self.conns.get(c)
                        beats = self.beats.setdefault(peer, [])
                        beats.extend([None] * (len(data) // 3 - 1))
                        beats.append(now)

    def close(self):
        self.go_away()
        self.stop_flag = True
        self.wake_w.send(b"x")
        self.thread.join()


# ---- processes ----

def count_ready(path):
    try:
        with open(path, "rb") as f:
            return f.read().count(b'"ev":"ready"')
    except FileNotFoundError:
        return 0


def wait_until(what, fn, timeout):
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: timed out waiting for {what}")
        time.sleep(0.01)


def proc_mem_kb(pid):
    rss = pss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except FileNotFoundError:
        pss = rss
    return rss, pss


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Fleet:
    def __init__(self, m0emu, n, server_port, extra=(), base=BASE, flash=None):
        self.dir = tempfile.mkdtemp(prefix="m0fleet-bench-")
        TRASH.append(self.dir)
        self.n = n
        self.events = os.path.join(self.dir, "events")
        if flash:
            for k in range(1, n + 1):
                d = os.path.join(self.dir, "f", f"m{k:04d}")
                os.makedirs(d)
                with open(os.path.join(d, "flash.conf"), "w") as f:
                    f.write("# m0emu flash v1\n" + "".join(line + "\n" for line in flash))
        cmd = [m0emu, "--fleet", os.path.join(self.dir, "f"), "--count", str(n), "-q",
               "--events", self.events, "--bind", base, "--web-port", str(free_port()),
               "--peer", f"192.168.0.201=127.0.0.1:{server_port}", *extra]
        self.t0 = time.monotonic()
        self.p = subprocess.Popen(cmd, stderr=open(os.path.join(self.dir, "stderr"), "w"))
        LIVE.append(self)
        wait_until(f"{n} modules ready", lambda: self.p.poll() is not None or
                   count_ready(self.events) >= n, 60 + n / 50)
        if self.p.poll() is not None:
            raise SystemExit(f"bench: m0emu exited {self.p.returncode}: "
                             + open(os.path.join(self.dir, "stderr")).read()[-2000:])
        self.start_s = time.monotonic() - self.t0

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(60)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        if self in LIVE:
            LIVE.remove(self)


def connect_all(server, n, timeout):
    wait_until(f"{n} connections", lambda: server.connected() >= n, timeout)


# ---- the measures ----

def measure_size(m0emu, server, n, ptys, nofile, udp1500=True):
    """connected: the modules are the server's clients, unless the open files limit
    cannot hold a listener and a connection per module (and a pty pair): then the
    server stays away and they retry, once a second each. udp1500=False runs the
    modules without their UDP 1500 socket (--udp1500-port 0), one file fewer each."""
    extra = ([] if ptys else ["--no-tty"]) + ([] if udp1500 else ["--udp1500-port", "0"])
    # A pty pair, a web listener, the UDP 1500 socket and a connection per module.
    connected = n * ((5 if ptys else 3) - (0 if udp1500 else 1)) + 256 <= nofile
    server.go_away()
    server.listen()
    one = Fleet(m0emu, 1, server.port, extra)
    connect_all(server, 1, 30)
    time.sleep(2)
    rss1, pss1 = proc_mem_kb(one.p.pid)
    one.stop()
    server.go_away()
    if connected:
        server.listen()
    f = Fleet(m0emu, n, server.port, extra)
    if connected:
        connect_all(server, n, 60 + n / 50)
    time.sleep(3)
    rss, pss = proc_mem_kb(f.p.pid)
    f.stop()
    server.listen()
    return {"n": n, "ptys": ptys, "start_s": f.start_s, "rss_kb": rss, "rss1_kb": rss1,
            "per_module_kb": (rss - rss1) / (n - 1), "connected": connected}


def heart_lateness(events, received, heart_s):
    """Each beat's lateness against the module's own schedule: a NET heartbeat falls due
    HEARTTM after the connection came up, then every HEARTTM on that grid (the core
    keeps it exactly: a late beat does not move the next one, test_heart). The grid of
    a module is its net.connected time on the fleet's clock (t_ms, whole ms) + k s.
    As sent: the beat's heart.sent t_ms minus its deadline (whole ms; the TCP write
    follows the event at once). As received: the kernel's receive time at the server
    minus the deadline carried to the server's clock by the smallest gap between a
    heart.sent and its arrival (the two clocks' offset plus the least delivery time,
    within 1 ms). Counted: the beats due after the last module connected, for heart_s
    seconds."""
    addr, up, sent = {}, {}, {}
    with open(events, "rb") as ev:
        for line in ev:
            if b'"ev":"ready"' in line:
                e = json.loads(line)
                addr[e["dev"]] = e["addr"]
            elif b'"ev":"net.connected"' in line:
                e = json.loads(line)
                up.setdefault(e["dev"], []).append(e["t_ms"])
            elif b'"ev":"heart.sent"' in line:
                e = json.loads(line)
                sent.setdefault(e["dev"], []).append(e["t_ms"])
    if not up:
        return {}, {}
    w0 = max(ups[-1] for ups in up.values())  # the fleet's clock, ms
    w1 = w0 + 1000 * heart_s

    def deadline(dev, t):
        """The deadline of a beat sent at fleet time t: on the grid of the connection
        before it (a module that reconnected starts a new grid)."""
        u = max((x for x in up[dev] if x <= t), default=None)
        if u is None:
            return None
        # Never sent early (the core fires at or after the deadline; both times are
        # whole ms, floored): up to 999 ms late is told apart from the next beat.
        return u + 1000 * max(1, (t - u + 1) // 1000)

    late_sent, due_sent, expected = [], {}, 0
    for dev, ts in sent.items():
        for t in ts:
            d = deadline(dev, t)
            if d is not None and w0 < d <= w1:
                late_sent.append(t - d)
                due_sent[(addr.get(dev), d)] = t
    for dev, ups in up.items():
        u = ups[-1]
        expected += sum(1 for k in range(1, heart_s + 3) if w0 < u + 1000 * k <= w1)
    # The server recorded from before the fleet started, and a connection delivers in
    # order: a module's i-th arrival is its i-th heart.sent. The offset of the server's
    # clock (s, realtime) over the fleet's (ms) is the smallest gap of such a pair.
    by_addr = {a: d for d, a in addr.items()}
    pairs = []
    for peer, beats in received.items():
        dev = by_addr.get(peer)
        for t, s_ms in zip(beats, sent.get(dev, ())):
            if t is not None:
                pairs.append((dev, t * 1000, s_ms))
    offset = min((t - s_ms for _, t, s_ms in pairs), default=0)
    late, untimed, arrived = [], 0, 0
    for peer, beats in received.items():
        dev = by_addr.get(peer)
        for t, s_ms in zip(beats, sent.get(dev, ())):
            d = deadline(dev, s_ms)
            if d is None or not w0 < d <= w1:
                continue
            arrived += 1
            if t is None:
                untimed += 1  # merged with a later beat in one read: arrived, untimed
            else:
                late.append(t * 1000 - offset - d)
    late.sort()
    late_sent.sort()

    def stats(xs):
        return {"p50_ms": statistics.median(xs) if xs else None,
                "p99_ms": xs[int(0.99 * (len(xs) - 1))] if xs else None,
                "max_ms": xs[-1] if xs else None, "min_ms": xs[0] if xs else None}

    heart = {"modules": len(received), "expected": expected, "beats": arrived,
             "untimed": untimed, "missing": max(0, expected - arrived), **stats(late)}
    return heart, {"beats": len(late_sent), **stats(late_sent)}


def measure_idle_heart_storm(m0emu, server, n, idle_s, heart_s, storm_s):
    out = {}
    server.go_away()
    server.listen()
    flash = ["AT+HEARTEN=on", "AT+HEARTTP=NET", "AT+HEARTTM=1", "AT+HEARTDT=C0FFEE"]
    # Idle first, on a fleet without heartbeats.
    f = Fleet(m0emu, n, server.port, ["--no-tty"])
    connect_all(server, n, 60)
    time.sleep(2)
    c0, t0 = cpu_s(f.p.pid), time.monotonic()
    time.sleep(idle_s)
    out["idle_cpu_pct"] = 100 * (cpu_s(f.p.pid) - c0) / (time.monotonic() - t0)
    f.stop()
    server.go_away()
    server.listen()
    # Heartbeats.
    server.set_record(True)  # from the first beat: arrivals pair with heart.sent in order
    f = Fleet(m0emu, n, server.port, ["--no-tty"], flash=flash)
    connect_all(server, n, 60)
    c0, t0 = cpu_s(f.p.pid), time.monotonic()
    time.sleep(heart_s + 1.5)  # the window's last beats, however late, are in
    out["heart_cpu_pct"] = 100 * (cpu_s(f.p.pid) - c0) / (time.monotonic() - t0)
    server.set_record(False)
    out["heart"], out["heart_sent"] = heart_lateness(f.events, server.beats, heart_s)
    # The storm: the server goes away; everyone retries every second.
    server.go_away()
    c0, t0 = cpu_s(f.p.pid), time.monotonic()
    time.sleep(storm_s)
    out["storm_cpu_pct"] = 100 * (cpu_s(f.p.pid) - c0) / (time.monotonic() - t0)
    back = time.monotonic()
    server.listen()
    connect_all(server, n, 60)
    out["storm_reconnect_s"] = server.accept_times[n - 1] - back
    f.stop()
    return out


def measure_processes(m0emu, server, n):
    server.go_away()
    server.listen()
    tmp = tempfile.mkdtemp(prefix="m0procs-bench-")
    TRASH.append(tmp)
    procs = []
    t0 = time.monotonic()
    for k in range(1, n + 1):
        a = f"{PROC_BASE[0]}.{PROC_BASE[1]}.{k // 254}.{1 + k % 254}"
        d = os.path.join(tmp, str(k))
        os.makedirs(d)
        procs.append((subprocess.Popen(
            [m0emu, "--state", d, "--no-tty", "-q", "--bind", a, "--events",
             os.path.join(d, "events"), "--web-port", str(free_port()),
             "--peer", f"192.168.0.201=127.0.0.1:{server.port}"],
            stderr=subprocess.DEVNULL), os.path.join(d, "events")))
    wait_until(f"{n} processes ready",
               lambda: all(count_ready(e) >= 1 for _, e in procs), 120)
    start_s = time.monotonic() - t0
    connect_all(server, n, 60)
    time.sleep(3)
    rss = pss = 0
    for p, _ in procs:
        r, s = proc_mem_kb(p.pid)
        rss += r
        pss += s
    for p, _ in procs:
        p.send_signal(signal.SIGTERM)
    for p, _ in procs:
        p.wait()
    server.go_away()
    server.listen()
    f = Fleet(m0emu, n, server.port, ["--no-tty"])
    connect_all(server, n, 60)
    time.sleep(3)
    frss, fpss = proc_mem_kb(f.p.pid)
    f.stop()
    return {"n": n, "procs_start_s": start_s, "procs_rss_kb": rss, "procs_pss_kb": pss,
            "fleet_start_s": f.start_s, "fleet_rss_kb": frss, "fleet_pss_kb": fpss}


def machine():
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = 0
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) // 1024
    return (f"nproc {os.cpu_count()}, {model}, {mem} MiB, Linux {platform.release()}, "
            f"Python {platform.python_version()}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--m0emu", required=True)
    ap.add_argument("--out", default=".")
    a = ap.parse_args()
    n = env_int("FLEET_N", 1000)
    big = env_int("FLEET_BIG", 10000)
    big_ptys = env_int("FLEET_PTYS_BIG", 4000)
    nprocs = env_int("FLEET_PROCS", 100)
    idle_s, heart_s, storm_s = (env_int("FLEET_IDLE_S", 10), env_int("FLEET_HEART_S", 60),
                                env_int("FLEET_STORM_S", 30))
    only = set(os.environ.get("FLEET_ONLY", "size,load,procs").split(","))
    nofile = raise_nofile(5 * max(big, big_ptys) + 1024)
    server = Server(free_port())
    server.listen()
    rows, notes, res = [], [], {"machine": machine(), "nofile": nofile}

    def row(what, value, target=""):
        rows.append((what, value, target))
        print(f"{what:<58}{value:>14}  {target}", flush=True)

    print(f"machine: {res['machine']}; open files limit {nofile}", flush=True)
    sizes = [(n, True)]
    with open("/proc/sys/kernel/pty/max") as f1, open("/proc/sys/kernel/pty/nr") as f2:
        ptys_free = int(f1.read()) - int(f2.read())
    if big_ptys > 0:
        if big_ptys + 64 <= ptys_free:
            sizes.append((big_ptys, True))
        else:
            notes.append(f"{big_ptys} modules with ptys not run: {ptys_free} ptys free "
                         "(kernel.pty.max)")
    sizes.append((big, False))
    res["size"] = []
    for count, ptys in (sizes if "size" in only else []):
        # Even unconnected, a module holds a web listener and a UDP 1500 socket (and a
        # pty pair): a fleet that cannot open them would not start at all.
        need = count * (4 if ptys else 2) + 256
        udp1500 = True
        if need > nofile and need - count <= nofile:
            udp1500 = False  # the UDP 1500 sockets are what does not fit: go without
            notes.append(f"{count} modules {'with' if ptys else 'without'} ptys ran with "
                         f"--udp1500-port 0: with their UDP 1500 sockets they need about "
                         f"{need} open files, the limit is {nofile}")
        elif need > nofile:
            notes.append(f"{count} modules {'with' if ptys else 'without'} ptys not run: "
                         f"they need about {need} open files to start, the limit is "
                         f"{nofile}")
            row(f"{count} modules {'with' if ptys else 'without'} ptys", "not run")
            continue
        r = measure_size(a.m0emu, server, count, ptys, nofile, udp1500)
        r["udp1500"] = udp1500
        res["size"].append(r)
        kind = "with ptys" if ptys else "without ptys"
        if not udp1500:
            kind += ", no UDP 1500"
        if not r["connected"]:
            kind += ", retrying"
            notes.append(f"{count} modules {'with' if ptys else 'without'} ptys ran without "
                         f"their server: connected, they need more open files than the "
                         f"limit of {nofile}")
        row(f"{count} modules {kind}: start to all ready (s)", f"{r['start_s']:.2f}",
            "<= 1 s for 1,000" if count == 1000 else "")
        row(f"{count} modules {kind}: RSS (MiB)", f"{r['rss_kb'] / 1024:.1f}")
        row(f"{count} modules {kind}: RSS per idle module (KiB)",
            f"{r['per_module_kb']:.1f}", "<= 32 KiB")
    if "load" in only:
        r = measure_idle_heart_storm(a.m0emu, server, n, idle_s, heart_s, storm_s)
        res["load"] = r
        row(f"{n} modules connected, idle: CPU (% of one core)", f"{r['idle_cpu_pct']:.2f}",
            "<= 1 %")
        h, hs = r["heart"], r["heart_sent"]
        row(f"{n} modules, heartbeat every 1 s for {heart_s} s: beats due",
            f"{h['expected']}")
        row("  beats missing", f"{h['missing']}", "0")
        row("  lateness as received, p50 (ms)", f"{h['p50_ms']:.2f}")
        row("  lateness as received, p99 (ms)", f"{h['p99_ms']:.2f}", "<= 20 ms")
        row("  lateness as received, max (ms)", f"{h['max_ms']:.2f}")
        row("  lateness as sent (heart.sent t_ms), p50 (ms)", f"{hs['p50_ms']:.0f}")
        row("  lateness as sent (heart.sent t_ms), p99 (ms)", f"{hs['p99_ms']:.0f}")
        row("  lateness as sent (heart.sent t_ms), max (ms)", f"{hs['max_ms']:.0f}")
        row("  fleet CPU while beating (% of one core)", f"{r['heart_cpu_pct']:.2f}")
        row(f"storm: server away {storm_s} s, fleet CPU (% of one core)",
            f"{r['storm_cpu_pct']:.2f}")
        row("storm: server back, all connected again after (s)",
            f"{r['storm_reconnect_s']:.2f}", "<= 2 s")
        if h["untimed"]:
            notes.append(f"{h['untimed']} beats arrived in one read with a later one (the "
                         "server was slow): they count as arrived, without a lateness")
    if nprocs > 0 and "procs" in only:
        p = measure_processes(a.m0emu, server, nprocs)
        res["processes"] = p
        row(f"{nprocs} processes vs a fleet of {nprocs}: PSS (MiB)",
            f"{p['procs_pss_kb'] / 1024:.1f} / {p['fleet_pss_kb'] / 1024:.1f}",
            f"{p['procs_pss_kb'] / p['fleet_pss_kb']:.1f}x")
        row("  RSS (MiB)", f"{p['procs_rss_kb'] / 1024:.1f} / {p['fleet_rss_kb'] / 1024:.1f}",
            f"{p['procs_rss_kb'] / p['fleet_rss_kb']:.1f}x")
        row("  start to all ready (s)", f"{p['procs_start_s']:.2f} / {p['fleet_start_s']:.2f}",
            f"{p['procs_start_s'] / p['fleet_start_s']:.1f}x")
    server.close()
    for note in notes:
        print("note: " + note)
    res["notes"] = notes
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "fleet-results.txt"), "w") as f:
        f.write(f"machine: {res['machine']}; open files limit {nofile}\n")
        for what, value, target in rows:
            f.write(f"{what:<58}{value:>14}  {target}\n")
        for note in notes:
            f.write("note: " + note + "\n")
    with open(os.path.join(a.out, "fleet-results.json"), "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    try:
        main()
    finally:
        for f in list(LIVE):
            f.stop()
        for d in TRASH:
            shutil.rmtree(d, ignore_errors=True)
