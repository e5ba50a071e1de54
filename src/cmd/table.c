/* SPDX-License-Identifier: MIT */
/* table.c: see table.h. Widths count UTF-8 lead bytes and skip colour sequences, so names with
 * non-ASCII letters and coloured cells still line up. On a terminal narrower than the table, the
 * widest column is cut (with "…") to fit; a pipe always gets every cell whole. */
#include "cmd/table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/output.h"
#include "util/strv.h"

#define CUT_MIN 8 /* never cut a column narrower than this */

struct table {
	size_t cols;
	char **cells; /* rows * cols, row 0 the headers */
	size_t rows;
};

static size_t text_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++) {
		if (s[0] == '\033' && s[1] == '[') { /* a colour sequence: ESC [ ... m */
			s += 1 + strcspn(s + 1, "m");
			if (!*s)
				break;
			continue;
		}
		if (((unsigned char)*s & 0xC0) != 0x80)
			w++;
	}
	return w;
}

/* Print s in at most w columns: whole, or its first w-1 characters and "…". */
static void put_cut(const char *s, size_t w, FILE *f)
{
	size_t n = 0, i = 0;

	if (text_width(s) <= w || strchr(s, '\033')) {
		fputs(s, f);
		return;
	}
	for (; s[i]; i++) {
		if (((unsigned char)s[i] & 0xC0) != 0x80 && n++ == w - 1)
			break;
	}
	fprintf(f, "%.*s\u2026", (int)i, s);
}

/* Shrink the widest column (never the first: the name a user copies), down to CUT_MIN at most,
 * so the table fits a terminal of cols columns (0: no limit). If that is not enough, the terminal
 * wraps, as it would anyway; cutting every column would leave nothing readable. */
static void fit(size_t *w, size_t ncols, unsigned cols)
{
	size_t total = 0, widest = 0;

	for (size_t c = 0; c < ncols; c++) {
		total += w[c] + (c + 1 < ncols ? 2 : 0);
		if (c > 0 && (widest == 0 || w[c] > w[widest]))
			widest = c;
	}
	if (cols == 0 || total <= cols || widest == 0 || w[widest] <= CUT_MIN)
		return;
	w[widest] = w[widest] - CUT_MIN > total - cols ? w[widest] - (total - cols) : CUT_MIN;
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
	fit(w, t->cols, output_width(f));
	for (size_t r = 0; r < t->rows; r++) {
		for (size_t c = 0; c < t->cols; c++) {
			const char *s = t->cells[r * t->cols + c];
			size_t l = text_width(s);

			put_cut(s, w[c], f);
			if (c + 1 < t->cols)
				fprintf(f, "%*s", (int)((l < w[c] ? w[c] - l : 0) + 2), "");
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
