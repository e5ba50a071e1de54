#!/bin/bash
# SPDX-License-Identifier: MIT
# Session behaviour no other test covers, with coi run on the tiny image: --slot, stdin passed
# through, paths.preserve_workspace_path, IS_SANDBOX and [defaults.environment], forward_env
# (a variable missing on the host only warns; a forwarded value is never on any command line, on
# the host or inside), ~/SANDBOX_CONTEXT.md, the agent's context file on a persistent container
# (the coi block is replaced, not appended), two concurrent starts taking different slots, and
# coi kill --all confined to an Incus project of this test's own.
# Keys whose effect this file shows (src/config/keys.c names it as their proof):
# defaults.environment, paths.preserve_workspace_path.
. "$(dirname "$0")/lib.sh"
t_require_daemon

ws=$(mktemp -d /tmp/coi-t-tests-ws-XXXX)
tmp=$(mktemp -d /tmp/coi-t-tests-tmp-XXXX)
t_defer "rm -rf '$ws' '$tmp'"
export COI_HOME=$tmp/coi-home # approvals, logs and owner records of this test only
export COI_CONFIG=$tmp/cfg.toml
git -C "$ws" init -q
cd "$ws"
prefix="coi-$(printf '%s' "$ws" | sha256sum | cut -c1-8)-"
t_defer "incus list '$prefix' -c n -f csv | xargs -r incus delete -f"
run() { "$COI" run --image "$T_IMAGE" "$@"; }
# In the background, coi itself must be the job (not a shell around it), so signals reach it.
run_bg() { "$COI" run --image "$T_IMAGE" "$@" >/dev/null 2>"$tmp/bg.err" & }
# lib.sh's waits are bounded at 15-20 s; a daemon busy with other tests can take longer to
# tear a container down. These allow up to 60 s (still bounded).
wait_gone() { t_wait_gone "$1" || t_wait_gone "$1" || t_wait_gone "$1" || t_wait_gone "$1"; }
wait_clear() { t_wait_ws_clear "$1" || t_wait_ws_clear "$1" || t_wait_ws_clear "$1"; }
wait_cmd() { t_wait_cmd "$1" "$2" || t_wait_cmd "$1" "$2" || t_wait_cmd "$1" "$2"; }
wait_running() { t_wait_running "$1" || t_wait_running "$1" || t_wait_running "$1"; }

secret="t-secret-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s\n' "$secret" >"$tmp/secret.pat" # grep -f: the value is never on grep's command line
cat >"$COI_CONFIG" <<'EOF'
[defaults]
forward_env = ["T_FWD_SECRET", "T_NOT_SET_ANYWHERE_48"]
[defaults.environment]
T_STATIC = "static value"
EOF
unset T_NOT_SET_ANYWHERE_48

# --slot
out=$(run --slot 3 -- hostname 2>>"$tmp/stderr.log")
t_is "--slot 3 runs in slot 3" "$out" "$(t_session_name "$ws" 3)"
t_ok "the slot-3 container is deleted afterwards" wait_gone "$(t_session_name "$ws" 3)"
wait_clear "$ws"
t_is "an explicit slot may pass the automatic range (1-10): --slot 11" \
    "$(run --slot 11 -- hostname 2>>"$tmp/stderr.log")" "$(t_session_name "$ws" 11)"
out=$(run --slot 0 -- true 2>&1) && rc=0 || rc=$?
t_is "--slot 0 is a usage error" "$rc" 2
t_like "naming the range" "$out" "--slot takes a number from 1 to 99"
t_fails "--slot 100 is refused" run --slot 100 -- true
t_fails "--slot x is refused" run --slot x -- true

# stdin
wait_clear "$ws"
t_is "stdin is passed through when it is not a terminal" "$(echo piped | run -- cat 2>>"$tmp/stderr.log")" "piped"
wait_clear "$ws"
t_is "a larger stdin arrives whole, and its end is seen" \
    "$(seq 1 50000 | run -- sh -c 'wc -l; echo done' 2>>"$tmp/stderr.log" | tr -d ' ' | paste -sd,)" "50000,done"
wait_clear "$ws"
t_is "no stdin (/dev/null): the command sees its end at once" "$(run -- cat </dev/null 2>>"$tmp/stderr.log")" ""

# paths.preserve_workspace_path. This workspace is under /var/tmp: the tiny image mounts a tmpfs
# on /tmp at boot, which would hide a workspace mounted at a /tmp path.
pws=$(mktemp -d /var/tmp/coi-t-tests-preserve-XXXX)
t_defer "rm -rf '$pws'"
t_defer "incus list 'coi-$(printf '%s' "$pws" | sha256sum | cut -c1-8)-' -c n -f csv | xargs -r incus delete -f"
{ cat "$COI_CONFIG"; printf '[paths]\npreserve_workspace_path = true\n'; } >"$tmp/preserve.toml"
touch "$pws/host-marker"
out=$(cd "$pws" && COI_CONFIG=$tmp/preserve.toml run -- sh -c 'pwd; ls "$PWD"/host-marker; test -e /workspace || echo no-workspace' 2>>"$tmp/stderr.log")
t_is "preserve_workspace_path: the workspace is at its host path, not /workspace" "$out" "$pws
$pws/host-marker
no-workspace"
wait_clear "$ws"
t_is "without it: /workspace" "$(run -- pwd 2>>"$tmp/stderr.log")" "/workspace"

# IS_SANDBOX, [defaults.environment], forward_env
wait_clear "$ws"
out=$(T_FWD_SECRET=$secret run -- sh -c 'echo "$IS_SANDBOX|$T_STATIC|${#T_FWD_SECRET}"' 2>"$tmp/err") && rc=0 || rc=$?
t_is "IS_SANDBOX=1, [defaults.environment] and the forwarded variable are set inside" \
    "$out" "1|static value|${#secret}"
t_is "a forward_env name missing on the host does not stop the session" "$rc" 0
t_like "it gives the warning" "$(cat "$tmp/err")" "forward_env: 'T_NOT_SET_ANYWHERE_48' is not set on the host, not forwarded"
wait_clear "$ws"
t_is "the forwarded value arrives intact" \
    "$(T_FWD_SECRET=$secret run -- sh -c 'printf %s "$T_FWD_SECRET"' 2>>"$tmp/stderr.log")" "$secret"

# A forwarded value is never on a command line: sample every process's arguments on the host
# (the container's processes are host processes too) while the session starts and runs.
name=$(t_session_name "$ws" 1)
sh -c 'sleep 1' "$secret" &
t_ok "(the scan finds the value on a command line when it is there)" sh -c "ps -eo args | grep -qFf '$tmp/secret.pat'"
wait $!
wait_clear "$ws"
T_FWD_SECRET=$secret run_bg -- sleep 30
pid=$!
t_defer "kill $pid 2>/dev/null"
seen=0
for _ in $(seq 300); do
    ps -eo args | grep -qFf "$tmp/secret.pat" && seen=1
    incus exec "$name" -- ps -o args 2>/dev/null | grep -q '^sleep 30' && break
    sleep 0.1
done
t_ok "the session's command runs" wait_cmd "$name" "sleep 30"
for _ in 1 2 3; do ps -eo args | grep -qFf "$tmp/secret.pat" && seen=1; done
t_is "no host process has the forwarded value in its arguments (start and run)" "$seen" 0
inside=$(incus exec "$name" -- sh -c 'for f in /proc/[0-9]*/cmdline; do tr "\0" " " <"$f"; echo; done' 2>/dev/null)
t_is "no process inside has it in its arguments" "$(grep -cFf "$tmp/secret.pat" <<<"$inside")" 0
t_like "(the scan saw the session's command)" "$inside" "sleep 30"
environ=$(incus exec "$name" -- sh -c 'tr "\0" "\n" </proc/$(pidof sleep)/environ' 2>/dev/null)
t_is "the command's environment has it" "$(grep -c "^T_FWD_SECRET=$secret\$" <<<"$environ")" 1

# ~/SANDBOX_CONTEXT.md, written at start
ctx=$(incus exec "$name" -- cat /home/code/SANDBOX_CONTEXT.md 2>&1)
t_like "SANDBOX_CONTEXT.md names the network mode" "$ctx" "Network: restricted:"
t_like "and the protected paths" "$ctx" "Protected paths, read-only[^
]*\.git/hooks[^
]*\.git/config"
t_like "and the forwarded variables' names" "$ctx" "Environment variables set by the user: [^
]*T_FWD_SECRET[^
]*T_STATIC"
t_is "but not their values" "$(grep -cFf "$tmp/secret.pat" <<<"$ctx")" 0
t_like "and the container and slot" "$ctx" "Container: $name \(slot 1\)"
t_is "it is the code user's" "$(incus exec "$name" -- stat -c %U /home/code/SANDBOX_CONTEXT.md 2>&1)" "code"
kill -TERM "$pid"
wait "$pid" 2>/dev/null
t_ok "the session ends on SIGTERM" wait_gone "$name"

# The agent's own context file on a persistent container: the coi block is replaced at every
# start, and what the user added around it is kept.
printf '[tool]\nname = "dummy"\n' >"$tmp/dummy.toml"
printf '[tool]\nname = "dummy"\n[network]\nmode = "open"\n' >"$tmp/dummy-open.toml"
t_ok "(no container of the workspace is left before the persistent one)" wait_clear "$ws"
t_defer "incus delete -f '$name'"
out=$(COI_CONFIG=$tmp/dummy.toml run --persistent -- sh -c \
    'printf "my notes\n" >>~/.dummy/CONTEXT.md; grep -c "coi:begin" ~/.dummy/CONTEXT.md' 2>>"$tmp/stderr.log")
t_is "first session: the block is written once" "$out" 1
t_is "the persistent container is kept" "$(incus list "$name" -c n -f csv)" "$name"
ctx=$(COI_CONFIG=$tmp/dummy-open.toml run --persistent -- cat /home/code/.dummy/CONTEXT.md 2>>"$tmp/stderr.log")
t_is "second session: still one coi block" "$(grep -c 'coi:begin' <<<"$ctx")" 1
t_is "and one end marker" "$(grep -c 'coi:end' <<<"$ctx")" 1
t_like "the block is the new one (network open)" "$ctx" "Network: open: no filtering"
t_is "nothing of the old block is left (restricted)" "$(grep -c 'Network: restricted' <<<"$ctx")" 0
t_is "the user's own lines are kept" "$(grep -c '^my notes$' <<<"$ctx")" 1
incus delete -f "$name" >/dev/null 2>&1

# Two truly concurrent starts on one workspace take different slots.
wait_clear "$ws"
run -- sh -c 'hostname; sleep 3' >"$tmp/c1" 2>>"$tmp/stderr.log" &
p1=$!
run -- sh -c 'hostname; sleep 3' >"$tmp/c2" 2>>"$tmp/stderr.log" &
p2=$!
t_defer "kill $p1 $p2 2>/dev/null"
wait "$p1"
r1=$?
wait "$p2"
r2=$?
t_is "both concurrent sessions succeed" "$r1 $r2" "0 0"
t_is "they take slots 1 and 2" "$(sort "$tmp/c1" "$tmp/c2" | paste -sd' ')" \
    "$(t_session_name "$ws" 1) $(t_session_name "$ws" 2)"
t_ok "both containers are deleted" wait_clear "$ws"

# coi kill --all kills every coi session of the Incus project coi talks to. In a project of this
# test's own (sharing the default project's images, profiles and networks; chosen with
# COI_INCUS_PROJECT: the config key incus.project is not read by the commands), it cannot touch
# anyone else's session; one of ours in the default project proves it. Before killing, coi list
# must show exactly this test's two sessions, or the kill is skipped.
proj=coi-t-tests-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
t_defer "incus project delete '$proj'"
t_defer "incus list --project '$proj' -c n -f csv | xargs -r incus delete -f --project '$proj'"
ws2=$(mktemp -d /tmp/coi-t-tests-ws2-XXXX)
ws3=$(mktemp -d /tmp/coi-t-tests-ws3-XXXX)
t_defer "rm -rf '$ws2' '$ws3'"
pname2=$(t_session_name "$ws2" 1)
pname3=$(t_session_name "$ws3" 1)
if incus project create "$proj" -c features.images=false -c features.profiles=false \
    -c features.storage.volumes=false -c features.networks=false >/dev/null 2>&1; then
    wait_clear "$ws"
    run_bg -- sleep 60 # default project: must survive
    keep=$!
    t_defer "kill $keep 2>/dev/null"
    (cd "$ws2" && COI_INCUS_PROJECT=$proj exec "$COI" run --image "$T_IMAGE" -- sleep 60 >/dev/null 2>&1) &
    k1=$!
    (cd "$ws3" && COI_INCUS_PROJECT=$proj exec "$COI" run --image "$T_IMAGE" -- sleep 60 >/dev/null 2>&1) &
    k2=$!
    t_defer "kill $k1 $k2 2>/dev/null"
    t_ok "a session in the default project comes up" wait_running "$name"
    ok=1
    for _ in $(seq 300); do # bounded: 60 s at most, for a busy daemon
        [ "$(incus list --project "$proj" -c s -f csv | grep -c RUNNING)" = 2 ] && ok=0 && break
        sleep 0.2
    done
    t_is "two sessions come up in the test's project" "$ok" 0
    listed=$(COI_INCUS_PROJECT=$proj "$COI" list --json 2>/dev/null | jq -r '.active_containers[].name' | sort | paste -sd' ')
    t_is "coi list in that project shows exactly them" "$listed" "$(printf '%s\n' "$pname2" "$pname3" | sort | paste -sd' ')"
    if [ "$listed" = "$(printf '%s\n' "$pname2" "$pname3" | sort | paste -sd' ')" ]; then
        t_ok "coi kill --all" env COI_INCUS_PROJECT="$proj" "$COI" kill --all
        t_is "every session of the project is gone" "$(incus list --project "$proj" -c n -f csv)" ""
        for p in $k1 $k2; do
            for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        done
        t_ok "their coi processes end" sh -c "! kill -0 $k1 2>/dev/null && ! kill -0 $k2 2>/dev/null"
        t_is "the default project's session is untouched" "$(incus list "$name" -c s -f csv)" "RUNNING"
    else
        _t_result 0 "coi kill --all # SKIP coi list does not show exactly this test's sessions"
    fi
    kill -TERM "$keep" "$k1" "$k2" 2>/dev/null
    wait "$keep" 2>/dev/null
    t_ok "the default project's session ends normally" wait_gone "$name"
else
    _t_result 0 "coi kill --all # SKIP cannot create an Incus project to confine it to"
fi
[ "$_t_failed" = 0 ] || t_diag "coi's stderr of the captured runs:" "$(tail -c 3000 "$tmp/stderr.log" 2>/dev/null)"
t_done
