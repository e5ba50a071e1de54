#!/bin/bash
# SPDX-License-Identifier: MIT
# Config files that are hostile or wrong (issue 16, items 5 and 8). A project file that sets
# `[container] image = ""` (unapproved; image is a key any file may set) once crashed coi run and
# coi shell (exit 139: the image reached the session as NULL) and left a stale lock; coi config
# validate called it valid. Now the loader refuses an empty value for every key with a default
# (and every empty list entry) with file:line:col, before anything is locked or created, and
# validate agrees. Hostile sizes: a 200k-element string array (800 kB) took seconds of CPU to
# load (a list grown one entry at a time, walked at each), in every command that loads the
# project's config (coi list too); now a list holds at most 1024 entries (fewer where a key says)
# and is refused past that at once, and a list at the cap loads in milliseconds. A FIFO as a
# config file (or as a project's .git file) hung coi for ever; every file coi reads must now be
# a regular file. Each refusal is paired with the same project working once the line is fixed.
. "$(dirname "$0")/lib.sh"
t_require_daemon

tmp=$(mktemp -d /tmp/coi-t-hostile-XXXX)
ws=$tmp/ws
export COI_HOME=$tmp/home
t_defer "rm -rf '$tmp'"
mkdir -p "$ws/.coi" && git -C "$ws" init -q
cd "$ws" || t_bail "no workspace"
prefix="coi-$(printf '%s' "$ws" | sha256sum | cut -c1-8)-"
t_defer "incus list '$prefix' -c n -f csv | xargs -r incus delete -f"
locks() { find "$COI_HOME/run" -name '*.lock' 2>/dev/null | wc -l; }

# ---- item 5: empty values ----

printf '[container]\nimage = ""\n' >.coi/config.toml
for verb in run shell; do
    if [ "$verb" = shell ]; then # coi shell wants a terminal: script(1) gives it one
        out=$(timeout 60 script -qefc "'$COI' shell" /dev/null 2>&1 </dev/null) && rc=0 || rc=$?
    else
        out=$(timeout 60 "$COI" run -- true 2>&1 </dev/null) && rc=0 || rc=$?
    fi
    t_is "coi $verb, project file with image = \"\": a plain failure (exit 1, not a crash)" "$rc" 1
    t_like "coi $verb: the message names file:line:col and the default" "$out" \
        "\.coi/config\.toml:2:9: 'container\.image' must not be empty \(leave the key out for the default, \"coi-default\"\)"
    t_is "coi $verb: no lock is left" "$(locks)" 0
    t_is "coi $verb: no container was made" "$(incus list "$prefix" -c n -f csv)" ""
done
out=$("$COI" config validate .coi/config.toml 2>&1) && rc=0 || rc=$?
t_like "coi config validate agrees (exit 1, same place)" "$rc:$out" "^1:.*config\.toml:2:9: 'container\.image' must not be empty"
rm .coi/config.toml
out=$("$COI" run --image "" -- true 2>&1) && rc=0 || rc=$?
t_like "--image \"\": refused before anything starts" "$rc:$out" "^1:.*the image .* is not set"
t_is "and no lock is left" "$(locks)" 0
printf '[security]\nadditional_protected_paths = [".env", ""]\n' >.coi/config.toml
out=$("$COI" run --image "$T_IMAGE" -- true 2>&1) && rc=0 || rc=$?
t_like "an empty list entry (it would protect the whole workspace): refused with its place" \
    "$rc:$out" "^1:.*config\.toml:2:39: 'security\.additional_protected_paths' has an empty entry"
t_is "and no lock is left" "$(locks)" 0
# the twin: the same project with the value fixed starts
printf '[container]\nimage = "%s"\n' "$T_IMAGE" >.coi/config.toml
out=$("$COI" run -- echo started 2>&1) && rc=0 || rc=$?
t_like "the same project with image set: the session runs" "$rc:$out" "^0:(.*
)*started"
t_ok "coi config validate calls it valid" "$COI" config validate .coi/config.toml
t_wait_ws_clear "$ws"

# ---- item 8: hostile sizes, files that are not files ----

cpu() { # CMD...: the CPU seconds (user + system) it took, whatever the machine's load
    local TIMEFORMAT='%U %S'
    { time "$@" >/dev/null 2>&1; } 2>&1 | awk '{print $1 + $2}'
}
under() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
python3 -c "print('[security]\nadditional_protected_paths = [' + ','.join(['\"x\"'] * 200000) + ']')" \
    >.coi/config.toml
t_is "the hostile file is under 1 MiB" "$(($(stat -c %s .coi/config.toml) < 1048576))" 1
out=$("$COI" config validate .coi/config.toml 2>&1) && rc=0 || rc=$?
t_like "a 200k-element list: refused with its place" "$rc:$out" \
    "^1:.*config\.toml:2:30: 'security\.additional_protected_paths' has more than 1024 entries"
secs=$(cpu "$COI" list)
t_ok "coi list in that project ends within a second of CPU (took ${secs}s)" under "$secs" 1
secs=$(cpu "$COI" config validate .coi/config.toml)
t_ok "coi config validate too (took ${secs}s)" under "$secs" 1
python3 -c "print('[security]\nadditional_protected_paths = [' + ','.join(['\"x%d\"' % i for i in range(1024)]) + ']')" \
    >.coi/config.toml
t_ok "the twin: a list at the cap (1024 entries) is valid" "$COI" config validate .coi/config.toml
secs=$(cpu "$COI" config show)
t_ok "and loads within a second of CPU (took ${secs}s)" under "$secs" 1

rm -f .coi/config.toml && mkfifo .coi/config.toml
out=$(timeout 20 "$COI" run --image "$T_IMAGE" -- true 2>&1) && rc=0 || rc=$?
t_like "a FIFO as the project's config: refused at once (no hang), naming it" "$rc:$out" \
    "^1:.*config\.toml' is not a regular file"
out=$(timeout 20 "$COI" list 2>&1) && rc=0 || rc=$?
t_like "coi list there too" "$rc:$out" "^1:.*not a regular file"
t_is "no lock is left" "$(locks)" 0
rm -f .coi/config.toml && mkfifo "$tmp/user.toml"
out=$(COI_CONFIG=$tmp/user.toml timeout 20 "$COI" run --image "$T_IMAGE" -- true 2>&1) && rc=0 || rc=$?
t_like "a FIFO as the user's config (COI_CONFIG): refused at once" "$rc:$out" \
    "^1:.*user\.toml' is not a regular file"
mv .git "$tmp/dotgit" && mkfifo .git
out=$(timeout 30 "$COI" run --image "$T_IMAGE" -- true 2>&1) && rc=0 || rc=$?
t_like "a FIFO as the project's .git: the session refuses at once (no hang)" "$rc:$out" \
    "^1:.*\.git' is not a regular file"
t_is "and no container is left" "$(incus list "$prefix" -c n -f csv)" ""
rm -f .git && mv "$tmp/dotgit" .git
out=$("$COI" run --image "$T_IMAGE" -- echo started 2>&1) && rc=0 || rc=$?
t_like "the twin: with regular files the same project starts" "$rc:$out" "^0:(.*
)*started"
t_wait_ws_clear "$ws"

t_done
