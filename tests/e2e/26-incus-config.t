#!/bin/bash
# SPDX-License-Identifier: MIT
# [incus] of the user's config reaches the client: the socket with INCUS_DIR/INCUS_SOCKET unset,
# a clear error for a wrong socket, the environment over the config, and a non-default project
# for every request (containers land in it and only in it). The incus CLI only observes.
# Keys whose effect this file shows (src/config/keys.c names it as their proof): incus.project,
# incus.socket.
. "$(dirname "$0")/lib.sh"
t_require_daemon

sock=$INCUS_SOCKET
proj=coi-t-refactor-p
export COI_HOME
COI_HOME=$(mktemp -d /tmp/coi-t-refactor-home-XXXX) # this test's user config only
t_defer "rm -rf '$COI_HOME'"
unset COI_CONFIG COI_INCUS_PROJECT COI_INCUS_REMOTE
cfg=$COI_HOME/config.toml
# coi with no daemon named by the environment: only the config says where it is
coi_cfg() { env -u INCUS_DIR -u INCUS_SOCKET "$COI" "$@"; }

printf '[incus]\nsocket = "%s"\n' "$sock" >"$cfg"
t_ok "[incus] socket: coi list reaches the daemon" coi_cfg list
t_ok "[incus] socket: coi image exists finds the test image" coi_cfg image exists "$T_IMAGE"
t_like "[incus] socket: coi health uses it" "$(coi_cfg health 2>/dev/null)" "Incus [0-9.]+ at '$sock'"

bad=/nonexistent/coi-t-refactor/unix.socket
printf '[incus]\nsocket = "%s"\n' "$bad" >"$cfg"
rc=0; out=$(coi_cfg list 2>&1) || rc=$?
t_is "wrong [incus] socket: exit 1" "$rc" 1
t_like "wrong [incus] socket: the error names the path" "$out" "'$bad'"
rc=0; out=$(coi_cfg image list 2>&1) || rc=$?
t_like "wrong [incus] socket: sub-command verbs too" "$rc $out" "^1 .*'$bad'"
t_ok "INCUS_SOCKET overrides [incus] socket" env -u INCUS_DIR INCUS_SOCKET="$sock" "$COI" list
t_ok "INCUS_DIR overrides [incus] socket" env -u INCUS_SOCKET INCUS_DIR="$INCUS_DIR" "$COI" list

# A project that shares the default project's images and profiles.
incus project delete "$proj" >/dev/null 2>&1
t_ok "create project $proj" incus project create "$proj" -c features.images=false \
    -c features.profiles=false
t_defer "incus project delete $proj"
c=$(t_name refactor)
t_defer "incus delete -f --project $proj $c"
printf '[incus]\nsocket = "%s"\nproject = "%s"\n' "$sock" "$proj" >"$cfg"
t_ok "[incus] project: launch" coi_cfg container launch "$T_IMAGE" "$c" -c boot.autostart=false
t_is "the container is in $proj" "$(incus list --project "$proj" "$c" -c n -f csv)" "$c"
t_is "and not in the default project" "$(incus list --project default "$c" -c n -f csv)" ""
t_is "exec in the project" "$(coi_cfg container exec "$c" -- echo hi 2>&1)" "hi"
t_fails "COI_INCUS_PROJECT=default overrides [incus] project" \
    env -u INCUS_DIR -u INCUS_SOCKET COI_INCUS_PROJECT=default "$COI" container exists "$c"
t_ok "delete in the project" coi_cfg container delete --force "$c"
t_is "gone from the project" "$(incus list --project "$proj" "$c" -c n -f csv)" ""

# A whole session in the project: its container, and its teardown, stay there.
ws=$(mktemp -d /tmp/coi-t-refactor-ws-XXXX)
t_defer "rm -rf '$ws'"
name=$(t_session_name "$ws" 1)
t_defer "incus delete -f --project $proj $name"
out=$(cd "$ws" && coi_cfg run --image "$T_IMAGE" -- hostname 2>/dev/null)
t_is "coi run in the project: the command ran in its container" "$out" "$name"
t_is "no session container in the default project" \
    "$(incus list --project default "$name" -c n -f csv)" ""
for i in $(seq 100); do # the ephemeral container is deleted by a detached child, bounded
    [ -z "$(incus list --project "$proj" "$name" -c n -f csv)" ] && break
    sleep 0.2
done
t_is "the session's container is deleted from the project afterwards" \
    "$(incus list --project "$proj" "$name" -c n -f csv)" ""
t_done
