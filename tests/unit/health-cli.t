#!/bin/bash
# SPDX-License-Identifier: MIT
# coi health without a daemon (a socket that does not exist) and with a private coi home: the
# text layout (grouped, fix lines, final status line), colour only on a terminal and never with
# NO_COLOR, the JSON shape, --format, -v, and the exit code. Needs no Incus.
set -u
coi=${COI_BUILD:-build/dev}/coi
n=0 failed=0
ok() { # DESC CONDITION-EXIT-STATUS
    n=$((n + 1))
    if [ "$2" = 0 ]; then echo "ok $n - $1"; else
        echo "not ok $n - $1"
        failed=1
    fi
}
home=$(mktemp -d /tmp/coi-t-health-cli-XXXX)
trap 'rm -rf "$home"' EXIT
export COI_HOME=$home/.coi COI_CONFIG=$home/config.toml INCUS_SOCKET=$home/none/unix.socket
unset NO_COLOR
: >"$COI_CONFIG"
export COI_HEALTH_OFFLINE=1 # no DNS query leaves this machine (agent_service below)

out=$("$coi" health 2>&1) && rc=0 || rc=$?
ok "daemon down: exit 2" "$([ "$rc" = 2 ]; echo $?)"
ok "text: starts with the first category" "$([ "$(head -n1 <<<"$out")" = system ]; echo $?)"
ok "text: categories in order" "$([ "$(grep -E '^[a-z]+$' <<<"$out" | tr '\n' ' ')" = \
    "system incus security image network monitoring storage configuration status " ]; echo $?)"
ok "text: the failed incus check and its fix" \
    "$(grep -A1 -E '^  \[FAILED\] +incus ' <<<"$out" | grep -q "fix: start incusd: .*scripts/setup-host.*$INCUS_SOCKET"; echo $?)"
# an installed coi (outside its source tree) has no scripts/setup-host to point at
mkdir -p "$home/bin" && cp "$coi" "$home/bin/coi"
inst=$("$home/bin/coi" health 2>&1)
ok "installed: the fix names the service, not the source tree's script" \
    "$(grep -A1 -E '^  \[FAILED\] +incus ' <<<"$inst" | grep -q "fix: start incusd: systemctl start incus"; echo $?)"
ok "installed: no scripts/setup-host anywhere" "$(grep -q setup-host <<<"$inst"; [ $? = 1 ]; echo $?)"
ok "text: final status line" "$(tail -n1 <<<"$out" | grep -qE '^unhealthy: [0-9]+ checks, [0-9]+ ok, [0-9]+ warnings?, [0-9]+ failed$'; echo $?)"
ok "text: no colour off a terminal" "$(grep -q $'\033' <<<"$out"; [ $? = 1 ]; echo $?)"
tty=$(script -qc "$coi health" /dev/null 2>&1)
ok "text: colour on a terminal" "$(grep -q $'\033\[31m\[FAILED\]' <<<"$tty"; echo $?)"
tty=$(NO_COLOR=1 script -qc "$coi health" /dev/null 2>&1)
ok "text: no colour with NO_COLOR, even on a terminal" "$(grep -q $'\033' <<<"$tty"; [ $? = 1 ]; echo $?)"
verbose=$("$coi" health -v 2>&1)
ok "-v: more lines" "$([ "$(wc -l <<<"$verbose")" -gt "$(wc -l <<<"$out")" ]; echo $?)"

json=$("$coi" health --json 2>/dev/null) && rc=0 || rc=$?
ok "--json: exit 2 too" "$([ "$rc" = 2 ]; echo $?)"
ok "--json: status" "$([ "$(jq -r .status <<<"$json")" = unhealthy ]; echo $?)"
ok "--json: every check has id, category, status, message, fix" \
    "$(jq -e '[.checks[] | (.id|type=="string") and (.category|type=="string") and (.status|test("^(ok|warning|failed)$")) and (.message|length>0) and (.fix|type=="string")] | all' <<<"$json" >/dev/null; echo $?)"
ok "--json: summary matches the checks" \
    "$(jq -e '.summary.total == (.checks|length) and .summary.failed == ([.checks[]|select(.status=="failed")]|length)' <<<"$json" >/dev/null; echo $?)"
ok "--json: the incus check failed with the socket in the fix" \
    "$(jq -e --arg s "$INCUS_SOCKET" '.checks[] | select(.id=="incus") | .status=="failed" and (.fix|contains($s))' <<<"$json" >/dev/null; echo $?)"
ok "--json: host checks still ran" \
    "$(jq -e '[.checks[] | select(.id=="os" or .id=="config" or .id=="saved_sessions") | .status=="ok"] | all and length==3' <<<"$json" >/dev/null; echo $?)"
ok "--format json is --json" "$([ "$("$coi" health --format json 2>/dev/null | jq -c '[.checks[].id]')" = "$(jq -c '[.checks[].id]' <<<"$json")" ]; echo $?)"
ok "--format text is the text" "$("$coi" health --format text 2>/dev/null | tail -n1 | grep -q '^unhealthy:'; echo $?)"
"$coi" health --format yaml >/dev/null 2>&1
ok "--format yaml: usage error" "$([ $? = 2 ]; echo $?)"

# agent_service: the agent's API must be let through and known to this host's resolver.
check_of() { jq -r --arg id "$1" '.checks[] | select(.id==$id) | .status + ": " + .message'; }
printf '[network]\nmode = "allowlist"\nallowed_domains = ["example.test"]\n' >"$COI_CONFIG"
ok "agent_service: an allowlist without the agent's API warns" \
    "$("$coi" health --json 2>/dev/null | check_of agent_service | grep -q '^warning: allowlist mode does not let claude reach its service, api.anthropic.com'; echo $?)"
printf '[network]\nmode = "allowlist"\nallowed_domains = ["*.anthropic.com"]\n' >"$COI_CONFIG"
ok "agent_service: a wildcard that covers it does not" \
    "$("$coi" health --json 2>/dev/null | check_of agent_service | grep -q '^ok: '; echo $?)"
# The lookup itself, in a mount namespace of its own whose resolver is this machine's loopback
# (nothing answers there) and whose /etc/hosts knows the name or not: no query leaves the machine.
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
    : >"$COI_CONFIG"
    printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$home/resolv.conf"
    printf '127.0.0.1 localhost\n' >"$home/hosts"
    lookup() { unshare -m sh -c 'mount --bind "$1" /etc/resolv.conf && mount --bind "$2" /etc/hosts &&
        env -u COI_HEALTH_OFFLINE "$3" health --json' sh "$home/resolv.conf" "$home/hosts" "$coi" 2>/dev/null |
        check_of agent_service; }
    ok "agent_service: a host whose DNS does not know the agent's API warns" \
        "$(lookup | grep -q "^warning: claude's service, api.anthropic.com, does not resolve on this host"; echo $?)"
    printf '127.0.0.1 localhost\n192.0.2.1 api.anthropic.com\n' >"$home/hosts"
    ok "agent_service: one that knows it is fine" "$(lookup | grep -q '^ok: api.anthropic.com resolves'; echo $?)"
else
    echo "ok $((n += 1)) - # SKIP agent_service lookup: needs root and unshare"
    echo "ok $((n += 1)) - # SKIP agent_service lookup: needs root and unshare"
fi

printf '[network]\nmode = "sideways"\n' >"$COI_CONFIG"
json=$("$coi" health --json 2>/dev/null)
ok "a bad config value: the config check fails with file and line" \
    "$(jq -e --arg f "$COI_CONFIG" '.checks[] | select(.id=="config") | .status=="failed" and (.message|startswith($f + ":2"))' <<<"$json" >/dev/null; echo $?)"
# A daemon that accepts connections and never answers: the report still comes, in bounded time.
if command -v python3 >/dev/null; then
    sock=$home/hung.socket
    python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(8); s.settimeout(0.2)
conns, end = [], time.time() + 15
while time.time() < end:
    try: conns.append(s.accept()[0])
    except socket.timeout: pass
' "$sock" &
    hung=$!
    for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
    start=$(date +%s)
    json=$(COI_HEALTH_TIMEOUT=2 INCUS_SOCKET=$sock "$coi" health --json 2>/dev/null)
    took=$(($(date +%s) - start))
    kill "$hung" 2>/dev/null
    wait "$hung" 2>/dev/null
    ok "hung daemon: the report comes within the timeout" "$([ "$took" -le 5 ]; echo $?)"
    ok "hung daemon: the incus check says it does not answer, and to restart it" \
        "$(jq -e '.checks[] | select(.id=="incus") | .status=="failed" and (.message|contains("does not answer")) and (.fix|startswith("restart incusd"))' <<<"$json" >/dev/null; echo $?)"
fi
# [incus] group: the group that health tells a user who may not use the socket to join. Shown as
# nobody (root may use any socket), so only where this test runs as root, as CI does.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    g=$home/group
    mkdir -m 777 "$g" && chmod 755 "$home" && : >"$g/unix.socket" && chmod 600 "$g/unix.socket"
    printf '[incus]\ngroup = "coi-t-group"\n' >"$g/config.toml" && chmod 644 "$g/config.toml"
    json=$(setpriv --reuid 65534 --regid 65534 --clear-groups env HOME="$g" COI_HOME="$g/.coi" \
        COI_CONFIG="$g/config.toml" INCUS_SOCKET="$g/unix.socket" "$coi" health --json 2>/dev/null)
    ok "incus.group: a user who may not use the socket is told to join the configured group" \
        "$(jq -e '.checks[] | select(.id=="permissions") | .status=="failed" and (.fix|startswith("add yourself to the coi-t-group group (usermod -aG coi-t-group"))' <<<"$json" >/dev/null; echo $?)"
fi
echo "1..$n"
exit $failed
