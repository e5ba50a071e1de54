#!/bin/bash
# SPDX-License-Identifier: MIT
# The harness itself: the daemon answers, a throwaway container from the tiny image starts, runs a
# command, passes its exit status back, and is deleted without a trace. And a daemon that does not
# answer makes the harness fail (bail out), never skip.
. "$(dirname "$0")/lib.sh"
t_require_daemon

t_like "daemon answers GET /1.0" "$(incus query /1.0 | jq -r .api_status)" '^stable$'

c=$(t_name harness)
t_defer "incus delete -f $c"
t_ok "launch a container from the tiny image" t_launch "$c"
t_is "it is running" "$(incus list "$c" -c s -f csv)" "RUNNING"
t_is "it runs a command" "$(incus exec "$c" -- echo hello)" "hello"
rc=0; incus exec "$c" -- sh -c 'exit 42' || rc=$?
t_is "the exit status comes back" "$rc" 42
t_ok "delete it" incus delete -f "$c"
t_is "it is gone" "$(incus list "$c" -c n -f csv)" ""
t_fails "no cgroup is left for it" test -d "/sys/fs/cgroup/pids/lxc.payload.$c"

# A broken daemon: point the library at an empty state directory; it must bail out (exit 255).
tmp=$(mktemp -d)
t_defer "rm -rf $tmp"
out=$(COI_TEST_INCUS_DIR=$tmp bash -c ". '$T_ROOT/tests/e2e/lib.sh'; t_require_daemon; echo reached" 2>&1) && rc=0 || rc=$?
t_is "a daemon that does not answer fails the run" "$rc" 255
t_like "and says why" "$out" "^Bail out! the test daemon at $tmp does not answer"

t_done
