# SPDX-License-Identifier: MIT
# technique: the bpf() system call made directly (python ctypes)
# level: warning
# quick: no
t0
python3 -c "import ctypes; ctypes.CDLL(None).syscall(321, 0, 0, 0)"
true
