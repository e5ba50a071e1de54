# SPDX-License-Identifier: MIT
# lib.sh: sourced by the development sessions. DEV is the development network's server
# (devnet.sh); agent runs a file of tool calls through the corpus agent, installed as an agent is
# (a program under /usr/local/lib, not the project's own code).
set -eu
. /workspace/.corpus/env
export DEV
# npm asks the development registry wherever it runs (an agent's tool call may run outside the
# project and its .npmrc): nothing goes to the public registry, which this host's resolver
# answers with an address the network policy refuses
export npm_config_registry=http://$DEV:8081/npm/ npm_config_update_notifier=false
# n FULL QUICK: a count, smaller in the quick sessions of the end-to-end test
n() { if [ "${QUICK:-0}" = 1 ]; then echo "$2"; else echo "$1"; fi; }
here=/workspace/.corpus/devwork
say() { printf '== %s %s\n' "$(date +%T)" "$*"; }
agent() {
    [ -e /usr/local/lib/corpus-agent/agent.js ] ||
        sudo install -D -m 0644 "$here/agent.js" /usr/local/lib/corpus-agent/agent.js
    node /usr/local/lib/corpus-agent/agent.js "$DEV" "$1"
}
# serve_for SECONDS CMD...: a dev server in the background, stopped after SECONDS
serve_for() {
    local secs=$1
    shift
    ("$@" >/tmp/server.log 2>&1 &
        echo $! >/tmp/server.pid)
    sleep 1
    (sleep "$secs"; kill "$(cat /tmp/server.pid)" 2>/dev/null) &
}
