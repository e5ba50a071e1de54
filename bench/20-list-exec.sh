# SPDX-License-Identifier: MIT
# coi list --json (0 and 10 sessions) against incus list --format json, coi container exec
# against incus exec, and coi's own peak RSS.
listws=$(mktemp -d /tmp/coi-bench-list-XXXX)
git -C "$listws" init -q
a=$(mktemp) b=$(mktemp)
for i in $(seq "$BENCH_N"); do
    time_ms "$COI" list --json >>"$a"
    time_ms incus list --format json >>"$b"
done
report "list, 0 sessions" ms "$a" "coi list --json" "$b" "incus list --format json" 0.5
rm -f "$a" "$b"

# ten running session containers of one workspace (slots 1-10), as coi makes them
pids=()
for s in $(seq 10); do
    (cd "$listws" && exec "$COI" run --image "$IMAGE" --slot "$s" -- sleep 120) >/dev/null 2>&1 &
    pids+=($!)
done
for s in $(seq 10); do
    n=coi-$(printf '%s' "$listws" | sha256sum | cut -c1-8)-$s
    for _ in $(seq 300); do [ "$(incus list "$n" -c s -f csv)" = RUNNING ] && break; sleep 0.1; done
done
a=$(mktemp) b=$(mktemp)
for i in $(seq "$BENCH_N"); do
    time_ms "$COI" list --json >>"$a"
    time_ms incus list --format json >>"$b"
done
report "list, 10 sessions" ms "$a" "coi list --json" "$b" "incus list --format json" 0.5
rm -f "$a" "$b"

n=coi-$(printf '%s' "$listws" | sha256sum | cut -c1-8)-1
a=$(mktemp) b=$(mktemp)
for i in $(seq "$BENCH_N"); do
    time_ms "$COI" container exec "$n" -- true >>"$a"
    time_ms incus exec "$n" -- true >>"$b"
done
report "exec true" ms "$a" "coi container exec" "$b" "incus exec" 0.4
rm -f "$a" "$b"

if [ -x /usr/bin/time ]; then
    rss=$(/usr/bin/time -f %M "$COI" list --json 2>&1 >/dev/null | tail -1)
    rss_run=$(cd "$listws" && /usr/bin/time -f %M "$COI" run --image "$IMAGE" --slot 11 -- true 2>&1 >/dev/null | tail -1)
    printf '%-34s coi list %s KiB, coi run %s KiB   (target: under 8192 KiB)\n' "peak RSS" "$rss" "$rss_run"
    printf '{"name":"peak RSS","unit":"KiB","list":%s,"run":%s,"target":8192}\n' "$rss" "$rss_run" >>"$BENCH_JSON.lines"
fi
kill -TERM "${pids[@]}" 2>/dev/null
wait "${pids[@]}" 2>/dev/null || true
rm -rf "$listws"
