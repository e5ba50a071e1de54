# SPDX-License-Identifier: MIT
# testnet.sh: the hosts the attack corpus reaches, on this machine only. Sourced; provides
#   testnet_up DIR [SECONDS]  a network namespace coit-atk behind a veth routed through the host
#                             (host 198.18.23.1, attacker 198.18.23.2: an address of the
#                             benchmarking range, which coi's restricted policy lets through as
#                             "the internet"), with sink.py listening there for SECONDS (default
#                             900); its log is DIR/sink.log
#   testnet_down              stops the sink (by pid) and removes the namespace and its veth
# Nothing here sends a packet anywhere but that namespace.
TESTNET_NS=coit-atk
TESTNET_HOST=198.18.23.1
TESTNET_ATK=198.18.23.2
TESTNET_PID=

# netns_host NS HOST_ADDR NS_ADDR: a namespace behind a veth (NS-h on the host, NS-n inside),
# /24 addresses, its default route through the host; one of an earlier run is replaced
netns_host() {
    ip netns del "$1" 2>/dev/null
    ip link del "$1-h" 2>/dev/null
    ip netns add "$1" || return 1
    ip link add "$1-h" type veth peer name "$1-n" && ip link set "$1-n" netns "$1" &&
        ip addr add "$2/24" dev "$1-h" && ip link set "$1-h" up &&
        ip -n "$1" addr add "$3/24" dev "$1-n" && ip -n "$1" link set "$1-n" up &&
        ip -n "$1" link set lo up && ip -n "$1" route add default via "$2"
}

testnet_up() {
    local dir=$1 secs=${2:-900} here
    here=$(dirname "${BASH_SOURCE[0]}")
    mkdir -p "$dir" || return 1
    netns_host "$TESTNET_NS" "$TESTNET_HOST" "$TESTNET_ATK" || return 1
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=corpus.test \
        -keyout "$dir/key.pem" -out "$dir/cert.pem" >/dev/null 2>&1 || return 1
    : >"$dir/sink.log"
    timeout "$secs" ip netns exec "$TESTNET_NS" python3 "$here/sink.py" "$TESTNET_ATK" \
        "$dir/sink.log" "$dir" </dev/null >>"$dir/sink.err" 2>&1 9>&- &
    TESTNET_PID=$!
    for _ in $(seq 50); do grep -q ready "$dir/sink.log" && return 0; sleep 0.1; done
    return 1
}

testnet_down() {
    if [ -n "$TESTNET_PID" ]; then
        kill "$TESTNET_PID" 2>/dev/null
        wait "$TESTNET_PID" 2>/dev/null
        TESTNET_PID=
    fi
    ip netns del "$TESTNET_NS" 2>/dev/null
    ip link del "$TESTNET_NS-h" 2>/dev/null
    return 0
}
