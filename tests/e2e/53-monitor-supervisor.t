#!/bin/bash
# SPDX-License-Identifier: MIT
# The detached supervisor: one per container (a pid file it keeps locked), found and stopped by
# name, alerts written to the user's terminal, gone by itself when its container is; the /proc
# scan fallback; coi audit --follow.
. "$(dirname "$0")/monitor-lib.sh"

c=$(t_name monitor)
t_defer "incus delete -f $c"
m_launch "$c" || t_bail "cannot launch $c"
tty="$COI_HOME/tty"
: >"$tty"
pid=$("$COI" monitor "$c" --daemon --tty "$tty")
t_like "--daemon prints the supervisor's pid" "$pid" '^[0-9]+$'
t_is "its pid file names it" "$(cat "$COI_HOME/run/$c.pid")" "$pid"
t_fails "a second supervisor for the same container is refused" "$COI" monitor "$c" --daemon

follow="$COI_HOME/follow.out"
"$COI" audit "$c" --follow >"$follow" 2>&1 &
fpid=$!
t_defer "kill $fpid"
sleep 0.3
m_run "$c" "env | grep -i secret"
line=$(m_wait_rule "$c" env-dump-grep)
t_like "the finding is in the audit log" "$line" '"action":"alerted"'
sleep 0.3
t_like "coi audit --follow printed it" "$(cat "$follow")" "warning +alerted +process +Environment variable scanning detected"
t_like "the user's terminal got the alert" "$(cat "$tty")" "coi: Environment variable scanning detected in '$c'"
kill "$fpid" 2>/dev/null

t_is "--stop stops it" "$("$COI" monitor "$c" --stop)" stopped
t_ok "the supervisor process is gone" sh -c "! test -d /proc/$pid || grep -q '^State:.*Z' /proc/$pid/status"
t_is "--stop again: nothing runs" "$("$COI" monitor "$c" --stop)" "not running"

# The /proc scan: what runs without the proc connector (no CAP_NET_ADMIN). It sees what lives
# across a scan (every 500 ms): here the shell, kept alive by its last command not being a tail
# exec. A command that starts and ends between two scans is not seen: the proc connector is the
# real source, this the fallback.
t_ok "a scanning supervisor starts" m_monitor "$c" --scan
m_run "$c" "cat /proc/1/environ >/dev/null; sleep 2; true" &
t_ok "scan: a HIGH finding freezes the container" m_wait_state "$c" FROZEN
t_like "scan: its audit line" "$(m_wait_rule "$c" env-proc-environ)" '"action":"paused"'
"$COI" unfreeze "$c" >/dev/null
wait

# Gone with its container.
t_ok "delete the container" incus delete -f "$c"
t_ok "the supervisor ends by itself" m_supervisor_gone "$c"

t_done
