/* SPDX-License-Identifier: MIT */
/* ere.c: an upper bound on the tree glibc's regcomp builds, computed in one pass (ere.h). */
#include "util/ere.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#define DEPTH_MAX 64 /* open groups; deeper is refused */

struct frame {
	size_t total; /* the group's size so far (its alternatives added) */
	size_t last;  /* the size of the atom a quantifier would repeat; 0: none */
};

/* One past the bracket expression at p ('[' at p[-1]): `[]a]`, `[^]a]`, `[[:alpha:]]`. */
static const char *skip_bracket(const char *p)
{
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	while (*p && *p != ']') {
		if (p[0] == '[' && (p[1] == ':' || p[1] == '=' || p[1] == '.')) {
			char end = p[1];

			for (p += 2; *p && !(p[0] == end && p[1] == ']'); p++)
				;
			if (*p)
				p += 2;
			continue;
		}
		p++;
	}
	return *p ? p + 1 : p;
}

/* An interval `{m}`, `{m,}`, `{m,n}` at p ('{' at p[-1]): how many copies it makes (n, or m + 1
 * when open), and one past it; NULL when it is not an interval (a literal brace to glibc). */
static const char *interval(const char *p, size_t *copies)
{
	char *end;
	unsigned long m, n;

	if (!isdigit((unsigned char)*p))
		return NULL;
	m = strtoul(p, &end, 10);
	n = m;
	if (*end == ',') {
		p = end + 1;
		if (isdigit((unsigned char)*p))
			n = strtoul(p, &end, 10);
		else
			n = m + 1, end = (char *)p;
	}
	if (*end != '}')
		return NULL;
	*copies = n > m ? n : m;
	if (*copies == 0)
		*copies = 1;
	return end + 1;
}

/* Adds a node of size n to f; false when past max. */
static bool add(struct frame *f, size_t n, size_t max)
{
	if (n > max || f->total > max - n)
		return false;
	f->total += n;
	f->last = n;
	return true;
}

/* Repeats f's last atom copies times (it is there once already). */
static bool repeat(struct frame *f, size_t copies, size_t max)
{
	size_t more;

	if (f->last == 0)
		return true; /* nothing to repeat: regcomp's error */
	if (copies > max / f->last)
		return false;
	more = f->last * (copies - 1) + 1;
	if (f->total > max - more)
		return false;
	f->total += more;
	f->last = f->last * copies + 1;
	return true;
}

int ere_cost_check(const char *re, size_t max, const char **why)
{
	struct frame st[DEPTH_MAX + 1] = {{0, 0}};
	int d = 0;
	size_t copies;
	const char *p = re, *q;

	*why = "repetitions that multiply past the cost coi accepts";
	while (*p) {
		struct frame *f = &st[d];
		bool ok = true;

		switch (*p) {
		case '\\':
			if (isdigit((unsigned char)p[1])) {
				*why = "a back-reference (\\1...)";
				return -EINVAL;
			}
			ok = add(f, 1, max);
			p += p[1] ? 2 : 1;
			break;
		case '[':
			ok = add(f, 1, max);
			p = skip_bracket(p + 1);
			break;
		case '(':
			if (d == DEPTH_MAX) {
				*why = "groups nested too deep";
				return -E2BIG;
			}
			st[++d] = (struct frame){0, 0};
			p++;
			break;
		case ')':
			if (d > 0) {
				size_t inner = st[d--].total;

				ok = add(&st[d], inner ? inner : 1, max);
			} else {
				ok = add(f, 1, max);
			}
			p++;
			break;
		case '|':
			f->last = 0;
			p++;
			break;
		case '*':
		case '+':
		case '?':
			ok = repeat(f, 2, max);
			p++;
			break;
		case '{':
			q = interval(p + 1, &copies);
			ok = q ? repeat(f, copies, max) : add(f, 1, max);
			p = q ? q : p + 1;
			break;
		default:
			ok = add(f, 1, max);
			p++;
			break;
		}
		if (!ok)
			return -E2BIG;
	}
	while (d > 0) { /* unclosed: regcomp refuses it; count it anyway */
		size_t inner = st[d--].total;

		if (!add(&st[d], inner, max))
			return -E2BIG;
	}
	return 0;
}
