#!/usr/bin/env python3
"""layout.py: the source tree keeps the shape docs/architecture.md describes (issue 8).

Two rules, checked on every file under src/ and include/:
  - every .c file is named in docs/architecture.md (a header is covered by the .c file of
    the same name, or by being named itself), so the page's file list stays the map of
    the tree: a new file without its one-line job fails here;
  - a file longer than LIMIT lines says at its top why it is one piece: a line in its
    first comment starting with "One piece:" (the reason follows).
Names of files the page lists that are nowhere in the tree are reported too.

usage: layout.py ROOT
"""
import os
import re
import sys

LIMIT = 600
REASON = re.compile(r"^\s*\*?\s*One piece:", re.M)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    with open(os.path.join(root, "docs/architecture.md"), encoding="utf-8") as f:
        page = f.read()
    named = set(re.findall(r"[A-Za-z0-9_]+\.(?:c|h|\[ch\])\b", page))
    bad = []
    for top in ("src", "include"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for name in sorted(files):
                if not name.endswith((".c", ".h")):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, root)
                stem = name[:-2]
                covered = (name in named or stem + ".[ch]" in named or
                           (name.endswith(".h") and stem + ".c" in named))
                if name.endswith(".c") and not covered:
                    bad.append(f"{rel}: not named in docs/architecture.md (add its one job)")
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                lines = text.count("\n")
                head = text[:text.find("*/") + 2] if "*/" in text else ""
                if lines > LIMIT and not REASON.search(head):
                    bad.append(f"{rel}: {lines} lines, over {LIMIT}, and its top comment "
                               f"gives no reason (a line starting 'One piece:')")
    everywhere = set()
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith((".", "build"))]
        everywhere.update(files)
    for n in sorted(named):
        if n.endswith(".[ch]"):
            exists = n[:-4] + "c" in everywhere or n[:-4] + "h" in everywhere
        else:
            exists = n in everywhere
        if not exists:
            bad.append(f"docs/architecture.md names {n}, which is not in the tree")
    for b in bad:
        print(b)
    print(f"layout: {len(bad)} problem(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
