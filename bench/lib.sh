# SPDX-License-Identifier: MIT
# bench/lib.sh: timing and statistics for the benchmarks. Each benchmark runs the contenders
# interleaved (A, B, A, B, ...) in one run, so load on this shared machine hits both alike, and
# reports medians, min/max and the ratio of medians. Absolute times vary; ratios are the result.

BENCH_N=${BENCH_N:-7}
BENCH_OUT=${BENCH_OUT:-$BENCH_ROOT/bench/results}
mkdir -p "$BENCH_OUT"
: "${BENCH_JSON:=$BENCH_OUT/latest.json}"

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# time_ms CMD...: run CMD (output discarded), print its wall time in ms; fail if CMD fails.
time_ms() {
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1 || return 1
    t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000000))
}

# cli_session_ms NAME: the incus CLI's sequence for one command in a fresh container of $IMAGE
# (launch, exec once it works, delete -f), its wall time in ms
cli_session_ms() {
    local t0
    t0=$(now_ms)
    incus launch "$IMAGE" "$1" -c boot.autostart=false >/dev/null
    until incus exec "$1" -- true 2>/dev/null; do sleep 0.02; done
    incus delete -f "$1" >/dev/null
    echo $(($(now_ms) - t0))
}

# ws_prefix DIR: the prefix of the names of workspace DIR's containers (coi-<hash>-, naming.h)
ws_prefix() { printf 'coi-%s-' "$(printf '%s' "$1" | sha256sum | cut -c1-8)"; }

# ws_clear PREFIX: wait (bounded: 10 s) until no container's name starts with PREFIX (an
# ephemeral session's delete runs in a detached child after coi has returned)
ws_clear() {
    for _ in $(seq 200); do [ -z "$(incus list "$1" -c n -f csv)" ] && return; sleep 0.05; done
}

# warm_settled PREFIX: wait (bounded: 60 s) until the workspace of PREFIX has exactly one
# container, running and marked warm ([container] warm = 1, session/warm.h): its filler is done
# and the last session's container gone, so neither runs during the next measurement
warm_settled() {
    for _ in $(seq 600); do
        incus list "$1" -f json | python3 -c '
import json, re, sys
l = json.load(sys.stdin)
sys.exit(0 if len(l) == 1 and l[0]["status"] == "Running" and
         re.fullmatch("[0-9a-f]{64}", l[0]["config"].get("user.coi.warm", "")) else 1)' && return 0
        sleep 0.1
    done
    return 1
}

# warm_name PREFIX: the name of the workspace's (settled) warm container
warm_name() { incus list "$1" -c n -f csv | head -1; }

# load_note WHEN: the load average, said (the machine is shared: it explains absolute times)
load_note() { echo "load average $1: $(cut -d' ' -f1-3 /proc/loadavg)"; }

# stats FILE: "median min max" of the numbers in FILE (one per line)
stats() {
    sort -n "$1" | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2;
        printf "%g %g %g\n", m, a[1], a[NR]}'
}

# report NAME UNIT FILE_A LABEL_A FILE_B LABEL_B [TARGET]: print a line and append JSON.
report() {
    local name=$1 unit=$2 fa=$3 la=$4 fb=$5 lb=$6 target=${7:-} sa sb ratio
    sa=($(stats "$fa"))
    sb=($(stats "$fb"))
    ratio=$(awk -v a="${sa[0]}" -v b="${sb[0]}" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')
    printf '%-34s %-24s median %7s %s (min %s, max %s)\n' "$name" "$la" "${sa[0]}" "$unit" "${sa[1]}" "${sa[2]}"
    printf '%-34s %-24s median %7s %s (min %s, max %s)\n' "" "$lb" "${sb[0]}" "$unit" "${sb[1]}" "${sb[2]}"
    printf '%-34s ratio %sx%s\n' "" "$ratio" "${target:+   (target: at most ${target}x)}"
    printf '{"name":"%s","unit":"%s","a":{"label":"%s","median":%s,"min":%s,"max":%s},"b":{"label":"%s","median":%s,"min":%s,"max":%s},"ratio":%s,"target":%s}\n' \
        "$name" "$unit" "$la" "${sa[0]}" "${sa[1]}" "${sa[2]}" "$lb" "${sb[0]}" "${sb[1]}" "${sb[2]}" "$ratio" "${target:-null}" >>"$BENCH_JSON.lines"
}

# phases LOG: "phase<TAB>ms" of each COI_TIMING_DEBUG=1 line of coi's stderr in LOG
phases() {
    sed -n 's/^coi: timing: \(.*[^ ]\) *+ *\([0-9.]*\) ms.*/\1\t\2/p' "$1"
}

# phase_table LABEL_A FILE_A [LABEL_B FILE_B]: the median of each phase (lines of `phases`) in
# each file, the phases in the order they first come
phase_table() {
    awk -F'\t' -v la="$1" -v lb="${3:-}" 'FNR == 1 { f++ }
        { k = $1; if (!(k in seen)) { seen[k] = 1; order[++n] = k }
          v[f, k, ++c[f, k]] = $2 }
        function med(f, k,   m, i, j, t, a) {
            m = c[f, k]; if (!m) return "-"
            for (i = 1; i <= m; i++) a[i] = v[f, k, i]
            for (i = 2; i <= m; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
            return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2 }
        END { printf "  %-44s %12s %12s\n", "phase (COI_TIMING_DEBUG=1), median ms", la, lb
            for (i = 1; i <= n; i++) printf "  %-44s %12s %12s\n", order[i], med(1, order[i]), (f > 1) ? med(2, order[i]) : "" }' \
        "$2" ${4:+"$4"}
}
