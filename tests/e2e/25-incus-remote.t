#!/bin/bash
# SPDX-License-Identifier: MIT
# A remote: the test daemon also listens on HTTPS on 127.0.0.1 and trusts a client certificate
# made here; coi talks to it only through COI_INCUS_REMOTE (+ client cert, key, pinned server
# cert), never the unix socket (INCUS_SOCKET points nowhere). Part of the suite runs that way:
# launch, exec (status, capture, stdin streaming), files, list, snapshots, events, delete. A
# wrong pinned certificate and an untrusted client are refused. The same from [incus] of a config
# file, with no variable set (a key ignored would leave coi on the default local socket).
# Keys whose effect this file shows (src/config/keys.c names it as their proof): incus.remote_url,
# incus.client_cert, incus.client_key, incus.server_cert.
. "$(dirname "$0")/lib.sh"
t_require_daemon

tmp=$(mktemp -d)
t_defer "rm -rf $tmp"
addr=$(incus config get core.https_address)
if [ -z "$addr" ]; then
    addr=127.0.0.1:18443
    incus config set core.https_address "$addr" || t_bail "cannot make the test daemon listen on $addr"
    t_defer "incus config unset core.https_address"
fi
mkcert() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:secp384r1 -nodes -days 1 \
        -subj "/CN=$1" -keyout "$tmp/$1.key" -out "$tmp/$1.crt" 2>/dev/null
}
mkcert coi-t-incus-client && mkcert coi-t-incus-stranger || t_bail "openssl failed"
fp=$(openssl x509 -in "$tmp/coi-t-incus-client.crt" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f)
incus config trust add-certificate "$tmp/coi-t-incus-client.crt" --name coi-t-incus-client >/dev/null ||
    t_bail "cannot trust the client certificate"
t_defer "incus config trust remove $fp"

remote() {
    env INCUS_SOCKET=/nonexistent/unix.socket COI_INCUS_REMOTE="https://$addr" \
        COI_INCUS_CLIENT_CERT="$tmp/${CLIENT:-coi-t-incus-client}.crt" \
        COI_INCUS_CLIENT_KEY="$tmp/${CLIENT:-coi-t-incus-client}.key" \
        COI_INCUS_SERVER_CERT="${SERVER_CERT:-$INCUS_DIR/server.crt}" "$@"
}

c=$(t_name incus-remote)
t_defer "incus delete -f $c"
t_ok "launch over HTTPS" remote "$COI" container launch "$T_IMAGE" "$c"
t_is "incus (local socket) sees it running" "$(incus list "$c" -c s -f csv)" "RUNNING"
rc=0; remote "$COI" container exec "$c" -- sh -c 'exit 42' || rc=$?
t_is "exec status over HTTPS" "$rc" 42
t_is "exec capture over HTTPS" "$(remote "$COI" container exec "$c" --capture --format json -- sh -c 'echo o; echo e >&2' | jq -c '[.stdout,.stderr,.exit_code]')" '["o\n","e\n",0]'
head -c 1000000 /dev/urandom >"$tmp/big"
t_is "stdin streams over TLS websockets" "$(remote "$COI" container exec "$c" -- sha256sum <"$tmp/big" | cut -d' ' -f1)" "$(sha256sum <"$tmp/big" | cut -d' ' -f1)"
t_ok "file push over HTTPS" remote "$COI" file push "$tmp/big" "$c:/root/big"
t_ok "file pull over HTTPS" remote "$COI" file pull "$c:/root/big" "$tmp/big.back"
t_ok "the file round trip is exact" cmp "$tmp/big" "$tmp/big.back"
t_is "list over HTTPS" "$(remote "$COI" container list --json | jq -r --arg c "$c" '.[] | select(.name == $c) | .status')" "Running"
# [incus] of a config file alone: remote_url, the client's certificate and key, the pinned one
cfg_remote() { # CLIENT SERVER-CERT COI-ARGS...
    printf '[incus]\nremote_url = "https://%s"\nclient_cert = "%s"\nclient_key = "%s"\nserver_cert = "%s"\n' \
        "$addr" "$tmp/$1.crt" "$tmp/$1.key" "$2" >"$tmp/remote.toml"
    shift 2
    env -u INCUS_DIR -u INCUS_SOCKET -u COI_INCUS_REMOTE -u COI_INCUS_CLIENT_CERT -u COI_INCUS_CLIENT_KEY \
        -u COI_INCUS_SERVER_CERT COI_CONFIG="$tmp/remote.toml" "$COI" "$@"
}
t_is "[incus] remote_url + certificates from the config: list over HTTPS" \
    "$(cfg_remote coi-t-incus-client "$INCUS_DIR/server.crt" container list --json | jq -r --arg c "$c" '.[] | select(.name == $c) | .status')" "Running"
out=$(cfg_remote coi-t-incus-client "$tmp/coi-t-incus-stranger.crt" container list 2>&1) && rc=0 || rc=$?
t_like "[incus] server_cert: another server certificate is refused" "$rc:$out" "^1:.*pinned certificate"
out=$(cfg_remote coi-t-incus-stranger "$INCUS_DIR/server.crt" container list 2>&1) && rc=0 || rc=$?
t_like "[incus] client_cert, client_key: an untrusted pair is refused" "$rc:$out" "^1:.*([Nn]ot authorized|[Ff]orbidden|untrusted)"
t_ok "snapshot over HTTPS" remote "$COI" snapshot create s1 -c "$c"
t_is "snapshot list over HTTPS" "$(remote "$COI" snapshot list -c "$c" --json | jq -r '.[].name')" "s1"

remote "$COI_BUILD/tools/incus-events" -n 50 -t 2000 >"$tmp/events" 2>/dev/null &
pid=$!
for _ in $(seq 50); do grep -q subscribed "$tmp/events" && break; sleep 0.1; done
t_ok "delete --force over HTTPS" remote "$COI" container delete "$c" --force
wait "$pid" || true
t_like "events over TLS websockets" "$(awk -v c="$c" '$3 == c {print $2}' "$tmp/events" | tr '\n' ' ')" 'instance-stopped .*instance-deleted'
t_is "incus: gone" "$(incus list "$c" -c n -f csv)" ""

out=$(SERVER_CERT="$tmp/coi-t-incus-stranger.crt" remote "$COI" container list 2>&1) && rc=0 || rc=$?
t_is "a server that does not match the pinned certificate is refused" "$rc" 1
t_like "and says so" "$out" "pinned certificate"
out=$(CLIENT=coi-t-incus-stranger remote "$COI" container list 2>&1) && rc=0 || rc=$?
t_is "an untrusted client is refused" "$rc" 1
t_like "with the daemon's reason" "$out" "[Nn]ot authorized|[Ff]orbidden|untrusted"
t_is "no process but coi itself over HTTPS" "$(remote strace -f -qq -e trace=execve -o /dev/stdout "$COI" container list 2>/dev/null | grep -c 'execve(')" 1

t_done
