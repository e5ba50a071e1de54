#!/bin/bash
# SPDX-License-Identifier: MIT
# limits.runtime.max_duration of a detached coi shell session (tmux on the host drives coi shell,
# with the real image and its fake agent, dummy): the session's supervisor ends it once coi has
# gone (with monitoring on, the monitor's supervisor; off, one for the timer alone), and leaves
# no process behind. A later session that reuses the slot is never cut by the first one's timer.
# auto_stop = false only records it; a session that ends first (attached, or through coi attach)
# takes its timer with it. Also: SIGHUP to coi run cleans up, and coi shutdown forces
# a container whose init ignores the graceful stop after [container] shutdown_timeout.
# limits.runtime.stop_graceful = false reaches the detached session's supervisor as no grace
# (e2e 64 shows its effect on coi run).
# Keys whose effect this file shows (src/config/keys.c names it as their proof):
# container.shutdown_timeout.
. "$(dirname "$0")/lib.sh"
t_require_daemon
incus image info coi-default >/dev/null 2>&1 || t_bail "coi-default missing (run: tests/e2e/setup)"

ws=$(mktemp -d /tmp/coi-t-detach-XXXX)
export COI_HOME=$(mktemp -d)
cfg=$(mktemp)
t_defer "rm -rf '$ws' '$COI_HOME' '$cfg'"
t_defer "chattr -R -i '$ws'"
export COI_CONFIG=$cfg
git -C "$ws" init -q
name=$(t_session_name "$ws" 1)
hash=$(printf '%s' "$ws" | sha256sum | cut -c1-8)
T="tmux -L coi-t-detach-$$"
t_defer "$T kill-server; incus list 'coi-$hash-' -c n -f csv | xargs -r incus delete -f"

sup_pid() { t_supervisor_pid "$1"; }
# the processes coi left for NAME: supervisors, refreshers, background teardowns
leftovers() { pgrep -af "coi.* $1( |$)" | grep -v pgrep; }
rules() { nft list ruleset 2>/dev/null | grep -c "coi:$1"; }
wait_pid_gone() { # PID [TENTHS]
    for _ in $(seq "${2:-100}"); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
    return 1
}
wait_gone_long() { # NAME: up to 40 s
    for _ in $(seq 400); do
        [ -z "$(incus list "$1" -c n -f csv 2>/dev/null)" ] && return 0
        sleep 0.1
    done
    return 1
}
uuid() { incus config get "$1" volatile.uuid 2>/dev/null; }
# detached_shell: coi shell in the host tmux, the agent up, then Ctrl-b d
detached_shell() {
    t_term "INCUS_DIR=$INCUS_DIR COI_HOME=$COI_HOME COI_CONFIG=$cfg $COI shell"
    t_wait_screen "dummy agent ready \(session " || return 1
    $T send-keys -t t1 C-b d
    t_wait_screen "coi: detached; the agent keeps running in $name" && t_wait_screen "COI-EXIT=0"
}

# 1. monitoring on: the monitor's supervisor ends the detached session at max_duration.
printf '[tool]\nname = "dummy"\n[container]\nshutdown_timeout = 5\n[limits.runtime]\nmax_duration = "5s"\n[monitoring]\nenabled = true\n' >"$cfg"
t0=$(date +%s)
t_ok "a detached coi shell with max_duration = 5s" detached_shell
spid=$(sup_pid "$name")
t_like "its supervisor runs, with the deadline on its command line" "$(ps -o args= -p "${spid:-1}")" "--max-duration 5 --stop-timeout 5"
t_ok "the session is stopped and deleted within a bounded wait" wait_gone_long "$name"
t_ok "well within 40 s of the start" test $(($(date +%s) - t0)) -lt 40
t_ok "the supervisor ends with it" wait_pid_gone "${spid:-1}"
t_like "the audit log records why" "$(cat "$COI_HOME/audit/$name.jsonl" 2>/dev/null)" '"title":"Session time limit reached".*"action":"killed"'
t_is "no network rules are left" "$(rules "$name")" 0
t_fails "nor the owner record" test -e "$COI_HOME/run/$name.owner"
t_is "nor any process" "$(leftovers "$name")" ""
t_ok "the agent's state was saved" test -n "$(ls -d "$COI_HOME"/sessions-dummy/*/ 2>/dev/null)"

# 2. monitoring off: a supervisor for the timer alone. It is held (SIGSTOP) while its container
# is deleted and another instance of the same name is launched (not by coi: a coi session
# would stop a supervisor left of an earlier instance); let go after its deadline, the timer
# must not cut it.
printf '[tool]\nname = "dummy"\n[limits.runtime]\nmax_duration = "6s"\nstop_graceful = false\n[monitoring]\nenabled = false\n' >"$cfg"
t_ok "monitoring off: a detached shell with max_duration" detached_shell
spid=$(sup_pid "$name")
t_like "a timer-only supervisor runs" "$(ps -o args= -p "${spid:-1}")" "--timer-only --max-duration 6"
t_like "stop_graceful = false: its stop at the deadline is forced (no grace; shutdown_timeout is 60)" \
    "$(ps -o args= -p "${spid:-1}")" "--max-duration 6 --stop-timeout 0( |$)"
first=$(uuid "$name")
kill -STOP "$spid"
t_defer "kill -CONT $spid"
incus delete -f "$name" >/dev/null 2>&1
t_ok "the first session's container is deleted" t_wait_gone "$name"
t_defer "incus delete -f $name 2>/dev/null"
t_ok "a later instance takes the same name" t_launch "$name"
second=$(uuid "$name")
t_ok "another instance (volatile.uuid)" test -n "$second" -a "$second" != "$first"
sleep 7 # past the first session's deadline
kill -CONT "$spid"
t_ok "the first timer, let go after its deadline, ends" wait_pid_gone "$spid"
sleep 2
t_is "without touching the later instance" "$(incus list "$name" -c s -f csv)" RUNNING
t_is "the same instance" "$(uuid "$name")" "$second"
incus delete -f "$name" >/dev/null 2>&1
t_ok "the later instance is deleted" t_wait_ws_clear "$ws"

# 3. auto_stop = false: only recorded; the session goes on.
printf '[tool]\nname = "dummy"\n[limits.runtime]\nmax_duration = "3s"\nauto_stop = false\n' >"$cfg"
t_ok "auto_stop = false: a detached shell" detached_shell
spid=$(sup_pid "$name")
t_like "the supervisor only warns" "$(ps -o args= -p "${spid:-1}")" "--duration-warn-only"
rec() { grep -q '"title":"Session time limit reached".*"action":"alerted"' "$COI_HOME/audit/$name.jsonl"; }
wait_rec() { for _ in $(seq 200); do rec && return 0; sleep 0.1; done; return 1; }
t_ok "the audit log records that max_duration was reached" wait_rec
t_like "and the supervisor's log says auto_stop = false" "$(cat "$COI_HOME/logs/$name.monitor.log" 2>/dev/null)" "auto_stop = false"
sleep 2
t_is "the session goes on" "$(incus list "$name" -c s -f csv)" RUNNING
t_ok "the supervisor goes on: it runs the session's DNS filter" kill -0 "${spid:-1}"
# right after a detach (the idmapped workspace mount may be busy for a moment: coi retries)
t_ok "coi kill ends the session" "$COI" kill "$name"
t_ok "gone" t_wait_gone "$name"
t_is "no process is left" "$(leftovers "$name")" ""

# 3b. a detached session whose container is deleted outside coi (incus delete -f): no coi process
# is left to end it, so the next coi command that talks to the daemon makes the workspace's
# protected paths writable again and says so; coi clean --orphans removes the rest.
printf '[tool]\nname = "dummy"\n' >"$cfg"
immutable() { lsattr -d "$ws/.git/config" 2>/dev/null | awk '{print $1}' | grep -q i; }
t_ok "a detached shell" detached_shell
t_ok "its .git/config is immutable on the host" immutable
incus delete -f "$name" >/dev/null 2>&1
t_ok "its container is deleted outside coi" t_wait_gone "$name"
out=$("$COI" list 2>&1)
t_like "the next coi command says so" "$out" "detached session $name was deleted outside coi"
t_fails "and .git/config is no longer immutable" immutable
t_ok "coi clean --orphans" "$COI" clean --orphans
t_is "no network rules are left" "$(rules "$name")" 0
t_fails "nor the owner record" test -e "$COI_HOME/run/$name.owner"
t_is "nor any process" "$(leftovers "$name")" ""

# 4. a session that ends before its max_duration takes its timer with it: attached (the agent
# exits), and detached then ended through coi attach.
printf '[tool]\nname = "dummy"\n[limits.runtime]\nmax_duration = "1h"\n' >"$cfg"
t_term "INCUS_DIR=$INCUS_DIR COI_HOME=$COI_HOME COI_CONFIG=$cfg $COI shell"
t_ok "an attached shell with max_duration = 1h" t_wait_screen "dummy agent ready \(session "
spid=$(sup_pid "$name")
t_ok "has its timer" test -n "$spid"
$T send-keys -t t1 "exit" Enter
t_ok "the agent exits: coi ends" t_wait_screen "COI-EXIT=0"
t_ok "the timer ends with the session" wait_pid_gone "${spid:-1}"
t_ok "the container goes" t_wait_ws_clear "$ws"
t_is "no process is left" "$(leftovers "$name")" ""
t_ok "detached, the same" detached_shell
spid=$(sup_pid "$name")
t_ok "has its timer" test -n "$spid"
t_term "INCUS_DIR=$INCUS_DIR COI_HOME=$COI_HOME $COI attach"
t_ok "coi attach returns to the agent" t_wait_screen "dummy agent ready"
$T send-keys -t t1 "exit" Enter
t_ok "the agent exits: the session ends" t_wait_screen "coi: session $name ended"
t_ok "the timer ends with it" wait_pid_gone "${spid:-1}"
t_ok "the container is gone" t_wait_gone "$name"
t_is "no process is left" "$(leftovers "$name")" ""

# 5. SIGHUP to a running coi run (its terminal went away): the session is torn down.
printf '[container]\nshutdown_timeout = 3\n' >"$cfg"
(cd "$ws" && exec "$COI" run --image "$T_IMAGE" -- sleep 60 >/dev/null 2>&1) &
pid=$!
t_defer "kill -TERM $pid"
t_ok "coi run is up" t_wait_running "$name"
t_ok "its command runs" t_wait_cmd "$name" "sleep 60"
t_ok "its rules are in place" test "$(rules "$name")" -gt 0
kill -HUP "$pid"
t_ok "SIGHUP: coi run ends" wait_pid_gone "$pid" 300
t_ok "the container is gone" t_wait_ws_clear "$ws"
t_is "no network rules are left" "$(rules "$name")" 0
t_fails "no owner record" test -e "$COI_HOME/run/$name.owner"
t_ok "the workspace lock is free" flock -n "$COI_HOME/run/$hash.lock" true
t_is "no process is left" "$(leftovers "$name")" ""

# 6. coi shutdown: a session container whose init ignores the graceful stop (its halt signal is
# one busybox init ignores) is forced after [container] shutdown_timeout (3 s here).
incus launch "$T_IMAGE" "$name" -c boot.autostart=false -c user.coi.workspace="$ws" \
    -c raw.lxc='lxc.signal.halt = SIGWINCH' >/dev/null
t_ok "a session container that ignores the graceful stop is up" t_wait_running "$name"
t0=$(date +%s)
out=$(cd "$ws" && "$COI" shutdown "$name" 2>&1) && rc=0 || rc=$?
el=$(($(date +%s) - t0))
t_is "coi shutdown succeeds" "$rc" 0
t_like "and says so" "$out" "shut down $name"
t_ok "after the grace period (took ${el}s)" test "$el" -ge 3
t_ok "then forced, well before the default 60 s" test "$el" -lt 25
t_ok "the container is gone" t_wait_gone "$name"
t_done
