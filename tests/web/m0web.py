"""m0web.py: helpers for the web tests (python3 standard library only).

Starts the real m0emu ($M0EMU) on its own temporary state dir, tty and web port, talks
HTTP to it both through http.client and as raw bytes on a socket (for the malformed and
oversized requests no client library would send), and drives the emulated UART through
its pty: the +++ / a handshake and AT commands. Every wait is bounded by a timeout;
nothing here sleeps to make a test pass, only to keep a line idle before +++.

Also a command line tool for the browser tests:
    python3 m0web.py at [--in-command-mode] TTY CMD...
                                       prints one JSON object {"CMD": "reply", ...}
    python3 m0web.py write TTY TEXT    writes TEXT to the tty (transparent mode)
"""
import base64
import http.client
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import termios
import time
import tty as ttymod

TIMEOUT = float(os.environ.get("M0_TIMEOUT", "20"))


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def basic(user="admin", password="admin"):
    token = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    return "Basic " + token


class Emulator:
    """One m0emu process with its own directory; stop() kills it and removes the files."""

    def __init__(self, web_port=None, extra=(), flash=None, user=None):
        self.binary = os.environ.get("M0EMU")
        if not self.binary:
            raise RuntimeError("M0EMU must name the m0emu binary (meson test sets it)")
        self.dir = tempfile.mkdtemp(prefix="m0web-")
        self.state = os.path.join(self.dir, "state")
        self.tty = os.path.join(self.dir, "tty")
        self.events_path = os.path.join(self.dir, "events")
        os.makedirs(self.state)
        if flash is not None:
            with open(os.path.join(self.state, "flash.conf"), "w") as f:
                f.write(flash)
        self.port = web_port if web_port is not None else free_port()
        args = [self.binary, "--tty", self.tty, "--state", self.state, "--timing", "fast",
                "--events", self.events_path]
        if web_port is not False:
            args += ["--web-port", str(self.port)]
        args += list(extra)
        pre = []
        if user is not None:
            # Run unprivileged (to see the privileged-port rule) when we are root.
            os.chmod(self.dir, 0o777)
            os.chmod(self.state, 0o777)
            pre = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user, "--clear-groups"]
        self.out = open(os.path.join(self.dir, "stdout"), "w")
        self.err = open(os.path.join(self.dir, "stderr"), "w")
        self.proc = subprocess.Popen(pre + args, stdout=self.out, stderr=self.err)

    def wait_event(self, name, after=0, timeout=TIMEOUT, pred=None):
        """The first event `name` at line index >= after; returns (index, object)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for i, ev in enumerate(self.events()):
                if i >= after and ev.get("ev") == name and (pred is None or pred(ev)):
                    return i, ev
            if self.proc.poll() is not None:
                raise AssertionError("m0emu exited (%s) while waiting for %s:\n%s" %
                                     (self.proc.returncode, name, self.logs()))
            time.sleep(0.02)
        raise AssertionError("no event %s within %.0f s:\n%s" % (name, timeout, self.logs()))

    def events(self):
        try:
            with open(self.events_path) as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return []
        out = []
        for line in lines:
            try:
                out.append(json.loads(line))
            except ValueError:
                pass  # a line being written
        return out

    def wait_web(self, port=None, timeout=TIMEOUT):
        """Until the web port accepts connections and the device is ready."""
        port = port or self.port
        self.wait_event("ready", timeout=timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.02)
        raise AssertionError("web port %d never accepted:\n%s" % (port, self.logs()))

    def logs(self):
        parts = []
        for name in ("stdout", "stderr", "events"):
            try:
                with open(os.path.join(self.dir, name)) as f:
                    parts.append("---- %s\n%s" % (name, f.read()[-4000:]))
            except OSError:
                pass
        return "\n".join(parts)

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()
        self.err.close()
        code = self.proc.returncode
        shutil.rmtree(self.dir, ignore_errors=True)
        return code

    # ---- HTTP ----

    def request(self, method, path, body=None, headers=None, auth=True, port=None):
        """One request on a new connection: (status, headers dict lower-case, body bytes)."""
        conn = http.client.HTTPConnection("127.0.0.1", port or self.port, timeout=TIMEOUT)
        h = {}
        if auth is True:
            h["Authorization"] = basic()
        elif auth:
            h["Authorization"] = auth
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        conn.close()
        return r.status, hdrs, data

    def json(self, method, path, body=None, **kw):
        status, hdrs, data = self.request(method, path, body=body, **kw)
        return status, json.loads(data) if data else None

    def raw(self, data, timeout=TIMEOUT, port=None, half_close=False):
        """Send raw bytes (then shut down our sending side if half_close), read until the
        server closes; returns everything read."""
        s = socket.create_connection(("127.0.0.1", port or self.port), timeout=timeout)
        try:
            s.sendall(data)
            if half_close:
                s.shutdown(socket.SHUT_WR)
            return read_until_close(s, timeout)
        finally:
            s.close()


def read_until_close(s, timeout=TIMEOUT):
    chunks = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            b = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            break
        if not b:
            return b"".join(chunks)
        chunks.append(b)
    raise AssertionError("server did not close within %.0f s; got %r" %
                         (timeout, b"".join(chunks)[:300]))


def status_of(raw):
    """Status code of the first response in raw bytes."""
    line = raw.split(b"\r\n", 1)[0]
    parts = line.split(b" ")
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
        raise AssertionError("not an HTTP response: %r" % raw[:200])
    return int(parts[1])


# ---- the UART ----

class Tty:
    """The host side of the emulated serial port."""

    def __init__(self, path, timeout=TIMEOUT):
        self.timeout = timeout
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        ttymod.setraw(self.fd, termios.TCSANOW)
        # The emulator sees the open through inotify: give it a moment to attach, or the
        # first reply could be dropped as "no host".
        time.sleep(0.2)

    def close(self):
        os.close(self.fd)

    def write(self, data):
        if isinstance(data, str):
            data = data.encode()
        view = memoryview(data)
        while view:
            select.select([], [self.fd], [], self.timeout)
            n = os.write(self.fd, view)
            view = view[n:]

    def read_until(self, want, timeout=None):
        """Bytes up to and including the first occurrence of want."""
        if isinstance(want, str):
            want = want.encode()
        buf = b""
        deadline = time.monotonic() + (timeout or self.timeout)
        while want not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("tty: no %r within the timeout; got %r" % (want, buf))
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    buf += os.read(self.fd, 4096)
                except BlockingIOError:
                    pass
        return buf

    def drain(self, quiet=0.1):
        """Read and drop whatever arrives until the line has been quiet for `quiet` s."""
        while True:
            r, _, _ = select.select([self.fd], [], [], quiet)
            if not r:
                return
            try:
                os.read(self.fd, 4096)
            except BlockingIOError:
                return

    def command_mode(self):
        """The +++ / a handshake (spec §3.1)."""
        self.drain(0.15)  # an idle line before the first '+'
        for _ in range(3):
            self.write(b"+")
            time.sleep(0.02)
        self.read_until(b"a")
        self.write(b"a")
        self.read_until(b"+ok")

    def at(self, command):
        """Send AT+... (echo on); return the reply body between CRLFs, e.g. '+ok=...'."""
        self.write(command.encode() + b"\r")
        buf = self.read_until(b"\r\n", timeout=self.timeout)  # echo, then CRLF of the reply
        while True:
            tail = buf[buf.index(b"\r\n") + 2:] if b"\r\n" in buf else b""
            if b"\r\n" in tail:
                return tail[:tail.index(b"\r\n")].decode("latin-1")
            buf += self.read_until(b"\r\n")


def _cli(argv):
    if len(argv) >= 3 and argv[1] == "at":
        handshake = argv[2] != "--in-command-mode"
        if not handshake:
            argv = argv[:2] + argv[3:]
        t = Tty(argv[2])
        try:
            if handshake:
                t.command_mode()
            out = {}
            for cmd in argv[3:]:
                out[cmd] = t.at(cmd)
            print(json.dumps(out))
        finally:
            t.close()
        return 0
    if len(argv) == 4 and argv[1] == "write":
        t = Tty(argv[2])
        try:
            t.drain(0.05)
            t.write(argv[3])
            time.sleep(0.2)  # let the emulator read it before the host goes away
        finally:
            t.close()
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(_cli(sys.argv))
