#!/usr/bin/env bash
# run.sh TARGET SEEDS SECONDS: fuzz from a copy of the seed corpus, so a test run never
# writes into the source tree; a crash leaves its input in the build dir and fails.
set -euo pipefail
target=$1 seeds=$2 seconds=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$seeds"/* "$work"/
exec "$target" -max_total_time="$seconds" -artifact_prefix="$(dirname "$target")/" \
  -print_final_stats=1 "$work"
