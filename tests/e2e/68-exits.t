#!/bin/bash
# SPDX-License-Identifier: MIT
# Every way out of coi run ends as a first Ctrl-C does: a reader that goes away (SIGPIPE), SIGHUP,
# a terminal that closes, a second signal, signals during the teardown. Each leaves no container,
# no immutable flag on the workspace, and the status a shell would give (128 + the signal). Right
# after a session, coi list does not call it orphaned. A session whose coi was killed (SIGKILL)
# has its host flags restored by the next coi command, its container made still first.
. "$(dirname "$0")/lib.sh"
t_require_daemon
command -v tmux >/dev/null || t_bail "tmux is missing (apt-get install tmux)"

ws=$(mktemp -d /tmp/coi-t-exits-XXXX)
export COI_HOME=$ws.home # this test's own run records
t_defer "rm -rf '$ws' '$COI_HOME'"
git -C "$ws" init -q
cd "$ws" || t_bail "no workspace"
name=$(t_session_name "$ws" 1)
t_defer "incus delete -f $name"
run() { "$COI" run --image "$T_IMAGE" "$@"; }
flags() { lsattr -d .git/hooks .git/config 2>/dev/null | grep -c -- '-i-'; }
# coi in the background, itself the job (so a signal reaches it), its status in $ws.rc
run_bg() { ("$COI" run --image "$T_IMAGE" "$@" >/dev/null 2>&1; echo $? >"$ws.rc") & }
t_defer "rm -f '$ws.rc'"
coi_pid() { # the coi process of the background job (its parent is the subshell $1)
    local i p
    for i in $(seq 50); do
        p=$(pgrep -P "$1" -x coi) && { echo "$p"; return 0; }
        sleep 0.1
    done
    return 1
}
wait_exit() { # PID: bounded (~15 s) wait until it is gone
    local i
    for i in $(seq 150); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
    return 1
}
settled() { # DESC RC_WANTED: the job's status, the container gone, no flag left
    t_is "$1: exit status" "$(cat "$ws.rc" 2>/dev/null)" "$2"
    t_ok "$1: the container is gone" t_wait_gone "$name"
    t_is "$1: no immutable flag left on the host" "$(flags)" 0
}

# ---- a reader that goes away ----
out=$(timeout 60 bash -c "'$COI' run --image '$T_IMAGE' -- seq 1 1000000 2>'$ws.err' | head -2; echo \"\${PIPESTATUS[0]}\" >'$ws.rc'")
t_is "coi run ... | head -2: the first two lines" "$(echo $out)" "1 2"
settled "SIGPIPE" 141
t_fails "SIGPIPE: coi said nothing of a failure" grep -q "cleaning up failed" "$ws.err"

# ---- SIGHUP ----
run_bg -- sleep 60
job=$!
pid=$(coi_pid "$job")
t_ok "a session comes up" t_wait_cmd "$name" "sleep 60"
t_is "while it runs, the protected paths are immutable" "$(flags)" 2
kill -HUP "$pid"
wait "$job"
settled "SIGHUP" 129

# ---- a terminal that closes (tmux kills the pane: SIGHUP, and the terminal is gone) ----
T="tmux -L coi-t-exits-$$"
t_defer "$T kill-server"
$T new-session -d -s t1 -x 100 -y 20 "cd '$ws' && INCUS_DIR=$INCUS_DIR COI_HOME=$COI_HOME $COI run --image $T_IMAGE -- sleep 60"
t_ok "a session in a terminal comes up" t_wait_cmd "$name" "sleep 60"
pid=$(pgrep -f "^$COI run --image $T_IMAGE -- sleep 60" | head -1)
$T kill-session -t t1
t_ok "closed terminal: coi ends" wait_exit "$pid"
t_ok "closed terminal: the container is gone" t_wait_gone "$name"
t_is "closed terminal: no immutable flag left on the host" "$(flags)" 0

# ---- a second signal, to a command that ignores the first ----
run_bg -- sh -c 'trap "" INT TERM; sleep 60'
job=$!
pid=$(coi_pid "$job")
t_ok "a session that ignores SIGINT comes up" t_wait_cmd "$name" "sleep 60"
kill -INT "$pid"
sleep 0.5
kill -INT "$pid"
wait "$job"
settled "a second Ctrl-C" 130

# ---- signals all through the teardown (synchronous, so it lasts) ----
COI_SYNC_TEARDOWN=1 run_bg -- sleep 60
job=$!
pid=$(coi_pid "$job")
t_ok "a session comes up" t_wait_cmd "$name" "sleep 60"
for _ in $(seq 300); do kill -INT "$pid" 2>/dev/null || break; sleep 0.05; done
wait "$job"
settled "Ctrl-C, again and again through the teardown" 130

# ---- a Ctrl-C while the session starts ----
run_bg -- sleep 60
job=$!
pid=$(coi_pid "$job")
sleep 0.3
kill -INT "$pid"
wait "$job"
settled "Ctrl-C during the start" 130

# ---- right after a session, it is not an orphan ----
# Asked again and again until the background teardown has deleted the container: between its
# stop and the end of its delete, the container is Stopped, and still its session's to remove.
t_wait_ws_clear "$ws"
orph=
for i in 1 2 3; do
    run -- true 2>/dev/null
    for j in $(seq 100); do
        orph+=$("$COI" list --json | jq -r '.active_containers[] | select(.orphan) | .name')
        orph+=$("$COI" clean --orphans --dry-run 2>&1 | grep -o "$name.*")
        [ -z "$(incus list "$name" -c n -f csv 2>/dev/null)" ] && break
    done
done
t_is "coi list and clean --orphans until the container is gone: no orphan" "$orph" ""

# ---- coi killed: the next coi command restores the flags ----
t_wait_ws_clear "$ws"
run_bg -- sleep 60
job=$!
pid=$(coi_pid "$job")
t_ok "a session comes up" t_wait_cmd "$name" "sleep 60"
kill -KILL "$pid"
wait "$job"
t_is "coi killed: the flags stay until a coi notices" "$(flags)" 2
out=$("$COI" list 2>&1)
t_like "the next coi list says what it mended" "$out" "coi process of session $name is gone"
t_is "and the flags are gone" "$(flags)" 0
t_is "the orphan's container is frozen: nothing in it acts" "$(incus list "$name" -c s -f csv)" FROZEN
t_like "coi list shows it orphaned" "$("$COI" list 2>&1)" "$name .*Orphaned"
t_ok "coi clean --orphans removes it" "$COI" clean --orphans
t_ok "the container is gone" t_wait_gone "$name"
t_done
