#!/usr/bin/env bash
# run.sh: run one libFuzzer target for as long as you like.
#
#   tests/fuzz/run.sh NAME SECONDS [BUILD_DIR] [-- LIBFUZZER_ARGS...]
#       NAME is the target without its prefix (at, link, htpc, flash, params, ...).
#       Builds BUILD_DIR (default build-fuzz, set up with clang and -Dfuzz=true if it is
#       missing), then fuzzes for SECONDS from a copy of tests/fuzz/corpus/NAME, so a run
#       never writes into the source tree. A crash leaves its input next to the target
#       (BUILD_DIR/tests/fuzz/crash-*) and the exit status is non-zero; reproduce it with
#       BUILD_DIR/tests/fuzz/fuzz_NAME CRASH_FILE (FUZZ_TRACE=1 prints what happens).
#       Set FUZZ_KEEP=DIR to keep the grown corpus in DIR (and start from it next time).
#   tests/fuzz/run.sh TARGET_PATH SEEDS_DIR SECONDS
#       The form meson's fuzz tests use (tests/fuzz/meson.build).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

if [[ $# -ge 3 && -x $1 && -d $2 ]]; then
  target=$1 seeds=$2 seconds=$3
  shift 3
else
  [[ $# -ge 2 ]] || { sed -n '2,14p' "$0" >&2; exit 2; }
  name=${1#fuzz_} seconds=$2 build=${3:-$root/build-fuzz}
  shift $(( $# >= 3 ? 3 : 2 ))
  [[ ${1:-} == -- ]] && shift
  if [[ ! -f $build/build.ninja ]]; then
    CC=clang meson setup "$build" "$root" -Dfuzz=true -Dtests=false >/dev/null
  fi
  ninja -C "$build" "tests/fuzz/fuzz_$name" >/dev/null
  target=$build/tests/fuzz/fuzz_$name seeds=$here/corpus/$name
fi
[[ -d $seeds ]] || { echo "run.sh: no seed corpus $seeds" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$seeds"/* "$work"/
dirs=("$work")
if [[ -n ${FUZZ_KEEP:-} ]]; then
  mkdir -p "$FUZZ_KEEP"
  dirs=("$FUZZ_KEEP" "$work") # new inputs go into the first directory
fi
exec "$target" -max_total_time="$seconds" -artifact_prefix="$(dirname "$target")/" \
  -print_final_stats=1 "$@" "${dirs[@]}"
