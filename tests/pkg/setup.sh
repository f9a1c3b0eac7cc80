#!/bin/sh
# setup.sh: what the package test (deb.sh) needs beyond scripts/setup's build tools, from
# Debian only: dpkg-dev and debhelper to build the .deb, man-db to render its man page,
# git to list the source files. Quiet when all are present. Safe to run again.
set -eu
missing=""
for pair in dpkg-dev:dpkg-buildpackage debhelper:dh man-db:man git:git; do
  command -v "${pair#*:}" >/dev/null 2>&1 || missing="$missing ${pair%%:*}"
done
[ -n "$missing" ] || exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "tests/pkg/setup.sh: installing$missing" >&2
$SUDO apt-get update -qq
# shellcheck disable=SC2086 # word splitting of the package list is meant
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
