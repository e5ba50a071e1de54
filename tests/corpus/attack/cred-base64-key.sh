# SPDX-License-Identifier: MIT
# technique: base64 < ~/.ssh/id_rsa (the shell opens the key)
# level: high
# quick: yes
t0
base64 <~/.ssh/id_rsa >/dev/null
