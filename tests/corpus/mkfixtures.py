#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# mkfixtures.py DIR BASE_URL: the registries of the development corpus, built here, from nothing
# but this script (no registry is asked): an npm registry (metadata documents and tarballs, with
# install scripts, bins and dependencies as real packages have), a PyPI simple index (wheels,
# and an sdist whose setup.py runs a build step), and a git repository with history (a small C
# library with tests). The apt repository is filled by devnet.sh from the host's apt cache.
# Served statically by devnet.sh: DIR/npm, DIR/pypi, DIR/git.
import base64, hashlib, io, json, os, subprocess, sys, tarfile, zipfile

root, base = sys.argv[1], sys.argv[2].rstrip("/")


def tgz(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo("package/" + name)
            info.size = len(data)
            info.mode = 0o755 if name.startswith("bin/") else 0o644
            info.mtime = 1700000000
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def npm_package(name, version, files, deps=None, scripts=None, bins=None):
    pkg = {"name": name, "version": version, "main": "index.js"}
    if deps:
        pkg["dependencies"] = deps
    if scripts:
        pkg["scripts"] = scripts
    if bins:
        pkg["bin"] = bins
    files = dict(files, **{"package.json": json.dumps(pkg, indent=2)})
    blob = tgz(files)
    d = os.path.join(root, "npm")
    os.makedirs(os.path.join(d, "-"), exist_ok=True)
    fname = "%s-%s.tgz" % (name, version)
    open(os.path.join(d, "-", fname), "wb").write(blob)
    meta = dict(pkg, dist={
        "tarball": "%s/npm/-/%s" % (base, fname),
        "shasum": hashlib.sha1(blob).hexdigest(),
        "integrity": "sha512-" + base64.b64encode(hashlib.sha512(blob).digest()).decode()})
    doc = {"name": name, "dist-tags": {"latest": version}, "versions": {version: meta}}
    open(os.path.join(d, name), "w").write(json.dumps(doc))


npm_package("corpus-pad", "1.2.0", {"index.js": "module.exports = (s, n) => String(s).padStart(n);\n"})
npm_package("corpus-utils", "2.0.1", {
    "index.js": "const pad = require('corpus-pad');\n"
                "exports.table = rows => rows.map(r => r.map(c => pad(c, 8)).join('')).join('\\n');\n"
                "exports.sum = xs => xs.reduce((a, b) => a + b, 0);\n"},
    deps={"corpus-pad": "^1.2.0"})
# an install script that builds something, as native modules do (sh -c, node, a file written)
npm_package("corpus-native", "0.4.0", {
    "index.js": "module.exports = require('./build/binding.json');\n",
    "install.js": "const fs = require('fs'), cp = require('child_process');\n"
                  "fs.mkdirSync('build', {recursive: true});\n"
                  "const cc = cp.execSync('uname -m').toString().trim();\n"
                  "cp.execSync('echo compiling for ' + cc + ' > build/log.txt');\n"
                  "fs.writeFileSync('build/binding.json', JSON.stringify({arch: cc}));\n"},
    scripts={"install": "node install.js"})
# an install script that downloads a prebuilt file from its registry, then unpacks it
npm_package("corpus-prebuilt", "3.1.0", {
    "index.js": "module.exports = 'prebuilt';\n",
    "fetch.js": "const http = require('http'), cp = require('child_process'), fs = require('fs');\n"
                "const agent = new http.Agent({keepAlive: true});\n"
                "http.get('%s/npm/-/corpus-pad-1.2.0.tgz', {agent}, res => {\n"
                "  const f = fs.createWriteStream('prebuilt.tgz'); res.pipe(f);\n"
                "  f.on('finish', () => { cp.execSync('tar xzf prebuilt.tgz && rm prebuilt.tgz');\n"
                "    setTimeout(() => agent.destroy(), 200); });\n"
                "});\n" % base},
    scripts={"postinstall": "node fetch.js"})
npm_package("corpus-cli", "1.0.3", {
    "index.js": "module.exports = {};\n",
    "bin/corpus-cli.js": "#!/usr/bin/env node\nconsole.log('corpus-cli', process.argv.slice(2).join(' '));\n"},
    bins={"corpus-cli": "bin/corpus-cli.js"})
npm_package("corpus-test-runner", "5.0.0", {
    "index.js": "module.exports = {};\n",
    "bin/ctr.js": "#!/usr/bin/env node\nconst cp = require('child_process');\n"
                  "const files = require('fs').readdirSync('test').filter(f => f.endsWith('.js'));\n"
                  "let bad = 0;\nfor (const f of files) { try { cp.execFileSync(process.execPath, ['test/' + f], {stdio: 'inherit'}); } catch (e) { bad++; } }\n"
                  "console.log(files.length + ' files, ' + bad + ' failed'); process.exit(bad ? 1 : 0);\n"},
    bins={"ctr": "bin/ctr.js"})


def wheel(name, version, modules):
    d = os.path.join(root, "pypi", "files")
    os.makedirs(d, exist_ok=True)
    fname = "%s-%s-py3-none-any.whl" % (name.replace("-", "_"), version)
    dist = "%s-%s.dist-info" % (name.replace("-", "_"), version)
    files = dict(modules)
    files[dist + "/METADATA"] = "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version)
    files[dist + "/WHEEL"] = "Wheel-Version: 1.0\nGenerator: corpus\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = ""
    for p, text in files.items():
        h = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record += "%s,sha256=%s,%d\n" % (p, h, len(text.encode()))
    files[dist + "/RECORD"] = record + dist + "/RECORD,,\n"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for p, text in files.items():
            z.writestr(p, text)
    open(os.path.join(d, fname), "wb").write(buf.getvalue())
    return name, fname


def sdist(name, version, module, text):
    d = os.path.join(root, "pypi", "files")
    fname = "%s-%s.tar.gz" % (name, version)
    top = "%s-%s/" % (name, version)
    files = {
        top + "setup.py": "import subprocess\nfrom setuptools import setup\n"
                          "subprocess.run(['sh', '-c', 'echo building %s'], check=True)\n"
                          "setup(name=%r, version=%r, py_modules=[%r])\n" % (name, name, version, module),
        top + module + ".py": text,
        top + "PKG-INFO": "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version)}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for p, body in files.items():
            data = body.encode()
            info = tarfile.TarInfo(p)
            info.size = len(data)
            info.mtime = 1700000000
            t.addfile(info, io.BytesIO(data))
    open(os.path.join(d, fname), "wb").write(buf.getvalue())
    return name, fname


pkgs = [wheel("corpus-requests", "2.31.0", {"corpus_requests/__init__.py": "def get(url):\n    import urllib.request\n    return urllib.request.urlopen(url, timeout=5).read()\n"}),
        wheel("corpus-fmt", "1.0.0", {"corpus_fmt.py": "def money(x):\n    return '%.2f' % x\n"}),
        sdist("corpus-legacy", "0.9", "corpus_legacy", "VALUE = 42\n")]
for name, fname in pkgs:
    d = os.path.join(root, "pypi", "simple", name)
    os.makedirs(d, exist_ok=True)
    data = open(os.path.join(root, "pypi", "files", fname), "rb").read()
    open(os.path.join(d, "index.html"), "w").write(
        '<html><body><a href="../../files/%s#sha256=%s">%s</a></body></html>\n'
        % (fname, hashlib.sha256(data).hexdigest(), fname))

# a git repository with history: a small C library, its tests, a Makefile
src = os.path.join(root, "git-src")
subprocess.run(["rm", "-rf", src], check=True)
os.makedirs(os.path.join(src, "src"))
os.makedirs(os.path.join(src, "tests"))


def git(*args):
    subprocess.run(["git", "-C", src, "-c", "user.name=corpus", "-c", "user.email=corpus@corpus.test"]
                   + list(args), check=True, stdout=subprocess.DEVNULL)


open(os.path.join(src, "Makefile"), "w").write(
    "CFLAGS = -O2 -Wall\nall: libstr.a tests/run\n"
    "libstr.a: src/str.o src/num.o\n\tar rcs $@ $^\n"
    "tests/run: tests/run.c libstr.a\n\t$(CC) $(CFLAGS) -Isrc -o $@ $< libstr.a\n"
    "test: all\n\t./tests/run\nclean:\n\trm -f src/*.o libstr.a tests/run\n.PHONY: all test clean\n")
open(os.path.join(src, "src", "str.h"), "w").write(
    "int str_count(const char *s, char c);\nlong num_sum(const long *v, int n);\n")
open(os.path.join(src, "src", "str.c"), "w").write(
    "#include \"str.h\"\nint str_count(const char *s, char c)\n{\n\tint n = 0;\n"
    "\tfor (; *s; s++)\n\t\tn += *s == c;\n\treturn n;\n}\n")
open(os.path.join(src, "src", "num.c"), "w").write(
    "#include \"str.h\"\nlong num_sum(const long *v, int n)\n{\n\tlong s = 0;\n"
    "\tfor (int i = 0; i < n; i++)\n\t\ts += v[i];\n\treturn s;\n}\n")
open(os.path.join(src, "tests", "run.c"), "w").write(
    "#include <stdio.h>\n#include \"str.h\"\nint main(void)\n{\n\tlong v[] = {1, 2, 3};\n"
    "\tint ok = str_count(\"banana\", 'a') == 3 && num_sum(v, 3) == 6;\n"
    "\tprintf(\"%s\\n\", ok ? \"ok\" : \"FAIL\");\n\treturn !ok;\n}\n")
git("init", "-q", "-b", "main")
git("add", ".")
git("commit", "-q", "-m", "libstr: count and sum")
for i in range(1, 6):
    open(os.path.join(src, "NOTES"), "a").write("note %d\n" % i)
    git("add", "NOTES")
    git("commit", "-q", "-m", "notes %d" % i)
bare = os.path.join(root, "git", "libstr.git")
subprocess.run(["rm", "-rf", bare], check=True)
subprocess.run(["git", "clone", "-q", "--bare", src, bare], check=True)
subprocess.run(["git", "-C", bare, "config", "daemon.receivepack", "true"], check=True)
print("fixtures in", root)
