# netns.sh: a private LAN for scenarios that need a real one (sourced after lib.sh, bash).
#
# Broadcast discovery and --net host cannot be tested on 127.0.0.1 alone (a socket bound to
# 127.0.0.1 never receives 255.255.255.255), so netns_up builds a two-host LAN out of two
# network namespaces joined by a veth pair, created directly inside them:
#
#   namespace $NS_MOD: the module     $NS_VM  192.168.0.7/24    (WANN's static address)
#   namespace $NS_HOST: the host tool $NS_VH  192.168.0.100/24, 192.168.0.201/24 (the
#                                              module's factory peer, SOCK=TCPC,...201)
#
# Both have lo up and a default route on their veth, so 255.255.255.255 goes out there.
# Nothing is connected to the machine's own namespace: no packet can leave the two (the
# veth pair is never in it, not even while being created). Names carry the scenario's PID,
# so runs at once never collide; the EXIT trap deletes both namespaces (which destroys the
# pair) after killing what ran in them. Where namespaces cannot be made (not root, no
# CAP_SYS_ADMIN, no iproute2) the scenario fails, saying so: it never skips.
#
#   in_mod CMD...   run CMD in the module's namespace
#   in_host CMD...  run CMD in the host tool's namespace

NS_MOD=m0emu-mod-$$
NS_HOST=m0emu-host-$$
NS_VM=m0vm$$ # interface names: at most 15 bytes
NS_VH=m0vh$$
NS_MADE=()

netns_down() {
  local ns
  for ns in "${NS_MADE[@]}"; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
    ip netns delete "$ns" 2>/dev/null || log "netns: could not delete $ns"
  done
  NS_MADE=()
}

# After lib.sh's traps: background peers, the emulator (cleanup), then the namespaces.
trap 'm0__rc=$?; set +e; bg_kill_all; (exit $m0__rc); cleanup; netns_down' EXIT

in_mod() { ip netns exec "$NS_MOD" "$@"; }
in_host() { ip netns exec "$NS_HOST" "$@"; }

netns_up() {
  command -v ip >/dev/null 2>&1 ||
    fail "netns: the 'ip' command (Debian package iproute2) is missing: run scripts/setup"
  ip netns add "$NS_MOD" 2>"$T/netns.err" ||
    fail "netns: cannot create network namespaces (this scenario needs root with CAP_SYS_ADMIN): $(cat "$T/netns.err")"
  NS_MADE+=("$NS_MOD")
  ip netns add "$NS_HOST" || fail "netns: cannot create $NS_HOST"
  NS_MADE+=("$NS_HOST")
  ip -n "$NS_MOD" link add "$NS_VM" type veth peer name "$NS_VH" netns "$NS_HOST" ||
    fail "netns: cannot create the veth pair (kernel without veth?)"
  ip -n "$NS_MOD" link set lo up
  ip -n "$NS_HOST" link set lo up
  ip -n "$NS_MOD" addr add 192.168.0.7/24 dev "$NS_VM"
  ip -n "$NS_HOST" addr add 192.168.0.100/24 dev "$NS_VH"
  ip -n "$NS_HOST" addr add 192.168.0.201/24 dev "$NS_VH"
  ip -n "$NS_MOD" link set "$NS_VM" up
  ip -n "$NS_HOST" link set "$NS_VH" up
  ip -n "$NS_MOD" route add default dev "$NS_VM"
  ip -n "$NS_HOST" route add default dev "$NS_VH"
  # The pair lives only in the two namespaces.
  if ip link show "$NS_VM" >/dev/null 2>&1 || ip link show "$NS_VH" >/dev/null 2>&1; then
    fail "netns: a veth end is in the machine's own namespace"
  fi
  # Both ends carry traffic once the pair is up on both sides (IPv4 has no DAD to wait for).
  local deadline=$((SECONDS + M0_TIMEOUT))
  until ip -n "$NS_MOD" link show "$NS_VM" | grep -q LOWER_UP &&
    ip -n "$NS_HOST" link show "$NS_VH" | grep -q LOWER_UP; do
    ((SECONDS < deadline)) || fail "netns: the veth pair did not come up"
    sleep 0.05
  done
}
