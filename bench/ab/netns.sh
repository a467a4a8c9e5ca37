# Sourced by apply-fresh.sh and plan-live.sh: make_ns NS makes network namespace NS with a
# veth pair, v0 (the shaped side) and v1, both up, IPv6 off (no DAD or router solicitations).
make_ns() {
  ip netns add "$1"
  ip netns exec "$1" ip link set lo up
  ip netns exec "$1" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
  ip netns exec "$1" ip link add v0 type veth peer name v1
  ip netns exec "$1" ip link set v0 up
  ip netns exec "$1" ip link set v1 up
}
