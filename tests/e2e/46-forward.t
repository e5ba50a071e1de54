#!/bin/bash
# SPDX-License-Identifier: MIT
# [[sockets]], [ports] and [[credentials]], end to end with coi run on the tiny image: a host unix
# socket reached from inside, a server inside reached from the host's 127.0.0.1, a credential file
# copied in (and nothing leading back to the host file, even for container root); a project's
# entries wait for 'coi trust'; a busy host port, a missing socket and a failure after the
# container exists all end with a clear error and nothing left behind.
# Keys whose effect this file shows (src/config/keys.c names it as their proof): sockets,
# credentials, ports.pool, ports.map.
. "$(dirname "$0")/lib.sh"
t_require_daemon

tmp=$(mktemp -d /tmp/coi-t-compat-XXXX)
t_defer "rm -rf '$tmp'"
ws=$tmp/ws
mkdir -p "$ws"
cd "$ws"
export COI_HOME=$tmp/coi-home # approvals of this test only
name=$(t_session_name "$ws" 1)
prefix=${name%-1}-
cc -static -O1 -o "$ws/ucat" "$T_ROOT/tests/e2e/forward-ucat.c" || t_bail "cannot build forward-ucat"
command -v python3 >/dev/null || t_bail "python3 is needed for the host-side listeners"

# A host service on a unix socket: says hello to whoever connects (bounded: 300 s).
python3 - "$tmp/host.sock" <<'X' &
import signal, socket, sys
signal.alarm(300)
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(8)
while True:
    c, _ = s.accept()
    c.sendall(b"hello-from-host\n")
    c.close()
X
srv=$!
t_defer "kill $srv 2>/dev/null"
for _ in $(seq 50); do [ -S "$tmp/host.sock" ] && break; sleep 0.1; done

printf 'top-secret-token\n' >"$tmp/cred.txt"
chmod 600 "$tmp/cred.txt"
cred_sum=$(sha256sum <"$tmp/cred.txt")
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port_free() { python3 -c 'import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1",int(sys.argv[1])))' "$1" 2>/dev/null; }
pinned=$(free_port)

cfg=$tmp/user.toml
cat >"$cfg" <<X
[[sockets]]
host = "$tmp/host.sock"
container = "/run/coi-t/host.sock"
env = "HOST_SOCK"

[ports]
pool = 2

[[ports.map]]
name = "web"
container = 8080
host = $pinned

[[credentials]]
host = "$tmp/cred.txt"
container = "/home/code/.config/coi-t/token"
mode = "0640"
X
export COI_CONFIG=$cfg

# --- one session, looked at from inside and from the host ---
"$COI" run --image "$T_IMAGE" -- sh -c '
    env | grep -E "^(HOST_SOCK|COI_PORTS|COI_PORT_WEB)=" | sort > /workspace/env.txt
    ./ucat "$HOST_SOCK" > /workspace/sock.txt 2>&1
    ls -ln "$HOST_SOCK" > /workspace/sockls.txt
    grep -o "Published ports.*" /home/code/SANDBOX_CONTEXT.md > /workspace/ctx.txt
    stat -c "%u:%g %a" /home/code/.config/coi-t/token > /workspace/credstat.txt
    cat /home/code/.config/coi-t/token > /workspace/credcat.txt
    echo evil > /home/code/.config/coi-t/token; echo "rc=$?" > /workspace/credwrite.txt
    mkdir -p /tmp/www && echo served-from-container > /tmp/www/index.html
    p=${COI_PORTS%% *}
    httpd -p 127.0.0.1:8080 -h /tmp/www && httpd -p 127.0.0.1:$p -h /tmp/www && touch /workspace/up
    sleep 60' >"$tmp/out" 2>"$tmp/err" &
pid=$!
t_defer "kill $pid 2>/dev/null"
up=1
for _ in $(seq 300); do [ -e "$ws/up" ] && { up=0; break; }; sleep 0.1; done
t_is "the session comes up with its servers" "$up" 0

t_is "the host socket answers inside, at the forwarded path" "$(cat sock.txt)" "hello-from-host"
t_like "HOST_SOCK names the container path" "$(cat env.txt)" "HOST_SOCK=/run/coi-t/host.sock"
t_like "the socket in the container is code's, mode 0600" "$(cat sockls.txt)" "^srw------- +1 1000 +1000 "
t_like "COI_PORT_WEB is the pinned host port" "$(cat env.txt)" "COI_PORT_WEB=$pinned"
pool=$(sed -n 's/^COI_PORTS=//p' env.txt)
t_like "COI_PORTS lists two ports" "$pool" '^[0-9]+ [0-9]+$'
out=$(curl -s --max-time 10 "http://127.0.0.1:$pinned/")
t_is "a server inside on 8080 answers on the host's 127.0.0.1:$pinned" "$out" "served-from-container"
p1=${pool%% *}
out=$(curl -s --max-time 10 "http://127.0.0.1:$p1/")
t_is "a pool port is the same number inside and out" "$out" "served-from-container"
t_like "the startup report lists the published ports" "$(cat "$tmp/err")" "Published ports: .*web 127.0.0.1:$pinned -> 8080"
t_like "coi list --json shows the published ports" \
    "$("$COI" list --json | jq -c ".active_containers[] | select(.name==\"$name\") | .ports")" \
    "\"127.0.0.1:$pinned->8080\""
t_like "coi list shows them in a PORTS column" "$("$COI" list)" "PORTS.*
$name .*127\.0\.0\.1:$p1->$p1"
t_like "the sandbox context tells the agent the published ports" "$(cat ctx.txt)" "web 8080 -> http://127.0.0.1:$pinned"
t_is "the credential is copied with its content" "$(cat credcat.txt)" "top-secret-token"
t_is "the credential is code's, with the mode given" "$(cat credstat.txt)" "1000:1000 640"
t_is "code may write its copy" "$(cat credwrite.txt)" "rc=0"
t_is "writing the copy leaves the host file unchanged" "$(sha256sum <"$tmp/cred.txt")" "$cred_sum"

# Attack: container root looks for a way back to the host file.
out=$(incus exec "$name" -- sh -c 'grep -c coi-t/token /proc/self/mountinfo; grep -c cred.txt /proc/self/mountinfo' 2>&1)
t_is "root inside: the credential is no mount (nothing in mountinfo)" "$(echo $out)" "0 0"
out=$(incus exec "$name" -- sh -c "ls $tmp/cred.txt 2>&1; readlink -f /home/code/.config/coi-t/token")
t_like "root inside: the host path does not exist inside, the copy is a plain file" "$out" "No such file.*
/home/code/.config/coi-t/token$"
incus exec "$name" -- sh -c 'echo root-evil > /home/code/.config/coi-t/token; rm -f /home/code/.config/coi-t/token' >/dev/null 2>&1
t_is "root inside: rewriting and deleting the copy leaves the host file" "$(sha256sum <"$tmp/cred.txt")" "$cred_sum"

kill -TERM "$pid"
wait "$pid" 2>/dev/null
t_ok "the session ends and its container goes" t_wait_ws_clear "$ws"
t_ok "the pinned host port is free again" port_free "$pinned"
t_ok "the pool port is free again" port_free "$p1"
rm -f env.txt sock.txt sockls.txt ctx.txt credstat.txt credcat.txt credwrite.txt up

# --- a persistent container: its forwards end with each session and come back with the next ---
t_defer "incus delete -f $name"
for i in 1 2; do
    out=$("$COI" run --persistent --image "$T_IMAGE" -- sh -c './ucat "$HOST_SOCK"; echo "web=$COI_PORT_WEB"' 2>&1)
    t_like "persistent, session $i: the socket and the port are there" "$out" "hello-from-host.*web=$pinned"
    t_is "persistent, session $i: no forwarded device stays on the stopped container" \
        "$(incus config device list "$name" | grep -c -E '^(coi-|ssh-agent)')" 0
    t_ok "persistent, session $i: the pinned port is free again" port_free "$pinned"
done
incus delete -f "$name" >/dev/null 2>&1

# --- a project's entries wait for 'coi trust' ---
mkdir -p .coi
cp "$cfg" .coi/config.toml
t_defer "'$COI' untrust '$ws' >/dev/null 2>&1"
probe() { "$COI" run --image "$T_IMAGE" -- sh -c 'echo "sock=${HOST_SOCK:-none} ports=${COI_PORTS:-none} cred=$(cat /home/code/.config/coi-t/token 2>/dev/null || echo none)"'; }
out=$(COI_CONFIG=/dev/null probe 2>"$tmp/err")
t_is "untrusted project: no socket, port or credential" "$out" "sock=none ports=none cred=none"
for key in sockets ports.pool ports.map credentials; do
    t_like "untrusted project: '$key' ignored with a warning" "$(cat "$tmp/err")" "ignoring '$key'.*coi trust"
done
t_ok "the workspace is clear" t_wait_ws_clear "$ws"
t_ok "coi trust" "$COI" trust
out=$(COI_CONFIG=/dev/null probe 2>"$tmp/err")
t_like "trusted project: socket, ports and credential apply" "$out" "^sock=/run/coi-t/host.sock ports=[0-9]+ [0-9]+ cred=top-secret-token$"
t_is "trusted project: no warning" "$(grep -c ignoring "$tmp/err")" 0
t_ok "the workspace is clear" t_wait_ws_clear "$ws"
"$COI" untrust "$ws" >/dev/null 2>&1
rm -rf .coi

# --- failures: a clear error, non-zero, nothing left behind ---
python3 - "$pinned" <<'X' &
import signal, socket, sys
signal.alarm(120)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the port may be in TIME_WAIT
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1)
signal.pause()
X
busy=$!
t_defer "kill $busy 2>/dev/null"
for _ in $(seq 50); do port_free "$pinned" || break; sleep 0.1; done
out=$("$COI" run --image "$T_IMAGE" -- true 2>&1) && rc=0 || rc=$?
t_is "host port busy: coi fails (exit 1)" "$rc" 1
t_like "and says which port and why" "$out" "host port 127.0.0.1:$pinned \(\[\[ports.map\]\] \"web\"\) is already in use"
t_is "host port busy: no container was made" "$(incus list "$prefix" -c n -f csv)" ""
kill "$busy" 2>/dev/null; wait "$busy" 2>/dev/null

sed "s|$tmp/host.sock|$tmp/missing.sock|" "$cfg" >"$tmp/missing.toml"
out=$(COI_CONFIG=$tmp/missing.toml "$COI" run --image "$T_IMAGE" -- true 2>&1) && rc=0 || rc=$?
t_is "host socket missing: coi fails (exit 1)" "$rc" 1
t_like "and names the socket" "$out" "\[\[sockets\]\]: cannot use '$tmp/missing.sock'"
t_is "host socket missing: no container was made" "$(incus list "$prefix" -c n -f csv)" ""

# A failure once the container exists (the credential's directory is a file inside): undone.
sed 's|/home/code/.config/coi-t/token|/bin/busybox/token|' "$cfg" >"$tmp/late.toml"
out=$(COI_CONFIG=$tmp/late.toml "$COI" run --image "$T_IMAGE" -- true 2>&1) && rc=0 || rc=$?
t_is "a late failure: coi fails (exit 1)" "$rc" 1
t_like "and names the credential" "$out" "\[\[credentials\]\] '$tmp/cred.txt'"
t_is "a late failure: the container is gone" "$(incus list "$prefix" -c n -f csv)" ""
t_ok "a late failure: its ports are free again" port_free "$pinned"

# A credential in the workspace would land in the host's project: refused.
# (with a port on every address: a warning says so)
sed 's|/home/code/.config/coi-t/token|/workspace/token|; s|^host = '"$pinned"'$|&\nlisten = "0.0.0.0"|' "$cfg" >"$tmp/ws.toml"
out=$(COI_CONFIG=$tmp/ws.toml "$COI" run --image "$T_IMAGE" -- true 2>&1) && rc=0 || rc=$?
t_like "a credential into the workspace is refused" "$rc:$out" "^1:.*lies in the workspace"
t_like "a port listening beyond loopback is warned about" "$out" "\"web\" listens on 0.0.0.0, not loopback"
t_fails "and nothing was written there" test -e "$ws/token"
t_done
