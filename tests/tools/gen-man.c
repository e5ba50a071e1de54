/* SPDX-License-Identifier: MIT */
/* gen-man: the man page coi(1), from the template man/coi.1.in. A line "@VERBS@" becomes a
 * section per verb from the verb table (its summary and usage text, as 'coi help VERB' prints
 * them), "@CONFIG@" a list of every configuration key from config_keys(), and "@VERSION@" is
 * replaced by coi's version. So the page describes the binary it is built with.
 *
 *	gen-man man/coi.1.in > coi.1 */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "config/config.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/path.h"

#define TEMPLATE_MAX (256 * 1024)

/* Text as roff: backslashes and hyphens escaped, no line starting with a control character. */
static void roff_line(const char *s, size_t len)
{
	if (len > 0 && (s[0] == '.' || s[0] == '\''))
		fputs("\\&", stdout);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\')
			fputs("\\e", stdout);
		else if (s[i] == '-')
			fputs("\\-", stdout);
		else
			fputc(s[i], stdout);
	}
	fputc('\n', stdout);
}

static void roff_text(const char *s)
{
	for (const char *p = s; *p;) {
		size_t l = strcspn(p, "\n");

		roff_line(p, l);
		p += l + (p[l] == '\n');
	}
}

static void verbs(void)
{
	for (size_t i = 0; coi_verbs[i]; i++) {
		const struct verb *v = coi_verbs[i];

		if (v->name[0] == '_')
			continue;
		printf(".SS \"coi %s\"\n", v->name);
		roff_text(v->summary);
		fputs(".PP\n.RS 4\n.nf\n", stdout);
		roff_text(v->usage);
		fputs(".fi\n.RE\n", stdout);
	}
}

static void config(void)
{
	size_t n;
	const struct config_key *k = config_keys(&n);

	for (size_t i = 0; i < n; i++, k++) {
		printf(".TP\n.B %s\n", k->name);
		roff_text(k->description);
		fputs(".br\n", stdout);
		printf("%s", config_type_to_string(k->type));
		if (k->allowed)
			printf(" (%s)", k->allowed);
		fputs(", default ", stdout);
		roff_text(k->def ? k->def : "unset");
		if (k->trust == CONFIG_TRUST_TRUSTED_ONLY)
			fputs(".br\nignored in an unapproved project file\n", stdout);
		else if (k->trust == CONFIG_TRUST_IF_WEAKENING)
			fputs(".br\na weakening value is ignored in an unapproved project file\n",
			      stdout);
	}
}

static void template_line(const char *s, size_t len)
{
	const char *at = memmem(s, len, "@VERSION@", 9);

	if (len == 7 && memcmp(s, "@VERBS@", 7) == 0)
		verbs();
	else if (len == 8 && memcmp(s, "@CONFIG@", 8) == 0)
		config();
	else if (at)
		printf("%.*s%s%.*s\n", (int)(at - s), s, coi_version,
		       (int)(len - (size_t)(at - s) - 9), at + 9);
	else
		printf("%.*s\n", (int)len, s);
}

int main(int argc, char **argv)
{
	_cleanup_buf_ struct buf b = BUF_INIT(TEMPLATE_MAX);
	struct coi_error err = {0};
	const char *t;

	if (argc != 2) {
		fputs("usage: gen-man TEMPLATE\n", stderr);
		return 2;
	}
	if (read_file(argv[1], &b, &err) < 0) {
		fprintf(stderr, "gen-man: %s\n", coi_error_message(&err));
		return 1;
	}
	t = buf_str(&b);
	for (const char *p = t; *p;) {
		size_t l = strcspn(p, "\n");

		template_line(p, l);
		p += l + (p[l] == '\n');
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
