#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/dns-filter.sh TOOLS [PAIRS] [BURST]: coi's DNS filter against the test DNS server asked
# directly, in a network namespace of its own (run it under `unshare -n`; bench/51-dns.sh does).
# The filter forwards to the same server, so the difference is what the filter adds: parsing,
# the policy, libunbound and, for allowed names, the firewall set. Prints one line per figure:
#   pair NAME a_median_us N b_median_us N ratio X lost N
#   burst NAME <dns-bench's line> upstream N hwm_kb BEFORE AFTER set N
set -eu
tools=$1 pairs=${2:-500} burst=${3:-5000}
tmp=$(mktemp -d /tmp/coi-bench-dns-XXXX)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
ip link set lo up
"$tools/dns-test-server" -l 127.0.0.99:53 -o "$tmp/up.log" -t 600 \
    'api.coit.test=100.128.0.10/300' '*.cdn.coit.test=100.128.0.11,100.128.0.12/300' \
    >"$tmp/up.out" 2>&1 &
pids+=($!)
"$tools/dns-filter" -q -l 127.0.0.1 -u 127.0.0.99 -c 127.0.0.2 -r 127.0.0.250 -n coi-bench-dns \
    -a api.coit.test:443 -a '*.cdn.coit.test' >"$tmp/filter.out" 2>&1 &
pids+=($!)
fpid=$!
for _ in $(seq 100); do
    grep -q '^ready' "$tmp/filter.out" && grep -q '^ready' "$tmp/up.out" && break
    sleep 0.05
done
port=$(awk '/^ready/{print $2}' "$tmp/filter.out")
[ -n "$port" ] || { echo "the filter did not start: $(cat "$tmp/filter.out")" >&2; exit 1; }
direct=127.0.0.99:53 filter=127.0.0.1:$port
bench() { "$tools/dns-bench" -b 127.0.0.2 "$@"; }
hwm() { awk '/^VmHWM/{print $2}' "/proc/$fpid/status"; }

# a is the server asked directly, b the filter in front of it (b/a: the filter's cost)
echo "pair allowed-new $(bench -s $direct -s "$filter" -n "$pairs" -q 'l%u.cdn.coit.test')"
echo "pair allowed-same $(bench -s $direct -s "$filter" -n "$pairs" -q api.coit.test)"
echo "pair refused $(bench -s $direct -s "$filter" -n "$pairs" -q 'r%u.unlisted.test')"

before=$(hwm)
line=$(bench -s "$filter" -n "$burst" -w 500 -q 'x%u.exfil.test' || true)
echo "burst unlisted $line upstream $(grep -c exfil "$tmp/up.log" || true) hwm_kb $before $(hwm)" \
    "set $(nft -j list table ip coi | jq '[.nftables[].set | select(.) | .elem[]?] | length')"
for round in 1 2; do
    before=$(hwm)
    line=$(bench -s "$filter" -n "$burst" -w 500 -q "b${round}x%u.cdn.coit.test" || true)
    echo "burst allowed-$round $line upstream $(grep -c "^A b${round}x" "$tmp/up.log" || true)" \
        "hwm_kb $before $(hwm)" \
        "set $(nft -j list table ip coi | jq '[.nftables[].set | select(.) | .elem[]?] | length')"
done
