#!/bin/bash
# SPDX-License-Identifier: MIT
# driver.sh TECHNIQUE...: runs techniques of the attack corpus in turn, inside the session, as
# the agent would (user code, in /tmp). Each runs in a process group of its own, bounded by a
# timeout, and its group is killed after it; the log says when each began and ended (ns), and
# the technique itself writes t0 when it takes its first action.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env"
out=/workspace/.corpus-out
mkdir -p "$out"
for name in "$@"; do
    dir=$out/$name
    mkdir -p "$dir"
    printf 'start %s %s\n' "$name" "$(date +%s%N)" >>"$out/log"
    (
        cd /tmp
        export ATK CORPUS_OUT="$dir"
        t0() { date +%s%N >"$CORPUS_OUT/t0"; }
        export -f t0
        limit=$(sed -n 's/^# timeout: //p' "$here/attack/$name.sh")
        exec setsid timeout -k 2 "${limit:-${CORPUS_TIMEOUT:-60}}" bash "$here/attack/$name.sh"
    ) >"$dir/out" 2>&1 &
    pid=$!
    wait "$pid"
    rc=$?
    # the technique's whole session (setsid: its id is $pid), again until none is left
    # (bounded): a process that was forking when it was killed is born after the kill and lives
    # on. The session, not the process group: timeout(1) puts its command in a group of its own,
    # and a bomb started under timeout outlived its group's kill and forked on, 400 processes,
    # through every technique after it
    for _ in $(seq 100); do pkill -9 -s "$pid" || break; sleep 0.05; done
    printf 'end %s %s %s\n' "$name" "$(date +%s%N)" "$rc" >>"$out/log"
    sleep "${CORPUS_GAP:-2}" # findings from samples land before the next technique begins
done
printf 'done %s\n' "$(date +%s%N)" >>"$out/log"
