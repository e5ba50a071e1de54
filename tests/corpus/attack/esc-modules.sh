# SPDX-License-Identifier: MIT
# technique: load a kernel module
# level: warning
# quick: no
t0
sudo modprobe dummy 2>/dev/null
sudo insmod /tmp/none.ko 2>/dev/null
true
