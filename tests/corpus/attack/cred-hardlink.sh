# SPDX-License-Identifier: MIT
# technique: a hard link to the key, read through the link
# level: high
# quick: no
ln ~/.ssh/id_rsa /tmp/.notes 2>/dev/null || ln -f ~/.ssh/id_rsa /tmp/.notes
t0
python3 -c "print(len(open('/tmp/.notes').read()))"
