/* SPDX-License-Identifier: MIT */
/* gitconfig.c: see gitconfig.h. The reader keeps git's structure (get_next_char, get_base_var,
 * get_extended_base_var, get_value, parse_value) so the two can be compared line by line, and
 * git's character classes: ASCII only, and "space" is ' ', \t, \n and \r. */
#include "session/gitconfig.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/cleanup.h"

#define NAME_MAX_LEN  ((size_t)4096)
#define VALUE_MAX_LEN ((size_t)1 << 20)

struct reader {
	const unsigned char *s;
	size_t len, pos;
	size_t nl_at; /* where the newline last returned by next() starts */
	unsigned line;
	bool eof;
};

static bool is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_keychar(int c)
{
	return is_alpha(c) || (c >= '0' && c <= '9') || c == '-';
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 'a' - 'A' : c;
}

/* git's get_next_char: "\r\n" reads as '\n', the end of the text as one last '\n'. */
static int next(struct reader *r)
{
	int c;

	if (r->pos >= r->len) {
		if (!r->eof)
			r->line++;
		r->eof = true;
		r->nl_at = r->len;
		return '\n';
	}
	c = r->s[r->pos++];
	if (c == '\r' && r->pos < r->len && r->s[r->pos] == '\n') {
		r->nl_at = r->pos - 1;
		r->pos++;
		c = '\n';
	} else if (c == '\n') {
		r->nl_at = r->pos - 1;
	}
	if (c == '\n')
		r->line++;
	return c;
}

/* get_extended_base_var: [section "subsection"], c the space after the section name. */
static int extended_name(struct reader *r, struct buf *name, int c)
{
	do {
		if (c == '\n')
			return -EINVAL;
		c = next(r);
	} while (is_space(c));
	if (c != '"' || buf_putc(name, '.') < 0)
		return -EINVAL;
	for (;;) {
		c = next(r);
		if (c == '\n')
			return -EINVAL;
		if (c == '"')
			break;
		if (c == '\\') {
			c = next(r);
			if (c == '\n')
				return -EINVAL;
		}
		if (buf_putc(name, (char)c) < 0)
			return -E2BIG;
	}
	return next(r) == ']' ? 0 : -EINVAL;
}

/* get_base_var: what follows '[' up to ']'. */
static int section_name(struct reader *r, struct buf *name)
{
	for (;;) {
		int c = next(r);

		if (r->eof)
			return -EINVAL;
		if (c == ']')
			return name->len ? 0 : -EINVAL;
		if (is_space(c))
			return name->len ? extended_name(r, name, c) : -EINVAL;
		if (!is_keychar(c) && c != '.')
			return -EINVAL;
		if (buf_putc(name, (char)lower(c)) < 0)
			return -E2BIG;
	}
}

/* parse_value: after '=' up to the end of the line (continuations included). */
static int parse_value(struct reader *r, struct buf *v)
{
	bool quote = false, comment = false;
	size_t space = 0;

	if (buf_append(v, "", 0) < 0)
		return -ENOMEM;
	for (;;) {
		int c = next(r);

		if (c == '\n') {
			if (!quote)
				return 0;
			r->line--; /* git names the line the value started on */
			return -EINVAL;
		}
		if (comment)
			continue;
		if (is_space(c) && !quote) {
			if (v->len)
				space++;
			continue;
		}
		if (!quote && (c == ';' || c == '#')) {
			comment = true;
			continue;
		}
		for (; space; space--)
			if (buf_putc(v, ' ') < 0)
				return -E2BIG;
		if (c == '\\') {
			c = next(r);
			switch (c) {
			case '\n':
				continue;
			case 't':
				c = '\t';
				break;
			case 'b':
				c = '\b';
				break;
			case 'n':
				c = '\n';
				break;
			case '\\':
			case '"':
				break;
			default:
				return -EINVAL;
			}
		} else if (c == '"') {
			quote = !quote;
			continue;
		}
		if (buf_putc(v, (char)c) < 0)
			return -E2BIG;
	}
}

static int add_entry(struct gitconfig *c, struct buf *name, struct buf *value, bool has_value,
                     size_t start, size_t end, unsigned line)
{
	struct gitconfig_entry *e = realloc(c->entries, sizeof(*e) * (c->n + 1));

	if (!e)
		return -ENOMEM;
	c->entries = e;
	e = &c->entries[c->n];
	*e = (struct gitconfig_entry){.start = start, .end = end, .line = line};
	e->name = buf_steal(name);
	e->value = has_value ? buf_steal(value) : NULL;
	if (!e->name || (has_value && !e->value)) {
		free(e->name);
		free(e->value);
		return -ENOMEM;
	}
	c->n++;
	return 0;
}

/* get_value: a key (its first character c already read) and its value. line_start is where the
 * key's line starts when nothing but space precedes the key on it, else (a section header does)
 * the key's own position: the range to drop then leaves the header and the newline. */
static int entry(struct reader *r, struct gitconfig *cfg, const char *section, int c, size_t key_at,
                 size_t line_start, bool alone)
{
	_cleanup_buf_ struct buf name = BUF_INIT(NAME_MAX_LEN), value = BUF_INIT(VALUE_MAX_LEN);
	unsigned line = r->line;
	bool has_value = false;
	int ret;

	if (buf_printf(&name, "%s.%c", section, lower(c)) < 0)
		return -E2BIG;
	for (;;) {
		c = next(r);
		if (r->eof || !is_keychar(c))
			break;
		if (buf_putc(&name, (char)lower(c)) < 0)
			return -E2BIG;
	}
	while (c == ' ' || c == '\t')
		c = next(r);
	if (c != '\n') {
		if (c != '=')
			return -EINVAL;
		ret = parse_value(r, &value);
		if (ret < 0)
			return ret;
		has_value = true;
	}
	return add_entry(cfg, &name, &value, has_value, alone ? line_start : key_at,
	                 alone ? r->pos : r->nl_at, line);
}

static int parse(struct reader *r, struct gitconfig *cfg)
{
	static const unsigned char bom[] = {0xef, 0xbb, 0xbf};
	_cleanup_buf_ struct buf section = BUF_INIT(NAME_MAX_LEN);
	size_t line_start = 0;
	bool comment = false, alone = true, have_section = false;

	if (memchr(r->s, '\0', r->len))
		return -EINVAL; /* git would read a value up to it: refuse rather than guess */
	if (r->len && r->s[0] == bom[0]) {
		if (r->len < 3 || memcmp(r->s, bom, 3) != 0)
			return -EINVAL; /* git does not take half a byte order mark */
		r->pos = 3;
	}
	for (;;) {
		size_t at = r->pos;
		int c = next(r), ret;

		if (c == '\n') {
			if (r->eof)
				return 0;
			comment = false;
			alone = true;
			line_start = r->pos;
			continue;
		}
		if (comment || is_space(c))
			continue;
		if (c == '#' || c == ';') {
			comment = true;
			continue;
		}
		if (c == '[') {
			buf_reset(&section);
			ret = section_name(r, &section);
			if (ret < 0)
				return ret;
			have_section = true;
			alone = false;
			continue;
		}
		if (!is_alpha(c) || !have_section)
			return -EINVAL;
		ret = entry(r, cfg, buf_str(&section), c, at, line_start, alone);
		if (ret < 0)
			return ret;
		alone = true;
		line_start = r->pos;
	}
}

int gitconfig_parse(const char *text, size_t len, struct gitconfig *ret, unsigned *ret_line)
{
	struct reader r = {.s = (const unsigned char *)text, .len = len, .line = 1};
	struct gitconfig c = {0};
	int e = parse(&r, &c);

	if (e < 0) {
		gitconfig_release(&c);
		if (ret_line)
			*ret_line = r.line;
		return e;
	}
	*ret = c;
	return 0;
}

void gitconfig_release(struct gitconfig *c)
{
	for (size_t i = 0; c && i < c->n; i++) {
		free(c->entries[i].name);
		free(c->entries[i].value);
	}
	if (c) {
		free(c->entries);
		*c = (struct gitconfig){0};
	}
}

/* ---- which keys run programs --------------------------------------------------------------- */

enum sub_rule { SUB_NONE, SUB_ANY, SUB_SOME };

struct program_key {
	const char *section;
	enum sub_rule sub;
	const char *keys; /* space-separated, "*" for every key */
};

/* Each names a program (or a shell command), pulls in configuration from elsewhere, or sends a
 * checkout somewhere else (core.worktree: a submodule's files written over the host's). Kept
 * broad: a key here that a repository needed is moved to the quarantine, where the user can take
 * it back; a key missing here runs the agent's program on the host. */
static const struct program_key program_keys[] = {
        {"core", SUB_NONE,
         "fsmonitor hookspath sshcommand pager editor askpass gitproxy alternaterefscommand "
         "worktree"},
        {"sequence", SUB_NONE, "editor"},
        {"diff", SUB_NONE, "external"},
        {"diff", SUB_SOME, "command textconv"},
        {"merge", SUB_SOME, "driver"},
        {"filter", SUB_SOME, "clean smudge process"},
        {"credential", SUB_ANY, "helper"},
        {"gpg", SUB_ANY, "program"},
        {"gpg", SUB_SOME, "defaultkeycommand"},
        {"include", SUB_NONE, "path"},
        {"includeif", SUB_SOME, "path"},
        {"alias", SUB_ANY, "*"}, /* "!cmd", and any alias can carry -c core.pager=... */
        {"pager", SUB_ANY, "*"},
        {"hook", SUB_ANY, "*"}, /* configuration-defined hooks */
        {"uploadpack", SUB_NONE, "packobjectshook"},
        {"interactive", SUB_NONE, "difffilter"},
        {"submodule", SUB_SOME, "update"},
        {"protocol", SUB_ANY, "allow"}, /* ext:: URLs run commands once allowed */
        {"remote", SUB_SOME, "uploadpack receivepack vcs"},
        {"difftool", SUB_SOME, "cmd path"},
        {"mergetool", SUB_SOME, "cmd path"},
        {"guitool", SUB_SOME, "cmd"},
        {"browser", SUB_SOME, "cmd path"},
        {"web", SUB_NONE, "browser"},
        {"help", SUB_NONE, "browser"},
        {"man", SUB_SOME, "cmd path"},
        {"man", SUB_NONE, "viewer"},
        {"sendemail", SUB_ANY, "smtpserver sendmailcmd tocmd cccmd headercmd"},
        {"imap", SUB_NONE, "tunnel"},
        {"instaweb", SUB_NONE, "httpd browser"},
        {"trailer", SUB_SOME, "command cmd"},
        {"init", SUB_NONE, "templatedir"},
        {"lfs", SUB_SOME, "path args clean smudge"},
};

static bool word_in(const char *words, const char *w, size_t n)
{
	for (const char *p = words; *p;) {
		size_t len = strcspn(p, " ");

		if ((len == 1 && *p == '*') || (len == n && memcmp(p, w, n) == 0))
			return true;
		p += len;
		p += strspn(p, " ");
	}
	return false;
}

bool gitconfig_runs_program(const char *name)
{
	const char *dot1 = strchr(name, '.'), *dot2 = strrchr(name, '.');
	size_t slen;
	bool has_sub;

	if (!dot1)
		return false;
	slen = (size_t)(dot1 - name);
	has_sub = dot2 != dot1;
	for (size_t i = 0; i < ELEMENTSOF(program_keys); i++) {
		const struct program_key *k = &program_keys[i];

		if (strlen(k->section) != slen || memcmp(k->section, name, slen) != 0)
			continue;
		if ((k->sub == SUB_NONE && has_sub) || (k->sub == SUB_SOME && !has_sub))
			continue;
		if (word_in(k->keys, dot2 + 1, strlen(dot2 + 1)))
			return true;
	}
	return false;
}

int gitconfig_without(const char *text, size_t len, const struct gitconfig *c, const bool *drop,
                      struct buf *out)
{
	size_t at = 0;
	int r;

	for (size_t i = 0; i < c->n; i++) {
		const struct gitconfig_entry *e = &c->entries[i];

		if (!drop[i])
			continue;
		if (e->start < at || e->end > len || e->start > e->end)
			return -EINVAL;
		r = buf_append(out, text + at, e->start - at);
		if (r < 0)
			return r;
		at = e->end;
	}
	return buf_append(out, text + at, len - at);
}
