#!/usr/bin/env bash
# ci-smoke.sh: the shape of a CI job against the emulator, end to end: start m0emu on
# private paths and ports, wait for `ready` on the --events stream instead of sleeping,
# point the module at a local TCP server with AT commands, send bytes through the serial
# port, check the server received them, stop m0emu and check its exit status.
#
#   ci-smoke.sh                 uses the m0emu on PATH, or M0EMU=/path/to/m0emu
#
# Needs socat and python3 (to pick free ports). Prints "ok" and exits 0 on success.
set -euo pipefail
m0emu=${M0EMU:-m0emu}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/m0emu-ci.XXXXXX")
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_event NAME [TEXT]: until the events file has a NAME event (whose line also holds
# TEXT), 30 s at most. docs/events.md lists the events and their fields.
wait_event() {
  local deadline=$((SECONDS + 30))
  until grep "\"ev\":\"$1\"" "$dir/events" 2>/dev/null | grep -qF -- "${2:-}"; do
    ((SECONDS < deadline)) || { echo "ci-smoke: no $1 event within 30 s" >&2; exit 1; }
    sleep 0.05
  done
}

server_port=$(free_port)
web_port=$(free_port)

# The server the module will send to.
bash "$here/tcp-server.sh" "$server_port" >"$dir/received" &
pids+=($!)

"$m0emu" --tty "$dir/tty" --state "$dir/state" --events "$dir/events" \
  --timing fast --web-port "$web_port" -q &
m0=$!
pids+=("$m0")
wait_event ready

# Configure: TCP client to our server, then restart to apply (settings apply after AT+Z).
bash "$here/at-session.sh" "$dir/tty" "AT+SOCK=TCPC,127.0.0.1,$server_port" AT+Z
wait_event net.connected "\"peer\":\"127.0.0.1:$server_port\""

# Transparent mode after the restart: bytes written to the tty go to the server.
printf 'hello from the UART\n' | socat -u - "FILE:$dir/tty,rawer,b115200"
deadline=$((SECONDS + 30))
until grep -q 'hello from the UART' "$dir/received"; do
  ((SECONDS < deadline)) || { echo "ci-smoke: the server received nothing" >&2; exit 1; }
  sleep 0.05
done

kill -TERM "$m0"
rc=0
wait "$m0" || rc=$?
[[ $rc -eq 0 ]] || { echo "ci-smoke: m0emu exited $rc after SIGTERM" >&2; exit 1; }
[[ ! -e $dir/tty ]] || { echo "ci-smoke: the tty symlink outlived m0emu" >&2; exit 1; }
echo ok
