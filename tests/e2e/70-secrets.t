#!/bin/bash
# SPDX-License-Identifier: MIT
# Secrets stay on the host (issue 22, ARCHITECTURE.md decision 11), end to end on coi-default: a
# fake HTTPS upstream in a test network namespace (its certificate from a test CA that only the
# host side trusts, for this test: COI_EGRESS_CAFILE; COI_EGRESS_CONNECT_TO routes the test names
# there) receives the real values, while inside the container, as root, they appear nowhere:
# not in any process's environment, any file of the root filesystem or the home, nor the agent's
# login file. A placeholder sent to another secret's host is refused and recorded (HIGH); a
# stream arrives in the pieces it was sent in; git over HTTPS gets the token through its
# credential helper (the built-in 'github'); an expired login is renewed on the host; and the
# built-in 'anthropic' secret implied by forward_env, in allowlist mode with nothing allowed,
# reaches the upstream with its real key.
# Keys whose effect this file shows (src/config/keys.c names it as their proof): secrets,
# security.secrets_on_host.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/egress-lib.sh"
t_require_daemon

IMAGE=coi-default
incus image info "$IMAGE" >/dev/null 2>&1 || t_bail "the image $IMAGE is missing (tests/e2e/setup)"
tmp=$(mktemp -d /tmp/coi-t-secrets-XXXX)
t_defer "rm -rf '$tmp'"
ws=$tmp/ws
mkdir -p "$ws"
cd "$ws"
export COI_HOME=$tmp/coi-home
name=$(t_session_name "$ws" 1)

# --- the fake upstream: its own CA, in its own network namespace ---
egress_upstream coit-sec 192.168.252 api.test other.test auth.test git.test

# --- the secrets: two API keys for two hosts, and a login that has expired ---
KEY=real-key-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
OTHER=real-other-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
GH=real-gh-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
ACCESS=real-access-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
REFRESH=real-refresh-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
export COI_T_KEY=$KEY COI_T_OTHER=$OTHER COI_T_GH=$GH
mkdir -p "$tmp/home/.claude"
printf '{"claudeAiOauth": {"accessToken": "%s", "refreshToken": "%s", "expiresAt": %s, "scopes": ["user:inference"]}}\n' \
    "$ACCESS" "$REFRESH" $((($(date +%s) - 600) * 1000)) >"$tmp/home/.claude/.credentials.json"
chmod 600 "$tmp/home/.claude/.credentials.json"
# The monitor runs, as by default, but does not freeze the session: the script inside reads the
# agent's login file with jq and greps the whole filesystem for the real values as root, which
# are HIGH findings (a credential file opened by a program it does not belong to).
cat >"$tmp/user.toml" <<X
[monitoring]
auto_pause_on_high = false

[[secrets]]
name = "apikey"
env = "COI_T_KEY"
hosts = ["api.test"]
header = "x-api-key"
container_env = "TEST_API_KEY"

[[secrets]]
name = "other"
env = "COI_T_OTHER"
hosts = ["other.test"]
header = "x-api-key"
container_env = "OTHER_API_KEY"

[[secrets]]
builtin = "github"
env = "COI_T_GH"
hosts = ["git.test"]

[[secrets]]
builtin = "claude"
file = "$tmp/home/.claude/.credentials.json"
hosts = ["api.test"]
refresh_url = "https://auth.test/oauth/token"
X
export COI_CONFIG=$tmp/user.toml

# --- one session: requests from inside, then the whole container searched as root ---
# The search takes each value as a regular expression that is not the value itself ("ab()cd"),
# so the needles never put a value into the container (in an argv or a file) themselves.
needle() { printf '%s()%s' "${1:0:6}" "${1:6}"; }
cat >"$ws/inside.sh" <<'X'
set -u
echo "api=$(curl -sS --max-time 20 -H "x-api-key: $TEST_API_KEY" https://api.test/v1/messages)"
tok=$(jq -r .claudeAiOauth.accessToken ~/.claude/.credentials.json)
rt=$(jq -r .claudeAiOauth.refreshToken ~/.claude/.credentials.json)
echo "login=$(curl -sS --max-time 20 -H "Authorization: Bearer $tok" https://api.test/v1/login)"
echo "wrong=$(curl -sS --max-time 20 -o /dev/null -w '%{http_code}' -H "x-api-key: $TEST_API_KEY" https://other.test/x)"
echo "wrong_rt=$(curl -sS --max-time 20 -o /dev/null -w '%{http_code}' -d "refresh_token=$rt" https://api.test/oauth/token)"
echo "git_rc=$(GIT_TERMINAL_PROMPT=0 timeout 20 git ls-remote https://git.test/o/r.git >/dev/null 2>&1; echo $?)"
curl -sSN --max-time 20 -H "x-api-key: $TEST_API_KEY" 'https://api.test/stream?n=4&gap=400' |
    while IFS= read -r l; do [ -n "$l" ] && echo "stream $(date +%s%N) $l"; done
echo "ca=$(grep -c 'coi:begin proxy-ca' /etc/ssl/certs/ca-certificates.crt)"
echo "hosts=$(grep -c ' api.test$' /etc/hosts)"
echo "context=$(grep -c 'placeholders: the host puts the real values into HTTPS requests to api.test, other.test, git.test only' ~/SANDBOX_CONTEXT.md)"
echo "placeholders=$(printf '%s' "$TEST_API_KEY" | grep -c '^coi[0-9a-f]\{40\}$') $(printf '%s' "$tok" | grep -c '^sk-ant-oat01-coi')"
sudo -n sh -c '
  for p in /proc/[0-9]*; do tr "\0" "\n" <"$p/environ"; done 2>/dev/null >/root/all-env
  echo "env_lines=$(wc -l </root/all-env) env_placeholder=$(grep -c "^TEST_API_KEY=coi" /root/all-env)"
  shift 0
  echo "found=[$(grep -rlsE -e "$1" -e "$2" -e "$3" -e "$4" -e "$5" --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev / | tr "\n" " ")]"
' sh "$@"
X
t0=$(date +%s)
out=$("$COI" run --image "$IMAGE" -- sh /workspace/inside.sh "$(needle "$KEY")" "$(needle "$OTHER")" \
    "$(needle "$ACCESS")" "$(needle "$REFRESH")" "$(needle "$GH")" 2>"$tmp/err" </dev/null) || true
t_diag "session: $(($(date +%s) - t0)) s"
t_like "the placeholder's request reaches the upstream" "$out" "api=ok"
t_ok "the upstream received the real key" grep -qF "x-api-key: $KEY" "$tmp/up.log"
t_fails "and never a placeholder of it" grep -q "x-api-key: coi" "$tmp/up.log"
t_like "inside, the variable and the login file hold placeholders" "$out" "placeholders=1 1"
t_like "the login's request goes through" "$out" "login=ok"
t_ok "the expired login was renewed on the host with the real refresh token" \
    grep -qF "\"refresh_token\":\"$REFRESH\"" "$tmp/up.log"
t_ok "the upstream received the renewed token" grep -qF "Authorization: Bearer access-from-$REFRESH" "$tmp/up.log"
t_ok "the host's login file holds the new tokens" \
    grep -qF "\"accessToken\": \"access-from-$REFRESH\"" "$tmp/home/.claude/.credentials.json"
t_ok "git over HTTPS: the host received the real token in git's Basic credentials" \
    grep -qF "Authorization: Basic $(printf 'x-access-token:%s' "$GH" | base64 -w0)" "$tmp/up.log"
t_like "a placeholder sent to another secret's host is refused" "$out" "wrong=403"
t_like "the refresh token's placeholder is sent nowhere" "$out" "wrong_rt=403"
t_fails "the refused request never reached the upstream" grep -q "^GET /x " "$tmp/up.log"
audit=$COI_HOME/audit/$name.jsonl
t_ok "the refusal is a HIGH finding in the audit log" jq -se 'any(.[]; .rule == "egress-placeholder"
    and .level == "high" and ((.description // "") | test("secret .apikey. was sent to other.test")))' "$audit"
t_ok "so is the refresh token's" jq -se 'any(.[]; .rule == "egress-placeholder"
    and ((.description // "") | test("secret .claude-refresh. was sent to api.test")))' "$audit"
n_ev=$(grep -c '^stream ' <<<"$out")
first=$(grep '^stream ' <<<"$out" | head -1 | awk '{print $2}')
last=$(grep '^stream ' <<<"$out" | tail -1 | awk '{print $2}')
t_is "a stream's 4 events all arrive" "$n_ev" 4
t_ok "in their pieces, as sent 400 ms apart ($(((${last:-0} - ${first:-0}) / 1000000)) ms from first to last)" \
    test $(((${last:-0} - ${first:-0}) / 1000000)) -ge 1000
t_like "the proxy's CA is in the system bundle, the test hosts lead to it" "$out" "ca=1"$'\n'"hosts=1"
t_like "the agent's sandbox context says its credentials are placeholders, and for which hosts" "$out" "context=1"
t_like "inside, as root: the environment was read" "$out" "env_lines=[1-9][0-9]* env_placeholder=[1-9]"
t_like "inside, as root: no value in any environment or file" "$out" "found=\[\]"
t_fails "no proxy or CA file is left on the host" ls "$COI_HOME/run/$name.egress-ca.pem"
t_diag "$(tail -5 "$tmp/err")"
[ "$_t_failed" = 0 ] || t_diag "the audit log's findings: $(jq -c 'select(.level != "info") | [.rule, .action, .description]' "$audit" 2>&1 | head -20)"

# --- a secret of one's own whose value cannot be read stops the start, naming why ---
unset COI_T_OTHER
t_wait_gone "$name" || true # the session above is deleted in the background
out=$("$COI" run --image "$IMAGE" -- true 2>&1 </dev/null) && rc=0 || rc=$?
t_like "an unreadable secret stops the start with the reason" "$rc $out" \
    "^1 .*\\[\\[secrets\\]\\] \\(.*user.toml:[0-9]+\\): secret 'other': 'COI_T_OTHER' is not set"
t_fails "and nothing was created" incus info "$name"

t_done
