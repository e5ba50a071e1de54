#!/bin/bash
# SPDX-License-Identifier: MIT
# Ten `coi run` started at once all come up, each with its own address decided before its start
# (issue 24), and leave nothing behind. Made to collide: the ten workspaces are chosen so that
# their containers' names start the address search at the same place (net_pick_address: the
# name's FNV-1a hash), and they belong to several coi homes and to two host users, whose claims
# on addresses (the files under ~/.coi/run) do not see each other's: only Incus sees every
# instance, and it refuses the start of a second NIC with an address already pinned on another
# (it used to fail the session: "IP address ... already defined on another NIC").
. "$(dirname "$0")/lib.sh"
t_require_daemon
command -v python3 >/dev/null || t_bail "python3 is needed to choose the workspaces"

tmp=$(mktemp -d /tmp/coi-t-many-XXXX)
chmod 755 "$tmp"
t_defer "rm -rf '$tmp'"
br=$(incus profile device get default eth0 network)
gw=$(incus network get "$br" ipv4.address)
net=${gw%.*}.

# ten workspace paths whose slot-1 containers start the search at the same address
mapfile -t wss < <(python3 - "$tmp" "${gw#*/}" <<'EOF'
import collections, hashlib, sys
base, prefix = sys.argv[1], int(sys.argv[2])
hosts = (1 << (32 - prefix)) - 2
def fnv(s):
    h = 2166136261
    for b in s.encode():
        h = ((h ^ b) * 16777619) & 0xffffffff
    return h
by = collections.defaultdict(list)
for i in range(50000):
    p = f"{base}/w{i}"
    start = fnv("coi-" + hashlib.sha256(p.encode()).hexdigest()[:8] + "-1") % hosts
    by[start].append(p)
    if len(by[start]) == 10:
        print("\n".join(by[start]))
        break
EOF
)
t_is "ten workspaces whose containers start at the same address" "${#wss[@]}" 10

# who runs each: 0-4 root with one coi home (its claims serialize them), 5-7 root each with a
# home of its own, 8-9 the ordinary user coitest (t_as_user: its own home)
names=()
for i in "${!wss[@]}"; do
    ws=${wss[$i]}
    mkdir -p "$ws" && git -C "$ws" init -q
    [ "$i" -lt 8 ] || chown -R 1234:1234 "$ws"
    names+=("$(t_session_name "$ws" 1)")
    t_defer "incus delete -f '${names[$i]}'"
done
cmd='ip -4 -o addr show dev eth0; sleep 3'
for i in "${!wss[@]}"; do
    ws=${wss[$i]}
    case $i in
    [0-4]) (cd "$ws" && COI_HOME=$tmp/home COI_CONFIG=/dev/null exec timeout 180 "$COI" run --image "$T_IMAGE" -- sh -c "$cmd") ;;
    [5-7]) (cd "$ws" && COI_HOME=$tmp/home$i COI_CONFIG=/dev/null exec timeout 180 "$COI" run --image "$T_IMAGE" -- sh -c "$cmd") ;;
    *) (cd "$ws" && t_as_user env COI_CONFIG=/dev/null timeout 180 "$COI" run --image "$T_IMAGE" -- sh -c "$cmd") ;;
    esac >"$tmp/out$i" 2>"$tmp/err$i" &
done
fails=0
for job in $(jobs -p); do wait "$job" || fails=$((fails + 1)); done
for i in "${!wss[@]}"; do
    e=$(grep -v '^Protected paths\|^coi: session' "$tmp/err$i")
    [ -z "$e" ] || t_diag "session $i: $e"
done
t_is "all ten sessions succeed" "$fails" 0
addrs=$(sed -n 's/.* inet \([0-9.]*\)\/.*/\1/p' "$tmp"/out* | sort)
t_is "each had an address at its first instruction" "$(printf '%s\n' "$addrs" | grep -c "^${net//./\\.}")" 10
t_is "ten different ones (they ran at the same time)" "$(printf '%s\n' "$addrs" | sort -u | grep -c .)" 10

# ---- nothing left: containers, rules, reservations, networkd files ----
for i in "${!wss[@]}"; do
    t_wait_ws_clear "${wss[$i]}" || t_diag "session $i: its container is still there"
done
left=$(incus list -c n -f csv | grep -cFf <(printf '%s\n' "${names[@]}") || true)
t_is "no container left" "$left" 0
t_is "no rule left" "$(nft list ruleset 2>/dev/null | grep -cFf <(printf 'coi:%s"\n' "${names[@]}") || true)" 0
t_is "no reservation left" "$(incus network list-leases "$br" -f csv | grep -cFf <(printf '%s,\n' "${names[@]}") || true)" 0
t_is "no networkd file left" "$(find "$tmp" /tmp/coi-t-home-1234/.coi/run -name 'coi-*.network' 2>/dev/null | grep -c . || true)" 0

# ---- the address a session picks is leased by the bridge's DHCP server to another MAC (an old
# lease of a deleted container, a foreign client: Incus lists neither), and the guest runs a DHCP
# client (the tiny image does): the server gives it another address, which the NIC's filtering
# and coi's rules do not let out; the guest's eth0 gets the pinned address back before the
# command starts (its traffic used to vanish: e2e 84 failed now and then) ----
ws=$tmp/leased
mkdir -p "$ws" && git -C "$ws" init -q
name=$(t_session_name "$ws" 1)
t_defer "incus delete -f '$name'"
addr=$(python3 - "$name" "$gw" <<'EOF2'
import ipaddress, sys
h = 2166136261
for b in sys.argv[1].encode():
    h = ((h ^ b) * 16777619) & 0xffffffff
n = ipaddress.ip_interface(sys.argv[2])
gw, hosts = int(n.ip), n.network.num_addresses - 2
base = int(n.network.network_address) + 1
for i in range(hosts):
    a = base + (h % hosts + i) % hosts
    if a != gw:
        print(ipaddress.ip_address(a))
        break
EOF2
)
NS=coit-lease
ip netns add $NS || t_bail "cannot create $NS (left by an earlier run? ip netns del $NS)"
t_defer "ip netns del $NS; ip link del $NS-h 2>/dev/null"
{ ip link add $NS-h type veth peer name $NS-n && ip link set $NS-n netns $NS &&
    ip link set $NS-h master "$br" && ip link set $NS-h up && ip -n $NS link set $NS-n up; } ||
    t_bail "cannot put $NS on the bridge"
lease() { ip netns exec $NS timeout 20 busybox udhcpc -i $NS-n -r "$addr" -q -n -t 5 -T 1 -s /bin/true "$@" >/dev/null 2>&1; }
leases_file=$INCUS_DIR/networks/$br/dnsmasq.leases
lease
t_ok "a foreign client holds a DHCP lease of the address the session will pick ($addr)" \
    grep -q " $addr " "$leases_file"
t_fails "Incus does not list it" sh -c "incus network list-leases '$br' -f csv | grep -q ',$addr,'"
out=$(cd "$ws" && COI_HOME=$tmp/home COI_CONFIG=/dev/null "$COI" run --image "$T_IMAGE" -- \
    sh -c 'ip -4 addr show dev eth0; nslookup coit-lease.invalid 2>&1' 2>&1)
t_like "the guest has the pinned address at the first instruction" "$out" "inet $addr/"
t_is "and no other" "$(printf '%s\n' "$out" | grep -c 'inet ')" 1
t_like "its first packet gets through (its first DNS query is answered)" "$out" "NXDOMAIN"
t_ok "the container is gone" t_wait_ws_clear "$ws"
lease -R # the foreign client gives the lease back

# ---- another session's rules on the address: left alone, this one moves ----
# A session of another user that picked the same address at the same moment has its rules keyed
# on it before its container exists. A session applying its own rules there used to remove them
# as a dead session's (as for a leased address), and left that container with no rules at all
# (the base chains accept): whichever of the two started, one ran unfiltered.
ws=${wss[0]}
first=$(cd "$ws" && COI_HOME=$tmp/home COI_CONFIG=/dev/null timeout 120 "$COI" run --image "$T_IMAGE" -- ip -4 -o addr show dev eth0 2>/dev/null |
    sed -n 's/.* inet \([0-9.]*\)\/.*/\1/p')
t_like "the slot's address, alone" "$first" "^${net//./\\.}"
t_wait_ws_clear "$ws" || t_diag "its container is still there"
owner=coi-0badcafe-1
unown() {
    nft -a list chain ip coi forward 2>/dev/null | sed -n "s/.*\"coi:$owner\".*# handle \([0-9]*\)$/\1/p" |
        while read -r h; do nft delete rule ip coi forward handle "$h"; done
    nft flush chain ip coi "ct-$owner" 2>/dev/null
    nft delete chain ip coi "ct-$owner" 2>/dev/null
}
t_defer unown
nft add chain ip coi "ct-$owner"
nft add rule ip coi "ct-$owner" drop comment "\"coi:$owner\""
nft add rule ip coi forward ip saddr "$first" jump "ct-$owner" comment "\"coi:$owner\""
second=$(cd "$ws" && COI_HOME=$tmp/home COI_CONFIG=/dev/null timeout 120 "$COI" run --image "$T_IMAGE" -- ip -4 -o addr show dev eth0 2>"$tmp/err-own" |
    sed -n 's/.* inet \([0-9.]*\)\/.*/\1/p')
t_like "with another's rules on it: the session still starts" "$second" "^${net//./\\.}"
t_ok "... at another address" test "$second" != "$first"
t_is "... and the other's rules are still there" \
    "$(nft list chain ip coi forward 2>/dev/null | grep -c "ip saddr $first jump ct-$owner")" 1
t_wait_ws_clear "$ws" || t_diag "its container is still there"
unown
t_done
