#!/bin/bash
# SPDX-License-Identifier: MIT
# Development work must raise nothing above INFO, with the monitor on as a session starts it
# (pausing on HIGH, killing on CRITICAL): two short sessions of the development corpus
# (tests/corpus/devwork: npm installs from a registry with install scripts, a dev server, test
# runs, builds, commits; an agent's tool calls through bash -c from a process holding its model
# connection). The whole corpus, more than ten minutes of sessions: bench/50-monitor-corpus.sh.
. "$(dirname "$0")/lib.sh"
t_require_daemon
[ "$(id -u)" = 0 ] || t_bail "the corpus needs root (network namespaces, the monitor's sources)"
incus image info coi-default >/dev/null 2>&1 || t_bail "no coi-default image (tests/e2e/setup)"
out=$(mktemp -d /tmp/coi-t-devwork.XXXXXX)
t_defer "rm -rf '$out'"
t_defer "chattr -R -i '$out' 2>/dev/null"
CORPUS_QUICK=1 COI="$COI" timeout 400 "$T_ROOT/tests/corpus/run.sh" devwork "$out/d" \
    10-node-project 40-agent-session >"$out/run.log" 2>&1
t_ok "the sessions ran" test -s "$out/d/devwork.jsonl"
while read -r line; do
    s=$(jq -r .session <<<"$line")
    t_is "$s: nothing above INFO ($(jq -r .seconds <<<"$line") s)" "$(jq -r .above_info <<<"$line")" 0
    [ "$(jq -r .above_info <<<"$line")" = 0 ] || t_diag "$(jq -c .findings <<<"$line")"
    t_is "$s: it finished its work" "$(jq -r .finished <<<"$line")" true
done <"$out/d/devwork.jsonl"
t_is "both sessions ran" "$(wc -l <"$out/d/devwork.jsonl")" 2
t_done
