#!/bin/bash
# SPDX-License-Identifier: MIT
# Workspaces that are not projects (issue 16, items 1 and 2). `cd / && coi run` once mounted the
# whole host read-write (`test -w /workspace/etc/passwd` succeeded inside), and so did a symlink
# to / or -w /etc; a session on the home directory made ~/.coi immutable (a default protected
# path), so every other coi then failed to take its lock, and printed false "needs root" and
# "PROTECTED PATH CHANGED" messages. Now `/`, system directories, directories that hold projects,
# the user's home itself and anything containing them are refused, judged with symlinks
# followed, with why and how to pick a project; --unsafe-workspace (or COI_UNSAFE_WORKSPACE=1,
# never a config key) lifts that, but nothing lifts the refusal of a workspace or an extra mount
# that contains coi's own state directory. Every refusal is paired with a session that starts.
. "$(dirname "$0")/lib.sh"
t_require_daemon

tmp=$(mktemp -d /tmp/coi-t-wsedge-XXXX)
t_defer "chattr -R -i '$tmp' 2>/dev/null; rm -rf '$tmp'"
export HOME=$tmp/home
unset COI_HOME
mkdir -p "$HOME/.coi" "$HOME/src/proj" "$tmp/data"
echo "[container]
image = \"$T_IMAGE\"" >"$HOME/.coi/config.toml"
git -C "$HOME/src/proj" init -q
ln -s / "$tmp/to-root"
ln -s /etc "$tmp/to-etc"
ln -s "$HOME" "$tmp/to-home"
# (deleted at exit, whatever a failed refusal made)
for w in / /etc /srv "$HOME" "$HOME/src/proj" "$tmp/data"; do
    p="coi-$(printf '%s' "$w" | sha256sum | cut -c1-8)-"
    t_defer "incus list '$p' -c n -f csv | xargs -r incus delete -f"
done
none_for() { incus list "coi-$(printf '%s' "$1" | sha256sum | cut -c1-8)-" -c n -f csv; }

refused() { # DESC DIR [ARGS...]: coi run there is refused (exit 1), before any container
    local desc=$1 dir=$2 out rc
    shift 2
    out=$(cd "$dir" && "$COI" run "$@" -- sh -c 'test -w /workspace/etc/passwd && echo WRITABLE' 2>&1) &&
        rc=0 || rc=$?
    t_like "$desc: refused" "$rc:$out" "^1:.*refusing the workspace"
    last=$out
}

refused "cd / && coi run" /
t_like "the message says why and how to pick a project" "$last" \
    "'/': it is the root of the host; run coi from your project's directory .*-w DIR .*--unsafe-workspace"
t_is "and no container was made" "$(none_for /)" ""
refused "a symlink to /" "$tmp/to-root"
t_like "judged on the resolved path" "$last" "refusing the workspace '/': it is the root"
refused "-w /etc" "$tmp" -w /etc
t_like "naming the system directory" "$last" "lies in the system directory '/etc'"
refused "a symlink to /etc" "$tmp/to-etc"
refused "-w /usr (it contains system directories)" "$tmp" -w /usr
refused "-w /opt (it holds projects)" "$tmp" -w /opt
refused "the home directory itself" "$HOME"
t_like "saying it is the home" "$last" "it is your home directory"
refused "a symlink to the home" "$tmp/to-home"
refused "a parent of the home" "$tmp"
t_like "saying it contains the home" "$last" "it contains your home directory '$HOME'"
# the override: never from a project file (no such key), only the flag or the environment
printf '[container]\nunsafe_workspace = true\n' >"$HOME/.coi/x.toml"
out=$(cd / && COI_CONFIG=$HOME/.coi/x.toml "$COI" run -- true 2>&1) && rc=0 || rc=$?
t_like "a config file cannot lift the refusal (an unknown key, warned about)" "$rc:$out" \
    "^1:.*unknown key 'container.unsafe_workspace'.*refusing the workspace '/'"
refused "the home with --unsafe-workspace: it contains coi's state directory" "$HOME" --unsafe-workspace
t_like "which no override lifts" "$last" "it contains coi's own state directory '$HOME/.coi'"
out=$(cd "$HOME" && COI_UNSAFE_WORKSPACE=1 "$COI" run -- true 2>&1) && rc=0 || rc=$?
t_like "nor COI_UNSAFE_WORKSPACE=1" "$rc:$out" "^1:.*coi's own state directory"
refused "a workspace inside coi's state directory" "$HOME/.coi" --unsafe-workspace
t_is "coi's state directory is not immutable" "$(lsattr -d "$HOME/.coi" | cut -c5)" "-"
t_ok "and takes locks: another session elsewhere starts" \
    sh -c "cd '$HOME/src/proj' && '$COI' run -- true"
t_wait_ws_clear "$HOME/src/proj"

# the twins: a project under the home starts, as code and as root
out=$(cd "$HOME/src/proj" && "$COI" run -- sh -c 'touch /workspace/by-code && echo code-ok;
    sudo -n sh -c "touch /workspace/by-root" 2>/dev/null || touch /workspace/by-root 2>/dev/null; echo done' 2>&1)
t_like "a project under the home: the session runs and code writes there" "$out" "code-ok"
t_ok "the file is on the host" test -e "$HOME/src/proj/by-code"
t_wait_ws_clear "$HOME/src/proj"
out=$(cd / && "$COI" run --unsafe-workspace -w "$tmp/data" -- sh -c 'echo ok' 2>&1) && rc=0 || rc=$?
t_like "an ordinary directory with --unsafe-workspace: fine" "$rc:$out" "^0:(.*
)*ok"
t_wait_ws_clear "$tmp/data"

# with the override, a refused directory does start (the rare case: here /srv, which only
# holds projects; read-only probe)
mkdir -p /srv
out=$(cd / && "$COI" run --unsafe-workspace -w /srv -- sh -c 'test -d /workspace && echo seen' 2>&1) &&
    rc=0 || rc=$?
t_like "-w /srv --unsafe-workspace: the session starts (the override works)" "$rc:$out" "^0:(.*
)*seen"
t_wait_ws_clear /srv

# item 2: an extra mount never brings coi's state in
printf '[container]\nimage = "%s"\n[[mounts]]\nhost = "~/.coi"\ncontainer = "/mnt/c"\n' "$T_IMAGE" \
    >"$tmp/m.toml"
out=$(cd "$HOME/src/proj" && COI_CONFIG=$tmp/m.toml "$COI" run -- ls /mnt/c 2>&1) && rc=0 || rc=$?
t_like "a [[mounts]] of ~/.coi: refused" "$rc:$out" "^1:.*refusing to mount '$HOME/.coi': it lies in coi's own state directory"
printf '[container]\nimage = "%s"\n[[mounts]]\nhost = "%s"\ncontainer = "/mnt/c"\n' "$T_IMAGE" "$HOME" \
    >"$tmp/m.toml"
out=$(cd "$HOME/src/proj" && COI_CONFIG=$tmp/m.toml "$COI" run -- ls /mnt/c 2>&1) && rc=0 || rc=$?
t_like "a [[mounts]] of the home, which holds it: refused" "$rc:$out" "^1:.*it contains coi's own state directory"
printf '[container]\nimage = "%s"\n[[mounts]]\nhost = "%s"\ncontainer = "/mnt/c"\nreadonly = true\n' \
    "$T_IMAGE" "$tmp/data" >"$tmp/m.toml"
echo data >"$tmp/data/f"
out=$(cd "$HOME/src/proj" && COI_CONFIG=$tmp/m.toml "$COI" run -- cat /mnt/c/f 2>&1) && rc=0 || rc=$?
t_like "the twin: a mount of another directory works" "$rc:$out" "^0:(.*
)*data"
t_wait_ws_clear "$HOME/src/proj"

t_done
