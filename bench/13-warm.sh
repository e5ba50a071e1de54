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
wprefix="coi-$(printf '%s' "$wws" | sha256sum | cut -c1-8)-"
cprefix="coi-$(printf '%s' "$cws" | sha256sum | cut -c1-8)-"
a=$(mktemp) b=$(mktemp) c=$(mktemp) e=$(mktemp)
# exactly one container of the warm workspace, and it is marked warm (bounded: 60 s)
pool_settled() {
    local i
    for i in $(seq 600); do
        incus list "$wprefix" -f json | python3 -c '
import json, re, sys
l = json.load(sys.stdin)
sys.exit(0 if len(l) == 1 and l[0]["status"] == "Running" and
         re.fullmatch("[0-9a-f]{64}", l[0]["config"].get("user.coi.warm", "")) else 1)' && return 0
        sleep 0.1
    done
    return 1
}
cold_clear() {
    for _ in $(seq 200); do [ -z "$(incus list "$cprefix" -c n -f csv)" ] && return; sleep 0.05; done
}
missed=0
(cd "$wws" && COI_CONFIG=$wcfg "$COI" run --image "$IMAGE" -- true >/dev/null 2>&1)
pool_settled
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq "$BENCH_N"); do
    t0=$(date +%s%N)
    (cd "$wws" && COI_CONFIG=$wcfg COI_LOG_LEVEL=debug "$COI" run --image "$IMAGE" -- true >/dev/null 2>"$e")
    echo $((($(date +%s%N) - t0) / 1000000)) >>"$a"
    grep -q "claimed warm" "$e" || missed=$((missed + 1))
    pool_settled
    (cd "$cws" && time_ms "$COI" run --image "$IMAGE" -- true) >>"$b"
    cold_clear
    cli_session_ms coi-bench-cli-$i >>"$c"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$missed" = 0 ] || echo "WARNING: $missed of $BENCH_N warm runs claimed nothing (cold starts)"
report "coi run -- true, warm pool" ms "$a" "coi run (warm)" "$c" "incus launch+exec+delete" 0.25
report "coi run -- true, warm vs cold" ms "$a" "coi run (warm)" "$b" "coi run (cold)"
(cd "$wws" && COI_CONFIG=$wcfg "$COI" clean >/dev/null 2>&1)
rm -rf "$wws" "$cws" "$a" "$b" "$c" "$e" "$wcfg"
