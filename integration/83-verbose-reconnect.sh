#!/usr/bin/env bash
# 83-verbose-reconnect: -v does not print the same reconnect failure every second
# forever. A TCP client whose server is not there retries every second; over ten
# refusals the -v trace writes each line of that cycle 3 times at most (the rest is
# counted and summarised once a minute, and at exit), while the events file has all ten.
. "${M0_INTEGRATION_DIR:-$(dirname "$0")}/lib.sh"

m0_start -v # the factory peer is a free port of the scenario's (lib.sh): refused
wait_event net.refused 10
m0_stop
err=$T/stderr.$M0_RUN
for line in 'event net.connecting ' 'event net.refused '; do
  n=$(grep "^m0emu: $line" "$err" | grep -vc 'not shown)$' || true)
  ((n >= 1 && n <= 3)) || fail "'$line' written $n times in the -v trace, want 1 to 3:
$(cat "$err")"
done
# What was held back is not lost: the exit says how many.
grep -q '^m0emu: event net.refused .* more like it, not shown)$' "$err" ||
  fail "no summary of the lines held back: $(tail -5 "$err")"
[[ $(grep -c '"ev":"net.refused"' "$T/events.$M0_RUN") -ge 10 ]] ||
  fail "the events file lost refusals"
