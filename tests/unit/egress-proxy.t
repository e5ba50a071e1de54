#!/bin/bash
# SPDX-License-Identifier: MIT
# The credential proxy on loopback (tests/tools/egress-proxy), in front of a fake HTTPS upstream
# (tests/tools/fake-upstream) whose certificate comes from a test CA made here: curl, trusting
# only the proxy's per-session CA, talks to the proxy as the container would. What the upstream
# receives is read from its request log. No address other than 127.0.0.1 is used.
set -u
B=${COI_BUILD:-build/dev}
for t in openssl curl; do
    command -v $t >/dev/null || { echo "1..0 # SKIP $t is not installed"; exit 0; }
done
D=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$D"
}
trap cleanup EXIT
n=0 failed=0
ok() { # DESC COND...
    local desc=$1
    shift
    n=$((n + 1))
    if "$@"; then echo "ok $n - $desc"; else echo "not ok $n - $desc"; failed=1; fi
}

# The upstream's own test CA and certificate (names api.test, other.test, git.test).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/ca.key" \
    -out "$D/ca.pem" -days 2 -subj "/CN=coi test upstream CA" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/up.key" \
    -out "$D/up.csr" -subj "/CN=api.test" 2>/dev/null
printf 'subjectAltName=DNS:api.test,DNS:other.test,DNS:git.test,DNS:auth.test\nextendedKeyUsage=serverAuth\n' >"$D/ext"
openssl x509 -req -in "$D/up.csr" -CA "$D/ca.pem" -CAkey "$D/ca.key" -CAcreateserial \
    -out "$D/up.pem" -days 2 -extfile "$D/ext" 2>/dev/null

# wait_port FILE: the "port N" a tool prints, within 5 s
wait_port() {
    for _ in $(seq 50); do
        grep -q '^port ' "$1" 2>/dev/null && { awk '/^port /{print $2; exit}' "$1"; return; }
        sleep 0.1
    done
    return 1
}

"$B/tools/fake-upstream" --cert "$D/up.pem" --key "$D/up.key" --log "$D/up.log" --lifetime 120 \
    >"$D/up.out" 2>&1 &
pids+=($!)
UP=$(wait_port "$D/up.out") || { echo "Bail out! fake-upstream did not start"; exit 1; }

PH_KEY=sk-ant-coi1111111111111111111111111111111111111111
PH_GH=ghp_coi2222222222222222222222222222222222222222
PH_OTHER=coi3333333333333333333333333333333333333333
ROUTES=api.test=127.0.0.1:$UP,other.test=127.0.0.1:$UP,git.test=127.0.0.1:$UP,auth.test=127.0.0.1:$UP
secrets=(--secret anthropic --host api.test --header x-api-key --placeholder $PH_KEY --value REAL-KEY-1
    --secret github --host git.test --header Authorization --format 'Basic {}'
    --basic-user x-access-token --placeholder $PH_GH --value REAL-GH-2
    --secret other --host other.test --header x-api-key --placeholder $PH_OTHER --value REAL-OTHER-3)

# start_proxy NAME [ARGS]: a proxy whose port ends up in $PX
start_proxy() {
    local name=$1
    shift
    "$B/tools/egress-proxy" --listen 127.0.0.1:0 --ca-out "$D/$name-ca.pem" --connect-to "$ROUTES" \
        --findings "$D/$name-findings" --lifetime 120 "${secrets[@]}" "$@" >"$D/$name.out" 2>"$D/$name.err" &
    pids+=($!)
    PX=$(wait_port "$D/$name.out") || { echo "Bail out! egress-proxy did not start"; exit 1; }
    CA=$D/$name-ca.pem
}
start_proxy p --cafile "$D/ca.pem"
# c HOST PATH [CURL ARGS]: curl through the proxy as HOST, trusting only the proxy's CA
c() {
    local host=$1 path=$2
    shift 2
    curl -sS --max-time 10 --resolve "$host:$PX:127.0.0.1" --cacert "$CA" "$@" "https://$host:$PX$path"
}
upstream_has() { grep -qF -- "$1" "$D/up.log"; }
upstream_lacks() { ! grep -qF -- "$1" "$D/up.log"; }

out=$(c api.test /v1/messages -H "x-api-key: $PH_KEY" -d '{}')
ok "a request with the placeholder is answered by the upstream" [ "$out" = ok ]
ok "the upstream receives the real key in x-api-key" upstream_has "x-api-key: REAL-KEY-1"
ok "the placeholder never reaches the upstream" upstream_lacks "$PH_KEY"

c api.test /v1/messages -H "Authorization: Bearer $PH_KEY" >/dev/null
ok "a placeholder in another header moves to the secret's header" \
    bash -c "[ \$(grep -c 'x-api-key: REAL-KEY-1' '$D/up.log') = 2 ] && ! grep -q 'Bearer' '$D/up.log'"

out=$(c git.test /o/r.git/info/refs -u "x-access-token:$PH_GH")
want=$(printf 'x-access-token:REAL-GH-2' | base64 -w0)
ok "git's Basic credentials carry the real token" upstream_has "Authorization: Basic $want"

# keep-alive: two requests, one connection, both injected
nc=$(c api.test /a -H "x-api-key: $PH_KEY" -o /dev/null -w '%{num_connects}\n' \
    --next --resolve "api.test:$PX:127.0.0.1" --cacert "$D/p-ca.pem" -H "x-api-key: $PH_KEY" \
    -o /dev/null -w '%{num_connects}\n' "https://api.test:$PX/b" | paste -sd' ')
ok "keep-alive: the second request reuses the connection ($nc)" [ "$nc" = "1 0" ]
ok "keep-alive: both requests carry the key" bash -c "grep -A4 '^GET /b ' '$D/up.log' | grep -q 'x-api-key: REAL-KEY-1'"

# a chunked upload arrives whole
head -c 100000 /dev/urandom | base64 -w0 >"$D/body"
c api.test /upload -H "x-api-key: $PH_KEY" -H 'Transfer-Encoding: chunked' --data-binary @"$D/body" >/dev/null
ok "a chunked upload passes" upstream_has "body: $(head -c 512 "$D/body")"

# refusals: a placeholder for another host, in a header or in a body; fronting; a foreign name
code=$(c other.test /x -H "x-api-key: $PH_KEY" -o "$D/r1" -w '%{http_code}')
ok "the placeholder sent to another secret's host is refused (403)" [ "$code" = 403 ]
ok "the refusal names the secret" grep -q "secret 'anthropic' is not for other.test" "$D/r1"
ok "the refusal is recorded" grep -q "host=other.test status=403 secret=anthropic where=header 'x-api-key'" "$D/p-findings"
ok "the refused request never reached the upstream" upstream_lacks "GET /x "
code=$(c other.test /y -H "x-api-key: $PH_OTHER" --data-binary "{\"k\":\"$PH_KEY\"}" -o /dev/null -w '%{http_code}')
ok "a placeholder for another host in a body is refused" [ "$code" = 403 ]
ok "and recorded" grep -q "host=other.test status=403 secret=anthropic where=body" "$D/p-findings"
code=$(c api.test /z -H "Host: other.test" -H "x-api-key: $PH_KEY" -o /dev/null -w '%{http_code}')
ok "a Host header naming another site is refused (421)" [ "$code" = 421 ]
curl -sS --max-time 5 --resolve "evil.test:$PX:127.0.0.1" --cacert "$D/p-ca.pem" "https://evil.test:$PX/" 2>"$D/e" >/dev/null
ok "TLS for a name that is no secret's host is refused in the handshake" grep -q 'unrecognized name' "$D/e"

ver=$(c api.test /h2 --http2 -H "x-api-key: $PH_KEY" -o /dev/null -w '%{http_version}')
ok "a client offering HTTP/2 speaks HTTP/1.1 with the proxy ($ver)" [ "$ver" = 1.1 ]

# a stream arrives as it is sent: 4 events 400 ms apart are read over >= 1.2 s, not at once
c api.test '/stream?n=4&gap=400' -N -H "x-api-key: $PH_KEY" | while IFS= read -r l; do
    [ -n "$l" ] && echo "$(date +%s%N) $l"
done >"$D/stream"
first=$(awk 'NR==1{print $1}' "$D/stream")
last=$(awk 'END{print $1}' "$D/stream")
ok "a streamed response arrives in its pieces ($(((last - first) / 1000000)) ms from first to last)" \
    bash -c "[ \$(wc -l <'$D/stream') = 4 ] && [ $(((last - first) / 1000000)) -ge 1000 ]"

# an upstream the host does not trust: 502, nothing sent
start_proxy q
code=$(curl -sS --max-time 10 --resolve "api.test:$PX:127.0.0.1" --cacert "$D/q-ca.pem" \
    -H "x-api-key: $PH_KEY" -o "$D/r2" -w '%{http_code}' "https://api.test:$PX/untrusted")
ok "an upstream whose certificate the host does not trust gets nothing (502)" \
    bash -c "[ '$code' = 502 ] && grep -q 'certificate not trusted' '$D/r2' && ! grep -q '/untrusted' '$D/up.log'"

# As the supervisor runs it (--child): values from their sources through a sealed memfd, and an
# expired login renewed on the host, against the fake upstream's token endpoint.
PH_LOGIN=sk-ant-oat01-coi4444444444444444444444444444444444444444
PH_RT=coi5555555555555555555555555555555555555555
past=$((($(date +%s) - 1000) * 1000))
printf '{"o": {"access": "A-OLD", "refresh": "R1", "expiresAt": %s}, "keep": "me"}\n' $past >"$D/creds.json"
chmod 600 "$D/creds.json"
secrets=(--secret login --host api.test --header Authorization --format 'Bearer {}'
    --placeholder $PH_LOGIN --file "$D/creds.json" --field o.access
    --refresh-url https://auth.test/oauth/token --refresh-token-field o.refresh
    --expires-field o.expiresAt --client-id test-client
    --secret login-refresh --placeholder $PH_RT)
start_proxy k --child --cafile "$D/ca.pem"
code=$(c api.test /v1/login-a -H "Authorization: Bearer $PH_LOGIN" -o /dev/null -w '%{http_code}')
ok "an expired login: the request goes through ($code)" [ "$code" = 200 ]
ok "the host renewed it with the refresh token" bash -c "grep -A8 '^POST /oauth/token ' '$D/up.log' | grep -q '\"refresh_token\":\"R1\"'"
ok "the upstream receives the renewed token" upstream_has "Authorization: Bearer access-from-R1"
ok "the old token is not sent" upstream_lacks "A-OLD"
ok "the host's file holds the new tokens, the rest kept" \
    bash -c "grep -q '\"access\": \"access-from-R1\"' '$D/creds.json' && grep -q '\"refresh\": \"R1-next\"' '$D/creds.json' && grep -q '\"keep\": \"me\"' '$D/creds.json'"
ok "the file keeps its mode" [ "$(stat -c %a "$D/creds.json")" = 600 ]
c api.test /v1/login-b -H "Authorization: Bearer $PH_LOGIN" -o /dev/null
ok "a valid login is not renewed again" [ "$(grep -c '^POST /oauth/token ' "$D/up.log")" = 1 ]
code=$(c api.test /v1/login-c -H "x-refresh: $PH_RT" -o /dev/null -w '%{http_code}')
ok "the refresh token's placeholder is sent nowhere (403)" [ "$code" = 403 ]
# (the report crosses a socket to the other process: allow it a moment)
for _ in $(seq 30); do grep -qs "secret=login-refresh" "$D/k-findings" && break; sleep 0.1; done
ok "and the refusal reaches the supervisor's side as a report" grep -q "secret=login-refresh where=header 'x-refresh'" "$D/k-findings"

echo "1..$n"
[ -n "${KEEP:-}" ] && { cp -r "$D" /tmp/eg-keep; }
exit $failed
