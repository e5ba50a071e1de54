# SPDX-License-Identifier: MIT
# technique: make a block device node
# level: warning
# quick: no
t0
sudo mknod /tmp/.sda b 8 0 2>/dev/null
true
