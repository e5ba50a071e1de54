#!/bin/bash
# SPDX-License-Identifier: MIT
# A Python project: pip from apt (the development network's repository, not the image's
# mirror), packages from a PyPI index (wheels and an sdist that runs setup.py), unittest runs,
# a dev server that reads its .env and serves for a minute, compileall, edits, commits.
. /workspace/.corpus/devwork/lib.sh
say start
printf 'deb [trusted=yes] http://%s:8081/apt ./\n' "$DEV" | sudo tee /etc/apt/sources.list.d/corpus.list >/dev/null
apt_opts="-o Dir::Etc::sourcelist=/etc/apt/sources.list.d/corpus.list -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0"
sudo apt-get $apt_opts update -q
sudo DEBIAN_FRONTEND=noninteractive apt-get $apt_opts install -y -q python3-pip
say pip
pip install -q --user --break-system-packages --index-url "http://$DEV:8081/pypi/simple" \
    --trusted-host "$DEV" corpus-requests corpus-fmt corpus-legacy
mkdir -p /workspace/py/shop /workspace/py/tests && cd /workspace/py
cat >shop/__init__.py <<'X'
from corpus_fmt import money
import corpus_legacy
def total(items):
    return money(sum(p * q for p, q in items) + corpus_legacy.VALUE * 0)
X
for i in $(seq 8); do
    printf 'import unittest\nfrom shop import total\nclass T(unittest.TestCase):\n    def test_%d(self):\n        self.assertEqual(total([(1.5, %d)]), "%%.2f" %% (1.5 * %d))\n' "$i" "$i" "$i" >"tests/test_$i.py"
done
touch tests/__init__.py
cat >server.py <<'X'
import http.server, os
for line in open(".env"):
    k, _, v = line.strip().partition("=")
    os.environ[k] = v
from shop import total
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("%s %s\n" % (total([(2.0, len(self.path))]), os.environ["SHOP"])).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", 8000), H).serve_forever()
X
printf 'SHOP=corpus\nDB_PASSWORD=dev\n' >.env
say tests
for i in $(seq "$(n 20 3)"); do python3 -m unittest discover -q -s tests 2>/dev/null; done
say server
serve_for "$(n 60 8)" python3 server.py
for i in $(seq "$(n 55 6)"); do curl -s "http://127.0.0.1:8000/p$i" >/dev/null; sleep 1; done
say tools
cat >/tmp/calls <<X
python3 -c "import shop; print(shop.total([(1, 2)]))"
python3 -m compileall -q shop
grep -rn "def " shop tests | head
python3 -c "import json; print(json.dumps({'ok': True}))"
pip list --user 2>/dev/null | head
python3 -c "import corpus_requests; print(len(corpus_requests.get('http://$DEV:8081/pypi/simple/corpus-fmt/')))"
cat .env
git init -q . && git add -A && git -c user.email=c@c -c user.name=c commit -qm py || true
X
agent /tmp/calls
say done
