/* SPDX-License-Identifier: MIT */
/* gitident.c: see gitident.h. */
#include "session/gitident.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "session/gitconfig.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/path.h"

#define IDENT_FILE_MAX ((size_t)1 << 20)

/* user.name and user.email of one file (the last of each wins), when it can be read. */
static int seed_from(const char *path, char **name, char **email)
{
	_cleanup_buf_ struct buf b = BUF_INIT(IDENT_FILE_MAX);
	struct gitconfig c = {0};
	int r = 0;

	if (!path || read_file(path, &b, NULL) < 0 || gitconfig_parse(b.data, b.len, &c, NULL) < 0)
		return 0; /* no file, or one coi cannot read as git does: nothing seeded from it */
	for (size_t i = 0; r >= 0 && i < c.n; i++) {
		char **dst = strcmp(c.entries[i].name, "user.name") == 0    ? name
		             : strcmp(c.entries[i].name, "user.email") == 0 ? email
		                                                            : NULL;

		if (!dst || !c.entries[i].value)
			continue;
		free(*dst);
		*dst = strdup(c.entries[i].value);
		if (!*dst)
			r = -ENOMEM;
	}
	gitconfig_release(&c);
	return r;
}

/* "\tkey = "value"\n", with \ and " escaped and control characters left out */
static int put_value(struct buf *out, const char *key, const char *v)
{
	int r = buf_printf(out, "\t%s = \"", key);

	for (const unsigned char *p = (const unsigned char *)v; r >= 0 && *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			continue;
		if (*p == '\\' || *p == '"')
			r = buf_putc(out, '\\');
		if (r >= 0)
			r = buf_putc(out, (char)*p);
	}
	return r < 0 ? r : buf_puts(out, "\"\n");
}

int gitident_text(const char *name, const char *email, bool seed_host, const char *home,
                  struct buf *out)
{
	_cleanup_free_ char *n = NULL, *e = NULL, *xdg = NULL, *dot = NULL;
	int r = 0;

	if (seed_host && home && (!name || !email)) {
		xdg = path_join(home, ".config/git/config");
		dot = path_join(home, ".gitconfig");
		if (!xdg || !dot)
			return -ENOMEM;
		/* git reads the XDG file first, then ~/.gitconfig, which wins */
		r = seed_from(xdg, &n, &e);
		if (r >= 0)
			r = seed_from(dot, &n, &e);
		if (r < 0)
			return r;
	}
	name = name ? name : n;
	email = email ? email : e;
	if (!name && !email)
		return 0;
	r = buf_puts(out, "[user]\n");
	if (r >= 0 && name)
		r = put_value(out, "name", name);
	if (r >= 0 && email)
		r = put_value(out, "email", email);
	return r;
}
