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

testnet_up() {
    local dir=$1 secs=${2:-900} here
    here=$(dirname "${BASH_SOURCE[0]}")
    mkdir -p "$dir" || return 1
    ip netns del "$TESTNET_NS" 2>/dev/null
    ip link del "$TESTNET_NS-h" 2>/dev/null
    ip netns add "$TESTNET_NS" || return 1
    ip link add "$TESTNET_NS-h" type veth peer name "$TESTNET_NS-n" &&
        ip link set "$TESTNET_NS-n" netns "$TESTNET_NS" &&
        ip addr add "$TESTNET_HOST/24" dev "$TESTNET_NS-h" && ip link set "$TESTNET_NS-h" up &&
        ip -n "$TESTNET_NS" addr add "$TESTNET_ATK/24" dev "$TESTNET_NS-n" &&
        ip -n "$TESTNET_NS" link set "$TESTNET_NS-n" up && ip -n "$TESTNET_NS" link set lo up &&
        ip -n "$TESTNET_NS" route add default via "$TESTNET_HOST" || return 1
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
