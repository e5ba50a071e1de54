#!/bin/bash
# SPDX-License-Identifier: MIT
# [monitoring.nft] through a real session: `coi run` with [monitoring] and [monitoring.nft]
# enabled puts a log rule for new connections in the container's ct chain, after the accept of
# coi's DNS filter (which records the DNS queries itself), to its NFLOG group; the supervisor
# writes each logged packet and each query to the audit log and raises a HIGH finding (the
# container frozen) when DNS queries exceed dns_query_threshold a minute. A connection that
# lives a few milliseconds, to a listener this test opens on the test bridge's address, is in
# the audit log; a burst of DNS queries freezes the container. The filter asks the test DNS
# server (tests/tools/dns-test-server) on the host's loopback. Open mode (no policy, the log
# rules alone) and restricted mode with log_dns_queries = false. After each session no rule of
# it is left. Traffic goes only to the bridge address and the host's loopback. Containers are
# coi-t-nftmon-* (COI_CONTAINER_PREFIX).
# Keys whose effect this file shows (src/config/keys.c names it as their proof):
# monitoring.nft.enabled, monitoring.nft.rate_limit_per_second, monitoring.nft.dns_query_threshold,
# monitoring.nft.log_dns_queries.
. "$(dirname "$0")/monitor-lib.sh"
export COI_CONTAINER_PREFIX=coi-t-nftmon-
tmp=$(mktemp -d /tmp/coi-t-nftmon-XXXX)
t_defer "rm -rf '$tmp'"
t_defer "chattr -R -i '$tmp'" # a session that was cut short leaves its protected paths immutable
[ -n "$GW" ] || t_bail "no bridge address found"

rules() { nft list ruleset 2>/dev/null | grep -c "coi:$1\""; }
chain() { nft list chain ip coi "ct-$1" 2>/dev/null; }
sup_pid() { t_supervisor_pid "$1"; }
# nft_line NAME RULE JQ-FILTER: up to 10 s for an audit line of RULE that matches; prints it.
nft_line() {
    local line
    for _ in $(seq 100); do
        line=$(m_audit "$1" | jq -c "select(.rule == \"$2\") | select($3)" 2>/dev/null | head -1)
        [ -n "$line" ] && { printf '%s' "$line"; return 0; }
        sleep 0.1
    done
    return 1
}

# start CASE CONFIG: a long session of its own workspace with CONFIG as the user config; sets
# name, pid (coi run's own) and spid (the supervisor's). As in 54-monitor-session.t.
start() {
    local ws=$tmp/$1
    mkdir -p "$ws" && git -C "$ws" init -q
    printf '%s\n' "$2" >"$tmp/$1.toml"
    name="${COI_CONTAINER_PREFIX}$(printf '%s' "$ws" | sha256sum | cut -c1-8)-1"
    t_defer "incus delete -f $name"
    t_defer "'$COI' monitor '$name' --stop"
    (cd "$ws" && exec env COI_CONFIG="$tmp/$1.toml" "$COI" run --image "$T_IMAGE" -- sleep 60 \
        >"$tmp/$1.out" 2>&1) &
    pid=$!
    t_defer "kill -CONT $pid; kill -TERM $pid && for _ in \$(seq 100); do kill -0 $pid || break; sleep 0.1; done"
    t_wait_running "$name" || return 1
    # coi runs the command once the monitor is live (its NFLOG group bound)
    t_wait_cmd "$name" "sleep 60"
    spid=$(sup_pid "$name")
    [ -n "$spid" ] && [ "$(echo $spid | wc -w)" = 1 ] && [ -n "$(chain "$name")" ]
}
# stop: end the session as the user would (SIGTERM to coi run), up to 30 s.
stop() {
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    ! kill -0 "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    return 0
}

# A listener on the bridge's address that takes one connection and closes it (bounded: 30 s).
port=$((47000 + RANDOM % 2000))
listen() {
    timeout 30 /usr/bin/python3 -c "
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('$GW', $port)); s.listen(4); s.settimeout(30)
open('$tmp/listening', 'w').close()
c, a = s.accept(); c.close(); print(a[0])" >"$tmp/accepted" 2>&1 &
    lpid=$!
    t_defer "kill $lpid 2>/dev/null"
    for _ in $(seq 50); do [ -e "$tmp/listening" ] && return 0; sleep 0.1; done
    return 1
}

# The internet's DNS, as far as this test goes: every name under exfil.test (bounded: 200 s).
UPSTREAM=127.0.0.54
timeout 200 "$COI_BUILD/tools/dns-test-server" -l $UPSTREAM:53 -t 200 -o "$tmp/upstream.log" \
    "*.exfil.test=198.18.7.7" >"$tmp/upstream.out" 2>&1 &
t_defer "kill $! 2>/dev/null"
for _ in $(seq 50); do grep -q ready "$tmp/upstream.out" && break; sleep 0.1; done

# ---- open mode: the log rules alone; a short connection; a DNS burst ----

start open '[network]
mode = "open"
dns_servers = ["'$UPSTREAM'"]
[monitoring]
enabled = true
[monitoring.nft]
enabled = true
rate_limit_per_second = 1000
dns_query_threshold = 50' || t_bail "the open session did not come up ($(tail -c 600 "$tmp/open.out"))"
ct=$(chain "$name")
t_like "open: [monitoring]'s byte count is the first of ct-$name" "$(printf '%s\n' "$ct" | grep -m1 'comment "coi:')" \
    "^[[:space:]]*limit rate over 10 mbytes/second burst 50 mbytes limit rate 1/second log prefix \"coi-bytes:$name \" group [0-9]+ comment"
t_like "open: then the DNS count (by the port the container sent to), then the DNS filter's port" \
    "$(printf '%s\n' "$ct" | grep 'comment "coi:' | sed -n 2,3p | tr '\n' ' ')" \
    "^[[:space:]]*meta l4proto \{ tcp, udp \} ct original proto-dst (53|0x35 \[invalid type\]) limit rate over 50/minute burst 50 packets limit rate 1/second log prefix \"coi-dnsx:$name \" .*ip daddr $GW meta l4proto \{ tcp, udp \} th dport [0-9]+ accept comment"
t_is "open: no DNS log rule (the filter records the queries)" "$(printf '%s\n' "$ct" | grep -c 'coi-dns:')" 0
t_is "open: one new-connection log rule" \
    "$(printf '%s\n' "$ct" | grep -c "ct state new .*limit rate 1000/second log prefix \"coi-new:$name \" group")" 1
t_like "open: the supervisor has the DNS threshold" "$(tr '\0' ' ' <"/proc/$spid/cmdline")" \
    " --dns-threshold 50 "
ip=$(incus list "$name" -c 4 -f csv | cut -d' ' -f1)

listen && up=yes || up=no
t_is "open: a listener on the bridge address" "$up" yes
m_run "$name" "nc $GW $port </dev/null"
wait "$lpid" 2>/dev/null
t_is "open: the listener took the container's connection" "$(cat "$tmp/accepted")" "$ip"
line=$(nft_line "$name" nft-new ".evidence.network.connection.remote_addr == \"$GW:$port\"")
t_like "open: the short connection is in the audit log" "$line" \
    '"level":"info","category":"network","title":"Outbound connection".*"action":"logged"'
t_like "open: as nftables logged it: tcp, new, from the container, no suspicion" "$line" \
    "\"protocol\":\"tcp\",\"local_addr\":\"$ip:[0-9]+\",\"remote_addr\":\"$GW:$port\",\"state\":\"NEW\",\"suspicious\":false\},\"reason\":\"logged by nftables \\(nflog\\)\""
t_is "open: no finding for it" "$(m_audit "$name" | jq -r 'select(.level != "info") | .rule' | sort -u)" ""

# 200 queries, each its own nslookup (a new socket), ten at a time (one after the other, a
# loaded machine sent only 48 in 10 s), to the bridge's address (the filter answers them);
# bounded by m_run's 10 s. The container is frozen on the way, so not all of them are sent.
(m_run "$name" "i=0; while [ \$i -lt 200 ]; do for j in 0 1 2 3 4 5 6 7 8 9; do i=\$((i+1)); nslookup -type=a q\$i.exfil.test $GW >/dev/null 2>&1 & done; wait; done") 2>/dev/null
line=$(m_wait_rule "$name" dns-rate)
t_like "open: the DNS burst is a HIGH finding, paused" "$line" \
    '"level":"high","category":"network","title":"DNS query rate spike detected".*"action":"paused"'
t_like "open: its description" "$line" "DNS tunnelling or exfiltration suspected: ([0-9]+ DNS queries in [0-9]+ s \\(threshold 50 a minute\\)|over 50 DNS queries a minute \\(counted by the kernel\\))"
t_ok "open: the container is frozen" m_wait_state "$name" FROZEN
t_like "open: each query is in the audit log with its name" \
    "$(nft_line "$name" dns-query '.evidence.network.remote_host == "q7.exfil.test"')" \
    "\"title\":\"DNS query\",\"description\":\"DNS query for 'q7.exfil.test' \\(A\\): forwarded, NOERROR: 198.18.7.7.*\"action\":\"logged\""
# Every query that left the host is in the audit log, none lost to a rate limit: as many as the
# upstream server answered (the freeze stops the burst near the threshold, so the count itself
# is about 50 and says little; what the upstream saw is the measure). Up to 10 s for the lines.
up=$(awk '$2 ~ /^q[0-9]+\.exfil\.test\.?$/ { print $2 }' "$tmp/upstream.log" | sort -u | wc -l)
for _ in $(seq 100); do
    n=$(m_audit "$name" | jq -r 'select(.rule == "dns-query") | .evidence.network.remote_host' |
        grep '^q[0-9]*\.exfil\.test$' | sort -u | wc -l)
    [ "$n" -ge "$up" ] && break
    sleep 0.1
done
t_ok "open: the upstream answered queries of the burst ($up)" test "$up" -gt 0
t_is "open: each of them is in the audit log" "$n" "$up"
t_is "open: and only one finding" "$(m_audit "$name" | jq -c 'select(.rule == "dns-rate" and .action != "deduplicated")' | wc -l)" 1
t_ok "open: coi unfreeze" "$COI" unfreeze "$name"
stop
t_ok "open: the container is gone" m_wait_state "$name" ""
t_is "open: no rule of it is left" "$(rules "$name")" 0
t_is "open: nor its chain" "$(chain "$name")" ""

# ---- restricted mode, log_dns_queries = false; its NFLOG group taken ----

# Another process listens on the group the container's name hashes to (the kernel allows one):
# the session picks the next free one and tells its supervisor.
next="${COI_CONTAINER_PREFIX}$(printf '%s' "$tmp/restricted" | sha256sum | cut -c1-8)-1"
hash=$(python3 -c "
h = 2166136261
for ch in b'$next': h = ((h ^ ch) * 16777619) & 0xffffffff
print(7700 + h % 256)")
timeout 120 /usr/bin/python3 -c "
import socket, struct, sys, time
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)  # NETLINK_NETFILTER
s.bind((0, 0))
attr = struct.pack('=HHB', 5, 1, 1) + b'\0' * 3  # NFULA_CFG_CMD: NFULNL_CFG_CMD_BIND
body = struct.pack('=BBH', 0, 0, socket.htons($hash)) + attr
s.send(struct.pack('=IHHII', 16 + len(body), (4 << 8) | 1, 1 | 4, 1, 0) + body)
if struct.unpack('=i', s.recv(4096)[16:20])[0]: sys.exit(1)
open('$tmp/held', 'w').close()
time.sleep(120)" &
hpid=$!
t_defer "kill $hpid 2>/dev/null"
for _ in $(seq 50); do [ -e "$tmp/held" ] && break; sleep 0.1; done
t_ok "restricted: group $hash has a listener" test -e "$tmp/held"

start restricted '[network]
dns_servers = ["'$UPSTREAM'"]
[monitoring]
enabled = true
[monitoring.nft]
enabled = true
log_dns_queries = false' || t_bail "the restricted session did not come up ($(tail -c 600 "$tmp/restricted.out"))"
ct=$(chain "$name")
t_is "restricted: no DNS log rule" "$(printf '%s\n' "$ct" | grep -c 'coi-dns:')" 0
t_is "restricted: the new-connection rule, default rate, before the policy" \
    "$(printf '%s\n' "$ct" | grep -A1 "ct state new limit rate 100/second log prefix \"coi-new:$name \"" | grep -c 'ct state established,related accept')" 1
group=$(printf '%s\n' "$ct" | sed -n 's/.*log prefix "coi-new:[^"]*" group \([0-9]*\).*/\1/p')
t_ok "restricted: the rules send to another group ($group)" test -n "$group" -a "$group" != "$hash"
t_like "restricted: the supervisor listens on it" "$(tr '\0' ' ' <"/proc/$spid/cmdline")" " --nflog-group $group $"
ip=$(incus list "$name" -c 4 -f csv | cut -d' ' -f1)
# the bridge's other ports are refused by the policy: logged all the same, and refused
m_run "$name" "nc $GW $port </dev/null"
t_ok "restricted: the refused connection is logged as new" \
    nft_line "$name" nft-new ".evidence.network.connection.remote_addr == \"$GW:$port\" and (.evidence.network.connection.local_addr | startswith(\"$ip:\"))"
m_run "$name" "nslookup -type=a one.exfil.test $GW; nslookup -type=a two.exfil.test $GW"
t_ok "restricted: the DNS filter records the queries" \
    nft_line "$name" dns-query '.evidence.network.remote_host == "two.exfil.test"'
t_is "restricted: nftables logs none of them" "$(m_audit "$name" | grep -c '"rule":"nft-dns"')" 0
t_is "restricted: the container runs" "$(m_state "$name")" RUNNING
stop
t_ok "restricted: the container is gone" m_wait_state "$name" ""
t_is "restricted: no rule of it is left" "$(rules "$name")" 0

t_done
