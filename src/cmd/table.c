/* SPDX-License-Identifier: MIT */
/* table.c: see table.h. Cells are made safe for a terminal when added (names and paths coi did
 * not choose may hold escape sequences); widths count UTF-8 lead bytes and skip colour
 * sequences, so names with non-ASCII letters and coloured cells still line up. On a terminal
 * narrower than the table, the widest column is cut (with "…") to fit; a pipe always gets every
 * cell whole. */
#include "cmd/table.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/output.h"
#include "util/strv.h"
#include "util/term.h"

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

/* The length of a colour sequence at s of the kind coi writes (output_color: reset, bold, dim,
 * red, green, yellow, blue), else 0. Others (conceal, black on black) could hide text. */
static size_t sgr_len(const char *s)
{
	static const char *const codes[] = {"0", "1", "2", "22", "31", "32", "33", "34", "39"};
	size_t n = 2;

	if (s[0] != '\033' || s[1] != '[')
		return 0;
	for (;;) {
		size_t k = strspn(s + n, "0123456789"), i;

		for (i = 0; i < ELEMENTSOF(codes); i++)
			if (strlen(codes[i]) == k && strncmp(s + n, codes[i], k) == 0)
				break;
		if (i == ELEMENTSOF(codes))
			return 0;
		n += k;
		if (s[n] == 'm')
			return n + 1;
		if (s[n] != ';')
			return 0;
		n++;
	}
}

/* A cell as it may reach a terminal: a colour coi (or anyone) put in stays, every other control
 * character and escape sequence, a newline or a tab included, is shown as \xNN (util/term.h). */
static char *cell_dup(const char *s)
{
	size_t size = strlen(s) * 4 + 1, o = 0;
	char *out = malloc(size), *seg = strdup(s);

	if (!out || !seg) {
		free(out);
		free(seg);
		return NULL;
	}
	for (size_t i = 0; s[i];) {
		size_t n = sgr_len(s + i), k;

		if (n) {
			memcpy(out + o, s + i, n);
			o += n;
			i += n;
			continue;
		}
		/* up to the next colour sequence */
		for (k = i + 1; s[k] && !sgr_len(s + k); k++)
			;
		memcpy(seg, s + i, k - i);
		seg[k - i] = '\0';
		term_escape(seg, false, out + o, size - o);
		o += strlen(out + o);
		i = k;
	}
	out[o] = '\0';
	free(seg);
	return out;
}

int table_add(struct table *t, const char *const *cells)
{
	char **c = realloc(t->cells, sizeof(char *) * (t->rows + 1) * t->cols);

	if (!c)
		return -ENOMEM;
	t->cells = c;
	for (size_t i = 0; i < t->cols; i++) {
		c[t->rows * t->cols + i] = cell_dup(cells[i] && *cells[i] ? cells[i] : "-");
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

int table_or_json_print(struct table *t, json_t *arr)
{
	_cleanup_free_ char *text = NULL;

	if (t) {
		table_print(t, stdout);
		table_free(t);
		return EXIT_OK;
	}
	text = arr ? json_dumps(arr, JSON_INDENT(2)) : NULL;
	if (!text)
		return cmd_failf("out of memory");
	printf("%s\n", text);
	return EXIT_OK;
}
