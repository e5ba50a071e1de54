/* SPDX-License-Identifier: MIT */
/* [git] name, email and seed_host_identity (session/gitident.h): what the config sets wins, what
 * it leaves unset comes from the host's files (~/.gitconfig over ~/.config/git/config), nothing
 * from the host without seed_host_identity, and values cannot break out of their line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session/gitident.h"
#include "tap.h"
#include "util/buf.h"

static char home[64];

static char *text(const char *name, const char *email, bool seed, const char *h)
{
	struct buf b = BUF_INIT(1u << 16);

	if (gitident_text(name, email, seed, h, &b) < 0) {
		buf_release(&b);
		return strdup("error");
	}
	return b.data ? b.data : strdup("");
}

static void test_ident(void)
{
	char *t;

	t = text(NULL, NULL, true, home); /* no host files */
	CHECK_STREQ(t, "");
	free(t);
	CHECK(tap_sh("mkdir -p %s/.config/git && printf '[user]\\n\\tname = Xdg\\n\\temail = "
	             "x@dg\\n' > %s/.config/git/config && printf '[user]\\n\\tname = Host "
	             "Name\\n' > %s/.gitconfig",
	             home) == 0);
	t = text(NULL, NULL, true, home);
	CHECK_STREQ(t, "[user]\n\tname = \"Host Name\"\n\temail = \"x@dg\"\n");
	free(t);
	t = text(NULL, "set@e.x", true, home); /* the config's wins, the rest is seeded */
	CHECK_STREQ(t, "[user]\n\tname = \"Host Name\"\n\temail = \"set@e.x\"\n");
	free(t);
	t = text(NULL, "set@e.x", false, home); /* nothing of the host's */
	CHECK_STREQ(t, "[user]\n\temail = \"set@e.x\"\n");
	free(t);
	t = text("a\"b\\c\n[core]\n\tpager = x", NULL, false, NULL);
	CHECK_STREQ(t, "[user]\n\tname = \"a\\\"b\\\\c[core]pager = x\"\n");
	free(t);
	/* a host file coi cannot read as git does seeds nothing */
	CHECK(tap_sh("printf '[user\\n\\tname = Bad\\n' > %s/.gitconfig", home) == 0);
	t = text(NULL, NULL, true, home);
	CHECK_STREQ(t, "[user]\n\tname = \"Xdg\"\n\temail = \"x@dg\"\n");
	free(t);
}

int main(void)
{
	int r;

	strcpy(home, "/tmp/coi-t-gitident-XXXXXX");
	if (!mkdtemp(home))
		return 1;
	RUN(test_ident);
	r = tap_done();
	(void)tap_sh("rm -rf %s", home);
	return r;
}
