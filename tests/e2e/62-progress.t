#!/bin/bash
# SPDX-License-Identifier: MIT
# Container creation on a slow pool, as a user sees it in a terminal (tmux). A dir pool unpacks
# the whole image for every container (coi-default: ~10 s here, against ~0.4 s on btrfs), and the
# daemon reports the unpack in the operation's metadata: coi draws it as a bar on stderr and clears
# the line when the container is made. Through a pipe nothing of it appears.
# Screens are kept in $COI_T_SCREENS (default build/screens/).
# Keys whose effect this file shows (src/config/keys.c names it as their proof):
# container.storage_pool.
. "$(dirname "$0")/lib.sh"
t_require_daemon
command -v tmux >/dev/null || t_bail "tmux is missing (apt-get install tmux)"
incus image info coi-default >/dev/null 2>&1 || t_bail "coi-default missing (run: tests/e2e/setup)"
screens=${COI_T_SCREENS:-$T_ROOT/build/screens}
mkdir -p "$screens"

pool=coi-t-slow-$$
incus storage create "$pool" dir >/dev/null || t_bail "cannot make a dir pool"
t_defer "incus storage delete $pool >/dev/null"
home=$(mktemp -d /tmp/coi-t-progress-home-XXXX)
t_defer "rm -rf '$home'"
printf '[container]\nstorage_pool = "%s"\n' "$pool" >"$home/config.toml"
ws=$(mktemp -d /tmp/coi-t-progress-XXXX)
t_defer "rm -rf '$ws'"
git -C "$ws" init -q
name=$(t_session_name "$ws" 1)
# a dir pool's delete removes the whole unpacked image: 11-23 s in earlier runs here, 93 s once
# (CI 2026-12-08, the disk busy), where the btrfs pool's takes a fraction of a second
clear_secs=180
# deferred in reverse: the container goes before its pool
t_defer "incus delete -f $name >/dev/null 2>&1; t_wait_ws_clear '$ws' $clear_secs"

sock=coi-t-progress-$$
tm() { tmux -L "$sock" "$@"; }
t_defer "tmux -L $sock kill-server"
tm new-session -d -s p -x 120 -y 20 \
    "env -i HOME=$home COI_HOME=$home TERM=xterm-256color PATH=$COI_BUILD:/usr/bin:/bin INCUS_SOCKET=$INCUS_SOCKET PS1='\\$ ' bash --norc --noprofile"
pane() { tm capture-pane -p -t p; }
wait_for() { # REGEX TENTHS: bounded wait until the pane shows REGEX
    local i
    for i in $(seq "$2"); do [[ "$(pane)" =~ $1 ]] && return 0; sleep 0.1; done
    return 1
}
t_ok "a shell in tmux" wait_for '[#$]' 50
tm send-keys -t p "cd $ws && coi run -- echo made-it; echo rc=\$?" Enter
t_ok "a bar with the unpack's percentage while the container is made" \
    wait_for 'creating the container \[#*\.*\] +[0-9]+%' 300
pane >"$screens/progress-creating.txt"
t_ok "the run completes" wait_for 'rc=[0-9]+' 600
out=$(pane)
pane >"$screens/progress-done.txt"
t_like "with the command's output and status" "$out" $'made-it\nrc=0'
t_fails "and the bar's line cleared" grep -q 'creating the container' <<<"$out"
t_ok "the container is deleted" t_wait_ws_clear "$ws" "$clear_secs"

err=$(cd "$ws" && COI_HOME=$home "$COI" run -- true 2>&1 >/dev/null)
t_is "through a pipe the run succeeds" "$?" 0
t_fails "and shows no bar" grep -q 'creating the container' <<<"$err"

# a pool that is not there: the error names it and the setting, and nothing is left
t_ok "the piped run's container is deleted" t_wait_ws_clear "$ws" "$clear_secs"
printf '[container]\nstorage_pool = "coi-t-no-such-pool"\n' >"$home/config.toml"
err=$(cd "$ws" && COI_HOME=$home "$COI" run -- true 2>&1 >/dev/null)
t_is "a missing pool fails the run" "$?" 1
t_like "naming the pool, the setting and what to run" "$err" \
    "storage pool 'coi-t-no-such-pool' \(\[container\] storage_pool\) does not exist.*incus storage list"
t_is "and leaves no container" "$(incus list "$name" -c n -f csv)" ""
t_done
