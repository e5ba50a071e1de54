#!/bin/bash
# SPDX-License-Identifier: MIT
# coi config show and coi config validate, as a user runs them: the effective value of each key
# with its origin (TOML and JSON), the project file's unapproved network keys dropped with a
# warning, validate's exit codes and messages. HOME and COI_HOME point into a temporary directory.
set -u
coi=${COI_BUILD:-$(pwd)/build/dev}/coi
. "$(dirname "$0")/check.sh"
tmp=$(mktemp -d /tmp/coi-t-tests-cli-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp/home COI_HOME=$tmp/home/.coi
unset COI_CONFIG COI_TRUST_ALL
mkdir -p "$COI_HOME" "$tmp/ws/.coi"
cd "$tmp/ws" || exit 1

printf '[container]\nimage = "from-user"\n[tool]\nname = "opencode"\n' >"$COI_HOME/config.toml"
check "show: a user value with its origin" 0 'image = "from-user"  # ~/\.coi/config\.toml:2' "$coi" config show
check "show: a default is marked default" 0 'persistent = false  # default' "$coi" config show
check "show: the monitor is on by default, HIGH pausing and CRITICAL killing" 0 \
    '\[monitoring\]
enabled = true  # default
auto_pause_on_high = true  # default
auto_kill_on_critical = true  # default' "$coi" config show
check "show --json: value and origin" 0 '"tool.name": \{[^}]*"value": "opencode",[^}]*"origin": "~/\.coi/config\.toml:4"' "$coi" config show --json
json=$("$coi" config show --json 2>/dev/null)
check "show --json is valid JSON" 0 '^restricted$' jq -r '."network.mode".value' <<<"$json"

printf '[network]\nmode = "open"\n[container]\nstorage_pool = "proj"\n' >.coi/config.toml
check "show: an unapproved project's network.mode is ignored, with a warning" 0 \
    "warning: .*\.coi/config\.toml:2: ignoring 'network\.mode'.*coi trust.*mode = \"restricted\"  # default" \
    "$coi" config show
check "show: the project's harmless key applies" 0 'storage_pool = "proj"  # .*ws/\.coi/config\.toml:4' "$coi" config show
check "show -w DIR: another workspace" 0 '# storage_pool is unset' "$coi" config show -w "$tmp"
check "coi trust approves the project file" 0 '' "$coi" trust
check "show: the approved project's network.mode applies" 0 'mode = "open"  # .*ws/\.coi/config\.toml:2' "$coi" config show
check "show: an unknown profile fails" 1 "no profile 'nope'" "$coi" config show --profile nope
check "show --profile hardened" 0 '# profile: hardened.*\[monitoring\]
enabled = true  # <built-in profile hardened>' "$coi" config show --profile hardened

printf '[container]\nimgae = "x"\n' >"$tmp/typo.toml"
check "validate: an unknown key is a warning, exit 0" 0 \
    "warning: .*typo\.toml:2: unknown key 'container\.imgae', ignoring \(did you mean 'container\.image'\?\).*typo\.toml: valid" \
    "$coi" config validate "$tmp/typo.toml"
printf '[container]\npersistent = "yes"\n' >"$tmp/bad.toml"
check "validate: a wrong type fails with file:line:column" 1 \
    "coi: .*bad\.toml:2:14: 'container\.persistent' must be bool, not string" \
    "$coi" config validate "$tmp/bad.toml"
printf '[network\n' >"$tmp/syntax.toml"
check "validate: a syntax error fails with its place" 1 'syntax\.toml:1:' "$coi" config validate "$tmp/syntax.toml"
check "validate: a missing file fails" 1 "missing\.toml" "$coi" config validate "$tmp/missing.toml"
check "validate: the default file is ~/.coi/config.toml" 0 "home/\.coi/config\.toml: valid" "$coi" config validate
check "validate: two files is a usage error" 2 'at most one file' "$coi" config validate a b
check "no subcommand is a usage error" 2 'missing subcommand' "$coi" config
check "an unknown subcommand is a usage error" 2 "unknown subcommand 'frob'" "$coi" config frob

printf '[container]\nimage = "old"\n' >.coi.toml
check "the legacy .coi.toml is refused with the migration command" 1 \
    "legacy config file.*mkdir -p \.coi && mv \.coi\.toml \.coi/config\.toml" "$coi" config show
echo "1..$n"
exit $failed
