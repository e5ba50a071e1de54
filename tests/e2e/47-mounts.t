#!/bin/bash
# SPDX-License-Identifier: MIT
# Extra mounts ([[mounts]]): a host directory shared read-only or read-write; one outside the
# workspace from a project file waits for 'coi trust'; and the symlink escape: a link in the
# project ("escape -> /") must not turn a mount "inside the workspace" into any host path, from
# an unapproved project file (dropped, with a warning) or from a trusted file (refused at start).
# Keys whose effect this file shows (src/config/keys.c names it as their proof): mounts.default.
. "$(dirname "$0")/lib.sh"
t_require_daemon

ws=$(mktemp -d /tmp/coi-t-mounts-XXXX)
ext=$(mktemp -d /tmp/coi-t-mounts-ext-XXXX)
tmp=$(mktemp -d)
export COI_HOME=$tmp/home # approvals of this test only
t_defer "rm -rf '$ws' '$ext' '$tmp'"
cd "$ws"
git init -q .
echo host-data >"$ext/data.txt"
# host root's files show as nobody's inside (host root is never mapped): world-readable, and
# world-writable where the container is to write
chmod 777 "$ext"
chmod 644 "$ext/data.txt"
mkdir -p shared && echo ws-data >shared/in.txt
prefix="coi-$(printf '%s' "$ws" | sha256sum | cut -c1-8)-"
t_defer "incus list '$prefix' -c n -f csv | xargs -r incus delete -f"
user() { printf '%s\n' "$1" >"$tmp/user.toml"; }
export COI_CONFIG=$tmp/user.toml
run() { t_wait_ws_clear "$ws"; "$COI" run --image "$T_IMAGE" -- sh -c "$1" 2>"$tmp/err"; }

# --- from the user's own file ---
user "[[mounts]]
host = \"$ext\"
container = \"/mnt/ext\"
readonly = true"
out=$(run 'cat /mnt/ext/data.txt; echo x > /mnt/ext/new 2>/dev/null && echo wrote || echo refused')
t_is "a readonly mount: readable, not writable" "$(echo $out)" "host-data refused"
t_fails "nothing was written on the host" test -e "$ext/new"
user "[[mounts]]
host = \"$ext\"
container = \"/mnt/ext\""
out=$(run 'echo from-container > /mnt/ext/new && echo wrote')
t_is "a read-write mount: writable" "$out" "wrote"
t_is "the write reaches the host" "$(cat "$ext/new" 2>/dev/null)" "from-container"
rm -f "$ext/new"

# --- the symlink escape from a trusted file: refused at start, nothing made ---
ln -s "$ext" escape
user "[[mounts]]
host = \"$ws/escape\"
container = \"/mnt/esc\""
out=$(run 'cat /mnt/esc/data.txt' 2>&1) && rc=0 || rc=$?
t_is "a mount inside the workspace that a symlink leads outside: refused (exit 1)" "$rc" 1
t_like "saying where it leads" "$(cat "$tmp/err")" "leads to '$ext', outside it \(a symbolic link\): refused"
t_is "and no container was made" "$(incus list "$prefix" -c n -f csv)" ""
user "[[mounts]]
host = \"$ws/shared\"
container = \"/mnt/shared\"
readonly = true"
out=$(run 'cat /mnt/shared/in.txt')
t_is "a real directory of the workspace mounts" "$out" "ws-data"

# --- from the project's file: outside waits for trust; the symlink counts as outside ---
user ""
mkdir -p .coi
printf '[[mounts]]\nhost = "escape"\ncontainer = "/mnt/esc"\n' >.coi/config.toml
out=$(run 'cat /mnt/esc/data.txt 2>/dev/null || echo not-mounted')
t_is "project: a mount through a symlink out of the workspace is not applied" "$out" "not-mounted"
t_like "with a warning that names coi trust" "$(cat "$tmp/err")" "coi trust"
printf '[[mounts]]\nhost = "%s"\ncontainer = "/mnt/ext"\n' "$ext" >.coi/config.toml
out=$(run 'cat /mnt/ext/data.txt 2>/dev/null || echo not-mounted')
t_is "project: a mount outside the workspace is not applied before trust" "$out" "not-mounted"
t_ok "coi trust" "$COI" trust
out=$(run 'cat /mnt/ext/data.txt 2>/dev/null || echo not-mounted')
t_is "after coi trust it is" "$out" "host-data"
printf '[[mounts]]\nhost = "shared"\ncontainer = "/mnt/shared"\n' >.coi/config.toml
out=$(run 'cat /mnt/shared/in.txt 2>/dev/null || echo not-mounted')
t_is "project: a mount inside the workspace applies without trust" "$out" "ws-data"
# The workspace itself, verified before the command runs: hidden inside (kept at its host path
# under /tmp, where the tiny image mounts a tmpfs at boot), the start fails and says so.
hidden=$(mktemp -d /tmp/coi-t-mounts-hidden-XXXX)
t_defer "rm -rf '$hidden'"
user '[paths]
preserve_workspace_path = true'
out=$(cd "$hidden" && "$COI" run --image "$T_IMAGE" -- pwd 2>&1) && rc=0 || rc=$?
t_is "a workspace not visible inside: the start fails (exit 1)" "$rc" 1
t_like "saying the workspace is not there" "$out" "the workspace is not at $hidden inside"
hprefix="coi-$(printf '%s' "$hidden" | sha256sum | cut -c1-8)-"
for _ in $(seq 100); do [ -z "$(incus list "$hprefix" -c n -f csv)" ] && break; sleep 0.1; done
t_is "and leaves no container" "$(incus list "$hprefix" -c n -f csv)" ""
t_is "and nothing in the workspace" "$(ls -A "$hidden")" ""
t_done
