#!/bin/bash
# SPDX-License-Identifier: MIT
# The warm pool ([container] warm = 1) and the placeholders coi makes to protect git paths that
# do not exist yet (.git/hooks here). A warm container of the workspace has its read-only mounts
# on them, but no coi process: a session that made them and ends while the warm container waits
# must leave them (removed, the warm container's mount of .git/hooks goes with them, and the
# session that claims it next could plant hooks the host then runs). Fails before: the end took
# .git/hooks, and the claiming session's code user wrote pre-commit onto the host.
. "$(dirname "$0")/lib.sh"
t_require_daemon

tmp=$(mktemp -d /tmp/coi-t-wph-XXXX)
t_defer "rm -rf '$tmp'"
ws=$tmp/ws
mkdir -p "$ws" && git -C "$ws" init -q
rm -rf "$ws/.git/hooks"
export COI_HOME=$tmp/coi COI_CONFIG=$tmp/c.toml
printf '[container]\nwarm = 1\n' >"$COI_CONFIG"
prefix="coi-$(printf '%s' "$ws" | sha256sum | cut -c1-8)-"
for s in 1 2 3; do t_defer "incus delete -f $prefix$s 2>/dev/null"; done
t_defer "COI_HOME='$COI_HOME' '$COI' clean >/dev/null 2>&1"
warm_names() { t_warm_names "$prefix"; }
wait_warm() { for _ in $(seq 180); do [ -n "$(warm_names)" ] && return 0; sleep 0.5; done; return 1; }

# the first session makes the placeholder; its filler boots a warm container behind it
(cd "$ws" && exec "$COI" run --image "$T_IMAGE" -- sleep 30 >/dev/null 2>"$tmp/a.err") &
a_pid=$!
t_defer "kill $a_pid 2>/dev/null"
name=${prefix}1
t_ok "the first session comes up" eval 't_wait_running "$name" && t_wait_cmd "$name" "sleep 30"'
t_ok "it made the placeholder .git/hooks" test -d "$ws/.git/hooks"
t_ok "a warm container of the workspace is ready beside it" wait_warm
warm=$(warm_names | head -1)
kill -TERM "$a_pid"
wait "$a_pid" 2>/dev/null
t_ok "the first session ends" t_wait_gone "$name"
t_ok "the placeholder stays while the warm container waits" test -d "$ws/.git/hooks"

# the next session claims it and tries to plant hooks, as code and as root
(cd "$ws" && COI_LOG_LEVEL=debug exec "$COI" run --image "$T_IMAGE" -- sleep 60 >/dev/null 2>"$tmp/b.err") &
b_pid=$!
t_defer "kill $b_pid 2>/dev/null"
name=$warm
t_ok "the next session claims it" eval 't_wait_cmd "$name" "sleep 60"'
t_like "(the debug log says so)" "$(cat "$tmp/b.err")" "claimed warm"
t_in_as 1000 'mkdir -p /workspace/.git/hooks; echo "#!/bin/sh" >/workspace/.git/hooks/pre-commit'
t_in_as root 'mkdir -p /workspace/.git/hooks; echo "#!/bin/sh" >/workspace/.git/hooks/post-checkout'
t_fails "its code cannot plant a hook" test -e "$ws/.git/hooks/pre-commit"
t_fails "nor its root" test -e "$ws/.git/hooks/post-checkout"
kill -TERM "$b_pid"
wait "$b_pid" 2>/dev/null
t_ok "that session ends" t_wait_gone "$warm"

# ---- coi clean while the filler makes the next container: it stops the filler, removes it ----
# (before, coi clean left a container being made, and its filler marked it: the pool came back,
# with the placeholder; the workspace's lock held here keeps the filler from marking meanwhile)
lockf=${prefix#coi-}
lockf=$COI_HOME/run/${lockf%-}.lock
making() { # a container of the workspace being made (not yet marked), its filler's start done
    local i
    for i in $(seq 600); do
        incus list "$prefix" -f csv -c n | while read -r n; do
            [ "$(incus config get "$n" user.coi.warm 2>/dev/null)" = filling ] && echo "$n"
        done | grep -q . && [ ! -e "$lockf" ] && return 0
        sleep 0.05
    done
    return 1
}
# (the session's own filler filled the pool while it ran: a short one claims that, and its filler
# makes the next once it ends)
t_ok "a warm container is ready" wait_warm
(cd "$ws" && "$COI" run --image "$T_IMAGE" -- true >/dev/null 2>&1)
t_ok "a filler makes the next container" making
flock "$lockf" sleep 5 &
lk=$!
"$COI" clean >/dev/null 2>&1
wait "$lk"
sleep 3
t_is "coi clean removed the container being made, and its filler made no other" \
    "$(incus list "$prefix" -c n -f csv)" ""
t_fails "once the pool is gone too, the placeholder is removed" test -e "$ws/.git/hooks"
# ---- a warm container that stopped (a host reboot: boot.autostart is off; its guest crashed) ----
# can never be claimed; before, its record ("warm") read as a live owner's, so neither the next
# fill nor coi clean (even --orphans) removed it: it held its slot and disk for good
(cd "$ws" && "$COI" run --image "$T_IMAGE" -- true >/dev/null 2>&1)
t_ok "a warm container is ready again" wait_warm
stopped=$(warm_names | head -1)
incus stop -f "$stopped" >/dev/null 2>&1
(cd "$ws" && "$COI" run --image "$T_IMAGE" -- true >/dev/null 2>&1)
gone_and_warm() {
    for _ in $(seq 240); do
        ! incus info "$stopped" >/dev/null 2>&1 && [ -n "$(warm_names)" ] && return 0
        sleep 0.5
    done
    return 1
}
t_ok "the next fill removes the stopped warm container and makes a running one" gone_and_warm
stopped=$(warm_names | head -1)
incus stop -f "$stopped" >/dev/null 2>&1
"$COI" clean >/dev/null 2>&1
t_fails "coi clean removes a stopped warm container" incus info "$stopped"
t_is "and what it left on the host" "$(ls "$COI_HOME/run" | grep -c "^$stopped\.")" 0
t_done
