#!/bin/bash
# SPDX-License-Identifier: MIT
# Stopping coi while its container is frozen (the monitor pauses it on a HIGH finding): the
# terminating signal coi forwards to the command is never acted on, since nothing in a frozen
# container runs. coi gives the command up after a grace period, or at once on a second signal,
# and tears the session down: container deleted, rules removed, coi's process gone.
. "$(dirname "$0")/lib.sh"
t_require_daemon

ws=$(mktemp -d /tmp/coi-t-frozen-XXXX)
t_defer "rm -rf '$ws'"
git -C "$ws" init -q
name=$(t_session_name "$ws" 1)
t_defer "incus delete -f $name >/dev/null 2>&1"

frozen_session() { # start a session, wait until its command runs, freeze it; sets $pid
    (cd "$ws" && exec "$COI" run --image "$T_IMAGE" -- sleep 300) >"$ws.out" 2>&1 &
    pid=$!
    t_defer "kill -9 $pid 2>/dev/null"
    t_ok "$1: the command runs" t_wait_cmd "$name" sleep
    t_ok "$1: its rules are in place" sh -c "nft list ruleset | grep -q 'coi:$name'"
    t_ok "$1: the container is frozen" incus pause "$name"
}
ended() { # PID: bounded wait (~30 s) for it to end
    local i
    for i in $(seq 300); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
    return 1
}

for way in "one SIGTERM" "two SIGTERMs"; do
    frozen_session "$way"
    kill -TERM "$pid"
    [ "$way" = "one SIGTERM" ] || { sleep 0.5; kill -TERM "$pid"; }
    t_ok "$way: coi ends" ended "$pid"
    wait "$pid"
    t_is "$way: and fails as one cut short by SIGTERM (128 + 15)" "$?" 143
    t_like "$way: saying why" "$(cat "$ws.out")" "did not end on Terminated \(is the container frozen\?\)"
    t_ok "$way: the container is deleted" t_wait_ws_clear "$ws"
    t_is "$way: no rule of it is left" "$(nft list ruleset | grep -c "coi:$name" || true)" 0
done
rm -f "$ws.out"
t_done
