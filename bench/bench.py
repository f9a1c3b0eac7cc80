#!/usr/bin/env python3
"""bench.py: m0emu against socat, same machine, same run, loopback only (see bench/run).

The baseline is the simplest program that does m0emu's job without emulating anything:
    socat PTY,link=<path>,rawer,echo=0 TCP:127.0.0.1:<port>
m0emu runs as a TCP client (AT+SOCK=TCPC) to the same kind of peer. Both are driven by
the same harness, so whatever the harness costs (python on both ends) is in both numbers.

  throughput  --timing fast, N MB pty->TCP and TCP->pty, one process writing and another
              reading (forked, so they do not share the GIL); the clock runs from the
              first write to the last byte read. Median of BENCH_REPS runs, alternating.
  latency     --timing fast, one byte written to the tty, echoed by a TCP peer, read back
              from the tty; BENCH_PINGS round trips after 50 unmeasured ones, BENCH_REPS
              times alternating; the medians of the runs' p50 and p99 are shown.
  pacing      --timing real, m0emu only (socat does not pace: a pty has no baud rate):
              a TCP peer sends BENCH_PACE_S seconds' worth at the AT+UART baud (8N1 = 10
              bits a character) as fast as it can; the host reads and timestamps every
              read. Rate = bytes after the first read / time from the first read to the
              last; error = rate * 10 / baud - 1.

Nothing here fails on a number: stalls and losses are reported in the table.
"""
import argparse
import json
import os
import platform
import random
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import termios
import time

LO = "127.0.0.1"
IDLE = 10.0  # seconds without progress before a run is declared stalled
BLOCK = 1 << 16


def env_int(name, default):
    return int(os.environ.get(name, default))


def free_port():
    s = socket.socket()
    s.bind((LO, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def listen(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((LO, port))
    s.listen(4)
    s.settimeout(30)
    return s


def accept(ls):
    c, _ = ls.accept()
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return c


def open_tty(path, baud=115200):
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    iflag, oflag, cflag, lflag, _, _, cc = termios.tcgetattr(fd)
    iflag = 0
    oflag &= ~termios.OPOST
    lflag &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.ISIG |
               termios.IEXTEN)
    cflag &= ~(termios.CSIZE | termios.PARENB | termios.CSTOPB | termios.CRTSCTS)
    cflag |= termios.CS8 | termios.CREAD | termios.CLOCAL
    cc[termios.VMIN], cc[termios.VTIME] = 1, 0
    speed = getattr(termios, f"B{baud}")
    termios.tcsetattr(fd, termios.TCSANOW, [iflag, oflag, cflag, lflag, speed, speed, cc])
    return fd


def payload_block():
    """1 MiB of random bytes without '+' (a '+++' after a pause is the escape)."""
    return random.Random(7).randbytes(1 << 20).replace(b"+", b"*")


def write_all(fd_or_sock, n, block):
    """Write n bytes (block repeated); returns False on a stall."""
    sent = 0
    view = memoryview(block)
    is_sock = isinstance(fd_or_sock, socket.socket)
    fileno = fd_or_sock.fileno() if is_sock else fd_or_sock
    last = time.monotonic()
    while sent < n:
        off = sent % len(block)
        chunk = view[off:off + min(BLOCK, n - sent, len(block) - off)]
        try:
            k = fd_or_sock.send(chunk) if is_sock else os.write(fileno, chunk)
        except BlockingIOError:
            k = 0
        if k > 0:
            sent += k
            last = time.monotonic()
            continue
        if time.monotonic() - last > IDLE:
            return False
        select.select([], [fileno], [], 1)
    return True


def read_count(fd_or_sock, n, stamps=None):
    """Read until n bytes or a stall; returns (bytes read, time of the last byte)."""
    is_sock = isinstance(fd_or_sock, socket.socket)
    fileno = fd_or_sock.fileno() if is_sock else fd_or_sock
    got, t_last = 0, None
    while got < n:
        r, _, _ = select.select([fileno], [], [], IDLE)
        if not r:
            break
        try:
            b = fd_or_sock.recv(1 << 20) if is_sock else os.read(fileno, 1 << 20)
        except (BlockingIOError, InterruptedError):
            continue
        except OSError:
            break
        if not b:
            break
        got += len(b)
        t_last = time.monotonic()
        if stamps is not None:
            stamps.append((t_last, len(b)))
    return got, t_last


def in_child(fn):
    """Run fn() in a forked child; returns a function that waits and gives its result."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            out = json.dumps(fn())
        except BaseException as e:  # pragma: no cover - reported to the parent
            out = json.dumps({"error": repr(e)})
        os.write(w, out.encode())
        os._exit(0)
    os.close(w)

    def result():
        data = b""
        while True:
            b = os.read(r, 65536)
            if not b:
                break
            data += b
        os.close(r)
        os.waitpid(pid, 0)
        return json.loads(data or b'{"error": "child died"}')
    return result


# ---- the two devices ----

class Emu:
    name = "m0emu"

    def __init__(self, exe, work, port, timing="fast", baud=115200):
        self.work = tempfile.mkdtemp(dir=work, prefix="emu.")
        self.tty = os.path.join(self.work, "tty")
        self.events = os.path.join(self.work, "events")
        state = os.path.join(self.work, "state")
        os.mkdir(state)
        with open(os.path.join(state, "flash.conf"), "w") as f:
            f.write("# m0emu flash v1\n")
            f.write(f"AT+SOCK=TCPC,127.0.0.1,{port}\n")
            f.write(f"AT+UART={baud},8,1,NONE,NFC\n")
        self.log = open(os.path.join(self.work, "stderr"), "w")
        self.proc = subprocess.Popen(
            [exe, "--tty", self.tty, "--state", state, "--events", self.events,
             "--timing", timing, "--web-port", str(free_port()), "-q"],
            stdout=subprocess.DEVNULL, stderr=self.log)
        self.wait_event("ready")

    def count(self, name):
        try:
            with open(self.events, "rb") as f:
                return f.read().count(f'"ev":"{name}"'.encode())
        except FileNotFoundError:
            return 0

    def wait_event(self, name, n=1):
        deadline = time.monotonic() + 30
        while self.count(name) < n:
            if self.proc.poll() is not None:
                raise RuntimeError(f"m0emu exited ({self.proc.returncode}); see {self.work}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"m0emu: no {name} event; see {self.work}")
            time.sleep(0.01)

    def connected(self):
        self.wait_event("net.connected")

    def attached(self):
        self.wait_event("tty.attach")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class Socat:
    name = "socat"

    def __init__(self, work, port):
        self.work = tempfile.mkdtemp(dir=work, prefix="socat.")
        self.tty = os.path.join(self.work, "tty")
        self.log = open(os.path.join(self.work, "stderr"), "w")
        self.proc = subprocess.Popen(
            ["socat", f"PTY,link={self.tty},rawer,echo=0", f"TCP:{LO}:{port}"],
            stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 30
        while not os.path.exists(self.tty):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"socat did not start; see {self.work}")
            time.sleep(0.01)

    def connected(self):
        pass

    def attached(self):
        pass

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


# ---- the measurements ----

def session(make, fn, baud=115200):
    """A device dialling a fresh listener: fn(device, connection, tty fd)."""
    port = free_port()
    ls = listen(port)
    dev = make(port)
    try:
        conn = accept(ls)
        dev.connected()
        fd = open_tty(dev.tty, baud)
        dev.attached()
        try:
            return fn(dev, conn, fd)
        finally:
            os.close(fd)
            conn.close()
    finally:
        ls.close()
        dev.stop()


def upload(make, n, block):
    """pty -> TCP: the parent writes the tty, a child reads the socket."""
    def run(dev, conn, fd):
        conn.setblocking(True)
        done = in_child(lambda: read_count(conn, n))
        t0 = time.monotonic()
        ok = write_all(fd, n, block)
        got, t_last = done()
        return measured(n, got, t0, t_last, ok)
    return session(make, run)


def download(make, n, block):
    """TCP -> pty: a child reads the tty, the parent writes the socket."""
    def run(dev, conn, fd):
        done = in_child(lambda: read_count(fd, n))
        conn.setblocking(False)
        t0 = time.monotonic()
        ok = write_all(conn, n, block)
        got, t_last = done()
        return measured(n, got, t0, t_last, ok)
    return session(make, run)


def measured(n, got, t0, t_last, wrote_all):
    if got == 0 or t_last is None:
        return {"mb_s": 0.0, "lost": n, "stalled": True}
    return {"mb_s": got / (t_last - t0) / 1e6, "lost": n - got,
            "stalled": got < n or not wrote_all}


def latency(make, pings):
    def run(dev, conn, fd):
        def echo():
            conn.setblocking(True)
            while True:
                b = conn.recv(4096)
                if not b:
                    return 0
                conn.sendall(b)
        stop_echo = in_child(echo)
        samples, lost = [], 0
        for i in range(50 + pings):
            byte = bytes([0x30 + i % 10])
            t0 = time.perf_counter()
            os.write(fd, byte)
            r, _, _ = select.select([fd], [], [], 5)
            if not r:
                lost += 1
                continue
            b = os.read(fd, 16)
            t1 = time.perf_counter()
            if b != byte:
                lost += 1
            elif i >= 50:
                samples.append((t1 - t0) * 1e6)
        conn.shutdown(socket.SHUT_RDWR)
        stop_echo()
        samples.sort()
        if not samples:
            return {"p50_us": None, "p99_us": None, "lost": lost}
        return {"p50_us": samples[len(samples) // 2],
                "p99_us": samples[min(len(samples) - 1, int(len(samples) * 0.99))],
                "lost": lost}
    return session(make, run)


def pacing(exe, work, baud, seconds, block):
    n = int(baud / 10 * seconds) + 1
    make = lambda port: Emu(exe, work, port, "real", baud)

    def run(dev, conn, fd):
        done = in_child(lambda: stamps_of(fd, n))
        conn.setblocking(False)
        write_all(conn, n, block)
        st = done()
        if len(st) < 2:
            return {"error_pct": None, "lost": n - sum(k for _, k in st), "seconds": 0}
        got = sum(k for _, k in st)
        span = st[-1][0] - st[0][0]
        rate = (got - st[0][1]) / span
        return {"error_pct": (rate * 10 / baud - 1) * 100, "lost": n - got,
                "seconds": span, "chars_s": rate}
    return session(make, run, baud)


def stamps_of(fd, n):
    stamps = []
    read_count(fd, n, stamps)
    return stamps


# ---- report ----

def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "kernel": platform.release(),
            "python": platform.python_version()}


def median_or_none(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, spec):
    return "n/a" if v is None else format(v, spec)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--m0emu", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    mb = env_int("BENCH_MB", 200)
    reps = env_int("BENCH_REPS", 3)
    pings = env_int("BENCH_PINGS", 1000)
    pace_s = float(os.environ.get("BENCH_PACE_S", "5"))
    bauds = [int(b) for b in os.environ.get("BENCH_BAUDS", "9600 115200 460800").split()]
    n = mb * 1000 * 1000
    block = payload_block()
    work = tempfile.mkdtemp(prefix="m0emu-bench.")
    exe = os.path.abspath(args.m0emu)
    emu = lambda port: Emu(exe, work, port)
    soc = lambda port: Socat(work, port)
    results = {"machine": machine(), "mb": mb, "reps": reps, "pings": pings,
               "pace_s": pace_s}
    ok = False
    try:
        for name, fn in (("pty_to_tcp", upload), ("tcp_to_pty", download)):
            runs = {"m0emu": [], "socat": []}
            for _ in range(reps):
                for dev, make in (("m0emu", emu), ("socat", soc)):
                    r = fn(make, n, block)
                    runs[dev].append(r)
                    print(f"  {name:10} {dev:5} {r['mb_s']:8.1f} MB/s"
                          + (f"  lost {r['lost']} bytes (stalled)" if r["stalled"] else ""),
                          file=sys.stderr, flush=True)
            results[name] = {d: {"mb_s": statistics.median(x["mb_s"] for x in rs),
                                 "runs": rs} for d, rs in runs.items()}
        runs = {"m0emu": [], "socat": []}
        for _ in range(reps):
            for dev, make in (("m0emu", emu), ("socat", soc)):
                r = latency(make, pings)
                runs[dev].append(r)
                print(f"  latency    {dev:5} p50 {fmt(r['p50_us'], '.0f')} us  "
                      f"p99 {fmt(r['p99_us'], '.0f')} us  lost {r['lost']}",
                      file=sys.stderr, flush=True)
        results["latency"] = {
            dev: {q: median_or_none(r[q] for r in rs) for q in ("p50_us", "p99_us")}
            | {"lost": sum(r["lost"] for r in rs), "runs": rs}
            for dev, rs in runs.items()}
        results["pacing"] = {}
        for baud in bauds:
            r = pacing(exe, work, baud, pace_s, block)
            results["pacing"][str(baud)] = r
            print(f"  pacing     {baud:6} error {fmt(r['error_pct'], '+.4f')} % over "
                  f"{r['seconds']:.1f} s, lost {r['lost']}", file=sys.stderr, flush=True)
        ok = True
    finally:
        if ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"bench: files kept in {work}", file=sys.stderr)

    table = report(results)
    print(table)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "bench-results.txt"), "w") as f:
        f.write(table + "\n")
    with open(os.path.join(args.out, "bench-results.json"), "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")
    print(f"(written to {args.out}/bench-results.txt and .json)")


def report(res):
    m = res["machine"]
    lines = [f"m0emu vs socat: {m['nproc']} CPUs, {m['cpu']}, Linux {m['kernel']}, "
             f"python {m['python']}",
             f"throughput {res['mb']} MB per run, median of {res['reps']}; "
             f"latency {res['pings']} round trips x {res['reps']}; pacing {res['pace_s']:g} s per baud",
             "",
             f"{'measure':34} {'m0emu':>10} {'socat':>10} {'emu/socat':>10}  target",
             "-" * 78]
    for key, label in (("pty_to_tcp", "throughput pty->TCP (MB/s)"),
                       ("tcp_to_pty", "throughput TCP->pty (MB/s)")):
        e, s = res[key]["m0emu"]["mb_s"], res[key]["socat"]["mb_s"]
        ratio = e / s if s else None
        lines.append(f"{label:34} {e:10.1f} {s:10.1f} {fmt(ratio, '9.2f') + 'x':>10}  >= 1.0x")
    for q in ("p50", "p99"):
        e = res["latency"]["m0emu"][f"{q}_us"]
        s = res["latency"]["socat"][f"{q}_us"]
        ratio = e / s if e is not None and s else None
        lines.append(f"{'1-byte round trip ' + q + ' (us)':34} {fmt(e, '10.0f')} "
                     f"{fmt(s, '10.0f')} {fmt(ratio, '9.2f') + 'x':>10}  <= 1.0x")
    for baud, r in res["pacing"].items():
        err = r["error_pct"]
        note = "" if not r["lost"] else f"  (lost {r['lost']} bytes)"
        lines.append(f"{'pacing error at ' + baud + ' baud (%)':34} "
                     f"{fmt(err, '+10.4f')} {'n/a':>10} {'':>10}  |err| <= 0.2 %{note}")
    stalls = [f"{k} {d}" for k in ("pty_to_tcp", "tcp_to_pty")
              for d, v in res[k].items() if any(r["stalled"] for r in v["runs"])]
    if stalls:
        lines.append("stalled or lost bytes in: " + ", ".join(stalls))
    return "\n".join(lines)


if __name__ == "__main__":
    main()
