#!/bin/bash
# SPDX-License-Identifier: MIT
# The attack corpus (tests/corpus/attack), its quick part, against a real session: coi run on
# coi-default with the monitor as a session starts it (responses off, so that every technique
# runs and its findings are its own), fake credentials copied in by [[credentials]]. Each
# technique must reach the level it is labelled with: renamed shells, python relays, keys read
# by any program, a 200 MB upload from the page cache, 500 DNS queries, a fork bomb, a reverse
# shell planted in ~/.bashrc... Traffic goes only to a network namespace of this test
# (tests/corpus/testnet.sh). The full corpus, with containment times: bench/50-monitor-corpus.sh.
. "$(dirname "$0")/lib.sh"
t_require_daemon
[ "$(id -u)" = 0 ] || t_bail "the corpus needs root (network namespaces, the monitor's sources)"
incus image info coi-default >/dev/null 2>&1 || t_bail "no coi-default image (tests/e2e/setup)"
out=$(mktemp -d /tmp/coi-t-corpus.XXXXXX)
t_defer "rm -rf '$out'"
t_defer "chattr -R -i '$out' 2>/dev/null"
COI="$COI" timeout 400 "$T_ROOT/tests/corpus/run.sh" quick "$out/q" >"$out/run.log" 2>&1
t_ok "the corpus ran" test -s "$out/q/results.jsonl"
while read -r line; do
    name=$(jq -r .technique <<<"$line")
    t_is "$name: reaches $(jq -r .must <<<"$line") (got $(jq -r '"\(.got): \(.rules | join(","))"' <<<"$line"))" \
        "$(jq -r .detected <<<"$line")" true
done <"$out/q/results.jsonl"
t_is "every quick technique ran" "$(wc -l <"$out/q/results.jsonl")" \
    "$(grep -l '^# quick: yes' "$T_ROOT"/tests/corpus/attack/*.sh | wc -l)"
[ "$_t_failed" = 0 ] || t_diag "$(tail -20 "$out/run.log")" "$(tail -5 "$out/q/ws-quick.out")"
t_done
