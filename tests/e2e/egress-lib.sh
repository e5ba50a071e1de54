# SPDX-License-Identifier: MIT
# egress-lib.sh: a fake HTTPS upstream for the credential proxy's tests (70-secrets.t,
# 71-secrets-agent.t), sourced after lib.sh. egress_upstream NS NET NAME... makes a test CA and a
# certificate for the NAMEs, a network namespace NS wired to the host by a veth pair
# (NET.1 on the host, NET.2 inside), and tests/tools/fake-upstream listening on NET.2:443 with
# its request log in $tmp/up.log; it sets UP_ADDR and exports COI_EGRESS_CAFILE (the test CA,
# trusted by the host side only) and COI_EGRESS_CONNECT_TO (every NAME to the upstream). Needs
# $tmp; everything is undone at exit.
egress_upstream() {
    local ns=$1 net=$2 first=$3 san="" routes="" n
    shift 2
    UP_ADDR=$net.2
    for n in "$@"; do
        san+="${san:+,}DNS:$n"
        routes+="${routes:+,}$n=$UP_ADDR:443"
    done
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/ca.key" \
        -out "$tmp/ca.pem" -days 2 -subj "/CN=coi e2e upstream CA" 2>/dev/null || t_bail "openssl"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/up.key" \
        -out "$tmp/up.csr" -subj "/CN=$first" 2>/dev/null
    printf 'subjectAltName=%s\n' "$san" >"$tmp/ext"
    openssl x509 -req -in "$tmp/up.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -CAcreateserial \
        -out "$tmp/up.pem" -days 2 -extfile "$tmp/ext" 2>/dev/null || t_bail "openssl x509"
    ip netns add "$ns" || t_bail "cannot create the upstream's namespace"
    t_defer "ip netns del $ns; ip link del $ns-h 2>/dev/null"
    { ip link add "$ns-h" type veth peer name "$ns-n" && ip link set "$ns-n" netns "$ns" &&
        ip addr add "$net.1/24" dev "$ns-h" && ip link set "$ns-h" up &&
        ip netns exec "$ns" ip addr add "$UP_ADDR/24" dev "$ns-n" &&
        ip netns exec "$ns" ip link set "$ns-n" up && ip netns exec "$ns" ip link set lo up; } ||
        t_bail "cannot wire the upstream's namespace"
    # (9>&-: the e2e lock's fd stays out of the server)
    ip netns exec "$ns" "$COI_BUILD/tools/fake-upstream" --cert "$tmp/up.pem" --key "$tmp/up.key" \
        --listen "$UP_ADDR:443" --log "$tmp/up.log" --lifetime 400 >"$tmp/up.out" 2>&1 9>&- &
    t_defer "kill $! 2>/dev/null; sleep 0.2"
    for _ in $(seq 50); do grep -q '^port' "$tmp/up.out" && break; sleep 0.1; done
    grep -q '^port 443' "$tmp/up.out" || t_bail "the fake upstream did not start: $(cat "$tmp/up.out")"
    export COI_EGRESS_CAFILE=$tmp/ca.pem COI_EGRESS_CONNECT_TO=$routes
}
