# SPDX-License-Identifier: MIT
# technique: a python script opens the private key
# level: high
# quick: yes
cat >/tmp/.k.py <<'X'
import os
print(len(open(os.path.expanduser("~/.ssh/id_rsa")).read()))
X
t0
python3 /tmp/.k.py
