# SPDX-License-Identifier: MIT
# technique: a library preloaded into every program
# level: high
# quick: no
t0
echo /usr/lib/x86_64-linux-gnu/libcorpus.so | sudo tee /etc/ld.so.preload >/dev/null
sudo rm -f /etc/ld.so.preload
sleep 2
