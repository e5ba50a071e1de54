# SPDX-License-Identifier: MIT
# The monitor against its corpora (tests/corpus), with BENCH_CORPUS=1 (about 40 minutes on 2
# cores; it runs on the test daemon, the e2e lock taken a part at a time):
#  - the attack corpus, each technique in a session of its own with the default responses:
#    detection rate per level, time from the technique's first action to the container frozen
#    or removed (p50/p95), the techniques missed;
#  - the development corpus, four sessions of real work (more than ten minutes): findings above
#    INFO, which must be none;
# (the monitor's cost: bench/41-monitor-cost.sh). Results in bench/results/corpus/ (results.jsonl,
# devwork.jsonl).
if [ "${BENCH_CORPUS:-0}" = 1 ]; then
    corpus_out=$BENCH_ROOT/bench/results/corpus
    mkdir -p "$corpus_out"
    # the machine's shared lock on the test daemon, where there is one
    lock() { if [ -e /work/e2e.lock ]; then flock /work/e2e.lock "$@"; else "$@"; fi; }
    echo "monitor corpus (tests/corpus, coi-default):"
    # the development corpus, a session per lock
    : >"$corpus_out/devwork.jsonl"
    for s in 10-node-project 20-python-project 30-c-project 40-agent-session; do
        lock env COI="$COI" "$BENCH_ROOT/tests/corpus/run.sh" devwork "$corpus_out/dev-$s" "$s" \
            >/dev/null 2>&1
        cat "$corpus_out/dev-$s/devwork.jsonl" >>"$corpus_out/devwork.jsonl" 2>/dev/null
        rm -rf "$corpus_out/dev-$s"
    done
    jq -r '"    \(.session): \(.seconds) s, \(.above_info) findings above INFO, finished \(.finished)"' \
        "$corpus_out/devwork.jsonl"
    echo "    development corpus: $(jq -s 'map(.seconds) | add' "$corpus_out/devwork.jsonl") s of sessions," \
        "$(jq -s 'map(.above_info) | add' "$corpus_out/devwork.jsonl") findings above INFO"
    # the attack corpus, in two halves (five minutes each) so other users of the daemon get their
    # turn
    rm -rf "$corpus_out/attack"
    mapfile -t all < <(cd "$BENCH_ROOT/tests/corpus/attack" && ls *.sh | sed 's/\.sh$//')
    for ((i = 0; i < ${#all[@]}; i += 29)); do
        lock env COI="$COI" "$BENCH_ROOT/tests/corpus/run.sh" full "$corpus_out/part$i" \
            "${all[@]:i:29}" >/dev/null 2>&1
        mkdir -p "$corpus_out/attack"
        cp -r "$corpus_out/part$i/results/." "$corpus_out/attack/" 2>/dev/null
        rm -rf "$corpus_out/part$i"
    done
    python3 "$BENCH_ROOT/tests/corpus/score.py" full "$BENCH_ROOT/tests/corpus" \
        "$corpus_out/attack" >"$corpus_out/results.jsonl"
    python3 "$BENCH_ROOT/tests/corpus/score.py" summary "$corpus_out/results.jsonl" | sed 's/^/    /'
fi
