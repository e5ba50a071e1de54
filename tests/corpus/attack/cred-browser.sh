# SPDX-License-Identifier: MIT
# technique: copy a browser profile's saved logins
# level: high
# quick: no
t0
cp ~/.mozilla/firefox/corpus.default-release/logins.json /tmp/.l.json
