#!/usr/bin/env bash
# deb.sh: the Debian package, built and used as a user would (issue 13 item 3).
#
#   deb.sh SOURCE_ROOT VERSION
#
# Copies the source tree's files (those git tracks, and new ones it does not ignore:
# build directories never come along) into a temporary directory, runs
# `dpkg-buildpackage -us -uc -b` there (it writes its .deb one level up, so the source
# tree is never touched; checked at the end), then checks the package: its version, its
# contents (the binary, the man page, the copyright file, every page of docs/, the
# examples, executable), its dependencies; and, unpacked into a scratch root with
# `dpkg -x`: `m0emu --version`, `man -l` on its page, and the installed ci-smoke.sh
# example run end to end against the installed binary. Needs tests/pkg/setup.sh.
set -euo pipefail
export LC_ALL=C
src=$1
version=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/m0emu-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

for tool in dpkg-buildpackage dh man git; do
  command -v "$tool" >/dev/null || fail "$tool not found: run tests/pkg/setup.sh"
done

git_src() { git -c safe.directory="$src" -C "$src" "$@"; }
status_before=$(git_src status --porcelain --ignored=no)

# The tree as a clean checkout would have it (plus uncommitted edits).
mkdir "$work/m0emu"
git_src ls-files -z --cached --others --exclude-standard |
  (cd "$src" && tar --null --ignore-failed-read -T - -cf - 2>/dev/null) |
  tar -xf - -C "$work/m0emu"
[[ -f $work/m0emu/debian/control ]] || fail "no debian/control in the copied tree"

# Two jobs: the machine is shared with the other tests.
start=$SECONDS
if ! (cd "$work/m0emu" && DEB_BUILD_OPTIONS=parallel=2 dpkg-buildpackage -us -uc -b) \
  >"$work/build.log" 2>&1; then
  tail -40 "$work/build.log" >&2
  fail "dpkg-buildpackage failed"
fi
echo "dpkg-buildpackage: $((SECONDS - start)) s"
debs=("$work"/m0emu_*.deb)
[[ ${#debs[@]} -eq 1 && -f ${debs[0]} ]] || fail "want one m0emu .deb, got: $(ls "$work")"
deb=${debs[0]}

# The package's version is the project's (debian/changelog follows meson.build).
got=$(dpkg-deb -f "$deb" Version)
[[ $got == "$version" ]] || fail "package version $got, meson.build says $version"
depends=$(dpkg-deb -f "$deb" Depends)
[[ $depends == *libuv1* ]] || fail "Depends lacks libuv1: $depends"

# Contents.
dpkg --contents "$deb" >"$work/contents"
has() {
  grep -qE "^$1 .* \\./$2\$" "$work/contents" || fail "the package lacks $2 (mode $1)"
}
has '-rwxr-xr-x' usr/bin/m0emu
has '-rwxr-xr-x' usr/bin/m0ctl
has '-rw-r--r--' usr/share/man/man1/m0emu.1.gz
has '-rw-r--r--' usr/share/man/man1/m0ctl.1.gz
has '-rw-r--r--' usr/share/doc/m0emu/copyright
has '-rw-r--r--' usr/share/doc/m0emu/README.md
has '-rw-r--r--' usr/share/doc/m0emu/docs/img/web-status.png
for page in "$work"/m0emu/docs/*.md; do # every page, so a new one cannot be forgotten
  has '-rw-r--r--' "usr/share/doc/m0emu/docs/$(basename "$page")"
done
for ex in at-session.sh tcp-server.sh ci-smoke.sh; do
  has '-rwxr-xr-x' "usr/share/doc/m0emu/examples/$ex"
done
grep -q 'License: Expat' "$work/m0emu/debian/copyright" || fail "debian/copyright names no license"

# Unpacked into a scratch root: the program runs from there.
root=$work/root
dpkg -x "$deb" "$root"
got=$("$root/usr/bin/m0emu" --version)
[[ $got == "m0emu $version" ]] || fail "installed m0emu --version printed '$got'"
"$root/usr/bin/m0emu" --help | grep -q -- '--web-port PORT' || fail "installed m0emu --help"

# The man page renders, with its sections and the options.
MANWIDTH=100 man -l "$root/usr/share/man/man1/m0emu.1.gz" >"$work/man.txt" 2>"$work/man.err" ||
  fail "man -l failed: $(cat "$work/man.err")"
[[ ! -s $work/man.err ]] || fail "man -l warned: $(cat "$work/man.err")"
for want in 'm0emu - emulate a USR-M0' SYNOPSIS OPTIONS 'EXIT STATUS' SIGNALS ENVIRONMENT \
  FILES EXAMPLES 'SEE ALSO' '--web-port PORT' 'flash.conf' 'SIGHUP' "m0emu $version" \
  '/usr/share/doc/m0emu/examples/'; do
  grep -qF -- "$want" "$work/man.txt" || fail "the rendered man page lacks '$want'"
done

# The installed examples work against the installed binary.
M0EMU=$root/usr/bin/m0emu bash "$root/usr/share/doc/m0emu/examples/ci-smoke.sh" >"$work/smoke" 2>&1 ||
  fail "the installed ci-smoke.sh failed: $(cat "$work/smoke")"
[[ $(tail -1 "$work/smoke") == ok ]] || fail "ci-smoke.sh: $(cat "$work/smoke")"

# Nothing was written into the source tree.
[[ $(git_src status --porcelain --ignored=no) == "$status_before" ]] ||
  fail "the source tree changed: $(git_src status --porcelain)"
echo "ok: $(basename "$deb"), $(wc -l <"$work/contents") entries"
