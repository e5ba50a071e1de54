#!/bin/bash
# SPDX-License-Identifier: MIT
# base-debootstrap.sh OUTDIR: the coi base image, made on the host without any image server.
#
# Runs as root on the host (coi embeds this file and runs it when no image server is reachable).
# Produces OUTDIR/meta.tar.gz and OUTDIR/rootfs.squashfs, an Incus split image: a Debian (or
# Ubuntu, on an Ubuntu host) system with systemd, DHCP on eth0, the host's apt mirror, the host's
# extra CA certificates, and the user 'code' (uid 1000, passwordless sudo). Everything heavier
# (Node.js, the agents) is added later by build.sh inside a build container.
#
# Environment:
#   COI_BASE_SUITE   the suite to bootstrap (default: the host's VERSION_CODENAME, else bookworm)
#   COI_APT_MIRROR   the mirror URL (default: read from the host's own apt configuration)
#   COI_BASE_HASH    recorded as the image property coi.base (coi's cache key)
#
# Facts behind each step: ../shared/HOST.md section 5 (udev for DHCP, CA trust for npm, zstd -3).
set -euo pipefail

out=${1:?usage: base-debootstrap.sh OUTDIR}
say() { printf 'base: %s\n' "$*" >&2; }
die() {
    say "error: $*"
    exit 1
}
[ "$(id -u)" = 0 ] || die "debootstrap needs root"
command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
command -v mksquashfs >/dev/null || die "mksquashfs is not installed (apt-get install squashfs-tools)"

# shellcheck source=/dev/null
. /etc/os-release
distro=${ID:-debian}
suite=${COI_BASE_SUITE:-${VERSION_CODENAME:-bookworm}}

# The mirrors the host's apt already uses: deb822 files first, then one-line sources.list entries.
apt_uris() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -e "$f" ] && awk 'tolower($1)=="uris:"{for(i=2;i<=NF;i++)print $i}' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -e "$f" ] && awk '$1=="deb"{for(i=2;i<=NF;i++)if($i!~/^\[/){print $i;break}}' "$f"
    done
    return 0
}
mirror=${COI_APT_MIRROR:-$(apt_uris | grep -v -e security -e backports | head -n1)}
secmirror=$(apt_uris | grep -e '-security' | head -n1)
[ -n "$mirror" ] || die "cannot find the package mirror in the host's apt configuration"
[ -n "$secmirror" ] || secmirror=$mirror

case "$distro" in
ubuntu)
    components="main universe"
    keyring=/usr/share/keyrings/ubuntu-archive-keyring.gpg
    ;;
*)
    components=main
    keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    ;;
esac

rootfs=$out/rootfs
# An interrupted debootstrap can leave /proc or /sys mounted in the target: never rm across them.
if [ -d "$out" ]; then
    grep -o " $(realpath "$out")/[^ ]*" /proc/self/mounts | sort -r | while read -r m; do
        umount -l "$m" || true
    done
    rm -rf --one-file-system "$out"
fi
mkdir -p "$out/meta/templates"

say "debootstrap $distro $suite (minbase + systemd) from the host's mirror"
# udev: without it systemd-networkd leaves eth0 'pending' forever in an unprivileged container.
include=systemd-sysv,udev,systemd-resolved,dbus,iproute2,iputils-ping,ca-certificates,sudo,tmux,git
include=$include,curl,procps,openssh-client,netbase,less,gnupg,xz-utils
if ! debootstrap --variant=minbase --components="${components// /,}" --include="$include" \
    "$suite" "$rootfs" "$mirror" >"$out/debootstrap.log" 2>&1; then
    tail -n 30 "$out/debootstrap.log" >&2
    die "debootstrap failed (log: $out/debootstrap.log)"
fi

say "configuring the root filesystem"
in_root() { chroot "$rootfs" "$@" >/dev/null 2>&1; }

# DHCPv4 on eth0 with systemd-networkd; DNS through systemd-resolved's stub (the bridge's dnsmasq).
printf '[Match]\nName=eth0\n\n[Network]\nDHCP=ipv4\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n' \
    >"$rootfs/etc/systemd/network/10-eth0.network"
in_root systemctl enable systemd-networkd systemd-resolved
in_root systemctl mask systemd-networkd-wait-online.service

# apt inside uses the host's mirror, with -updates and -security.
rm -f "$rootfs/etc/apt/sources.list"
if [ "$distro" = ubuntu ]; then
    updates="$suite-updates $suite-security"
    cat >"$rootfs/etc/apt/sources.list.d/$distro.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $suite $updates
Components: $components
Signed-By: $keyring
EOF
else
    cat >"$rootfs/etc/apt/sources.list.d/$distro.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: $components
Signed-By: $keyring

Types: deb
URIs: $secmirror
Suites: $suite-security
Components: $components
Signed-By: $keyring
EOF
fi

# Trust the host's extra CAs (a TLS-intercepting proxy; without them npm fails).
if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
    cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
    in_root update-ca-certificates
fi

# The agent user, uid/gid 1000, passwordless sudo.
in_root useradd -m -u 1000 -U -s /bin/bash code
echo 'code ALL=(ALL) NOPASSWD:ALL' >"$rootfs/etc/sudoers.d/90-code"
chmod 0440 "$rootfs/etc/sudoers.d/90-code"

# Per-instance identity: systemd makes a machine-id on each instance's first boot.
: >"$rootfs/etc/machine-id"
rm -f "$rootfs/var/lib/dbus/machine-id"
echo localhost >"$rootfs/etc/hostname"

# Slim: no docs, man pages or locales, now and for later apt installs.
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/01-slim" <<'EOF'
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
EOF
find "$rootfs/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete
find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/*
find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
in_root apt-get clean
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log "$rootfs"/var/cache/debconf/*-old

# Incus metadata: /etc/hostname and /etc/hosts follow the instance name.
cat >"$out/meta/metadata.yaml" <<EOF
architecture: $(uname -m)
creation_date: $(date +%s)
properties:
  description: $distro $suite minbase + systemd (coi base)
  os: $distro
  release: $suite
  coi.base: "${COI_BASE_HASH:-unknown}"
templates:
  /etc/hostname: {when: [create, copy], template: hostname.tpl}
  /etc/hosts: {when: [create, copy], template: hosts.tpl}
EOF
echo '{{ container.name }}' >"$out/meta/templates/hostname.tpl"
printf '127.0.0.1 localhost\n127.0.1.1 {{ container.name }}\n::1 localhost ip6-localhost ip6-loopback\n' \
    >"$out/meta/templates/hosts.tpl"

say "packing (squashfs, zstd level 3)"
tar -C "$out/meta" -czf "$out/meta.tar.gz" metadata.yaml templates
# zstd without a level means 15: 20x slower here for 15% less.
mksquashfs "$rootfs" "$out/rootfs.squashfs" -noappend -comp zstd -Xcompression-level 3 \
    -quiet -no-progress 2>&1 | grep -v 'Unrecognised xattr prefix' >&2 || true
[ -s "$out/rootfs.squashfs" ] || die "mksquashfs produced nothing"
rm -rf "$rootfs" "$out/meta"
say "done: $(du -h "$out/rootfs.squashfs" | cut -f1) in $out"
