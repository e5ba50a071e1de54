#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/incus-client.sh [N]: coi's native Incus client against the incus CLI doing the same work,
# in one run, interleaved (coi, then incus, N rounds) on the test daemon's tiny image: launch,
# exec (true), exec with captured output, list, stop --force, delete. Prints the median of each in
# ms and the ratio incus/coi (> 1: coi is faster). N defaults to 10 (bounded: at most 50).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export INCUS_DIR=${COI_TEST_INCUS_DIR:-/var/lib/coi-test}
export INCUS_SOCKET=$INCUS_DIR/unix.socket
COI=${COI_BUILD:-$root/build/dev}/coi
image=coi-t-tiny
n=${1:-10}
[ "$n" -ge 1 ] && [ "$n" -le 50 ] || { echo "N must be 1..50" >&2; exit 2; }
incus image info "$image" >/dev/null 2>&1 || { echo "no $image: run tests/e2e/setup" >&2; exit 1; }
[ -x "$COI" ] || { echo "no coi at $COI: run make" >&2; exit 1; }

tmp=$(mktemp -d)
names=()
cleanup() {
    for c in "${names[@]}"; do incus delete -f "$c" >/dev/null 2>&1 || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

# time_ms FILE CMD...: run CMD (output discarded), append its wall time in ms to FILE
time_ms() {
    local f=$1 t0 t1
    shift
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000000)) >>"$tmp/$f"
}

median() { sort -n "$tmp/$1" | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

for i in $(seq "$n"); do
    a=coi-t-bench-coi-$$-$i b=coi-t-bench-cli-$$-$i
    names+=("$a" "$b")
    time_ms launch.coi "$COI" container launch "$image" "$a" -c boot.autostart=false
    time_ms launch.cli incus launch "$image" "$b" -c boot.autostart=false
    time_ms exec.coi "$COI" container exec "$a" -- true
    time_ms exec.cli incus exec "$b" -- true
    time_ms capture.coi "$COI" container exec "$a" -- sh -c 'echo out; echo err >&2'
    time_ms capture.cli incus exec "$b" -- sh -c 'echo out; echo err >&2'
    time_ms list.coi "$COI" container list --json
    time_ms list.cli incus list --format json
    time_ms stop.coi "$COI" container stop "$a" --force
    time_ms stop.cli incus stop "$b" --force
    time_ms delete.coi "$COI" container delete "$a"
    time_ms delete.cli incus delete "$b"
done

printf '%-8s %10s %10s %8s\n' op "coi ms" "incus ms" "ratio"
for op in launch exec capture list stop delete; do
    c=$(median "$op.coi") l=$(median "$op.cli")
    printf '%-8s %10s %10s %8s\n' "$op" "$c" "$l" "$(awk -v c="$c" -v l="$l" 'BEGIN {printf "%.2f", c ? l / c : 0}')"
done
echo "(medians of $n interleaved rounds; ratio = incus CLI time / coi time)"
