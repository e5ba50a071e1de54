#!/bin/bash
# SPDX-License-Identifier: MIT
# coi's DNS filter (egress/dnsserver.c) as a process, between network namespaces of its own: the
# test runs in one (the host), a second plays the container (behind a veth, routed through the
# host, where the filter's nft rules for it are applied: the redirect of its DNS, the address
# sets), a third the internet (hosts answering TCP). The test DNS server stands in for the
# internet's DNS on the host's loopback; the filter forwards to it. Shows: an allowed name and a
# wildcard match are answered and their addresses reachable on their ports only after the
# answer; an unlisted name is NXDOMAIN, never reaches the upstream server, and its address stays
# unreachable; DNS sent to any server is the filter's (the redirect); AAAA is empty; TCP works;
# another client gets nothing; a burst of allowed and of unlisted names loses nothing and lets
# nothing through; the filter gone, nothing resolves. Needs root (unshare -n); skips otherwise.
# Nothing leaves the namespaces.
set -u
if [ "${COI_T_IN_NETNS:-}" != 1 ]; then
    if [ "$(id -u)" != 0 ] || ! unshare -n true 2>/dev/null; then
        echo "1..0 # SKIP needs root and unshare -n"
        exit 0
    fi
    COI_T_IN_NETNS=1 exec unshare -n "$0" "$@"
fi
tools=${COI_BUILD:-build/dev}/tools
n=0 failed=0
ok() { # DESC CONDITION-EXIT-STATUS
    n=$((n + 1))
    if [ "$2" = 0 ]; then echo "ok $n - $1"; else
        echo "not ok $n - $1"
        failed=1
    fi
}
is() { # DESC GOT WANT
    n=$((n + 1))
    if [ "$2" = "$3" ]; then echo "ok $n - $1"; else
        echo "not ok $n - $1"
        echo "#   got: '$2'"
        echo "#  want: '$3'"
        failed=1
    fi
}
tmp=$(mktemp -d /tmp/coi-t-dns-filter-XXXX)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT

# two more namespaces, each held by a sleeping process (nsenter -t PID -n runs in it)
in_ns() { local p=$1; shift; nsenter -t "$p" -n "$@"; }
ip link set lo up
echo 1 >/proc/sys/net/ipv4/ip_forward
unshare -n sleep 120 >/dev/null 2>&1 &
CT=$!
pids+=($!)
unshare -n sleep 120 >/dev/null 2>&1 &
NET=$!
pids+=($!)
for _ in $(seq 50); do
    [ "$(readlink /proc/$CT/ns/net)" != "$(readlink /proc/self/ns/net)" ] &&
        [ "$(readlink /proc/$NET/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break
    sleep 0.02
done
# the container: 10.99.0.2 behind 10.99.0.1 (the "bridge", where the filter listens)
ip link add dnsf-c type veth peer name dnsf-c1 && ip link set dnsf-c1 netns "$CT" &&
    ip addr add 10.99.0.1/24 dev dnsf-c && ip link set dnsf-c up &&
    in_ns "$CT" ip link set lo up && in_ns "$CT" ip addr add 10.99.0.2/24 dev dnsf-c1 &&
    in_ns "$CT" ip link set dnsf-c1 up && in_ns "$CT" ip route add default via 10.99.0.1 ||
    { echo "Bail out! cannot set the container's namespace up"; exit 1; }
# the internet: hosts answering TCP on 80 and 443 (a connection accepted and closed)
ip link add dnsf-n type veth peer name dnsf-n1 && ip link set dnsf-n1 netns "$NET" &&
    ip addr add 100.128.0.1/24 dev dnsf-n && ip link set dnsf-n up &&
    in_ns "$NET" ip link set lo up && in_ns "$NET" ip link set dnsf-n1 up &&
    for a in 100.128.0.10 100.128.0.11 100.128.0.66 100.128.0.99; do
        in_ns "$NET" ip addr add $a/24 dev dnsf-n1 || exit 1
    done && in_ns "$NET" ip route add default via 100.128.0.1 ||
    { echo "Bail out! cannot set the internet's namespace up"; exit 1; }
cat >"$tmp/hosts.py" <<'X'
import socket, sys, threading
def serve(a, p):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a, p)); s.listen(16)
    while True:
        c, _ = s.accept(); c.close()
for a in sys.argv[1:]:
    for p in (80, 443):
        threading.Thread(target=serve, args=(a, p), daemon=True).start()
threading.Event().wait(120)
X
timeout 120 nsenter -t "$NET" -n python3 "$tmp/hosts.py" 100.128.0.10 100.128.0.11 100.128.0.66 &
pids+=($!)
# connect ADDR PORT: "yes" when a TCP connection from the container succeeds
connect() {
    in_ns "$CT" python3 - "$@" <<'X'
import socket, sys
s = socket.socket(); s.settimeout(1)
try:
    s.connect((sys.argv[1], int(sys.argv[2]))); print("yes")
except OSError:
    print("no")
X
}

timeout 120 "$tools/dns-test-server" -l 127.0.0.99:53 -o "$tmp/upstream.log" -t 120 \
    'api.coit.test=100.128.0.10/300' '*.cdn.coit.test=100.128.0.11/0' 'www.coit.test=cname:edge.coit.test' \
    'edge.coit.test=100.128.0.10' 'exfil.test=100.128.0.66' '*.exfil.test=100.128.0.66' \
    >"$tmp/upstream.out" 2>&1 &
pids+=($!)
timeout 120 "$tools/dns-filter" -l 10.99.0.1 -u 127.0.0.99 -c 10.99.0.2 -n coi-t-dnsf -T 1 \
    -a api.coit.test:443 -a '*.cdn.coit.test' -a www.coit.test:80 -a 203.0.113.0/24 \
    >"$tmp/filter.out" 2>&1 &
pids+=($!)
fpid=$!
for _ in $(seq 50); do grep -q '^ready' "$tmp/filter.out" "$tmp/upstream.out" 2>/dev/null &&
    [ "$(grep -c '^ready' "$tmp/filter.out" "$tmp/upstream.out" | grep -c ':1')" = 2 ] && break; sleep 0.1; done
port=$(awk '/^ready/{print $2}' "$tmp/filter.out")
ok "the filter listens" "$([ -n "$port" ]; echo $?)"
# bench ARGS: dns-bench in the container, asking the filter where it listens
bench() { in_ns "$CT" "$tools/dns-bench" -s "10.99.0.1:$port" "$@"; }
q() { bench -r 2000 -v "$@" 2>&1 | head -n1; }

is "unresolved yet: the allowed name's address is refused" "$(connect 100.128.0.10 443)" no
is "allowed name: answered" "$(q -q api.coit.test)" "api.coit.test. 0 100.128.0.10"
is "allowed name: reachable on its port after the answer" "$(connect 100.128.0.10 443)" yes
is "allowed name: not on another port" "$(connect 100.128.0.10 80)" no
ok "allowed name: in its set for the TTL and the grace" \
    "$(nft list set ip coi d0-coi-t-dnsf | grep -q '100.128.0.10 timeout 5m10s'; echo $?)"
is "unresolved yet: the wildcard's address is refused" "$(connect 100.128.0.11 80)" no
is "wildcard: a name below it is answered" "$(q -q A.b.Cdn.coit.test)" "A.b.Cdn.coit.test. 0 100.128.0.11"
is "wildcard: reachable (no ports: every port)" "$(connect 100.128.0.11 80)" yes
ok "wildcard: a TTL below dns_min_ttl is raised to it, plus the grace" \
    "$(nft list set ip coi d1-coi-t-dnsf | grep -q '100.128.0.11 timeout 11s'; echo $?)"
is "wildcard: not the name itself" "$(q -q cdn.coit.test)" "cdn.coit.test. 3 "
is "a CNAME chain: the target's address enters the set of the name asked" "$(q -q www.coit.test)" \
    "www.coit.test. 0 100.128.0.10"
is "... and is reachable on that name's port" "$(connect 100.128.0.10 80)" yes
is "unlisted name: NXDOMAIN" "$(q -q exfil.test)" "exfil.test. 3 "
is "unlisted name: its address is refused, dialled directly" "$(connect 100.128.0.66 443)" no
is "AAAA of an allowed name: no records" "$(q -q api.coit.test -y AAAA)" "api.coit.test. 0 "
is "TXT of an unlisted name: NXDOMAIN" "$(q -q secret.exfil.test -y TXT)" "secret.exfil.test. 3 "
is "over TCP too" "$(bench -T -v -q api.coit.test | head -n1)" "api.coit.test. 0 100.128.0.10"
is "DNS sent to another server is the filter's (redirected)" \
    "$(in_ns "$CT" "$tools/dns-bench" -s 100.128.0.99 -r 2000 -v -q api.coit.test | head -n1) $(in_ns "$CT" "$tools/dns-bench" -s 100.128.0.99 -r 2000 -v -q exfil.test | head -n1)" \
    "api.coit.test. 0 100.128.0.10 exfil.test. 3 "
is "... over TCP too" "$(in_ns "$CT" "$tools/dns-bench" -T -s 100.128.0.99 -v -q api.coit.test | head -n1)" \
    "api.coit.test. 0 100.128.0.10"
ok "another client (the host) gets no answer" \
    "$("$tools/dns-bench" -s "10.99.0.1:$port" -r 500 -q api.coit.test >/dev/null; [ $? = 1 ]; echo $?)"

out=$(bench -n 2000 -w 200 -q 'r%u.exfil.test')
is "a burst of 2000 unlisted names: every one answered NXDOMAIN" "$out" \
    "$(sed -E 's/ ms [0-9]+$//' <<<"sent 2000 answered 2000 lost 0 noerror 0 nxdomain 2000 servfail 0 other 0 addrs 0 ms 0")$(grep -oE ' ms [0-9]+$' <<<"$out")"
out=$(bench -n 2000 -w 200 -q 'b%u.cdn.coit.test')
ok "a burst of 2000 allowed names: every one answered with its address" \
    "$(grep -q '^sent 2000 answered 2000 lost 0 noerror 2000 nxdomain 0 servfail 0 other 0 addrs 2000 ' <<<"$out"; echo $?)"
is "the upstream server saw none of the unlisted names" "$(grep -c exfil "$tmp/upstream.log")" 0
# (libunbound may ask again for a name under load: each name counts once)
is "... and every allowed one" \
    "$(grep '^A b[0-9]*\.cdn\.coit\.test udp$' "$tmp/upstream.log" | sort -u | wc -l)" 2000
is "... and no AAAA query" "$(grep -c '^AAAA' "$tmp/upstream.log")" 0
is "the sets hold the allowed addresses only" \
    "$(nft -j list table ip coi | jq -r '.nftables[].set | select(.) | .elem[]?.elem.val' | sort -u | tr '\n' ' ')" \
    "100.128.0.10 100.128.0.11 "
ok "every query was recorded" "$([ "$(grep -c '^refused 3 A r[0-9]*\.exfil\.test - 0$' "$tmp/filter.out")" = 2000 ]; echo $?)"

kill "$fpid"
wait "$fpid" 2>/dev/null
ok "the filter gone: nothing resolves" \
    "$(bench -r 500 -q api.coit.test >/dev/null; [ $? = 1 ]; echo $?)"
echo "1..$n"
exit $failed
