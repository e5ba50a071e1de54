#!/bin/bash
# SPDX-License-Identifier: MIT
# The fleet: coi list (text and JSON), coi kill, and kill -9 of coi during a session followed by
# coi clean --orphans, which must leave no container, mount, immutable flag or owner record.
. "$(dirname "$0")/lib.sh"
t_require_daemon

ws=$(mktemp -d /tmp/coi-t-fleet-XXXX)
t_defer "rm -rf '$ws'"
git -C "$ws" init -q
cd "$ws"
name=$(t_session_name "$ws" 1)

"$COI" run --image "$T_IMAGE" -- sleep 60 >/dev/null 2>&1 &
pid=$!
t_defer "kill $pid 2>/dev/null; incus delete -f $name"
t_ok "a session comes up" t_wait_running "$name"
out=$("$COI" list)
t_like "coi list shows it with its workspace" "$out" "$name +$ws +1 +ephemeral +Running"
json=$("$COI" list --json)
t_is "coi list --json: name" "$(jq -r ".active_containers[] | select(.name==\"$name\") | .workspace" <<<"$json")" "$ws"
t_is "coi list --json: not an orphan while coi lives" \
    "$(jq -r ".active_containers[] | select(.name==\"$name\") | .orphan" <<<"$json")" "false"
# another coi home (another user's, or another COI_HOME) has no owner record of it: not its orphan
other=$(mktemp -d /tmp/coi-t-home2-XXXX)
t_defer "rm -rf '$other'"
t_like "another coi home's coi list shows it running, not orphaned" \
    "$(COI_HOME=$other "$COI" list 2>/dev/null)" "$name .* Running"
COI_HOME=$other "$COI" clean --orphans >/dev/null 2>&1
t_is "another coi home's clean --orphans leaves it running" "$(incus list "$name" -c s -f csv)" "RUNNING"
# the address once the session's command runs (coi starts it after the network is up; RUNNING
# alone comes before DHCP: under load the address was not there yet, once)
t_wait_cmd "$name" sleep
json=$("$COI" list --json)
t_like "coi list --json: an IPv4 on the test bridge" \
    "$(jq -r ".active_containers[] | select(.name==\"$name\") | .ipv4" <<<"$json")" '^10\.171\.92\.'
t_like "the git hooks are immutable on the host meanwhile" "$(lsattr -d .git/hooks)" '^----i'

kill -9 "$pid"
wait "$pid" 2>/dev/null
t_is "after kill -9 the container is still there" "$(incus list "$name" -c s -f csv)" "RUNNING"
t_like "and coi list calls it orphaned" "$("$COI" list 2>/dev/null)" "$name .* Orphaned"
# that coi list noticed the dead owner: it froze the container and restored the flags (68-exits.t)
t_is "the coi that noticed froze it" "$(incus list "$name" -c s -f csv)" "FROZEN"
out=$("$COI" clean --orphans --dry-run)
t_like "clean --orphans --dry-run says what it would do" "$out" "would remove $name"
t_is "and does nothing" "$(incus list "$name" -c s -f csv)" "FROZEN"
t_ok "clean --orphans" "$COI" clean --orphans
t_is "the container is gone" "$(incus list "$name" -c n -f csv)" ""
t_like "the immutable flag is cleared" "$(lsattr -d .git/hooks)" '^-----'
t_fails "the idmapped mount is gone" grep -q "/run/coi/mounts/$name" /proc/mounts
t_fails "the owner record is gone" test -e "$HOME/.coi/run/$name.owner"
hash=${name#coi-}
hash=${hash%-1}
t_fails "no workspace lock file is left behind" test -e "$HOME/.coi/run/$hash.lock"
touch "$HOME/.coi/run/0badf00d.lock"
t_ok "clean --orphans again" "$COI" clean --orphans
t_fails "it removes a lock file nobody holds" test -e "$HOME/.coi/run/0badf00d.lock"

# coi kill
"$COI" run --image "$T_IMAGE" -- sleep 60 >/dev/null 2>&1 &
pid=$!
t_ok "another session comes up" t_wait_running "$name"
t_ok "coi kill NAME" "$COI" kill "$name"
t_is "the container is gone" "$(incus list "$name" -c n -f csv)" ""
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
t_fails "the session's coi process ends by itself" kill -0 "$pid"
wait "$pid" 2>/dev/null
t_like "the immutable flag is cleared" "$(lsattr -d .git/hooks)" '^-----'
t_fails "coi kill refuses a container that is not coi's" "$COI" kill coi-t-not-a-session

# Persistent sessions: kept (stopped) at the end, reused next time.
"$COI" run --image "$T_IMAGE" --persistent -- sh -c 'echo kept > /home/code/marker' 2>/dev/null
t_is "a persistent session's container is kept, stopped" "$(incus list "$name" -c s -f csv)" "STOPPED"
t_like "coi list says persistent" "$("$COI" list)" "$name .* persistent +Stopped"
out=$("$COI" run --image "$T_IMAGE" --persistent -- cat /home/code/marker 2>/dev/null)
t_is "the next persistent session reuses it" "$out" "kept"
t_ok "coi shutdown deletes it" "$COI" shutdown --timeout 5 "$name"
t_is "gone" "$(incus list "$name" -c n -f csv)" ""

# coi persist turns a running ephemeral session persistent.
"$COI" run --image "$T_IMAGE" -- sleep 60 >/dev/null 2>&1 &
pid=$!
t_ok "an ephemeral session comes up" t_wait_running "$name"
t_ok "its command runs" t_wait_cmd "$name" "sleep 60"
t_ok "coi persist NAME" "$COI" persist "$name"
kill -TERM "$pid"
wait "$pid" 2>/dev/null
t_is "its end keeps the container (stopped)" "$(incus list "$name" -c s -f csv)" "STOPPED"
t_ok "coi shutdown --all" "$COI" shutdown --all --force
t_is "nothing left" "$(incus list "$name" -c n -f csv)" ""
t_done
