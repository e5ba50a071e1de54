#!/bin/bash
# SPDX-License-Identifier: MIT
# coi run: exit status, identity and ownership, the setuid-planting attack, cleanup on every exit
# path, concurrent slots. Uses the tiny image (the agents' image is for the session tests).
. "$(dirname "$0")/lib.sh"
t_require_daemon
run() { "$COI" run --image "$T_IMAGE" "$@"; }
# In the background, coi itself must be the job (not a shell around it), so signals reach it.
run_bg() { "$COI" run --image "$T_IMAGE" "$@" >/dev/null 2>&1 & }

ws=$(mktemp -d "/tmp/coi-t-run ws ü-XXXX") # a space and unicode in the path, on purpose
t_defer "rm -rf '$ws'"
git -C "$ws" init -q
cd "$ws"

rc=0; run -- true || rc=$?; t_is "exit status 0 passes through" "$rc" 0
rc=0; run -- false || rc=$?; t_is "exit status 1 passes through" "$rc" 1
rc=0; run -- sh -c 'exit 42' || rc=$?; t_is "exit status 42 passes through" "$rc" 42
# The end of an ephemeral session: when coi returns, no process of the container is left (its
# init killed through a pidfd, the kernel ends the rest; a freeze kept them), and what the
# command left running writes no more.
procs() { find "/sys/fs/cgroup/pids/lxc.payload.$1" -name cgroup.procs -exec cat {} + 2>/dev/null | wc -l; }
tick='while :; do date >>/workspace/tick; sleep 0.02; done'
t_ok "a session leaves a writer running" run -- sh -c "setsid sh -c '$tick' </dev/null >/dev/null 2>&1 & sleep 0.2"
t_is "no process of the container is left when coi returns" "$(procs "$(t_session_name "$ws" 1)")" 0
a=$(wc -c <tick)
sleep 0.5
t_is "what it left running writes no more" "$(wc -c <tick)" "$a"
t_ok "the container is gone" t_wait_ws_clear "$ws"
rm -f tick
out=$(run -- sh -c 'id -u; id -g; pwd' 2>/dev/null)
t_is "runs as code (1000:1000) in /workspace" "$(echo $out)" "1000 1000 /workspace"
t_is "stdout is the command's only (diagnostics on stderr)" \
    "$(run -- echo just-this 2>/dev/null)" "just-this"

# Ownership, host root: the agent's files are root's on the host.
run -- sh -c 'echo hi > by-code; mkdir -p d/e; touch d/e/f' 2>/dev/null
t_is "host root: a file code writes is owned by 0:0" "$(stat -c %u:%g by-code)" "0:0"
t_is "host root: nested directories too" "$(stat -c %u:%g d/e d/e/f | sort -u)" "0:0"

# Ownership, another host user (coitest, uid 1234): its files are its own. A user without root
# or sudo for nft (uid 1235, in incus-admin but not in passwd, so sudo refuses it) cannot enforce
# a network policy: a clear refusal; coitest may (sudo, as setup-host allows incus-admin), and
# runs in open mode here (the network tests cover the rest).
mkdir -p /tmp/coi-t-home-1234/.coi
printf '[network]\nmode = "open"\n' >/tmp/coi-t-home-1234/.coi/config.toml
chown -R 1234:1234 /tmp/coi-t-home-1234
t_defer "rm -rf /tmp/coi-t-home-1234"
uws=$(mktemp -d /tmp/coi-t-run-user-XXXX)
t_defer "rm -rf '$uws'"
chown 1234:1234 "$uws"
nws=$(mktemp -d /tmp/coi-t-run-nosudo-XXXX)
t_defer "rm -rf '$nws'"
mkdir -p "$nws/ws" "$nws/home" && chown -R 1235:1235 "$nws"
out=$(cd "$nws/ws" && setpriv --reuid 1235 --regid 1235 --groups "$(getent group incus-admin | cut -d: -f3)" \
    env HOME="$nws/home" COI_HOME="$nws/home/.coi" COI_CONFIG=/dev/null \
    "$COI" run --image "$T_IMAGE" -- true 2>&1)
t_like "a user without nft rights, restricted mode: a clear refusal" "$out" "run it as root, give it CAP_NET_ADMIN"
out=$(cd "$uws" && t_as_user "$COI" run --image "$T_IMAGE" -- sh -c 'echo hi > mine; id -u' 2>&1)
t_like "uid 1234: the session runs" "$out" "1000"
t_is "uid 1234: a file code writes is owned by 1234:1234" "$(stat -c %u:%g "$uws/mine" 2>&1)" "1234:1234"

# The setuid-planting attack, as container root (what code reaches with sudo), while a session
# runs. Host root's session: container root cannot create files in the workspace at all.
name=$(t_session_name "$ws" 1)
t_ok "the earlier sessions' containers are gone" t_wait_ws_clear "$ws"
run_bg -- sleep 30
pid=$!
t_defer "kill $pid 2>/dev/null"
t_ok "a long session comes up" t_wait_running "$name"
incus exec "$name" -- sh -c 'cp /bin/busybox /workspace/rootshell; chmod 4755 /workspace/rootshell' >/dev/null 2>&1
t_fails "container root cannot plant a file in host root's workspace" test -e "$ws/rootshell"
out=$(incus exec "$name" --user 1000 --group 1000 -- sh -c 'cp /bin/busybox /workspace/mine && chmod 4755 /workspace/mine; echo rc=$?' 2>&1)
t_like "code cannot set the setuid bit (seccomp)" "$out" "rc=1"
t_is "the host sees no setuid file" "$(find "$ws" -perm /6000 | wc -l)" 0
out=$(incus exec "$name" --user 1000 --group 1000 -- sh -c 'chmod 2755 /workspace/mine; echo rc=$?' 2>&1)
t_like "nor the setgid bit" "$out" "rc=1"
kill -TERM "$pid"; wait "$pid" 2>/dev/null
t_ok "SIGTERM ends the session and deletes the container" t_wait_gone "$name"
t_fails "the idmapped workspace mount is gone" grep -q "/run/coi/mounts/$name" /proc/mounts

# Another user's session: container root's files are an unprivileged host uid.
uname=$(t_session_name "$uws" 1)
(cd "$uws" && t_as_user "$COI" run --image "$T_IMAGE" -- sleep 30 >/dev/null 2>&1) &
# the subshell execs setpriv, which execs env, which execs coi: $! is coi
pid=$!
t_defer "kill $pid 2>/dev/null"
t_ok "uid 1234: a long session comes up" t_wait_running "$uname"
incus exec "$uname" -- sh -c 'cp /bin/busybox /workspace/rootshell; chmod 4755 /workspace/rootshell' >/dev/null 2>&1
owner=$(stat -c %u "$uws/rootshell" 2>/dev/null || echo none)
t_ok "uid 1234: what container root plants is not host-root-owned ($owner)" test "$owner" != 0
t_is "uid 1234: no root-owned setuid file on the host" \
    "$(find "$uws" -user 0 -perm /6000 | wc -l)" 0
kill -TERM "$pid"; wait "$pid" 2>/dev/null
t_ok "uid 1234: the container is deleted" t_wait_gone "$uname"

# Two sessions of one project at once take different slots.
t_wait_ws_clear "$ws"
run_bg -- sleep 8
p1=$!
t_defer "kill $p1 2>/dev/null"
t_ok "first concurrent session in slot 1" t_wait_running "$name"
out=$(run -- sh -c 'hostname' 2>/dev/null)
t_is "a second one gets slot 2" "$out" "$(t_session_name "$ws" 2)"
wait "$p1"

# SIGINT at several points of the start leaves nothing behind (0.3-0.6 s: while coi's own
# readiness commands run, where a signal was once taken for them and lost).
prefix="coi-$(printf '%s' "$ws" | sha256sum | cut -c1-8)-"
for delay in 0.05 0.2 0.3 0.4 0.5 0.6 0.7 1.5; do
    run_bg -- sleep 30
    pid=$!
    sleep "$delay"
    kill -INT "$pid"
    # coi must end promptly (not after the 30 s command), having cleaned up
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    t_fails "SIGINT after ${delay}s: coi ends within 10 s" kill -0 "$pid"
    wait "$pid" 2>/dev/null
    # an ephemeral container is deleted by a detached child after coi returns: wait for it
    for _ in $(seq 50); do [ -z "$(incus list "$prefix" -c n -f csv)" ] && break; sleep 0.1; done
    t_is "SIGINT after ${delay}s: no container left" "$(incus list "$prefix" -c n -f csv)" ""
done
t_is "no idmapped mount of this workspace left" "$(grep -c "/run/coi/mounts/$prefix" /proc/mounts)" 0
t_is "no immutable flag left in the workspace" "$(lsattr -R -d "$ws/.git/hooks" "$ws/.git/config" 2>/dev/null | grep -c -- '-i-')" 0
t_done
