# SPDX-License-Identifier: MIT
# What the monitor costs (tests/corpus/cost.sh, BENCH_COST=1 or BENCH_CORPUS=1, about 8 minutes on
# coi-default, the e2e lock held throughout): CPU and memory of idle monitored sessions and of ten
# busy ones, as ratios against the same sessions unmonitored, run side by side (idle) or back to
# back (busy). Results in bench/results/cost/ and cost.txt. COST_PARTS=busy COST_AB=OTHER_COI
# compares the monitor of this build with another's instead (tests/corpus/cost.sh).
if [ "${BENCH_COST:-0}" = 1 ] || [ "${BENCH_CORPUS:-0}" = 1 ]; then
    cost_out=$BENCH_ROOT/bench/results/cost
    rm -rf "$cost_out" && mkdir -p "$cost_out"
    echo "monitor cost (tests/corpus/cost.sh, coi-default):"
    if [ -e /work/e2e.lock ]; then
        flock /work/e2e.lock env COI="$COI" COI_CONFIG= "$BENCH_ROOT/tests/corpus/cost.sh" "$cost_out"
    else
        env COI="$COI" COI_CONFIG= "$BENCH_ROOT/tests/corpus/cost.sh" "$cost_out"
    fi >"$cost_out.txt" 2>&1
    sed 's/^/    /' "$cost_out.txt"
fi
