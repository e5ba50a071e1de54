#!/bin/bash
# SPDX-License-Identifier: MIT
# [container] warm = 1 for an ordinary host user (coitest: uid 1234, in incus-admin, not root;
# issue 24: a warm pool "never shared between users or workspaces"). coitest's session fills a
# pool, the next claims it and answers a few key attacks as the cold one did (.git/hooks written
# as code and as root: refused; the host in restricted mode: refused). Another user (root) in the
# same workspace path, whose containers have the same names, neither claims coitest's warm
# container nor removes it (its filler boots its own beside it; before, it removed coitest's as
# stale, leaving coitest's records of it behind); each user's coi clean removes that user's pool
# and leaves the other's (another coi home: user.coi.home).
. "$(dirname "$0")/lib.sh"
t_require_daemon
incus image info coi-default >/dev/null 2>&1 || t_bail "coi-default missing (run: tests/e2e/setup)"

tmp=$(mktemp -d /tmp/coi-t-warmuser-XXXX)
chmod 755 "$tmp"
t_defer "rm -rf '$tmp'"
ws=$tmp/ws
mkdir -p "$ws" && chown 1234:1234 "$ws"
setpriv --reuid 1234 --regid 1234 --init-groups git -C "$ws" init -q
printf '[container]\nwarm = 1\nimage = "coi-default"\n' >"$tmp/c.toml"
chmod 644 "$tmp/c.toml"
prefix="coi-$(printf '%s' "$ws" | sha256sum | cut -c1-8)-"
for s in 1 2 3 4; do t_defer "incus delete -f $prefix$s 2>/dev/null"; done
home=/tmp/coi-t-home-1234/.coi
export COI_HOME=$tmp/root-coi
# coitest's coi in the workspace, its stderr with debug lines in $tmp/$1.err
as_user() { local tag=$1; shift; (cd "$ws" && t_as_user env COI_CONFIG="$tmp/c.toml" COI_LOG_LEVEL=debug \
    timeout -s KILL 120 "$COI" "$@" 2>"$tmp/$tag.err"); }
as_root() { local tag=$1; shift; (cd "$ws" && COI_CONFIG=$tmp/c.toml COI_LOG_LEVEL=debug \
    exec timeout -s KILL 120 "$COI" "$@" 2>"$tmp/$tag.err"); }
t_defer "(cd '$ws' && t_as_user '$COI' clean >/dev/null 2>&1); '$COI' clean --orphans >/dev/null 2>&1"

t_gw_listener 240

warm_names() { t_warm_names "$prefix"; }
wait_warm() { t_wait_warm "$prefix" "$1" 60; }
probe='id -u
for u in code root; do S=; [ $u = root ] && S="sudo -n"
  $S sh -c "echo x >/workspace/.git/hooks/pre-commit" 2>/dev/null && echo "$u hook: written" || echo "$u hook: refused"
done
curl -s -m 3 -o /dev/null http://'"$gw:$port"'/; r=$?; [ $r = 7 ] || [ $r = 28 ] && echo "host: refused" || echo "host: reached ($r)"'

# ---- coitest: a cold session fills the pool, the next claims it ----
cold=$(as_user cold run -- sh -c "$probe") && rc=0 || rc=$?
t_is "coitest: a cold session runs" "$rc" 0 || t_diag "$(tail -20 "$tmp/cold.err")"
t_fails "it claimed nothing" grep -q "claimed warm" "$tmp/cold.err"
t_ok "a warm container is ready behind it" wait_warm 1
w=$(warm_names | head -1)
t_is "its owner record (in coitest's ~/.coi/run) says warm" "$(cat "$home/run/$w.owner" 2>&1)" warm
hot=$(as_user hot run -- sh -c "$probe") && rc=0 || rc=$?
t_is "coitest: the next session runs" "$rc" 0 || t_diag "$(tail -20 "$tmp/hot.err")"
t_like "it claimed the warm container" "$(cat "$tmp/hot.err")" "'$w': claimed warm"
t_is "every probe answers as in the cold session" "$hot" "$cold"
t_like "code cannot plant a hook" "$hot" "code hook: refused"
t_like "root cannot plant a hook" "$hot" "root hook: refused"
t_like "the host is refused (restricted)" "$hot" "host: refused"
t_fails "no hook reached the host" test -e "$ws/.git/hooks/pre-commit"
t_ok "a new warm container boots behind it" wait_warm 1
w=$(warm_names | head -1)

# ---- root, in the same workspace path: same names, never coitest's container ----
# (a workspace is its owner's: root's session needs it root's for a moment, as if the path were
# made anew by another user; coitest's warm container keeps its mount meanwhile)
chown -R 0:0 "$ws"
out=$(as_root other run -- true) && rc=0 || rc=$?
t_is "root: a session of the same workspace runs" "$rc" 0 || t_diag "$(tail -20 "$tmp/other.err")"
t_fails "it did not claim coitest's warm container" grep -q "claimed warm" "$tmp/other.err"
t_like "it saw it, and left it" "$(cat "$tmp/other.err")" "warm '$w': not this session's"
t_ok "root's filler boots root's own beside it" wait_warm 2
t_like "coitest's is still there, warm" "$(warm_names)" "$w"
r=$(warm_names | grep -vx "$w" | head -1)
t_is "root's is root's (its record in root's ~/.coi/run)" "$(cat "$COI_HOME/run/$r.owner" 2>&1)" warm
t_fails "coitest has no record of root's" test -e "$home/run/$r.owner"
chown -R 1234:1234 "$ws"
out=$(as_user again run -- true) && rc=0 || rc=$?
t_like "coitest's next session claims its own, not root's" "$(cat "$tmp/again.err")" "'$w': claimed warm"
t_ok "and a new one boots behind it" wait_warm 2

# ---- each user's coi clean removes that user's pool and leaves the other's (another coi home) ----
out=$(as_user clean clean; cat "$tmp/clean.err")
t_like "coitest: coi clean removes its warm containers" "$out" "removing $prefix[0-9]+ \(warm"
t_is "... and not root's" "$(grep -c "removing $r " <<<"$out" || true)" 0
t_like "root's is still there, warm" "$(warm_names)" "$r"
t_is "no run file of coitest's is left" "$(ls "$home/run" | grep -c "^$prefix" || true)" 0
out=$(as_root clean-root clean; cat "$tmp/clean-root.err")
t_like "root: coi clean removes root's" "$out" "removing $r \(warm"
t_ok "no container of the workspace is left" t_wait_ws_clear "$ws"
t_is "no run file of root's is left" "$(ls "$COI_HOME/run" | grep -c "^$prefix" || true)" 0
t_is "no placeholder left in the workspace" "$(setpriv --reuid 1234 --regid 1234 --init-groups env HOME=/tmp/coi-t-home-1234 git -C "$ws" status --porcelain --ignored 2>&1)" ""
t_fails "no empty placeholder .git/info/attributes" test -e "$ws/.git/info/attributes"
if [ "$_t_failed" != 0 ]; then
    for f in "$tmp"/*.err; do t_diag "$(basename "$f"): $(grep -v 'debug: incus:' "$f" | tail -20)"; done
    t_diag "coitest warm.log: $(grep -v 'debug: incus:\|^add \|^flush \|^$' "$home/logs/warm.log" 2>/dev/null | tail -20)"
    t_diag "root warm.log: $(grep -v 'debug: incus:\|^add \|^flush \|^$' "$COI_HOME/logs/warm.log" 2>/dev/null | tail -20)"
fi
t_done
