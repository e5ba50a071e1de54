/* SPDX-License-Identifier: MIT */
#include "cmd/client.h"

#include "cmd/cmd.h"
#include "incus/incus.h"
#include "util/error.h"

int cmd_open_client(struct incus_client **ret)
{
	struct incus_client_opts o;
	struct coi_error err = {0};

	incus_client_opts_from_env(&o);
	if (incus_client_new(&o, ret, &err) < 0)
		return cmd_fail(&err);
	return 0;
}
