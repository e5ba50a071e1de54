# SPDX-License-Identifier: MIT
# coi run -- true of this tree against another build of coi (BENCH_BASE: its coi binary, e.g. a
# release build of main) and the incus CLI sequence, the three interleaved in one run, so that a
# change is measured against what it changes under the same load. Skipped without BENCH_BASE.
if [ -n "${BENCH_BASE:-}" ]; then
    ws=$(mktemp -d /tmp/coi-bench-ws-XXXX)
    git -C "$ws" init -q
    prefix="coi-$(printf '%s' "$ws" | sha256sum | cut -c1-8)-"
    a=$(mktemp) b=$(mktemp) c=$(mktemp)
    ws_clear() { # the background delete must not run during the next measurement (bounded)
        for _ in $(seq 200); do [ -z "$(incus list "$prefix" -c n -f csv)" ] && return; sleep 0.05; done
    }
    echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    for i in $(seq "$BENCH_N"); do
        (cd "$ws" && time_ms "$BENCH_BASE" run --image "$IMAGE" -- true) >>"$a"
        ws_clear
        (cd "$ws" && time_ms "$COI" run --image "$IMAGE" -- true) >>"$b"
        ws_clear
        cli_session_ms coi-bench-cli-$i >>"$c"
    done
    echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
    report "coi run -- true, this tree vs base" ms "$b" "coi run (this tree)" "$a" "coi run (base)"
    report "coi run -- true, base" ms "$a" "coi run (base)" "$c" "incus launch+exec+delete"
    report "coi run -- true, this tree" ms "$b" "coi run (this tree)" "$c" "incus launch+exec+delete" 0.5
    rm -rf "$ws" "$a" "$b" "$c"
fi
