#!/bin/bash
# SPDX-License-Identifier: MIT
# The network policy end to end, against hosts this test creates on this machine: a "LAN" host
# (RFC 1918), a "public" one and a host in 100.64.0.0/10 (carrier-grade NAT, a tailnet) in
# network namespaces routed through the host, a metadata host (169.254.169.254), the bridge
# address, a listener on the host's own (non-private) address, and an IPv6 host on the test
# bridge. The public host stands in for the internet: 100.128.0.2 is an ordinary unicast
# address, just past the end of 100.64.0.0/10 and in no special-purpose range (restricted mode
# refuses those, the documentation and benchmarking ranges included, so none of them can play
# the internet), and it exists only in a namespace on this machine: the veth's connected /24 is
# the route to it, and every fake host must answer from the host before any probe counts.
# Every "refused" has a twin "reached" on the same host and port in another mode or session, so a
# refusal never comes from a host that is simply down; refusals must be fast (a reject, not a
# timeout) except IPv6's, which the bridge drops. Nothing outside this machine is contacted.
# Keys whose effect this file shows (src/config/keys.c names it as their proof): network.mode,
# network.block_metadata_endpoint, network.allow_local_network_access, network.allowed_domains,
# network.allowed_ports, network.allowed_networks, network.block_private_networks, network.hosts.
. "$(dirname "$0")/lib.sh"
t_require_daemon
command -v python3 curl >/dev/null || t_bail "python3 and curl are needed for the fake hosts"
# The fake hosts have fixed names and addresses: one run at a time (background jobs close fd 9).
exec 9>/run/lock/coi-t-net.lock
flock -w 200 9 || t_bail "another run of the network test holds /run/lock/coi-t-net.lock"

BR=coitestbr0
BR_ADDR=$(incus network get "$BR" ipv4.address | cut -d/ -f1)
[ -n "$BR_ADDR" ] || t_bail "the test bridge $BR has no IPv4 address"
LAN=192.168.250.2 PUB=100.128.0.2 MD=169.254.169.254 V6=fd00:c01:7e57::1 V6_MINE=fd00:c01:7e57::2
SELF=100.128.0.1 CG=100.64.252.2 # the host's own address (the public host's veth), a tailnet host
PUB_NAME=coit-pub.test

tmp=$(mktemp -d /tmp/coi-t-net-XXXX)
t_defer "rm -rf '$tmp'"
ws=$tmp/ws
mkdir -p "$ws" && git -C "$ws" init -q
cd "$ws" || t_bail "no workspace"

# ---- the fake hosts ----

# srv.py ADDR TAG PORT... [--dns]: answers "coit-TAG-PORT" over HTTP on each port, and with --dns
# any DNS query with A 198.19.0.7 on udp ADDR:53. Its life is bounded by the timeout around it.
cat >"$tmp/srv.py" <<'X'
import http.server, socket, socketserver, sys, threading
addr, tag, args = sys.argv[1], sys.argv[2], sys.argv[3:]
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("coit-%s-%d\n" % (tag, self.server.server_address[1])).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    address_family = fam
    daemon_threads = True
    def server_bind(self):  # HTTPServer's would look its own name up in DNS
        socketserver.TCPServer.server_bind(self)
for p in [int(a) for a in args if a != "--dns"]:
    threading.Thread(target=S((addr, p), H).serve_forever, daemon=True).start()
if "--dns" in args:
    u = socket.socket(fam, socket.SOCK_DGRAM)
    u.bind((addr, 53))
    while True:
        q, peer = u.recvfrom(512)
        try:  # any datagram at all: never let one end the server
            i = 12
            while q[i]:
                i += q[i] + 1
            u.sendto(q[:2] + b"\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00" + q[12:i + 5]
                     + b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xc6\x13\x00\x07", peer)
        except Exception:
            pass
threading.Event().wait()
X
servers=()
serve() { # NETNS|- ADDR TAG ARGS...: a server, stopped (by pid) before the namespaces go
    local ns=$1
    shift
    if [ "$ns" = - ]; then
        timeout 240 python3 "$tmp/srv.py" "$@" >>"$tmp/srv.log" 2>&1 9>&- &
    else
        timeout 240 ip netns exec "$ns" python3 "$tmp/srv.py" "$@" >>"$tmp/srv.log" 2>&1 9>&- &
    fi
    servers+=($!)
    t_defer "kill $! 2>/dev/null; sleep 0.2"
}
fake_host() { # NAME HOST_ADDR NS_ADDR: a namespace behind a veth, routed through the host
    local ns=coit-$1
    ip netns add "$ns" || return 1 # (never delete a namespace this run did not make)
    t_defer "ip netns del $ns; ip link del $ns-h"
    ip link add "$ns-h" type veth peer name "$ns-n" &&
        ip link set "$ns-n" netns "$ns" &&
        ip addr add "$2/24" dev "$ns-h" && ip link set "$ns-h" up &&
        ip -n "$ns" addr add "$3/24" dev "$ns-n" && ip -n "$ns" link set "$ns-n" up &&
        ip -n "$ns" link set lo up && ip -n "$ns" route add default via "$2"
}
fake_host lan 192.168.250.1 "$LAN" || t_bail "cannot create the LAN namespace"
fake_host pub "$SELF" "$PUB" || t_bail "cannot create the public namespace"
fake_host cg 100.64.252.1 "$CG" || t_bail "cannot create the 100.64.0.0/10 namespace"
fake_host md 169.254.169.1 "$MD" || t_bail "cannot create the metadata namespace"
# The IPv6 host sits on the test bridge itself (a veth port of it), so only L2 is between them.
ip netns add coit-v6 || t_bail "cannot create the IPv6 host"
t_defer "ip netns del coit-v6; ip link del coit-v6-h"
{ ip link add coit-v6-h type veth peer name coit-v6-n &&
    ip link set coit-v6-n netns coit-v6 && ip link set coit-v6-h master "$BR" up &&
    ip -n coit-v6 link set lo up && ip -n coit-v6 link set coit-v6-n up &&
    ip -n coit-v6 addr add "$V6/64" dev coit-v6-n nodad; } || t_bail "cannot create the IPv6 host"
serve coit-lan "$LAN" lan 8080 8081 --dns
serve coit-pub "$PUB" pub 8080 8081 --dns
serve coit-md "$MD" md 80
serve coit-v6 "$V6" v6 8080
serve - "$BR_ADDR" br 8083
serve coit-cg "$CG" cg 8080
serve - "$SELF" self 8080
# The allowlist name, in the host's /etc/hosts (coi's DNS filter answers it from there), restored
# at exit.
# (rewritten in place, not replaced: /etc/hosts may be a mount point)
t_defer "grep -v ' # coi-t-net\$' /etc/hosts > '$tmp/hosts' && cat '$tmp/hosts' > /etc/hosts"
echo "$PUB $PUB_NAME # coi-t-net" >>/etc/hosts

# Every fake host answers from the host before anything is concluded from a refusal.
probe_host() { curl -gsm 2 "http://$1:$2/" 2>/dev/null; }
up=0
for _ in $(seq 50); do
    got="$(probe_host "$LAN" 8081) $(probe_host "$PUB" 8081) $(probe_host "$MD" 80)"
    got+=" $(ip netns exec coit-v6 curl -gsm 2 "http://[$V6]:8080/") $(probe_host "$BR_ADDR" 8083)"
    got+=" $(probe_host "$CG" 8080) $(probe_host "$SELF" 8080)"
    [ "$got" = "coit-lan-8081 coit-pub-8081 coit-md-80 coit-v6-8080 coit-br-8083 coit-cg-8080 coit-self-8080" ] &&
        up=1 && break
    sleep 0.1
done
[ "$up" = 1 ] || t_bail "the fake hosts do not answer from the host: $got"
t_ok "the fake hosts answer from the host" true

# ---- probes from inside, as code ----

# In the container: "LABEL=ok" when the host answered, "LABEL=no SECONDS" when not.
PROBES='
now() { cut -d" " -f1 /proc/uptime; }
res() { if [ "$2" = 1 ]; then echo "$1=ok"; else echo "$1=no $(awk "BEGIN{print $4-$3}")"; fi; }
http() { a=$(now); out=$(printf "GET / HTTP/1.0\r\n\r\n" | timeout 4 nc -w 2 "$2" "$3" 2>/dev/null | tail -n1)
  b=$(now); case "$out" in coit-*-"$3") res "$1" 1;; *) res "$1" 0 "$a" "$b";; esac; }
dns() { a=$(now); out=$(timeout 4 nslookup probe.example "$2" 2>&1); b=$(now)
  case "$out" in *198.19.0.7*) res "$1" 1;; *) res "$1" 0 "$a" "$b";; esac; }
brdns() { a=$(now); out=$(timeout 4 nslookup _gateway.incus "$2" 2>&1); b=$(now)
  case "$out" in *"Address"*"$2"*) res "$1" 1;; *) res "$1" 0 "$a" "$b";; esac; }
'
cfg() { # NAME TOML: a config file
    printf '%s\n' "$2" >"$tmp/$1.toml"
}
session() { # CONFIG PROBES: run the probes in a session; its output in $out
    out=$(COI_CONFIG="$tmp/$1.toml" "$COI" run --image "$T_IMAGE" -- sh -c "$PROBES $2" 2>"$tmp/err") ||
        t_diag "coi run: $(tail -c 1000 "$tmp/err")"
}
reached() { t_like "$1" "$(printf '%s\n' "$out" | grep -x "$2=ok" || echo "$2: $out")" "^$2=ok$"; }
# A refusal must be a reject, not a timeout: the probe waits up to 2 s, a refusal ends it well
# before. TCP is refused with a reset, which ends connect() at once (under half a second here);
# DNS over UDP gets the ICMP error, which the resolver may only see at its retry, a second later.
refused() { # DESC LABEL
    local line re="^$2=no 0(\.[0-4][0-9]*)?$"
    [ "$2" = dns ] && re="^$2=no (0|1)(\.[0-4][0-9]*)?$"
    line=$(printf '%s\n' "$out" | grep "^$2=" || echo "$2=missing")
    t_like "$1" "$line" "$re"
}
rules_gone() { t_is "$1: no rule of the session is left" "$(nft list ruleset 2>/dev/null | grep -c "coi:$2")" 0; }
name1=$(t_session_name "$ws" 1)

# (every DNS query goes to coi's DNS filter, which asks dns_servers: here the LAN host's)
cfg open '[network]
mode = "open"
dns_servers = ["'$LAN'"]'
session open 'http lan "'$LAN'" 8080; http pub "'$PUB'" 8080; http md "'$MD'" 80; dns dns "'$PUB'"; http br "'"$BR_ADDR"'" 8083
  http cg "'$CG'" 8080; http self "'$SELF'" 8080'
reached "open: the LAN host is reached" lan
reached "open: the 100.64.0.0/10 host is reached" cg
reached "open: the listener on the host's own address is reached" self
reached "open: the public host is reached" pub
reached "open: the metadata host is reached" md
reached "open: DNS sent to any server is answered (by coi's filter, through dns_servers)" dns
reached "open: the bridge address is reached" br

cfg restricted '[network]
mode = "restricted"'
session restricted 'http lan "'$LAN'" 8080; http pub "'$PUB'" 8080; http pub2 "'$PUB'" 8081; http md "'$MD'" 80; http br "'"$BR_ADDR"'" 8083; brdns brdns "'"$BR_ADDR"'"
  http cg "'$CG'" 8080; http self "'$SELF'" 8080'
refused "restricted: the LAN host (reached in open mode) is refused" lan
refused "restricted: the 100.64.0.0/10 host (a tailnet; reached in open mode) is refused" cg
refused "restricted: the host's own non-private address (reached in open mode) is refused" self
refused "restricted: the metadata host (reached in open mode) is refused" md
reached "restricted: the public host is reached (the internet is reachable)" pub
reached "restricted: the public host on another port too" pub2
refused "restricted: the host's other services on the bridge address are refused" br
reached "restricted: the bridge's DNS answers" brdns
rules_gone "restricted" "$name1"

cfg local '[network]
mode = "restricted"
allow_local_network_access = true
block_metadata_endpoint = false'
session local 'http lan "'$LAN'" 8080; http md "'$MD'" 80'
reached "restricted + allow_local_network_access: the LAN host is reached" lan
reached "restricted + block_metadata_endpoint = false: the metadata host is reached" md

cfg privnet '[network]
mode = "restricted"
block_private_networks = false
[[network.hosts]]
ip = "'$CG'"
hostnames = ["coit-cg.test"]
ports = [8080]'
session privnet 'http lan "'$LAN'" 8080; http md "'$MD'" 80; http br "'"$BR_ADDR"'" 8083
  echo "etchosts=$(sed -n "s/^\([0-9.]*\)[[:space:]]*coit-cg\.test$/\1/p" /etc/hosts)"; http cg coit-cg.test 8080'
reached "restricted + block_private_networks = false: the LAN host (refused by default) is reached" lan
refused "restricted + block_private_networks = false: the metadata host stays refused" md
refused "restricted + block_private_networks = false: the host's services on the bridge stay refused" br
t_like "[[network.hosts]]: its name is in the container's /etc/hosts" "$out" "etchosts=$CG"
reached "[[network.hosts]]: the 100.64.0.0/10 host it names (refused by default) is reached by name" cg

cfg opened '[network]
mode = "restricted"
allowed_networks = ["100.64.252.0/24"]'
session opened 'http cg "'$CG'" 8080; http self "'$SELF'" 8080; http lan "'$LAN'" 8080'
reached "restricted + allowed_networks: the 100.64.0.0/10 host it names is reached" cg
refused "restricted + allowed_networks: the host's own address stays refused" self
refused "restricted + allowed_networks: the LAN host stays refused" lan

cfg ports '[network]
mode = "restricted"
allowed_ports = [8081]'
session ports 'http pub "'$PUB'" 8080; http pub2 "'$PUB'" 8081'
refused "restricted + allowed_ports: another port of the public host is refused" pub
reached "restricted + allowed_ports: the allowed port of the same host is reached" pub2

cfg a_name '[network]
mode = "allowlist"
allowed_domains = ["'$PUB_NAME'"]'
session a_name 'ip=$(nslookup "'$PUB_NAME'" 2>/dev/null | sed -n "s/^Address: *\([0-9.]*\)$/\1/p" | head -n1); echo "resolved=$ip"
  http pub "$ip" 8080; http pub2 "$ip" 8081; http lan "'$LAN'" 8080; http md "'$MD'" 80
  dns dns "'$PUB'"; http br "'"$BR_ADDR"'" 8083'
t_like "allowlist by name: the name resolves (the host's /etc/hosts has it, through coi's DNS filter)" "$out" "resolved=$PUB"
reached "allowlist by name: the named host is reached" pub
reached "allowlist by name, no port: on every port" pub2
refused "allowlist by name: the LAN host is refused" lan
refused "allowlist by name: the metadata host is refused" md
refused "allowlist: DNS sent to another server (answering in open mode) does not resolve an unlisted name" dns
refused "allowlist: the host's other services on the bridge address are refused" br
rules_gone "allowlist" "$name1"

cfg a_port '[network]
mode = "allowlist"
allowed_domains = ["'$PUB_NAME':8081", "'$LAN':8080"]'
session a_port 'nslookup "'$PUB_NAME'" >/dev/null 2>&1
  http pub "'$PUB'" 8080; http pub2 "'$PUB'" 8081; http lan "'$LAN'" 8080; http lan2 "'$LAN'" 8081
  dns dns "'$LAN'"'
reached "allowlist by name with a port: that port is reached" pub2
refused "allowlist by name with a port: another port of the same host is refused" pub
reached "allowlist by IP with a port: that port is reached" lan
refused "allowlist by IP with a port: another port of the same host is refused" lan2
refused "allowlist: DNS sent to an allowed host (answering in open mode) does not resolve an unlisted name" dns

cfg a_ip '[network]
mode = "allowlist"
allowed_domains = ["'$LAN'"]'
session a_ip 'http lan "'$LAN'" 8080; http lan2 "'$LAN'" 8081; http pub "'$PUB'" 8080'
reached "allowlist by IP, no port: that host is reached" lan
reached "allowlist by IP, no port: on every port" lan2
refused "allowlist by IP: the public host (reached in restricted mode) is refused" pub

cfg a_cidr '[network]
mode = "allowlist"
allowed_domains = ["192.168.250.0/24", "100.128.0.0/24:8080"]'
session a_cidr 'http lan "'$LAN'" 8080; http lan2 "'$LAN'" 8081; http pub "'$PUB'" 8080; http pub2 "'$PUB'" 8081
  http md "'$MD'" 80; http self "'$SELF'" 8080'
reached "allowlist by CIDR, no port: a host in it is reached" lan
reached "allowlist by CIDR, no port: on every port" lan2
reached "allowlist by CIDR with a port: that port is reached" pub
refused "allowlist by CIDR with a port: another port is refused" pub2
refused "allowlist by CIDR: the metadata host is still refused" md
refused "allowlist by CIDR: the host's own address in that CIDR is still refused" self

# ---- attacks from inside, as container root ----

# A long session; $pid is coi. Waits until coi's rules for it are in place (bounded).
long_session() { # CONFIG
    # the earlier sessions' containers are deleted in the background: until they are gone, a
    # new session would take another slot than the one named $name1
    t_wait_ws_clear "$ws" || return 1
    COI_CONFIG="$tmp/$1.toml" "$COI" run --image "$T_IMAGE" -- sleep 90 >/dev/null 2>"$tmp/long-$1.err" 9>&- &
    pid=$!
    t_defer "kill $pid 2>/dev/null"
    t_wait_running "$name1" || return 1
    # "Running" comes before coi has finished setting the session up; its command running
    # inside is the sign that it has (an exec during the setup can fail in the daemon).
    t_wait_cmd "$name1" "sleep 90" || return 1
    [ "$1" = open ] && return 0
    for _ in $(seq 100); do
        nft list chain ip coi "ct-$name1" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}
as_root() { out=$(incus exec "$name1" -- sh -c "$PROBES $1" 2>&1); }
end_session() { # DESC
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null
    t_ok "$1: the session ends" t_wait_gone "$name1"
    rules_gone "$1" "$name1"
}
V6_ON='sysctl -qw net.ipv6.conf.all.disable_ipv6=0; sysctl -qw net.ipv6.conf.eth0.disable_ipv6=0
  sysctl -qw net.ipv6.conf.eth0.accept_dad=0; ip -6 addr add '$V6_MINE'/64 dev eth0; sleep 1'

rc=0; long_session open || rc=$?; t_is "open: a long session comes up" "$rc" 0
as_root "$V6_ON; http v6 '$V6' 8080"
reached "open: root in the container reaches the IPv6 host" v6
end_session open

rc=0; long_session restricted || rc=$?; t_is "restricted: a long session comes up" "$rc" 0
as_root "http pub '$PUB' 8080; http lan '$LAN' 8080; http cg '$CG' 8080; http self '$SELF' 8080"
reached "restricted, root: the public host is reached" pub
refused "restricted, root: the LAN host is refused" lan
refused "restricted, root: the 100.64.0.0/10 host is refused" cg
refused "restricted, root: the host's own non-private address is refused" self
as_root "ip addr add 10.171.92.250/24 dev eth0; ip route replace default via '$BR_ADDR' src 10.171.92.250
  http lan '$LAN' 8080; http pub '$PUB' 8080
  ip route replace default via '$BR_ADDR' dev eth0; ip addr del 10.171.92.250/24 dev eth0
  http pub2 '$PUB' 8081"
t_like "root adds a second address: the LAN host stays unreachable" "$out" "lan=no"
t_like "root adds a second address: traffic from it goes nowhere" "$out" "pub=no"
reached "the address removed: the public host is reached again" pub2
# (coi sets security.mac_filtering: Incus then drops every frame with another source MAC)
as_root "cat /sys/class/net/eth0/address > /tmp/mac
  ip link set eth0 down; ip link set eth0 address 02:00:00:c0:17:57; ip link set eth0 up
  ip route replace default via '$BR_ADDR' dev eth0; sleep 0.5; http lan '$LAN' 8080; http pub '$PUB' 8080"
t_like "root changes the MAC: the LAN host stays unreachable" "$out" "lan=no"
t_like "root changes the MAC: so does the public host (the new MAC is filtered)" "$out" "pub=no"
as_root "ip link set eth0 down; ip link set eth0 address \$(cat /tmp/mac); ip link set eth0 up
  ip route replace default via '$BR_ADDR' dev eth0; sleep 0.5; http pub '$PUB' 8080; http lan '$LAN' 8080"
reached "the MAC restored: the public host is reached again (the path works)" pub
refused "the MAC restored: the LAN host is refused" lan
cpid=$(incus query "/1.0/instances/$name1/state" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
t_ok "root flushes the container's own firewall (nft flush ruleset in its netns)" \
    nsenter -t "$cpid" -n nft flush ruleset
as_root "http lan '$LAN' 8080; http md '$MD' 80; http pub '$PUB' 8080"
t_like "after the flush: the LAN host stays unreachable" "$out" "lan=no"
t_like "after the flush: the metadata host stays unreachable" "$out" "md=no"
reached "after the flush: the public host is still reached (the path works)" pub
t_ok "after the flush: coi's host rules are intact" nft list chain ip coi "ct-$name1"
as_root "$V6_ON; http v6 '$V6' 8080"
# IPv6 is dropped on the bridge (no reject there), so this one is a timeout
t_like "restricted, root re-enables IPv6 with its own address: the IPv6 host (reached in open mode) stays unreachable" "$out" "v6=no"
end_session restricted

rc=0; long_session a_port || rc=$?; t_is "allowlist: a long session comes up" "$rc" 0
as_root "$V6_ON; http v6 '$V6' 8080; http lan '$LAN' 8080"
t_like "allowlist, root re-enables IPv6: the IPv6 host stays unreachable" "$out" "v6=no"
reached "allowlist, root: the allowed IPv4 destination still works" lan
end_session allowlist

# ---- kill -9, then coi clean --orphans ----

rc=0; long_session restricted || rc=$?; t_is "restricted: a long session comes up (to be killed)" "$rc" 0
kill -KILL "$pid"
wait "$pid" 2>/dev/null
t_ok "after kill -9 the rules are still there (fail closed)" nft list chain ip coi "ct-$name1"
t_ok "coi clean --orphans succeeds" "$COI" clean --orphans
t_ok "coi clean --orphans deletes the container" t_wait_gone "$name1"
rules_gone "kill -9 + clean --orphans" "$name1"

alive=0
for p in "${servers[@]}"; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
t_is "the fake hosts stayed up to the end" "$alive" "${#servers[@]}"
[ "$alive" = "${#servers[@]}" ] || t_diag "$(cat "$tmp/srv.log")"
t_done
