#!/bin/bash
# SPDX-License-Identifier: MIT
# The interactive path, tried for real in a terminal (tmux on the host drives coi shell, which
# runs the agent in tmux in the container): the agent's banner, typing, detach, coi attach, the
# agent exiting ends the session and saves its state, and --resume brings it back. With the
# real image (coi-default) and its fake agent, dummy. Also, with the real image: forwarded
# variables never show on a command line, and SSH agent forwarding lists the host agent's key.
# Keys whose effect this file shows (src/config/keys.c names it as their proof): tool.name,
# tool.copy_credentials, defaults.forward_env, ssh.forward_agent.
. "$(dirname "$0")/lib.sh"
t_require_daemon
incus image info coi-default >/dev/null 2>&1 || t_bail "coi-default missing (run: tests/e2e/setup)"

ws=$(mktemp -d /tmp/coi-t-shell-XXXX)
export COI_HOME=$(mktemp -d) # saved sessions of this test only
cfg=$(mktemp)
t_defer "rm -rf '$ws' '$COI_HOME' '$cfg'"
printf '[tool]\nname = "dummy"\n' >"$cfg"
export COI_CONFIG=$cfg
git -C "$ws" init -q
name=$(t_session_name "$ws" 1)
T="tmux -L coi-t-shell-$$" # a server of this run only
t_defer "$T kill-server; incus delete -f $name"

t_term "INCUS_DIR=$INCUS_DIR COI_HOME=$COI_HOME COI_CONFIG=$cfg $COI shell"
t_ok "coi shell shows the agent's banner" t_wait_screen "dummy agent ready \(session "
t_like "it runs in tmux in the container, the detach key on its status line" "$(t_screen)" \
    "\[coi\].*coi: detach with Ctrl-b d \| $name"
$T send-keys -t t1 "hello from the test" Enter
t_ok "the agent answers what is typed" t_wait_screen "dummy: hello from the test"
$T send-keys -t t1 C-b d
t_ok "Ctrl-b d detaches" t_wait_screen "coi: detached; the agent keeps running in $name"
t_ok "and coi exits 0" t_wait_screen "COI-EXIT=0"
t_like "the session keeps running" "$("$COI" list)" "$name .* Running"
t_like "coi logs shows the agent's terminal" "$("$COI" logs "$name" 2>&1)" "dummy: hello from the test"
t_like "detached is not orphaned" "$("$COI" list --json | jq -r ".active_containers[] | select(.name==\"$name\") | .orphan")" "false"
# a tmux in the container that cannot take this terminal (a type it does not know) did not
# attach: coi attach passes its failure on (before: "detached", 0), and the agent keeps running
t_term "TERM=coi-t-unknown INCUS_DIR=$INCUS_DIR COI_HOME=$COI_HOME $COI attach"
t_ok "coi attach whose tmux fails exits with tmux's status" t_wait_screen "COI-EXIT=1"
t_like "and says so" "$(t_screen)" "coi: tmux in $name failed \(status 1\); the agent keeps running"
t_like "the agent still runs" "$("$COI" tmux capture "$name" 2>&1)" "dummy: hello from the test"

t_term "INCUS_DIR=$INCUS_DIR COI_HOME=$COI_HOME $COI attach"
t_ok "coi attach returns to the agent" t_wait_screen "dummy: hello from the test"
$T send-keys -t t1 "exit" Enter
t_ok "when the agent exits, the session ends" t_wait_screen "coi: session $name ended"
t_ok "the container is deleted" t_wait_gone "$name"
saved=$(ls -d "$COI_HOME"/sessions-dummy/*/ 2>/dev/null | head -1)
t_ok "the agent's state was saved" test -f "$saved/metadata.json"
t_is "with the workspace in its metadata" "$(jq -r .workspace "$saved/metadata.json" 2>/dev/null)" "$ws"

t_term "INCUS_DIR=$INCUS_DIR COI_HOME=$COI_HOME COI_CONFIG=$cfg $COI shell --resume"
t_ok "coi shell --resume: the agent resumes its session" t_wait_screen "dummy: resumed session .* \(1 turns\)"
t_ok "with what was said before" t_wait_screen "dummy: last input: hello from the test"
$T send-keys -t t1 "exit" Enter
t_ok "and exits" t_wait_screen "COI-EXIT=0"
t_ok "the container is deleted" t_wait_gone "$name"

t_like "coi list --all shows the saved session" "$("$COI" list --all)" "dummy +$ws"
t_like "coi info shows it with how to resume" "$(cd "$ws" && "$COI" info)" "coi shell --resume="
t_ok "coi clean --sessions" "$COI" clean --sessions
t_is "removes the saved sessions" "$(ls "$COI_HOME"/sessions-dummy 2>/dev/null | wc -l)" 0

# a tmux that cannot start in the container (here: a terminal type it does not know; seen once
# under load: its socket's directory gone from /tmp) leaves no agent: coi shell exits with
# tmux's status, not 0 as if the agent had ended well, and the session ends
t_term "TERM=coi-t-unknown INCUS_DIR=$INCUS_DIR COI_HOME=$COI_HOME COI_CONFIG=$cfg $COI shell"
t_ok "coi shell whose tmux cannot start exits with tmux's status" t_wait_screen "COI-EXIT=1"
t_like "and says why" "$(t_screen)" "coi: tmux in $name failed \(status 1\) and the agent did not run"
t_ok "the container is deleted" t_wait_gone "$name"

# The tool's credential file: copied in (as code's, 0600) only when configured.
mkdir -p /root/.dummy
t_defer "rm -f /root/.dummy/credentials"
echo "coi-t-token" >/root/.dummy/credentials
printf '[tool]\nname = "dummy"\n' >"$cfg"
out=$(cd "$ws" && "$COI" run -- sh -c 'cat ~/.dummy/credentials 2>/dev/null || echo absent' 2>/dev/null)
t_is "the tool's credentials stay on the host by default" "$out" "absent"
printf '[tool]\nname = "dummy"\ncopy_credentials = true\n' >"$cfg"
out=$(cd "$ws" && "$COI" run -- sh -c 'stat -c "%U %a" ~/.dummy/credentials; cat ~/.dummy/credentials' 2>/dev/null)
t_is "[tool] copy_credentials copies them in, code's, mode 0600" "$(echo $out)" "code 600 coi-t-token"
rm -f /root/.dummy/credentials

# Forwarded variables: in the command's environment, never on a command line.
printf '[tool]\nname = "dummy"\n[defaults]\nforward_env = ["COI_T_SECRET"]\n' >"$cfg"
secret="s3cr3t-$RANDOM$RANDOM"
out=$(cd "$ws" && COI_T_SECRET=$secret "$COI" run -- sh -c 'echo "env=$COI_T_SECRET"; ps -eo args | grep -c "[s]3cr3t"' 2>/dev/null)
t_like "a forwarded variable reaches the command" "$out" "env=$secret"
t_like "and no process shows it on its command line" "$out" $'\n0$'

# SSH agent forwarding: the host agent's key is listed inside; the key itself never enters.
agentdir=$(mktemp -d)
t_defer "rm -rf '$agentdir'"
eval "$(ssh-agent -a "$agentdir/agent.sock")" >/dev/null
t_defer "kill $SSH_AGENT_PID"
ssh-keygen -q -t ed25519 -N '' -C coi-t-key -f "$agentdir/key"
ssh-add -q "$agentdir/key" 2>/dev/null
printf '[tool]\nname = "dummy"\n[ssh]\nforward_agent = true\n' >"$cfg"
out=$(cd "$ws" && "$COI" run -- sh -c 'ssh-add -l; ls ~/.ssh' 2>/dev/null)
t_like "ssh-add -l inside lists the host agent's key" "$out" "coi-t-key"
t_like "no private key file inside, only the agent socket" "$out" $'agent.sock'
t_fails "the key file is not there" grep -q "id_" <<<"$out"
t_done
