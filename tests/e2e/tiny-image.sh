#!/bin/bash
# SPDX-License-Identifier: MIT
# tiny-image.sh OUTDIR: a busybox system container image for tests that need a container but not
# the real coi image (client, harness). Seconds to build, ~1 MB. Busybox init brings up eth0 with
# udhcpc. It ignores SIGPWR, so stop it with force.
set -euo pipefail
out=${1:?usage: tiny-image.sh OUTDIR}
bb=/bin/busybox
[ -x "$bb" ] && "$bb" --list >/dev/null 2>&1 && file -L "$bb" 2>/dev/null | grep -q static ||
    bb=$(dpkg -L busybox-static | grep '/bin/busybox$')
rm -rf "$out"
mkdir -p "$out/rootfs"/{bin,sbin,etc/init.d,proc,sys,dev,tmp,root,run,var/run,usr/share/udhcpc} "$out/meta/templates"
r=$out/rootfs
cp "$bb" "$r/bin/busybox"
for a in $("$r/bin/busybox" --list); do
    [ "$a" = busybox ] || ln -sf /bin/busybox "$r/bin/$a"
done
ln -sf /bin/busybox "$r/sbin/init"
cat >"$r/etc/inittab" <<'X'
::sysinit:/etc/init.d/rcS
::restart:/sbin/init
::shutdown:/bin/umount -a -r
X
cat >"$r/etc/init.d/rcS" <<'X'
#!/bin/sh
mount -t tmpfs tmpfs /tmp 2>/dev/null
ip link set lo up
[ -e /sys/class/net/eth0 ] && udhcpc -i eth0 -b -q -t 20 -T 1 -s /usr/share/udhcpc/default.script >/dev/null 2>&1 &
X
cat >"$r/usr/share/udhcpc/default.script" <<'X'
#!/bin/sh
case "$1" in
bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    [ -n "$router" ] && ip route add default via "${router%% *}" dev "$interface"
    : > /etc/resolv.conf
    for d in $dns; do echo "nameserver $d" >> /etc/resolv.conf; done ;;
esac
X
chmod 0755 "$r/etc/init.d/rcS" "$r/usr/share/udhcpc/default.script"
printf 'root:x:0:0:root:/root:/bin/sh\ncode:x:1000:1000:code:/home/code:/bin/sh\n' >"$r/etc/passwd"
printf 'root:x:0:\ncode:x:1000:\n' >"$r/etc/group"
mkdir -p "$r/home/code" && chown 1000:1000 "$r/home/code"
echo tiny >"$r/etc/hostname"
cat >"$out/meta/metadata.yaml" <<X
architecture: x86_64
creation_date: $(date +%s)
properties:
  description: coi test image (busybox)
  os: busybox
  release: tiny
templates:
  /etc/hostname: {when: [create, copy], template: hostname.tpl}
X
echo '{{ container.name }}' >"$out/meta/templates/hostname.tpl"
tar -C "$out/meta" -czf "$out/meta.tar.gz" metadata.yaml templates
mksquashfs "$r" "$out/rootfs.squashfs" -noappend -comp zstd -Xcompression-level 3 -quiet -no-progress >/dev/null
