#!/usr/bin/env python3
"""man_options.py: the options --help prints, the man page's OPTIONS and the README's
Options block must be the same set, so none of the three can drift from the program.

usage: man_options.py M0EMU MAN_PAGE README

An option is a token -x or --long-name at the start of an option line (--help and the
README: an indented line beginning with '-'; the man page: the term line of each entry
in OPTIONS, the one just before its indented description, ".RS").
"""
import re
import subprocess
import sys

ARG = re.compile(r"^([A-Z0-9]+|\S*\|\S*|/)$")  # PATH, N, HEX12, real|fast, PATH|-, "/"


def spec_options(lines):
    """The options named at the start of each option line: tokens beginning with '-',
    past their placeholders (PATH, real|fast), up to the description's first word."""
    found = set()
    for line in lines:
        if not re.match(r"^\s+-", line):
            continue
        for token in line.split():
            token = token.rstrip(",")
            if token.startswith("-"):
                found.add(token)
            elif not ARG.match(token):
                break
    return found


def help_options(m0emu):
    out = subprocess.run([m0emu, "--help"], capture_output=True, text=True, check=True).stdout
    return spec_options(out.splitlines())


def man_options(path):
    text = open(path, encoding="utf-8").read()
    m = re.search(r"^\.SH OPTIONS\n(.*?)^\.SH ", text, re.S | re.M)
    if not m:
        sys.exit(f"{path}: no OPTIONS section")
    lines = m.group(1).splitlines()
    found = set()
    for i, line in enumerate(lines):
        if line.startswith(".RS") and i > 0:
            term = lines[i - 1]
            found.update(re.findall(r"\\fB(--?[a-z][a-z0-9-]*)\\fR", term))
    return found


def readme_options(path):
    text = open(path, encoding="utf-8").read()
    m = re.search(r"^## Options\n+```\n(.*?)^```", text, re.S | re.M)
    if not m:
        sys.exit(f"{path}: no Options block (a ``` block right after '## Options')")
    return spec_options(m.group(1).splitlines())


def main():
    m0emu, man, readme = sys.argv[1:4]
    want = help_options(m0emu)
    if len(want) < 10 or "--help" not in want or "--tty" not in want:
        sys.exit(f"--help parsed to too few options, the parser is wrong: {sorted(want)}")
    failed = False
    for where, got in (("the man page " + man, man_options(man)),
                       ("README's Options block", readme_options(readme))):
        missing, extra = sorted(want - got), sorted(got - want)
        if missing:
            print(f"{where} lacks {', '.join(missing)} (printed by --help)")
            failed = True
        if extra:
            print(f"{where} lists {', '.join(extra)}, which --help does not print")
            failed = True
    if failed:
        sys.exit(1)
    print(f"{len(want)} options agree: {' '.join(sorted(want))}")


if __name__ == "__main__":
    main()
