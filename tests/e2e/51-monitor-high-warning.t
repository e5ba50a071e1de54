#!/bin/bash
# SPDX-License-Identifier: MIT
# Every HIGH rule freezes the container (and 'coi unfreeze' resumes it); every WARNING rule only
# alerts; a repeat within 30 s is logged as deduplicated; refused packets come in through NFLOG.
# One container, one detached monitor, findings one after the other. Network traffic stays on
# this machine: addresses the container puts on its own loopback, or packets that an nftables
# rule of this test drops.
. "$(dirname "$0")/monitor-lib.sh"

# The clients that connect are the compiled implant holding a plain connection. (busybox's nc,
# read after it connected, was once "a shell starting with a connection", CRITICAL, and removed
# this container in CI: the monitor took busybox for /bin/ash; e2e 50 "busybox" checks it no
# longer does.)
c=$(t_name monitor)
t_defer "incus delete -f $c"
m_launch "$c" || t_bail "cannot launch $c"
m_client "$c" || t_bail "cannot put the implant into $c"
cip=""
for _ in $(seq 50); do
    cip=$(incus list "$c" -c 4 -f csv | awk '{print $1; exit}')
    [ -n "$cip" ] && break
    sleep 0.2
done
t_ok "monitor starts" m_monitor "$c" --read-threshold-mb 24

# name ^ script ^ rule
high=(
    "environ^cat /proc/1/environ^env-proc-environ"
    "ssh key^mkdir -p /root/.ssh; echo k >/root/.ssh/id_rsa; cat /root/.ssh/id_rsa^cred-file-read"
    "private net^ip addr add 192.168.77.7/32 dev lo; (sleep 4 | nc -l -p 8080 >/dev/null &); usleep 300000; /tmp/implant 8080 192.168.77.7 hold^net-private"
)
for case in "${high[@]}"; do
    IFS='^' read -r what script rule <<<"$case"
    m_run "$c" "$script" &
    t_ok "$what: the container is frozen" m_wait_state "$c" FROZEN
    line=$(m_wait_rule "$c" "$rule")
    t_like "$what: audit line $rule, paused" "$line" '"level":"high".*"action":"paused"'
    t_diag "$what: contained $(printf '%s' "$line" | jq -r '"\(.contained_ms) ms, Incus says frozen \(.response_ms) ms: \(.description)"')"
    t_like "$what: coi unfreeze resumes it" "$("$COI" unfreeze "$c" 2>&1)" "resumed"
    t_is "$what: running again" "$(m_state "$c")" RUNNING
    wait
done

# not_contained KIND LEVEL ACTION CASE...: each case ("name^script^rule") is found at LEVEL and
# only ACTION taken: the container keeps running.
not_contained() {
    local kind=$1 level=$2 action=$3 case what script rule line
    shift 3
    for case in "$@"; do
        IFS='^' read -r what script rule <<<"$case"
        m_run "$c" "$script"
        line=$(m_wait_rule "$c" "$rule")
        t_like "$what: audit line $rule, $kind" "$line" "\"level\":\"$level\".*\"action\":\"$action\""
        t_is "$what: the container keeps running" "$(m_state "$c")" RUNNING
    done
}

# Block I/O is a record: reading or writing a lot is what builds do (what leaves is counted on
# the network, 80-monitor-corpus.t); so is a project's .env read (agents and apps read their own
# all day); a token file in the home is a warning.
records=(
    "big write^dd if=/dev/zero of=/root/big bs=1M count=40 oflag=direct 2>/dev/null; sleep 3^io-write"
    "big read^dd if=/root/big of=/dev/null bs=1M iflag=direct 2>/dev/null; sleep 3^io-read"
    "dotenv^echo A=1 >/root/.env; cat /root/.env^cred-env-read"
)
not_contained "a record" info logged "${records[@]}"

# printenv lives as long as a full pipe holds it (70 kB of value, a reader that waits): busybox's
# printenv is gone in a millisecond, and under load the exec event was read after it (CI, once).
warning=(
    "env grep^env | grep -i token^env-dump-grep"
    "printenv^API_TOKEN=\$(head -c 70000 /dev/zero | tr '\\0' x) printenv API_TOKEN | (usleep 500000; cat >/dev/null)^env-secret-read"
    "token file^echo //registry/:_authToken=t >/root/.npmrc; cat /root/.npmrc^cred-secrets-read"
    "find keys^find / -maxdepth 3 -name id_rsa^cred-search"
    "tmp full^mount -o remount,size=1m /tmp; dd if=/dev/zero of=/tmp/fill bs=1k count=900 2>/dev/null; sleep 3^disk-tmp"
)
not_contained alerted warning alerted "${warning[@]}"

# The same finding again within 30 s: logged, nothing else.
m_run "$c" "env | grep -i token"
dedup=""
for _ in $(seq 50); do
    dedup=$(m_audit "$c" | jq -c 'select(.rule == "env-dump-grep" and .action == "deduplicated")' | tail -1)
    [ -n "$dedup" ] && break
    sleep 0.1
done
t_like "a repeat within 30 s is deduplicated" "$dedup" '"action":"deduplicated"'

# NFLOG: coi's policy logs refused packets with the container's prefix and group. This test's own
# table plays the policy: it logs and drops packets to a TEST-NET address (never leaves the host).
group=$("$COI" monitor --help >/dev/null; python3 -c "
h=2166136261
for ch in b'$c': h=((h^ch)*16777619)&0xffffffff
print(7700 + h % 256)")
table="coi_t_monitor_${c##*-}"
nft -f - <<X || t_bail "cannot install the test's nft table"
table ip $table {
  chain egress {
    type filter hook forward priority 5; policy accept;
    ip saddr $cip ip daddr 198.51.100.9 log prefix "coi-deny:$c " group $group drop
    ip saddr $cip ip daddr 192.168.78.9 log prefix "coi-deny:$c " group $group drop
  }
}
X
t_defer "nft delete table ip $table"
m_run "$c" '/tmp/implant 80 198.51.100.9 hold & p=$!; sleep 2; kill $p'
line=$(m_wait_rule "$c" net-refused)
t_like "nflog: a refused public address is a warning" "$line" '"action":"alerted".*"remote_addr":"198.51.100.9:80"'
# A private address the policy refused is an attempt that left nothing: a warning, not a freeze
# (a connection that is up to one is HIGH: "private net" above). NFLOG reports the SYN at once;
# sock_diag may see it unanswered too on its next sample: the same warning, deduplicated.
m_run "$c" '/tmp/implant 22 192.168.78.9 hold & p=$!; sleep 2; kill $p'
line=$(m_wait_rule "$c" net-private-refused)
for _ in $(seq 50); do # the NFLOG record, whichever source came first
    nflog=$(m_audit "$c" | jq -c 'select(.rule == "net-private-refused" and (.evidence.network.reason | test("nflog")))' | head -1)
    [ -n "$nflog" ] && break
    sleep 0.1
done
t_like "nflog: a refused private address is a warning" "$line" '"level":"warning".*"action":"alerted".*"remote_addr":"192.168.78.9:22"'
t_like "nflog: its audit line says so" "${nflog:-}" '"reason":"refused by the network policy \(nflog\)"'
t_is "nflog: the container keeps running" "$(m_state "$c")" RUNNING

# The audit log: one JSON object per line, the original's fields, readable by coi audit.
t_is "every line has the original's fields" \
    "$(m_audit "$c" | jq -c 'select(has("id") and has("timestamp") and has("level") and has("category") and has("title") and has("description") and has("action") and (.evidence | length == 1)) | 1' | wc -l)" \
    "$(m_lines "$c")"
m_audit "$c" | jq -c 'select((has("id") and has("timestamp") and has("level") and has("category") and has("title") and has("description") and has("action") and (.evidence | length == 1)) | not)' |
    while read -r odd; do t_diag "without them: $odd"; done
t_is "the log is private (0600)" "$(stat -c %a "$COI_HOME/audit/$c.jsonl")" 600
t_like "coi audit prints it" "$("$COI" audit "$c")" "high +paused +process +Process environment read detected"
t_like "coi monitor shows a snapshot" "$("$COI" monitor "$c")" "recent threats \([0-9]+\)"
t_ok "coi monitor --json is JSON" sh -c "'$COI' monitor '$c' --json | jq -e '.processes | length > 0'"

[ "$_t_failed" = 0 ] || t_diag "monitor log:" "$(grep -v "debug: incus" "$COI_HOME/logs/$c.monitor.log" | tail -15)" \
    "audit log:" "$(m_audit "$c" | jq -c '[.rule, .level, .action, .description]' | tail -25)"
t_done
