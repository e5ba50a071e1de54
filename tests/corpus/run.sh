#!/bin/bash
# SPDX-License-Identifier: MIT
# run.sh: runs the monitor's corpora against real coi sessions (coi run, the coi-default image,
# the monitor as a session starts it) and writes what it found to OUT.
#   run.sh quick OUT [TECHNIQUE...]   one session runs the techniques in turn (default: those
#                                     marked "quick: yes") with pausing and killing off, so each
#                                     one's findings are its own; OUT/results.jsonl
#   run.sh full OUT [TECHNIQUE...]    a session each (default: all), with the responses on:
#                                     detection and containment; OUT/results.jsonl
#   run.sh devwork OUT [SESSION...]   the development sessions (default: all), responses on;
#                                     OUT/devwork.jsonl: each session's findings above INFO
# Needs root (network namespaces), $COI (the coi to test), the daemon in $INCUS_DIR, and
# $COI_IMAGE (default coi-default). Attack traffic goes only to testnet.sh's namespace.
set -u
here=$(cd "$(dirname "$0")" && pwd)
mode=${1:?mode}
out=${2:?out}
shift 2
COI=${COI:-coi}
IMAGE=${COI_IMAGE:-coi-default}
export COI_CONTAINER_PREFIX=coi-t-corpus-
[ "${CORPUS_DEBUG:-}" = 1 ] && export COI_LOG_LEVEL=debug
. "$here/testnet.sh"
. "$here/devnet.sh"
mkdir -p "$out"
out=$(cd "$out" && pwd)
export COI_HOME=$out/home
mkdir -p "$COI_HOME" "$out/creds"
trap 'testnet_down; devnet_down' EXIT

# Fake credentials, copied into every session's home by [[credentials]] before the monitor
# looks (the monitor starts first; coi copies them with the file API).
seed_creds() {
    local c=$out/creds
    printf -- '-----BEGIN OPENSSH PRIVATE KEY-----\ncorpus-not-a-real-key\n-----END OPENSSH PRIVATE KEY-----\n' >"$c/id_rsa"
    printf '[default]\naws_access_key_id = AKIACORPUSCORPUSCORP\naws_secret_access_key = corpus/not/a/real/secret\n' >"$c/aws"
    printf 'https://corpus:ghp_corpusnotarealtoken@git.corpus.test\n' >"$c/git"
    printf '{"logins":[{"hostname":"https://corpus.test","encryptedUsername":"x"}]}\n' >"$c/logins"
    printf '{"client_id":"corpus","client_secret":"corpus","refresh_token":"corpus","type":"authorized_user"}\n' >"$c/gcloud"
    printf '//registry.corpus.test/:_authToken=npm_corpusnotarealtoken\n' >"$c/npmrc"
}

# config FILE PAUSE(true|false) [KEY = VALUE lines for [monitoring]]
config() {
    local c=$out/creds h=/home/code
    cat >"$1" <<X
[monitoring]
enabled = true
auto_pause_on_high = $2
auto_kill_on_critical = $2
poll_interval_sec = 1
${3:-}

# the corpus hosts (testnet.sh, devnet.sh) are in 198.18.0.0/15, refused by default
[network]
allowed_networks = ["198.18.0.0/15"]

[[credentials]]
host = "$c/id_rsa"
container = "$h/.ssh/id_rsa"
[[credentials]]
host = "$c/aws"
container = "$h/.aws/credentials"
[[credentials]]
host = "$c/git"
container = "$h/.git-credentials"
[[credentials]]
host = "$c/logins"
container = "$h/.mozilla/firefox/corpus.default-release/logins.json"
[[credentials]]
host = "$c/gcloud"
container = "$h/.config/gcloud/application_default_credentials.json"
[[credentials]]
host = "$c/npmrc"
container = "$h/.npmrc"
X
}

# workspace DIR [TECHNIQUE...]: a project with the corpus in it (hidden) and its env; a 200 MB
# file for the techniques that upload one, written here and read once, so it is in the page
# cache (writing it in the session would be a finding of its own, before the technique began)
workspace() {
    local ws=$1
    shift
    rm -rf "$ws"
    mkdir -p "$ws/.corpus" && git -C "$ws" init -q && printf '# corpus project\n' >"$ws/README.md" &&
        cp -r "$here/driver.sh" "$here/attack" "$here/devwork" "$ws/.corpus/" &&
        printf 'ATK=%s\nDEV=%s\nQUICK=%s\n' "$TESTNET_ATK" "$DEVNET_SRV" "${CORPUS_QUICK:-0}" \
            >"$ws/.corpus/env" || return 1
    for t in "$@"; do
        if grep -q '^# blob:' "$here/attack/$t.sh"; then
            head -c 200M /dev/zero >"$ws/.corpus-blob" && cat "$ws/.corpus-blob" >/dev/null
            break
        fi
    done
}

container_of() { printf '%s%s-1' "$COI_CONTAINER_PREFIX" "$(printf '%s' "$1" | sha256sum | cut -c1-8)"; }

techniques() {
    if [ $# -gt 0 ]; then printf '%s\n' "$@"; return; fi
    for f in "$here"/attack/*.sh; do
        if [ "$mode" = full ] || grep -q '^# quick: yes' "$f"; then basename "$f" .sh; fi
    done
}

# session WS SECONDS CMD...: coi run in WS, bounded; a session the monitor froze is stopped
# (two TERMs: coi gives the frozen command up and removes the container)
session() {
    local ws=$1 secs=$2 pid name
    shift 2
    name=$(container_of "$ws")
    (cd "$ws" && exec env COI_CONFIG="$ws.toml" "$COI" run --image "$IMAGE" -- "$@") \
        >"$ws.out" 2>&1 &
    pid=$!
    for _ in $(seq $((secs * 5))); do
        kill -0 "$pid" 2>/dev/null || break
        # frozen or removed: the finding is all there is to know (a frozen session would wait)
        if grep -qs '"action":"\(paused\|killed\)"' "$COI_HOME/audit/$name.jsonl"; then
            sleep 1
            break
        fi
        sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"; sleep 0.5; kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    incus delete -f "$name" >/dev/null 2>&1
    "$COI" monitor "$name" --stop >/dev/null 2>&1
    return 0
}

seed_creds
testnet_up "$out/net" 3600 || { echo "run.sh: cannot set up the test network" >&2; exit 1; }
: >"$out/results.jsonl"
case $mode in
quick)
    ws=$out/ws-quick
    mapfile -t names < <(techniques "$@")
    # thresholds of its own, so that e2e 80 sees them reach the session: the 300 processes of
    # res-runaway-build pass both, the 200 MB upload passes the egress limit
    workspace "$ws" "${names[@]}" && config "$ws.toml" false "$(printf '%s\n' \
        'process_count_threshold = 250' 'process_spawn_rate_threshold = 100' \
        'file_read_threshold_mb = 40' 'file_read_rate_mb_per_sec = 8')"
    session "$ws" $((${#names[@]} * 40 + 60)) bash /workspace/.corpus/driver.sh "${names[@]}"
    python3 "$here/score.py" quick "$here" "$ws/.corpus-out" \
        "$COI_HOME/audit/$(container_of "$ws").jsonl" >"$out/results.jsonl"
    ;;
full)
    for name in $(techniques "$@"); do
        ws=$out/ws/$name
        mkdir -p "$out/ws" "$out/results/$name"
        workspace "$ws" "$name" && config "$ws.toml" true
        session "$ws" 120 bash /workspace/.corpus/driver.sh "$name"
        cp "$COI_HOME/audit/$(container_of "$ws").jsonl" "$out/results/$name/audit.jsonl" 2>/dev/null
        cp "$ws/.corpus-out/$name/t0" "$out/results/$name/t0" 2>/dev/null
        cp "$ws/.corpus-out/$name/out" "$out/results/$name/out" 2>/dev/null
    done
    python3 "$here/score.py" full "$here" "$out/results" >"$out/results.jsonl"
    ;;
devwork)
    devnet_up "$out/dev" 3600 || { echo "run.sh: cannot set up the development network" >&2; exit 1; }
    : >"$out/devwork.jsonl"
    sessions=("$@")
    [ ${#sessions[@]} -gt 0 ] || mapfile -t sessions < <(cd "$here/devwork" && ls *.sh | sed 's/\.sh$//')
    for s in "${sessions[@]}"; do
        ws=$out/ws-dev/$s
        mkdir -p "$out/ws-dev"
        workspace "$ws" && config "$ws.toml" true
        start=$(date +%s)
        session "$ws" 1200 bash /workspace/.corpus/devwork/"$s".sh
        secs=$(($(date +%s) - start))
        audit="$COI_HOME/audit/$(container_of "$ws").jsonl"
        above=$(jq -c 'select(.level != "info")' "$audit" 2>/dev/null | wc -l)
        finished=false
        grep -q '^== [0-9:]* done$' "$ws.out" && finished=true
        printf '{"session":"%s","seconds":%d,"above_info":%d,"finished":%s,"findings":%s}\n' \
            "$s" "$secs" "$above" "$finished" \
            "$(jq -sc '[.[] | select(.level != "info") | {rule, level, action, description}]' "$audit" 2>/dev/null || echo '[]')" \
            >>"$out/devwork.jsonl"
    done
    ;;
*)
    echo "run.sh: unknown mode '$mode'" >&2
    exit 2
    ;;
esac
