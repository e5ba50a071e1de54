#!/bin/bash
# SPDX-License-Identifier: MIT
# [container] warm and coi build (issue 24: warm containers "go away ... on image rebuilds"). A warm
# container's mark covers the image its alias named, so after a rebuild none can be claimed; they
# used to keep running, holding memory, until their workspace's next filler. Now the build removes
# the warm containers of the rebuilt alias made from the old image, every user's (the daemon is
# shared: here root's and coitest's), never a claimed one (a session in it runs on), and a build
# that fails removes nothing. What the removal leaves in the other user's ~/.coi/run (its owner
# record says warm) is stale: coitest's coi clean --orphans removes it and its placeholders.
# The image is a custom one on the tiny test image, rebuilt with a one-line script.
. "$(dirname "$0")/lib.sh"
t_require_daemon

tmp=$(mktemp -d /tmp/coi-t-rebuild-XXXX)
chmod 755 "$tmp"
t_defer "rm -rf '$tmp'"
export COI_HOME=$tmp/coi
img=$(t_name warmimg)
fingerprint() { incus image info "$1" 2>/dev/null | awk '/^Fingerprint:/{print $2}'; }
# The image and its base: the tiny one, with what coi build's recipe runner needs (bash, a
# systemctl that says booted, /var/lib) and an init that stops on SIGPWR (busybox's ignores it:
# each stop would wait out its timeout). coi-default would take ~50 s a build (2.6 GB published).
base=$(t_name warmbase)
c=$(t_name mkbase)
t_defer "incus delete -f $c 2>/dev/null; incus image delete $base 2>/dev/null"
incus launch "$T_IMAGE" "$c" -c boot.autostart=false >/dev/null &&
    incus exec "$c" -- sh -c 'mkdir -p /var/lib && rm /sbin/init &&
    printf "#!/bin/sh\nexec /bin/sh \"\$@\"\n" >/bin/bash && printf "#!/bin/sh\nexit 0\n" >/bin/systemctl &&
    printf "#!/bin/sh\ntrap \"kill -TERM -1; exit 0\" PWR\n/etc/init.d/rcS\nwhile :; do sleep 1000 & wait \$!; done\n" >/sbin/init &&
    chmod 755 /bin/bash /bin/systemctl /sbin/init' &&
    incus stop -f "$c" && incus publish "$c" --alias "$base" >/dev/null && incus delete -f "$c" ||
    t_bail "cannot make the base image"
old=$(fingerprint "$base")
incus image alias create "$img" "$old" >/dev/null || t_bail "cannot alias $base as $img"
# what the builds made (their version aliases), then the alias
t_defer "incus image list -f json | jq -r '.[] | select(any(.aliases[]; .name | startswith(\"$img-\"))) | .fingerprint' | xargs -r -n1 incus image delete"
t_defer "incus image alias delete '$img' 2>/dev/null"
t_defer "grep -o 'coi-build-[0-9a-f-]*' '$tmp'/build*.out 2>/dev/null | sort -u | xargs -r -n1 incus delete -f 2>/dev/null"

# a workspace of root's (ws1) and one of coitest's (ws2), each with a pool of one
mkws() {
    mkdir -p "$1" && git -C "$1" init -q
    printf '[container]\nwarm = 1\nimage = "%s"\n[git]\nstrip_attribution = false\n' "$img" >"$1.toml"
    chmod 644 "$1.toml"
}
ws1=$tmp/ws1 ws2=$tmp/ws2
mkws "$ws1"
mkws "$ws2"
chown -R 1234:1234 "$ws2"
p1="coi-$(printf '%s' "$ws1" | sha256sum | cut -c1-8)-" p2="coi-$(printf '%s' "$ws2" | sha256sum | cut -c1-8)-"
for s in 1 2 3 4; do t_defer "incus delete -f $p1$s $p2$s 2>/dev/null"; done
as1() { (cd "$ws1" && COI_CONFIG=$ws1.toml exec "$COI" "$@"); }
as2() { (cd "$ws2" && t_as_user env COI_CONFIG="$ws2.toml" "$COI" "$@"); }
home2=/tmp/coi-t-home-1234/.coi
t_defer "(cd '$ws2' && t_as_user env COI_CONFIG='$ws2.toml' '$COI' clean --orphans >/dev/null 2>&1)"

warm_names() { t_warm_names "$1" base; }
wait_warm() { # PREFIX NAME-NOT: until a warm container other than NAME-NOT (bounded, ~60 s)
    local i
    for i in $(seq 120); do
        warm_names "$1" | grep -v "^$2 " | grep -q . && return 0
        sleep 0.5
    done
    return 1
}

# ---- the pools: each session's filler boots a warm container of the image behind it ----
t_ok "root: a session of the custom image runs" as1 run -- true
t_ok "coitest: a session of it runs" as2 run -- true
t_ok "root's warm container is ready" wait_warm "$p1" none
t_ok "coitest's warm container is ready" wait_warm "$p2" none
w1=$(warm_names "$p1" | awk '{print $1}')
v1=$(warm_names "$p2" | awk '{print $1}')
t_is "coitest's owner record says warm" "$(cat "$home2/run/$v1.owner" 2>&1)" warm
t_ok "its placeholder is in coitest's workspace" test -e "$ws2/.git/config.worktree"

# ---- a session claims root's warm container and runs through the rebuild ----
(cd "$ws1" && COI_CONFIG=$ws1.toml COI_LOG_LEVEL=debug exec "$COI" run -- sh -c \
    'for i in $(seq 600); do [ -e /workspace/go ] && break; sleep 0.2; done; echo survived') \
    >"$tmp/claimed.out" 2>"$tmp/claimed.err" &
claimer=$!
t_defer "kill $claimer 2>/dev/null"
for i in $(seq 100); do grep -q "claimed warm" "$tmp/claimed.err" && break; sleep 0.1; done
t_like "a session claimed it" "$(cat "$tmp/claimed.err")" "'$w1': claimed warm"
t_ok "its filler boots another behind it (after 10 s)" wait_warm "$p1" "$w1"
w2=$(warm_names "$p1" | awk -v c="$w1" '$1 != c {print $1}')

# ---- a build that fails removes nothing ----
printf '#!/bin/bash\necho failing on purpose\nexit 3\n' >"$tmp/fail.sh"
printf '#!/bin/bash\nset -e\necho rebuilt >/etc/coi-t-rebuilt\n' >"$tmp/ok.sh"
"$COI" build --force --script "$tmp/fail.sh" --alias "$img" --base "$base" >"$tmp/build-fail.out" 2>&1 && rc=0 || rc=$?
t_is "a failing rebuild fails" "$rc" 1
t_is "the alias still names the old image" "$(fingerprint "$img")" "$old"
t_is "both warm containers are still there, of the old image" \
    "$(warm_names "$p1" | grep -v "^$w1 "; warm_names "$p2")" "$w2 $old
$v1 $old"

# ---- the rebuild removes the old image's warm containers, root's and coitest's ----
t0=$(date +%s)
"$COI" build --force --script "$tmp/ok.sh" --alias "$img" --base "$base" --compression none >"$tmp/build.out" 2>&1 && rc=0 || rc=$?
t_diag "the rebuild took $(($(date +%s) - t0)) s"
t_is "the rebuild succeeds" "$rc" 0 || t_diag "$(tail -20 "$tmp/build.out")"
new=$(fingerprint "$img")
t_fails "the alias names a new image" test "$new" = "$old"
t_like "it says which warm containers it removed" "$(cat "$tmp/build.out")" \
    "removed 2 warm containers of the old image \(\[container\] warm\): ($w2 $v1|$v1 $w2)"
t_is "no warm container of the old image is left" "$(warm_names coi- | grep -c " $old\$")" 0
t_ok "root's is gone" t_wait_gone "$w2"
t_ok "coitest's is gone" t_wait_gone "$v1"
t_is "root's host state of it went with it" "$(ls "$COI_HOME/run" | grep -c "^$w2\." || true)" 0
t_is "the claimed container runs on" "$(incus list "$w1" -c s -f csv)" RUNNING
touch "$ws1/go"
wait "$claimer" && rc=0 || rc=$?
t_is "its session ends well" "$rc/$(cat "$tmp/claimed.out")" "0/survived"

# ---- coitest's records of it are stale: its own coi clean --orphans removes them ----
t_is "coitest's owner record is left (root cannot remove it)" "$(cat "$home2/run/$v1.owner" 2>&1)" warm
listed() { as2 list | grep -q "$v1"; }
t_fails "coitest's coi list does not show it" listed
out=$(as2 clean --orphans 2>&1)
t_like "coitest's coi clean --orphans removes what it left" "$out" "removing $v1 \(container gone, host state left\)"
t_is "no run file of it is left" "$(ls "$home2/run" | grep -c "^$v1\." || true)" 0
t_fails "nor its placeholder in coitest's workspace" test -e "$ws2/.git/config.worktree"

# ---- the next session starts cold, from the new image; the pool comes back with it ----
out=$(cd "$ws1" && COI_CONFIG=$ws1.toml COI_LOG_LEVEL=debug "$COI" run -- cat /etc/coi-t-rebuilt 2>&1)
t_like "the next session has the new image" "$out" "rebuilt"
renewed() { # until a warm container of the new image (bounded, ~60 s)
    local i
    for i in $(seq 120); do warm_names "$p1" | grep -q " $new\$" && return 0; sleep 0.5; done
    return 1
}
t_ok "root's pool is topped up again, from the new image" renewed
w3=$(warm_names "$p1" | awk '{print $1}')
out=$(cd "$ws1" && COI_CONFIG=$ws1.toml COI_LOG_LEVEL=debug "$COI" run -- cat /etc/coi-t-rebuilt 2>&1)
t_like "the session after claims it" "$out" "'$w3': claimed warm.*rebuilt"
t_ok "and its filler tops the pool up" renewed
as1 clean >/dev/null 2>&1
t_ok "coi clean removes root's pool" t_wait_ws_clear "$ws1"
if [ "$_t_failed" != 0 ]; then
    t_diag "build: $(tail -15 "$tmp/build.out")" "claimed: $(grep -v 'debug: incus:' "$tmp/claimed.err" | tail -15)"
    t_diag "warm.log: $(grep -v 'debug: incus:\|^add \|^flush \|^$' "$COI_HOME/logs/warm.log" 2>/dev/null | tail -20)"
fi
t_done
