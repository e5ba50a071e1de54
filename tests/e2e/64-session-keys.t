#!/bin/bash
# SPDX-License-Identifier: MIT
# Session keys on real sessions, each with its pair: session_name gives a workspace a second
# identity (its own container name and slot 1); persistent keeps the container for the next
# session; stale_base_check warns about, refuses or ignores an image coi built from an older
# recipe (a copy of the tiny image carrying such properties) and says nothing for a current one;
# use_sudo = false refuses a policy it cannot apply without root, where use_sudo = true applies it
# through sudo; [timezone] sets TZ; env_commands run on the host and their output reaches the
# session, a failing or slow one stops the start; code_uid and code_user are who the command runs
# as and who owns the workspace inside; at max_duration, stop_graceful gives the container's
# processes the shutdown signal first (false: stopped at once); ready_timeout bounds the wait for
# the container's address (DHCP dropped by this test).
# Keys whose effect this file shows (src/config/keys.c names it as their proof):
# container.session_name, container.persistent, container.stale_base_check, network.use_sudo,
# timezone.mode, timezone.name, defaults.env_commands, defaults.env_command_timeout,
# incus.code_uid, incus.code_user, limits.runtime.stop_graceful, container.ready_timeout.
. "$(dirname "$0")/lib.sh"
t_require_daemon

tmp=$(mktemp -d)
t_defer "rm -rf '$tmp'"
chmod 755 "$tmp"
ws=$tmp/ws
mkdir -p "$ws"
t_isnt() { if [ "$2" != "$3" ]; then _t_result 0 "$1"; else _t_result 1 "$1"; t_diag "got '$2'"; fi; }
t_unlike() { if [[ "$2" =~ $3 ]]; then _t_result 1 "$1"; t_diag "got: '$2'"; else _t_result 0 "$1"; fi; }
# run CONFIG ARGS...: coi run in $ws with CONFIG (printf %b) as the user config (IMAGE: another
# image); its stdout in $tmp/out, stderr in $tmp/err, exit status in $rc
run() {
    printf '%b' "$1" >"$tmp/c.toml"
    chmod 644 "$tmp/c.toml"
    shift
    (cd "$ws" && COI_CONFIG=$tmp/c.toml "$COI" run --image "${IMAGE:-$T_IMAGE}" "$@" >"$tmp/out" 2>"$tmp/err") && rc=0 || rc=$?
}
out() { cat "$tmp/out"; }
err() { cat "$tmp/err"; }

# ---- container.session_name ----
plain=$(t_session_name "$ws" 1)
named="coi-$(printf '%s\0%s' "$ws" alpha | sha256sum | cut -c1-8)-1"
t_defer "incus delete -f '$plain' '$named'"
printf '[container]\nsession_name = "alpha"\n' >"$tmp/named.toml"
(cd "$ws" && COI_CONFIG=$tmp/named.toml exec "$COI" run --image "$T_IMAGE" -- sleep 60 >/dev/null 2>&1) &
npid=$!
t_defer "kill $npid 2>/dev/null"
t_ok "session_name: the session is $named (the path and the name hashed)" t_wait_running "$named"
(cd "$ws" && COI_CONFIG=/dev/null exec "$COI" run --image "$T_IMAGE" -- sleep 60 >/dev/null 2>&1) &
ppid=$!
t_defer "kill $ppid 2>/dev/null"
t_ok "  ... and the workspace's own identity takes its own slot 1 beside it ($plain)" t_wait_running "$plain"
t_is "  ... the container names its session name" "$(incus config get "$named" user.coi.session_name)" alpha
kill -TERM "$npid" "$ppid"
wait "$npid" "$ppid" 2>/dev/null
t_ok "both end" sh -c "$(declare -f t_wait_gone); t_wait_gone '$named' && t_wait_gone '$plain'"

# ---- container.persistent ----
run '[container]\npersistent = true\n' -- sh -c 'echo kept >/home/code/marker'
t_is "container.persistent = true: the container is kept, stopped" "$(incus list "$plain" -c s -f csv)" STOPPED
run '[container]\npersistent = true\n' -- cat /home/code/marker
t_is "  ... and the next session reuses it" "$(out)" kept
incus delete -f "$plain" >/dev/null 2>&1
run '' -- true
t_ok "without it, the container goes" t_wait_gone "$plain"

# ---- container.stale_base_check ----
cache=$(ls -d /var/cache/coi/tiny-* 2>/dev/null | head -n 1)
[ -f "$cache/meta.tar.gz" ] || t_bail "no tiny image cache (run: tests/e2e/setup)"
current=$(COI_CONFIG=/dev/null "$COI" build --recipe-hash)
# fake IMAGE RECIPE: the tiny image as coi's own build of RECIPE (a copy: its own fingerprint)
fake() {
    local d=$tmp/img-$1
    mkdir -p "$d" && tar -xzf "$cache/meta.tar.gz" -C "$d"
    printf '  coi.recipe: "%s"\n  coi.agents: "claude,opencode,codex,gemini"\n  coi.base: "coi-base-debian-12"\n  coi.built: "%s"\n' "$2" "$1" >"$d/props"
    sed -i "/^properties:/r $d/props" "$d/metadata.yaml"
    tar -C "$d" -czf "$d.tar.gz" metadata.yaml templates
    t_defer "incus image delete '$1'"
    incus image import "$d.tar.gz" "$cache/rootfs.squashfs" --alias "$1" >/dev/null
}
stale=$(t_name stale) fresh=$(t_name fresh)
t_ok "a copy of the tiny image built from an old recipe" fake "$stale" 0123456789abcdef
t_ok "and one built from this coi's ($current)" fake "$fresh" "$current"
IMAGE=$stale run '' -- true
t_is "stale_base_check = warn (the default): the session runs" "$rc" 0
t_like "  ... with a warning that says what to do" "$(cat "$tmp/err")" \
    "warning: the image '$stale' \(built $stale\) is older than this coi's recipe: 'coi build --force'"
IMAGE=$fresh run '' -- true
t_unlike "an image of this coi's recipe: no warning" "$(cat "$tmp/err")" "older than this coi's recipe"
IMAGE=$stale run '[container]\nstale_base_check = "error"\n' -- true
t_isnt "stale_base_check = error: the session does not start" "$rc" 0
t_like "  ... and says why" "$(cat "$tmp/err")" "is older than this coi's recipe: rebuild it with 'coi build --force'"
IMAGE=$stale run '[container]\nstale_base_check = "off"\n' -- true
t_unlike "stale_base_check = off: nothing said" "$(cat "$tmp/err")" "older than this coi's recipe"
run '' -- true
t_unlike "the tiny image (not coi's build): nothing said" "$(err)" "older than"

# ---- network.use_sudo ----
uws=$tmp/uws
mkdir -p "$uws" && chown 1234:1234 "$uws"
usess() { # CONFIG: coi run as uid 1234 (coitest: no CAP_NET_ADMIN; sudo nft allowed)
    printf '%b' "$1" >"$tmp/u.toml"
    chmod 644 "$tmp/u.toml"
    (cd "$uws" && t_as_user env COI_CONFIG="$tmp/u.toml" "$COI" run --image "$T_IMAGE" -- echo ran 2>&1)
}
out=$(usess '')
t_like "use_sudo = true (the default): not root, the policy applies through sudo nft" "$out" "(^|
)ran$"
out=$(usess '[network]\nuse_sudo = false\n')
t_like "use_sudo = false: not root, the start is refused, saying why" "$out" \
    "it is not root \(no CAP_NET_ADMIN\) and \[network\] use_sudo is off"
t_unlike "  ... without trying sudo" "$out" "sudo: "
run '[network]\nuse_sudo = false\n' -- true
t_is "use_sudo = false as root: the policy applies without sudo" "$rc" 0
t_ok "  ... no container is left" t_wait_ws_clear "$uws"

# ---- [timezone] ----
tzcmd=(-- sh -c 'echo "${TZ-unset}"')
run '[timezone]\nmode = "utc"\n' "${tzcmd[@]}"
t_is "timezone.mode = utc: TZ=UTC in the session" "$(out)" UTC
run '[timezone]\nmode = "fixed"\nname = "Pacific/Chatham"\n' "${tzcmd[@]}"
t_is "timezone.mode = fixed: TZ is timezone.name" "$(out)" Pacific/Chatham
host_tz=$(cat /etc/timezone 2>/dev/null || readlink /etc/localtime 2>/dev/null | sed -n 's|.*zoneinfo/||p')
run '' "${tzcmd[@]}"
t_is "timezone.mode = host (the default): the host's zone (${host_tz:-none})" "$(out)" "${host_tz:-unset}"

# ---- [defaults] env_commands and env_command_timeout ----
run '[defaults.env_commands]\nCOI_T_FROM_HOST = "printf \x27%s\\\\n\\\\n\x27 host-$(id -u)"\n' -- sh -c 'echo "[$COI_T_FROM_HOST]"'
t_is "env_commands: the host command's output, without its final newlines, in the session" \
    "$(out)" "[host-$(id -u)]"
run '' -- sh -c 'echo "[${COI_T_FROM_HOST-unset}]"'
t_is "  ... without the key, nothing" "$(out)" "[unset]"
run '[defaults.env_commands]\nCOI_T_BAD = "echo broken >&2; exit 4"\n' -- true
t_isnt "a failing env_command stops the start" "$rc" 0
t_like "  ... naming the variable, the status and what it said" "$(err)" "env_commands: COI_T_BAD: .* failed \(exit 4\): broken"
t0=$(date +%s)
run '[defaults]\nenv_command_timeout = "1s"\n[defaults.env_commands]\nCOI_T_SLOW = "sleep 20"\n' -- true
t_isnt "env_command_timeout: a slower command stops the start" "$rc" 0
t_like "  ... saying so" "$(err)" "env_commands: COI_T_SLOW: 'sleep 20' took more than 1 s"
t_ok "  ... at the limit, not at the command's end" test $(($(date +%s) - t0)) -lt 15
t_ok "no container is left" t_wait_ws_clear "$ws"

# ---- incus.code_uid, incus.code_user (an image whose user is another) ----
run '[incus]\ncode_uid = 1500\ncode_user = "dev"\n' -- sh -c 'echo "$(id -u) $HOME $USER $(stat -c %u /workspace)"; touch /workspace/by-dev'
t_is "code_uid, code_user: the command runs as 1500 with dev's HOME and USER, the workspace is its" \
    "$(out)" "1500 /home/dev dev 1500"
t_is "  ... and what it makes is the host owner's" "$(stat -c %u "$ws/by-dev" 2>&1)" "$(stat -c %u "$ws")"
rm -f "$ws/by-dev"

# ---- limits.runtime.stop_graceful ----
# A process of the container outside the command (its own session) writes to the workspace when
# it gets SIGTERM: the graceful stop sends it; a forced stop (freeze, then delete) does not.
graceful() { # true|false
    rm -f "$ws/got-term"
    run "[limits.runtime]\nmax_duration = \"2s\"\nstop_graceful = $1\n[container]\nshutdown_timeout = 10\n" \
        -- sh -c 'setsid sh -c "trap \"echo term >/workspace/got-term; exit 0\" TERM; sleep 600 & wait" </dev/null >/dev/null 2>&1 & sleep 600'
    t_like "stop_graceful = $1: max_duration ends the session" "$(err)" "max_duration \(2s\) reached"
}
graceful true
t_is "  ... its processes got the shutdown signal first" "$(cat "$ws/got-term" 2>&1)" term
graceful false
t_is "  ... stopped at once: no process got it" "$(cat "$ws/got-term" 2>/dev/null || echo none)" none
t_ok "  ... no container is left" t_wait_ws_clear "$ws"
rm -f "$ws/got-term"

# ---- container.ready_timeout ----
# DHCP requests from the test bridge dropped (this test holds the daemon): the session waits for
# its network ready_timeout seconds, then fails and leaves nothing. (Its address is decided before
# the start; the tiny image's resolver comes from its DHCP client alone.)
nft add table inet coit_keys_dhcp &&
    nft add chain inet coit_keys_dhcp in '{ type filter hook input priority -300; }' &&
    nft add rule inet coit_keys_dhcp in iifname coitestbr0 udp dport 67 drop ||
    t_bail "cannot drop DHCP"
t_defer "nft delete table inet coit_keys_dhcp"
run '[container]\nready_timeout = 2\n' -- true
nft delete table inet coit_keys_dhcp
t_isnt "ready_timeout = 2 without DHCP: the start fails" "$rc" 0
t_like "  ... after 2 s, saying why" "$(err)" "did not become ready within 2 s: its network is not up"
t_ok "  ... no container is left" t_wait_ws_clear "$ws"
t_done
