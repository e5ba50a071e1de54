/* SPDX-License-Identifier: MIT */
/* tmux.c: see tmux.h. */
#include "session/tmux.h"

#include "incus/incus.h"
#include "util/buf.h"

char *tmux_launch_command(char *const *argv)
{
	_cleanup_buf_ struct buf b = BUF_INIT(64u << 10);

	if (buf_puts(&b, ". \"$HOME/.config/coi/env\" 2>/dev/null; exec") < 0)
		return NULL;
	for (size_t i = 0; argv[i]; i++) {
		if (buf_puts(&b, " '") < 0)
			return NULL;
		for (const char *p = argv[i]; *p; p++)
			if ((*p == '\'' ? buf_puts(&b, "'\\''") : buf_putc(&b, *p)) < 0)
				return NULL;
		if (buf_putc(&b, '\'') < 0)
			return NULL;
	}
	return buf_steal(&b);
}

int tmux_alive(struct incus_client *c, const char *container, int64_t uid, struct coi_error *err)
{
	char *argv[] = {"tmux", "has-session", "-t", COI_TMUX_SESSION, NULL};
	struct incus_exec_result res = {0};
	struct incus_exec_opts o;
	int r;

	incus_exec_opts_init(&o);
	o.argv = argv;
	o.uid = uid;
	o.gid = uid;
	r = incus_exec(c, container, &o, &res, err);
	incus_exec_result_release(&res);
	if (r < 0)
		return r;
	return res.exit_status == 0;
}
