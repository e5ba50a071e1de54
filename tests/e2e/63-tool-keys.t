#!/bin/bash
# SPDX-License-Identifier: MIT
# The [tool] and [shell] keys reach the agent the way that agent takes them. A stand-in agent in
# the workspace (tool.binary) prints its command line and environment, so the test sees what
# Claude Code or Codex would: the model and effort in Claude Code's environment, -m and the effort
# override on Codex's command line; pre_launch commands run first, as code, without taking the
# command's input; the context files, generated or the user's, and the copy in the agent's own
# (auto_context); coi shell without tmux. Each
# with its pair: without the key, none of it.
# Keys whose effect this file shows (src/config/keys.c names it as their proof):
# tool.claude.model, tool.claude.effort_level, tool.codex.model, tool.codex.reasoning_effort,
# tool.pre_launch, tool.context_file, tool.context_json, tool.context_json_file, shell.use_tmux,
# tool.binary (the stand-in replaces each agent's executable, its flags kept), tool.auto_context.
. "$(dirname "$0")/lib.sh"
t_require_daemon

ws=$(mktemp -d /tmp/coi-t-toolkeys-XXXX)
tmp=$(mktemp -d)
t_defer "rm -rf '$ws' '$tmp'"
chmod 755 "$ws" "$tmp"
git -C "$ws" init -q
cat >"$ws/agent" <<'X'
#!/bin/sh
# the stand-in agent: its command line, then the variables the agents read
echo "argv: $*"
echo "ANTHROPIC_MODEL=${ANTHROPIC_MODEL-unset} CLAUDE_CODE_EFFORT_LEVEL=${CLAUDE_CODE_EFFORT_LEVEL-unset}"
X
chmod 755 "$ws/agent"
name=$(t_session_name "$ws" 1)
t_defer "incus delete -f '$name'"
# run CONFIG ARGS...: coi run in the workspace with CONFIG (printf %b) as the user config;
# stdout only (stderr to $tmp/err)
run() {
    printf '%b' "$1" >"$tmp/c.toml"
    shift
    (cd "$ws" && COI_CONFIG=$tmp/c.toml "$COI" run --image "$T_IMAGE" "$@" 2>"$tmp/err")
}
# ---- Claude Code: the model and effort in its environment ----
out=$(run '[tool]\nname = "claude"\nbinary = "/workspace/agent"\n' --prompt hi)
t_like "claude, no keys: neither variable" "$out" "ANTHROPIC_MODEL=unset CLAUDE_CODE_EFFORT_LEVEL=unset"
out=$(run "[tool]\nname = \"claude\"\nbinary = \"/workspace/agent\"\n[tool.claude]\nmodel = \"claude-t-model\"\neffort_level = \"xhigh\"\n" --prompt hi)
t_like "tool.claude.model: ANTHROPIC_MODEL in the agent's environment" "$out" "ANTHROPIC_MODEL=claude-t-model "
t_like "tool.claude.effort_level: CLAUDE_CODE_EFFORT_LEVEL in it" "$out" "CLAUDE_CODE_EFFORT_LEVEL=xhigh"
t_like "  ... with the headless flags as before" "$out" "argv: --dangerously-skip-permissions -p hi"
out=$(run "[tool]\nname = \"codex\"\nbinary = \"/workspace/agent\"\n[tool.claude]\nmodel = \"claude-t-model\"\n" --prompt hi)
t_like "tool.claude.model does not reach another agent" "$out" "ANTHROPIC_MODEL=unset"

# ---- Codex: the model and effort on its command line ----
out=$(run "[tool]\nname = \"codex\"\nbinary = \"/workspace/agent\"\n" --prompt hi)
t_is "codex, no keys: its usual command line" "$(grep '^argv' <<<"$out")" \
    "argv: exec --dangerously-bypass-approvals-and-sandbox hi"
out=$(run "[tool]\nname = \"codex\"\nbinary = \"/workspace/agent\"\n[tool.codex]\nmodel = \"gpt-t\"\nreasoning_effort = \"high\"\n" --prompt hi)
t_is "tool.codex.model and reasoning_effort: -m and the config override" "$(grep '^argv' <<<"$out")" \
    "argv: exec --dangerously-bypass-approvals-and-sandbox -m gpt-t -c model_reasoning_effort=\"high\" hi"

# ---- pre_launch ----
out=$(printf 'input line\n' | run '[tool]\npre_launch = ["id -u > /tmp/pre-uid; pwd > /tmp/pre-pwd; echo pre-out", "exit 3", "echo second >> /tmp/pre-order"]\n' -- sh -c 'cat; cat /tmp/pre-uid /tmp/pre-pwd /tmp/pre-order')
t_is "pre_launch: the commands ran first, as code, in the workspace; the command's input and output are its own" \
    "$out" "$(printf 'input line\n1000\n/workspace\nsecond')"
t_like "  ... their output on stderr" "$(cat "$tmp/err")" "pre-out"
t_like "  ... a failure is reported and the session goes on" "$(cat "$tmp/err")" "pre_launch: 'exit 3' failed \(exit 3\); going on"
out=$(run '' -- sh -c 'cat /tmp/pre-uid 2>/dev/null || echo none')
t_is "  ... without the key, nothing ran" "$out" none

# ---- the context files ----
out=$(run '' -- sh -c 'test -e ~/SANDBOX_CONTEXT.json && echo json || echo no-json; head -n1 ~/SANDBOX_CONTEXT.md')
t_is "no context keys: the generated context, no JSON" "$out" "$(printf 'no-json\n# Sandbox context')"
run '[tool]\ncontext_json = true\n[security]\nsecret_paths = ["agent"]\n' -- cat /home/code/SANDBOX_CONTEXT.json >"$tmp/ctx.json"
t_is "tool.context_json: ~/SANDBOX_CONTEXT.json, schema 1" "$(jq -r .schema_version "$tmp/ctx.json")" 1
t_like "  ... naming the container" "$(jq -r .container_name "$tmp/ctx.json")" "^${name%-1}-[0-9]+$"
t_is "  ... the network mode" "$(jq -r .network.mode "$tmp/ctx.json")" restricted
t_is "  ... what is hidden" "$(jq -c .hidden_paths "$tmp/ctx.json")" '["agent"]'
t_is "  ... the limits" "$(jq -r .limits.processes "$tmp/ctx.json")" 4096
t_is "  ... and empty lists as []" "$(jq -c .extra_mounts "$tmp/ctx.json")" '[]'
out=$(run '[tool]\nname = "dummy"\n' -- sh -c 'grep -c "coi:begin" ~/.dummy/CONTEXT.md 2>/dev/null || echo none')
t_is "tool.auto_context (on by default): the sandbox context in the agent's own context file" "$out" 1
out=$(run '[tool]\nname = "dummy"\nauto_context = false\n' -- sh -c 'cat ~/.dummy/CONTEXT.md 2>/dev/null || echo none')
t_is "tool.auto_context = false: the agent's own context file is left alone" "$out" none
printf '# Our own context\nrules here\n' >"$tmp/ctx.md"
printf '{"ours": [1, 2]}\n' >"$tmp/own.json"
out=$(run "[tool]\ncontext_file = \"$tmp/ctx.md\"\ncontext_json_file = \"$tmp/own.json\"\n" -- cat /home/code/SANDBOX_CONTEXT.md /home/code/SANDBOX_CONTEXT.json)
t_is "tool.context_file and context_json_file: the user's files, as written" "$out" \
    "$(printf '# Our own context\nrules here\n{"ours": [1, 2]}')"
printf '{"ours": [1, 2\n' >"$tmp/bad.json"
run "[tool]\ncontext_json_file = \"$tmp/bad.json\"\n" -- true >/dev/null && rc=0 || rc=$?
t_like "a context_json_file that is not JSON fails the start, naming its place" \
    "$(cat "$tmp/err"; echo "rc=$rc")" "context_json_file: $tmp/bad.json:2:.*not JSON.*rc=[1-9]"
t_ok "  ... and leaves no container" t_wait_ws_clear "$ws"

# ---- coi shell without tmux ----
T="tmux -L coi-t-toolkeys-$$"
t_defer "$T kill-server"
cat >"$ws/ask" <<'X'
#!/bin/sh
echo "agent up, TMUX=${TMUX:-none}"
read line
echo "agent got: $line"
X
chmod 755 "$ws/ask"
t_unlike() { if [[ "$2" =~ $3 ]]; then _t_result 1 "$1"; t_diag "got: '$2'"; else _t_result 0 "$1"; fi; }
screen() { $T capture-pane -p -t t1 2>/dev/null; }
wait_screen() { for _ in $(seq 150); do [[ "$(screen)" =~ $1 ]] && return 0; sleep 0.2; done; return 1; }
term() {
    $T kill-session -t t1 2>/dev/null
    $T new-session -d -s t1 -x 120 -y 30 "cd '$ws' && $*; echo COI-EXIT=\$?; sleep 60"
}
printf '[tool]\nname = "custom"\nbinary = "/workspace/ask"\n' >"$tmp/tmux.toml"
term "INCUS_DIR=$INCUS_DIR COI_CONFIG=$tmp/tmux.toml $COI shell --image $T_IMAGE"
t_ok "use_tmux = true (the default): coi shell starts tmux, which this image lacks" \
    wait_screen "COI-EXIT=1"
t_like "  ... and says so" "$(screen)" "has no tmux: install it, or set \[shell\] use_tmux = false"
t_unlike "  ... and the agent never ran" "$(screen)" "agent up"
t_ok "  ... and leaves no container" t_wait_ws_clear "$ws"
printf '[tool]\nname = "custom"\nbinary = "/workspace/ask"\n[shell]\nuse_tmux = false\n' >"$tmp/direct.toml"
term "INCUS_DIR=$INCUS_DIR COI_CONFIG=$tmp/direct.toml $COI shell --image $T_IMAGE"
t_ok "shell.use_tmux = false: the agent runs on the terminal directly, outside tmux" \
    wait_screen "agent up, TMUX=none"
$T send-keys -t t1 "typed here" Enter
t_ok "  ... reads what is typed" wait_screen "agent got: typed here"
t_ok "  ... and when it ends, the session ends" wait_screen "COI-EXIT=0"
t_unlike "  ... without detaching" "$(screen)" "detached"
t_ok "  ... and the container goes" t_wait_ws_clear "$ws"
t_done
