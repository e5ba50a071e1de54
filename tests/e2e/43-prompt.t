#!/bin/bash
# SPDX-License-Identifier: MIT
# Headless agent runs: coi run --prompt / --prompt-file / --prompt-name hands one prompt to the
# configured agent (the image's fake agent, dummy) and passes its answer and exit status through.
# The prompt reaches the agent as one argument, untouched by any shell; bad requests are refused
# before anything is created. Named prompts ([prompts]) come from the user's file, in both forms;
# a project file's only once it is approved ('coi trust'), and then only from inside the project.
# Keys whose effect this file shows (src/config/keys.c names it as their proof): prompts,
# tool.permission_mode.
. "$(dirname "$0")/lib.sh"
t_require_daemon
incus image info coi-default >/dev/null 2>&1 || t_bail "coi-default missing (run: tests/e2e/setup)"

ws=$(mktemp -d /tmp/coi-t-prompt-XXXX)
tmp=$(mktemp -d)
export COI_HOME=$tmp/home # saved sessions of this test only
t_defer "rm -rf '$ws' '$tmp'"
printf '[tool]\nname = "dummy"\n[prompts]\nreview = "a named prompt"\nfromfile = { file = "named.txt" }\n' >"$tmp/dummy.toml"
printf 'a named prompt, from its file\n' >"$tmp/named.txt"
printf '[tool]\nname = "dummy"\npermission_mode = "interactive"\n' >"$tmp/ask.toml"
export COI_CONFIG=$tmp/dummy.toml
git -C "$ws" init -q
cd "$ws"
prefix="coi-$(printf '%s' "$ws" | sha256sum | cut -c1-8)-"
t_defer "incus list '$prefix' -c n -f csv | xargs -r incus delete -f"

out=$("$COI" run --prompt "hello there" 2>"$tmp/err") && rc=0 || rc=$?
t_is "--prompt: the agent answers" "$out" "dummy: hello there"
t_is "and coi exits with its status" "$rc" 0

tricky='a "quoted" $(id) `id`; echo injected & | > /tmp/x'
t_wait_ws_clear "$ws"
out=$("$COI" run --prompt "$tricky" 2>/dev/null)
t_is "the prompt reaches the agent as one argument, no shell in between" "$out" "dummy: $tricky"

printf 'from a file\n\n' >"$tmp/prompt.txt"
t_wait_ws_clear "$ws"
out=$("$COI" run --prompt-file "$tmp/prompt.txt" 2>/dev/null)
t_is "--prompt-file: read on the host, final newlines dropped" "$out" "dummy: from a file"

# Refusals: each before anything is made.
t_wait_ws_clear "$ws"
out=$(COI_CONFIG=$tmp/ask.toml "$COI" run --prompt x 2>&1) && rc=0 || rc=$?
t_is "permission_mode = interactive: refused (exit 1)" "$rc" 1
t_like "saying it needs bypass" "$out" 'needs tool.permission_mode = "bypass"'
t_is "and no container was made" "$(incus list "$prefix" -c n -f csv)" ""
out=$("$COI" run --prompt x -- ls 2>&1) && rc=0 || rc=$?
t_is "a prompt and a command: usage error (exit 2)" "$rc" 2
out=$("$COI" run --prompt x --prompt-file "$tmp/prompt.txt" 2>&1) && rc=0 || rc=$?
t_is "two prompts: usage error (exit 2)" "$rc" 2
out=$("$COI" shell --prompt x 2>&1) && rc=0 || rc=$?
t_is "coi shell --prompt: usage error (exit 2)" "$rc" 2
out=$("$COI" run --prompt-file "$tmp/nonexistent" 2>&1) && rc=0 || rc=$?
t_is "a missing prompt file: exit 1" "$rc" 1
t_like "naming it" "$out" "$tmp/nonexistent"
printf 'a\0b' >"$tmp/nul.txt"
out=$("$COI" run --prompt-file "$tmp/nul.txt" 2>&1) && rc=0 || rc=$?
t_like "a prompt file with a NUL byte: refused" "$rc:$out" "^1:.*NUL byte"
out=$("$COI" run --prompt "" 2>&1) && rc=0 || rc=$?
t_like "an empty prompt: refused" "$rc:$out" "^1:.*empty"
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' a >"$tmp/big.txt"
out=$("$COI" run --prompt-file "$tmp/big.txt" 2>&1) && rc=0 || rc=$?
t_is "a prompt file over 1 MiB: refused (exit 1)" "$rc" 1
t_is "none of the refusals made a container" "$(incus list "$prefix" -c n -f csv)" ""

# Named prompts: the user's, both forms (a file relative to the config file that names it).
t_wait_ws_clear "$ws"
out=$("$COI" run --prompt-name review 2>/dev/null) && rc=0 || rc=$?
t_is "--prompt-name: a string prompt reaches the agent" "$rc:$out" "0:dummy: a named prompt"
t_wait_ws_clear "$ws"
out=$("$COI" run --prompt-name fromfile 2>/dev/null)
t_is "--prompt-name: a file prompt, read on the host" "$out" "dummy: a named prompt, from its file"

t_wait_ws_clear "$ws"
out=$("$COI" run --prompt-name revew 2>&1) && rc=0 || rc=$?
t_like "an unknown name: exit 1, the nearest name and the list" "$rc:$out" \
    "^1:.*no prompt named 'revew' \(did you mean 'review'\?\); the prompts: fromfile, review"
out=$("$COI" run --prompt-name review --prompt x 2>&1) && rc=0 || rc=$?
t_is "--prompt-name with --prompt: usage error (exit 2)" "$rc" 2
out=$("$COI" run --prompt-name review -- ls 2>&1) && rc=0 || rc=$?
t_is "--prompt-name and a command: usage error (exit 2)" "$rc" 2

# A project's prompts: refused until the file is approved.
mkdir -p "$ws/.coi"
printf '[prompts]\nproject = "the project prompt"\nescape = { file = "%s" }\nlink = { file = "link.md" }\n' \
    "$tmp/named.txt" >"$ws/.coi/config.toml"
ln -s "$tmp/named.txt" "$ws/.coi/link.md"
out=$("$COI" run --prompt-name project 2>&1) && rc=0 || rc=$?
t_is "an unapproved project file's prompt: refused (exit 1)" "$rc" 1
t_like "with the warning that names 'coi trust'" "$out" "ignoring 'prompts'.*coi trust"
t_like "and the name unknown" "$out" "no prompt named 'project'"
t_is "no container was made" "$(incus list "$prefix" -c n -f csv)" ""

"$COI" trust >/dev/null 2>&1
out=$("$COI" run --prompt-name project 2>/dev/null) && rc=0 || rc=$?
t_is "approved (coi trust): the project's prompt reaches the agent" "$rc:$out" \
    "0:dummy: the project prompt"
t_wait_ws_clear "$ws"
out=$("$COI" run --prompt-name escape 2>&1) && rc=0 || rc=$?
t_like "an approved project prompt's file outside the project: refused" "$rc:$out" \
    "^1:.*prompt 'escape'.*leads outside the project"
out=$("$COI" run --prompt-name link 2>&1) && rc=0 || rc=$?
t_like "and one that a symlink inside leads out: refused" "$rc:$out" \
    "^1:.*prompt 'link'.*leads outside the project \('$tmp/named.txt'\)"
t_is "before anything was made" "$(incus list "$prefix" -c n -f csv)" ""

t_done
