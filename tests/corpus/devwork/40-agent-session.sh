#!/bin/bash
# SPDX-License-Identifier: MIT
# An agent's working session on a project: a couple of hundred tool calls of the kinds coding
# agents make (reading, searching, editing, running snippets, git, builds, a quick server,
# fetching a document from the network, a test key made for the project), each through
# `bash -c -l` from the agent process that holds its model connection.
. /workspace/.corpus/devwork/lib.sh
say start
cd /workspace
mkdir -p proj/src proj/docs proj/fixtures
for i in $(seq 30); do
    printf 'def f%d(x):\n    """double %d"""\n    return x * 2  # TODO tidy\n' "$i" "$i" >"proj/src/m$i.py"
done
printf '# proj\nSet API_KEY in .env (see .env.example).\n' >proj/README.md
printf 'API_KEY=\n' >proj/.env.example
cat >/tmp/calls <<X
ls -la proj
cat proj/README.md
cat proj/.env.example
grep -rn TODO proj/src | head -20
rg -n "def f1" proj || true
find proj -name '*.py' | wc -l
head -3 proj/src/m1.py
sed -n '1,3p' proj/src/m2.py
python3 -c "import ast,sys; [ast.parse(open(f).read()) for f in sys.argv[1:]]" proj/src/*.py
sed -i 's/# TODO tidy/# tidied/' proj/src/m3.py
grep -c tidied proj/src/m3.py
python3 -c "import sys; sys.path.insert(0, 'proj/src'); import m4; print(m4.f4(21))"
node -e "console.log([1,2,3].map(x => x * 2))"
jq -n '{ok: true}'
git init -q proj 2>/dev/null; cd proj && git add -A && git -c user.email=a@b -c user.name=a commit -qm init
cd proj && git log --oneline | head
cd proj && git diff HEAD --stat
env | grep -i ^path
printenv HOME
which node python3 git make gcc
curl -s -m 5 http://$DEV:8081/npm/corpus-pad | jq -r '."dist-tags".latest'
curl -s -m 5 -o /tmp/doc.html http://$DEV:8081/pypi/simple/corpus-fmt/ && wc -c /tmp/doc.html
rm -f proj/fixtures/test_key*; ssh-keygen -q -t ed25519 -N '' -C fixture -f proj/fixtures/test_key
cat proj/fixtures/test_key.pub
tar czf /tmp/proj-backup.tgz proj/src && ls -la /tmp/proj-backup.tgz
timeout 5 python3 -m http.server 8099 --bind 127.0.0.1 >/dev/null 2>&1 & sleep 1; curl -s -o /dev/null -w '%{http_code}\n' http://127.0.0.1:8099/; wait
printf 'int main(void){return 0;}\n' >/tmp/t.c && gcc -o /tmp/t /tmp/t.c && /tmp/t
cat /etc/os-release | head -2
ps aux | head -5
df -h /workspace | tail -1
X
for round in $(seq "$(n 15 2)"); do
    agent /tmp/calls
done
say done
