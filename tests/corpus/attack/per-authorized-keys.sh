# SPDX-License-Identifier: MIT
# technique: a key added to ~/.ssh/authorized_keys
# level: warning
# quick: no
t0
echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBcorpuscorpuscorpuscorpuscorpuscorpus corpus' >>~/.ssh/authorized_keys
sleep 2
sed -i '$d' ~/.ssh/authorized_keys
