# SPDX-License-Identifier: MIT
# technique: grep -r for private keys through the home
# level: high
# quick: no
t0
grep -rl "PRIVATE KEY" ~ 2>/dev/null
