"""conftest.py: the package's own tests. A skipped or xfailed test fails the run (a
check that did not run proves nothing), and so does a run that collected no test."""

import socket

import pytest

_not_run = []


def pytest_runtest_logreport(report):
    if report.skipped:
        _not_run.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    if _not_run and exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter):
    if _not_run:
        terminalreporter.write_line(
            "FAILED: skipped tests count as failures here: " + ", ".join(_not_run))


class Server:
    """A TCP server on 127.0.0.1 (port chosen by the kernel) for the module to dial."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(10)
        self.port = self.listener.getsockname()[1]
        self.conn = None

    def accept(self):
        self.conn, _ = self.listener.accept()
        self.conn.settimeout(10)
        return self.conn

    def recv_exactly(self, n):
        data = b""
        while len(data) < n:
            chunk = self.conn.recv(n - len(data))
            if not chunk:
                break
            data += chunk
        return data

    def close(self):
        if self.conn is not None:
            self.conn.close()
        self.listener.close()


@pytest.fixture
def tcp_server():
    s = Server()
    yield s
    s.close()
