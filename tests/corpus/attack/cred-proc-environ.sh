# SPDX-License-Identifier: MIT
# technique: read another process's environment
# level: high
# quick: no
t0
for p in /proc/[0-9]*; do cat "$p/environ" 2>/dev/null; done >/dev/null
