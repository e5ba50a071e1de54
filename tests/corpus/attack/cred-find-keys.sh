# SPDX-License-Identifier: MIT
# technique: find / for key files
# level: warning
# quick: no
t0
timeout 10 find / -xdev -name 'id_*' 2>/dev/null >/dev/null
