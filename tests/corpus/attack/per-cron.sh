# SPDX-License-Identifier: MIT
# technique: a cron job written into /etc/cron.d
# level: warning
# quick: no
t0
echo '*/5 * * * * root /usr/local/bin/update-check' | sudo tee /etc/cron.d/update-check >/dev/null
sleep 2
sudo rm -f /etc/cron.d/update-check
