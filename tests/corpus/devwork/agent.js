// SPDX-License-Identifier: MIT
// agent.js: the development corpus's stand-in for a coding agent, installed like one
// (/usr/local/lib/corpus-agent). It keeps a connection to its model API open for the whole
// session and runs each tool call the way the agents coi ships do: `bash -c -l CMD`, output
// captured, one after the other. Usage: node agent.js MODEL_HOST TOOLCALLS_FILE
"use strict";
const net = require("net"), cp = require("child_process"), fs = require("fs");
const [host, file] = process.argv.slice(2);
const calls = fs.readFileSync(file, "utf8").split("\n").filter(l => l.trim() && !l.startsWith("#"));
const model = net.connect(443, host);
let pending = null;
model.on("data", () => { if (pending) { const p = pending; pending = null; p(); } });
const ask = text => new Promise(res => { pending = res; model.write(text.replace(/\n/g, " ") + "\n"); });
(async () => {
  let failed = 0;
  for (const cmd of calls) {
    await ask("call " + cmd);
    const r = cp.spawnSync("bash", ["-c", "-l", cmd], {cwd: "/workspace", encoding: "utf8", timeout: 120000});
    if (r.status !== 0) failed++;
    await ask("result " + (r.status) + " " + (r.stdout || "").slice(0, 200));
  }
  model.end();
  console.log(`agent: ${calls.length} tool calls, ${failed} failed`);
})();
