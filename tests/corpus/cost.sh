#!/bin/bash
# SPDX-License-Identifier: MIT
# cost.sh OUT: what the monitor costs, as ratios against the same sessions unmonitored (coi run
# on coi-default, [monitoring] enabled true or false). Every session has a supervisor (an
# unmonitored one runs only the session's timers and its DNS filter), so the supervisor's own
# CPU time and RSS are compared, from /proc, with the container's (cgroup) and coi's.
#  - idle: IDLE_N monitored and IDLE_N unmonitored sessions at once (started alternately),
#    doing nothing for IDLE_S seconds after they settle;
#  - busy: BUSY_N sessions at once, each compiling and running a small C program in a loop for
#    BUSY_S seconds (an exec every few ms: the monitor's heaviest work), unmonitored and
#    monitored by turns (BUSY_PAIRS pairs): the rounds completed, and the CPU of the containers
#    and the supervisors. With COST_AB=OTHER_COI, monitored sessions by turns of $COI ("a") and
#    OTHER_COI ("b", an older build, say) instead: a before/after of the monitor itself.
# Bounded: every session is a `sleep`/loop with an end, every wait has a count. Needs root,
# $COI, the daemon in $INCUS_DIR. Prints a summary; OUT/*.txt has the raw samples.
set -u
out=${1:?out}
COI=${COI:-coi}
IMAGE=${COI_IMAGE:-coi-default}
IDLE_N=${IDLE_N:-3} IDLE_S=${IDLE_S:-60} BUSY_N=${BUSY_N:-10} BUSY_S=${BUSY_S:-60} BUSY_PAIRS=${BUSY_PAIRS:-1}
export COI_CONTAINER_PREFIX=coi-t-cost-
mkdir -p "$out"
out=$(cd "$out" && pwd)
export COI_HOME=$out/home
mkdir -p "$COI_HOME"
hz=$(getconf CLK_TCK)
runs=()

name_of() { printf '%s%s-1' "$COI_CONTAINER_PREFIX" "$(printf '%s' "$1" | sha256sum | cut -c1-8)"; }
cg_cpu() { cat "/sys/fs/cgroup/cpuacct/lxc.payload.$1/cpuacct.usage" 2>/dev/null ||
    awk '/^usage_usec/ {print $2 * 1000}' "/sys/fs/cgroup/lxc.payload.$1/cpu.stat" 2>/dev/null || echo 0; }
cg_mem() { cat "/sys/fs/cgroup/memory/lxc.payload.$1/memory.usage_in_bytes" 2>/dev/null ||
    cat "/sys/fs/cgroup/lxc.payload.$1/memory.current" 2>/dev/null || echo 0; }
# CPU (ns, user + system of the process itself) and RSS (bytes) of the processes in $@
pids_cpu() {
    local t=0 p v
    for p in "$@"; do
        v=$(awk -v hz="$hz" '{sub(/.*\) /, ""); split($0, f, " "); printf "%.0f", (f[12] + f[13]) * 1e9 / hz}' "/proc/$p/stat" 2>/dev/null) || v=0
        t=$((t + ${v:-0}))
    done
    echo "$t"
}
pids_rss() {
    local t=0 p v
    for p in "$@"; do
        v=$(awk '/^VmRSS:/ {print $2 * 1024}' "/proc/$p/status" 2>/dev/null) || v=0
        t=$((t + ${v:-0}))
    done
    echo "$t"
}
# the session's supervisor and its DNS filter child (one command line)
sup_pids() { pgrep -f "^coi monitor $1 --daemon" | tr '\n' ' '; }

cleanup() {
    local p
    for p in "${runs[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${runs[@]}"; do
        for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    runs=()
    for n in $(incus list -c n -f csv 2>/dev/null | grep "^$COI_CONTAINER_PREFIX"); do
        incus delete -f "$n" >/dev/null 2>&1
        "$COI" monitor "$n" --stop >/dev/null 2>&1
    done
}
trap cleanup EXIT

# start WS MONITORED CMD...: a session in the background
start() {
    local ws=$1 mon=$2
    shift 2
    rm -rf "$ws" && mkdir -p "$ws" && git -C "$ws" init -q
    printf 'int main(void){volatile long s=0;for(long i=0;i<200000;i++)s+=i;return 0;}\n' >"$ws/a.c"
    printf '[monitoring]\nenabled = %s\n' "$mon" >"$ws.toml"
    (cd "$ws" && exec env COI_CONFIG="$ws.toml" "$COI" run --image "$IMAGE" -- "$@" >"$ws.out" 2>&1) &
    runs+=($!)
}

# wait_all NAME...: each RUNNING with its supervisor up (bounded: 3 min in all)
wait_all() {
    local n
    for n in "$@"; do
        for _ in $(seq 1800); do
            [ "$(incus list "$n" -c s -f csv 2>/dev/null)" = RUNNING ] && [ -n "$(sup_pids "$n")" ] && break
            sleep 0.1
        done
    done
}

# snap NAME: "container_cpu_ns supervisor_cpu_ns"
snap() { echo "$(cg_cpu "$1") $(pids_cpu $(sup_pids "$1"))"; }

idle() {
    local i mon ws n names=() mons=() a=() b=()
    for i in $(seq "$IDLE_N"); do
        for mon in false true; do
            ws=$out/idle-$mon-$i
            start "$ws" "$mon" sleep $((IDLE_S + 240))
            names+=("$(name_of "$ws")")
            mons+=("$mon")
        done
    done
    wait_all "${names[@]}"
    sleep 15 # boot settles
    for i in "${!names[@]}"; do a[i]=$(snap "${names[i]}"); done
    sleep "$IDLE_S"
    for i in "${!names[@]}"; do b[i]=$(snap "${names[i]}"); done
    for i in "${!names[@]}"; do
        n=${names[i]}
        read -r c0 s0 <<<"${a[i]}"
        read -r c1 s1 <<<"${b[i]}"
        # monitored container_cpu sup_cpu container_mem sup_rss
        echo "${mons[i]} $((c1 - c0)) $((s1 - s0)) $(cg_mem "$n") $(pids_rss $(sup_pids "$n"))"
    done >"$out/idle.txt"
    cleanup
}

busy() { # MONITORED [LABEL]: appends "LABEL rounds container_cpu_ns sup_cpu_ns" to busy.txt
    local mon=$1 label=${2:-$1} i ws names=() wss=() a=() b=() rounds=0 r
    for i in $(seq "$BUSY_N"); do
        ws=$out/busy-$mon-$i
        start "$ws" "$mon" bash -c "for i in \$(seq 1800); do [ -e go ] && break; sleep 0.1; done
            end=\$((SECONDS + $BUSY_S)); n=0
            while [ \$SECONDS -lt \$end ]; do gcc -O0 -o /tmp/a a.c && /tmp/a; n=\$((n + 1)); done
            echo ROUNDS \$n; sleep 30"
        names+=("$(name_of "$ws")")
        wss+=("$ws")
    done
    wait_all "${names[@]}"
    sleep 10
    for i in "${!names[@]}"; do a[i]=$(snap "${names[i]}"); done
    for ws in "${wss[@]}"; do : >"$ws/go"; done
    sleep $((BUSY_S + 3))
    # while they still run (each sleeps 30 s after its count)
    for i in "${!names[@]}"; do b[i]=$(snap "${names[i]}"); done
    for ws in "${wss[@]}"; do
        for _ in $(seq 100); do grep -qs ROUNDS "$ws.out" && break; sleep 0.1; done
    done
    local cc=0 ss=0
    for i in "${!names[@]}"; do
        read -r c0 s0 <<<"${a[i]}"
        read -r c1 s1 <<<"${b[i]}"
        cc=$((cc + c1 - c0)) ss=$((ss + s1 - s0))
        r=$(sed -n 's/.*ROUNDS \([0-9]*\).*/\1/p' "${wss[i]}.out" | tail -1)
        rounds=$((rounds + ${r:-0}))
    done
    echo "$label $rounds $cc $ss" >>"$out/busy.txt"
    cleanup
}

if [ "${COST_PARTS:-idle busy}" != busy ]; then
echo "idle: $IDLE_N monitored and $IDLE_N unmonitored sessions at once, ${IDLE_S} s:"
idle
awk -v s="$IDLE_S" '
    { k = $1; n[k]++; c[k] += $2; sc[k] += $3; m[k] += $4; r[k] += $5 }
    END {
        for (k in n) { c[k] /= n[k]; sc[k] /= n[k]; m[k] /= n[k]; r[k] /= n[k] }
        printf "  supervisor CPU: %.1f ms monitored vs %.1f ms unmonitored (%.3f%% vs %.3f%% of a core): ratio %.1f\n",
            sc["true"] / 1e6, sc["false"] / 1e6, sc["true"] / (s * 1e7), sc["false"] / (s * 1e7), sc["true"] / (sc["false"] ? sc["false"] : 1)
        printf "  session CPU (container + supervisor): %.1f ms vs %.1f ms: ratio %.3f\n",
            (c["true"] + sc["true"]) / 1e6, (c["false"] + sc["false"]) / 1e6, (c["true"] + sc["true"]) / (c["false"] + sc["false"])
        printf "  supervisor RSS: %.1f MiB monitored vs %.1f MiB unmonitored: ratio %.2f\n",
            r["true"] / 1048576, r["false"] / 1048576, r["true"] / (r["false"] ? r["false"] : 1)
        printf "  session memory (container + supervisor): %.0f MiB vs %.0f MiB: ratio %.3f\n",
            (m["true"] + r["true"]) / 1048576, (m["false"] + r["false"]) / 1048576, (m["true"] + r["true"]) / (m["false"] + r["false"])
    }' "$out/idle.txt"
fi
[ "${COST_PARTS:-idle busy}" = idle ] && exit 0
if [ -n "${COST_AB:-}" ]; then
    echo "busy, monitored: $BUSY_N sessions at once for ${BUSY_S} s, $COI (a) and $COST_AB (b) by turns ($BUSY_PAIRS pairs):"
    : >"$out/busy.txt"
    for _ in $(seq "$BUSY_PAIRS"); do
        COI=$COST_AB busy true b
        busy true a
    done
    awk '
        { r[$1] += $2; c[$1] += $3; sc[$1] += $4 }
        END {
            for (k in r) printf "  %s: %d rounds, supervisors %.0f ms (%.2f%% of the containers'\'' CPU, %.2f ms a round)\n",
                k, r[k], sc[k] / 1e6, 100 * sc[k] / (c[k] ? c[k] : 1), sc[k] / 1e6 / (r[k] ? r[k] : 1)
            printf "  a against b: rounds %.3f, supervisors'\'' CPU %.3f, their CPU a round %.3f\n", r["a"] / (r["b"] ? r["b"] : 1),
                sc["a"] / (sc["b"] ? sc["b"] : 1), (sc["a"] / (r["a"] ? r["a"] : 1)) / (sc["b"] / (r["b"] ? r["b"] : 1))
        }' "$out/busy.txt"
    exit 0
fi
echo "busy: $BUSY_N sessions at once compiling and running a C program for ${BUSY_S} s, unmonitored and monitored by turns ($BUSY_PAIRS pairs):"
: >"$out/busy.txt"
for _ in $(seq "$BUSY_PAIRS"); do
    busy false
    busy true
done
awk -v s="$BUSY_S" '
    { r[$1] += $2; c[$1] += $3; sc[$1] += $4 }
    END {
        printf "  rounds done: %d monitored vs %d unmonitored: ratio %.3f\n", r["true"], r["false"], r["true"] / (r["false"] ? r["false"] : 1)
        printf "  supervisors CPU: %.0f ms monitored vs %.0f ms unmonitored (%.2f%% vs %.2f%% of the containers'\'' CPU)\n",
            sc["true"] / 1e6, sc["false"] / 1e6, 100 * sc["true"] / (c["true"] ? c["true"] : 1), 100 * sc["false"] / (c["false"] ? c["false"] : 1)
        printf "  CPU per round (containers + supervisors): %.2f ms vs %.2f ms: ratio %.3f\n",
            (c["true"] + sc["true"]) / 1e6 / (r["true"] ? r["true"] : 1), (c["false"] + sc["false"]) / 1e6 / (r["false"] ? r["false"] : 1),
            ((c["true"] + sc["true"]) / (r["true"] ? r["true"] : 1)) / ((c["false"] + sc["false"]) / (r["false"] ? r["false"] : 1))
    }' "$out/busy.txt"
