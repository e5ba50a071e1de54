#!/bin/bash
# SPDX-License-Identifier: MIT
# [container] warm = 1 (container.warm; issue 24, ARCHITECTURE.md decision 13): after a session a detached filler
# boots a container of this workspace (the real image) and marks it warm: its network dropped,
# nobody's session, not an orphan, shown as Warm; the next session claims it (the debug log says
# so) and is attacked from inside, as code and as root, exactly as a cold session of the same
# config is: the same answers to every probe (identity map, seccomp, capabilities, the protected
# paths, the limits, the network policy). A changed config matches no warm container (the new
# limit is in effect, the stale one goes); a filler killed halfway and a claimed session cut short
# leave nothing that coi clean --orphans does not remove; coi clean removes the pool.
. "$(dirname "$0")/lib.sh"
t_require_daemon
incus image info coi-default >/dev/null 2>&1 || t_bail "coi-default missing (run: tests/e2e/setup)"

t_workspace warm
cfg() { printf '[container]\nwarm = 1\n%b' "${1:-}" >"$tmp/c.toml"; }
export COI_CONFIG=$tmp/c.toml
cfg

# a listener on the host itself, which restricted mode refuses (so "refused" is the firewall's)
t_gw_listener 300

warm_names() { t_warm_names "$prefix"; }
wait_warm() { t_wait_warm "$prefix" "$1" 90; }
rules() { nft list ruleset 2>/dev/null | grep -c "coi:$1\"" || true; }

# (each container has its own id range: its base is told apart from the host's ids only)
probe='id -u; awk "{ print \$1, (\$2 >= 65536 ? \"above the host ids\" : \$2), \$3 }" /proc/self/uid_map; grep -E "^(Seccomp|NoNewPrivs|CapEff):" /proc/self/status
sudo -n grep -E "^(Seccomp|CapEff):" /proc/self/status | sed "s/^/root /"
for u in code root; do S=; [ $u = root ] && S="sudo -n"
  $S sh -c "echo x >>/workspace/.git/config" 2>/dev/null && echo "$u config: written" || echo "$u config: refused"
  $S sh -c "echo x >/workspace/.git/hooks/pre-commit" 2>/dev/null && echo "$u hook: written" || echo "$u hook: refused"
  $S sh -c "echo x >/workspace/ok-$u" 2>/dev/null && echo "$u workspace: written" || echo "$u workspace: refused"
done
sudo -n umount /workspace/.git/hooks 2>/dev/null && echo "umount: done" || echo "umount: refused"
echo "hooksPath $(git config --system core.hooksPath) $(test -x /etc/coi/git-hooks/commit-msg && echo set)"
echo "pids.max $(cat /sys/fs/cgroup/pids.max /sys/fs/cgroup/pids/pids.max 2>/dev/null)"
curl -s -m 3 -o /dev/null http://'"$gw:$port"'/; r=$?; [ $r = 7 ] || [ $r = 28 ] && echo "host: refused" || echo "host: reached ($r)"'

# ---- a cold session, and the filler behind it ----
cold=$(COI_LOG_LEVEL=debug "$COI" run --image coi-default -- sh -c "$probe" 2>"$tmp/cold.err")
t_is "a cold session runs" "$?" 0 || t_diag "$(tail -30 "$tmp/cold.err")"
t_fails "it claimed nothing (the pool was empty)" grep -q "claimed warm" "$tmp/cold.err"
# (the filler marks its container and records it warm under the workspace's lock, which a claim
# holds: a claim between the two had its own owner record overwritten with 'warm', and its running
# session taken for an orphan by coi clean --orphans)
lockf=${prefix#coi-}
lockf=$COI_HOME/run/${lockf%-}.lock
booted() { # its container running, and the filler's start done with the lock (it removes the file)
    local i
    for i in $(seq 600); do
        incus list "$prefix" -c s -f csv | grep -q RUNNING && [ ! -e "$lockf" ] && return 0
        sleep 0.05
    done
    return 1
}
t_ok "the filler's container runs, not yet marked" booted
flock "$lockf" sleep 6 &
lk=$!
sleep 4
t_is "while a start holds the workspace's lock, the filler marks nothing" "$(warm_names | wc -l)" 0
wait "$lk"
t_ok "a warm container of this workspace is ready behind it" wait_warm 1
warm=$(warm_names | head -1)
t_like "it is one of this workspace's" "$warm" "^$prefix[0-9]+$"
t_is "it is nobody's session (its owner record says warm)" "$(cat "$COI_HOME/run/$warm.owner")" warm
t_like "coi list shows it as Warm" "$("$COI" list)" "$warm .*Warm"
t_fails "it is not taken for an orphan" sh -c "'$COI' list --status orphaned | grep -q '$warm'"
t_ok "its network is blocked until claimed (rules in place)" test "$(rules "$warm")" -gt 0
t_like "from inside it, the host cannot be reached" \
    "$(incus exec "$warm" -- sh -c "$(grep '^curl' <<<"$probe")" 2>&1)" "host: refused"
t_ok "the workspace is mounted in it" incus exec "$warm" -- test -d /workspace/.git

# ---- the next session claims it, and is the cold one's equal under attack ----
hot=$(COI_LOG_LEVEL=debug "$COI" run --image coi-default -- sh -c "$probe" 2>"$tmp/hot.err")
t_is "the warm session runs" "$?" 0 || t_diag "$(tail -30 "$tmp/hot.err")"
t_like "it claimed the warm container" "$(cat "$tmp/hot.err")" "'$warm': claimed warm"
t_is "every probe answers as in the cold session" "$hot" "$cold"
t_like "code cannot write .git/config" "$hot" "code config: refused"
t_like "root cannot write .git/config" "$hot" "root config: refused"
t_like "code cannot plant a hook" "$hot" "code hook: refused"
t_like "root cannot plant a hook" "$hot" "root hook: refused"
t_like "root cannot unmount the protection" "$hot" "umount: refused"
t_like "the workspace is writable" "$hot" "code workspace: written"
t_like "seccomp filters it" "$hot" "Seccomp:.2"
t_like "root inside is an unprivileged id range of its own" "$hot" "0 above the host ids 65536"
t_like "the host itself is refused (restricted)" "$hot" "host: refused"
t_like "the default process limit holds" "$hot" "pids.max 4096"
t_like "[git] strip_attribution's hook is in place" "$hot" "hooksPath /etc/coi/git-hooks set"
# no request made twice (COI_LOG_LEVEL=debug names each): before the command, the claim's ETag GET
# is the instance's one read, the bridge's the profile's, the stale-recipe check's the image's and
# its alias's (the claim's fingerprint takes the image the alias named then: container.c);
# after it, the init is not looked up at all: its filler read it from Incus (the prescan), and
# the end kills that process once it sees it is still the container's init.
twice() { sed -n 's/^coi: debug: incus: GET //p' | sort | uniq -d; }
before() { sed '/incus: POST .*\/exec?/,$d' "$1"; }
after() { sed '1,/incus: POST .*\/exec?/d' "$1"; }
t_is "a claimed run GETs nothing twice before its command" "$(before "$tmp/hot.err" | twice)" ""
t_is "nor after it (its end)" "$(after "$tmp/hot.err" | twice)" ""
t_is "its end asks Incus for no state (the init is the one its filler read)" \
    "$(after "$tmp/hot.err" | grep -c 'incus: GET .*/state?')" 0
t_fails "the hook was not planted on the host" test -e "$ws/.git/hooks/pre-commit"
t_ok "a new warm container boots behind it" wait_warm 1

# ---- a warm container is no session: coi persist refuses it, and a claim is never persistent ----
warm=$(warm_names | head -1)
out=$("$COI" persist "$warm" 2>&1) && rc=0 || rc=$?
t_is "coi persist refuses a warm container by name (exit 1)" "$rc" 1
t_like "and says why" "$out" "'$warm' is a warm container"
t_is "coi persist --all passes over it" \
    "$("$COI" persist --all >/dev/null 2>&1; incus config get "$warm" user.coi.persistent)" false
# (what a coi persist that read the container just before the filler marked it leaves)
incus config set "$warm" user.coi.persistent true
# the init its filler read is not that process any more (its start time another): the end asks
# Incus, and still kills every process of the container
t_ok "its filler read its init ahead (the prescan)" test -s "$COI_HOME/run/$warm.prescan"
printf '\377\377\377\377\377\377\377\177' |
    dd of="$COI_HOME/run/$warm.prescan" bs=1 seek=80 conv=notrunc status=none
COI_LOG_LEVEL=debug "$COI" run --image coi-default -- true 2>"$tmp/p.err"
t_like "the next session claims it" "$(cat "$tmp/p.err")" "'$warm': claimed warm"
t_is "with its init's start time another, the end asks Incus for it" \
    "$(after "$tmp/p.err" | grep -c 'incus: GET .*/state?')" 1
t_fails "and kills it (no freeze instead)" grep -q "freezing instead" "$tmp/p.err"
t_ok "its session, ephemeral, is deleted at the end, not kept" t_wait_gone "$warm"
t_ok "a new warm container boots behind it" wait_warm 1

# ---- the git directory made again (rm -rf .git && git init; a fresh clone): no claim ----
# (a warm container's read-only mounts hold the old, deleted .git/hooks and .git/config: claimed,
# the new ones at the same paths were open to it, and the host runs the new hooks)
old=$(warm_names | head -1)
rm -rf "$ws/.git" && git -C "$ws" init -q
out=$(COI_LOG_LEVEL=debug "$COI" run --image coi-default -- sh -c "$probe" 2>"$tmp/re.err")
t_fails "a git directory made again claims no warm container" grep -q "claimed warm" "$tmp/re.err"
t_like "code cannot plant a hook in the new one" "$out" "code hook: refused"
t_like "root cannot plant a hook in the new one" "$out" "root hook: refused"
t_like "root cannot write the new .git/config" "$out" "root config: refused"
t_fails "no hook on the host" test -e "$ws/.git/hooks/pre-commit"
gone_old() { local i; for i in $(seq 180); do incus info "$old" >/dev/null 2>&1 || return 0; sleep 0.5; done; return 1; }
t_ok "the stale warm container goes" gone_old
t_ok "a new warm container boots behind it" wait_warm 1

# ---- a session that ends while a warm container lives hands it the placeholders it mounts ----
# (removed, the warm container's read-only mounts on them would go with them, and its claimer's
# agent could write .git/config.worktree, which the host's git reads)
w1=$(warm_names | head -1)
"$COI" run --image coi-default -- sleep 25 >/dev/null 2>&1 &
lp=$!
for i in $(seq 100); do warm_names | grep -qx "$w1" || break; sleep 0.1; done
t_ok "a warm container boots beside the live session (its filler starts after 10 s)" wait_warm 1
w2=$(warm_names | head -1)
wait "$lp"
t_ok "the session's end left the placeholder the warm container mounts" test -e "$ws/.git/config.worktree"
out=$(COI_LOG_LEVEL=debug "$COI" run --image coi-default -- sh -c 'for S in "" "sudo -n"; do
  $S sh -c "echo x >>/workspace/.git/config.worktree" 2>/dev/null && echo written || echo refused; done' 2>"$tmp/wt.err")
# (the debug log apart: a line of it could come between the two answers)
t_like "its claimer, as code and as root, cannot write .git/config.worktree" \
    "$(grep -o "'$w2': claimed warm" "$tmp/wt.err")/$out" "'$w2': claimed warm/refused.refused"
# (the placeholder itself may be gone by now, or made anew: the claimer's end removes it when no
# other session of the workspace lives, and its filler makes one for the next warm container)
t_fails "the host's .git/config.worktree holds nothing (absent or empty)" test -s "$ws/.git/config.worktree"
t_ok "a new warm container boots behind it" wait_warm 1

# ---- a changed config matches none: cold, its limit in effect; the stale one goes ----
stale=$(incus config get "$(warm_names | head -1)" user.coi.warm)
cfg '[limits.runtime]\nmax_processes = 777\n'
out=$(COI_LOG_LEVEL=debug "$COI" run --image coi-default -- sh -c "$probe" 2>"$tmp/new.err")
t_fails "a changed config claims no warm container" grep -q "claimed warm" "$tmp/new.err"
t_like "the new limit is in effect" "$out" "pids.max 777"
t_ok "the stale one goes, a warm container of the new config boots behind it" \
    t_warm_renewed "$prefix" "$stale" 90
out=$(COI_LOG_LEVEL=debug "$COI" run --image coi-default -- sh -c "$probe" 2>"$tmp/new2.err")
t_like "the next session claims the new one, with the new limit" \
    "$(grep -o "claimed warm" "$tmp/new2.err")/$(echo "$out" | grep pids.max)" "claimed warm/pids.max 777"

# ---- a start that fails after its claim: the container it claimed goes, with its rules ----
t_ok "warm again" wait_warm 1
claimed=$(warm_names | head -1)
cp "$tmp/c.toml" "$tmp/ok.toml"
# (a per-session input, in no mark: a [[sockets]] entry, which the context lists, matches none)
printf '[[credentials]]\nhost = "%s/missing.cred"\ncontainer = "/home/code/x"\n' "$tmp" >>"$tmp/c.toml"
out=$(COI_LOG_LEVEL=debug "$COI" run --image coi-default -- true 2>&1) && rc=0 || rc=$?
t_is "a start that fails after the claim: coi fails (exit 1)" "$rc" 1
t_like "it had claimed the warm container, then failed" "$out" "'$claimed': claimed warm.*cannot read '$tmp/missing.cred'"
t_ok "the claimed container is gone" t_wait_gone "$claimed"
t_is "and its rules" "$(rules "$claimed")" 0
t_fails "and its network file" test -e "$COI_HOME/run/$claimed.network"
cp "$tmp/ok.toml" "$tmp/c.toml"
"$COI" run --image coi-default -- true >/dev/null 2>&1 # the pool comes back

# ---- a claimed session cut short, a filler killed halfway: coi clean --orphans leaves nothing ----
t_ok "warm again" wait_warm 1
claimed=$(warm_names | head -1)
"$COI" run --image coi-default -- sleep 60 >/dev/null 2>&1 &
cpid=$!
filler() { ps -eo pid=,sid=,args= | awk -v p="$cpid" '$1 == $2 && $1 != p && /coi run --image coi-default -- sleep 60/ { print $1; exit }'; }
for i in $(seq 300); do f=$(filler); [ -n "$f" ] && break; sleep 0.05; done
t_ok "the claimed session started a filler" test -n "$f"
sleep 2
kill -INT "$cpid"
wait "$cpid" 2>/dev/null
# the filler starts once the session has ended: killed halfway, its container made but not marked
unmarked() { comm -23 <(incus list "$prefix" -c n -f csv | grep -vx "$claimed" | sort) <(warm_names | sort); }
halfway() { local i; for i in $(seq 300); do [ -n "$(unmarked)" ] && return 0; sleep 0.05; done; return 1; }
t_ok "the filler makes the next container" halfway
kill -9 "$f"
t_ok "the session cut short removed the container it claimed" t_wait_gone "$claimed"
"$COI" clean --orphans >/dev/null 2>&1
t_is "coi clean --orphans removed what the killed filler left: only warm ones remain" \
    "$(incus list "$prefix" -c n -f csv | sort)" "$(warm_names | sort)"
"$COI" clean >/dev/null 2>&1
t_ok "coi clean removed the pool: no container of the workspace" t_wait_ws_clear "$ws"
t_is "no rules of it" "$(nft list ruleset 2>/dev/null | grep -c "coi:$prefix" || true)" 0
t_is "no run file of it" "$(ls "$COI_HOME/run" | grep -c "^$prefix" || true)" 0
t_is "no placeholder left in the workspace" "$(git -C "$ws" status --porcelain --ignored | grep -v ok- || true)" ""
t_fails "no empty placeholder .git/info/attributes" test -e "$ws/.git/info/attributes"
if [ "$_t_failed" != 0 ]; then
    for f in "$tmp"/*.err; do t_diag "$(basename "$f"): $(grep -v 'debug: incus:' "$f" | tail -25)"; done
    t_diag "warm.log: $(grep -v 'debug: incus:\|^add \|^flush \|^$' "$COI_HOME/logs/warm.log" | tail -30)"
fi
t_done
