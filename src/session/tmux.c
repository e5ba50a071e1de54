/* SPDX-License-Identifier: MIT */
/* tmux.c: see tmux.h. */
#include "session/tmux.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "incus/incus.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/path.h"
#include "util/strv.h"

#define STATUS_FILE ".config/coi/agent-status"
#define SCREEN_FILE ".config/coi/agent-screen"

static int put_quoted(struct buf *b, const char *s)
{
	if (buf_puts(b, " '") < 0)
		return -ENOMEM;
	for (const char *p = s; *p; p++)
		if ((*p == '\'' ? buf_puts(b, "'\\''") : buf_putc(b, *p)) < 0)
			return -ENOMEM;
	return buf_putc(b, '\'');
}

char *tmux_launch_command(char *const *argv)
{
	_cleanup_buf_ struct buf b = BUF_INIT(64u << 10);

	if (buf_puts(&b, ". \"$HOME/.config/coi/env\" 2>/dev/null;") < 0)
		return NULL;
	for (size_t i = 0; argv[i]; i++)
		if (put_quoted(&b, argv[i]) < 0)
			return NULL;
	/* the pane still shows what the agent left: keep it, and why it ended, for coi */
	if (buf_puts(&b, "; s=$?; tmux capture-pane -p -J -S - >\"$HOME/" SCREEN_FILE
	                 "\" 2>/dev/null; echo $s >\"$HOME/" STATUS_FILE "\"; exit $s") < 0)
		return NULL;
	return buf_steal(&b);
}

const char *tmux_detach_key(bool nested)
{
	return nested ? "Ctrl-a d" : "Ctrl-b d";
}

int tmux_key_args(char ***argv, bool nested)
{
	const char *key = nested ? "C-a" : "C-b";
	char status[64];
	/* clang-format off */
	const char *args[] = {
		";", "set-option", "-g", "status-right-length", "60",
		";", "set-option", "-g", "prefix", key,
		";", "bind-key", key, "send-prefix",
		";", "set-option", "-g", "status-right", status,
		NULL,
	};
	/* clang-format on */

	(void)snprintf(status, sizeof(status), " coi: detach with %s | #H ",
	               tmux_detach_key(nested));
	for (size_t i = 0; args[i]; i++)
		if (strv_push(argv, args[i]) < 0)
			return -ENOMEM;
	return 0;
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

int tmux_agent_result(struct incus_client *c, const char *container, const char *home,
                      int *ret_status, struct buf *screen, struct coi_error *err)
{
	_cleanup_buf_ struct buf st = BUF_INIT(64);
	_cleanup_free_ char *sp = path_join(home, STATUS_FILE), *cp = path_join(home, SCREEN_FILE);
	int r;

	if (!sp || !cp)
		return coi_error_oom(err);
	*ret_status = -1;
	r = incus_file_read(c, container, sp, &st, err);
	if (r >= 0) {
		*ret_status = atoi(buf_str(&st));
		r = incus_file_read(c, container, cp, screen, err);
	}
	/* none recorded (the pane was killed), or a screen past the cap: what there is will do */
	if (r == -ENOENT || r == -E2BIG) {
		coi_error_clear(err);
		r = 0;
	}
	return r < 0 ? r : 0;
}

char *tmux_screen_file(const char *container)
{
	_cleanup_free_ char *dir = coi_dir();
	char *p;

	if (!dir || asprintf(&p, "%s/logs/%s.screen", dir, container) < 0)
		return NULL;
	return p;
}
