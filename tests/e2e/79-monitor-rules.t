#!/bin/bash
# SPDX-License-Identifier: MIT
# Rule files change what a real session's monitor detects: `coi run` with [detection]
# gtfobins_dir and sigma_dir pointing at rules of the user's own. A Sigma rule of the user's
# (medium) makes a canary command a WARNING; coi's own Sigma rule for miners freezes the container
# (HIGH); a GTFOBins entry of the user's for a made-up program makes running it a reverse shell,
# and the container is gone (CRITICAL). The supervisor gets the directories on its command line;
# the log's chain verifies at the end.
# Keys whose effect this file shows (src/config/keys.c names it as their proof):
# detection.gtfobins_dir, detection.sigma_dir, detection.gtfobins_source and
# detection.sigma_source (what 'coi rules update' clones: tests/unit/rules-cli.t).
. "$(dirname "$0")/monitor-lib.sh"
export COI_CONTAINER_PREFIX=coi-t-monrul-
tmp=$(mktemp -d /tmp/coi-t-monrul-XXXX)
t_defer "rm -rf '$tmp'"
t_defer "chattr -R -i '$tmp' 2>/dev/null"

rules=$(cd "$(dirname "$0")/../rules" && pwd) # a GTFOBins entry and Sigma rules of a user's own
cat >"$tmp/user.toml" <<EOF
[monitoring]
enabled = true
poll_interval_sec = 1

[detection]
gtfobins_dir = "$rules/gtfobins"
sigma_dir = "$rules/sigma"
EOF
m_session "$tmp/ws" "$tmp/user.toml" || t_bail "the session did not come up ($(tail -c 600 "$tmp/ws.out"))"
t_like "the supervisor gets the rule directories" \
    "$(ps -o args= -p "$(cat "$COI_HOME/run/$name.pid" 2>/dev/null)" 2>/dev/null)" \
    "--gtfobins-dir $rules/gtfobins --sigma-dir $rules/sigma"
incus exec "$name" -- sh -c "mkdir -p /usr/bin && for s in frobnicate xmrig; do printf '#!/bin/sh\nusleep 300000\n' >/usr/bin/\$s && chmod 755 /usr/bin/\$s; done"

m_run "$name" "echo coi-canary-7f3e"
line=$(m_wait_rule "$name" sigma:canary)
t_like "the user's Sigma rule: a WARNING" "$line" '"level":"warning","category":"process","title":"Canary seen".*"action":"alerted"'
t_is "the container keeps running" "$(m_state "$name")" RUNNING

m_run "$name" "xmrig -o stratum+tcp://pool.test:3333" &
bg=$!
t_ok "coi's own Sigma rule (a miner): the container is frozen" m_wait_state "$name" FROZEN
t_like "... audit line sigma:coi_cryptominer, paused" "$(m_wait_rule "$name" sigma:coi_cryptominer)" \
    '"level":"high","category":"process","title":"Cryptocurrency miner detected".*"action":"paused"'
t_like "coi unfreeze resumes it" "$("$COI" unfreeze "$name" 2>&1)" "resumed"
wait "$bg"
sleep 1
t_is "one finding for the shell and the program it starts: it stays running" "$(m_state "$name")" RUNNING

m_run "$name" "frobnicate --connect 10.0.0.1:443 --shell /bin/sh" &
bg=$!
t_ok "the user's GTFOBins entry: the container is gone" m_wait_state "$name" ""
t_like "... audit line gtfobins:frobnicate:reverse-shell, killed" \
    "$(m_wait_rule "$name" gtfobins:frobnicate:reverse-shell)" \
    '"level":"critical","category":"process","title":"Reverse shell detected".*"action":"killed"'
wait "$bg"
t_like "the log's chain verifies" "$("$COI" audit verify "$name" 2>&1)" "^$name: intact: "
t_done
