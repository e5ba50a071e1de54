/* SPDX-License-Identifier: MIT */
/* expire.c: see expire.h. */
#include "session/expire.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "incus/incus.h"
#include "monitor/deadline.h"
#include "session/fleet.h"
#include "session/saved.h"
#include "util/error.h"
#include "util/log.h"

int session_expire(struct incus_client *c, const char *name, const char *uuid, int pidfd,
                   int stop_timeout, char ***ret_report, struct coi_error *err)
{
	_cleanup_(incus_instance_freep) struct incus_instance *in = NULL;
	const char *pers;
	bool persistent;
	int r;

	if (!deadline_same_instance(c, name, uuid, pidfd))
		return 0;
	r = incus_instance_get(c, name, &in, err);
	if (r < 0)
		return r;
	pers = incus_map_get(&in->config, "user.coi.persistent");
	persistent = pers && strcmp(pers, "true") == 0;
	if (stop_timeout > 0 &&
	    incus_instance_set_state(c, name, INCUS_ACTION_STOP, false, stop_timeout, NULL) < 0)
		log_debug("expire: '%s' did not stop within %ds, forcing it", name, stop_timeout);
	/* no grace, or it ran out: force it, while it is still this instance's init that runs */
	if (deadline_same_instance(c, name, uuid, pidfd)) {
		r = incus_instance_set_state(c, name, INCUS_ACTION_STOP, true, -1, err);
		if (r < 0)
			return r;
	}
	/* stopped: the init is gone, the uuid alone names the instance */
	if (!deadline_same_instance(c, name, uuid, -EBADF))
		return 0;
	if (persistent) {
		r = fleet_cleanup_host(name, NULL, ret_report, err);
		return r < 0 ? r : 1;
	}
	r = saved_session_save_instance(c, in, err);
	if (r < 0) {
		log_debug("expire: the agent's session in '%s' was not saved: %s", name,
		          coi_error_message(err));
		coi_error_clear(err);
	}
	if (!deadline_same_instance(c, name, uuid, -EBADF))
		return 0;
	r = fleet_kill(c, name, NULL, ret_report, err);
	return r < 0 ? r : 1;
}
