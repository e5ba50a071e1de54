# SPDX-License-Identifier: MIT
# technique: read ~/.git-credentials
# level: high
# quick: no
t0
head -1 ~/.git-credentials >/dev/null
