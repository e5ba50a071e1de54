#!/bin/bash
# SPDX-License-Identifier: MIT
# A Node.js project from scratch: npm installs from the registry (dependencies with install
# scripts, one that downloads a prebuilt file, bins), a dev server that reads its .env and
# serves requests for a minute, a test suite run again and again, a build, edits, commits.
. /workspace/.corpus/devwork/lib.sh
say start
mkdir -p /workspace/app && cd /workspace/app
git config --global user.email code@corpus.test
git config --global user.name code
printf 'registry=http://%s:8081/npm/\n' "$DEV" >.npmrc
npm init -y >/dev/null
say install
npm install --no-audit --no-fund corpus-utils corpus-native corpus-prebuilt corpus-cli corpus-test-runner
mkdir -p src test
cat >src/index.js <<'X'
const {table, sum} = require('corpus-utils');
exports.report = rows => table(rows) + '\ntotal ' + sum(rows.map(r => r[1]));
X
for i in 1 2 3 4 5 6; do
    printf "const assert = require('assert');\nconst {report} = require('../src');\nassert.ok(report([['a', %d]]).includes('total %d'));\n" "$i" "$i" >"test/t$i.js"
done
cat >server.js <<'X'
const http = require('http'), fs = require('fs');
for (const l of fs.readFileSync('.env', 'utf8').split('\n')) { const [k, v] = l.split('='); if (k) process.env[k] = v; }
const {report} = require('./src');
http.createServer((req, res) => res.end(report([[req.url, 1]]) + '\n' + process.env.APP_NAME + '\n'))
    .listen(3000, '127.0.0.1');
X
cat >build.js <<'X'
const fs = require('fs');
fs.mkdirSync('dist', {recursive: true});
let out = '';
for (const f of fs.readdirSync('src')) out += fs.readFileSync('src/' + f, 'utf8').replace(/\s+/g, ' ') + '\n';
fs.writeFileSync('dist/bundle.js', out);
X
printf 'APP_NAME=corpus\nAPP_SECRET=dev-only-secret\n' >.env
printf 'APP_NAME=\nAPP_SECRET=\n' >.env.example
printf 'node_modules\n.env\ndist\n' >.gitignore
npm pkg set scripts.test=ctr scripts.build="node build.js" >/dev/null
git init -q . 2>/dev/null || true
git add -A && git commit -qm "app: report" || true
say tests
for i in $(seq "$(n 15 3)"); do npm test --silent >/dev/null; npm run build --silent >/dev/null; done
say server
serve_for "$(n 60 8)" node server.js
for i in $(seq "$(n 55 6)"); do curl -s "http://127.0.0.1:3000/item$i" >/dev/null; sleep 1; done
say tools
cat >/tmp/calls <<X
cat package.json
ls -la
grep -rn "require" src test | head
npx corpus-cli hello world
node -e "console.log(require('./src').report([['x', 2]]))"
sed -i 's/total /sum: /' src/index.js
npm test --silent || true
sed -i 's/sum: /total /' src/index.js
npm test --silent
cat .env.example
git status --short
git diff --stat
git add -A && git commit -qm "tests: more" || true
find . -path ./node_modules -prune -o -name '*.js' -print
du -sh node_modules
npm ls --depth=0
X
agent /tmp/calls
say reinstall
rm -rf node_modules && npm ci --no-audit --no-fund
for i in $(seq "$(n 10 2)"); do npm test --silent >/dev/null; done
say done
