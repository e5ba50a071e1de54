#!/bin/bash
# SPDX-License-Identifier: MIT
# coi image (list, info, exists, import, publish, delete) and coi snapshot (create, list, restore,
# delete) against the real daemon, checked with the incus CLI as observer.
. "$(dirname "$0")/lib.sh"
t_require_daemon

t_ok "image exists: the tiny image" "$COI" image exists "$T_IMAGE"
t_fails "image exists: no such alias" "$COI" image exists coi-t-incus-no-such
t_is "image list --json" "$("$COI" image list --json | jq -r --arg a "$T_IMAGE" '.[] | select(.aliases | index($a)) | .fingerprint')" \
    "$(incus image list "$T_IMAGE" -f csv -c F)"
t_like "image list (table)" "$("$COI" image list --prefix coi-t-tiny)" "coi-t-tiny +[0-9a-f]{12}"
t_is "image info --json" "$("$COI" image info "$T_IMAGE" --json | jq -r .architecture)" "x86_64"

# import: the tiny image's files with other metadata (so another fingerprint)
tmp=$(mktemp -d)
t_defer "rm -rf $tmp"
src=$(ls -d /var/cache/coi/tiny-* | head -1)
mkdir -p "$tmp/meta" && tar -C "$tmp/meta" -xzf "$src/meta.tar.gz"
sed -i "s/^creation_date: .*/creation_date: $(date +%s%N | cut -c1-12)/" "$tmp/meta/metadata.yaml"
tar -C "$tmp/meta" -czf "$tmp/meta.tar.gz" .
alias=coi-t-incus-imp-$$
t_defer "incus image delete $alias"
fp=$("$COI" image import "$tmp/meta.tar.gz" "$src/rootfs.squashfs" --alias "$alias")
t_like "import prints the fingerprint" "$fp" '^[0-9a-f]{64}$'
t_is "incus sees the alias on it" "$(incus image list "$alias" -f csv -c F)" "$fp"
c=$(t_name incus-img)
t_defer "incus delete -f $c"
t_ok "launch from the imported image" "$COI" container launch "$alias" "$c"
t_is "it runs" "$("$COI" container exec "$c" -- echo up)" "up"

# snapshots
t_ok "snapshot create s1" "$COI" snapshot create s1 -c "$c"
name=$(COI_CONTAINER=$c "$COI" snapshot create)
t_like "snapshot create without a name" "$name" '^snap-[0-9]{8}-[0-9]{6}$'
t_is "snapshot list --json" "$("$COI" snapshot list -c "$c" --json | jq -r '.[].name' | tr '\n' ' ')" "s1 $name "
t_is "incus agrees" "$(incus snapshot list "$c" -f csv -c n | sort | tr '\n' ' ')" "s1 $name "
"$COI" container exec "$c" -- touch /root/after-s1
t_fails "restore a running container without -f" "$COI" snapshot restore s1 -c "$c"
t_ok "restore -f" "$COI" snapshot restore s1 -c "$c" -f
t_ok "start again" "$COI" container start "$c"
t_fails "the file made after s1 is gone" "$COI" container exec "$c" -- test -e /root/after-s1
t_ok "snapshot delete s1" "$COI" snapshot delete s1 -c "$c"
t_fails "snapshot delete: no such snapshot" "$COI" snapshot delete s1 -c "$c"
t_ok "snapshot delete --all" "$COI" snapshot delete --all -c "$c"
t_is "none left" "$(incus snapshot list "$c" -f csv -c n)" ""
rc=0; out=$(cd / && env -u COI_CONTAINER "$COI" snapshot list 2>&1) || rc=$?
t_is "no container named, no session in this directory: fails" "$rc" 1
t_like "and says so" "$out" "no session on /: name one"

# publish (stopped), then the published image launches
pub=coi-t-incus-pub-$$
t_defer "incus image delete $pub"
t_ok "stop" "$COI" container stop "$c" --force
fp2=$("$COI" image publish "$c" "$pub" --description "coi test publish")
t_like "publish prints the fingerprint" "$fp2" '^[0-9a-f]{64}$'
t_is "incus sees the published alias" "$(incus image list "$pub" -f csv -c F)" "$fp2"
t_is "with its description" "$("$COI" image info "$pub" --json | jq -r .description)" "coi test publish"
t_ok "image delete (alias)" "$COI" image delete "$pub"
t_is "incus: gone" "$(incus image list "$pub" -f csv -c F)" ""
t_fails "image delete: no such image" "$COI" image delete "$pub"
t_ok "delete the container" "$COI" container delete "$c"
t_ok "image delete (imported)" "$COI" image delete "$alias"
t_is "incus: imported image gone" "$(incus image list "$alias" -f csv -c F)" ""

t_done
