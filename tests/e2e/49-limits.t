#!/bin/bash
# SPDX-License-Identifier: MIT
# [limits]: the container's resource limits as Incus applies them, and the session's wall-clock
# cap (max_duration): the command is ended with a message, or only warned about with
# auto_stop = false.
# Keys whose effect this file shows (src/config/keys.c names it as their proof):
# limits.runtime.max_duration, limits.runtime.auto_stop, limits.cpu.count, limits.memory.limit,
# limits.runtime.max_processes.
. "$(dirname "$0")/lib.sh"
t_require_daemon

ws=$(mktemp -d /tmp/coi-t-limits-XXXX)
tmp=$(mktemp -d)
t_defer "rm -rf '$ws' '$tmp'"
cd "$ws"
git init -q .
name=$(t_session_name "$ws" 1)
prefix=${name%1}
t_defer "incus list '$prefix' -c n -f csv | xargs -r incus delete -f"
export COI_CONFIG=$tmp/c.toml

cat >"$COI_CONFIG" <<'X'
[limits.cpu]
count = "1"
[limits.memory]
limit = "256MiB"
[limits.runtime]
max_processes = 300
X
"$COI" run --image "$T_IMAGE" -- sleep 60 >/dev/null 2>&1 &
pid=$!
t_defer "kill $pid 2>/dev/null"
t_ok "a session with limits comes up" t_wait_running "$name"
t_is "limits.memory is applied (in bytes)" "$(incus config get "$name" limits.memory)" "268435456"
t_is "limits.cpu is applied" "$(incus config get "$name" limits.cpu)" "1"
t_is "max_processes becomes limits.processes" "$(incus config get "$name" limits.processes)" "300"
t_like "the container sees its memory limit (lxcfs)" \
    "$(incus exec "$name" -- awk '/MemTotal/{print $2}' /proc/meminfo)" '^26[0-9]{4}$'
kill -TERM "$pid"
wait "$pid" 2>/dev/null
t_ok "the session ends" t_wait_ws_clear "$ws"

printf '[container]\nshutdown_timeout = 5\n[limits.runtime]\nmax_duration = "2s"\n' >"$COI_CONFIG"
t0=$(date +%s)
out=$("$COI" run --image "$T_IMAGE" -- sleep 60 2>&1) && rc=0 || rc=$?
t1=$(date +%s)
t_isnt() { if [ "$2" != "$3" ]; then _t_result 0 "$1"; else _t_result 1 "$1"; t_diag "got '$2'"; fi; }
t_isnt "max_duration ends the command: non-zero exit" "$rc" 0
t_like "with a message naming the limit" "$out" "max_duration \(2s\) reached: ending the session"
t_ok "well before the command's 60 s" test $((t1 - t0)) -lt 40
t_ok "and the container goes" t_wait_ws_clear "$ws"

printf '[limits.runtime]\nmax_duration = "2s"\nauto_stop = false\n' >"$COI_CONFIG"
out=$("$COI" run --image "$T_IMAGE" -- sh -c 'sleep 4; echo finished' 2>&1) && rc=0 || rc=$?
t_is "auto_stop = false: the command runs to its end" "$rc" 0
t_like "and says so" "$out" "finished"
t_like "after a warning" "$out" "max_duration reached; auto_stop = false"
t_done
