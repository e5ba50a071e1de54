#!/bin/bash
# SPDX-License-Identifier: MIT
# docs/getting-started.md, walked: every command of its sh blocks is run here (or named below as
# walked elsewhere, or as needing the internet), its TOML blocks are used as written, and the
# output it shows is what coi prints. A command the guide gains and this test does not know fails
# it, so the guide cannot drift from the tool. Against the test daemon, with the real image and its
# fake agent standing in for one that would need an account. (Installing the package on a fresh
# Debian machine is 60-deb.t's walk.)
. "$(dirname "$0")/lib.sh"
t_require_daemon
incus image info coi-default >/dev/null 2>&1 || t_bail "coi-default missing (run: tests/e2e/setup)"
guide=$T_ROOT/docs/getting-started.md

tmp=$(mktemp -d /tmp/coi-t-guide-XXXX)
export COI_HOME=$tmp/home/.coi COI_CONFIG=$tmp/home/.coi/config.toml
mkdir -p "$COI_HOME" && : >"$COI_CONFIG"
t_defer "rm -rf '$tmp'"
proj=$tmp/src/myproject
mkdir -p "$proj" && git -C "$proj" init -q
printf 'test:\n\t@echo all tests pass\n' >"$proj/Makefile"
name=$(t_session_name "$proj" 1)
t_defer "incus delete -f $name"

# The guide's blocks: sh commands one per line (comments and blank lines dropped), and the
# TOML block that follows a given line.
commands=$(awk '/^ *```sh$/{f=1; next} /^ *```/{f=0} f' "$guide" | sed 's/ *#.*//; s/^ *//; /^$/d')
toml_after() { awk -v k="$1" 'index($0, k){s=1} s && /^ *```toml$/{f=1; next} f && /^ *```/{exit} f' "$guide" | sed 's/^  //'; }
t_like "the guide has commands to walk" "$(wc -l <<<"$commands")" "^[1-9][0-9]+$"

# ---- section 1: install from source, into a staging root (the package: 60-deb.t) ----
stage=$tmp/stage
t_ok "make install (PREFIX=/usr) puts what the guide lists" \
    make -s -C "$T_ROOT" install DESTDIR="$stage" PREFIX=/usr
for f in usr/bin/coi usr/share/man/man1/coi.1 usr/share/doc/coi/config.toml.example \
    usr/share/doc/coi/getting-started.md usr/share/bash-completion/completions/coi; do
    t_ok "installs /$f" test -e "$stage/$f"
done

# ---- section 2: the message when the daemon is not there ----
shown=$(awk '/^\$ coi list$/{f=1; next} f && /^```/{exit} f' "$guide")
got=$(INCUS_SOCKET=/var/lib/incus/unix.socket.coi-t-none "$COI" list 2>&1 | sed 's/\.coi-t-none//')
t_is "coi list without a daemon says what the guide shows" "$got" "$shown"

# ---- section 4: a first command, its report, prompts ----
cd "$proj" || t_bail "no project"
out=$("$COI" run -- make test 2>"$tmp/err") && rc=0 || rc=$?
t_is "coi run -- make test: the command's output" "$out" "all tests pass"
t_is "and its status" "$rc" 0
report=$(awk '/^coi: session coi-/{f=1} f; f && /^Protected paths/{exit}' "$guide")
t_like "the startup report has the guide's shape" "$(head -2 "$tmp/err")" \
    "^coi: session coi-[0-9a-f]{8}-1 \\(slot 1\\)"$'\n'"Protected paths \\(mounted read-only\\): \\.git/hooks, \\.git/config"
t_like "(and the guide shows that shape)" "$report" "^coi: session coi-[0-9a-f]{8}-1 \\(slot 1\\)"$'\n'"Protected paths"
t_wait_ws_clear "$proj"
printf '#!/bin/sh\necho coi-run ran\n' >coi-run && chmod +x coi-run
t_is "without a command: ./coi-run" "$("$COI" run 2>/dev/null)" "coi-run ran"
rm -f coi-run
t_wait_ws_clear "$proj"
{ toml_after "[prompts]"; printf '[tool]\nname = "dummy"\n'; } >"$COI_CONFIG"
mkdir -p "$COI_HOME/prompts" && echo "the triage prompt" >"$COI_HOME/prompts/triage.md"
t_like "the guide's [prompts] block, as written: --prompt-name review" \
    "$("$COI" run --prompt-name review 2>/dev/null)" "dummy: Review the last commit"
t_wait_ws_clear "$proj"
t_like "and triage, a file beside the config" "$("$COI" run --prompt-name triage 2>/dev/null)" "dummy: the triage prompt"
t_wait_ws_clear "$proj"
t_like "coi run --prompt" "$("$COI" run --prompt "fix the failing test" 2>/dev/null)" "dummy: fix the failing test"

# ---- section 5: the agent's login ----
t_wait_ws_clear "$proj"
{ toml_after "forward_env"; printf '[tool]\nname = "dummy"\n'; } >"$COI_CONFIG"
inside=$(ANTHROPIC_API_KEY=coi-t-key "$COI" run -- sh -c 'echo $ANTHROPIC_API_KEY' 2>/dev/null)
t_like "forward_env as the guide writes it: the agent's environment has the key's placeholder" \
    "$inside" "^sk-ant-api03-coi[0-9a-f]+$"
t_fails "and never the key" grep -q coi-t-key <<<"$inside"
printf '[tool]\nname = "dummy"\n' >"$COI_CONFIG"

# ---- every command of the sh blocks ----
t_wait_ws_clear "$proj"
t_like "a saved agent session, for coi info" "$(echo hello | "$COI" run -- dummy 2>/dev/null)" "dummy: bye"
t_wait_ws_clear "$proj"
"$COI" run -- sleep 120 >/dev/null 2>&1 &
pid=$!
t_defer "kill $pid 2>/dev/null"
t_ok "a session to look at" t_wait_running "$name"
t_ok "its command runs" t_wait_cmd "$name" "sleep 120"
while IFS= read -r cmd; do
    case "$cmd" in
    "make deb" | "sudo apt-get install ./build/coi_"*)
        _t_result 0 "$cmd # SKIP 60-deb.t builds the package and installs it on a fresh machine" ;;
    "make && sudo make install")
        _t_result 0 "$cmd # SKIP walked above (make install into a staging root)" ;;
    "sudo usermod -aG incus-admin NAME")
        t_ok "$cmd: the group exists to join" getent group incus-admin ;;
    "sudo scripts/setup-host"*)
        # tests/e2e/setup runs it before every run, with the test's user coitest (uid, gid 1234)
        t_ok "$cmd: the user's uid and gid are mapped" \
            sh -c 'grep -qx root:1234:1 /etc/subuid && grep -qx root:1234:1 /etc/subgid' ;;
    "cd ~/src/myproject" | "coi run -- make test")
        _t_result 0 "$cmd # SKIP walked above" ;;
    "coi shutdown NAME")
        t_ok "$cmd" "$COI" shutdown --timeout 0 "$name"
        wait "$pid" 2>/dev/null ;;
    "coi selftest")
        out=$(timeout 300 "$COI" selftest 2>&1) && rc=0 || rc=$?
        t_is "$cmd: exit 0 (every guarantee held)" "$rc" 0 ;;
    "coi health")
        "$COI" health >/dev/null 2>&1 && rc=0 || rc=$?
        t_like "$cmd: exit 0, 1 or 2 as the guide says" "$rc" "^[012]$" ;;
    "man coi")
        t_like "$cmd" "$(MANPAGER=cat MANWIDTH=80 man "$COI_BUILD/coi.1" 2>/dev/null)" "coi - run AI coding agents" ;;
    "source <(coi completion bash)")
        t_like "$cmd" "$(PATH=$COI_BUILD:$PATH bash -c 'source <(coi completion bash); complete -p coi')" "complete -F _coi coi" ;;
    "source <(coi completion zsh)")
        if command -v zsh >/dev/null; then
            t_ok "$cmd" env PATH="$COI_BUILD:$PATH" zsh -fc "autoload -Uz compinit && compinit -u -d $tmp/zc && source <(coi completion zsh)"
        else _t_result 0 "$cmd # SKIP zsh is not installed"; fi ;;
    "coi completion fish | source")
        if command -v fish >/dev/null; then
            t_ok "$cmd" env PATH="$COI_BUILD:$PATH" fish -c "coi completion fish | source"
        else _t_result 0 "$cmd # SKIP fish is not installed"; fi ;;
    "sudo coi build")
        _t_result 0 "$cmd # SKIP needs an image server or the internet (the suite's setup builds it)" ;;
    coi\ *)
        # the rest must run as written: no usage error, and success
        out=$(eval "\"\$COI\" ${cmd#coi }" 2>&1) && rc=0 || rc=$?
        t_is "$cmd" "$rc" 0
        [ "$rc" = 0 ] || t_diag "$out" ;;
    *)
        _t_result 1 "the guide has a command this test does not walk: $cmd" ;;
    esac
done <<<"$commands"
t_done
