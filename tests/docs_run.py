#!/usr/bin/env python3
"""docs_run.py: the shell blocks of README.md and docs/*.md marked runnable, run as written
against the built m0emu, so no command in the docs can drift from the program.

usage: docs_run.py --m0emu PATH [--m0ctl PATH] --as root|user FILE.md|DIR...   (a DIR: its *.md)

A block is a fenced ```sh block whose fence line is directly preceded by one of:

    <!-- runnable -->              run it; it must exit 0 within 30 s
    <!-- runnable: background -->  a command that runs until stopped (the emulator, a
                                   peer), as in a terminal of its own: started, left
                                   running for the page's later blocks, stopped (SIGINT,
                                   as Ctrl-C) at the end of the page

Blocks that need a person (a terminal to type in, an editor, sudo) stay unmarked.

Each page runs on its own, its blocks in order, in a fresh directory that stands for the
top of a fresh clone (cwd), with PATH starting at the directories of --m0emu and --m0ctl
(so `m0emu` and `m0ctl` are the build's) and a scripts/run that runs that m0emu (the clone's scripts/run builds first,
then does the same: the build is the test's own). A background block that starts an
emulator first stops the page's earlier emulator, as the user would before starting
another, and counts as started once <state>/status.json says the module left its boot; a
background peer gets half a second to bind.

Every page runs in a network namespace of its own (unshare: a private loopback), so the
docs' fixed ports (8234, 8080, 9000, ...) are free whatever else runs on the machine, and
nothing the docs start reaches the machine's own. --as root keeps the namespace's root
capabilities (WEBPORT 80 is bound as 80); --as user drops them all before each block (a
normal user: 80 is served on 8080, the docs must say so). Bash runs each block with -e:
a failing command fails the block, as it would stop a person pasting it.
"""
import argparse
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BLOCK_TIMEOUT = 30
M0CTL = ""  # --m0ctl: its directory goes on PATH too
READY_TIMEOUT = 30
STOP_TIMEOUT = 10
MARK = re.compile(r"^<!--\s*runnable(?::\s*(background))?\s*-->\s*$")


def blocks(path):
    """(line, background, text) of every marked block of a page, in order."""
    lines = open(path, encoding="utf-8").read().split("\n")
    out = []
    for i, line in enumerate(lines):
        m = MARK.match(line)
        if not m:
            continue
        if i + 1 >= len(lines) or lines[i + 1].strip() != "```sh":
            sys.exit(f"{path}:{i + 1}: a runnable mark must stand right before a ```sh fence")
        j = i + 2
        while j < len(lines) and not lines[j].startswith("```"):
            j += 1
        if j == len(lines):
            sys.exit(f"{path}:{i + 2}: unclosed fence")
        out.append((i + 3, m.group(1) == "background", "\n".join(lines[i + 2:j]) + "\n"))
    return out


def starts_emulator(text):
    return re.search(r"(^|[\s;(&|])(m0emu|scripts/run)\b", text) is not None


def module_up(top, since):
    """True once a status.json under top, written since `since`, is past its boot."""
    for path in glob.glob(os.path.join(top, "**", "status.json"), recursive=True):
        try:
            if os.stat(path).st_mtime < since - 1:
                continue
            with open(path) as f:
                if json.load(f).get("mode") in ("transparent", "command"):
                    return True
        except (OSError, ValueError):
            pass
    return False


class Page:
    def __init__(self, path, top, env, drop_caps):
        self.path, self.top, self.env, self.drop_caps = path, top, env, drop_caps
        self.background = []  # (line, popen, is_emulator)
        self.groups = []      # every block's process group, for leftovers ("cmd &")

    def command(self, text):
        cmd = ["bash", "-e", "-c", text]
        if self.drop_caps:
            cmd = ["setpriv", "--bounding-set=-all", "--inh-caps=-all", "--ambient-caps=-all",
                   "--"] + cmd
        return cmd

    def spawn(self, text, log):
        p = subprocess.Popen(self.command(text), cwd=self.top, env=self.env,
                             stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True)
        self.groups.append(p.pid)
        return p

    def stop(self, entry):
        line, p, _ = entry
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGINT)
            try:
                p.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
                return f"line {line}: did not stop within {STOP_TIMEOUT} s of SIGINT"
        # Stopped by Ctrl-C: 0 from a program that exits cleanly (m0emu), or the signal.
        if p.returncode not in (0, -signal.SIGINT, 130):
            return f"line {line}: exited with status {p.returncode}"
        return None

    def run(self, line, background, text, log):
        log.write(f"\n---- {self.path}:{line}{' (background)' if background else ''}\n{text}")
        log.flush()
        if not background:
            p = self.spawn(text, log)
            try:
                rc = p.wait(BLOCK_TIMEOUT)
            except subprocess.TimeoutExpired:
                stuck = subprocess.run(["ps", "-o", "pid,etime,stat,wchan:24,args", "-g", str(p.pid)],
                                       capture_output=True, text=True).stdout
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
                return f"line {line}: still running after {BLOCK_TIMEOUT} s:\n{stuck}"
            return None if rc == 0 else f"line {line}: exit status {rc}"
        emulator = starts_emulator(text)
        if emulator:  # Ctrl-C in the emulator's terminal first
            for entry in [b for b in self.background if b[2]]:
                self.background.remove(entry)
                err = self.stop(entry)
                if err:
                    return err
        since = time.time()
        p = self.spawn(text, log)
        self.background.append((line, p, emulator))
        deadline = time.monotonic() + (READY_TIMEOUT if emulator else 0.5)
        while time.monotonic() < deadline:
            if p.poll() not in (None, 0):
                return f"line {line}: exited with status {p.returncode} at start"
            if emulator and module_up(self.top, since):
                return None
            time.sleep(0.05)
        return f"line {line}: no module came up within {READY_TIMEOUT} s" if emulator else None

    def finish(self):
        errors = [e for e in (self.stop(b) for b in self.background) if e]
        for pgid in self.groups:  # what blocks left behind with `&`
            try:
                os.killpg(pgid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        return errors


def run_page(path, m0emu, drop_caps, log):
    top = tempfile.mkdtemp(prefix="m0emu-docs-")
    os.chmod(top, 0o755)
    scripts = os.path.join(top, "scripts")
    os.mkdir(scripts)
    with open(os.path.join(scripts, "run"), "w") as f:
        f.write("#!/bin/sh\n# The clone's scripts/run builds, then runs the build's m0emu.\n"
                'exec m0emu "$@"\n')
    os.chmod(os.path.join(scripts, "run"), 0o755)
    tools = [os.path.dirname(os.path.abspath(m0emu))]
    if M0CTL:
        tools.append(os.path.dirname(M0CTL))
    env = dict(os.environ, PATH=":".join(tools) + ":" +
               os.environ.get("PATH", "/usr/bin:/bin"), HOME=top, TMPDIR=top)
    page = Page(path, top, env, drop_caps)
    errors = []
    found = blocks(path)
    try:
        for line, background, text in found:
            err = page.run(line, background, text, log)
            if err:
                errors.append(err)
                break
    finally:  # the page's processes and folder go even when a block raises
        errors += page.finish()
        shutil.rmtree(top, ignore_errors=True)
    return len(found), errors


def inside(args):
    """In the namespace: loopback up, then every page."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    total, failed = 0, 0
    log = sys.stdout
    for path in args.files:
        n, errors = run_page(path, args.m0emu, args.as_ == "user", log)
        total += n
        for e in errors:
            failed += 1
            print(f"FAIL {path} {e}", flush=True)
        print(f"{path}: {n} runnable block(s), {'ok' if not errors else 'FAILED'}", flush=True)
    if total == 0:
        print("no runnable block found: the marks are gone?", flush=True)
        return 1
    print(f"{total} runnable blocks as {args.as_}, {failed} failed", flush=True)
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--m0emu", required=True)
    ap.add_argument("--m0ctl", help="the build's m0ctl, on PATH beside m0emu")
    ap.add_argument("--as", dest="as_", choices=("root", "user"), required=True)
    ap.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    args.m0emu = os.path.abspath(args.m0emu)
    global M0CTL
    M0CTL = os.path.abspath(args.m0ctl) if args.m0ctl else ""
    files = []
    for f in args.files:
        files += sorted(glob.glob(os.path.join(f, "*.md"))) if os.path.isdir(f) else [f]
    args.files = [os.path.abspath(f) for f in files]
    if args.inside:
        return inside(args)
    for tool in ("unshare", "setpriv", "ip", "socat", "curl"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found: the doc runner needs it (util-linux, iproute2, "
                     "socat, curl)")
    # A user and network namespace of our own: a private loopback, and root in it.
    cmd = ["unshare", "--user", "--map-root-user", "--net", "--", sys.executable,
           os.path.abspath(__file__), "--inside", "--m0emu", args.m0emu, "--as", args.as_]
    if M0CTL:
        cmd += ["--m0ctl", M0CTL]
    rc = subprocess.run(cmd + args.files).returncode
    if rc not in (0, 1):
        sys.exit(f"cannot run in a namespace of our own (unshare exit {rc}): user "
                 "namespaces must be allowed (sysctl kernel.unprivileged_userns_clone)")
    return rc


if __name__ == "__main__":
    sys.exit(main())
