/* SPDX-License-Identifier: MIT */
#include "util/strv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char **strv_free(char **l)
{
	strv_foreach(s, l)
		free(*s);
	free(l);
	return NULL;
}

size_t strv_length(char *const *l)
{
	size_t n = 0;

	while (l && l[n])
		n++;
	return n;
}

int strv_consume(char ***l, char *s)
{
	size_t n = strv_length(*l);
	char **p;

	if (!s)
		return -ENOMEM;
	p = realloc(*l, sizeof(char *) * (n + 2));
	if (!p) {
		free(s);
		return -ENOMEM;
	}
	p[n] = s;
	p[n + 1] = NULL;
	*l = p;
	return 0;
}

int strv_pushf(char ***l, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? -ENOMEM : strv_consume(l, s);
}

int strv_push(char ***l, const char *s)
{
	return strv_consume(l, strdup(s));
}

bool strv_contains(char *const *l, const char *s)
{
	for (size_t i = 0; l && l[i]; i++)
		if (strcmp(l[i], s) == 0)
			return true;
	return false;
}

char **strv_copy(char *const *l)
{
	char **r = calloc(1, sizeof(char *));

	if (!r)
		return NULL;
	for (size_t i = 0; l && l[i]; i++)
		if (strv_push(&r, l[i]) < 0)
			return strv_free(r);
	return r;
}

char *strv_join(char *const *l, const char *sep)
{
	size_t n = 0, sl = strlen(sep), k = strv_length(l);
	char *r, *p;

	for (size_t i = 0; i < k; i++)
		n += strlen(l[i]) + (i ? sl : 0);
	r = malloc(n + 1);
	if (!r)
		return NULL;
	p = r;
	for (size_t i = 0; i < k; i++) {
		if (i) {
			memcpy(p, sep, sl);
			p += sl;
		}
		n = strlen(l[i]);
		memcpy(p, l[i], n);
		p += n;
	}
	*p = '\0';
	return r;
}

char **strv_split(const char *s, const char *seps)
{
	char **r = calloc(1, sizeof(char *));

	if (!r)
		return NULL;
	while (*s) {
		size_t skip = strspn(s, seps), len;

		s += skip;
		len = strcspn(s, seps);
		if (len == 0)
			break;
		if (strv_consume(&r, strndup(s, len)) < 0)
			return strv_free(r);
		s += len;
	}
	return r;
}
