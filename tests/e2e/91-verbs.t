#!/bin/bash
# SPDX-License-Identifier: MIT
# The verbs a newcomer reaches for, against the real daemon: no false successes (kill, shutdown of
# a name that is not there), list's filters and columns, image list's aliases, the verbs that
# default to this project's session (logs, monitor, snapshot, tmux), snapshot info and list
# --all, unfreeze of every frozen session, close, profile create/show/edit/use/delete, a
# project's alias from another directory, shell --background, health --fix, clean --pools and
# build --all.
. "$(dirname "$0")/lib.sh"
t_require_daemon
incus image info coi-default >/dev/null 2>&1 || t_bail "coi-default missing (run: tests/e2e/setup)"

ws=$(mktemp -d /tmp/coi-t-verbs-XXXX)
export COI_HOME=$ws.home
t_defer "rm -rf '$ws' '$COI_HOME'"
git -C "$ws" init -q
cd "$ws" || t_bail "no workspace"
name=$(t_session_name "$ws" 1)
t_defer "incus delete -f $name $(t_session_name "$ws" 2)"

# ---- no false successes ----
out=$("$COI" kill coi-00000000-9 2>&1) && rc=0 || rc=$?
t_is "coi kill of a name that is not there: exit 1" "$rc" 1
t_like "and says so" "$out" "no session 'coi-00000000-9'"
out=$("$COI" shutdown coi-00000000-9 2>&1) && rc=0 || rc=$?
t_is "coi shutdown of a name that is not there: exit 1" "$rc" 1
t_fails "nor does it say 'shut down'" grep -q "shut down coi-" <<<"$out"
out=$("$COI" shutdown --timeout abc coi-00000000-9 2>&1) && rc=0 || rc=$?
t_is "coi shutdown --timeout abc: a usage error" "$rc" 2

# ---- a session to look at ----
"$COI" run --image "$T_IMAGE" -- sleep 120 >/dev/null 2>&1 &
pid=$!
t_defer "kill $pid 2>/dev/null"
t_ok "a session comes up" t_wait_cmd "$name" "sleep 120"
out=$("$COI" list)
t_like "coi list shows the tool and the age" "$out" "$name .*Running +claude +[0-9]+[smh]"
t_like "coi list -a: --all" "$("$COI" list -a)" "SAVED SESSION|no saved sessions"
t_like "coi list --running has it" "$("$COI" list --running)" "$name"
t_fails "coi list --stopped has not" grep -q "$name" <<<"$("$COI" list --stopped 2>&1)"
t_is "coi list --json: tool" "$("$COI" list --json | jq -r ".active_containers[] | select(.name==\"$name\") | .tool")" claude
t_like "coi image list shows every alias, coi-default among them" "$("$COI" image list)" \
    "(^|[ ,])coi-default(,|  )"
t_like "coi monitor (no NAME) looks at this project's session" \
    "$("$COI" monitor --json | jq -r .container)" "^$name$"
t_like "coi logs (no NAME): this project's session" "$("$COI" logs 2>&1)" "'$name' has no agent terminal"
t_ok "coi snapshot create (no -c): this project's session" "$COI" snapshot create coit-snap
t_like "coi snapshot list" "$("$COI" snapshot list)" "$name +coit-snap"
t_like "coi snapshot info" "$("$COI" snapshot info coit-snap)" "Name: coit-snap"
t_is "coi snapshot info --json" "$("$COI" snapshot info coit-snap --json | jq -r .container)" "$name"
t_like "coi snapshot list --all: every session's" "$("$COI" snapshot list --all --json | jq -r '.[].name')" coit-snap
t_fails "coi snapshot info of none: fails" "$COI" snapshot info no-such-snap

# ---- unfreeze ----
out=$("$COI" unfreeze "$name" 2>&1) && rc=0 || rc=$?
t_is "coi unfreeze of a running session fails" "$rc" 1
t_like "it is not frozen" "$out" "'$name' is Running, not frozen"
incus pause "$name"
t_ok "coi unfreeze (no NAME): every frozen session" "$COI" unfreeze
t_is "it runs again" "$(incus list "$name" -c s -f csv)" RUNNING
t_ok "coi close NAME (shutdown's other name)" "$COI" close --timeout 0 "$name"
t_ok "gone" t_wait_gone "$name"
wait "$pid" 2>/dev/null

# ---- profiles ----
t_like "coi profile list: the built-in ones" "$("$COI" profile list)" "hardened +built-in"
t_ok "coi profile create" "$COI" profile create coit --inherits default
t_like "coi profile show" "$("$COI" profile show coit 2>/dev/null)" 'inherits = "default"'
printf '#!/bin/sh\nprintf "[environment]\\nCOIT_FROM_PROFILE = \\"yes\\"\\n" >> "$1"\n' >"$ws.ed"
chmod +x "$ws.ed"
t_defer "rm -f '$ws.ed'"
t_ok "coi profile edit (\$EDITOR), checked after" env EDITOR="$ws.ed" "$COI" profile edit coit
t_is "a session with --profile gets it" \
    "$("$COI" run --image "$T_IMAGE" --profile coit -- sh -c 'echo $COIT_FROM_PROFILE' 2>/dev/null)" yes
t_ok "coi profile delete --force" "$COI" profile delete coit --force
t_fails "gone" "$COI" profile show coit

# ---- an alias of the original's aliases.json, from anywhere; shell --background ----
# ([container] alias is not acted on: see docs/configuration.md; the file is the original's)
t_wait_ws_clear "$ws"
mkdir -p .coi "$COI_HOME"
printf '[tool]\nname = "dummy"\n' >.coi/config.toml
printf '{"coit-alias": {"workspace": "%s"}}\n' "$ws" >"$COI_HOME/aliases.json"
out=$(cd / && "$COI" shell coit-alias --background 2>&1)
t_like "coi shell ALIAS --background from / starts the agent there" "$out" "started in the background.*$name"
t_like "the agent runs detached in its tmux" "$("$COI" tmux list)" "$name"
t_like "owned by nobody but not an orphan" "$("$COI" list --json | jq -r ".active_containers[] | select(.name==\"$name\") | .orphan")" false
t_ok "coi kill" "$COI" kill "$name"
rm -rf .coi

# ---- health --fix: a killed session's rules are stale, and --fix removes them ----
t_wait_ws_clear "$ws"
"$COI" run --image "$T_IMAGE" -- sleep 120 >/dev/null 2>&1 &
pid=$!
t_ok "a session comes up" t_wait_cmd "$name" "sleep 120"
kill -9 "$pid"
wait "$pid" 2>/dev/null
incus delete -f "$name"
t_like "its rules are left" "$(nft list ruleset 2>/dev/null | grep -c "coi:$name")" "^[1-9]"
t_like "coi health --fix --dry-run says what it would do" "$("$COI" health --fix --dry-run 2>&1)" \
    "orphan_rules: would remove the network rules of containers that are gone"
t_like "and does nothing" "$(nft list ruleset 2>/dev/null | grep -c "coi:$name")" "^[1-9]"
t_like "coi health --fix does it" "$("$COI" health --fix 2>&1)" "orphan_rules: done"
t_is "the rules are gone" "$(nft list ruleset 2>/dev/null | grep -c "coi:$name")" 0
"$COI" clean --orphans >/dev/null 2>&1

# ---- clean --pools: a session in a pool nothing names ----
pool=coit-pool-$$
incus storage create "$pool" dir >/dev/null || t_bail "cannot create a storage pool"
t_defer "incus storage delete $pool"
printf '[container]\nstorage_pool = "%s"\n' "$pool" >"$ws.pool.toml"
COI_CONFIG=$ws.pool.toml "$COI" run --image "$T_IMAGE" --persistent -- true >/dev/null 2>&1
t_is "a persistent session in pool $pool is kept" "$(incus list "$name" -c s -f csv)" STOPPED
out=$("$COI" clean --pools --dry-run)
t_like "coi clean --pools --dry-run names it (no configuration names that pool)" "$out" "would remove $name .*pool '$pool'"
t_ok "coi clean --pools" "$COI" clean --pools
t_ok "removes it" t_wait_gone "$name"
t_ok "the pool stays" incus storage show "$pool"

# ---- build --all: each profile with a [container.build] (its image made on the clean Debian
# image of the suite, unpacked: the test's own, deleted at the end) ----
if incus image info coi-base-debian-12 >/dev/null 2>&1; then
    mkdir -p "$COI_HOME/profiles/coitb"
    printf '[container]\nimage = "coi-t-built-%s"\n[container.build]\nbase = "coi-base-debian-12"\ncompression = "none"\ncommands = ["echo built > /coit-built"]\n' \
        "$$" >"$COI_HOME/profiles/coitb/config.toml"
    t_defer "incus image list -f csv -c l | grep -o 'coi-t-built-$$[^ ,]*' | xargs -r -n1 incus image delete"
    out=$(timeout 300 "$COI" build --all 2>&1)
    t_like "coi build --all builds the profile's image" "$out" "==> profile coitb"$'\n'".*built coi-t-built-$$"
    t_ok "the image is there" incus image info "coi-t-built-$$"
    incus image info "coi-t-built-$$" >/dev/null 2>&1 || t_diag "$out"
else
    _t_result 0 "coi build --all # SKIP no clean Debian image on the test daemon"
fi
t_done
