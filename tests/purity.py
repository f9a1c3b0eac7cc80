#!/usr/bin/env python3
"""purity.py: the firmware core calls nothing outside itself but a short allow-list.

The core (src/core/) is pure: no OS call, no clock read, no malloc (docs/architecture.md).
This reads the undefined symbols of every object in the core's static library with
`nm -u` and fails on any that is neither defined by another core object nor on the
allow-list below: string and memory functions, snprintf, llhttp (a pure parser). A
sanitized build also references its runtime (__asan_*, __ubsan_*, __sanitizer_*), allowed
by prefix only when meson says the build is sanitized.

usage: purity.py --nm NM --sanitize B_SANITIZE [--checked] LIBRARY.a
"""
import argparse
import subprocess
import sys

# Plain C library functions that touch nothing but the memory they are given.
ALLOWED = {
    "memchr", "memcmp", "memcpy", "memmove", "memset",
    "bcmp",  # clang's memcmp when only equality is asked
    "strchr", "strrchr", "strcmp", "strncmp", "strcasecmp", "strncasecmp",
    "strlen", "strnlen", "strstr",
    "snprintf", "vsnprintf",
}
ALLOWED_PREFIXES = ("llhttp_",)
# Put there by the toolchain, not by the code: the PIC base, the stack protector's
# failure path, and _FORTIFY_SOURCE's checked twins of the functions above.
TOOLCHAIN = {"_GLOBAL_OFFSET_TABLE_", "__stack_chk_fail"}
TOOLCHAIN |= {"__%s_chk" % name for name in ALLOWED}
SANITIZER_PREFIXES = ("__asan_", "__ubsan_", "__sanitizer_")
# A build that checks the core's invariants (M0_CHECK_INVARIANTS: ASan builds) stops on a
# broken one with its name on stderr: allowed there, and only from invariants.c.
CHECKED_OBJECT = "invariants.c.o"
CHECKED = {"abort", "fprintf", "__fprintf_chk", "stderr"}


def symbols(nm, library, *flags):
    """(object, symbol) pairs nm lists for the archive with the given flags."""
    out = subprocess.run([nm, "-A", *flags, library], check=True, capture_output=True,
                         text=True).stdout
    pairs = []
    for line in out.splitlines():
        # "lib.a:dir/obj.o:0000000000000000 T name" or "lib.a:dir/obj.o:   U name"
        fields = line.split()
        if len(fields) < 2:
            continue
        objs = [part for part in fields[0].split(":") if part.endswith(".o")]
        if objs:
            pairs.append((objs[-1].rsplit("/", 1)[-1], fields[-1]))
    return pairs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nm", default="nm")
    ap.add_argument("--sanitize", default="none", help="meson's b_sanitize")
    ap.add_argument("--checked", action="store_true",
                    help="the core was built with M0_CHECK_INVARIANTS")
    ap.add_argument("library")
    args = ap.parse_args()

    defined = {sym for _, sym in symbols(args.nm, args.library, "--defined-only")}
    undefined = symbols(args.nm, args.library, "-u")
    if not defined:
        print("purity: nm found no symbol in %s (not an archive of objects?)" % args.library)
        return 1
    sanitized = args.sanitize not in ("", "none")

    bad = []
    for obj, sym in undefined:
        if sym in defined or sym in ALLOWED or sym in TOOLCHAIN:
            continue
        if sym.startswith(ALLOWED_PREFIXES):
            continue
        if sanitized and sym.startswith(SANITIZER_PREFIXES):
            continue
        if args.checked and obj.endswith(CHECKED_OBJECT) and sym in CHECKED:
            continue
        bad.append((obj, sym))

    if bad:
        for obj, sym in sorted(set(bad)):
            source = "src/core/" + obj[:-2] if obj.endswith(".c.o") else obj
            print("purity: %s (%s) uses %s, which the core may not call: an OS call, clock "
                  "read or allocation belongs in the board, behind struct m0_hal "
                  "(allowed: tests/purity.py)" % (source, obj, sym))
        print("purity: FAILED, %d forbidden symbol(s)" % len(set(bad)))
        return 1
    objects = {obj for obj, _ in undefined}
    print("purity: %d core objects call only the allow-list (sanitize=%s)"
          % (len(objects), args.sanitize))
    return 0


if __name__ == "__main__":
    sys.exit(main())
