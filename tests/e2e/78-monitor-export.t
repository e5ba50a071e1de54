#!/bin/bash
# SPDX-License-Identifier: MIT
# Findings leave the host as they happen, from a real session: `coi run` with [monitoring]
# on_finding (a command on the host, the finding on stdin), syslog = true (to a datagram socket
# this test binds in place of /dev/log, $COI_SYSLOG_SOCKET) and metrics_dir (a Prometheus file
# per session, gone with it). A WARNING finding reaches all three, carrying its place in the hash
# chain, which `coi audit verify --anchor` accepts; an INFO record ([monitoring.nft]'s log of a
# connection) is below export_level and a repeat is a repeat: neither is sent anywhere. The
# project's own .coi/config.toml cannot set on_finding (it would run on the host): it is dropped
# with a warning. The real log's chain verifies, and an edit of it is found. `coi top` shows the
# session (CPU, memory, processes, an open connection, its monitor, its last finding), for root
# and for an ordinary user.
# Keys whose effect this file shows (src/config/keys.c names it as their proof):
# monitoring.on_finding, monitoring.on_finding_url (its delivery: test-monitor-export's webhook),
# monitoring.export_level, monitoring.syslog, monitoring.metrics_dir.
. "$(dirname "$0")/monitor-lib.sh"
export COI_CONTAINER_PREFIX=coi-t-monexp-
tmp=$(mktemp -d /tmp/coi-t-monexp-XXXX)
t_defer "rm -rf '$tmp'"
t_defer "chattr -R -i '$tmp' 2>/dev/null"
SINK=$COI_BUILD/tools/dgram-sink

ws=$tmp/ws
mkdir -p "$ws/.coi"
cat >"$tmp/user.toml" <<EOF
[monitoring]
enabled = true
poll_interval_sec = 1
export_level = "warning"
on_finding = "cat >>$tmp/findings.jsonl"
syslog = true
metrics_dir = "$tmp/metrics"

[monitoring.nft]
enabled = true
EOF
# what a cloned repository would try: run its own command on the host
cat >"$ws/.coi/config.toml" <<EOF
[monitoring]
on_finding = "touch $tmp/pwned"
EOF

export COI_SYSLOG_SOCKET=$tmp/log.sock
"$SINK" "$COI_SYSLOG_SOCKET" "$tmp/syslog.txt" 120 >"$tmp/sink.out" &
t_defer "kill $! 2>/dev/null"
for _ in $(seq 50); do grep -q ready "$tmp/sink.out" && break; sleep 0.1; done

m_session "$ws" "$tmp/user.toml" || t_bail "the session did not come up ($(tail -c 600 "$ws.out"))"
m_client "$name" || t_bail "cannot put the test client into $name"
t_ok "the supervisor runs" test -s "$COI_HOME/run/$name.pid"
t_like "the project's on_finding is dropped with a warning" "$(cat "$ws.out")" \
    "monitoring.on_finding.*(approv|trust)"
t_unlike() { if [[ "$2" =~ $3 ]]; then _t_result 1 "$1"; t_diag "got: '$2'"; else _t_result 0 "$1"; fi; }
t_unlike "on_finding is not on the supervisor's command line (ps)" \
    "$(ps -o args= -p "$(cat "$COI_HOME/run/$name.pid")")" "findings.jsonl|pwned"
prom=$tmp/metrics/$name.prom
t_like "the metrics file is there from the start" "$(cat "$prom" 2>/dev/null)" \
    "coi_monitor_up\\{container=\"$name\"\\} 1"

# a WARNING finding (the environment filtered for secrets)
m_run "$name" "env | grep -i token"
line=$(m_wait_rule "$name" env-dump-grep)
t_like "the finding is in the audit log" "$line" '"level":"warning".*"seq":[0-9]+'
seq=$(jq -r .seq <<<"$line")
hash=$(printf '%s' "$line" | sha256sum | cut -c1-64)
for _ in $(seq 50); do grep -q env-dump-grep "$tmp/findings.jsonl" 2>/dev/null && break; sleep 0.1; done
got=$(grep env-dump-grep "$tmp/findings.jsonl" 2>/dev/null | tail -1)
t_is "on_finding got it on stdin, with its container" "$(jq -r .container <<<"$got" 2>/dev/null)" "$name"
t_is "... and its hash (an anchor of the chain)" "$(jq -r '"\(.seq):\(.hash)"' <<<"$got" 2>/dev/null)" "$seq:$hash"
t_like "coi audit verify accepts the exported anchor" \
    "$("$COI" audit verify "$name" --anchor "$seq:$hash" 2>&1)" "^$name: intact: .*anchor $seq matches"
for _ in $(seq 50); do grep -q env-dump-grep "$tmp/syslog.txt" 2>/dev/null && break; sleep 0.1; done
t_like "syslog got it: user.warning, tag coi, the JSON" "$(grep env-dump-grep "$tmp/syslog.txt" | tail -1)" \
    "^<12>[A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8} coi\\[[0-9]+\\]: \\{\"id\":.*\"container\":\"$name\""
for _ in $(seq 40); do grep -q 'level="warning"} 1' "$prom" 2>/dev/null && break; sleep 0.1; done
t_like "the metrics count it (within a second)" "$(cat "$prom")" \
    "coi_findings_total\\{container=\"$name\",level=\"warning\"\\} 1
.*coi_exports_total\\{container=\"$name\",kind=\"command\",result=\"ok\"\\} 1"
t_ok "the project's command did not run" test ! -e "$tmp/pwned"

# below export_level (an INFO record: a connection [monitoring.nft] logs), and a repeat. Not to
# port 53 (DNS goes to the session's DNS filter, which records each query itself, since 608ee69)
# nor a refused one (a finding of its own): a ping of the bridge, which is allowed.
n_before=$(wc -l <"$tmp/findings.jsonl")
m_run "$name" "ping -c 1 -W 1 $GW >/dev/null; env | grep -i token"
t_ok "the connection is recorded (info)" m_wait_rule "$name" nft-new
for _ in $(seq 30); do m_audit "$name" | grep -q '"deduplicated"' && break; sleep 0.1; done
sleep 1
t_is "neither is exported" "$(wc -l <"$tmp/findings.jsonl"):$(grep -c nft-new "$tmp/syslog.txt")" "$n_before:0"

# the real log's chain, and an edit of it
t_like "the session's log verifies" "$("$COI" audit verify "$name" 2>&1)" "^$name: intact: [0-9]+ records"
cp "$COI_HOME/audit/$name.jsonl" "$tmp/log.bak"
sed -i '1s/"level":"warning"/"level":"info"/' "$COI_HOME/audit/$name.jsonl"
t_like "an edit of it is found" "$("$COI" audit verify "$name" 2>&1; echo "rc=$?")" "^$name: edited, line 1: .*rc=1"
cp "$tmp/log.bak" "$COI_HOME/audit/$name.jsonl"

# coi top, with a connection held open meanwhile
(timeout 8 incus exec "$name" -- /tmp/implant 53 "$GW" hold >/dev/null 2>&1 &)
sleep 1
top=$("$COI" top --once --json --interval 0.5 2>&1)
row=$(jq -c ".[] | select(.name == \"$name\")" <<<"$top" 2>/dev/null)
t_like "coi top --json shows the session" "$row" '"status":"Running"'
t_ok "... its CPU, memory, processes and the open connection" \
    jq -e '.cpu_percent != null and .memory_bytes > 0 and .processes > 1 and .connections >= 1' <<<"$row"
t_is "... its monitor and last finding" \
    "$(jq -r '"\(.monitor) \(.last_finding.level) \(.last_finding.title)"' <<<"$row" 2>/dev/null)" \
    "true warning Environment variable scanning detected"
t_like "coi top --once prints the table" "$("$COI" top --once --interval 0.5 2>&1)" \
    "CONTAINER +CPU .*LAST FINDING
(.*
)?$name +[0-9.]+% .* on +warning [0-9]+s ago: Environment variable scanning detected"
# an ordinary user in incus-admin (uid 1234, its own coi home)
admin=$(getent group incus-admin | cut -d: -f3)
mkdir -p /tmp/coi-t-home-1234 && chown 1234:1234 /tmp/coi-t-home-1234
urow=$(setpriv --reuid 1234 --regid 1234 --groups "${admin:-0}" env HOME=/tmp/coi-t-home-1234 \
    COI_HOME=/tmp/coi-t-home-1234/.coi "$COI" top --once --json --interval 0.5 2>&1)
t_like "coi top as an ordinary user in incus-admin: the same counters (not its monitor: \
another user's)" "$(jq -c ".[] | select(.name == \"$name\") | [.cpu_percent != null, \
.memory_bytes > 0, .processes > 1, .monitor]" <<<"$urow" 2>&1)" '^\[true,true,true,false\]$'
t_diag "as user 1234: $(head -c 300 <<<"$urow")"

"$COI" kill "$name" >/dev/null 2>&1
for _ in $(seq 100); do [ -e "$prom" ] || break; sleep 0.1; done
t_ok "the metrics file goes with the session" test ! -e "$prom"
t_done
