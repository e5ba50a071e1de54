/* SPDX-License-Identifier: MIT */
/* The git configuration reader (session/gitconfig.h): what it reads, what it refuses, which keys
 * run programs, and removing entries leaves every other byte alone. Where git is installed, git
 * itself is the oracle: on a list of tricky files and on a few hundred generated ones, whenever
 * git reads a file, coi must read exactly the same variables and values, or refuse the file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "session/gitconfig.h"
#include "tap.h"
#include "util/buf.h"
#include "util/cleanup.h"

static int parse(const char *text, struct gitconfig *c)
{
	return gitconfig_parse(text, strlen(text), c, NULL);
}

static void test_basic(void)
{
	struct gitconfig c = {0};
	const char *t = "[core]\n\trepositoryformatversion = 0\n\tbare\n"
	                "[remote \"Origin\"]\n\turl = \"a b\" ; comment\n"
	                "[Alias]\n\tST = !sh -c \"echo \\\"x\\\"\" # c\n";

	CHECK(parse(t, &c) == 0);
	CHECK(c.n == 4);
	if (c.n == 4) {
		CHECK_STREQ(c.entries[0].name, "core.repositoryformatversion");
		CHECK_STREQ(c.entries[0].value, "0");
		CHECK_STREQ(c.entries[1].name, "core.bare");
		CHECK(c.entries[1].value == NULL);
		CHECK_STREQ(c.entries[2].name, "remote.Origin.url");
		CHECK_STREQ(c.entries[2].value, "a b");
		CHECK_STREQ(c.entries[3].name, "alias.st");
		CHECK_STREQ(c.entries[3].value, "!sh -c echo \"x\"");
		CHECK(c.entries[3].line == 7);
	}
	gitconfig_release(&c);
}

static void test_refused(void)
{
	static const char *const bad[] = {
	        "k = v\n", /* a key before any section: git takes it, coi refuses */
	        "[core]\n\tpager = a\0b\n", /* (cut at the NUL by strlen: checked below) */
	        "[core\n",
	        "[]\n",
	        "[a \"b]\n",
	        "[core]\n\t1x = y\n",
	        "[core]\nk = \"open\n",
	        "[core]\nk = a\\qb\n",
	        "[core]\nk # c\n",
	        "\xef\xbbx[core]\n",
	};
	struct gitconfig c = {0};
	unsigned line = 0;

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		int r = parse(bad[i], &c);

		if (r == 0)
			gitconfig_release(&c);
		if (i == 1)
			continue;
		if (r != -EINVAL)
			printf("# accepted: '%s'\n", bad[i]);
		CHECK(r == -EINVAL);
	}
	CHECK(gitconfig_parse("[core]\n\tpager = a\0b\n", 20, &c, &line) == -EINVAL);
	CHECK(gitconfig_parse("[core]\n\n\tk = \"x\n", 16, &c, &line) == -EINVAL);
	CHECK(line == 3);
}

static void test_program_keys(void)
{
	static const char *const yes[] = {
	        "core.fsmonitor",
	        "core.hookspath",
	        "core.sshcommand",
	        "core.pager",
	        "core.editor",
	        "core.askpass",
	        "core.worktree",
	        "diff.external",
	        "diff.x.textconv",
	        "diff.x.command",
	        "filter.lfs.smudge",
	        "filter.a.b.clean",
	        "filter.x.process",
	        "credential.helper",
	        "credential.https://h.example.helper",
	        "gpg.program",
	        "gpg.ssh.program",
	        "gpg.ssh.defaultkeycommand",
	        "sequence.editor",
	        "uploadpack.packobjectshook",
	        "alias.st",
	        "alias.x.y",
	        "include.path",
	        "includeif.gitdir:/x/.path",
	        "pager.log",
	        "submodule.s.update",
	        "protocol.ext.allow",
	        "protocol.allow",
	        "remote.o.uploadpack",
	        "merge.m.driver",
	        "interactive.difffilter",
	        "trailer.t.command",
	        "lfs.customtransfer.x.path",
	        "hook.h.command",
	};
	static const char *const no[] = {
	        "core.bare",        "core.filemode",    "diff.textconv",     "filter.clean",
	        "include.x.path",   "includeif.path",   "remote.origin.url", "user.email",
	        "submodule.update", "core.x.fsmonitor", "gpg.format",        "coresfsmonitor",
	};

	for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
		if (!gitconfig_runs_program(yes[i]))
			printf("# not matched: %s\n", yes[i]);
		CHECK(gitconfig_runs_program(yes[i]));
	}
	for (size_t i = 0; i < ELEMENTSOF(no); i++) {
		if (gitconfig_runs_program(no[i]))
			printf("# matched: %s\n", no[i]);
		CHECK(!gitconfig_runs_program(no[i]));
	}
}

/* Drop every key that runs a program; the rest must be byte for byte what it was. */
static void test_without(void)
{
	const char *t = "[core]\n"
	                "\tbare = false\n"
	                "\tfsmonitor = \"evil \\\n"
	                "  continued\" # comment\r\n"
	                "[core]fsmonitor=x\n"
	                "  ; a comment\n"
	                "[alias] st = !x\n"
	                "[user]\n\temail = a@b";
	const char *want = "[core]\n"
	                   "\tbare = false\n"
	                   "[core]\n"
	                   "  ; a comment\n"
	                   "[alias] \n"
	                   "[user]\n\temail = a@b";
	struct gitconfig c = {0}, again = {0};
	_cleanup_buf_ struct buf out = BUF_INIT(1 << 16);
	bool drop[16] = {0};

	CHECK(parse(t, &c) == 0);
	CHECK(c.n == 5);
	for (size_t i = 0; i < c.n && i < 16; i++)
		drop[i] = gitconfig_runs_program(c.entries[i].name);
	CHECK(gitconfig_without(t, strlen(t), &c, drop, &out) == 0);
	CHECK_STREQ(buf_str(&out), want);
	CHECK(gitconfig_parse(out.data, out.len, &again, NULL) == 0);
	CHECK(again.n == 2);
	gitconfig_release(&c);
	gitconfig_release(&again);
}

/* ---- git as the oracle ---------------------------------------------------------------------- */

static bool have_git(void)
{
	return system("git --version >/dev/null 2>&1") == 0;
}

/* git config --file F --null --list, run where no repository and no user config is read. */
static int git_list(const char *text, size_t len, struct buf *out)
{
	char path[] = "/tmp/coi-t-gitconfig-XXXXXX";
	int fd = mkstemp(path), p[2], status;
	pid_t pid;

	if (fd < 0 || write(fd, text, len) != (ssize_t)len || pipe(p) < 0)
		return -EIO;
	close(fd);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(p[1], 1);
		dup2(null, 2);
		if (chdir("/") < 0)
			_exit(127);
		execle("/usr/bin/git", "git", "config", "--file", path, "--null", "--list", NULL,
		       (char *[]){"GIT_CONFIG_NOSYSTEM=1", "HOME=/nonexistent",
		                  "XDG_CONFIG_HOME=/nonexistent", "PATH=/usr/bin:/bin", NULL});
		_exit(127);
	}
	close(p[1]);
	for (char chunk[4096];;) {
		ssize_t n = read(p[0], chunk, sizeof(chunk));

		if (n <= 0)
			break;
		(void)buf_append(out, chunk, (size_t)n);
	}
	close(p[0]);
	waitpid(pid, &status, 0);
	unlink(path);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EINVAL;
}

/* The same "name\nvalue\0" list from coi's reading. */
static void coi_list(const struct gitconfig *c, struct buf *out)
{
	for (size_t i = 0; i < c->n; i++) {
		(void)buf_puts(out, c->entries[i].name);
		if (c->entries[i].value) {
			(void)buf_putc(out, '\n');
			(void)buf_puts(out, c->entries[i].value);
		}
		(void)buf_append(out, "", 1);
	}
}

static int agree_fail, agree_strict, agree_same, agree_both_refuse;

static void compare_with_git(const char *text, size_t len)
{
	_cleanup_buf_ struct buf g = BUF_INIT(1 << 20), m = BUF_INIT(1 << 20);
	struct gitconfig c = {0};
	int rg = git_list(text, len, &g), rm = gitconfig_parse(text, len, &c, NULL);

	if (rm == 0)
		coi_list(&c, &m);
	if (rg < 0 && rm < 0)
		agree_both_refuse++;
	else if (rg == 0 && rm < 0)
		agree_strict++; /* coi refuses what git reads: the file is treated as suspect */
	else if (rg == 0 && g.len == m.len &&
	         memcmp(g.data ? g.data : "", m.data ? m.data : "", g.len) == 0)
		agree_same++;
	else if (rg < 0 && rm == 0)
		agree_same++; /* git refuses the file: git runs nothing from it */
	else {
		agree_fail++;
		printf("# disagreement on: '%.*s'\n", (int)len, text);
	}
	gitconfig_release(&c);
}

static const char *const tricky[] = {
        "[core]\n\tfsmonitor = x\n",
        "[CORE]\n\tFSMonitor = x\n",
        "[core]fsmonitor=x",
        "[core] fsmonitor = x ; y\n",
        "[core]\n\tpager = \"a\\\"b\" c\\\\d\n",
        "[core]\n\tpager = a\\\n b\n",
        "[core]\n\tpager = a \\\n\n",
        "[core]\r\n\tpager = x\r\n",
        "[core]\n\tpager = x\ry\n",
        "\xef\xbb\xbf[core]\n\tpager = x\n",
        "[core.x]\n\tpager = x\n",
        "[Core \"X\"]\n\tPager = x\n",
        "[a \"b\\\\c\\\"d\\e\"]\n\tk = v\n",
        "[a   \"b\"]\nk=v\n",
        "[a\t\"b\"]\nk=v\n",
        "[alias]\n\tst = !echo hi\n[alias \"x\"]\n\ty = z\n",
        "[core]\n\tfsmonitor\n",
        "[core]\n\tfsmonitor =\n",
        "[core]\n\tfsmonitor = \"\"\n",
        "[core]\n\tfsmonitor = \"# not a comment\"\n",
        "[core]\n\tfsmonitor = a#b\n",
        "[core]\n\tfsmonitor = a\"#\"b\n",
        "[core]\n\tfsmonitor = \"a\n",
        "[core]\n\tfs-monitor = x\n",
        "[core]\n\tfsmonitor\t= x\n",
        "[core]\n\tfsmonitor = \\t\\n\\b\n",
        "[core] ; c\n\t; c\n# c\n\tfsmonitor = x\n",
        "[core]\n\n\n\tfsmonitor = x",
        "[include]\n\tpath = ../x\n[includeIf \"gitdir:/w/\"]\n\tpath = y\n",
        "[core]\n\tk = v\n[",
        "[core]\n\tk = v\n]",
        "[core]\n\t k = v\n",
        "[core]k\n",
        "[core]k=\n",
        "[core] [user] k = v\n",
        "[\"a\"]\nk=v\n",
        "[a.]\nk=v\n",
        "[.a]\nk=v\n",
        "[a \"\"]\nk=v\n",
        "[a\"b\"]\nk=v\n",
        "[a \"b\" ]\nk=v\n",
        "[a \"b\"c]\nk=v\n",
        "[core]\n\tpager = x\\\r\n y\n",
        "[core]\n\tpager = \" a \"  b  \n",
};

static void test_against_git(void)
{
	if (!have_git()) {
		printf("# git is not installed: the oracle comparison is skipped\n");
		return;
	}
	for (size_t i = 0; i < ELEMENTSOF(tricky); i++)
		compare_with_git(tricky[i], strlen(tricky[i]));
	CHECK(agree_fail == 0);
}

/* Files made of random lines: headers, keys with values built from the pieces of the value
 * syntax (quotes, escapes, comments, continuations), comments, blank lines. */
static unsigned rnd(unsigned *seed, unsigned n)
{
	*seed = *seed * 1103515245u + 12345u;
	return (*seed >> 16) % n;
}

static void put(char *text, size_t *len, size_t cap, const char *s)
{
	size_t n = strlen(s);

	if (*len + n < cap) {
		memcpy(text + *len, s, n);
		*len += n;
	}
}

static void test_generated_against_git(void)
{
	static const char *const header[] = {
	        "[core]",           "[alias]",       "[a \"B c\"]", "[x.Y]",
	        "[core] ",          "[s \"q\\\"\"]", "[ core]",     "[core \"x\"] k = v",
	        "[filter \"lfs\"]",
	};
	static const char *const key[] = {"fsmonitor", "Pager", "k", "x-y", "a1", "editor", "9k"};
	static const char *const piece[] = {
	        "a",   "b c",  " ", "\t", "\"",   "\\\"", "\\\\", "\\t", "\\n",
	        "\\b", "\\\n", "#", ";",  "!cmd", "\\q",  "\r",   "  ",  "=",
	};
	static const char *const eol[] = {"\n", "\r\n", "", "\n\n", " # c\n", "\\\n"};
	unsigned seed = 12345;

	if (!have_git())
		return;
	for (int n = 0; n < 400; n++) {
		char text[1024];
		size_t len = 0;
		int lines = 1 + (int)rnd(&seed, 8);

		put(text, &len, sizeof(text), header[rnd(&seed, 3)]);
		put(text, &len, sizeof(text), "\n");
		for (int l = 0; l < lines; l++) {
			unsigned kind = rnd(&seed, 10);

			if (kind == 0) {
				put(text, &len, sizeof(text),
				    header[rnd(&seed, ELEMENTSOF(header))]);
			} else if (kind == 1) {
				put(text, &len, sizeof(text), rnd(&seed, 2) ? "# x" : "; y");
			} else if (kind > 2) {
				int parts = (int)rnd(&seed, 6);

				put(text, &len, sizeof(text), rnd(&seed, 2) ? "\t" : "");
				put(text, &len, sizeof(text), key[rnd(&seed, ELEMENTSOF(key))]);
				put(text, &len, sizeof(text), rnd(&seed, 4) ? " = " : "");
				for (int p = 0; p < parts; p++)
					put(text, &len, sizeof(text),
					    piece[rnd(&seed, ELEMENTSOF(piece))]);
			}
			put(text, &len, sizeof(text), eol[rnd(&seed, ELEMENTSOF(eol))]);
		}
		compare_with_git(text, len);
	}
	printf("# generated: %d read alike, %d refused by both, %d refused by coi only, "
	       "%d disagreements\n",
	       agree_same, agree_both_refuse, agree_strict, agree_fail);
	CHECK(agree_fail == 0);
}

int main(void)
{
	RUN(test_basic);
	RUN(test_refused);
	RUN(test_program_keys);
	RUN(test_without);
	RUN(test_against_git);
	RUN(test_generated_against_git);
	return tap_done();
}
