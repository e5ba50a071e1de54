#!/bin/bash
# SPDX-License-Identifier: MIT
# The event stream against the real daemon: lifecycle events of a container coi launches,
# stops, snapshots and deletes arrive, in order, over the websocket (tests/tools/incus-events).
. "$(dirname "$0")/lib.sh"
t_require_daemon

tmp=$(mktemp -d)
t_defer "rm -rf $tmp"
c=$(t_name incus-ev)
t_defer "incus delete -f $c"

"$COI_BUILD/tools/incus-events" -n 200 -t 2000 lifecycle >"$tmp/events" 2>"$tmp/err" &
pid=$!
t_defer "kill $pid"
for _ in $(seq 50); do grep -q subscribed "$tmp/events" && break; sleep 0.1; done
t_ok "subscribed" grep -q subscribed "$tmp/events"
"$COI" container launch "$T_IMAGE" "$c" >/dev/null
"$COI" snapshot create s1 -c "$c" >/dev/null
"$COI" container stop "$c" --force
"$COI" container delete "$c"
wait "$pid" || true
mine=$(awk -v c="$c" '$3 == c {print $2}' "$tmp/events" | tr '\n' ' ')
t_like "created, started, snapshot, stopped, deleted, in order" "$mine" \
    'instance-created .*instance-started .*instance-snapshot-created .*instance-stopped .*instance-deleted'
t_like "the stream ended by the tool's own timeout, not an error" "$(cat "$tmp/err")" 'in time|timed out|Timer expired|^$'

t_done
