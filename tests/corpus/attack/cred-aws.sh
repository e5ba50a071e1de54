# SPDX-License-Identifier: MIT
# technique: cat ~/.aws/credentials
# level: high
# quick: no
t0
cat ~/.aws/credentials >/dev/null
