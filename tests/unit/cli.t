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
check "unknown verb: exit 2 and a hint" 2 "unknown verb 'frobnicate'.*Try 'coi --help'" "$coi" frobnicate
check "unknown option of a verb: exit 2 and a hint" 2 "Try 'coi version --help'" "$coi" version --bogus
check "coi logs --json: an unknown option, not a session name" 2 "invalid option.*Try 'coi logs --help'" "$coi" logs --json
check "coi logs --json NAME: an unknown option" 2 "invalid option" "$coi" logs --json some-session
check "coi logs with two names" 2 "name one session" "$coi" logs a b
check "help for an unknown verb" 2 "unknown verb 'nope'" "$coi" help nope
# a usage error stops there: the monitor is not started with the bad value or no name
check "coi monitor: a bad setting is a usage error" 2 "^coi: --poll-interval takes a number from 1 to 3600, not '0'
Try 'coi monitor --help'[^
]*$" env COI_HOME=/nonexistent "$coi" monitor coi-t-x --daemon --poll-interval 0
check "coi monitor: no container is a usage error" 2 "^coi: which container\\?[^
]*
Try 'coi monitor --help'[^
]*$" env -u COI_CONTAINER "$coi" monitor
# one prompt, from one place, for coi run only: refused before the configuration is read
check "--prompt-name with --prompt: usage error" 2 "give one prompt: --prompt, --prompt-file or --prompt-name" "$coi" run --prompt-name a --prompt b
check "--prompt-file with --prompt-name: usage error" 2 "give one prompt" "$coi" run --prompt-file /dev/null --prompt-name a
check "coi shell --prompt-name: usage error" 2 "are for 'coi run'" "$coi" shell --prompt-name a
check "--prompt-name and a command: usage error" 2 "a prompt and a COMMAND exclude each other" "$coi" run --prompt-name a -- ls
for v in $("$coi" --help | awk '/^Verbs:/{f=1;next} /^$/{f=0} f{print $1}'); do
    check "every verb has --help ($v)" 0 "^Usage: coi $v" "$coi" "$v" --help
done
echo "1..$n"
exit $failed
