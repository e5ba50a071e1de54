# SPDX-License-Identifier: MIT
# coi run -- true claiming a warm container ([container] warm = 1, session/warm.h) against the
# incus CLI sequence and against a cold coi run, the three interleaved in one run. Before each
# warm run the pool is full again and the last session's container gone (the filler and the
# background delete must not run during a measurement); a warm run that did not claim is counted
# and said (its time would be a cold start's).
wws=$(mktemp -d /tmp/coi-bench-warm-XXXX)
cws=$(mktemp -d /tmp/coi-bench-cold-XXXX)
git -C "$wws" init -q
git -C "$cws" init -q
wcfg=$(mktemp)
printf '[container]\nwarm = 1\n' >"$wcfg"
wprefix=$(ws_prefix "$wws")
cprefix=$(ws_prefix "$cws")
a=$(mktemp) b=$(mktemp) c=$(mktemp) e=$(mktemp)
missed=0
(cd "$wws" && COI_CONFIG=$wcfg "$COI" run --image "$IMAGE" -- true >/dev/null 2>&1)
warm_settled "$wprefix"
load_note before
for i in $(seq "$BENCH_N"); do
    t0=$(date +%s%N)
    (cd "$wws" && COI_CONFIG=$wcfg COI_LOG_LEVEL=debug "$COI" run --image "$IMAGE" -- true >/dev/null 2>"$e")
    echo $((($(date +%s%N) - t0) / 1000000)) >>"$a"
    grep -q "claimed warm" "$e" || missed=$((missed + 1))
    warm_settled "$wprefix"
    (cd "$cws" && time_ms "$COI" run --image "$IMAGE" -- true) >>"$b"
    ws_clear "$cprefix"
    cli_session_ms coi-bench-cli-$i >>"$c"
done
load_note after
[ "$missed" = 0 ] || echo "WARNING: $missed of $BENCH_N warm runs claimed nothing (cold starts)"
report "coi run -- true, warm pool" ms "$a" "coi run (warm)" "$c" "incus launch+exec+delete" 0.25
report "coi run -- true, warm vs cold" ms "$a" "coi run (warm)" "$b" "coi run (cold)"
(cd "$wws" && COI_CONFIG=$wcfg "$COI" clean >/dev/null 2>&1)
rm -rf "$wws" "$cws" "$a" "$b" "$c" "$e" "$wcfg"
