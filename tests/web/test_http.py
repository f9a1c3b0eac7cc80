#!/usr/bin/env python3
"""test_http.py: the admin web server's HTTP layer, against the real m0emu ($M0EMU).

Each test gets an emulator of its own (own state dir, tty and --web-port), so tests are
independent and a failure names one behaviour. Covered: Basic auth on every route
(without, with wrong and with right credentials), every status code the server uses
(400 401 403 404 405 408 413 415 421 422 431 503, 304), the Host rule against DNS
rebinding, keep-alive and pipelining, HEAD, the JSON API (one validation path: the AT
table), the event stream, the head and whole-request deadlines, 200 trickling
connections while the page stays reachable, which connection gives its slot to a
newcomer, a non-reading event client dropped, 50 concurrent clients, the connection cap,
WEBPORT followed after a restart, and the privileged-port rule.

Run: M0EMU=build/src/board/m0emu python3 tests/web/test_http.py [name-substring...]
Prints one line per test and a closing "N passed, N failed"; exit status 0 = all passed.
"""
import json
import os
import re
import socket
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from m0web import (Emulator, Tty, basic, free_port, read_until_close,  # noqa: E402
                   status_of)

ROUTES_GET = ["/", "/index.html", "/app.js", "/style.css", "/favicon.svg", "/api/status",
              "/api/config"]
BAD_AUTH = [
    basic("admin", "wrong"),
    basic("admin", "admin2"),
    basic("admin", "admi"),
    basic("Admin", "admin"),
    basic("", ""),
    "Basic YWRtaW4=",          # "admin": no colon
    "Basic !!!!",
    "Bearer YWRtaW46YWRtaW4=",
    "basic",
]

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def check(cond, msg="check failed"):
    if not cond:
        raise AssertionError(msg)


def eq(a, b, what=""):
    if a != b:
        raise AssertionError("%s: expected %r, got %r" % (what, b, a))


class Run:
    """An emulator for one test; always stopped, and it must exit cleanly (code 0)."""

    def __init__(self, **kw):
        self.kw = kw

    def __enter__(self):
        self.e = Emulator(**self.kw)
        self.e.wait_web()
        return self.e

    def __exit__(self, et, ev, tb):
        alive = self.e.alive()
        logs = self.e.logs() if et is not None or not alive else ""
        code = self.e.stop()
        if et is None:
            check(alive, "m0emu died during the test:\n" + logs)
            eq(code, 0, "m0emu exit code after SIGTERM")
        elif logs:
            sys.stderr.write(logs + "\n")
        return False


# ---- authentication ----

@test
def auth_required_on_every_route():
    with Run() as e:
        for path in ROUTES_GET + ["/nope", "/api/nope", "/api/events"]:
            for method in ("GET", "HEAD"):
                st, h, body = e.request(method, path, auth=None)
                eq(st, 401, "%s %s without credentials" % (method, path))
                eq(h.get("www-authenticate"), 'Basic realm="USR-M0", charset="UTF-8"',
                   "challenge on " + path)
                for bad in BAD_AUTH:
                    st, h, _ = e.request(method, path, auth=bad)
                    eq(st, 401, "%s %s with %r" % (method, path, bad))
                    check("www-authenticate" in h, "challenge with bad credentials")
        for path in ["/api/config", "/api/restart", "/api/factory-reset"]:
            st, _, _ = e.request("POST", path, body={}, auth=None)
            eq(st, 401, "POST %s without credentials" % path)
            for bad in BAD_AUTH:
                st, _, _ = e.request("POST", path, body={}, auth=bad)
                eq(st, 401, "POST %s with %r" % (path, bad))
        # Nothing of the above restarted the device or changed a setting.
        st, s = e.json("GET", "/api/status")
        eq(st, 200, "status")
        eq(s["counters"]["restarts"], 0, "restarts after refused POSTs")
        # Right credentials: every page and API answers.
        for path in ROUTES_GET:
            st, h, body = e.request("GET", path)
            eq(st, 200, "GET " + path)
            check(int(h["content-length"]) == len(body) > 0, "Content-Length of " + path)
        eq(e.request("GET", "/nope")[0], 404, "GET /nope")
        eq(e.request("POST", "/api/config", body={})[0], 200, "POST /api/config {}")


@test
def auth_follows_webu_after_restart():
    with Run() as e:
        st, r = e.json("POST", "/api/config", body={"WEBU": "root,s3cret"})
        eq(st, 200, "set WEBU")
        eq(r["restart_needed"], True, "restart_needed after WEBU")
        # Still the running credentials until the restart (WEBU applies at restart).
        eq(e.request("GET", "/api/status")[0], 200, "old credentials before restart")
        restart(e)
        eq(e.request("GET", "/api/status")[0], 401, "old credentials after restart")
        eq(e.request("GET", "/api/status", auth=basic("root", "s3cret"))[0], 200,
           "new credentials after restart")
        eq(e.request("GET", "/api/status", auth=basic("root", "s3cre"))[0], 401,
           "a prefix of the password")


def restart(e, auth=True):
    """POST /api/restart and wait for the device to be ready again; returns the restart
    count from before."""
    st, s = e.json("GET", "/api/status", auth=auth)
    before = s["counters"]["restarts"]
    n = len(e.events())
    st, r = e.json("POST", "/api/restart", auth=auth)
    eq(st, 200, "POST /api/restart")
    eq(r, {"ok": True, "restarting": True}, "restart answer")
    e.wait_event("ready", after=n)
    return before


# ---- status codes ----

@test
def malformed_requests_are_400():
    with Run() as e:
        cases = [
            b"HELLO\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n",
            b"GET / HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: abc\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            b"GET / HTTP/1.1\r\n\r\n",  # HTTP/1.1 without Host
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            b"GET nopath HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS hello
        ]
        for raw in cases:
            got = e.raw(raw)
            eq(status_of(got), 400, "status for %r" % raw[:40])
            check(b"Connection: close" in got, "400 closes the connection")
        # The body of a malformed POST /api/config: 400 with a precise message.
        for body, words in [
            ("", "expected a JSON object"),
            ("[]", "expected a JSON object"),
            ('{"UART":9600}', 'the value of "UART" must be a string, not a number'),
            ('{"UART":{"baud":"9600"}}', "must be a string, not an object"),
            ('{"UART":["9600"]}', "must be a string, not an array"),
            ('{"UART":null}', "must be a string, not null"),
            ('{"UART":true}', "must be a string, not a boolean"),
            ('{"UART":"9600,8,1,NONE,NFC"', "expected ',' or '}'"),
            ('{"UART":"a"} x', "unexpected data after the object"),
            ('{"UART":"a","UART":"b"}', 'duplicate member "UART"'),
            ('{UART:"a"}', "expected a member name in double quotes"),
            ('{"UART":"a\\x"}', "bad escape"),
            ('{"UART":"\\ud800"}', "unpaired surrogate"),
            ('{"UART":"a\nb"}', "control character"),
        ]:
            st, r = e.json("POST", "/api/config", body=body,
                           headers={"Content-Type": "application/json"})
            eq(st, 400, "status for body %r" % body)
            check(words in r["error"], "message for %r: %r lacks %r" % (body, r["error"], words))
            check(r["error"].startswith("at byte "), "the message gives the position")
        # Nothing was saved by any of them.
        st, c = e.json("GET", "/api/config")
        eq(param(c, "UART")["value"], "115200,8,1,NONE,NFC", "UART untouched")
        eq(c["restart_needed"], False, "restart_needed after refused bodies")


def param(config, name):
    for p in config["params"]:
        if p["name"] == name:
            return p
    raise AssertionError("no parameter " + name)


@test
def not_found_404_and_method_405():
    with Run() as e:
        for path in ["/nope", "/index.htm", "/api/nope", "/api", "/../etc/passwd", "/web.c",
                     "/%2e%2e/etc/passwd", "/.hidden"]:
            eq(e.request("GET", path)[0], 404, "GET " + path)
        for method, path, allow in [
            ("DELETE", "/api/status", "GET, HEAD"),
            ("POST", "/api/status", "GET, HEAD"),
            ("PUT", "/api/config", "GET, HEAD, POST"),
            ("GET", "/api/restart", "POST"),
            ("GET", "/api/factory-reset", "POST"),
            ("POST", "/", "GET, HEAD"),
            ("OPTIONS", "/index.html", "GET, HEAD"),
            ("PATCH", "/api/events", "GET, HEAD"),
        ]:
            st, h, _ = e.request(method, path, body="" if method != "GET" else None)
            eq(st, 405, "%s %s" % (method, path))
            eq(h.get("allow"), allow, "Allow of %s %s" % (method, path))
        st, s = e.json("GET", "/api/status")
        eq(s["counters"]["restarts"], 0, "GET /api/restart restarted nothing")


@test
def oversized_requests_413_431():
    with Run() as e:
        # Headers over 8 KiB, in one header, in many, and in the request line.
        big = b"X-Filler: " + b"a" * 9000 + b"\r\n"
        many = b"".join(b"X-H%d: %s\r\n" % (i, b"b" * 90) for i in range(95))
        for raw in [
            b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + big + b"\r\n",
            b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + many + b"\r\n",
            b"GET /" + b"c" * 9000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"".join(b"A%d: 1\r\n" % i for i in range(120))
            + b"\r\n",
        ]:
            got = e.raw(raw)
            eq(status_of(got), 431, "status for %d header bytes" % len(raw))
        # Just under the limit is fine.
        ok = b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + \
            basic().encode() + b"\r\nConnection: close\r\nX-F: " + b"d" * 7000 + b"\r\n\r\n"
        eq(status_of(e.raw(ok)), 200, "7 KiB of headers")
        # Bodies over 16 KiB: announced, and chunked.
        auth = basic().encode()
        got = e.raw(b"POST /api/config HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + auth +
                    b"\r\nContent-Type: application/json\r\nContent-Length: 20000\r\n\r\n" +
                    b"{" * 20000)
        eq(status_of(got), 413, "announced 20000-byte body")
        chunk = b"4000\r\n" + b" " * 0x4000 + b"\r\n"
        got = e.raw(b"POST /api/config HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + auth +
                    b"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + chunk * 2 + b"0\r\n\r\n")
        eq(status_of(got), 413, "chunked 32 KiB body")
        # A 16 KiB body of whitespace around {} is accepted (the limit is inclusive).
        body = b"{}" + b" " * (16384 - 2)
        got = e.raw(b"POST /api/config HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + auth +
                    b"\r\nContent-Type: application/json\r\nConnection: close\r\n"
                    b"Content-Length: 16384\r\n\r\n" + body)
        eq(status_of(got), 200, "16 KiB body")
        # Expect: 100-continue (curl, for bodies over 1 KiB) is answered at once.
        got = e.raw(b"POST /api/config HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + auth +
                    b"\r\nContent-Type: application/json\r\nConnection: close\r\n"
                    b"Expect: 100-continue\r\nContent-Length: 2000\r\n\r\n" +
                    b"{}" + b" " * 1998)
        eq([int(m) for m in re.findall(rb"HTTP/1\.1 (\d\d\d) ", got)], [100, 200],
           "100 Continue, then the answer")


@test
def cross_site_post_403_and_media_type_415():
    with Run() as e:
        host = "127.0.0.1:%d" % e.port
        for origin in ["http://evil.example", "http://127.0.0.1:1", "https://" + host, "null",
                       "http://127.0.0.1", "http://" + host + ".evil.example"]:
            for path, body in [("/api/config", {"MID": "x"}), ("/api/restart", None),
                               ("/api/factory-reset", None)]:
                st, _, _ = e.request("POST", path, body=body if body else "",
                                     headers={"Origin": origin})
                eq(st, 403, "POST %s with Origin %s" % (path, origin))
        st, c = e.json("GET", "/api/config")
        eq(param(c, "MID")["value"], "USR-M0", "MID after refused cross-site POSTs")
        eq(e.json("GET", "/api/status")[1]["counters"]["restarts"], 0, "no restart")
        # Our own origin, and the same origin spelled with upper case or a default port.
        st, r = e.json("POST", "/api/config", body={"MID": "same"},
                       headers={"Origin": "http://" + host})
        eq(st, 200, "POST with our own Origin")
        # A GET with a foreign Origin is only a read: allowed.
        eq(e.request("GET", "/api/status", headers={"Origin": "http://evil.example"})[0], 200,
           "GET with a foreign Origin")
        for ctype in ["text/plain", "application/x-www-form-urlencoded", None]:
            h = {"Content-Type": ctype} if ctype else {}
            st, _, _ = e.request("POST", "/api/config", body='{"MID":"form"}', headers=h)
            eq(st, 415, "POST /api/config as %s" % ctype)
        st, _, _ = e.request("POST", "/api/config", body='{"MID":"cs"}',
                             headers={"Content-Type": "application/json; charset=utf-8"})
        eq(st, 200, "application/json with a charset")


@test
def host_rule_refuses_other_names_421():
    with Run(extra=["--web-host", "M0.Example", "--web-host", "bench-7"]) as e:
        port = e.port
        auth = basic().encode()

        def ask(host, method=b"GET", path=b"/api/status", body=None, with_auth=True):
            req = method + b" " + path + b" HTTP/1.1\r\n"
            if host is not None:
                req += b"Host: " + host + b"\r\n"
            if with_auth:
                req += b"Authorization: " + auth + b"\r\n"
            if body is not None:
                req += (b"Content-Type: application/json\r\nContent-Length: %d\r\n" %
                        len(body))
            got = e.raw(req + b"Connection: close\r\n\r\n" + (body or b""))
            return status_of(got), got

        # DNS rebinding: a page from another site whose name resolves to 127.0.0.1 sends
        # that name as Host. With the factory credentials it still changes nothing, and
        # it is refused before the credentials are even asked for.
        for host in [b"evil.example", b"evil.example:%d" % port, b"EVIL.example.",
                     b"127.0.0.1.evil.example", b"localhost.evil.example", b"m0.example.evil",
                     b"bench-7x", b"127.1", b"0x7f000001"]:
            for method, path, body in [
                    (b"GET", b"/api/status", None), (b"GET", b"/api/config", None),
                    (b"GET", b"/api/events", None), (b"HEAD", b"/api/status", None),
                    (b"GET", b"/", None), (b"GET", b"/app.js", None),
                    (b"POST", b"/api/config", b'{"MID":"rebound"}'),
                    (b"POST", b"/api/restart", b""), (b"POST", b"/api/factory-reset", b"")]:
                st, got = ask(host, method, path, body)
                eq(st, 421, "%s %s with Host %s" % (method, path, host))
                check(b"Connection: close" in got, "Connection: close as asked")
            eq(ask(host, with_auth=False)[0], 421, "Host %s without credentials" % host)
        name = "evil.example"
        st, got = ask(b"Evil.Example:%d" % port)
        refusal = json.loads(got.split(b"\r\n\r\n", 1)[1])
        eq(refusal["host"], name, "the refused host, lower case, without the port")
        check("--web-host evil.example" in refusal["error"], "how to allow it: %r" % refusal)
        check("Misdirected Request" in got.split(b"\r\n")[0].decode(), "reason phrase")
        st, got = ask(b"evil.example", path=b"/")
        check(got.split(b"\r\n\r\n", 1)[1].startswith(b"421 Misdirected Request: "),
              "pages are refused in text: %r" % got[-200:])
        check(b"text/plain" in got, "text for pages")
        st, s = e.json("GET", "/api/status")
        eq(s["counters"]["restarts"], 0, "no restart from a rebound name")
        eq(param(e.json("GET", "/api/config")[1], "MID")["value"], "USR-M0", "MID unchanged")

        # Allowed: IP addresses (any, with or without a port), localhost, --web-host names.
        for host in [b"127.0.0.1", b"127.0.0.1:%d" % port, b"10.1.2.3:80", b"[::1]",
                     b"[::1]:%d" % port, b"[fe80::1]", b"localhost", b"LocalHost:%d" % port,
                     b"localhost.", b"m0.example", b"M0.EXAMPLE:%d" % port, b"bench-7",
                     b"bench-7.:8080"]:
            eq(ask(host)[0], 200, "Host %s" % host)
        eq(ask(b"m0.example", b"POST", b"/api/config", b'{"MID":"by-name"}')[0], 200,
           "POST by a --web-host name")
        # A malformed Host is 400 (RFC 9112 §3.2), whatever the name.
        for host in [b"", b"a b", b"x@y", b"a/b", b"[::1", b"[zz]", b"[::1]x", b"x:99999",
                     b"x:8a", b":80", b"."]:
            eq(ask(host)[0], 400, "Host %r" % host)
        eq(ask(None)[0], 400, "HTTP/1.1 without Host")
        got = e.raw(b"GET /api/status HTTP/1.0\r\nAuthorization: " + auth + b"\r\n\r\n")
        eq(status_of(got), 200, "HTTP/1.0 without Host")
        # An absolute-form target names the host instead of the Host header.
        eq(ask(b"127.0.0.1", path=b"http://evil.example/api/status")[0], 421,
           "absolute-form naming another host")
        eq(ask(b"evil.example", path=b"http://127.0.0.1:%d/api/status" % port)[0], 200,
           "absolute-form naming an address")
        # The Origin check compares with that same host.
        st, _, _ = e.request("POST", "/api/config", body={"MID": "o"},
                             headers={"Host": "m0.example:%d" % port,
                                      "Origin": "http://m0.example:%d" % port})
        eq(st, 200, "same-origin POST by a --web-host name")
    # '*' turns the rule off (behind a proxy that rewrites names, say).
    with Run(extra=["--web-host", "*"]) as e:
        got = e.raw(b"GET /api/status HTTP/1.1\r\nHost: evil.example\r\nAuthorization: " +
                    basic().encode() + b"\r\nConnection: close\r\n\r\n")
        eq(status_of(got), 200, "any Host with --web-host '*'")


@test
def keep_alive_pipelining_head_and_etag():
    with Run() as e:
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", e.port, timeout=10)
        h = {"Authorization": basic()}
        sockets = set()
        for path in ["/", "/app.js", "/api/status", "/api/config", "/nope", "/style.css"]:
            conn.request("GET", path, headers=h)
            r = conn.getresponse()
            r.read()
            check(r.getheader("Connection") == "keep-alive", "keep-alive on " + path)
            sockets.add(id(conn.sock))
        eq(len(sockets), 1, "one connection for six requests")
        # A 401 keeps the connection too.
        conn.request("GET", "/", headers={})
        r = conn.getresponse()
        r.read()
        eq(r.status, 401, "401 on the same connection")
        conn.request("GET", "/index.html", headers=h)
        r = conn.getresponse()
        page = r.read()
        etag = r.getheader("ETag")
        check(etag and etag.startswith('"'), "ETag on the page")
        eq(r.getheader("Cache-Control"), "no-cache", "Cache-Control of the page")
        check(r.getheader("Content-Type").startswith("text/html"), "html type")
        check("frame-ancestors 'none'" in r.getheader("Content-Security-Policy"), "CSP")
        conn.request("GET", "/index.html", headers=dict(h, **{"If-None-Match": etag}))
        r = conn.getresponse()
        eq(r.read(), b"", "304 has no body")
        eq(r.status, 304, "If-None-Match")
        conn.request("HEAD", "/index.html", headers=h)
        r = conn.getresponse()
        eq(r.read(), b"", "HEAD has no body")
        eq(int(r.getheader("Content-Length")), len(page), "HEAD Content-Length")
        conn.close()
        types = {"/app.js": "text/javascript", "/style.css": "text/css",
                 "/favicon.svg": "image/svg+xml", "/api/status": "application/json"}
        for path, t in types.items():
            check(e.request("GET", path)[1]["content-type"].startswith(t), "type of " + path)
        # Pipelined: three requests in one write, answered in order on one connection.
        auth = basic().encode()
        req = lambda p, extra=b"": (b"GET " + p + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " +
                                    auth + b"\r\n" + extra + b"\r\n")
        got = e.raw(req(b"/api/status") + req(b"/nope") +
                    req(b"/favicon.svg", b"Connection: close\r\n"))
        codes = [int(m) for m in re.findall(rb"HTTP/1\.1 (\d\d\d) ", got)]
        eq(codes, [200, 404, 200], "pipelined answers in order")
        # HTTP/1.0 closes after one answer unless asked to keep alive.
        got = e.raw(b"GET /api/status HTTP/1.0\r\nAuthorization: " + auth + b"\r\n\r\n")
        eq(status_of(got), 200, "HTTP/1.0")
        check(b"Connection: close" in got, "HTTP/1.0 closes")


# ---- the JSON API ----

@test
def config_validates_through_the_at_table():
    with Run() as e:
        st, c = e.json("GET", "/api/config")
        eq(st, 200, "GET /api/config")
        names = [p["name"] for p in c["params"]]
        for n in ["WEBU", "WANN", "DNS", "WEBPORT", "UART", "SOCK", "TCPSE", "SOCKPORT", "RFCEN",
                  "REGEN", "REGTCP", "REGCLOUD", "REGUSR", "HTPTP", "HTPURL", "HTPHEAD",
                  "HTPCHD", "HEARTEN", "HEARTTP", "HEARTTM", "HEARTDT", "SCSLINK",
                  "CLIENTRST", "INDEXEN", "SOCKSL", "SHORTO", "UARTCLBUF", "RSTIM", "MAXSK",
                  "MID", "E"]:
            check(n in names, "parameter %s in /api/config" % n)
        for n in ["MAC", "VER", "Z", "H", "SOCKLK", "PDTIME"]:
            check(n not in names, "%s is not stored configuration" % n)
        uart = param(c, "UART")
        eq([f["name"] for f in uart["fields"]], ["baud", "data", "stop", "parity", "flow"],
           "UART fields")
        eq(uart["fields"][0], {"name": "baud", "type": "uint", "min": 600, "max": 460800},
           "baud metadata")
        eq(uart["fields"][3]["choices"], ["NONE", "EVEN", "ODD", "MASK", "SPACE"], "parity")
        eq(uart["applies"], "restart", "UART applies")
        eq(param(c, "SOCK")["fields"][0]["choices"], ["TCPC", "TCPS", "UDPC", "UDPS", "HTPC"],
           "proto choices")

        # Mixed: valid fields saved, bad ones refused with the AT code, per field.
        st, r = e.json("POST", "/api/config", body={
            "UART": "9600,8,1,even,NFC", "SOCK": "TCPS,0.0.0.0,70000", "HTPURL": "noslash",
            "FOO": "1", "MAC": "001122334455", "netp": "UDPC,127.0.0.1,9000", "MID": "a,b",
            "RSTIM": "30", "MAXSK": "8"})
        eq(st, 422, "some fields refused")
        eq(r["ok"], False, "ok")
        eq(sorted(r["saved"]), ["MAXSK", "SOCK", "UART"], "saved (NETP is SOCK's alias)")
        eq(r["errors"]["SOCK"]["code"], -4, "SOCK port out of range")
        check("expected proto,address,port" in r["errors"]["SOCK"]["message"], "message")
        eq(r["errors"]["HTPURL"]["code"], -4, "HTPURL without /")
        eq(r["errors"]["FOO"]["code"], -2, "unknown parameter")
        eq(r["errors"]["MAC"]["code"], -3, "read-only parameter")
        eq(r["errors"]["MID"]["code"], -4, "comma in MID")
        eq(r["errors"]["RSTIM"]["code"], -4, "RSTIM 1-59")
        eq(r["restart_needed"], True, "restart needed")
        st, c = e.json("GET", "/api/config")
        eq(param(c, "UART")["value"], "9600,8,1,EVEN,NFC", "saved in canonical spelling")
        eq(param(c, "UART")["running"], "115200,8,1,NONE,NFC", "running until restart")
        eq(param(c, "SOCK")["value"], "UDPC,127.0.0.1,9000", "SOCK via NETP")
        eq(param(c, "HTPURL")["value"], "/2.php?", "refused value left as it was")
        eq(c["restart_needed"], True, "restart_needed in /api/config")
        st, s = e.json("GET", "/api/status")
        eq(s["restart_needed"], True, "restart_needed in /api/status")
        # The same value twice needs no second restart: restart, then set it again.
        restart(e)
        st, s = e.json("GET", "/api/status")
        eq(s["uart"], "9600,8,1,EVEN,NFC", "running UART after restart")
        eq(s["work_mode"], "UDPC", "work mode after restart")
        st, r = e.json("POST", "/api/config", body={"UART": "9600,8,1,EVEN,NFC"})
        eq((st, r["restart_needed"]), (200, False), "unchanged value")
        # Values that applies now (E) do not ask for a restart; long values are refused.
        st, r = e.json("POST", "/api/config", body={"E": "off"})
        eq((st, r["restart_needed"]), (200, False), "E applies now")
        st, r = e.json("POST", "/api/config", body={"HTPHEAD": "x" * 300})
        eq((st, r["errors"]["HTPHEAD"]["code"]), (422, -4), "HTPHEAD over 200 bytes")
        st, r = e.json("POST", "/api/config", body={"MID": "a\u0000b"})
        eq((st, r["errors"]["MID"]["code"]), (422, -4), "NUL in a value")
        st, r = e.json("POST", "/api/config", body={"MID": "caf\u00e9"})
        eq((st, r["errors"]["MID"]["code"]), (422, -4), "non-ASCII in a value")
        st, r = e.json("POST", "/api/config", body={"HTPHEAD": "A: 1<<CRLF>>B: 2,3"})
        eq(st, 200, "HTPHEAD with a comma and <<CRLF>>")
        eq(param(e.json("GET", "/api/config")[1], "HTPHEAD")["value"], "A: 1<<CRLF>>B: 2,3",
           "HTPHEAD stored as typed")


@test
def defaults_are_the_modules_factory_settings():
    # A fresh module holds its factory settings, so every value is its default; with a
    # profile (--set) the defaults are the profile's, what AT+RELD would restore.
    with Run() as e:
        st, c = e.json("GET", "/api/config")
        eq(st, 200, "GET /api/config")
        for p in c["params"]:
            eq(p["default"], p["value"], "fresh module: %s default" % p["name"])
        eq(param(c, "UART")["default"], "115200,8,1,NONE,NFC", "built-in UART default")
        eq(param(c, "E")["default"], "on", "built-in E default")
    with Run(extra=["--set", "E=off", "--set", "UART=9600,8,1,NONE,NFC"]) as e:
        st, c = e.json("GET", "/api/config")
        eq(param(c, "UART")["default"], "9600,8,1,NONE,NFC", "profile's UART default")
        eq(param(c, "E")["default"], "off", "profile's E default")
        for p in c["params"]:
            eq(p["default"], p["value"], "fresh module with a profile: %s default" % p["name"])


@test
def status_reports_the_module():
    with Run(extra=["--mac", "D8B04C123456"]) as e:
        st, s = e.json("GET", "/api/status")
        eq(st, 200, "status")
        eq(s["mac"], "D8B04C123456", "MAC")
        eq(s["firmware"], "V4017", "firmware")
        eq(s["module"], "USR-M0", "module name")
        eq(s["state"], "transparent", "state")
        eq(s["work_mode"], "TCPC", "work mode")
        eq(s["uart"], "115200,8,1,NONE,NFC", "uart")
        eq(s["socklk"], "disconnect", "socklk")
        eq(s["web"], {"port": e.port, "webport": 80}, "web port (--web-port)")
        for k in ["uart_rx", "uart_tx", "restarts"]:
            check(k in s["counters"], "counter " + k)
        check(isinstance(s["links"], list), "links")
        # The tty sees the same values.
        t = Tty(e.tty)
        try:
            t.command_mode()
            eq(t.at("AT+MAC"), "+ok=D8B04C123456", "AT+MAC")
            st, s = e.json("GET", "/api/status")
            eq(s["state"], "command", "state in command mode")
            check(s["counters"]["uart_rx"] > 0, "uart_rx counted")
        finally:
            t.close()


@test
def factory_reset_and_restart():
    with Run() as e:
        st, r = e.json("POST", "/api/config", body={"MID": "bench-7", "UART": "9600,8,1,NONE,NFC"})
        eq(st, 200, "set")
        before = restart(e)
        st, s = e.json("GET", "/api/status")
        eq(s["counters"]["restarts"], before + 1, "restart counted")
        eq(s["module"], "bench-7", "MID running after restart")
        n = len(e.events())
        st, r = e.json("POST", "/api/factory-reset")
        eq((st, r), (200, {"ok": True, "restarting": True}), "factory reset")
        e.wait_event("ready", after=n)
        st, c = e.json("GET", "/api/config")
        eq(param(c, "MID")["value"], "USR-M0", "MID after factory reset")
        eq(param(c, "UART")["value"], "115200,8,1,NONE,NFC", "UART after factory reset")
        t = Tty(e.tty)
        try:
            t.command_mode()
            eq(t.at("AT+UART"), "+ok=115200,8,1,NONE,NFC", "AT+UART after factory reset")
        finally:
            t.close()


# ---- the event stream ----

class Sse:
    """A raw event stream client that keeps what it has read across waits."""

    def __init__(self, e, last_id=None):
        self.s = socket.create_connection(("127.0.0.1", e.port), timeout=10)
        extra = b"Last-Event-ID: %d\r\n" % last_id if last_id is not None else b""
        self.s.sendall(b"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " +
                       basic().encode() + b"\r\nAccept: text/event-stream\r\n" + extra +
                       b"\r\n")
        self.buf = b""

    def close(self):
        self.s.close()

    def parse(self):
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        records = []
        for block in rest.split(b"\n\n")[:-1]:
            rec = {}
            for line in block.split(b"\n"):
                k, _, v = line.partition(b": ")
                rec[k.decode()] = v.decode()
            if "data" in rec:
                rec["json"] = json.loads(rec["data"])
                records.append(rec)
        return head, records

    def wait(self, until, timeout=10):
        """Read until until(records) holds for all records so far: (head, records)."""
        deadline = time.monotonic() + timeout
        while True:
            head, records = self.parse()
            if b"\r\n\r\n" in self.buf and until(records):
                return head, records
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("stream: condition not met; got %r" % self.buf[-1500:])
            self.s.settimeout(left)
            try:
                b = self.s.recv(65536)
            except socket.timeout:
                b = None
            if b is None:
                raise AssertionError("stream: condition not met; got %r" % self.buf[-1500:])
            if not b:
                raise AssertionError("stream closed; got %r" % self.buf[-1500:])
            self.buf += b


@test
def event_stream_carries_events_and_traffic():
    with Run() as e:
        s = Sse(e)
        try:
            head, recs = s.wait(lambda r: any(x["json"].get("ev") == "ready" for x in r))
            check(b"200 OK" in head and b"text/event-stream" in head, "stream head")
            t = Tty(e.tty)
            try:
                t.write(b"hello-web\x01\xff")
                head, recs = s.wait(lambda r: any(
                    x.get("event") == "traffic" and "hello-web" in x["json"]["text"] for x in r))
                rec = [x for x in recs if x.get("event") == "traffic"][-1]["json"]
                eq(rec["dir"], "uart_in", "direction")
                check("68656C6C6F2D776562" in rec["hex"], "hex of the bytes")
                check(rec["text"].endswith("\x01\xff") or "\x01" in rec["text"], "text bytes")
                check(isinstance(rec["t_ms"], int), "t_ms")
                t.command_mode()
                t.at("AT+UART")
                # The reply may come in several records: what reached the host, in order.
                head, recs = s.wait(lambda r: "+ok=115200,8,1,NONE,NFC\r\n" in "".join(
                    x["json"]["text"] for x in r
                    if x.get("event") == "traffic" and x["json"]["dir"] == "uart_out"))
                ids = [int(x["id"]) for x in recs]
                eq(ids, sorted(ids), "ids increase")
                eq(len(set(ids)), len(ids), "ids unique")
            finally:
                t.close()
            # A restart shows in the stream.
            e.json("POST", "/api/restart")
            s.wait(lambda r: any(x["json"].get("ev") == "restart" for x in r))
            last = ids[-1]
        finally:
            s.close()
        # A reconnect with Last-Event-ID gets only what came after it.
        s = Sse(e, last_id=last)
        try:
            head, recs = s.wait(lambda r: any(x["json"].get("ev") == "ready" for x in r))
            check(all(int(x["id"]) > last for x in recs), "replay after Last-Event-ID")
        finally:
            s.close()
        # HEAD of the stream: headers only.
        st, h, body = e.request("HEAD", "/api/events")
        eq((st, body), (200, b""), "HEAD /api/events")


# ---- robustness ----

@test
def trickling_client_dropped_while_device_answers():
    with Run() as e:
        t = Tty(e.tty)
        t.command_mode()
        s = socket.create_connection(("127.0.0.1", e.port), timeout=30)
        req = b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + \
            basic().encode() + b"\r\nX-Slow: " + b"z" * 200 + b"\r\n\r\n"
        idle = socket.create_connection(("127.0.0.1", e.port), timeout=30)  # sends nothing
        idle_start = time.monotonic()
        start = time.monotonic()
        dropped_after = None
        answer = b""
        answers = 0
        i = 0
        try:
            # One byte every 100 ms: the head would take 30 s; the server allows 3.
            while time.monotonic() - start < 8 and i < len(req):
                try:
                    s.sendall(req[i:i + 1])
                except (BrokenPipeError, ConnectionResetError):
                    dropped_after = time.monotonic() - start
                    break
                i += 1
                s.settimeout(0.0)
                try:
                    b = s.recv(4096)
                    if b"408" in b or b == b"":
                        dropped_after = time.monotonic() - start
                        answer = b
                        break
                except BlockingIOError:
                    pass
                # Meanwhile the device answers on its tty and the API answers too.
                if i % 5 == 0:
                    eq(t.at("AT+UART"), "+ok=115200,8,1,NONE,NFC", "tty while trickling")
                    eq(e.request("GET", "/api/status")[0], 200, "API while trickling")
                    answers += 1
                time.sleep(0.1)
            check(dropped_after is not None, "trickling client not dropped in 8 s")
            check(2.8 <= dropped_after <= 5.5, "dropped after %.1f s" % dropped_after)
            eq(status_of(answer), 408, "408 for the trickler")
            check(b"headers took longer than 3 s" in answer, "408 says why: %r" % answer)
            check(answers >= 4, "the device answered %d times meanwhile" % answers)
            # A connection that sends nothing is closed silently after 10 s.
            eq(read_until_close(idle, 12), b"", "idle connection closed silently")
            waited = time.monotonic() - idle_start
            check(9.5 <= waited <= 12.5, "idle connection closed after %.1f s" % waited)
        finally:
            s.close()
            idle.close()
            t.close()


@test
def slow_body_allowed_whole_request_deadline_408():
    with Run() as e:
        auth = basic().encode()
        # The head at once, then the body a byte every 250 ms for about 5 s: past the head
        # deadline, within the whole-request one, so it is answered.
        body = b'{"MID":"slow-body"}'
        s = socket.create_connection(("127.0.0.1", e.port), timeout=20)
        try:
            s.sendall(b"POST /api/config HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " +
                      auth + b"\r\nContent-Type: application/json\r\nConnection: close\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(body))
            start = time.monotonic()
            for k in range(len(body)):
                s.sendall(body[k:k + 1])
                time.sleep(0.25)
            got = read_until_close(s, 10)
            eq(status_of(got), 200, "body over %.1f s" % (time.monotonic() - start))
        finally:
            s.close()
        eq(param(e.json("GET", "/api/config")[1], "MID")["value"], "slow-body", "saved")
        # A body that keeps trickling is cut at 10 s from when the server began waiting.
        s = socket.create_connection(("127.0.0.1", e.port), timeout=20)
        try:
            start = time.monotonic()
            s.sendall(b"POST /api/config HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " +
                      auth + b"\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 1000\r\n\r\n{")
            got = b""
            while time.monotonic() - start < 15:
                try:
                    s.sendall(b" ")
                except OSError:
                    break
                s.settimeout(0.5)
                try:
                    b = s.recv(4096)
                except socket.timeout:
                    continue
                except OSError:
                    break
                if not b:
                    break
                got += b
                if b"\r\n\r\n" in got:
                    break
            took = time.monotonic() - start
            eq(status_of(got), 408, "trickled body")
            check(b"took longer than 10 s" in got, "408 says why: %r" % got)
            check(9.5 <= took <= 12.5, "408 after %.1f s" % took)
        finally:
            s.close()

class Trickle:
    """n connections that each send one byte of a request every `period` s, from one
    thread; a connection the server closes is opened again at the next tick, as a
    patient attacker would. stop() ends them all."""

    def __init__(self, e, n=200, period=0.5):
        self.e, self.n, self.period = e, n, period
        self.req = (b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"z" * 4000 +
                    b"\r\n\r\n")
        self.socks = [None] * n
        self.pos = [0] * n
        self.opened = self.closed_by_server = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def _open(self, k):
        try:
            s = socket.create_connection(("127.0.0.1", self.e.port), timeout=2)
            s.setblocking(False)
            self.socks[k] = s
            self.pos[k] = 0
            self.opened += 1
        except OSError:
            self.socks[k] = None

    def _drop(self, k):
        try:
            self.socks[k].close()
        except OSError:
            pass
        self.socks[k] = None
        self.closed_by_server += 1

    def run(self):
        while not self.stopping.is_set():
            tick = time.monotonic()
            for k in range(self.n):
                if self.stopping.is_set():
                    break
                if self.socks[k] is None:
                    self._open(k)
                    continue
                s = self.socks[k]
                try:
                    got = s.recv(65536)
                    if not got or got.startswith(b"HTTP/"):
                        self._drop(k)  # closed, or answered (408, 503): start again
                        continue
                except BlockingIOError:
                    pass
                except OSError:
                    self._drop(k)
                    continue
                try:
                    s.send(self.req[self.pos[k]:self.pos[k] + 1])
                    self.pos[k] = (self.pos[k] + 1) % len(self.req)
                except BlockingIOError:
                    pass
                except OSError:
                    self._drop(k)
            self.stopping.wait(max(0.0, self.period - (time.monotonic() - tick)))

    def stop(self):
        self.stopping.set()
        self.thread.join(10)
        for s in self.socks:
            if s is not None:
                s.close()


def timed_status(e, timeout=1.0):
    """One authenticated GET /api/status on a new connection: (status or None, seconds)."""
    req = (b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " +
           basic().encode() + b"\r\nConnection: close\r\n\r\n")
    start = time.monotonic()
    try:
        s = socket.create_connection(("127.0.0.1", e.port), timeout=timeout)
    except OSError:
        return None, time.monotonic() - start
    try:
        s.sendall(req)
        got = b""
        while b"\r\n\r\n" not in got:
            s.settimeout(max(0.001, timeout - (time.monotonic() - start)))
            b = s.recv(65536)
            if not b:
                break
            got += b
        return status_of(got) if got else None, time.monotonic() - start
    except (OSError, AssertionError):
        return None, time.monotonic() - start
    finally:
        s.close()


@test
def page_reachable_under_200_trickling_connections():
    with Run() as e:
        tr = Trickle(e).start()
        try:
            deadline = time.monotonic() + 5
            while tr.opened < 200 and time.monotonic() < deadline:
                time.sleep(0.05)
            check(tr.opened >= 200, "only %d trickling connections opened" % tr.opened)
            # Probe about once a second for 12 s: longer than the whole-request deadline,
            # so the slots the trickle took first have been taken again since.
            probes = []
            end = time.monotonic() + 12
            while time.monotonic() < end:
                probes.append(timed_status(e))
                time.sleep(max(0.0, 1.0 - probes[-1][1]))
            bad = [(st, round(t, 3)) for st, t in probes if st != 200 or t >= 1.0]
            eq(bad, [], "probes without a 200 within 1 s (of %d)" % len(probes))
            check(len(probes) >= 10, "only %d probes" % len(probes))
            check(tr.closed_by_server > 0, "the server never dropped a trickler")
        finally:
            tr.stop()


@test
def client_that_never_reads_its_answers_is_dropped():
    with Run() as e:
        # 1000 pipelined requests for ~10 KB answers, and nothing read: the server stops
        # parsing once 256 KiB of answers wait, and must not hold the slot for ever.
        n = 1000
        req = (b"GET /api/config HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " +
               basic().encode() + b"\r\n\r\n")
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(10)
        s.connect(("127.0.0.1", e.port))
        try:
            s.setblocking(False)
            data, sent = req * n, 0
            start = time.monotonic()
            while sent < len(data) and time.monotonic() - start < 3:
                try:
                    sent += s.send(data[sent:])
                except BlockingIOError:
                    time.sleep(0.01)
            time.sleep(13)  # the answers' deadline is 10 s
            # Read what came before the close (a reset, as the server had requests left
            # unread); a server that kept the connection would now answer all n.
            got, closed = b"", False
            s.settimeout(20)
            while not closed:
                try:
                    b = s.recv(1 << 20)
                except socket.timeout:
                    break
                except ConnectionResetError:
                    b = b""
                closed = b == b""
                got += b
            answers = got.count(b"HTTP/1.1 200 OK")
            check(closed, "the connection was kept (%d answers read)" % answers)
            check(answers < n, "all %d answers came: the connection was kept" % n)
            eq(e.request("GET", "/api/status")[0], 200, "server still answers")
        finally:
            s.close()


@test
def fifty_concurrent_clients():
    with Run() as e:
        n = 50
        barrier = threading.Barrier(n)
        errors = []
        results = [0] * n

        def client(k):
            import http.client
            try:
                conn = http.client.HTTPConnection("127.0.0.1", e.port, timeout=20)
                conn.connect()
                barrier.wait(timeout=20)  # all 50 connected at once
                for path in ["/api/status", "/", "/api/config", "/app.js", "/api/status"]:
                    conn.request("GET", path, headers={"Authorization": basic()})
                    r = conn.getresponse()
                    body = r.read()
                    if r.status != 200 or len(body) != int(r.getheader("Content-Length")):
                        raise AssertionError("%s: %d" % (path, r.status))
                    results[k] += 1
                conn.close()
            except Exception as ex:  # noqa: BLE001 - reported below
                errors.append("client %d: %r" % (k, ex))

        threads = [threading.Thread(target=client, args=(k,)) for k in range(n)]
        start = time.monotonic()
        for th in threads:
            th.start()
        # The device keeps answering on its tty while the clients run.
        t = Tty(e.tty)
        try:
            t.command_mode()
            eq(t.at("AT+SOCK"), "+ok=TCPC,192.168.0.201,8234", "tty during the load")
        finally:
            t.close()
        for th in threads:
            th.join(30)
        eq(errors, [], "client errors")
        eq(sum(results), n * 5, "answers")
        check(time.monotonic() - start < 20, "50 clients took too long")


def read_response(s, timeout=5):
    """One whole answer (with Content-Length) from s, which stays open: (status, bytes)."""
    got = b""
    deadline = time.monotonic() + timeout
    while True:
        head, sep, body = got.partition(b"\r\n\r\n")
        if sep:
            m = re.search(rb"Content-Length: (\d+)", head)
            if m and len(body) >= int(m.group(1)):
                return status_of(got), got
        left = deadline - time.monotonic()
        check(left > 0, "no whole answer within %.0f s: %r" % (timeout, got[:300]))
        s.settimeout(left)
        b = s.recv(65536)
        check(b != b"", "closed before the whole answer: %r" % got[:300])
        got += b


def closed_by_server(s, timeout=2):
    """True when the server has closed s (EOF or reset) within timeout."""
    s.settimeout(timeout)
    try:
        while True:
            b = s.recv(65536)
            if not b:
                return True
    except socket.timeout:
        return False
    except OSError:
        return True


def still_open(s):
    s.settimeout(0.0)
    try:
        return s.recv(1) not in (b"",)
    except BlockingIOError:
        return True
    except OSError:
        return False


@test
def full_slots_evict_the_furthest_from_an_answer():
    with Run() as e:
        full = (b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " +
                basic().encode() + b"\r\n\r\n")
        waiting = []
        newcomers = []
        try:
            # 64 connections with a request begun, not finished: every slot, oldest first.
            for k in range(64):
                c = socket.create_connection(("127.0.0.1", e.port), timeout=10)
                c.sendall(b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                waiting.append(c)
                time.sleep(0.005)
            time.sleep(0.2)
            # A newcomer is answered: the connection that has waited longest made room.
            n1 = socket.create_connection(("127.0.0.1", e.port), timeout=10)
            newcomers.append(n1)
            n1.sendall(full)
            eq(read_response(n1)[0], 200, "first newcomer")
            check(closed_by_server(waiting[0]), "the oldest waiting connection was closed")
            _, ev = e.wait_event("web.evicted")
            eq(ev.get("peer"), "127.0.0.1:%d" % waiting[0].getsockname()[1],
               "web.evicted names the oldest waiting connection")
            eq(ev.get("why"), "waiting", "web.evicted: why")
            opened = [k for k in range(1, 64) if still_open(waiting[k])]
            eq(len(opened), 63, "waiting connections left open")
            # The next newcomer takes the slot of the idle keep-alive connection (n1, now
            # answered) rather than one of those still waiting.
            n2 = socket.create_connection(("127.0.0.1", e.port), timeout=10)
            newcomers.append(n2)
            n2.sendall(full)
            eq(read_response(n2)[0], 200, "second newcomer")
            check(closed_by_server(n1), "the idle keep-alive connection was closed")
            evs = [ev for ev in e.events() if ev.get("ev") == "web.evicted"]
            eq([(ev.get("peer"), ev.get("why")) for ev in evs[1:]],
               [("127.0.0.1:%d" % n1.getsockname()[1], "idle")],
               "the second web.evicted: the keep-alive newcomer, idle")
            opened = [k for k in range(1, 64) if still_open(waiting[k])]
            eq(len(opened), 63, "waiting connections left open")
        finally:
            for c in waiting + newcomers:
                c.close()


@test
def connection_cap_refuses_when_every_slot_is_busy():
    with Run() as e:
        # 64 healthy event clients: none may be evicted, so the 65th connection is
        # answered 503.
        streams = []
        try:
            for k in range(64):
                st = Sse(e)
                streams.append(st)
                st.wait(lambda r: True)
            extra = socket.create_connection(("127.0.0.1", e.port), timeout=10)
            try:
                got = read_until_close(extra, 10)
                eq(status_of(got), 503, "the 65th connection")
                check(b"Retry-After: 1" in got, "Retry-After")
            finally:
                extra.close()
            check(all(still_open(st.s) for st in streams), "every event client kept")
        finally:
            for st in streams:
                st.close()
        # Once they are gone, new clients are served again.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                if e.request("GET", "/api/status")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.05)
        eq(e.request("GET", "/api/status")[0], 200, "served after the others closed")


@test
def slow_event_client_dropped_at_256_kib():
    with Run() as e:
        # An event client that reads nothing, with a small receive window, so what the
        # server sends it piles up in the server.
        slow = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.settimeout(10)
        slow.connect(("127.0.0.1", e.port))
        slow.sendall(b"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " +
                     basic().encode() + b"\r\n\r\n")
        good = Sse(e)
        t = Tty(e.tty)
        stop = threading.Event()
        read = [0]

        def drain_good():
            while not stop.is_set():
                good.s.settimeout(0.2)
                try:
                    b = good.s.recv(65536)
                except socket.timeout:
                    continue
                if not b:
                    return
                good.buf += b
                read[0] += len(b)

        th = threading.Thread(target=drain_good, daemon=True)
        th.start()
        try:
            # Binary bytes through the UART, 256 at a time and apart, so that each read
            # becomes one traffic record of about 2 KB (hex and escaped text), until the
            # stream has carried more than the kernel can hold for the slow client (its
            # send buffer grows up to tcp_wmem's maximum) plus the server's 256 KiB.
            try:
                with open("/proc/sys/net/ipv4/tcp_wmem") as f:
                    kernel = int(f.read().split()[2])
            except (OSError, ValueError, IndexError):
                kernel = 4 * 1024 * 1024
            want = kernel + 1024 * 1024
            deadline = time.monotonic() + 60
            while read[0] < want and time.monotonic() < deadline:
                t.write(bytes(range(256)))
                time.sleep(0.001)
            check(read[0] >= want, "the reading client got only %d bytes" % read[0])
            # The slow one was dropped: what it can still read ends with the close.
            got = read_until_close(slow, 20)
            check(got.startswith(b"HTTP/1.1 200 OK"), "stream head")
            check(len(got) < read[0], "the dropped client got %d bytes of %d" %
                  (len(got), read[0]))
            # The reading client is still served: a new record reaches it.
            t.write(b"after-the-drop")
            deadline = time.monotonic() + 10
            while b"after-the-drop" not in good.buf and time.monotonic() < deadline:
                time.sleep(0.05)
            check(b"after-the-drop" in good.buf, "the reading client still gets records")
            eq(e.request("GET", "/api/status")[0], 200, "server still answers")
        finally:
            stop.set()
            th.join(5)
            good.close()
            slow.close()
            t.close()


@test
def web_root_serves_files_from_disk():
    import tempfile
    root = tempfile.mkdtemp(prefix="m0web-root-")
    try:
        with open(os.path.join(root, "index.html"), "w") as f:
            f.write("<!doctype html><title>dev</title>one")
        os.mkdir(os.path.join(root, "sub"))
        with open(os.path.join(root, "sub", "x.css"), "w") as f:
            f.write("body{}")
        with open(os.path.join(os.path.dirname(root), "outside-%d.txt" % os.getpid()), "w") as f:
            f.write("secret")
        with Run(extra=["--web-root", root]) as e:
            st, h, body = e.request("GET", "/")
            eq((st, body), (200, b"<!doctype html><title>dev</title>one"), "index from disk")
            check(h["content-type"].startswith("text/html"), "type")
            etag = h["etag"]
            eq(e.request("GET", "/", headers={"If-None-Match": etag})[0], 304, "304 from disk")
            st, h, body = e.request("HEAD", "/index.html")
            eq((st, body, h["content-length"]), (200, b"", "36"), "HEAD from disk")
            eq(e.request("GET", "/sub/x.css")[1]["content-type"], "text/css; charset=utf-8",
               "nested file")
            for path in ["/nope.html", "/sub", "/../outside-%d.txt" % os.getpid(),
                         "/sub/../index.html", "//etc/passwd"]:
                eq(e.request("GET", path)[0], 404, "GET " + path)
            eq(e.request("GET", "/", auth=None)[0], 401, "auth under --web-root too")
            # An edit shows at once, with a new ETag: that is what the option is for.
            time.sleep(0.01)
            with open(os.path.join(root, "index.html"), "w") as f:
                f.write("<!doctype html><title>dev</title>two!")
            st, h, body = e.request("GET", "/", headers={"If-None-Match": etag})
            eq((st, body[-4:]), (200, b"two!"), "edited file")
            check(h["etag"] != etag, "new ETag")
            # The API is the same.
            eq(e.request("GET", "/api/status")[0], 200, "API under --web-root")
            # Pipelined requests still answer in order while files are read off the loop.
            auth = basic().encode()
            req = lambda p: (b"GET " + p + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + auth +
                             b"\r\n\r\n")
            got = e.raw(req(b"/") + req(b"/api/status") + req(b"/nope") + req(b"/sub/x.css") +
                        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: " +
                        auth + b"\r\n\r\n")
            codes = [int(m) for m in re.findall(rb"HTTP/1\.1 (\d\d\d) ", got)]
            eq(codes, [200, 200, 404, 200, 200], "pipelined under --web-root")
            # A client that half-closes after its requests still gets every answer.
            got = e.raw(req(b"/sub/x.css") + req(b"/"), half_close=True)
            codes = [int(m) for m in re.findall(rb"HTTP/1\.1 (\d\d\d) ", got)]
            eq(codes, [200, 200], "answers after a half-close")
    finally:
        import shutil
        shutil.rmtree(root, ignore_errors=True)
        try:
            os.unlink(os.path.join(os.path.dirname(root), "outside-%d.txt" % os.getpid()))
        except OSError:
            pass


@test
def web_port_follows_webport_after_restart():
    p1, p2 = free_port(), free_port()
    flash = "# m0emu flash v1\nAT+WEBPORT=%d\n" % p1
    e = Emulator(web_port=False, flash=flash)
    e.port = p1
    try:
        e.wait_web(p1)
        st, s = e.json("GET", "/api/status")
        eq(s["web"], {"port": p1, "webport": p1}, "listening on WEBPORT")
        st, r = e.json("POST", "/api/config", body={"WEBPORT": str(p2)})
        eq(st, 200, "set WEBPORT")
        n = len(e.events())
        e.json("POST", "/api/restart")
        e.wait_event("web.listening", after=n, pred=lambda ev: ev["port"] == p2)
        e.port = p2
        eq(e.json("GET", "/api/status")[1]["web"], {"port": p2, "webport": p2}, "moved")
        try:
            socket.create_connection(("127.0.0.1", p1), timeout=2).close()
            raise AssertionError("the old port still accepts")
        except ConnectionRefusedError:
            pass
    finally:
        check(e.alive(), "m0emu alive:\n" + e.logs())
        e.stop()


@test
def port_in_use_reported_and_device_keeps_running():
    # The port comes from WEBPORT (not --web-port, whose port in use is exit 1): the
    # module runs on without its page, as a real one with an unreachable page still works.
    blocker = socket.socket()
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    port = blocker.getsockname()[1]
    e = Emulator(web_port=False, flash="# m0emu flash v1\nAT+WEBPORT=%d\n" % port)
    try:
        _, ev = e.wait_event("web.error")
        eq(ev["port"], port, "web.error names the port")
        eq(ev["error"], "EADDRINUSE", "web.error reason")
        e.wait_event("ready")
        t = Tty(e.tty)
        try:
            t.command_mode()
            eq(t.at("AT+WEBPORT"), "+ok=%d" % port, "device answers without its page")
        finally:
            t.close()
    finally:
        blocker.close()
        check(e.alive(), "m0emu alive:\n" + e.logs())
        e.stop()


@test
def privileged_port_mapped_to_8000_plus():
    if os.geteuid() == 0:
        user = 65534  # nobody: has no right to ports below 1024
    else:
        user = None
    # A privileged port whose 8000+port twin is free here.
    for low in range(1023, 900, -1):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", 8000 + low))
            break
        except OSError:
            continue
        finally:
            s.close()
    flash = "# m0emu flash v1\nAT+WEBPORT=%d\n" % low
    e = Emulator(web_port=False, flash=flash, user=user)
    try:
        _, ev = e.wait_event("web.port_mapped")
        eq(ev, dict(ev, port=low, host_port=8000 + low), "web.port_mapped")
        e.port = 8000 + low
        e.wait_web()
        eq(e.json("GET", "/api/status")[1]["web"], {"port": 8000 + low, "webport": low},
           "status names both ports")
    finally:
        check(e.alive(), "m0emu alive:\n" + e.logs())
        e.stop()


def main(argv):
    only = argv[1:]
    passed = failed = 0
    for fn in TESTS:
        if only and not any(o in fn.__name__ for o in only):
            continue
        start = time.monotonic()
        try:
            fn()
            passed += 1
            print("ok     %-50s %5.1f s" % (fn.__name__, time.monotonic() - start), flush=True)
        except Exception:  # noqa: BLE001 - every failure is reported, then the next test
            failed += 1
            print("FAIL   %-50s %5.1f s" % (fn.__name__, time.monotonic() - start), flush=True)
            traceback.print_exc()
            sys.stdout.flush()
    print("web-http: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
