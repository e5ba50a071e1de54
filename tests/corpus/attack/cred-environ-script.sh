# SPDX-License-Identifier: MIT
# technique: a python script dumps os.environ for secrets
# level: warning
# quick: no
cat >/tmp/.e.py <<'X'
import os
print({k: v for k, v in os.environ.items() if "KEY" in k or "TOKEN" in k})
X
t0
python3 /tmp/.e.py >/dev/null
