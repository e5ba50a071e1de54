#!/bin/bash
# SPDX-License-Identifier: MIT
# Other users (issue 16, item 6). The daemon was started with --group root, so no ordinary user
# could use coi; and under `sudo coi` (SUDO_UID set) container root left a mode-4755 file owned
# by an unmapped uid and directories the user could not delete in the workspace. Now setup-host
# makes and uses the group incus-admin (the daemon's socket, sudo for nft and for coi's workspace
# mount), maps its members and every regular user; and every session sees the workspace through
# an idmapped mount in which only the user's own ids are mapped, with setuid/setgid bits refused:
# what code writes is the user's, what container root tries to write, chown or chmod there is
# refused. Shown for the ordinary user coitest (uid 1234, in incus-admin, not in root's group;
# tests/e2e/setup makes it) with coi run and coi shell, and for root under sudo.
. "$(dirname "$0")/lib.sh"
t_require_daemon
incus image info coi-default >/dev/null 2>&1 || t_bail "coi-default missing (run: tests/e2e/setup)"

tmp=$(mktemp -d /tmp/coi-t-users-XXXX)
chmod 755 "$tmp"
t_defer "rm -rf '$tmp'"
T="tmux -L coi-t-users-$$"
t_defer "$T kill-server"

# ---- the host as setup-host left it ----
t_like "the daemon's socket belongs to incus-admin" "$(stat -c '%G %a' "$INCUS_SOCKET")" "^incus-admin 660$"
t_like "coitest is in incus-admin" "$(id -nG coitest)" "incus-admin"
t_fails "and not in root's group" sh -c "id -nG coitest | grep -qw root"
t_ok "its ids are mapped for raw.idmap" sh -c "grep -qx root:1234:1 /etc/subuid && grep -qx root:1234:1 /etc/subgid"
t_like "sudo lets the group apply nft rules and mount workspaces" "$(tail -n1 /etc/sudoers.d/coi 2>/dev/null)" \
    "^%incus-admin ALL=\(root\) NOPASSWD: /usr/sbin/nft, /usr/local/bin/coi __idmount \*"

# probe NAME: container root and code try to leave what the host user could not remove
probe() {
    incus exec "$1" -- sh -c 'cd /workspace; echo x > by-root; mkdir root-dir; touch code-file;
        chown 0:0 code-file; chmod 4755 code-file; mkdir -p code-dir; chmod 2775 code-dir; true' \
        </dev/null >/dev/null 2>&1
    incus exec "$1" --user 1000 --group 1000 -- sh -c 'cd /workspace; cp /bin/sh my-sh;
        chmod 4755 my-sh; echo $? > setuid-rc' </dev/null >/dev/null 2>&1
}
# judge WS WHO: every file there is the user's (1234:1234), none setuid or setgid, and the user
# can remove them all (after the session)
judge() {
    local ws=$1 who=$2
    t_is "$who: no file in the workspace belongs to anyone but the user" \
        "$(find "$ws" \( ! -uid 1234 -o ! -gid 1234 \) -printf '%p %u:%g\n')" ""
    t_is "$who: no setuid or setgid file" "$(find "$ws" -perm /6000 | wc -l)" 0
    t_fails "$who: container root could not create a file" test -e "$ws/by-root"
    t_fails "$who: nor a directory" test -e "$ws/root-dir"
    t_ok "$who: code's files are there, the user's" test "$(stat -c %u:%g "$ws/code-file" "$ws/my-sh" | sort -u)" = 1234:1234
    t_is "$who: code's chmod 4755 was refused" "$(cat "$ws/setuid-rc" 2>/dev/null)" 1
    t_ok "$who: the user can remove everything" setpriv --reuid 1234 --regid 1234 --init-groups \
        sh -c "find '$ws' -mindepth 1 -delete && test -z \"\$(ls -A '$ws')\""
}

# ---- coi run, as coitest (restricted network: sudo nft) ----
ws=$tmp/run
mkdir -p "$ws" && chown 1234:1234 "$ws"
setpriv --reuid 1234 --regid 1234 --init-groups git -C "$ws" init -q
touch "$ws/code-file" && chown 1234:1234 "$ws/code-file"
name=$(t_session_name "$ws" 1)
t_defer "incus delete -f $name"
(cd "$ws" && t_as_user "$COI" run --image "$T_IMAGE" -- sleep 60 >"$tmp/run.out" 2>&1) &
pid=$!
t_defer "kill $pid 2>/dev/null"
t_ok "coitest: coi run starts a session (restricted network)" t_wait_cmd "$name" sleep
t_like "its network rules are in place" "$(nft list chain ip coi "ct-$name" 2>&1)" "coi:$name"
probe "$name"
t_ok "the workspace is seen through coi's mount" grep -q "/run/coi/mounts/$name" /proc/mounts
kill -TERM "$pid"; wait "$pid" 2>/dev/null
t_ok "coitest: the session ends" t_wait_gone "$name"
t_fails "and its workspace mount is gone" grep -q "/run/coi/mounts/$name" /proc/mounts
judge "$ws" "coi run as coitest"

# ---- coi shell, as coitest, in a terminal ----
ws=$tmp/shell
mkdir -p "$ws" "$tmp/shell-home" && chown 1234:1234 "$ws" "$tmp/shell-home"
setpriv --reuid 1234 --regid 1234 --init-groups git -C "$ws" init -q
touch "$ws/code-file" && chown 1234:1234 "$ws/code-file"
printf '[tool]\nname = "dummy"\n' >"$tmp/shell.toml" && chmod 644 "$tmp/shell.toml"
name=$(t_session_name "$ws" 1)
t_defer "incus delete -f $name"
$T new-session -d -s t1 -x 120 -y 30 "cd '$ws' && setpriv --reuid 1234 --regid 1234 --init-groups env HOME=$tmp/shell-home COI_HOME=$tmp/shell-home/.coi COI_CONFIG=$tmp/shell.toml INCUS_SOCKET=$INCUS_SOCKET $COI shell; echo COI-EXIT=\$?; sleep 60"
screen() { $T capture-pane -p -t t1 2>/dev/null; }
wait_screen() { local i; for i in $(seq 200); do [[ "$(screen)" =~ $1 ]] && return 0; sleep 0.2; done; return 1; }
t_ok "coitest: coi shell shows the agent" wait_screen "dummy agent ready"
probe "$name"
$T send-keys -t t1 "exit" Enter
t_ok "coitest: the shell session ends" wait_screen "COI-EXIT=0"
t_ok "its container is deleted" t_wait_gone "$name"
judge "$ws" "coi shell as coitest"

# ---- root under sudo (SUDO_UID set): the session is the user's ----
ws=$tmp/sudo
mkdir -p "$ws" && chown 1234:1234 "$ws"
setpriv --reuid 1234 --regid 1234 --init-groups git -C "$ws" init -q
touch "$ws/code-file" && chown 1234:1234 "$ws/code-file"
name=$(t_session_name "$ws" 1)
t_defer "incus delete -f $name"
(cd "$ws" && exec env SUDO_UID=1234 SUDO_GID=1234 SUDO_USER=coitest COI_HOME=$tmp/sudo-home \
    "$COI" run --image "$T_IMAGE" -- sleep 60 >"$tmp/sudo.out" 2>&1) &
pid=$!
t_defer "kill $pid 2>/dev/null"
t_ok "sudo coi: a session starts" t_wait_cmd "$name" sleep
probe "$name"
kill -TERM "$pid"; wait "$pid" 2>/dev/null
t_ok "sudo coi: the session ends" t_wait_gone "$name"
judge "$ws" "sudo coi"

t_done
