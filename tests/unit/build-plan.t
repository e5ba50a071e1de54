#!/bin/bash
# SPDX-License-Identifier: MIT
# coi build --dry-run: what the build would be given, from [container.build] of the configuration
# (the command line and the environment over it), without a daemon. The build itself is e2e 30
# and 31; this shows that each key reaches it.
# Keys whose effect this file shows (src/config/keys.c names it as their proof):
# container.build.base, container.build.script, container.build.commands,
# container.build.compression, container.build.agents.
set -u
coi=${COI_BUILD:-$(pwd)/build/dev}/coi
. "$(dirname "$0")/check.sh"
tmp=$(mktemp -d /tmp/coi-t-build-plan-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp/home COI_HOME=$tmp/home/.coi COI_CONFIG=$tmp/conf/config.toml \
    INCUS_SOCKET=$tmp/no-daemon.socket
unset COI_BUILD_BASE COI_AGENTS COI_BUILD_COMPRESSION COI_TRUST_ALL
mkdir -p "$COI_HOME" "$tmp/conf" "$tmp/ws"
cd "$tmp/ws" || exit 1

: >"$COI_CONFIG"
check "no [container.build]: coi-default from the coi recipe, every agent" 0 \
    '^alias coi-default
base auto
agents claude opencode codex gemini
storage_pool .*
compression \(zstd for a local daemon\)
recipe [0-9a-f]+
script \(the coi recipe\)$' "$coi" build --dry-run

printf '[container.build]\nbase = "debootstrap"\nagents = ["claude", "codex"]\ncompression = "xz"\n' >"$COI_CONFIG"
check "base, agents, compression: the coi recipe's build takes them" 0 \
    '^alias coi-default
base debootstrap
agents claude,codex
storage_pool .*
compression xz
recipe [0-9a-f]+
script \(the coi recipe\)$' "$coi" build --dry-run
default_hash=$("$coi" build --dry-run </dev/null | sed -n 's/^recipe //p')
check "the command line over the configuration" 0 \
    'base images:debian/12
agents gemini
.*compression gzip' "$coi" build --dry-run --base images:debian/12 --agents gemini --compression gzip
check "the environment over the configuration" 0 'agents opencode
.*compression none' env COI_AGENTS=opencode COI_BUILD_COMPRESSION=none "$coi" build --dry-run

printf '[container]\nimage = "my-img"\n[container.build]\ncommands = ["echo one", "echo two"]\n' >"$COI_CONFIG"
check "commands: a custom image of them, on coi-default, named container.image" 0 \
    '^alias my-img
base coi-default
.*script \(custom, run as root on top of the base\):
#!/bin/bash
set -euo pipefail
echo one
echo two$' "$coi" build --dry-run
check "commands change the recipe hash" 0 "^recipe [0-9a-f]+$" \
    sh -c "'$coi' build --dry-run | grep '^recipe' | grep -v '^recipe $default_hash\$'"

printf 'echo from-script\n' >"$tmp/conf/build.sh"
printf '[container]\nimage = "my-img"\n[container.build]\nbase = "my-base"\nscript = "build.sh"\ncommands = ["echo one"]\n' >"$COI_CONFIG"
check "script: read relative to the file that names it, and it wins over commands" 0 \
    '^alias my-img
base my-base
.*script \(custom, run as root on top of the base\):
echo from-script$' "$coi" build --dry-run

printf '[container.build]\ncommands = ["echo one"]\n' >"$COI_CONFIG"
check "a custom image without its own alias is refused" 1 'needs its own alias' "$coi" build --dry-run
printf '[container]\nimage = "my-img"\n[container.build]\nscript = "missing.sh"\n' >"$COI_CONFIG"
check "a missing script fails and names the key" 1 'container\.build\.script.*missing\.sh' "$coi" build --dry-run
echo "1..$n"
exit $failed
