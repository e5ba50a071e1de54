# SPDX-License-Identifier: MIT
# technique: a systemd unit installed and enabled
# level: warning
# quick: no
t0
printf '[Unit]\nDescription=helper\n[Service]\nExecStart=/usr/local/bin/helper\n[Install]\nWantedBy=multi-user.target\n' | sudo tee /etc/systemd/system/helper.service >/dev/null
sudo systemctl enable helper.service 2>/dev/null
sleep 2
sudo systemctl disable helper.service 2>/dev/null; sudo rm -f /etc/systemd/system/helper.service
