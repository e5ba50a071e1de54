/* SPDX-License-Identifier: MIT */
/* Terminal conventions: colour only on a terminal and never with NO_COLOR or TERM=dumb, the
 * terminal's width, tables cut to fit a narrow terminal but whole in a pipe, colour sequences
 * not counted as width, and the usage-text reader behind completion. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cmd/output.h"
#include "cmd/table.h"
#include "cmd/usage.h"
#include "tap.h"
#include "util/strv.h"

/* A pseudo-terminal of the given width: *ret_master to read, returns the slave as a FILE. */
static FILE *pty_open(unsigned short cols, int *ret_master)
{
	struct winsize ws = {.ws_row = 24, .ws_col = cols};
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), s;
	FILE *f;

	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0)
		return NULL;
	s = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0 || ioctl(s, TIOCSWINSZ, &ws) < 0)
		return NULL;
	f = fdopen(s, "w");
	*ret_master = m;
	return f;
}

/* Everything the terminal received: read until it has been quiet for 100 ms (bounded). */
static size_t pty_read(int m, char *buf, size_t size)
{
	struct pollfd p = {.fd = m, .events = POLLIN};
	size_t len = 0;

	for (int i = 0; i < 50 && len + 1 < size && poll(&p, 1, 100) > 0; i++) {
		ssize_t n = read(m, buf + len, size - 1 - len);

		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return len;
}

static void test_color_only_on_a_terminal(void)
{
	int m = -1;
	FILE *tty = pty_open(80, &m), *pipe_f = tmpfile();

	CHECK(tty && pipe_f);
	if (!tty || !pipe_f)
		return;
	unsetenv("NO_COLOR");
	setenv("TERM", "xterm", 1);
	CHECK(output_use_color(tty));
	CHECK_STREQ(output_color(tty, OUTPUT_RED), "\033[31m");
	CHECK(!output_use_color(pipe_f));
	CHECK_STREQ(output_color(pipe_f, OUTPUT_RED), "");
	setenv("NO_COLOR", "1", 1);
	CHECK(!output_use_color(tty));
	CHECK_STREQ(output_color(tty, OUTPUT_GREEN), "");
	setenv("NO_COLOR", "", 1); /* no-color.org: set but empty means colour is fine */
	CHECK(output_use_color(tty));
	setenv("TERM", "dumb", 1);
	CHECK(!output_use_color(tty));
	unsetenv("NO_COLOR");
	CHECK(output_status_color("Running") == OUTPUT_GREEN);
	CHECK(output_status_color("Orphaned") == OUTPUT_RED);
	CHECK(output_status_color(NULL) == OUTPUT_RESET);
	fclose(tty);
	fclose(pipe_f);
	close(m);
}

static void test_width(void)
{
	int m = -1;
	FILE *tty = pty_open(57, &m), *pipe_f = tmpfile();

	CHECK(tty && pipe_f);
	if (!tty || !pipe_f)
		return;
	CHECK(output_width(tty) == 57);
	CHECK(output_width(pipe_f) == 0);
	fclose(tty);
	fclose(pipe_f);
	close(m);
}

static struct table *sample_table(void)
{
	static const char *const h[] = {"NAME", "WORKSPACE", "STATUS", NULL};
	static const char *const r1[] = {"coi-1234abcd-1",
	                                 "/home/someone/projects/a-long-project-name",
	                                 "\033[32mRunning\033[0m", NULL};
	static const char *const r2[] = {"coi-1234abcd-2", "/srv/x", "Stopped", NULL};
	struct table *t = table_new(h);

	if (t && (table_add(t, r1) < 0 || table_add(t, r2) < 0))
		return table_free(t);
	return t;
}

static void test_table_fits_a_narrow_terminal(void)
{
	struct table *t = sample_table();
	char buf[4096], *line2;
	int m = -1;
	FILE *tty = pty_open(50, &m);

	CHECK(t && tty);
	if (!t || !tty)
		return;
	table_print(t, tty);
	fflush(tty);
	pty_read(m, buf, sizeof(buf));
	line2 = strstr(buf, "coi-1234abcd-1");
	CHECK(line2 && strstr(line2, "\xe2\x80\xa6")); /* the workspace was cut with "…" */
	CHECK(line2 && strstr(line2, "Running"));      /* and the status kept */
	CHECK(strstr(buf, "/srv/x") != NULL);
	table_free(t);
	fclose(tty);
	close(m);
}

static void test_table_whole_in_a_pipe(void)
{
	struct table *t = sample_table();
	FILE *f = tmpfile();
	char buf[4096] = {0};
	size_t n;

	CHECK(t && f);
	if (!t || !f)
		return;
	table_print(t, f);
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	CHECK(strstr(buf, "/home/someone/projects/a-long-project-name  ") != NULL);
	/* the coloured cell counts as 7 columns: "Stopped" lines up under "Running" */
	CHECK(strstr(buf, "/srv/x                                      Stopped") != NULL);
	CHECK(strstr(buf, "a-long-project-name  \033[32mRunning") != NULL);
	table_free(t);
	fclose(f);
}

/* What table_print writes, as a string in buf. */
static const char *printed(const struct table *t, char *buf, size_t size)
{
	FILE *f = tmpfile();
	size_t n = 0;

	if (f) {
		table_print(t, f);
		rewind(f);
		n = fread(buf, 1, size - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

/* A name coi did not choose reaches the terminal escaped; coi's own colour stays. */
static void test_table_escapes(void)
{
	static const char *const h[] = {"NAME", "WORKSPACE", "STATUS", NULL};
	static const char *const r[] = {"coi-1", "/tmp/x\033]0;pwned\a\033[2J\ny",
	                                "\033[32mRunning\033[0m", NULL};
	struct table *t = table_new(h);
	char buf[4096];

	CHECK(t && table_add(t, r) == 0);
	if (!t)
		return;
	printed(t, buf, sizeof(buf));
	CHECK(strstr(buf, "/tmp/x\\x1B]0;pwned\\x07\\x1B[2J\\x0Ay") != NULL);
	CHECK(strstr(buf, "\033[32mRunning\033[0m") != NULL);
	CHECK(strchr(buf, '\a') == NULL && strstr(buf, "\033]") == NULL);
	CHECK_STREQ(output_safe("a\033[2Jb"), "a\\x1B[2Jb");
	/* colours that would hide text are not coi's: escaped */
	CHECK(table_add(t, (const char *const[]){"\033[8mhidden", "\033[30;40mx", "\033[1;31my",
	                                         NULL}) == 0);
	printed(t, buf, sizeof(buf));
	CHECK(strstr(buf, "\\x1B[8mhidden") && strstr(buf, "\\x1B[30;40mx") &&
	      strstr(buf, "\033[1;31my"));
	CHECK_STREQ(output_safe("plain"), "plain");
	table_free(t);
}

static void test_usage_reader(void)
{
	static const char text[] = "Usage: coi thing SUBCOMMAND [-c CONTAINER] ...\n"
	                           "\n"
	                           "  go NAME [--fast] [--mode a|b]\n"
	                           "       [--to DIR]   goes\n"
	                           "  stop NAME|--all\n"
	                           "\n"
	                           "  -w, --workspace DIR  the project\n"
	                           "  --json, --format json   JSON";
	struct usage u = {0};
	const struct usage_opt *o;

	CHECK(usage_parse("thing", text, NULL, &u) == 0);
	CHECK(strv_length(u.subcommands) == 2);
	CHECK(strv_contains(u.subcommands, "go") && strv_contains(u.subcommands, "stop"));
	CHECK(u.positionals == NULL);
	o = usage_find_opt(&u, "-w");
	CHECK(o && o->arg && strcmp(o->arg, "DIR") == 0 && o->help);
	o = usage_find_opt(&u, "--json");
	CHECK(o && !o->arg);
	o = usage_find_opt(&u, "--format");
	CHECK(o && o->arg && strcmp(o->arg, "json") == 0);
	usage_release(&u);

	CHECK(usage_parse("thing", text, "go", &u) == 0);
	CHECK(u.positionals && strcmp(u.positionals[0], "NAME") == 0 && !u.positionals[1]);
	o = usage_find_opt(&u, "--mode");
	CHECK(o && o->arg && strcmp(o->arg, "a|b") == 0);
	CHECK(usage_find_opt(&u, "--to") != NULL); /* from the continuation line */
	CHECK(usage_find_opt(&u, "-c") != NULL);   /* from the verb's own synopsis */
	CHECK(usage_find_opt(&u, "--all") == NULL);
	usage_release(&u);

	CHECK(usage_kind(NULL, "NAME", text) == USAGE_NONE); /* the verb speaks of CONTAINER */
	CHECK(usage_kind(NULL, "NAME...", "coi kill NAME...") == USAGE_CONTAINER);
	CHECK(usage_kind(NULL, "DIR|FILE", "") == USAGE_FILE);
	CHECK(usage_kind("--profile", "NAME", "") == USAGE_PROFILE);
	CHECK(usage_kind("--format", "text|json", "") == USAGE_CHOICE);
	CHECK(usage_kind("--slot", "N", "") == USAGE_NONE);
}

static void test_hints(void)
{
	const char *h = output_hint(-EHOSTDOWN, "cannot reach incus: socket '/x' does not exist");

	CHECK(h && strstr(h, "daemon running"));
	h = output_hint(-ECONNREFUSED, "cannot reach incus at 'https://h:8443': refused");
	CHECK(h && strstr(h, "remote_url"));
	CHECK(output_hint(-EINVAL, "invalid profile name 'x'") == NULL);
	CHECK(output_hint(0, "cannot reach incus") == NULL);
}

/* Progress bars draw on stderr only when it is a terminal. */
static void test_progress(void)
{
	struct output_progress bar;
	char buf[4096];
	int m = -1, saved = dup(2);
	FILE *tty = pty_open(60, &m);

	CHECK(tty && saved >= 0);
	if (!tty || saved < 0)
		return;
	output_progress_begin(&bar, "importing"); /* stderr is not a terminal here */
	CHECK(!bar.active);
	output_progress_update(&bar, 1, 2);
	CHECK(dup2(fileno(tty), 2) == 2);
	output_progress_begin(&bar, "importing");
	CHECK(bar.active);
	output_progress_update(&bar, 50, 100);
	output_progress_end(&bar);
	fflush(stderr);
	CHECK(dup2(saved, 2) == 2);
	pty_read(m, buf, sizeof(buf));
	CHECK(strstr(buf, "importing [") != NULL);
	CHECK(strstr(buf, "#....") != NULL);
	CHECK(strstr(buf, " 50%") != NULL);
	CHECK(strstr(buf, "\r\033[K") != NULL); /* end clears the line */
	close(saved);
	fclose(tty);
	close(m);
}

int main(void)
{
	RUN(test_color_only_on_a_terminal);
	RUN(test_width);
	RUN(test_table_fits_a_narrow_terminal);
	RUN(test_table_whole_in_a_pipe);
	RUN(test_table_escapes);
	RUN(test_usage_reader);
	RUN(test_hints);
	RUN(test_progress);
	return tap_done();
}
