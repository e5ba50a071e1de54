# SPDX-License-Identifier: MIT
# technique: cp -r ~/.ssh elsewhere
# level: high
# quick: no
t0
cp -r ~/.ssh /tmp/.bk
