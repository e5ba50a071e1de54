/* SPDX-License-Identifier: MIT */
/* verbs.c: every verb, in the order 'coi --help' lists them. One line each. */
#include "cmd/cmd.h"

/* clang-format off */
extern const struct verb verb_shell;
extern const struct verb verb_run;
extern const struct verb verb_attach;
extern const struct verb verb_build;
extern const struct verb verb_list;
extern const struct verb verb_kill;
extern const struct verb verb_clean;
extern const struct verb verb_shutdown;
extern const struct verb verb_persist;
extern const struct verb verb_container;
extern const struct verb verb_file;
extern const struct verb verb_image;
extern const struct verb verb_snapshot;
extern const struct verb verb_health;
extern const struct verb verb_version;
extern const struct verb verb_config;
extern const struct verb verb_trust;
extern const struct verb verb_untrust;
extern const struct verb verb_completion;
extern const struct verb verb___complete;
extern const struct verb verb___idmount;
extern const struct verb verb_monitor;
extern const struct verb verb_info;
extern const struct verb verb_logs;
extern const struct verb verb_selftest;
extern const struct verb verb_audit;
extern const struct verb verb_top;
extern const struct verb verb_rules;
extern const struct verb verb_unfreeze;
extern const struct verb verb_help;
extern const struct verb verb_tmux;
extern const struct verb verb_profile;

const struct verb *const coi_verbs[] = {
	&verb_shell,
	&verb_run,
	&verb_attach,
	&verb_build,
	&verb_list,
	&verb_kill,
	&verb_shutdown,
	&verb_persist,
	&verb_clean,
	&verb_info,
	&verb_logs,
	&verb_tmux,
	&verb_monitor,
	&verb_audit,
	&verb_top,
	&verb_rules,
	&verb_unfreeze,
	&verb_selftest,
	&verb_config,
	&verb_profile,
	&verb_trust,
	&verb_untrust,
	&verb_container,
	&verb_file,
	&verb_image,
	&verb_snapshot,
	&verb_health,
	&verb_version,
	&verb_completion,
	&verb_help,
	&verb___complete,
	&verb___idmount,
	NULL,
};
/* clang-format on */
