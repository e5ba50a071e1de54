#!/bin/bash
# SPDX-License-Identifier: MIT
# coi file push/pull against the real daemon: single files with uid/gid/mode, directories,
# binary content and spaces; pull drops symlinks and special files and never writes outside the
# target, even through a symlink planted in the container.
. "$(dirname "$0")/lib.sh"
t_require_daemon

c=$(t_name incus-file)
t_defer "incus delete -f $c"
t_ok "launch" t_launch "$c"
tmp=$(mktemp -d)
t_defer "rm -rf $tmp"

printf 'hello\n' >"$tmp/a.txt"
t_ok "push a file" "$COI" file push "$tmp/a.txt" "$c:/root/a.txt"
t_is "it arrived" "$(incus exec "$c" -- cat /root/a.txt)" "hello"
t_ok "push with --uid/--gid/--mode" "$COI" file push --uid 1000 --gid 1000 --mode 0600 "$tmp/a.txt" "$c:/home/code/a.txt"
t_is "owner and mode" "$(incus exec "$c" -- stat -c '%u:%g %a' /home/code/a.txt)" "1000:1000 600"
chmod 0750 "$tmp/a.txt"
t_ok "push keeps the local mode" "$COI" file push "$tmp/a.txt" "$c:/root/b.txt"
t_is "mode 750" "$(incus exec "$c" -- stat -c '%a' /root/b.txt)" "750"

head -c 300000 /dev/urandom >"$tmp/bin"
t_ok "push binary" "$COI" file push "$tmp/bin" "$c:/root/bin"
t_ok "pull binary" "$COI" file pull "$c:/root/bin" "$tmp/bin.back"
t_ok "binary round trip is exact" cmp "$tmp/bin" "$tmp/bin.back"

mkdir -p "$tmp/tree/sub dir" && echo one >"$tmp/tree/one" && echo two >"$tmp/tree/sub dir/two"
ln -s one "$tmp/tree/link"
t_ok "push -r a tree" "$COI" file push -r "$tmp/tree" "$c:/root/tree"
t_is "nested file with a space" "$(incus exec "$c" -- cat '/root/tree/sub dir/two')" "two"
t_is "a symlink is pushed as a symlink" "$(incus exec "$c" -- readlink /root/tree/link)" "one"
t_fails "push a directory without -r" "$COI" file push "$tmp/tree" "$c:/root/tree2"

# the container plants symlinks pointing out of the target, and a fifo
incus exec "$c" -- sh -c 'ln -s /etc/passwd /root/tree/evil; ln -s / /root/tree/root; mkfifo /root/tree/fifo; cp /bin/busybox /root/tree/suid; chmod 4755 /root/tree/suid'
mkdir -p "$tmp/out"
out=$("$COI" file pull -r "$c:/root/tree" "$tmp/out" 2>&1) && rc=0 || rc=$?
t_is "pull -r succeeds" "$rc" 0
t_like "and says what it dropped" "$out" "dropped 4 symlink"
t_is "regular files arrive" "$(cat "$tmp/out/tree/sub dir/two")" "two"
t_fails "no symlink was created" test -L "$tmp/out/tree/evil"
t_fails "nor the link to /" test -e "$tmp/out/tree/root"
t_fails "nor the fifo" test -e "$tmp/out/tree/fifo"
t_is "setuid is stripped" "$(stat -c '%a' "$tmp/out/tree/suid")" "755"
t_is "nothing else was written" "$(find "$tmp/out" | sort | tr '\n' ' ')" "$tmp/out $tmp/out/tree $tmp/out/tree/one $tmp/out/tree/sub dir $tmp/out/tree/sub dir/two $tmp/out/tree/suid "

# a local symlink at the destination is not followed
ln -s /etc/coi-t-must-not-exist "$tmp/dest"
t_ok "pull onto a local symlink" "$COI" file pull "$c:/root/a.txt" "$tmp/dest"
t_fails "the symlink's target was not written" test -e /etc/coi-t-must-not-exist
t_is "the symlink was replaced by the file" "$(test -L "$tmp/dest" && echo link || cat "$tmp/dest")" "hello"

t_fails "pull a missing file" "$COI" file pull "$c:/root/nope" "$tmp/nope"
t_fails "pull a directory without -r" "$COI" file pull "$c:/root/tree" "$tmp/x"
t_fails "a relative container path is refused" "$COI" file push "$tmp/a.txt" "$c:root/a"
rc=0; "$COI" file push "$tmp/a.txt" 2>/dev/null || rc=$?
t_is "missing destination: usage error" "$rc" 2

t_done
