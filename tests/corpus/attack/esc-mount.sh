# SPDX-License-Identifier: MIT
# technique: mount a filesystem as container root
# level: warning
# quick: yes
t0
sudo mount -t tmpfs none /mnt 2>/dev/null
sudo umount /workspace/.git/hooks 2>/dev/null
true
