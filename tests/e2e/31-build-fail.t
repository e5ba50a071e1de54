#!/bin/bash
# SPDX-License-Identifier: MIT
# coi build when things go wrong, and custom images. Custom images (--script, on top of
# coi-default) exercise the same pipeline in seconds: a good script publishes a versioned image
# and points its alias at it; old versions beyond --keep go; a failing script and a build
# interrupted with SIGINT leave no build container, publish nothing and keep every previous image.
. "$(dirname "$0")/lib.sh"
t_require_daemon
"$COI" help build >/dev/null 2>&1 || t_bail "this coi has no 'build' verb"
incus image info coi-default >/dev/null 2>&1 || t_bail "coi-default missing (run: tests/e2e/setup)"

tmp=$(mktemp -d)
t_defer "rm -rf $tmp"
alias=$(t_name buildimg)
# Whatever happens: delete every image of this test and the build containers its builds named
# (only those: other builds may run on this daemon at the same time).
: >"$tmp/containers"
t_defer "incus image list -f json | jq -r '.[] | select(any(.aliases[]; .name | startswith(\"$alias\"))) | .fingerprint' | xargs -r -n1 incus image delete"
t_defer "xargs -r -n1 incus delete -f <$tmp/containers"

fingerprint() { incus image info "$1" 2>/dev/null | awk '/^Fingerprint:/{print $2}'; }
# The build container a build's output names (and remember it for the clean-up).
build_container() {
    local n
    n=$(grep -o "launching build container 'coi-build-[0-9a-f-]*'" <<<"$1" | grep -o 'coi-build-[0-9a-f-]*')
    [ -n "$n" ] && echo "$n" >>"$tmp/containers"
    echo "${n:-none}"
}
exists() { incus info "$1" >/dev/null 2>&1 && echo yes || echo no; }
versions() { incus image list -f json | jq -r '.[].aliases[].name' | grep -E "^$alias-[0-9]{8}-[0-9]{6}$" | sort; }

default_fp=$(fingerprint coi-default)
t_like "coi-default exists" "$default_fp" '^[0-9a-f]{64}$'

# A good custom script.
printf '#!/bin/bash\nset -e\necho "custom build ran"\necho custom >/etc/coi-t-custom\n' >"$tmp/ok.sh"
out=$("$COI" build --script "$tmp/ok.sh" --alias "$alias" --compression none 2>&1) && rc=0 || rc=$?
t_is "a custom image builds" "$rc" 0
[ "$rc" = 0 ] || t_diag "$(tail -n 20 <<<"$out")"
t_like "its script's output is streamed" "$out" 'custom build ran'
t_like "progress names the phases" "$out" '\[launch\].*\[push\].*\[script\].*\[publish\].*\[alias\].*\[cleanup\]'
t_like "and it says what it built" "$out" "built $alias = $alias-[0-9]{8}-[0-9]{6}"
bc=$(build_container "$out")
t_like "the build container had a unique name" "$bc" '^coi-build-[0-9]{8}-[0-9]{6}-[0-9a-f]{4}$'
t_is "no build container is left" "$(exists "$bc")" no
first_fp=$(fingerprint "$alias")
t_like "the alias names the new image" "$first_fp" '^[0-9a-f]{64}$'
t_is "which carries the custom recipe hash" "$(incus image get-property "$alias" coi.recipe 2>&1)" \
    "$("$COI" build --recipe-hash --script "$tmp/ok.sh" --alias "$alias")"
t_is "coi-default is untouched" "$(fingerprint coi-default)" "$default_fp"
c=$(t_name buildck)
t_launch_img() { t_defer "incus delete -f $c"; incus launch "$alias" "$c" -c boot.autostart=false >/dev/null; }
t_ok "a container starts from it" t_launch_img
t_is "with the script's work in it" "$(incus exec "$c" -- cat /etc/coi-t-custom 2>&1)" custom
incus delete -f "$c" >/dev/null 2>&1

# The same script again is up to date; --force makes a second version, --keep 1 prunes the first.
t_like "the same custom build again is a no-op" \
    "$("$COI" build --script "$tmp/ok.sh" --alias "$alias" 2>&1)" "$alias is up to date"
out=$("$COI" build --force --keep 1 --script "$tmp/ok.sh" --alias "$alias" --compression none 2>&1) && rc=0 || rc=$?
t_is "--force rebuilds" "$rc" 0
t_is "--keep 1 leaves one version" "$(versions | wc -l)" 1
t_like "the old one was deleted" "$out" "1 old version deleted"
t_ok "the alias moved to the new image" test "$(fingerprint "$alias")" != "$first_fp"
good_fp=$(fingerprint "$alias")

# A failing script.
printf '#!/bin/bash\necho "about to fail"\nexit 3\n' >"$tmp/bad.sh"
n_before=$(versions | wc -l)
out=$("$COI" build --force --script "$tmp/bad.sh" --alias "$alias" 2>&1) && rc=0 || rc=$?
t_is "a failing build script fails coi build" "$rc" 1
t_like "and says so" "$out" 'the build script failed with status 3'
t_like "its output was streamed" "$out" 'about to fail'
bc=$(build_container "$out")
t_is "no build container is left after a failure ($bc)" "$(exists "$bc")" no
t_is "nothing was published" "$(versions | wc -l)" "$n_before"
t_is "the previous custom image is kept" "$(fingerprint "$alias")" "$good_fp"
t_is "coi-default is kept" "$(fingerprint coi-default)" "$default_fp"

# Interrupted with SIGINT while the script runs.
printf '#!/bin/bash\necho "sleeping"\nsleep 600\n' >"$tmp/slow.sh"
"$COI" build --force --script "$tmp/slow.sh" --alias "$alias" >"$tmp/slow.log" 2>&1 &
pid=$!
t_defer "kill $pid"
for _ in $(seq 600); do
    grep -q '\[script\]' "$tmp/slow.log" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
sleep 2 # the script is running now (its output may only come at its end: no streaming exec yet)
t_is "the slow build reached its script" "$(grep -c '\[script\]' "$tmp/slow.log")" 1
bc=$(build_container "$(cat "$tmp/slow.log")")
t_is "its build container exists meanwhile ($bc)" "$(exists "$bc")" yes
kill -INT "$pid"
rc=0
for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
wait "$pid" || rc=$?
t_is "SIGINT stops coi build with failure" "$rc" 1
t_like "and it says the build was interrupted" "$(cat "$tmp/slow.log")" 'interrupted'
t_is "no build container is left after SIGINT" "$(exists "$bc")" no
t_is "nothing was published" "$(versions | wc -l)" "$n_before"
t_is "the previous custom image is kept" "$(fingerprint "$alias")" "$good_fp"
t_is "coi-default is kept" "$(fingerprint coi-default)" "$default_fp"

t_fails "a custom image needs its own alias" "$COI" build --script "$tmp/ok.sh"
t_fails "--keep 0 is refused" "$COI" build --keep 0

t_done
