#!/bin/sh
# setup.sh: what the browser tests need, from Debian and npm only: Debian's chromium
# (playwright-core drives it; no browser is ever downloaded) and playwright-core itself,
# pinned by package-lock.json. Safe to run again.
set -eu
cd "$(dirname "$0")"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
if ! [ -x /usr/bin/chromium ] || ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  $SUDO apt-get update
  pkgs="chromium"
  command -v node >/dev/null 2>&1 || pkgs="$pkgs nodejs"
  command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm"
  # shellcheck disable=SC2086 # word splitting of the package list is meant
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $pkgs
fi
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
