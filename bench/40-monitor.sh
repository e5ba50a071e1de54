# SPDX-License-Identifier: MIT
# The monitor: detection latency (a HIGH finding to the container frozen, a reverse shell to the
# container gone) and its CPU per idle monitored container; tests/e2e/monitor-bench.sh measures
# both (no incus CLI equivalent: these are absolute figures). BENCH_MONITOR=0 skips it.
if [ "${BENCH_MONITOR:-1}" != 0 ]; then
    echo "monitor (tests/e2e/monitor-bench.sh, $BENCH_N trials, 30 s idle):"
    COI_BUILD=$COI_BUILD bash "$BENCH_ROOT/tests/e2e/monitor-bench.sh" "$BENCH_N" 30 2>&1 |
        grep -v '^#' | sed 's/^/    /'
fi
