# SPDX-License-Identifier: MIT
# coi run -- true: the whole session (config, network policy, protection, the container, the
# command, teardown) against the incus CLI doing the minimal steps (launch, exec, delete), and
# against the bare REST sequence in-process (bench-rest).
ws=$(mktemp -d /tmp/coi-bench-ws-XXXX)
git -C "$ws" init -q
a=$(mktemp) b=$(mktemp) c=$(mktemp)
for i in $(seq "$BENCH_N"); do
    (cd "$ws" && time_ms "$COI" run --image "$IMAGE" -- true) >>"$a"
    n=coi-bench-cli-$i
    t0=$(now_ms)
    incus launch "$IMAGE" "$n" -c boot.autostart=false >/dev/null
    until incus exec "$n" -- true 2>/dev/null; do sleep 0.02; done
    incus delete -f "$n" >/dev/null
    echo $(($(now_ms) - t0)) >>"$b"
    "$COI_BUILD/tools/bench-rest" "$IMAGE" "coi-bench-rest-$i" >>"$c"
done
report "coi run -- true" ms "$a" "coi run" "$b" "incus launch+exec+delete" 0.65
report "coi run -- true (vs in-process REST)" ms "$a" "coi run" "$c" "bare REST sequence" 1.15
rm -rf "$ws" "$a" "$b" "$c"
