/* SPDX-License-Identifier: MIT */
/* verbs.c: every verb, in the order 'coi --help' lists them. One line each. */
#include "cmd/cmd.h"

extern const struct verb verb_version;
extern const struct verb verb_monitor;
extern const struct verb verb_audit;
extern const struct verb verb_unfreeze;

const struct verb *const coi_verbs[] = {
        &verb_version, &verb_monitor, &verb_audit, &verb_unfreeze, NULL,
};
