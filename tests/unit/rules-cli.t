#!/bin/bash
# SPDX-License-Identifier: MIT
# coi rules through the command line: list (coi's table, its rule files, the user's directories,
# --all with the reasons for what is skipped), test (a command line, a rule file: exit codes like
# grep's), update (git clones of gtfobins_source and sigma_source from local repositories, then a
# pull), and the trust gate: a project file cannot bring in rules.
set -u
coi=$(realpath "${COI_BUILD:-build/dev}/coi")
. "$(dirname "$0")/check.sh"
tmp=$(mktemp -d /tmp/coi-t-rulescli-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp/home COI_HOME=$tmp/home/.coi COI_CONFIG=$tmp/config.toml
mkdir -p "$HOME" "$tmp/gtfo" "$tmp/sigma" "$tmp/ws/.coi"
cat >"$tmp/config.toml" <<EOF
[detection]
gtfobins_dir = "$tmp/gtfo"
sigma_dir = "$tmp/sigma"
EOF
cp "$(dirname "$0")/../rules/gtfobins/frobnicate" "$tmp/gtfo/"
cp "$(dirname "$0")/../rules/sigma/canary.yml" "$(dirname "$0")/../rules/sigma/windows.yml" "$tmp/sigma/"

check "list: the table's rules" 0 'revshell-devtcp +critical +coi +built in' "$coi" rules list
check "list: coi's rule files" 0 'sigma:coi_cryptominer +high +sigma +builtin:sigma/coi_cryptominer.yml' "$coi" rules list
check "list: the user's GTFOBins entry" 0 "gtfobins:frobnicate:reverse-shell +critical +gtfobins +$tmp/gtfo/frobnicate" "$coi" rules list
check "list: the user's Sigma rule" 0 "sigma:canary +warning +sigma +$tmp/sigma/canary.yml +Canary seen" "$coi" rules list
check "list: what is skipped is counted" 0 '\(1 rule skipped' "$coi" rules list
check "list --all: and why" 0 "logsource is windows/process_creation" "$coi" rules list --all
check "list --json" 0 '"id": "sigma:canary",' "$coi" rules list --json
check "test: the user's Sigma rule" 0 '^warning +sigma:canary: Canary seen' "$coi" rules test --cmdline 'echo coi-canary-7f3e'
check "test: the user's GTFOBins entry" 0 '^critical +gtfobins:frobnicate:reverse-shell' "$coi" rules test --cmdline 'frobnicate --connect 10.0.0.1:443 --shell /bin/sh'
check "test: nothing matches: exit 1" 1 'no rule matches' "$coi" rules test --cmdline 'make test'
check "test: without the user's directories, the canary is nothing" 1 'no rule matches' env COI_CONFIG=/dev/null "$coi" rules test --cmdline 'echo coi-canary-7f3e'
check "test --json" 0 '"rule":"sigma:canary","level":"warning"' "$coi" rules test --json --cmdline 'echo coi-canary-7f3e'
check "test FILE: its rules load" 0 "canary.yml: sigma:canary loads \\(warning\\): matches 1 selection" "$coi" rules test "$tmp/sigma/canary.yml"
check "test FILE: a skipped rule fails" 1 "windows.yml: sigma:windows skipped \\(warning\\): its logsource is windows" "$coi" rules test "$tmp/sigma/windows.yml"
printf 'title: x\ndetection:\n  s: [\n' >"$tmp/bad.yml"
check "test FILE: a broken file names file:line:column" 1 "^coi: $tmp/bad.yml: 4:1: " "$coi" rules test "$tmp/bad.yml"
check "test: usage" 2 'needs a rule FILE or --cmdline' "$coi" rules test
check "no sub-command: usage" 2 'list, test or update' "$coi" rules

# a project file cannot bring rules in (they could freeze or kill your sessions)
printf '[detection]\nsigma_dir = "%s/sigma"\n' "$tmp" >"$tmp/ws/.coi/config.toml"
check "a project's sigma_dir is dropped" 1 "ignoring 'detection.sigma_dir': a repository's rules could kill or freeze" \
    sh -c "cd '$tmp/ws' && COI_CONFIG=/dev/null '$coi' rules test --cmdline 'echo coi-canary-7f3e'"

# update: shallow clones of the sources, then pulls
commit() { git -C "$1" add -A && git -C "$1" -c user.name=t -c user.email=t@t commit -qm "$2"; }
git init -q "$tmp/gtfo-src" && mkdir -p "$tmp/gtfo-src/_gtfobins" &&
    sed 's/frobnicate /frob2 /' "$tmp/gtfo/frobnicate" >"$tmp/gtfo-src/_gtfobins/frob2" &&
    commit "$tmp/gtfo-src" one
lpc=$tmp/sigma-src/rules/linux/process_creation
git init -q "$tmp/sigma-src" && mkdir -p "$lpc" "$tmp/sigma-src/rules/windows" &&
    sed 's/^name: canary/name: canary2/' "$tmp/sigma/canary.yml" >"$lpc/canary2.yml" &&
    cp "$tmp/sigma/windows.yml" "$tmp/sigma-src/rules/windows/w.yml" && commit "$tmp/sigma-src" one
cat >"$tmp/config2.toml" <<EOF
[detection]
gtfobins_dir = "$tmp/clone-gtfo"
sigma_dir = "$tmp/clone-sigma"
gtfobins_source = "file://$tmp/gtfo-src"
sigma_source = "file://$tmp/sigma-src"
EOF
export COI_CONFIG=$tmp/config2.toml
check "update --dry-run: the git commands" 0 "would run: git clone --depth 1 --quiet file://$tmp/gtfo-src $tmp/clone-gtfo" "$coi" rules update --dry-run
ok "update --dry-run changes nothing" test ! -e "$tmp/clone-gtfo"
check "update: clones both" 0 "coi: updated" "$coi" rules update
ok "the Sigma clone holds only the Linux process rules" test -e "$tmp/clone-sigma/rules/linux/process_creation/canary2.yml" -a ! -e "$tmp/clone-sigma/rules/windows/w.yml"
check "the clones' rules load" 0 "gtfobins:frob2:reverse-shell .*
.*sigma:canary2 " "$coi" rules list
sed -i 's/^name: canary2/name: canary3/' "$lpc/canary2.yml" && commit "$tmp/sigma-src" two
check "update again: pulls" 0 "git -C $tmp/clone-sigma pull --ff-only" "$coi" rules update
check "the new rule is there" 0 "sigma:canary3 " "$coi" rules list
printf '[detection]\ngtfobins_source = "file://%s/nothing"\ngtfobins_dir = "%s/c3"\nsigma_source = "file://%s/nothing"\nsigma_dir = "%s/c4"\n' "$tmp" "$tmp" "$tmp" "$tmp" >"$tmp/config3.toml"
check "update: a failing clone fails" 1 "updating the rule databases failed" env COI_CONFIG="$tmp/config3.toml" "$coi" rules update
echo "1..$n"
exit $failed
