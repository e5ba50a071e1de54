#!/bin/bash
# SPDX-License-Identifier: MIT
# [container] warm = 1: the filler writes what of the code user's home follows from the config and
# the workspace (the directories, ~/SANDBOX_CONTEXT.md and .json, ~/.gitconfig, the tool's context
# file) before it marks its container, and the claimer writes only its own (the environment file,
# copied credentials): a claimed container's home is the cold one's, path for path (type, mode,
# owner) and byte for byte (the container's own name and slot aside). An input of those files
# that is not in the create request (a [git] key, the host's ~/.gitconfig the identity is seeded
# from) is in the warm mark: changed, the stale container is not claimed (the session is cold and
# writes the new text) and the pool refills with one of the new text. A resumed session, whose saved
# state would land on the tool's context file the filler wrote, claims none.
. "$(dirname "$0")/lib.sh"
t_require_daemon
incus image info coi-default >/dev/null 2>&1 || t_bail "coi-default missing (run: tests/e2e/setup)"

t_workspace warmhome
mkdir -p "$tmp/h"
# the host identity the container's ~/.gitconfig is seeded from ([git] seed_host_identity)
export HOME=$tmp/h
git config -f "$HOME/.gitconfig" user.email "first@example.test"
printf 'per-session secret\n' >"$tmp/cred"
cfg() {
    printf '[container]\nwarm = 1\n[tool]\ncontext_json = true\n[git]\nname = "%s"\n' "$1" >"$tmp/c.toml"
    printf '[defaults.environment]\nCOI_T_VAR = "a value"\n' >>"$tmp/c.toml"
    printf '[[credentials]]\nhost = "%s"\ncontainer = "/home/code/.config/coi-t/cred"\n' "$tmp/cred" >>"$tmp/c.toml"
}
export COI_CONFIG=$tmp/c.toml
cfg "First Name"

# The home as the container's root sees it: every path under /home (type, mode, owner), then every
# file's text; the container's own name and slot (in the context files) said alike.
snap='cd /home && sudo -n find . -xdev -printf "%p %y %m %U %G\n" | LC_ALL=C sort
sudo -n find . -xdev -type f | LC_ALL=C sort | while read -r f; do echo "== $f"; sudo -n cat "$f"; echo; done |
  sed -e "s/$(hostname)/NAME/g" -e "s/(slot [0-9]*)/(slot N)/"'

# ---- a cold session, then a claimed one of the same config: the same home ----
cold=$(COI_LOG_LEVEL=debug "$COI" run --image coi-default -- sh -c "$snap" 2>"$tmp/cold.err")
t_is "a cold session runs" "$?" 0 || t_diag "$(tail -30 "$tmp/cold.err")"
t_fails "it claimed nothing (the pool was empty)" grep -q "claimed warm" "$tmp/cold.err"
t_like "its home has the credential, the environment, the identity and the context" "$cold" \
    "== ./code/.config/coi-t/cred.per-session secret.*COI_T_VAR='a value'.*name = \"First Name\".*email = \"first@example.test\".*== ./code/SANDBOX_CONTEXT.json"
t_ok "it wrote ~/SANDBOX_CONTEXT.md itself (a request the debug log shows)" \
    grep -q "SANDBOX_CONTEXT.md" "$tmp/cold.err"
t_ok "a warm container is ready behind it" t_wait_warm "$prefix" 1 90
warm=$(t_warm_names "$prefix" | head -1)
t_ok "the filler wrote ~/SANDBOX_CONTEXT.md before the mark" \
    incus exec "$warm" -- test -s /home/code/SANDBOX_CONTEXT.md
t_fails "but not the environment file (the claimer's: its values are the session's)" \
    incus exec "$warm" -- test -e /home/code/.config/coi/env
hot=$(COI_LOG_LEVEL=debug "$COI" run --image coi-default -- sh -c "$snap" 2>"$tmp/hot.err")
t_is "the warm session runs" "$?" 0 || t_diag "$(tail -30 "$tmp/hot.err")"
t_like "it claimed the warm container" "$(cat "$tmp/hot.err")" "'$warm': claimed warm"
t_is "its home is the cold one's: paths, types, modes, owners and texts" "$hot" "$cold" ||
    t_diag "$(diff <(echo "$cold") <(echo "$hot") | head -40)"
t_fails "the claimer wrote no SANDBOX_CONTEXT.md of its own (the filler's is in the mark)" \
    grep -q "SANDBOX_CONTEXT.md" "$tmp/hot.err"

# ---- a resumed session restores the tool's state (~/.claude) first, as a cold start does ----
t_ok "warm again" t_wait_warm "$prefix" 1 90
"$COI" run --image coi-default -- sh -c 'echo turn >~/.claude/t-state' >/dev/null 2>&1 # a state to save
t_ok "warm again" t_wait_warm "$prefix" 1 90
out=$(COI_LOG_LEVEL=debug "$COI" run --image coi-default --resume -- cat /home/code/.claude/t-state 2>&1)
t_like "a resumed session passes over the warm container (its filler wrote the tool's context)" \
    "$out" "not for a resumed session"
t_fails "and claims none" grep -q "claimed warm" <<<"$out"
t_like "its saved state is restored" "$out" "turn"

# ---- an input of a filler's file changed: the stale one is not claimed, the pool refills ----
# changed WHAT WANT COMMAND...: COMMAND changes an input of ~/.gitconfig; the next session claims no
# warm container and its ~/.gitconfig has WANT; the stale one goes, and the session after claims
# the new one, with WANT
changed() {
    local what=$1 want=$2 stale out
    shift 2
    t_ok "warm again" t_wait_warm "$prefix" 1 90
    stale=$(t_warm_marks "$prefix" | head -1)
    "$@"
    out=$(COI_LOG_LEVEL=debug "$COI" run --image coi-default -- cat /home/code/.gitconfig 2>"$tmp/$what.err")
    t_fails "a changed $what claims no warm container" grep -q "claimed warm" "$tmp/$what.err"
    t_like "its ~/.gitconfig has the new $what" "$out" "$want"
    t_ok "the stale one goes, a warm container of the new $what boots behind it" \
        t_warm_renewed "$prefix" "$stale" 90
    out=$(COI_LOG_LEVEL=debug "$COI" run --image coi-default -- cat /home/code/.gitconfig 2>"$tmp/$what-2.err")
    t_like "the next session claims it, with the new $what" \
        "$(grep -o "claimed warm" "$tmp/$what-2.err")/$out" "claimed warm/.*$want"
}
changed "git name" 'name = "Second Name"' cfg "Second Name"
changed "host email" 'email = "second@example.test"' \
    git config -f "$HOME/.gitconfig" user.email "second@example.test"

t_ok "warm again (its filler done)" t_wait_warm "$prefix" 1 90
"$COI" clean >/dev/null 2>&1
t_ok "coi clean removed the pool" t_wait_ws_clear "$ws"
if [ "$_t_failed" != 0 ]; then
    for f in "$tmp"/*.err; do t_diag "$(basename "$f"): $(grep -v 'debug: incus:' "$f" | tail -25)"; done
    t_diag "warm.log: $(grep -v 'debug: incus:\|^add \|^flush \|^$' "$COI_HOME/logs/warm.log" | tail -30)"
fi
t_done
