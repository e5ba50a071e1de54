#!/bin/bash
# SPDX-License-Identifier: MIT
# The container's address is decided before it starts (issue 24), in every mode: free on the
# bridge (an address another instance holds is skipped), pinned on its NIC, set by LXC before the
# guest's init (raw.lxc, coi's own two lines) and told to the real image's networkd (a read-only
# file), so at the command's first instruction the address is there as a static one (not a DHCP
# lease), with its default route and a resolver (the bridge, until systemd-resolved knows it:
# the command does not wait for resolved), and the rules keyed on it are in place; nothing of it
# (the rules, the file, the reservation) outlives the session, even after kill -9 and coi clean;
# and when coi returns, no process of the container is left, though its guest still boots.
. "$(dirname "$0")/lib.sh"
t_require_daemon
incus image info coi-default >/dev/null 2>&1 || t_bail "coi-default missing (run: tests/e2e/setup)"

t_workspace pin
name=${prefix}1
br=$(incus profile device get default eth0 network)
gw=$(incus network get "$br" ipv4.address)
net=${gw%.*}.
file=$COI_HOME/run/$name.network
leases() { incus network list-leases "$br" -f csv | grep -c "^$1," || true; }
rules() { nft list ruleset 2>/dev/null | grep -c "coi:$1\"" || true; }
first='ip -4 -o addr show dev eth0; ip -4 route show default; cat /etc/systemd/network/05-coi-eth0.network
g=0; for i in $(seq 150); do grep -q "^eth0.00000000" /proc/net/route || g=$((g + 1)); sleep 0.01; done
echo "gaps=$g"
for i in $(seq 100); do [ -L /etc/resolv.conf ] && break; sleep 0.1; done; echo "later: $(readlink /etc/resolv.conf)"'

# ---- every mode, the real image: the address static from the first instruction ----
for mode in restricted allowlist open; do
    printf '[network]\nmode = "%s"\nallowed_domains = ["coit-pin.test"]\n' "$mode" >"$tmp/$mode.toml"
    out=$(COI_CONFIG="$tmp/$mode.toml" "$COI" run --image coi-default -- sh -c "$first" 2>&1)
    addr=$(printf '%s\n' "$out" | sed -n 's/.* inet \([0-9.]*\)\/.*/\1/p' | head -1)
    t_like "$mode: the guest has an address on the bridge at the first instruction" "$addr" "^${net//./\\.}[0-9]+$"
    t_like "$mode: a static one (set before init), not a DHCP lease" \
        "$(printf '%s\n' "$out" | grep ' inet ')" "valid_lft forever"
    # networkd, starting while the command runs, keeps a static route; LXC's ("boot") it
    # replaced, gone for a moment
    t_like "$mode: the default route is there, a static one" "$out" \
        "default via ${gw%/*} dev eth0 proto static"
    t_like "$mode: it never went away while networkd started (1.5 s watched)" "$out" "gaps=0"
    t_like "$mode: networkd is told the same address" "$out" "Address=$addr/"
    t_like "$mode: resolved's stub is the resolver again once it knows the bridge" "$out" \
        "later: \.\./run/systemd/resolve/stub-resolv\.conf$"
    t_ok "$mode: the container is gone" t_wait_ws_clear "$ws"
    t_fails "$mode: its networkd file is gone from the host" test -e "$file"
    t_is "$mode: no rule of it left" "$(rules "$name")" 0
done
t_is "no reservation of it left" "$(leases "$name")" 0

# ---- the same slot again: the same address (decided by the name) ----
again=$("$COI" run --image coi-default -- sh -c 'ip -4 -o addr show dev eth0' 2>&1 |
    sed -n 's/.* inet \([0-9.]*\)\/.*/\1/p')
t_is "the same slot gets the same address" "$again" "$addr"
t_ok "the container is gone" t_wait_ws_clear "$ws"

# ---- what the command puts in /tmp at its first instruction stays: the image's systemd cleans
# /tmp at boot (systemd-tmpfiles-setup, "D /tmp"), 0.1 s after such a command started, and took
# tmux's socket with it (coi shell lost its agent) ----
out=$("$COI" run --image coi-default -- sh -c 'mkdir /tmp/coi-t && touch /tmp/coi-t/f; sleep 1.5; ls /tmp/coi-t' 2>/dev/null)
t_like "a file put in /tmp at the first instruction is still there 1.5 s later" "$out" "^f$"
t_ok "the container is gone" t_wait_ws_clear "$ws"
# ... also when the wait starts before systemd has made /run/systemd/system (its first 0.2-0.3 s:
# systemd is told by PID 1's binary, not by that directory). A busybox image dressed as systemd
# (its init the binary /lib/systemd/systemd, a systemctl that answers as a booting one does)
# makes that moment 4 s long, then cleans /tmp as systemd-tmpfiles-setup does (before: the wait
# took it for an init without systemd and passed at once; the command's file went at 4 s)
fake=$tmp/fakesd r=$tmp/fakesd/rootfs
"$T_ROOT/tests/e2e/tiny-image.sh" "$fake" >/dev/null || t_bail "cannot build the fake-systemd image"
mkdir -p "$r/lib/systemd" && cp "$r/bin/busybox" "$r/lib/systemd/systemd" &&
    ln -sf /lib/systemd/systemd "$r/sbin/init" || t_bail "fake-systemd image"
cat >"$r/bin/systemctl" <<'X'
#!/bin/sh
[ -e /run/coi-t-tmpfiles ] && s='active\nConditionTimestampMonotonic=1' || s='inactive\nConditionTimestampMonotonic=0'
printf "LoadState=loaded\nActiveState=$s\n"
X
echo '(sleep 4; mkdir -p /run/systemd/system; rm -rf /tmp/*; touch /run/coi-t-tmpfiles) &' >>"$r/etc/init.d/rcS"
chmod 0755 "$r/bin/systemctl"
mksquashfs "$r" "$fake/rootfs.squashfs" -noappend -comp zstd -quiet -no-progress >/dev/null || t_bail "mksquashfs"
fakeimg=$(t_name fakesd)
t_defer "incus image delete $fakeimg"
incus image import "$fake/meta.tar.gz" "$fake/rootfs.squashfs" --alias "$fakeimg" >/dev/null ||
    t_bail "cannot import the fake-systemd image"
out=$("$COI" run --image "$fakeimg" -- sh -c 'echo kept >/tmp/coi-t-f; sleep 6; cat /tmp/coi-t-f' 2>"$tmp/fakesd.err")
t_like "a file put in /tmp at the first instruction outlives the boot's clean of /tmp" "$out" "^kept$" ||
    t_diag "$(tail -5 "$tmp/fakesd.err")"
t_ok "the container is gone" t_wait_ws_clear "$ws"

# ---- the end, the guest still booting: when coi returns no process of the container is left
# (its init killed, the kernel ends the rest; a freeze kept them, and took a second on cgroup
# v1), what the command left running writes no more, and the container goes away ----
procs() { find "/sys/fs/cgroup/pids/lxc.payload.$1" -name cgroup.procs -exec cat {} + 2>/dev/null | wc -l; }
tick='while :; do date +%s%N >>/workspace/tick; sleep 0.02; done'
t_ok "a session leaves a writer running" "$COI" run --image coi-default -- \
    sh -c "setsid sh -c '$tick' </dev/null >/dev/null 2>&1 & sleep 0.2"
t_is "no process of the container is left when coi returns" "$(procs "$name")" 0
a=$(wc -c <"$ws/tick")
sleep 0.5
t_is "what it left running writes no more" "$(wc -c <"$ws/tick")" "$a"
t_ok "the container is gone" t_wait_ws_clear "$ws"
t_is "no rule of it left" "$(rules "$name")" 0
rm -f "$ws/tick"

# ---- taken by another instance (stopped, its address pinned): the next free one ----
blk=$(t_name pin)
t_defer "incus delete -f $blk"
t_ok "an instance holds that address" incus init "$T_IMAGE" "$blk" -d "eth0,ipv4.address=$addr"
t_is "the bridge lists it" "$(leases "$blk")" 1
other=$("$COI" run --image coi-default -- sh -c 'ip -4 -o addr show dev eth0' 2>&1 |
    sed -n 's/.* inet \([0-9.]*\)\/.*/\1/p')
t_like "the session got another address" "$other" "^${net//./\\.}[0-9]+$"
t_fails "not the taken one" test "$other" = "$addr"
t_ok "the container is gone" t_wait_ws_clear "$ws"
incus delete -f "$blk" >/dev/null 2>&1

# ---- the wait is not for systemd-resolved (it knows a server ~0.5 s after the route is there):
# with it masked, the command still starts, the bridge as its resolver (it used to wait for
# resolved until ready_timeout and fail) ----
printf '[container]\nready_timeout = 8\n' >"$tmp/rt.toml"
t_ok "a persistent session masks systemd-resolved" env COI_CONFIG="$tmp/rt.toml" \
    "$COI" run --persistent --image coi-default -- sudo systemctl mask -q systemd-resolved
out=$(COI_CONFIG="$tmp/rt.toml" "$COI" run --persistent --image coi-default -- \
    sh -c 'ls -l /etc/resolv.conf; cat /etc/resolv.conf' 2>&1)
t_like "without resolved the command starts, the bridge its resolver" "$out" "-[rwx-]{9} .*resolv.conf
# coi: .*
nameserver ${gw%/*}$"
incus delete -f "$name" >/dev/null 2>&1
t_ok "the persistent container is gone" t_wait_ws_clear "$ws"

# ---- while it runs: the rules keyed on it; after kill -9 and coi clean --orphans: nothing ----
(exec "$COI" run --image coi-default -- sleep 120 >/dev/null 2>"$tmp/bg.err") &
pid=$!
t_defer "kill -9 $pid 2>/dev/null"
t_ok "a session comes up" t_wait_cmd "$name" sleep
pinned=$(incus config device get "$name" eth0 ipv4.address 2>/dev/null)
t_is "its NIC has the address pinned" "$pinned" "$addr"
t_like "its raw.lxc is coi's two lines" "$(incus config get "$name" raw.lxc)" \
    "^lxc\.net\.0\.ipv4\.address = ${addr//./\\.}/[0-9]+
lxc\.net\.0\.ipv4\.gateway = ${gw%/*}$"
t_ok "the rules are keyed on it" sh -c "nft list ruleset | grep -q 'ip saddr $addr .*coi:$name\"'"
t_ok "its networkd file is on the host" test -s "$file"
t_fails "the guest cannot change the file (read-only)" \
    incus exec "$name" -- sh -c 'echo x >>/etc/systemd/network/05-coi-eth0.network'
kill -9 "$pid"
wait "$pid" 2>/dev/null
t_ok "coi clean --orphans" "$COI" clean --orphans
t_ok "the container is gone" t_wait_gone "$name"
t_fails "the networkd file is gone" test -e "$file"
t_is "no rule of it left" "$(rules "$name")" 0
t_is "no reservation of it left" "$(leases "$name")" 0
t_done
