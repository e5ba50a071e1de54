#!/bin/bash
# SPDX-License-Identifier: MIT
# The command starts with the network ready, in every mode: its very first instruction connects
# to a host and gets the page (open mode once started it before the container had an address:
# "Network is unreachable"), by address and by name; and over HTTPS to a name that only a DNS
# server of the fake internet knows ([network] dns_servers: the DNS filter asks it, and in
# allowlist mode lets the answer's address through, before the guest has the answer). With the
# real image, whose DHCP client is the one users have. The hosts are a network namespace on this
# machine, at ordinary unicast addresses (public to coi's policy).
. "$(dirname "$0")/lib.sh"
t_require_daemon
incus image info coi-default >/dev/null 2>&1 || t_bail "coi-default missing (run: tests/e2e/setup)"
command -v python3 >/dev/null || t_bail "python3 is needed for the test host"

HOST=100.128.2.2 HOST_NAME=coit-rdy.test NS=coit-rdy DNS=100.128.2.3 TLS_NAME=coit-rdy-tls.test
TOOLS=$COI_BUILD/tools
[ -x "$TOOLS/dns-test-server" ] || t_bail "no $TOOLS/dns-test-server (run: make)"
tmp=$(mktemp -d /tmp/coi-t-rdy-XXXX)
t_defer "rm -rf '$tmp'"
mkdir -p "$tmp/ws" "$tmp/www" && git -C "$tmp/ws" init -q
echo coit-rdy >"$tmp/www/index.html"
cd "$tmp/ws" || t_bail "no workspace"

ip netns add "$NS" || t_bail "cannot create $NS (left by an earlier run? ip netns del $NS)"
t_defer "ip netns del $NS; ip link del $NS-h"
{ ip link add "$NS-h" type veth peer name "$NS-n" && ip link set "$NS-n" netns "$NS" &&
    ip addr add 100.128.2.1/24 dev "$NS-h" && ip link set "$NS-h" up &&
    ip -n "$NS" addr add "$HOST/24" dev "$NS-n" && ip -n "$NS" addr add "$DNS/24" dev "$NS-n" &&
    ip -n "$NS" link set "$NS-n" up &&
    ip -n "$NS" link set lo up && ip -n "$NS" route add default via 100.128.2.1; } ||
    t_bail "cannot set up $NS"
timeout 300 ip netns exec "$NS" python3 -m http.server 8080 --bind "$HOST" \
    --directory "$tmp/www" >/dev/null 2>&1 &
t_defer "kill $! 2>/dev/null; sleep 0.2"
# HTTPS on 8443 with a certificate for TLS_NAME (the workspace holds it: the guest checks the
# server against it), and the fake internet's DNS server, which alone knows TLS_NAME
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/tls.key" \
    -out "$tmp/ws/tls.pem" -days 2 -subj "/CN=$TLS_NAME" -addext "subjectAltName=DNS:$TLS_NAME" \
    2>/dev/null || t_bail "openssl"
cat >"$tmp/tls.py" <<'X'
import http.server, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "13"); self.end_headers()
        self.wfile.write(b"coit-rdy-tls\n")
    def log_message(self, *a): pass
s = http.server.HTTPServer((sys.argv[1], 8443), H)
c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); c.load_cert_chain(sys.argv[2], sys.argv[3])
s.socket = c.wrap_socket(s.socket, server_side=True)
s.serve_forever()
X
timeout 300 ip netns exec "$NS" python3 "$tmp/tls.py" "$HOST" "$tmp/ws/tls.pem" "$tmp/tls.key" \
    >/dev/null 2>&1 &
t_defer "kill $! 2>/dev/null; sleep 0.2"
timeout 300 ip netns exec "$NS" "$TOOLS/dns-test-server" -l "$DNS:53" -o "$tmp/dns.log" -t 300 \
    "$TLS_NAME=$HOST/300" >"$tmp/dns.out" 2>&1 &
t_defer "kill $! 2>/dev/null; sleep 0.2"
t_defer "grep -v ' # coi-t-rdy\$' /etc/hosts > '$tmp/hosts' && cat '$tmp/hosts' > /etc/hosts"
echo "$HOST $HOST_NAME # coi-t-rdy" >>/etc/hosts
for _ in $(seq 50); do curl -sm 1 "http://$HOST:8080/" >/dev/null 2>&1 && break; sleep 0.1; done
t_is "the test host answers from the host" "$(curl -sm 2 "http://$HOST:8080/")" coit-rdy
for _ in $(seq 50); do
    grep -q ready "$tmp/dns.out" && curl -sm 1 --cacert "$tmp/ws/tls.pem" \
        --resolve "$TLS_NAME:8443:$HOST" "https://$TLS_NAME:8443/" >/dev/null 2>&1 && break
    sleep 0.1
done
t_is "... over HTTPS too" "$(curl -sm 2 --cacert "$tmp/ws/tls.pem" --resolve "$TLS_NAME:8443:$HOST" \
    "https://$TLS_NAME:8443/")" coit-rdy-tls

first() { # MODE EXTRA_TOML URL [PAGE CURL_OPTION...]: the command's first instruction fetches URL
    local page=${4:-coit-rdy}
    printf '[network]\nmode = "%s"\n%s\n' "$1" "$2" >"$tmp/$1.toml"
    out=$(COI_CONFIG="$tmp/$1.toml" "$COI" run --image coi-default -- curl -sS -m 5 "${@:5}" "$3" 2>&1)
    t_is "$1 mode: the first connection to $3 gets the page" "$(printf '%s' "$out" | tail -1)" "$page"
    t_ok "$1 mode: the container is gone" t_wait_ws_clear "$tmp/ws"
}
first open "" "http://$HOST:8080/"
# by name: the first lookup works too (the guest's resolver is set before the command, not
# when systemd-resolved has started: the DNS filter answers from the host's /etc/hosts)
first open "" "http://$HOST_NAME:8080/"
first restricted "" "http://$HOST_NAME:8080/"
first allowlist "allowed_domains = [\"$HOST_NAME\"]" "http://$HOST_NAME:8080/"
# HTTPS to a name the fake internet's DNS server gives, the certificate checked
for mode in open restricted allowlist; do
    extra="dns_servers = [\"$DNS\"]"
    [ "$mode" != allowlist ] || extra+=$'\n'"allowed_domains = [\"$TLS_NAME\"]"
    first "$mode" "$extra" "https://$TLS_NAME:8443/" coit-rdy-tls --cacert /workspace/tls.pem
done
t_ok "the name came from the test DNS server" grep -q "^A $TLS_NAME " "$tmp/dns.log"
t_done
