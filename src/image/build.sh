#!/bin/bash
# SPDX-License-Identifier: MIT
# build.sh: turns a base system container into the coi sandbox image. Runs as root INSIDE the
# build container (coi embeds this file, pushes it with its inputs to $COI_BUILD_DIR, default
# /var/lib/coi-build - not /tmp, which systemd empties at boot - and runs it; the container has
# open network for the build only).
#
# Inputs (all optional):
#   COI_AGENTS         agents to install from the npm registry, space or comma separated
#                      (claude opencode codex gemini; default: all four; "none" for no agent)
#   COI_RECIPE_HASH    the recipe hash coi computed, written to /etc/coi-image
#   COI_APT_MIRROR     rewrite apt to this mirror (an image-server base may carry another one)
#   COI_NODE_MAJOR     the least Node.js major version (default 22); when the distribution's is
#                      older (Debian 12 has 18; Gemini CLI needs 20), that version's official
#                      binary comes from the npm registry (package node-linux-<arch>)
#   COI_BUILD_DIR      where the inputs below are (default /var/lib/coi-build; removed at the end)
#   $COI_BUILD_DIR/dummy      the fake agent, installed as /usr/local/bin/dummy
#   $COI_BUILD_DIR/ca/*.crt   extra CA certificates to trust (the host's, behind a TLS proxy)
#
# Progress: each phase prints one line 'coi-build: step N/M: what' that coi shows as progress.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
in=${COI_BUILD_DIR:-/var/lib/coi-build}
steps=10
n=0
step() {
    n=$((n + 1))
    printf 'coi-build: step %d/%d: %s\n' "$n" "$steps" "$*"
}
die() {
    printf 'coi-build: error: %s\n' "$*" >&2
    exit 1
}
# retry N CMD...: network installers get three chances, 10 s apart.
retry() {
    local tries=$1 i
    shift
    for ((i = 1; i <= tries; i++)); do
        "$@" && return 0
        [ "$i" -lt "$tries" ] && {
            printf 'coi-build: attempt %d of %d failed: %s; retrying in 10 s\n' "$i" "$tries" "$*"
            sleep 10
        }
    done
    return 1
}

agents=${COI_AGENTS:-claude opencode codex gemini}
agents=${agents//,/ }
npm_pkgs=()
bins=()
for a in $agents; do
    case "$a" in
    claude) npm_pkgs+=(@anthropic-ai/claude-code) bins+=(claude) ;;
    opencode) npm_pkgs+=(opencode-ai) bins+=(opencode) ;;
    codex) npm_pkgs+=(@openai/codex) bins+=(codex) ;;
    gemini) npm_pkgs+=(@google/gemini-cli) bins+=(gemini) ;;
    none) ;;
    *) printf "coi-build: warning: no recipe for agent '%s' (known: claude opencode codex gemini), skipping\n" "$a" ;;
    esac
done

step "waiting for the network"
for _ in $(seq 120); do
    ip -4 route show default 2>/dev/null | grep -q . && break
    sleep 0.5
done
ip -4 route show default | grep -q . || die "no IPv4 default route after 60 s"

step "trusting extra CA certificates"
if ls "$in"/ca/*.crt >/dev/null 2>&1; then
    mkdir -p /usr/local/share/ca-certificates
    cp "$in"/ca/*.crt /usr/local/share/ca-certificates/
fi
if command -v update-ca-certificates >/dev/null; then update-ca-certificates >/dev/null 2>&1 || true; fi
if [ -n "${COI_APT_MIRROR:-}" ]; then
    # Point every main-archive entry at the given mirror; security entries keep theirs.
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
        [ -e "$f" ] || continue
        sed -i -E "/security/! s#(^URIs:[[:space:]]*|^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?)[a-z]+://[^[:space:]]+#\1$COI_APT_MIRROR#" "$f"
    done
fi
cat >/etc/apt/apt.conf.d/80-coi-retries <<'EOF'
Acquire::Retries "3";
Acquire::http::Timeout "30";
Acquire::https::Timeout "30";
APT::Install-Recommends "false";
EOF

step "installing packages (apt)"
retry 3 apt-get update -q
pkgs=(
    ca-certificates curl wget git openssh-client gnupg sudo tmux less procps psmisc lsof strace
    iproute2 iputils-ping netbase bind9-dnsutils file tree unzip zip xz-utils bzip2 jq ripgrep
    fd-find sqlite3 build-essential pkg-config python3 nodejs npm nano vim-tiny
)
retry 3 apt-get install -y -q -o Dpkg::Use-Pty=0 "${pkgs[@]}"
ln -sf /usr/bin/fdfind /usr/local/bin/fd

step "tmux, shell and the user 'code'"
cat >/etc/tmux.conf <<'EOF'
# coi: long scrollback for agent output, and no escape delay (editors, TUIs)
set -g history-limit 50000
set -sg escape-time 10
set -g default-terminal "tmux-256color"
set -g mouse on
EOF
if ! getent passwd code >/dev/null; then
    other=$(getent passwd 1000 | cut -d: -f1 || true)
    if [ -n "$other" ]; then
        # An image-server base may ship its own uid 1000 user (e.g. 'ubuntu'): rename it.
        usermod -l code -d /home/code -m "$other"
        getent group "$other" >/dev/null && groupmod -n code "$other"
    else
        useradd -m -u 1000 -U -s /bin/bash code
    fi
fi
[ "$(id -u code)" = 1000 ] || die "user 'code' exists with uid $(id -u code), not 1000"
usermod -s /bin/bash code >/dev/null 2>&1 || true
echo 'code ALL=(ALL) NOPASSWD:ALL' >/etc/sudoers.d/90-code
chmod 0440 /etc/sudoers.d/90-code
visudo -cqf /etc/sudoers.d/90-code || die "bad sudoers drop-in"
install -d -o code -g code -m 0755 /home/code /home/code/.config /home/code/.local \
    /home/code/.local/bin /home/code/.cache
install -d -o code -g code -m 0700 /home/code/.claude /home/code/.codex /home/code/.ssh
# Node.js tools use their own CA list unless told otherwise: give them the system one.
echo 'NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' >>/etc/environment
printf 'export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt\n' >/etc/profile.d/coi.sh
export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt

step "Node.js ${COI_NODE_MAJOR:-22} or newer"
npm config -g set fund false
npm config -g set update-notifier false
npm config -g set audit false
want=${COI_NODE_MAJOR:-22}
have=$(node -p 'process.versions.node.split(".")[0]')
if [ "$have" -lt "$want" ]; then
    case "$(uname -m)" in
    x86_64) narch=x64 ;;
    aarch64) narch=arm64 ;;
    *) die "no Node.js $want binary for $(uname -m)" ;;
    esac
    # /usr/local/bin comes first in PATH, so this node serves npm and every agent.
    retry 3 npm install -g --no-progress --loglevel=error "node-linux-$narch@$want"
    hash -r
fi
printf 'node %s, npm %s\n' "$(node --version)" "$(npm --version)"

step "installing agents from the npm registry: ${agents}"
if [ ${#npm_pkgs[@]} -gt 0 ]; then
    retry 3 npm install -g --no-progress --loglevel=error "${npm_pkgs[@]}"
fi
for b in "${bins[@]}"; do
    v=$(timeout 60 "$b" --version 2>&1 | tail -n1) || die "'$b --version' fails: $v"
    printf '%s: %s\n' "$b" "$v"
done

step "the fake agent 'dummy' and the in-container helpers"
[ -f "$in/dummy" ] || die "$in/dummy is missing"
install -m 0755 "$in/dummy" /usr/local/bin/dummy
# poweroff, close, halt, shutdown: a clean stop of the container, from 'code' too.
for h in poweroff close halt shutdown; do
    printf '#!/bin/sh\n# coi: stop this container cleanly\nexec sudo systemctl --force poweroff\n' \
        >"/usr/local/bin/$h"
    chmod 0755 "/usr/local/bin/$h"
done
printf '#!/bin/sh\n# coi: restart this container\nexec sudo systemctl reboot\n' >/usr/local/bin/reboot
chmod 0755 /usr/local/bin/reboot
# coi's seccomp policy refuses bind and move mounts and new mount namespaces (they would let
# container root reach protected paths under their read-only mounts). systemd then skips the
# per-service namespaces by itself, but still sets up service credentials with a move mount and
# fails those units (systemd-sysctl, -sysusers, -tmpfiles-setup(-dev), ...). A container gets no
# credentials from Incus: empty the lists.
sdv=$(systemctl --version 2>/dev/null | awk 'NR == 1 { print $2 + 0 }')
for u in $(grep -l '^LoadCredential\|^SetCredential\|^ImportCredential' \
    /lib/systemd/system/*.service /usr/lib/systemd/system/*.service 2>/dev/null | sort -u); do
    d=/etc/systemd/system/$(basename "$u").d
    mkdir -p "$d"
    {
        printf '# coi: no service credentials in a container\n[Service]\nLoadCredential=\nSetCredential=\n'
        if [ "${sdv:-0}" -ge 254 ]; then printf 'ImportCredential=\n'; fi
    } >"$d/coi-no-credentials.conf"
done

step "the image marker /etc/coi-image"
cat >/etc/coi-image <<EOF
recipe=${COI_RECIPE_HASH:-unknown}
built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
agents=${agents}
node=$(node --version)
EOF

step "cleaning up"
npm cache clean --force >/dev/null 2>&1 || true
apt-get clean
rm -rf "$in" /var/lib/apt/lists/* /root/.npm /root/.cache /home/code/.npm /tmp/* /var/tmp/*
rm -rf /var/log/journal/* /var/lib/systemd/network/* /var/lib/dhcp/*
find /var/log -type f \( -name '*.log' -o -name '*.gz' -o -name '*.[0-9]' \) -delete
# Per-instance identity: each container makes its own machine-id on first boot.
: >/etc/machine-id
rm -f /var/lib/dbus/machine-id

step "done"
du -sh /usr /usr/local/lib/node_modules 2>/dev/null || true
