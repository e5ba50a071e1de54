#!/bin/bash
# SPDX-License-Identifier: MIT
# Shell completion: 'coi __complete' reads verbs, subcommands, options and their values from the
# verb table and usage texts; profile names come from the profile directories; the scripts for
# bash, zsh and fish load, and the bash one completes through the real readline-free entry point.
# Container names need a daemon: the e2e tests do not complete them yet.
set -u
build=$(cd "${COI_BUILD:-build/dev}" && pwd)
coi=$build/coi
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi; }
# has DESC REGEX ARGS...: the candidates (first column) of 'coi __complete ARGS' match REGEX
has() {
    local desc=$1 re=$2 out
    shift 2
    out=$("$coi" __complete "$@" 2>&1 | cut -f1 | tr '\n' ' ')
    if [[ "$out" =~ $re ]]; then ok 0 "$desc"; else ok 1 "$desc"; echo "# got: $out"; fi
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export COI_HOME=$tmp/home INCUS_SOCKET=$tmp/no-daemon.socket COI_CONFIG=$tmp/user.toml
unset COI_TRUST_ALL
mkdir -p "$COI_HOME/profiles/rust-dev" "$tmp/ws/.coi/profiles/project-prof" "$tmp/ws/sub"

has "verbs, with help" '^shell run attach build list kill .*logs .*completion help :' ""
has "a verb from its prefix" '^list :' li
has "hidden verbs are not offered" '^:' __
has "help VERB" '^config container completion :' help co
has "global options" '^--verbose --quiet --version --help :' -
has "options come from the usage text" '--orphans --sessions --forensics --pools --all -a --dry-run --force -f --help' clean -
has "an option line's spellings" '--workspace -w --slot --persistent --image --profile --resume --unsafe-workspace --quiet -q --help -h' run -
has "--help for every verb" '--json --format --help :' version --
has "an alias of a verb" '^close :' clo
has "the subcommands of a new verb" '^list show create edit delete :' profile ""
has "subcommands" '^launch start stop delete exec list info exists running mount :' container ""
has "subcommands of Usage lines" '^show validate :' config ""
has "options of one subcommand" '^--force --timeout --help :' container stop x --
has "choices of an option" '^table json :' image list --format ""
has "choices after =" '^--format=json :' image list --format=j
has "a lowercase-choice positional" '^bash zsh fish :' completion ""
has "a directory option asks the shell for directories" '^:dirs $' run -w ""
has "a file positional asks for files" '^:files $' trust ""
has "file push LOCAL" '^:files $' file push ""
has "profiles: built-in and user" '^default hardened rust-dev :' run --profile ""
has "profiles: the project's too (-w)" 'project-prof' config show -w "$tmp/ws" --profile ""
(cd "$tmp/ws" && "$coi" __complete run --profile p) | grep -q '^project-prof$'
ok $? "profiles of the project in the current directory"
# prompt names: the configuration in effect; an unapproved project file's are not offered
printf '[prompts]\nreview = "Review the last commit\\nand more"\ntriage = { file = "t.md" }\n' >"$tmp/user.toml"
printf '[prompts]\nproject-only = "x"\n' >"$tmp/ws/.coi/config.toml"
mkdir -p "$COI_HOME/profiles/extra"
printf '[prompts]\nfrom-profile = "p"\n' >"$COI_HOME/profiles/extra/config.toml"
has "prompt names" '^review triage :' run -w "$tmp/ws" --prompt-name ""
has "prompt names, after =" '^--prompt-name=triage :' run -w "$tmp/ws" --prompt-name=t
has "prompt names of --profile" 'from-profile' run --profile extra --prompt-name ""
out=$("$coi" __complete run --prompt-name r)
[ "$out" = $'review\tReview the last commit\n:' ]
ok $? "a prompt's description: the first line of its text"
[ $? = 0 ] || echo "# got: $out"
out=$(COI_TRUST_ALL=1 "$coi" __complete run -w "$tmp/ws" --prompt-name p)
[ "$out" = $'project-only\tx\n:' ]
ok $? "an approved project file's prompts are offered"
rm "$tmp/ws/.coi/config.toml"
has "no daemon: no container names, no error" '^:' kill ""
has "snapshot NAME is not a container" '^:' snapshot restore ""
has "after -- nothing is an option" '^:' run -- ls -
start=$(date +%s)
"$coi" __complete kill "" >/dev/null
ok $? "__complete exits 0 without a daemon"
ok "$([ $(($(date +%s) - start)) -le 3 ] && echo 0 || echo 1)" "and quickly"

# Scripts: each shell loads its script; bash completes through the function.
for sh in bash zsh fish; do
    "$coi" completion $sh > "$tmp/coi.$sh"
    ok $? "coi completion $sh"
done
out=$(bash -c "source '$tmp/coi.bash'; complete -p coi" 2>&1)
[[ "$out" == "complete -F _coi coi" ]]
ok $? "the bash script registers _coi"
out=$(PATH=$build:$PATH bash -c "source '$tmp/coi.bash'
COMP_WORDS=(coi li); COMP_CWORD=1; _coi; echo \"\${COMPREPLY[*]}\"
COMP_WORDS=(coi image list --format ''); COMP_CWORD=4; _coi; echo \"\${COMPREPLY[*]}\"
COMP_WORDS=(coi run --profile r); COMP_CWORD=3; _coi; echo \"\${COMPREPLY[*]}\"" 2>&1)
[ "$out" = $'list\ntable json\nrust-dev' ]
ok $? "bash: coi li<Tab>, --format <Tab>, --profile r<Tab>"
[ $? = 0 ] || echo "# got: $out"
if command -v zsh >/dev/null; then
    zsh -fc "autoload -Uz compinit && compinit -u -d '$tmp/zcomp' && source '$tmp/coi.zsh' && [[ \${_comps[coi]} == _coi ]]"
    ok $? "the zsh script registers _coi with compdef"
else
    echo "ok $((n += 1)) - # SKIP zsh not installed"
fi
if command -v fish >/dev/null; then
    out=$(PATH=$build:$PATH HOME=$tmp fish -c "source '$tmp/coi.fish'; complete -C 'coi li'" 2>&1)
    [[ "$out" == list* ]]
    ok $? "fish: complete -C 'coi li' gives list"
    [ $? = 0 ] || echo "# got: $out"
else
    echo "ok $((n += 1)) - # SKIP fish not installed"
fi
echo "1..$n"
exit $failed
