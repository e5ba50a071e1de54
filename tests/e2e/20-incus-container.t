#!/bin/bash
# SPDX-License-Identifier: MIT
# coi container verbs against the real daemon: launch, exists/running, exec (exit status, stdout
# and stderr, --user/--group/--cwd/--env, --capture json), list, info, stop/start, delete, error
# cases; and no 'incus' child process anywhere (strace). The incus CLI only observes.
. "$(dirname "$0")/lib.sh"
t_require_daemon

# Every execve coi makes, except its own start (strace -f follows children).
t_execs() {
    local log
    log=$(mktemp)
    strace -f -qq -e trace=execve -o "$log" "$@" >/dev/null 2>&1 || true
    grep -c 'execve(' "$log"
    rm -f "$log"
}

c=$(t_name incus)
t_defer "incus delete -f $c"
t_ok "launch" "$COI" container launch "$T_IMAGE" "$c" -c boot.autostart=false
t_is "incus sees it running" "$(incus list "$c" -c s -f csv)" "RUNNING"
t_ok "exists" "$COI" container exists "$c"
t_ok "running" "$COI" container running "$c"
t_fails "exists: no such container" "$COI" container exists "$c-nope"
t_fails "running: no such container" "$COI" container running "$c-nope"
# an unreachable daemon is an error (2, named), never "no such container" (1)
rc=0; err=$(INCUS_SOCKET=/nonexistent/coi-t/unix.socket "$COI" container exists "$c" 2>&1) || rc=$?
t_is "exists: a missing socket exits 2" "$rc" 2
t_like "exists: the message names the socket" "$err" "/nonexistent/coi-t/unix.socket"
rc=0; INCUS_SOCKET=/nonexistent/coi-t/unix.socket "$COI" container running "$c" 2>/dev/null || rc=$?
t_is "running: a missing socket exits 2" "$rc" 2

t_is "exec prints stdout" "$("$COI" container exec "$c" -- echo hello)" "hello"
rc=0; "$COI" container exec "$c" -- sh -c 'exit 42' || rc=$?
t_is "exec passes the exit status through" "$rc" 42
out=$("$COI" container exec "$c" -- sh -c 'echo out; echo err >&2' 2>/dev/null)
t_is "stdout stays stdout" "$out" "out"
err=$("$COI" container exec "$c" -- sh -c 'echo out; echo err >&2' 2>&1 >/dev/null)
t_is "stderr stays stderr" "$err" "err"
t_is "--user/--group" "$("$COI" container exec "$c" --user 1000 --group 1000 -- sh -c 'echo $(id -u):$(id -g)')" "1000:1000"
t_is "--cwd" "$("$COI" container exec "$c" --cwd /tmp -- pwd)" "/tmp"
t_is "--env (twice)" "$("$COI" container exec "$c" --env FOO=bar --env X=a=b -- sh -c 'echo $FOO $X')" "bar a=b"
json=$("$COI" container exec "$c" --capture --format json -- sh -c 'echo o; echo e >&2; exit 3') || true
t_is "--capture --format json" "$(jq -c '[.stdout,.stderr,.exit_code]' <<<"$json")" '["o\n","e\n",3]'
rc=0; "$COI" container exec "$c" -- no-such-command 2>/dev/null || rc=$?
t_is "a missing command exits 127" "$rc" 127
rc=0; "$COI" container exec "$c" --capture -t -- true 2>/dev/null || rc=$?
t_is "--tty and --capture conflict: usage error" "$rc" 2
rc=0; "$COI" container exec "$c" --format json -- true 2>/dev/null || rc=$?
t_is "--format without --capture: usage error" "$rc" 2

t_is "list --json names it" "$("$COI" container list --json | jq -r --arg c "$c" '.[] | select(.name == $c) | .status')" "Running"
t_like "list (table)" "$("$COI" container list --prefix "$c")" "$c +Running"
info=$("$COI" container info "$c" --json)
t_is "info --json: status" "$(jq -r .status <<<"$info")" "Running"
t_is "info --json: pid is init's" "$(jq -r .pid <<<"$info")" "$(incus query "/1.0/instances/$c/state" | jq -r .pid)"
t_is "info --json: host veth" "$(jq -r .host_veth <<<"$info")" "$(incus query "/1.0/instances/$c/state" | jq -r .network.eth0.host_name)"
t_like "info (text)" "$("$COI" container info "$c")" "Status: Running"

t_is "no process but coi itself: exec" "$(t_execs "$COI" container exec "$c" -- true)" 1
t_is "no process but coi itself: list" "$(t_execs "$COI" container list)" 1

t_ok "stop --force" "$COI" container stop "$c" --force
t_is "incus sees it stopped" "$(incus list "$c" -c s -f csv)" "STOPPED"
t_fails "running: stopped" "$COI" container running "$c"
t_fails "exec in a stopped container fails" "$COI" container exec "$c" -- true
t_ok "start" "$COI" container start "$c"
t_is "incus sees it running again" "$(incus list "$c" -c s -f csv)" "RUNNING"
t_fails "launch: duplicate name" "$COI" container launch "$T_IMAGE" "$c"
t_fails "delete a running container without --force" "$COI" container delete "$c"
t_is "no process but coi itself: delete --force" "$(t_execs "$COI" container delete "$c" --force)" 1
t_is "it is gone" "$(incus list "$c" -c n -f csv)" ""

e=$(t_name incus-eph)
t_defer "incus delete -f $e"
t_ok "launch --ephemeral" "$COI" container launch "$T_IMAGE" "$e" --ephemeral
t_ok "stop --force an ephemeral container" "$COI" container stop "$e" --force
t_is "an ephemeral container is gone once stopped" "$(incus list "$e" -c n -f csv)" ""

t_fails "launch: unknown image" "$COI" container launch coi-t-no-such-image "$e"
out=$("$COI" container exec "$c-nope" -- true 2>&1) && rc=0 || rc=$?
t_is "exec: unknown container exits 1" "$rc" 1
t_like "and says why" "$out" "not found"
rc=0; "$COI" container bogus 2>/dev/null || rc=$?
t_is "unknown subcommand: usage error" "$rc" 2
rc=0; "$COI" container stop 2>/dev/null || rc=$?
t_is "missing name: usage error" "$rc" 2

t_done
