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
# the process counts are the resource techniques' alone: a fork bomb overruns the kernel's event
# queue, and the monitor's count must come back to the cgroup's (it once stayed above 250 for the
# rest of the session, a "too many processes" warning on every technique after it)
t_is "no process-count finding outside the resource techniques" \
    "$(jq -r 'select((.technique | startswith("res-")) | not) |
        select(any(.rules[]; startswith("proc-"))) | .technique' "$out/q/results.jsonl" | xargs)" ""
t_is "every quick technique ran" "$(wc -l <"$out/q/results.jsonl")" \
    "$(grep -l '^# quick: yes' "$T_ROOT"/tests/corpus/attack/*.sh | wc -l)"
# The session's own thresholds reached its monitor and the kernel's counting rule (run.sh quick
# sets them): monitoring.process_count_threshold = 250 and
# monitoring.process_spawn_rate_threshold = 100 (300 processes pass both), and
# monitoring.file_read_threshold_mb = 40 with monitoring.file_read_rate_mb_per_sec = 8 (the 200 MB
# upload leaves past them).
audit=$(ls "$out"/q/home/audit/*.jsonl | head -1)
t_like "process_count_threshold reached the session" \
    "$(jq -r 'select(.rule == "proc-count") | .description' "$audit" | head -1)" "\(threshold 250\)"
# (the runaway build is proc-spawn; under load, when the fork bomb before it still has processes
# forking as it begins, it is the bomb's proc-forkbomb: either names the threshold it passed)
t_like "process_spawn_rate_threshold reached the session" \
    "$(jq -r 'select(.rule == "proc-spawn" or .rule == "proc-forkbomb") | .description' "$audit" |
        head -1)" "\(threshold 100\)"
t_like "file_read_threshold_mb and file_read_rate_mb_per_sec reached it" \
    "$(jq -r 'select(.rule == "net-egress") | .description' "$audit" | head -1)" "over 40 MB at 8.0 MB/s"
[ "$_t_failed" = 0 ] || t_diag "$(tail -20 "$out/run.log")" "$(tail -5 "$out/q/ws-quick.out")"
t_done
