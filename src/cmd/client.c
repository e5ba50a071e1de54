/* SPDX-License-Identifier: MIT */
#include "cmd/client.h"

#include <stdio.h>

#include "cmd/cmd.h"
#include "config/config.h"
#include "incus/incus.h"
#include "session/fleet.h"
#include "session/incus-opts.h"
#include "util/error.h"
#include "util/strv.h"

static int client_new(const struct coi_config *cfg, struct incus_client **ret,
                      struct coi_error *err)
{
	struct incus_client_opts o;

	session_incus_client_opts(cfg, &o);
	return incus_client_new(&o, ret, err);
}

int cmd_client_new(struct incus_client **ret, struct coi_error *err)
{
	struct coi_config *cfg = NULL;
	char **warnings = NULL; /* the session verbs and 'coi config' show them */
	int r;

	r = config_load(&(struct config_load_opts){0}, &cfg, &warnings, err);
	strv_free(warnings);
	if (r < 0)
		return r;
	r = client_new(cfg, ret, err);
	config_free(cfg);
	return r;
}

void cmd_mend_dead_sessions(struct incus_client *c)
{
	_cleanup_strv_free_ char **notes = NULL;

	(void)fleet_restore_dead(c, &notes);
	cmd_warnings(notes);
}

int cmd_open_client(struct incus_client **ret)
{
	struct coi_error err = {0};

	if (cmd_client_new(ret, &err) < 0)
		return cmd_fail(&err);
	cmd_mend_dead_sessions(*ret);
	return 0;
}

int cmd_open_client_with(const struct coi_config *cfg, struct incus_client **ret)
{
	struct coi_error err = {0};

	if (client_new(cfg, ret, &err) < 0)
		return cmd_fail(&err);
	cmd_mend_dead_sessions(*ret);
	return 0;
}
