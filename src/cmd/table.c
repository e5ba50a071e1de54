/* SPDX-License-Identifier: MIT */
/* table.c: see table.h. Widths count bytes of UTF-8 lead characters, so names with non-ASCII
 * letters still line up. */
#include "cmd/table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/strv.h"

struct table {
	size_t cols;
	char **cells; /* rows * cols, row 0 the headers */
	size_t rows;
};

static size_t text_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			w++;
	return w;
}

struct table *table_new(const char *const *headers)
{
	struct table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	while (headers[t->cols])
		t->cols++;
	if (table_add(t, headers) < 0)
		return table_free(t);
	return t;
}

int table_add(struct table *t, const char *const *cells)
{
	char **c = realloc(t->cells, sizeof(char *) * (t->rows + 1) * t->cols);

	if (!c)
		return -ENOMEM;
	t->cells = c;
	for (size_t i = 0; i < t->cols; i++) {
		c[t->rows * t->cols + i] = strdup(cells[i] && *cells[i] ? cells[i] : "-");
		if (!c[t->rows * t->cols + i]) {
			for (size_t j = 0; j < i; j++)
				free(c[t->rows * t->cols + j]);
			return -ENOMEM;
		}
	}
	t->rows++;
	return 0;
}

void table_print(const struct table *t, FILE *f)
{
	size_t *w = calloc(t->cols, sizeof(size_t));

	if (!w)
		return;
	for (size_t r = 0; r < t->rows; r++)
		for (size_t c = 0; c < t->cols; c++) {
			size_t l = text_width(t->cells[r * t->cols + c]);

			if (l > w[c])
				w[c] = l;
		}
	for (size_t r = 0; r < t->rows; r++) {
		for (size_t c = 0; c < t->cols; c++) {
			const char *s = t->cells[r * t->cols + c];

			fputs(s, f);
			if (c + 1 < t->cols)
				fprintf(f, "%*s", (int)(w[c] - text_width(s) + 2), "");
		}
		fputc('\n', f);
	}
	free(w);
}

struct table *table_free(struct table *t)
{
	if (!t)
		return NULL;
	for (size_t i = 0; i < t->rows * t->cols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
	return NULL;
}
