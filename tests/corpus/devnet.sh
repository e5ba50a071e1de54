# SPDX-License-Identifier: MIT
# devnet.sh: the development corpus's "internet", on this machine only. Sourced; provides
#   devnet_up DIR [SECONDS]  a network namespace coit-dev (host 198.18.24.1, server 198.18.24.2)
#                            serving, for SECONDS (default 3600): an npm registry, a PyPI simple
#                            index and an apt repository over HTTP (:8081, /npm /pypi /apt), a
#                            git daemon (:9418, git://198.18.24.2/libstr.git, push allowed) and
#                            a model API for the corpus agent (:443); built in DIR
#   devnet_down              stops them (by pid) and removes the namespace
# The apt repository holds python3-pip and what it needs beyond the image, fetched once with
# apt-get download into $COI_CORPUS_CACHE (default /var/cache/coi-corpus) by apt's ordinary
# client from the host's own mirror; everything else is built by mkfixtures.py.
DEVNET_NS=coit-dev
DEVNET_HOST=198.18.24.1
DEVNET_SRV=198.18.24.2
DEVNET_PIDS=()
. "$(dirname "${BASH_SOURCE[0]}")/testnet.sh" # netns_host

devnet_apt() {
    local cache=${COI_CORPUS_CACHE:-/var/cache/coi-corpus}/apt dir=$1
    local pkgs="python3-pip python3-setuptools python3-wheel python3-distutils python3-lib2to3 python3-pkg-resources"
    mkdir -p "$cache" "$dir" || return 1
    if ! ls "$cache"/python3-pip_*.deb >/dev/null 2>&1; then
        (cd "$cache" && apt-get download -q $pkgs >/dev/null 2>&1) || return 1
    fi
    cp "$cache"/*.deb "$dir/" && (cd "$dir" && dpkg-scanpackages -m . /dev/null 2>/dev/null >Packages &&
        gzip -kf Packages)
}

devnet_up() {
    local dir=$1 secs=${2:-3600} here
    here=$(dirname "${BASH_SOURCE[0]}")
    mkdir -p "$dir/www" || return 1
    python3 "$here/mkfixtures.py" "$dir/www" "http://$DEVNET_SRV:8081" >/dev/null || return 1
    devnet_apt "$dir/www/apt" || return 1
    netns_host "$DEVNET_NS" "$DEVNET_HOST" "$DEVNET_SRV" || return 1
    # (http.server's own server_bind would look its name up in DNS, and wait for it)
    (cd "$dir/www" && exec timeout "$secs" ip netns exec "$DEVNET_NS" python3 -c '
import http.server, socketserver, sys
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    def server_bind(self):
        socketserver.TCPServer.server_bind(self)
class H(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1" # keep-alive, as registries do
    def log_message(self, *a):
        pass
S((sys.argv[1], 8081), H).serve_forever()' "$DEVNET_SRV" \
        </dev/null >>"$dir/http.log" 2>&1 9>&-) &
    DEVNET_PIDS+=($!)
    timeout "$secs" ip netns exec "$DEVNET_NS" git daemon --base-path="$dir/www/git" --export-all \
        --enable=receive-pack --reuseaddr --listen="$DEVNET_SRV" --port=9418 \
        </dev/null >>"$dir/git.log" 2>&1 9>&- &
    DEVNET_PIDS+=($!)
    timeout "$secs" ip netns exec "$DEVNET_NS" python3 "$here/model.py" "$DEVNET_SRV" 443 \
        </dev/null >>"$dir/model.log" 2>&1 9>&- &
    DEVNET_PIDS+=($!)
    for _ in $(seq 50); do
        curl -s -m 1 "http://$DEVNET_SRV:8081/npm/corpus-pad" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

devnet_down() {
    for p in "${DEVNET_PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${DEVNET_PIDS[@]}"; do wait "$p" 2>/dev/null; done
    DEVNET_PIDS=()
. "$(dirname "${BASH_SOURCE[0]}")/testnet.sh" # netns_host
    ip netns del "$DEVNET_NS" 2>/dev/null
    ip link del "$DEVNET_NS-h" 2>/dev/null
    return 0
}
