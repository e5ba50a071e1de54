#!/bin/bash
# SPDX-License-Identifier: MIT
# The command-line surface: --version, --help, help VERB, VERB --help, and exit codes 2 for usage
# errors with a one-line hint.
set -u
coi=${COI_BUILD:-build/dev}/coi
. "$(dirname "$0")/check.sh"
check "--version" 0 '^coi [0-9a-z.-]+' "$coi" --version
check "--help lists verbs with one line each" 0 'Verbs:.*  version +print the version' "$coi" --help
check "help VERB" 0 '^Usage: coi version' "$coi" help version
check "VERB --help" 0 '^Usage: coi version' "$coi" version --help
check "no verb means coi shell (which needs a terminal)" 1 'coi shell needs a terminal' "$coi" </dev/null
check "unknown verb: exit 2 and a hint" 2 "unknown verb 'frobnicate' \\(see 'coi --help'\\)$" "$coi" frobnicate
check "unknown option of a verb: exit 2 and a hint" 2 "^coi: unknown option '--bogus' \\(see 'coi version --help'\\)$" "$coi" version --bogus
check "coi logs --bogus: an unknown option, not a session name" 2 "unknown option '--bogus'.*'coi logs --help'" "$coi" logs --bogus
check "coi logs --bogus NAME: an unknown option" 2 "unknown option" "$coi" logs --bogus some-session
check "a typo of a verb: did you mean" 2 "unknown verb 'lsit'; did you mean 'list'\\?" "$coi" lsit
check "a typo of an option: did you mean" 2 "unknown option '--jsno'; did you mean '--json'\\?" "$coi" list --jsno
check "an option without its value says so" 2 "^coi: option --timeout needs a value \\(N\\)" "$coi" shutdown --timeout
check "a bad value of an option" 2 "^coi: --timeout takes seconds, 0 to 86400, not 'abc'" "$coi" shutdown --timeout abc x
check "coi help help" 0 "^Usage: coi help \\[VERB\\]" "$coi" help help
check "coi help with a typo" 2 "did you mean 'list'" "$coi" help lsit
check "coi close is coi shutdown" 0 "^Usage: coi shutdown" "$coi" close --help
check "--help lists the alias" 0 "  shutdown, close +stop sessions" "$coi" --help
check "an unknown global option: one line" 2 "^coi: unknown global option '--bogus'[^
]*$" "$coi" --bogus list
# options the docs promise are options (connecting fails here: exit 1, not a usage error)
nodaemon() { env INCUS_SOCKET=/nonexistent/socket COI_CONFIG=/dev/null "$@"; }
check "coi list -a is --all" 1 "cannot reach incus" nodaemon "$coi" list -a
check "coi list --running" 1 "cannot reach incus" nodaemon "$coi" list --running
check "coi list --status bogus" 2 "--status takes running, stopped" "$coi" list --status bogus
check "coi list --running --stopped" 2 "give one of --status, --running and --stopped" "$coi" list --running --stopped
check "coi run -q" 1 "cannot reach incus" nodaemon "$coi" run -q -- true
check "coi run --quiet -t" 1 "cannot reach incus" nodaemon "$coi" run --quiet -t -- true
check "coi shell -t: run's only" 2 "unknown option '-t'" "$coi" shell -t
check "coi -q run: no startup lines before the failure" 1 "^coi: cannot reach incus" nodaemon "$coi" -q run -- true
check "coi logs with two names" 2 "name one session" "$coi" logs a b
check "help for an unknown verb" 2 "unknown verb 'nope'" "$coi" help nope
# a usage error stops there: the monitor is not started with the bad value or no name
check "coi monitor: a bad setting is a usage error" 2 "^coi: --poll-interval takes a number from 1 to 3600, not '0' \\(see 'coi monitor --help'\\)$" env COI_HOME=/nonexistent "$coi" monitor coi-t-x --daemon --poll-interval 0
check "coi monitor --daemon: no container is a usage error" 2 "^coi: which container\\?[^
]*$" env -u COI_CONTAINER "$coi" monitor --daemon
# one prompt, from one place, for coi run only: refused before the configuration is read
check "--prompt-name with --prompt: usage error" 2 "give one prompt: --prompt, --prompt-file or --prompt-name" "$coi" run --prompt-name a --prompt b
check "--prompt-file with --prompt-name: usage error" 2 "give one prompt" "$coi" run --prompt-file /dev/null --prompt-name a
check "coi shell --prompt-name: usage error" 2 "are for 'coi run'" "$coi" shell --prompt-name a
check "--prompt-name and a command: usage error" 2 "a prompt and a COMMAND exclude each other" "$coi" run --prompt-name a -- ls
verbs=$("$coi" --help | awk '/^Verbs:/{f=1;next} /^$/{f=0} f{sub(",", "", $1); print $1}')
for v in $verbs; do
    check "every verb has --help ($v)" 0 "^Usage: coi $v" "$coi" "$v" --help
    # an option error is one line, whatever the verb (getopt's own message is silenced)
    check "an unknown option of $v: one line, exit 2" 2 "^coi: [^
]*\\(see 'coi $v --help'\\)$" nodaemon "$coi" "$v" --no-such-option
done
# One --json convention: a verb that prints JSON takes --json and --format text|json alike.
for v in $verbs; do
    help=$("$coi" "$v" --help)
    case "$help" in *--json*) ;; *) continue ;; esac
    n=$((n + 1))
    if [[ "$help" == *"--format"* ]]; then echo "ok $n - $v: --json and --format"; else
        echo "not ok $n - $v: --json without --format"; failed=1
    fi
done
check "--format json works as --json" 0 '^\{"version":' "$coi" version --format json
check "--format text" 0 '^coi ' "$coi" version --format text
check "--format of something else: a usage error" 2 "--format takes text or json, not 'xml'" "$coi" version --format xml
echo "1..$n"
exit $failed
