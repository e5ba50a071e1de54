#!/bin/bash
# SPDX-License-Identifier: MIT
# coi health against the test daemon: as it is, then with one deliberate fault at a time (daemon
# unreachable, broken config, missing image, privileged default profile, raw.apparmor override,
# orphan nft rules). Each time the right check fails (or warns) with the right fix, and the exit
# code follows the overall status. Profile faults are made in a private Incus project; the nft
# rule lives only for one health run and is always removed (t_defer).
# Keys whose effect this file shows (src/config/keys.c names it as their proof): container.image.
. "$(dirname "$0")/lib.sh"
t_require_daemon

home=$(mktemp -d /tmp/coi-t-health-XXXX)
t_defer "rm -rf '$home'"
export COI_HOME=$home/.coi
export COI_CONFIG=$home/config.toml
export NO_COLOR=1
printf '[container]\nimage = "%s"\n' "$T_IMAGE" >"$COI_CONFIG"

# Runs coi health --json; sets $json and $rc.
health_json() {
    json=$("$COI" health --json 2>/dev/null) && rc=0 || rc=$?
}
field() { jq -r ".checks[] | select(.id==\"$1\") | .$2" <<<"$json"; }
# The exit code the overall status calls for.
want_rc() { case $(jq -r .status <<<"$json") in healthy) echo 0 ;; degraded) echo 1 ;; *) echo 2 ;; esac; }

# --- as it is ---
health_json
t_is "--json is valid JSON with a status" "$(jq -r '.status | test("^(healthy|degraded|unhealthy)$")' <<<"$json")" true
t_is "exit code follows the status" "$rc" "$(want_rc)"
t_is "every category is there" "$(jq -r '[.checks[].category] | unique | length' <<<"$json")" 9
t_is "the summary adds up" "$(jq -r '.summary | .ok + .warnings + .failed == .total' <<<"$json")" true
t_is "incus: reachable" "$(field incus status)" ok
t_like "incus: names the version" "$(field incus message)" 'Incus [0-9]+\.'
t_is "the test image is there" "$(field image status)" ok
t_is "the default profile is unprivileged" "$(field privileged_profile status)" ok
t_is "no raw overrides" "$(field raw_overrides status)" ok
t_like "the bridge and its subnet" "$(field network_bridge message)" '^coitestbr0 \(10\.171\.92\.1/24\)$'
t_like "the storage pool and its driver" "$(field storage_pool message)" "pool 'coi' \(btrfs\)"
t_is "AppArmor: unavailable here is fine" "$(field apparmor status)" ok
t_is "seccomp" "$(field seccomp status)" ok
t_is "the config loads" "$(field config status)" ok
out=$("$COI" health 2>&1) && trc=0 || trc=$?
t_is "text: same exit code" "$trc" "$rc"
t_like "text: grouped by category" "$out" $'^system\n  \\[OK\\]'
t_like "text: a final status line" "$(tail -n1 <<<"$out")" "^$(jq -r .status <<<"$json"): $(jq -r .summary.total <<<"$json") checks"
t_is "text: no colour with NO_COLOR or off a terminal" "$(grep -c $'\033' <<<"$out")" 0
t_fails "a usage error for an unknown option" "$COI" health --bogus

# --- a running session container, inspected from the host ---
c=$(t_name health)
t_launch "$c" -c user.coi.workspace="$home"
health_json
t_like "unprivileged: the running container was checked in /proc" "$(field unprivileged message)" '[1-9][0-9]* running checked'
t_like "seccomp: the running container is filtered" "$(field seccomp message)" '^active: [1-9]'
t_is "a session whose coi process is gone is an orphan" "$(field orphaned_resources status)" warning
t_like "and it is named" "$(field orphaned_resources message)" "$c"
t_is "its fix" "$(field orphaned_resources fix)" "coi clean --orphans"
t_like "active containers counts it" "$(field active_containers message)" '^[1-9][0-9]* running'
incus delete -f "$c" >/dev/null

# --- the daemon is down (a socket that does not exist; the shared daemon keeps running) ---
json=$(INCUS_SOCKET=$home/nodaemon/unix.socket "$COI" health --json 2>/dev/null) && rc=0 || rc=$?
t_is "daemon down: unhealthy, exit 2" "$(jq -r .status <<<"$json") $rc" "unhealthy 2"
t_is "daemon down: the incus check fails" "$(field incus status)" failed
t_like "daemon down: the fix says how to start it, and where" "$(field incus fix)" "scripts/setup-host.*$home/nodaemon/unix.socket"
t_is "daemon down: dependent checks fail too" "$(field image status)" failed
t_is "daemon down: the rest still run" "$(field kernel_version status) $(field config status)" "ok ok"

# --- a user who may not use the daemon's socket ---
# (t_as_user's user is in incus-admin, which may use the socket; this one has no groups at all)
uhome=$home/user1234
mkdir -p "$uhome" && chown 1234:1234 "$uhome" && chmod 755 "$home"
json=$(setpriv --reuid 1234 --regid 1234 --clear-groups env HOME="$uhome" COI_HOME="$uhome/.coi" \
    "$COI" health --json 2>/dev/null) && rc=0 || rc=$?
t_is "no permission: exit 2" "$rc" 2
t_is "no permission: the permissions check fails" "$(field permissions status)" failed
t_like "no permission: the fix is the group" "$(field permissions fix)" "usermod -aG incus-admin"
t_like "no permission: the incus check does not say the daemon is down" "$(field incus message)" "may not use"

# --- a broken config ---
printf '[container]\nimage = "%s\n' "$T_IMAGE" >"$home/bad.toml"
json=$(COI_CONFIG=$home/bad.toml "$COI" health --json 2>/dev/null) && rc=0 || rc=$?
t_is "broken config: exit 2" "$rc" 2
t_is "broken config: the config check fails" "$(field config status)" failed
t_like "broken config: file:line:column" "$(field config message)" "^$home/bad.toml:2:[0-9]+: "
t_is "broken config: the daemon is still checked" "$(field incus status)" ok

# --- a missing image ---
printf '[container]\nimage = "coi-t-health-nosuch"\n' >"$home/noimg.toml"
json=$(COI_CONFIG=$home/noimg.toml "$COI" health --json 2>/dev/null) && rc=0 || rc=$?
t_is "missing image: exit 2" "$rc" 2
t_is "missing image: the image check fails" "$(field image status)" failed
t_like "missing image: names it" "$(field image message)" "'coi-t-health-nosuch' does not exist"
t_like "missing image: fix is coi build" "$(field image fix)" "coi build"

# --- a privileged default profile and a raw.apparmor override ---
# In a project of our own (features.profiles: its own default profile, the shared images), so the
# shared daemon's default profile, which other tests launch from, is never touched.
proj=$(t_name health)
incus project create "$proj" -c features.images=false -c features.profiles=true >/dev/null
t_defer "incus project delete $proj"
incus profile set default security.privileged=true --project "$proj"
incus profile set default raw.apparmor="# coi-t-health" --project "$proj"
json=$(COI_INCUS_PROJECT=$proj "$COI" health --json 2>/dev/null) && rc=0 || rc=$?
t_is "privileged profile: exit 2" "$rc" 2
t_is "privileged profile: the check fails" "$(field privileged_profile status)" failed
t_like "privileged profile: says what it means" "$(field privileged_profile message)" "profile 'default' makes containers privileged"
t_is "privileged profile: the fix" "$(field privileged_profile fix)" "incus profile unset default security.privileged --project $proj"
t_is "raw.apparmor: the check warns" "$(field raw_overrides status)" warning
t_like "raw.apparmor: names profile and key" "$(field raw_overrides message)" "profile 'default' overrides raw.apparmor"
t_is "raw.apparmor: the fix" "$(field raw_overrides fix)" "incus profile unset default raw.apparmor --project $proj"
incus profile unset default security.privileged --project "$proj"
json=$(COI_INCUS_PROJECT=$proj "$COI" health --json 2>/dev/null) && rc=0 || rc=$?
t_is "raw.apparmor alone: the profile check passes again" "$(field privileged_profile status)" ok
t_is "raw.apparmor alone: still warned" "$(field raw_overrides status)" warning
t_is "raw.apparmor alone: exit code follows the status" "$rc" "$(want_rc)"
t_ok "raw.apparmor alone: exit code is not 0" test "$rc" -ne 0
t_is "the shared default profile was never changed" \
    "$(incus profile get default security.privileged)$(incus profile get default raw.apparmor)" ""

# --- orphan rules: a rule in coi's own table for a container that does not exist ---
orphan=coi-deadbeef-1
if ! nft list table ip coi >/dev/null 2>&1; then
    nft add table ip coi
    t_defer "nft list table ip coi | grep -q chain || nft delete table ip coi"
fi
t_defer "nft delete chain ip coi ct-$orphan"
t_defer "nft flush chain ip coi ct-$orphan"
nft add chain ip coi "ct-$orphan"
nft add rule ip coi "ct-$orphan" counter comment "\"coi:$orphan\""
health_json
nft flush chain ip coi "ct-$orphan"
nft delete chain ip coi "ct-$orphan"
t_is "orphan rules: the check warns" "$(field orphan_rules status)" warning
t_like "orphan rules: names the container" "$(field orphan_rules message)" "no longer exist: .*$orphan"
t_is "orphan rules: the fix" "$(field orphan_rules fix)" "coi clean --orphans"
t_like "orphan rules: the chain nobody jumps to is reported" "$(field nft_tables message)" "$orphan"
t_is "orphan rules: exit code follows" "$rc" "$(want_rc)"
t_ok "orphan rules: exit code is not 0" test "$rc" -ne 0
health_json
t_is "after removing the rule: no orphans" "$(field orphan_rules status)" ok

t_done
