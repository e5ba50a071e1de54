#!/bin/bash
# SPDX-License-Identifier: MIT
# The command starts with the network ready, in every mode: its very first instruction connects
# to a host and gets the page (open mode once started it before the container had an address:
# "Network is unreachable"), by address and by name. With the real image, whose DHCP client is
# the one users have. The host is a network namespace on this machine, at an ordinary unicast
# address (public to coi's policy).
. "$(dirname "$0")/lib.sh"
t_require_daemon
incus image info coi-default >/dev/null 2>&1 || t_bail "coi-default missing (run: tests/e2e/setup)"
command -v python3 >/dev/null || t_bail "python3 is needed for the test host"

HOST=100.128.2.2 HOST_NAME=coit-rdy.test NS=coit-rdy
tmp=$(mktemp -d /tmp/coi-t-rdy-XXXX)
t_defer "rm -rf '$tmp'"
mkdir -p "$tmp/ws" "$tmp/www" && git -C "$tmp/ws" init -q
echo coit-rdy >"$tmp/www/index.html"
cd "$tmp/ws" || t_bail "no workspace"

ip netns add "$NS" || t_bail "cannot create $NS (left by an earlier run? ip netns del $NS)"
t_defer "ip netns del $NS; ip link del $NS-h"
{ ip link add "$NS-h" type veth peer name "$NS-n" && ip link set "$NS-n" netns "$NS" &&
    ip addr add 100.128.2.1/24 dev "$NS-h" && ip link set "$NS-h" up &&
    ip -n "$NS" addr add "$HOST/24" dev "$NS-n" && ip -n "$NS" link set "$NS-n" up &&
    ip -n "$NS" link set lo up && ip -n "$NS" route add default via 100.128.2.1; } ||
    t_bail "cannot set up $NS"
timeout 300 ip netns exec "$NS" python3 -m http.server 8080 --bind "$HOST" \
    --directory "$tmp/www" >/dev/null 2>&1 &
t_defer "kill $! 2>/dev/null; sleep 0.2"
t_defer "grep -v ' # coi-t-rdy\$' /etc/hosts > '$tmp/hosts' && cat '$tmp/hosts' > /etc/hosts"
echo "$HOST $HOST_NAME # coi-t-rdy" >>/etc/hosts
for _ in $(seq 50); do curl -sm 1 "http://$HOST:8080/" >/dev/null 2>&1 && break; sleep 0.1; done
t_is "the test host answers from the host" "$(curl -sm 2 "http://$HOST:8080/")" coit-rdy

first() { # MODE EXTRA_TOML URL: the command's first instruction fetches URL
    printf '[network]\nmode = "%s"\n%s\n' "$1" "$2" >"$tmp/$1.toml"
    out=$(COI_CONFIG="$tmp/$1.toml" "$COI" run --image coi-default -- curl -sS -m 5 "$3" 2>&1)
    t_is "$1 mode: the first connection gets the page" "$(printf '%s' "$out" | tail -1)" coit-rdy
    t_ok "$1 mode: the container is gone" t_wait_ws_clear "$tmp/ws"
}
first open "" "http://$HOST:8080/"
# by name: the first lookup works too (the guest's resolver is set before the command, not
# when systemd-resolved has started: the DNS filter answers from the host's /etc/hosts)
first open "" "http://$HOST_NAME:8080/"
first restricted "" "http://$HOST_NAME:8080/"
first allowlist "allowed_domains = [\"$HOST_NAME\"]" "http://$HOST_NAME:8080/"
t_done
