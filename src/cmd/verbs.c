/* SPDX-License-Identifier: MIT */
/* verbs.c: every verb, in the order 'coi --help' lists them. One line each. */
#include "cmd/cmd.h"

extern const struct verb verb_version;
extern const struct verb verb_config;
extern const struct verb verb_trust;
extern const struct verb verb_untrust;

const struct verb *const coi_verbs[] = {
        &verb_config, &verb_trust, &verb_untrust, &verb_version, NULL,
};
