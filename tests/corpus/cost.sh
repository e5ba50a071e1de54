#!/bin/bash
# SPDX-License-Identifier: MIT
# cost.sh OUT: what the monitor costs, as ratios against the same sessions unmonitored
# (coi run on coi-default, [monitoring] enabled true or false, interleaved):
#  - idle: one session doing nothing for 30 s: CPU of the container, of coi and of the
#    supervisor; memory of the container and the supervisor (3 pairs, medians);
#  - busy: ten sessions at once, each compiling and running a small C program 60 times (many
#    execs, the monitor's heaviest work): their wall time, and the CPU of everything.
# Needs root, $COI, the daemon in $INCUS_DIR.
set -u
out=${1:?out}
COI=${COI:-coi}
IMAGE=${COI_IMAGE:-coi-default}
export COI_CONTAINER_PREFIX=coi-t-cost-
mkdir -p "$out"
out=$(cd "$out" && pwd)
export COI_HOME=$out/home
mkdir -p "$COI_HOME"
hz=$(getconf CLK_TCK)

name_of() { printf '%s%s-1' "$COI_CONTAINER_PREFIX" "$(printf '%s' "$1" | sha256sum | cut -c1-8)"; }
cg_cpu() { cat "/sys/fs/cgroup/cpuacct/lxc.payload.$1/cpuacct.usage" 2>/dev/null || echo 0; }  # ns
cg_mem() { cat "/sys/fs/cgroup/memory/lxc.payload.$1/memory.usage_in_bytes" 2>/dev/null || echo 0; }
pid_cpu() { awk -v hz="$hz" '{sub(/.*\) /, ""); split($0, f, " "); printf "%.0f\n", (f[12] + f[13]) * 1e9 / hz}' "/proc/$1/stat" 2>/dev/null || echo 0; }
pid_rss() { awk '/^VmRSS:/ {print $2 * 1024}' "/proc/$1/status" 2>/dev/null || echo 0; }
sup_pid() { cat "$COI_HOME/run/$1.pid" 2>/dev/null; }

# start WS MONITORED CMD...: a session in the background; sets spid_ (coi run's pid)
start() {
    local ws=$1 mon=$2
    shift 2
    rm -rf "$ws" && mkdir -p "$ws" && git -C "$ws" init -q
    printf 'int main(void){volatile long s=0;for(long i=0;i<2000000;i++)s+=i;return 0;}\n' >"$ws/a.c"
    printf '[monitoring]\nenabled = %s\n' "$mon" >"$ws.toml"
    (cd "$ws" && exec env COI_CONFIG="$ws.toml" "$COI" run --image "$IMAGE" -- "$@" >"$ws.out" 2>&1) &
    spid_=$!
}

wait_running() {
    for _ in $(seq 300); do
        [ "$(incus list "$1" -c s -f csv 2>/dev/null)" = RUNNING ] && return 0
        sleep 0.1
    done
    return 1
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

idle_one() { # MONITORED -> "container_cpu_ns coi_cpu_ns sup_cpu_ns container_mem sup_rss"
    local ws=$out/idle-$1 name c0 k0 s0 c1 k1 s1 sp
    start "$ws" "$1" sleep 60
    name=$(name_of "$ws")
    wait_running "$name" || { echo "0 0 0 0 0"; return; }
    sleep 8 # boot settles
    sp=$(sup_pid "$name")
    c0=$(cg_cpu "$name") k0=$(pid_cpu "$spid_") s0=$( [ -n "$sp" ] && pid_cpu "$sp" || echo 0)
    sleep 30
    c1=$(cg_cpu "$name") k1=$(pid_cpu "$spid_") s1=$( [ -n "$sp" ] && pid_cpu "$sp" || echo 0)
    echo "$((c1 - c0)) $((k1 - k0)) $((s1 - s0)) $(cg_mem "$name") $( [ -n "$sp" ] && pid_rss "$sp" || echo 0)"
    kill -TERM "$spid_" 2>/dev/null
    wait "$spid_" 2>/dev/null
    incus delete -f "$name" >/dev/null 2>&1
}

busy_round() { # MONITORED -> "wall_s_median cpu_containers_ns cpu_supervisors_ns"
    local mon=$1 i pids=() names=() c0=0 c1=0 s1=0 t0 walls=()
    for i in $(seq 10); do
        start "$out/busy-$mon-$i" "$mon" bash -c 'sleep 20; s=$(date +%s%N); for i in $(seq 60); do gcc -O0 -o /tmp/a a.c && /tmp/a; done; e=$(date +%s%N); echo "WALL $(( (e - s) / 1000000 ))"'
        pids+=("$spid_")
        names+=("$(name_of "$out/busy-$mon-$i")")
    done
    for n in "${names[@]}"; do wait_running "$n"; done
    # the supervisors' CPU, sampled each second until they are gone (the last sample counts)
    : >"$out/sup-$mon.txt"
    if [ "$mon" = true ]; then
        (for _ in $(seq 600); do
            line=""
            for n in "${names[@]}"; do p=$(sup_pid "$n"); [ -n "$p" ] && line+="$n $(pid_cpu "$p") "; done
            [ -n "$line" ] || break
            echo "$line" >>"$out/sup-$mon.txt"
            sleep 1
        done) &
    fi
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    wait
    for i in $(seq 10); do
        walls+=("$(sed -n 's/.*WALL \([0-9]*\).*/\1/p' "$out/busy-$mon-$i.out" | tail -1)")
    done
    printf '%s\n' "${walls[@]}" | median
}

# the supervisors' CPU of the monitored round, in ms (each one's largest sample)
sup_total() {
    tr ' ' '\n' <"$out/sup-true.txt" | paste - - 2>/dev/null | awk 'NF == 2 {if ($2 > m[$1]) m[$1] = $2} END {for (k in m) t += m[k]; printf "%.0f", t / 1e6}'
}

echo "idle session, 30 s (3 pairs, medians):"
for i in 1 2 3; do
    idle_one false >>"$out/idle-off.txt"
    idle_one true >>"$out/idle-on.txt"
done
read -r c_off k_off _ m_off _ < <(awk '{print $1+$2, $2, $3, $4, $5}' "$out/idle-off.txt" | sort -n | sed -n 2p)
read -r c_on k_on s_on m_on r_on < <(awk '{print $1+$2+$3, $2, $3, $4, $5}' "$out/idle-on.txt" | sort -n | sed -n 2p)
awk -v a="$c_on" -v b="$c_off" -v s="$s_on" -v ma="$m_on" -v mb="$m_off" -v r="$r_on" 'BEGIN {
    printf "  CPU: %.1f ms monitored (supervisor %.1f ms) vs %.1f ms unmonitored: ratio %.2f; the supervisor alone %.2f%% of a core\n", a / 1e6, s / 1e6, b / 1e6, a / (b ? b : 1), s / 30e9 * 100
    printf "  memory: container %.0f MiB + supervisor %.1f MiB vs %.0f MiB: ratio %.2f\n", ma / 1048576, r / 1048576, mb / 1048576, (ma + r) / (mb ? mb : 1) }'
echo "ten busy sessions at once (60 compile-and-run rounds each):"
off=$(busy_round false)
on=$(busy_round true)
awk -v a="$on" -v b="$off" -v s="$(sup_total)" 'BEGIN { printf "  median wall time: %d ms monitored vs %d ms unmonitored: ratio %.2f; the ten supervisors used %d ms of CPU\n", a, b, a / (b ? b : 1), s }'
