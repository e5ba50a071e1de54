# SPDX-License-Identifier: MIT
# coi run -- true: the whole session (config, network policy, protection, the container, the
# command, teardown) against the incus CLI doing the minimal steps (launch, exec, delete), and
# against the bare REST sequence in-process (bench-rest). coi ends an ephemeral session by
# freezing the container and leaving the delete to a detached child; the same run with the
# delete waited for (COI_SYNC_TEARDOWN=1) is measured too, for an even comparison.
ws=$(mktemp -d /tmp/coi-bench-ws-XXXX)
git -C "$ws" init -q
prefix="coi-$(printf '%s' "$ws" | sha256sum | cut -c1-8)-"
a=$(mktemp) b=$(mktemp) c=$(mktemp) d=$(mktemp)
ws_clear() { # the background delete must not run during the next measurement (bounded)
    for _ in $(seq 200); do [ -z "$(incus list "$prefix" -c n -f csv)" ] && return; sleep 0.05; done
}
for i in $(seq "$BENCH_N"); do
    (cd "$ws" && time_ms "$COI" run --image "$IMAGE" -- true) >>"$a"
    ws_clear
    (cd "$ws" && time_ms env COI_SYNC_TEARDOWN=1 "$COI" run --image "$IMAGE" -- true) >>"$d"
    cli_session_ms coi-bench-cli-$i >>"$b"
    "$COI_BUILD/tools/bench-rest" "$IMAGE" "coi-bench-rest-$i" >>"$c"
done
report "coi run -- true" ms "$a" "coi run" "$b" "incus launch+exec+delete" 0.65
report "coi run -- true (vs in-process REST)" ms "$a" "coi run" "$c" "bare REST sequence" 1.15
report "coi run -- true, delete waited for" ms "$d" "coi run (sync teardown)" "$b" "incus launch+exec+delete"
rm -rf "$ws" "$a" "$b" "$c" "$d"
