"""m0net: the host on the tty and the peers on 127.0.0.1, for the network scenarios.

The scenarios' python3 programs import it (lib.sh's net_py and net_py_bg put this
directory on PYTHONPATH and pass the scenario's tty, events file, emulator pid and
timeout in the environment); lib.sh's free_ports calls free_ports() below.

Every wait is bounded: a read or write that makes no progress for TIMEOUT seconds, or an
event that does not show up within TIMEOUT, raises Fail. Nothing here asserts a duration.
An alarm ends the program if it runs for longer than meson would let the scenario run.
"""
import base64
import http.server
import json
import os
import random
import select
import signal
import socket
import sys
import termios
import threading
import time
import urllib.request

TIMEOUT = float(os.environ.get("M0_TIMEOUT", "30"))
EVENTS = os.environ.get("M0_EVENTS", "")
TTY = os.environ.get("M0_TTY", "")
M0_PID = os.environ.get("M0_PID", "")
LO = "127.0.0.1"
CHUNK = 65536

signal.alarm(int(os.environ.get("M0_PY_ALARM", "270")))


class Fail(Exception):
    pass


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def ready():
    """Tell net_py_bg that the peers are set up (listening): the emulator may start."""
    with open(os.environ["M0_READY"], "w"):
        pass


# ---- data ----

def data(n, seed=1):
    """n reproducible pseudo-random bytes (any value)."""
    return random.Random(seed).randbytes(n)


def serial_safe(n, seed=1):
    """n reproducible pseudo-random bytes without '+', safe to type in transparent mode."""
    return data(n, seed).replace(b"+", b"*")


def show(b, limit=48):
    s = b[:limit].hex(" ")
    return s + (f" ... ({len(b)} bytes)" if len(b) > limit else f" ({len(b)} bytes)")


def same(got, want, what):
    """got must equal want byte for byte; otherwise say where they first differ."""
    got, want = bytes(got), bytes(want)
    if got == want:
        return
    n = min(len(got), len(want))
    i = next((k for k in range(n) if got[k] != want[k]), n)
    lo = max(0, i - 8)
    raise Fail(f"{what}: got {len(got)} bytes, want {len(want)}; first difference at "
               f"offset {i}:\n  got  [{lo}:] {show(got[lo:lo + 32], 32)}\n"
               f"  want [{lo}:] {show(want[lo:lo + 32], 32)}")


# ---- the emulator and its events ----

def alive():
    if not M0_PID:
        return True
    try:
        with open(f"/proc/{M0_PID}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def events(name=None):
    """The events written so far (whole lines only), optionally only those named name."""
    try:
        with open(EVENTS, "rb") as f:
            lines = f.read().split(b"\n")[:-1]
    except FileNotFoundError:
        return []
    out = []
    for line in lines:
        if line.startswith(b"{"):
            ev = json.loads(line)
            if name is None or ev.get("ev") == name:
                out.append(ev)
    return out


def _match(ev, where):
    if where is None:
        return True
    if callable(where):
        return where(ev)
    return all(ev.get(k) == v for k, v in where.items())


def count(name, where=None):
    return sum(1 for e in events(name) if _match(e, where))


def wait_event(name, n=1, where=None, timeout=None):
    """Wait for the n-th event `name` matching where (a dict of fields, or a function),
    for at most timeout seconds (TIMEOUT)."""
    timeout = timeout or TIMEOUT
    deadline = time.monotonic() + timeout
    while True:
        evs = [e for e in events(name) if _match(e, where)]
        if len(evs) >= n:
            return evs[n - 1]
        if not alive():
            raise Fail(f"m0emu exited while waiting for event {name} #{n} {where or ''}")
        if time.monotonic() > deadline:
            raise Fail(f"no event {name} #{n} {where or ''} within {timeout:g}s")
        time.sleep(0.02)


# ---- byte streams: the tty, a TCP connection (same interface) ----

class Stream:
    """Blocking-with-bound reads and writes over a non-blocking fd."""
    name = "stream"

    def _wait(self, for_write, deadline, what):
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Fail(f"{self.name}: no progress for {TIMEOUT:g}s while {what}")
            r, w, _ = select.select([] if for_write else [self.fileno()],
                                    [self.fileno()] if for_write else [], [], min(left, 1))
            if r or w:
                return

    def write(self, b, what="writing"):
        view, off = memoryview(bytes(b)), 0
        deadline = time.monotonic() + TIMEOUT
        while off < len(view):
            self._wait(True, deadline, f"{what} ({off} of {len(view)} bytes written)")
            try:
                n = self._send(view[off:off + CHUNK])
            except BlockingIOError:
                continue
            if n > 0:
                off += n
                deadline = time.monotonic() + TIMEOUT

    def read_some(self, limit=CHUNK, deadline=None, what="reading"):
        """At least one byte (b"" at end of stream), waiting at most until deadline."""
        deadline = deadline or time.monotonic() + TIMEOUT
        while True:
            self._wait(False, deadline, what)
            try:
                return self._recv(limit)
            except BlockingIOError:
                continue

    def read_exact(self, n, what="reading", slow=None):
        """Exactly n bytes. slow=(chunk, seconds): read at most chunk bytes, then pause."""
        buf = bytearray()
        deadline = time.monotonic() + TIMEOUT
        while len(buf) < n:
            limit = min(CHUNK, n - len(buf))
            if slow:
                limit = min(limit, slow[0])
            b = self.read_some(limit, deadline, f"{what} ({len(buf)} of {n} bytes read)")
            if not b:
                raise Fail(f"{self.name}: end of stream after {len(buf)} of {n} bytes "
                           f"while {what}; last bytes: {show(bytes(buf[-32:]))}")
            buf += b
            deadline = time.monotonic() + TIMEOUT
            if slow:
                time.sleep(slow[1])
        return bytes(buf)

    def expect(self, want, what=None):
        what = what or f"{self.name}: expected bytes"
        got = self.read_exact(len(want), what)
        same(got, want, what)


class Tty(Stream):
    """The host's side of the UART: the --tty path opened raw (8N1, no flow control)."""

    def __init__(self, path=None, baud=115200, wait_attach=True):
        self.name = "tty"
        before = count("tty.attach")
        self.fd = os.open(path or TTY, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        iflag, oflag, cflag, lflag, _, _, cc = termios.tcgetattr(self.fd)
        iflag &= ~(termios.IGNBRK | termios.BRKINT | termios.PARMRK | termios.ISTRIP |
                   termios.INLCR | termios.IGNCR | termios.ICRNL | termios.IXON |
                   termios.IXOFF)
        oflag &= ~termios.OPOST
        lflag &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.ISIG |
                   termios.IEXTEN)
        cflag &= ~(termios.CSIZE | termios.PARENB | termios.CSTOPB | termios.CRTSCTS)
        cflag |= termios.CS8 | termios.CREAD | termios.CLOCAL
        cc[termios.VMIN], cc[termios.VTIME] = 1, 0
        speed = getattr(termios, f"B{baud}")
        termios.tcsetattr(self.fd, termios.TCSANOW,
                          [iflag, oflag, cflag, lflag, speed, speed, cc])
        if wait_attach and EVENTS:
            wait_event("tty.attach", before + 1)

    def fileno(self):
        return self.fd

    def _send(self, b):
        return os.write(self.fd, b)

    def _recv(self, n):
        return os.read(self.fd, n)

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def handshake(self):
        """+++ / a into command mode (the sleep is the idle guard: a minimum)."""
        time.sleep(0.1)
        self.write(b"+++")
        self.expect(b"a", "tty: the device's 'a' after +++")
        self.write(b"a")
        self.expect(b"+ok", "tty: +ok after the handshake")

    def at(self, cmd, reply):
        """An AT command with echo on: the echo of cmd + CR, then the reply."""
        self.write(cmd.encode() + b"\r")
        self.expect(cmd.encode() + b"\r" + reply.encode(), f"tty: reply to {cmd}")


class Conn(Stream):
    """A TCP connection (either side)."""

    def __init__(self, sock, name):
        self.sock, self.name = sock, name
        self.port = sock.getsockname()[1]  # kept: events name closed connections too
        self.peer_port = sock.getpeername()[1]
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def fileno(self):
        return self.sock.fileno()

    def _send(self, b):
        return self.sock.send(b)

    def _recv(self, n):
        try:
            return self.sock.recv(n)
        except ConnectionResetError:
            return b""

    def expect_closed(self, what=None):
        """The other side closes (FIN or reset) before sending anything more."""
        b = self.read_some(what=what or "waiting for the device to close")
        if b:
            raise Fail(f"{self.name}: got {show(b)} where the device should have closed")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def tcp_listen(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((LO, port))
    s.listen(16)
    return s


def accept(listener, name="peer"):
    listener.settimeout(TIMEOUT)
    try:
        sock, _ = listener.accept()
    except socket.timeout:
        raise Fail(f"{name}: the device did not connect within {TIMEOUT:g}s") from None
    return Conn(sock, name)


def tcp_connect(port, name="client"):
    return Conn(socket.create_connection((LO, port), timeout=TIMEOUT), name)


# ---- UDP ----

class Udp:
    """A UDP peer on 127.0.0.1 (port 0: any)."""

    def __init__(self, port=0, name="udp"):
        self.name = name
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((LO, port))
        self.sock.settimeout(TIMEOUT)
        self.port = self.sock.getsockname()[1]

    def send(self, b, port):
        self.sock.sendto(b, (LO, port))

    def recv(self, what="a datagram"):
        try:
            return self.sock.recvfrom(65536)
        except socket.timeout:
            raise Fail(f"{self.name}: no datagram within {TIMEOUT:g}s ({what})") from None

    def recv_bytes(self, n, what="datagrams"):
        """Datagrams until n bytes came; returns [(payload, (host, port)), ...]."""
        got, total = [], 0
        while total < n:
            d, addr = self.recv(f"{what}: {total} of {n} bytes so far")
            got.append((d, addr))
            total += len(d)
        return got

    def close(self):
        self.sock.close()


# ---- moving bulk data both ways at once ----

def transfer(*flows):
    """Each flow is (writer, data, reader[, slow]): writer.write(data) while
    reader.read_exact(len(data)) in its own thread; all flows run at once. Returns the
    bytes each reader got, in flow order (compare them with same())."""
    results = [None] * len(flows)
    errors = []

    def run(fn):
        try:
            fn()
        except BaseException as e:  # reported from the main thread
            errors.append(e)

    threads = []
    for i, flow in enumerate(flows):
        writer, payload, reader = flow[:3]
        slow = flow[3] if len(flow) > 3 else None

        def rd(i=i, reader=reader, n=len(payload), slow=slow):
            results[i] = reader.read_exact(n, f"flow {i + 1}: reading", slow)

        def wr(writer=writer, payload=payload, i=i):
            writer.write(payload, f"flow {i + 1}: writing")

        threads += [threading.Thread(target=run, args=(rd,)),
                    threading.Thread(target=run, args=(wr,))]
    for t in threads:
        t.daemon = True
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results

# ---- HTTP (scenarios 40-45) ----

HTTP_ANSWER = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n"
               b"Connection: close\r\n\r\nhello, host\n")


class _Tee:
    """The request's input as http.server reads it, keeping every byte read."""

    def __init__(self, f, sink):
        self.f, self.sink = f, sink

    def readline(self, *args):
        b = self.f.readline(*args)
        self.sink += b
        return b

    def read(self, *args):
        b = self.f.read(*args)
        self.sink += b
        return b

    def __getattr__(self, name):
        return getattr(self.f, name)


class HttpPeer:
    """A real HTTP/1.1 server (python's http.server, one thread per connection) on
    127.0.0.1:port. Every request is kept, in arrival order, as a dict: raw (the exact
    bytes received: request line, headers, body), method, target, headers (a list of
    (name, value) in order), body. Each request is answered with the next of answers
    (raw bytes, written as they are; the last one repeats), then the connection is
    closed. log_path: also one JSON line per request (method, target, headers, body)."""

    def __init__(self, port, answers=(HTTP_ANSWER,), log_path=None):
        self.requests, self.answers, self.log_path = [], list(answers), log_path
        self.cond = threading.Condition()
        peer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                self.raw = bytearray()
                self.rfile = _Tee(self.rfile, self.raw)

            def handle_one_request(self):
                self.raw.clear()
                super().handle_one_request()

            def log_message(self, *args):
                pass

            def serve(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                peer._got(self, body)
                self.close_connection = True

            do_GET = do_POST = do_PUT = do_HEAD = serve

        self.server = http.server.ThreadingHTTPServer((LO, port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _got(self, handler, body):
        req = {"raw": bytes(handler.raw), "method": handler.command, "target": handler.path,
               "headers": list(handler.headers.items()), "body": body}
        with self.cond:
            i = len(self.requests)
            answer = self.answers[min(i, len(self.answers) - 1)]
            self.requests.append(req)
            self.cond.notify_all()
        if self.log_path:
            with open(self.log_path, "a") as f:
                f.write(json.dumps({"method": req["method"], "target": req["target"],
                                    "headers": req["headers"],
                                    "body": body.decode("latin-1")}) + "\n")
        handler.wfile.write(answer)
        handler.wfile.flush()

    def wait_requests(self, n, timeout=None):
        """The first n requests, waiting at most timeout (TIMEOUT) seconds for them."""
        deadline = time.monotonic() + (timeout or TIMEOUT)
        with self.cond:
            while len(self.requests) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Fail(f"http server: {len(self.requests)} requests, want {n}")
                self.cond.wait(min(left, 0.5))
            return list(self.requests[:n])

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def http_read_request(conn, what="an HTTP request"):
    """One whole request from a Conn (headers, then Content-Length bytes of body): the
    exact bytes, for servers a scenario plays by hand."""
    buf = bytearray()
    while b"\r\n\r\n" not in buf:
        b = conn.read_some(what=f"{what} ({len(buf)} bytes so far)")
        if not b:
            raise Fail(f"{conn.name}: end of stream inside {what}: {show(bytes(buf))}")
        buf += b
    head, _, body = bytes(buf).partition(b"\r\n\r\n")
    n = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            n = int(value)
    if len(body) < n:
        body += conn.read_exact(n - len(body), f"{what}: its body")
    return head + b"\r\n\r\n" + body


# ---- the web API (the link pin, the running UART) ----

def web_status(port, user="admin", password="admin"):
    """GET /api/status on the device's web port (basic auth), as a dict."""
    req = urllib.request.Request(f"http://{LO}:{port}/api/status")
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    req.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
        return json.loads(r.read())


# ---- similar-RFC2217 (spec §6.8) ----

_PARITY_BITS = {"ODD": 0x08, "EVEN": 0x18, "MASK": 0x28, "SPACE": 0x38, "NONE": 0x00}


def rfc2217_packet(baud, data_bits=8, stop=1, parity="NONE", checksum_delta=0):
    """The 8-byte packet 55 AA 55, baud (3 bytes big-endian), parameter, checksum, with
    bit 7 of the parameter set as in the published examples. checksum_delta spoils it."""
    param = 0x80 | (data_bits - 5) | (0x04 if stop == 2 else 0) | _PARITY_BITS[parity]
    body = baud.to_bytes(3, "big") + bytes([param])
    return b"\x55\xaa\x55" + body + bytes([(sum(body) + checksum_delta) & 0xFF])


# ---- absence, bounded ----

def expect_nothing(stream, seconds, what):
    """Nothing arrives on stream (a Tty or a Conn) for seconds: a minimum wait, used only
    where the behaviour is that something does not happen."""
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        r, _, _ = select.select([stream.fileno()], [], [], left)
        if r:
            b = stream._recv(CHUNK)
            raise Fail(f"{stream.name}: got {show(b)} while {what}")

# ---- ports ----

def free_ports(kind, n, given_path):
    """n distinct ports ("tcp" or "udp") free on 127.0.0.1 right now. Ports listed in
    given_path (handed out earlier in the scenario) are never handed out again, and the
    new ones are added to it: a port stays free only until its user binds it."""
    sock_type = socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM
    given = set()
    if os.path.exists(given_path):
        with open(given_path) as f:
            given = {int(line) for line in f if line.strip()}
    held, ports = [], []
    while len(ports) < n:
        s = socket.socket(socket.AF_INET, sock_type)
        s.bind((LO, 0))
        held.append(s)
        port = s.getsockname()[1]
        if port not in given:
            ports.append(port)
            given.add(port)
    with open(given_path, "a") as f:
        f.write("".join(f"{p}\n" for p in ports))
    for s in held:
        s.close()
    return ports
