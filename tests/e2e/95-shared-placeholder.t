#!/bin/bash
# SPDX-License-Identifier: MIT
# Two sessions of one workspace at once, and the placeholders coi makes to protect git paths that
# do not exist yet (.git/hooks here): the first session made it, the second protects it too. When
# the first ends while the second runs, the placeholder must stay (the second's read-only mount
# is on it: removed, the mount goes with it, and the second's agent could write hooks the host
# then runs); the last session's end removes it. (Ten `coi run` at once in one workspace,
# bench/12-scale.sh, failed to start: a session's end took the placeholder another was mounting.)
. "$(dirname "$0")/lib.sh"
t_require_daemon

ws=$(mktemp -d /tmp/coi-t-shph-XXXX)
t_defer "rm -rf '$ws' '$ws.toml' '$ws.err' '$ws.err2'"
git -C "$ws" init -q
rm -rf "$ws/.git/hooks"
printf '' >"$ws.toml"

t_bg_session root "$ws" ''
a_name=$name a_pid=$pid
t_ok "the first session comes up" t_bg_up
t_ok "it made the placeholder .git/hooks" test -d "$ws/.git/hooks"

b_name=$(t_session_name "$ws" 2)
t_defer "incus delete -f '$b_name' 2>/dev/null"
(cd "$ws" && COI_CONFIG=$ws.toml exec "$COI" run --image "$T_IMAGE" -- sleep 120 >/dev/null 2>"$ws.err2") &
b_pid=$!
t_defer "kill $b_pid 2>/dev/null"
t_ok "a second session of the workspace comes up" eval 't_wait_running "$b_name" && t_wait_cmd "$b_name" "sleep 120"'

kill -TERM "$a_pid"
wait "$a_pid" 2>/dev/null
t_ok "the first session ends" t_wait_gone "$a_name"
t_ok "the placeholder stays while the second runs" test -d "$ws/.git/hooks"
name=$b_name
t_in_as 1000 'mkdir -p /workspace/.git/hooks; echo "#!/bin/sh" >/workspace/.git/hooks/pre-commit'
t_in_as root 'mkdir -p /workspace/.git/hooks; echo "#!/bin/sh" >/workspace/.git/hooks/post-checkout'
t_fails "the second session's code cannot plant a hook" test -e "$ws/.git/hooks/pre-commit"
t_fails "nor its root" test -e "$ws/.git/hooks/post-checkout"

kill -TERM "$b_pid"
wait "$b_pid" 2>/dev/null
t_ok "the second session ends" t_wait_gone "$b_name"
t_fails "the last end removes the placeholder" test -e "$ws/.git/hooks"
t_is "no protection state of either is left" "$(ls ~/.coi/run 2>/dev/null | grep -c "^$a_name\.\|^$b_name\.")" 0
t_done
