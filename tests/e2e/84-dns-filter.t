#!/bin/bash
# SPDX-License-Identifier: MIT
# Domain-aware egress (ARCHITECTURE.md decision 10) through real sessions. A network namespace
# plays the internet: hosts on 100.128.5.0/24 answering HTTP, and the test DNS server
# (tests/tools/dns-test-server) standing in for its DNS, which the session's DNS filter asks
# ([network] dns_servers). Shows, each refusal paired with a success on the same host or port:
# an allowed name and a wildcard match resolve and are reachable on their ports, their addresses
# only once resolved; an unlisted name is NXDOMAIN, never reaches the test DNS server, and its
# address is unreachable dialled directly; DNS sent to any server is the filter's; an address
# leaves the firewall when its TTL (and the grace) runs out; a burst of random names under an
# unlisted domain never reaches the test DNS server and is a finding; the filter killed, nothing
# new resolves and the user is told; no filter, no allowlist session; restricted mode records
# the queries it forwards. Nothing outside this machine is contacted.
# Keys whose effect this file shows (src/config/keys.c names it as their proof):
# network.dns_servers, network.dns_min_ttl.
. "$(dirname "$0")/monitor-lib.sh"
export COI_CONTAINER_PREFIX=coi-t-dnsf-
command -v python3 >/dev/null || t_bail "python3 is needed for the fake hosts"
TOOLS=$COI_BUILD/tools
[ -x "$TOOLS/dns-test-server" ] || t_bail "no $TOOLS/dns-test-server (run: make)"
exec 9>/run/lock/coi-t-dnsf.lock
flock -w 200 9 || t_bail "another run of this test holds /run/lock/coi-t-dnsf.lock"
tmp=$(mktemp -d /tmp/coi-t-dnsf-XXXX)
t_defer "rm -rf '$tmp'"
t_defer "chattr -R -i '$tmp'"

# ---- the internet: a namespace behind a veth, routed through the host ----
NS=coit-dnsf DNS=100.128.5.2 API=100.128.5.10 CDN=100.128.5.11 SHORT=100.128.5.12 EVIL=100.128.5.66
ip netns add $NS || t_bail "cannot create the namespace"
t_defer "ip netns del $NS; ip link del $NS-h"
{ ip link add $NS-h type veth peer name $NS-n && ip link set $NS-n netns $NS &&
    ip addr add 100.128.5.1/24 dev $NS-h && ip link set $NS-h up &&
    ip -n $NS link set lo up && ip -n $NS link set $NS-n up &&
    for a in $DNS $API $CDN $SHORT $EVIL; do ip -n $NS addr add $a/24 dev $NS-n || exit 1; done &&
    ip -n $NS route add default via 100.128.5.1; } || t_bail "cannot set the namespace up"
cat >"$tmp/web.py" <<'X'
import http.server, socketserver, sys, threading
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("coit-%s-%d\n" % self.server.server_address).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    def server_bind(self): socketserver.TCPServer.server_bind(self)
for a in sys.argv[1:]:
    for p in (8080, 8443):
        threading.Thread(target=S((a, p), H).serve_forever, daemon=True).start()
threading.Event().wait()
X
timeout 300 ip netns exec $NS python3 "$tmp/web.py" $API $CDN $SHORT $EVIL >/dev/null 2>&1 9>&- &
t_defer "kill $! 2>/dev/null; sleep 0.2"
timeout 300 ip netns exec $NS "$TOOLS/dns-test-server" -l $DNS:53 -o "$tmp/upstream.log" -t 300 \
    "api.coit.test=$API/300" "*.cdn.coit.test=$CDN/300" "short.coit.test=$SHORT/1" \
    "evil.test=$EVIL" "*.evil.test=$EVIL" >"$tmp/upstream.out" 2>&1 9>&- &
t_defer "kill $! 2>/dev/null; sleep 0.2"
for _ in $(seq 50); do
    grep -q ready "$tmp/upstream.out" && curl -sm 1 "http://$API:8080/" >/dev/null && break
    sleep 0.1
done
t_is "the fake internet answers from the host" "$(curl -sm 2 "http://$EVIL:8443/")" "coit-$EVIL-8443"
: >"$tmp/upstream.log" # (the readiness probes of this script are not the container's)

# ---- sessions ----

# start CASE CONFIG: a long session (coi run -- sleep) of its own workspace; sets name, pid.
start() {
    local ws=$tmp/$1
    mkdir -p "$ws" && git -C "$ws" init -q
    printf '%s\n' "$2" >"$tmp/$1.toml"
    name="${COI_CONTAINER_PREFIX}$(printf '%s' "$ws" | sha256sum | cut -c1-8)-1"
    t_defer "incus delete -f $name 2>/dev/null"
    (cd "$ws" && exec env COI_CONFIG="$tmp/$1.toml" "$COI" run --image "$T_IMAGE" -- sleep 120 \
        >"$tmp/$1.out" 2>&1 9>&-) &
    pid=$!
    t_defer "kill -TERM $pid 2>/dev/null && for _ in \$(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done"
    t_wait_running "$name" || return 1
    t_wait_cmd "$name" "sleep 120"
}
stop() {
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    wait "$pid" 2>/dev/null
    t_ok "$1: the container is gone" m_wait_state "$name" ""
    t_is "$1: no rule or set of it is left" "$(nft list ruleset 2>/dev/null | grep -c -- "$name")" 0
}
# In the container, as code: "LABEL=ok" when reached, "LABEL=no SECONDS" when refused.
PROBES='
now() { cut -d" " -f1 /proc/uptime; }
res() { if [ "$2" = 1 ]; then echo "$1=ok"; else echo "$1=no $(awk "BEGIN{print $4-$3}")"; fi; }
http() { a=$(now); out=$(printf "GET / HTTP/1.0\r\n\r\n" | timeout 4 nc -w 2 "$2" "$3" 2>/dev/null | tail -n1)
  b=$(now); case "$out" in coit-"$2"-"$3") res "$1" 1;; *) res "$1" 0 "$a" "$b";; esac; }
look() { out=$(timeout 6 nslookup ${3:+-type=$3} "$2" $4 2>&1)
  case "$out" in *"NXDOMAIN"*) echo "$1=NXDOMAIN";; *) echo "$1=$(printf "%s\n" "$out" | sed -n "s/^Address: *\([0-9.]*\)$/\1/p" | sort | tr "\n" " " | sed "s/ $//")";; esac; }
'
probe() { out=$(incus exec "$name" --user 1000 --group 1000 -- sh -c "$PROBES $1" 2>&1); }
as_root() { out=$(incus exec "$name" -- sh -c "$PROBES $1" 2>&1); }
got() { printf '%s\n' "$out" | grep "^$1=" | head -n1; }
reached() { t_is "$1" "$(got "$2")" "$2=ok"; }
refused() { t_like "$1" "$(got "$2")" "^$2=no 0(\.[0-4][0-9]*)?$"; } # a reject: at once
upstream_saw() { grep -c -- "$1" "$tmp/upstream.log"; }
sup_pid() { t_supervisor_pid "$1"; }

start allow "[network]
mode = \"allowlist\"
dns_servers = [\"$DNS\"]
allowed_domains = [\"api.coit.test:8443\", \"*.cdn.coit.test\", \"short.coit.test\"]
dns_min_ttl = 0
[monitoring]
enabled = true
auto_pause_on_high = false
[monitoring.nft]
dns_query_threshold = 50" || t_bail "the allowlist session did not come up: $(tail -c 800 "$tmp/allow.out")"
sup=$(sup_pid "$name")
t_ok "allowlist: the supervisor runs the DNS filter" test -n "$(pgrep -P "$sup" -x coi-dns)"

probe "http api '$API' 8443; http cdn '$CDN' 8080"
refused "before any lookup: the allowed name's address is refused" api
refused "before any lookup: the wildcard's address is refused" cdn
probe "look a api.coit.test; http api '$API' 8443; http api80 '$API' 8080"
t_is "an allowed name resolves" "$(got a)" "a=$API"
reached "... and is reachable on its port once resolved" api
refused "... but not on another port" api80
probe "look w x.y.cdn.coit.test; http cdn '$CDN' 8080; http cdn2 '$CDN' 8443; look bare cdn.coit.test"
t_is "a name under the wildcard resolves" "$(got w)" "w=$CDN"
reached "... and is reachable once resolved" cdn
reached "... on every port (the entry names none)" cdn2
t_is "the wildcard is below its name, not the name itself" "$(got bare)" "bare=NXDOMAIN"
set=$(nft list table ip coi | grep -A4 "set d[0-9]*-$name")
t_like "the allowed name's address is in the container's set, for its TTL and the grace" "$set" \
    "$API timeout 5m10s"

probe "look e evil.test; look e2 www.evil.test TXT; http evil '$EVIL' 8080; http api '$API' 8443"
t_is "an unlisted name is NXDOMAIN" "$(got e)" "e=NXDOMAIN"
t_is "... for every type" "$(got e2)" "e2=NXDOMAIN"
refused "its address is refused, dialled directly" evil
reached "(while an allowed one is reached, the same moment)" api
t_is "the unlisted names never reached the DNS server" "$(upstream_saw evil)" 0
t_ok "the allowed ones did" test "$(upstream_saw 'A api.coit.test')" -ge 1

as_root "look d api.coit.test '' '$DNS'; look d2 evil.test '' '$DNS'; look d3 api.coit.test '' '$GW'"
t_is "root asks the DNS server itself: the filter answers" "$(got d)" "d=$API"
t_is "... an unlisted name too: NXDOMAIN" "$(got d2)" "d2=NXDOMAIN"
t_is "... and through the bridge's DNS" "$(got d3)" "d3=$API"
t_is "still no unlisted name at the DNS server" "$(upstream_saw evil)" 0
probe "look six api.coit.test AAAA"
t_is "AAAA of an allowed name has no records (IPv6 is dropped)" "$(got six)" "six="
t_is "... and is not asked upstream" "$(upstream_saw '^AAAA')" 0

# the TTL: short.coit.test answers with 1 s; dns_min_ttl = 0: in the set 1 s + 10 s of grace
probe "look s short.coit.test; http short '$SHORT' 8080"
t_is "a name with a 1 s TTL resolves" "$(got s)" "s=$SHORT"
reached "... and is reachable" short
sleep 12
probe "http short '$SHORT' 8080; http api '$API' 8443"
refused "once its TTL and the grace ran out, its address is refused" short
reached "(an address with time left is reached)" api
probe "look s short.coit.test; http short '$SHORT' 8080"
reached "resolved again, it is reachable again" short

# a burst of random names under an unlisted domain (what a DNS tunnel looks like)
before=$(m_audit "$name" | grep -c '"rule":"dns-refused"')
probe 'i=0; while [ $i -lt 80 ]; do i=$((i+1)); nslookup -type=a "t$i-$$.evil.test" >/dev/null 2>&1; done; echo done=1'
t_is "a burst of 80 unlisted names: all answered" "$(got done)" "done=1"
t_is "none of them reached the DNS server" "$(upstream_saw evil)" 0
line=$(m_wait_rule "$name" dns-rate)
t_like "the burst is a finding" "$line" '"level":"high","category":"network","title":"DNS query rate spike detected"'
t_like "... naming one of the names" "$line" '\.evil\.test'
t_ok "each refused name is in the audit log" \
    test "$(m_audit "$name" | grep -c '"rule":"dns-refused"')" -ge $((before + 80))
t_like "... as a refusal of that name" \
    "$(m_audit "$name" | jq -c 'select(.rule == "dns-refused")' | grep -m1 't7-')" \
    "DNS query for 't7-[0-9]+\\.evil\\.test' \\(A\\): refused, NXDOMAIN \\(not allowed\\)"
t_like "an allowed name's answer too, with its addresses and time" \
    "$(m_audit "$name" | jq -c 'select(.rule == "dns-query")' | grep -m1 "'api.coit.test' (A)")" \
    "allowed, NOERROR: $API, in the firewall for 310 s"

# the filter killed: nothing new resolves, the user is told, resolved addresses stay for now
dnspid=$(pgrep -P "$sup" -x coi-dns)
kill -KILL "$dnspid"
line=$(m_wait_rule "$name" dns-filter)
t_like "the filter killed: the user is told" "$line" \
    '"level":"warning".*"title":"DNS filter stopped".*killed by signal 9.*resolves no new names'
probe "look k api.coit.test; look k2 x2.cdn.coit.test; http api '$API' 8443"
t_like "... nothing resolves, allowed names neither" "$(got k) $(got k2)" "^k=[^0-9]*k2=[^0-9]*$"
reached "... what was resolved stays reachable until its time runs out" api
t_is "... and the monitor goes on" "$(sup_pid "$name")" "$sup"
stop allowlist

# no filter, no allowlist session: its supervisor cannot start (another holds its pid file)
ws=$tmp/nofilter
mkdir -p "$ws" && git -C "$ws" init -q
name="${COI_CONTAINER_PREFIX}$(printf '%s' "$ws" | sha256sum | cut -c1-8)-1"
printf '[network]\nmode = "allowlist"\ndns_servers = ["%s"]\nallowed_domains = ["api.coit.test"]\n' \
    "$DNS" >"$tmp/nofilter.toml"
mkdir -p "$COI_HOME/run"
timeout 60 flock "$COI_HOME/run/$name.pid" sleep 60 9>&- &
hold=$!
t_defer "kill $hold 2>/dev/null"
sleep 0.3
out=$(cd "$ws" && COI_CONFIG="$tmp/nofilter.toml" timeout 120 "$COI" run --image "$T_IMAGE" -- true 2>&1) && rc=0 || rc=$?
t_is "allowlist without its DNS filter: the session does not start" "$rc" 1
t_like "... and says why" "$out" "supervisor of '$name' .*did not start"
t_ok "... and leaves no container" m_wait_state "$name" ""
t_is "... and no rule" "$(nft list ruleset 2>/dev/null | grep -c -- "$name")" 0
kill $hold 2>/dev/null

# restricted: the queries are forwarded and recorded (monitoring off: the supervisor runs the
# filter alone)
: >"$tmp/upstream.log"
start restricted "[network]
dns_servers = [\"$DNS\"]
[monitoring]
enabled = false" || t_bail "the restricted session did not come up: $(tail -c 800 "$tmp/restricted.out")"
probe "look r evil.test; http evil '$EVIL' 8080"
t_is "restricted: any name resolves" "$(got r)" "r=$EVIL"
reached "restricted: and is reachable" evil
t_ok "restricted: through the test DNS server" test "$(upstream_saw 'A evil.test')" -ge 1
t_like "restricted: the query is in the audit log" \
    "$(m_audit "$name" | jq -c 'select(.rule == "dns-query")' | grep -m1 "'evil.test' (A)")" \
    "forwarded, NOERROR: $EVIL"
t_like "restricted: the supervisor runs without monitoring" "$(tr '\0' ' ' <"/proc/$(sup_pid "$name")/cmdline")" \
    " --timer-only .*--dns-mode restricted "
stop restricted
t_done
