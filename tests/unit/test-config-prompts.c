/* SPDX-License-Identifier: MIT */
/* test-config-prompts: [prompts], the named prompts of 'coi run --prompt-name': both forms,
 * paths relative to the file that names them, errors with file:line:column, layering (a later
 * file replaces a prompt by name and keeps the others), the trust gate of a project file, and
 * reading: a project's prompt file must resolve inside the project (symlinks followed), the
 * size cap, NUL bytes, empty prompts, and an unknown name with its suggestion. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "config/trust.h"
#include "tap.h"
#include "util/error.h"
#include "util/strv.h"

static char dir[] = "/tmp/coi-t-prompts-cfg-XXXXXX";

static const char *at(const char *rel)
{
	static char ring[4][512];
	static int i;
	char *p = ring[i++ % 4];

	snprintf(p, 512, "%s/%s", dir, rel);
	return p;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* The user's file is user.toml, the workspace ws/ (its file ws/.coi/config.toml). */
static int load(const char *profile, struct coi_config **ret, char ***ret_w, struct coi_error *err)
{
	return config_load(&(struct config_load_opts){.workspace = at("ws"),
	                                              .user_file = at("user.toml"),
	                                              .profile = profile},
	                   ret, ret_w, err);
}

/* The error message when text is loaded as the user's file (empty when it loads). */
static const char *load_error(const char *text)
{
	static struct coi_error err;
	struct coi_config *c = NULL;

	err = (struct coi_error){0};
	unlink(at("ws/.coi/config.toml"));
	write_text(at("user.toml"), text);
	if (load(NULL, &c, NULL, &err) >= 0) {
		config_free(c);
		return "";
	}
	return err.msg;
}

/* The text of prompt name (NULL on error, message in err). */
static char *text_of(const struct coi_config *c, const char *name, size_t max,
                     struct coi_error *err)
{
	char *s = NULL;

	*err = (struct coi_error){0};
	return config_prompt_text(c, name, max, &s, err) < 0 ? NULL : s;
}

static void test_forms(void)
{
	struct coi_config *c = NULL;
	struct coi_error err = {0};
	char **w = NULL;
	const struct config_prompt *p;

	unlink(at("ws/.coi/config.toml"));
	write_text(at("user.toml"), "[prompts]\n"
	                            "review = \"Review the last commit\"\n"
	                            "triage = { file = \"prompts/triage.md\" }\n"
	                            "abs = { file = \"/etc/../etc/hostname\" }\n"
	                            "home = { file = \"~/p.md\" }\n"
	                            "coihome = { file = \"~/.coi/p.md\" }\n"
	                            "[prompts.\"v1.2_x-y\"]\n"
	                            "file = \"sub/../v.md\"\n");
	CHECK(load(NULL, &c, &w, &err) == 0);
	CHECK(strv_length(w) == 0);
	w = strv_free(w);
	if (!c)
		return;
	CHECK(c->n_prompts == 6);
	p = config_prompt_find(c, "review");
	CHECK(p && p->text && strcmp(p->text, "Review the last commit") == 0 && !p->file);
	CHECK(p && !p->root && strstr(p->origin, "user.toml:2"));
	p = config_prompt_find(c, "triage");
	CHECK(p && !p->text && p->file && strcmp(p->file, at("prompts/triage.md")) == 0);
	p = config_prompt_find(c, "abs");
	CHECK(p && p->file && strcmp(p->file, "/etc/hostname") == 0);
	p = config_prompt_find(c, "home");
	CHECK(p && p->file && strcmp(p->file, at("home/p.md")) == 0);
	p = config_prompt_find(c, "coihome");
	CHECK(p && p->file && strcmp(p->file, at("coi/p.md")) == 0);
	p = config_prompt_find(c, "v1.2_x-y");
	CHECK(p && p->file && strcmp(p->file, at("v.md")) == 0);
	CHECK(config_prompt_find(c, "nope") == NULL);
	config_free(c);
}

static void test_errors(void)
{
	CHECK(strstr(load_error("[prompts]\nreview = 42\n"),
	             "user.toml:2:10: 'prompts' 'review' must be a string or { file = \"path\" }, "
	             "not integer"));
	CHECK(strstr(load_error("[prompts]\nreview = [\"a\"]\n"), "'review' must be a string"));
	CHECK(strstr(load_error("[prompts]\nx = \"\"\n"), "user.toml:2:5: 'prompts' 'x' is empty"));
	CHECK(strstr(load_error("[prompts]\nx = \"a\\u0000b\"\n"), "'x' holds a NUL byte"));
	CHECK(strstr(load_error("[prompts]\nx = { path = \"a\" }\n"),
	             "user.toml:2:14: 'prompts' 'x' has an unknown field 'path' (known: file)"));
	CHECK(strstr(load_error("[prompts]\nx = {}\n"),
	             "user.toml:2:5: 'prompts' 'x' needs a string 'file'"));
	CHECK(strstr(load_error("[prompts]\nx = { file = 3 }\n"),
	             "user.toml:2:14: 'prompts' 'x' needs a string 'file'"));
	CHECK(strstr(load_error("[prompts]\nx = { file = \"\" }\n"), "'x' needs a string 'file'"));
	CHECK(strstr(load_error("[prompts]\n\"a b\" = \"x\"\n"),
	             "user.toml:2:9: 'prompts' has \"a b\", which is not a prompt name"));
	CHECK(strstr(load_error("[prompts]\n\"-x\" = \"x\"\n"), "which is not a prompt name"));
	CHECK(strstr(load_error("prompts = \"x\"\n"),
	             "user.toml:1:11: 'prompts' must be table of strings or {file}, not string"));
	/* a dotted name is a table: the shape says what is wrong */
	CHECK(strstr(load_error("[prompts]\na.b = \"x\"\n"), "'a' has an unknown field 'b'"));
	CHECK(strcmp(load_error("[prompts]\n"), "") == 0);
}

/* User, then the project's file (approved), then a profile: each replaces by name. */
static void test_layers(void)
{
	struct coi_config *c = NULL;
	struct coi_error err = {0};
	char **w = NULL;
	const struct config_prompt *p;

	write_text(at("user.toml"), "[prompts]\na = \"user a\"\nb = \"user b\"\nc = \"user c\"\n");
	write_text(at("ws/.coi/config.toml"),
	           "[prompts]\nb = { file = \"b.md\" }\nd = \"project d\"\n");
	write_text(at("coi/profiles/pp/config.toml"), "[prompts]\nc = \"profile c\"\n");
	CHECK(trust_approve(at("ws/.coi/config.toml"), NULL, &err) == 0);
	CHECK(load("pp", &c, &w, &err) == 0);
	CHECK(strv_length(w) == 0);
	w = strv_free(w);
	if (!c)
		return;
	CHECK(c->n_prompts == 4);
	p = config_prompt_find(c, "a");
	CHECK(p && p->text && strcmp(p->text, "user a") == 0);
	/* the project's file form replaces the user's string, relative to .coi/ */
	p = config_prompt_find(c, "b");
	CHECK(p && !p->text && p->file && strcmp(p->file, at("ws/.coi/b.md")) == 0);
	CHECK(p && p->root && strcmp(p->root, at("ws")) == 0);
	CHECK(p && strstr(p->origin, "ws/.coi/config.toml:2"));
	p = config_prompt_find(c, "c");
	CHECK(p && p->text && strcmp(p->text, "profile c") == 0 && !p->root);
	p = config_prompt_find(c, "d");
	CHECK(p && p->text && strcmp(p->text, "project d") == 0);
	config_free(c);
	unlink(at("coi/profiles/pp/config.toml"));
}

/* An unapproved project file's [prompts] are dropped whole, with a warning; approving the file
 * lets them in; changing it needs a new approval. */
static void test_trust(void)
{
	struct coi_config *c = NULL;
	struct coi_error err = {0};
	char **w = NULL;
	int warned = 0;

	write_text(at("user.toml"), "[prompts]\nmine = \"user\"\n");
	write_text(at("ws/.coi/config.toml"), "[prompts]\nmine = \"project\"\ntheirs = \"x\"\n");
	CHECK(load(NULL, &c, &w, &err) == 0);
	if (c) {
		CHECK(c->n_prompts == 1);
		CHECK(c->n_prompts == 1 && strcmp(c->prompts[0].text, "user") == 0);
		CHECK(config_prompt_find(c, "theirs") == NULL);
		c = config_free(c);
	}
	strv_foreach(s, w)
		warned += strstr(*s, "ws/.coi/config.toml:1: ignoring 'prompts': a repository's "
		                     "prompts would run unattended") &&
		          strstr(*s, "coi trust");
	CHECK(warned == 1);
	CHECK(strv_length(w) == 1);
	w = strv_free(w);

	CHECK(trust_approve(at("ws/.coi/config.toml"), NULL, &err) == 0);
	CHECK(load(NULL, &c, &w, &err) == 0);
	if (c) {
		CHECK(c->n_prompts == 2 && config_prompt_find(c, "theirs"));
		CHECK(c->n_prompts == 2 && strcmp(c->prompts[0].text, "project") == 0);
		c = config_free(c);
	}
	CHECK(strv_length(w) == 0);
	w = strv_free(w);

	write_text(at("ws/.coi/config.toml"), "[prompts]\nmine = \"changed\"\n");
	CHECK(load(NULL, &c, NULL, &err) == 0);
	if (c) {
		CHECK(c->n_prompts == 1 && strcmp(c->prompts[0].text, "user") == 0);
		c = config_free(c);
	}
	/* a project profile is a project file too */
	write_text(at("ws/.coi/profiles/pp2/config.toml"),
	           "[prompts]\nprof = { file = \"p.md\" }\n");
	CHECK(load("pp2", &c, &w, &err) == 0);
	if (c) {
		CHECK(config_prompt_find(c, "prof") == NULL);
		c = config_free(c);
	}
	warned = 0;
	strv_foreach(s, w)
		warned += strstr(*s, "profiles/pp2/config.toml:1: ignoring 'prompts'") != NULL;
	CHECK(warned == 1);
	w = strv_free(w);
	CHECK(trust_approve(at("ws/.coi/profiles/pp2/config.toml"), NULL, &err) == 0);
	CHECK(load("pp2", &c, NULL, &err) == 0);
	if (c) {
		const struct config_prompt *p = config_prompt_find(c, "prof");

		CHECK(p && strcmp(p->file, at("ws/.coi/profiles/pp2/p.md")) == 0);
		CHECK(p && p->root && strcmp(p->root, at("ws")) == 0);
		c = config_free(c);
	}
	/* COI_TRUST_ALL=1 counts as approved */
	setenv("COI_TRUST_ALL", "1", 1);
	CHECK(load(NULL, &c, NULL, &err) == 0);
	if (c) {
		CHECK(c->n_prompts == 1 && strcmp(c->prompts[0].text, "changed") == 0);
		CHECK(c->n_prompts == 1 && c->prompts[0].root == NULL); /* text: no file to check */
		c = config_free(c);
	}
	unsetenv("COI_TRUST_ALL");
}

/* Reading the user's prompts: text as is, a file without its final newlines, the cap. */
static void test_read_user(void)
{
	struct coi_config *c = NULL;
	struct coi_error err = {0};
	char *s;

	unlink(at("ws/.coi/config.toml"));
	write_text(at("user.toml"), "[prompts]\n"
	                            "text = \"line 1\\nline 2\\n\"\n"
	                            "file = { file = \"f.md\" }\n"
	                            "empty = { file = \"empty.md\" }\n"
	                            "nul = { file = \"nul.md\" }\n"
	                            "missing = { file = \"missing.md\" }\n"
	                            "dir = { file = \"ws\" }\n"
	                            "outside = { file = \"/etc/hostname\" }\n");
	write_text(at("f.md"), "from a file\n\n");
	write_text(at("empty.md"), "\n\n");
	write_text(at("nul.md"), "a");
	{
		FILE *f = fopen(at("nul.md"), "ae");

		if (f) {
			fputc('\0', f);
			fclose(f);
		}
	}
	CHECK(load(NULL, &c, NULL, &err) == 0);
	if (!c)
		return;
	s = text_of(c, "text", 1024, &err);
	CHECK_STREQ(s, "line 1\nline 2\n"); /* a string is the prompt as written */
	free(s);
	s = text_of(c, "file", 1024, &err);
	CHECK_STREQ(s, "from a file");
	free(s);
	CHECK(text_of(c, "file", 8, &err) == NULL && err.code == -E2BIG);
	CHECK(strstr(err.msg, "prompt 'file' (") && strstr(err.msg, "is larger than 8 bytes"));
	CHECK(text_of(c, "text", 4, &err) == NULL && err.code == -E2BIG);
	CHECK(text_of(c, "empty", 1024, &err) == NULL && strstr(err.msg, "the prompt is empty"));
	CHECK(text_of(c, "nul", 1024, &err) == NULL && strstr(err.msg, "holds a NUL byte"));
	CHECK(text_of(c, "missing", 1024, &err) == NULL && err.code == -ENOENT);
	CHECK(strstr(err.msg, "prompt 'missing' (") && strstr(err.msg, "user.toml:6)") &&
	      strstr(err.msg, "missing.md"));
	CHECK(text_of(c, "dir", 1024, &err) == NULL && strstr(err.msg, "not a regular file"));
	/* the user's own prompts may be anywhere */
	s = text_of(c, "outside", 1024, &err);
	CHECK(s != NULL);
	free(s);
	config_free(c);
}

/* A project's prompt file must resolve inside the project: no "..", no absolute path elsewhere,
 * no symbolic link out, no FIFO (which would hang coi). */
static void test_read_project(void)
{
	struct coi_config *c = NULL;
	struct coi_error err = {0};
	char *s;

	write_text(at("user.toml"), "");
	write_text(at("ws/.coi/config.toml"), "[prompts]\n"
	                                      "in = { file = \"p/in.md\" }\n"
	                                      "up = { file = \"../README.md\" }\n"
	                                      "dotdot = { file = \"../../secret.md\" }\n"
	                                      "abs = { file = \"/etc/hostname\" }\n"
	                                      "home = { file = \"~/p.md\" }\n"
	                                      "link = { file = \"p/link.md\" }\n"
	                                      "linkin = { file = \"p/link-in.md\" }\n"
	                                      "dirlink = { file = \"out/secret.md\" }\n"
	                                      "fifo = { file = \"p/fifo\" }\n");
	mkdir(at("ws/.coi/p"), 0700);
	write_text(at("ws/.coi/p/in.md"), "inside\n");
	write_text(at("ws/README.md"), "the readme");
	write_text(at("secret.md"), "secret");
	write_text(at("home/p.md"), "home");
	CHECK(symlink(at("secret.md"), at("ws/.coi/p/link.md")) == 0);
	CHECK(symlink("../../README.md", at("ws/.coi/p/link-in.md")) == 0);
	CHECK(symlink(dir, at("ws/.coi/out")) == 0);
	CHECK(mkfifo(at("ws/.coi/p/fifo"), 0600) == 0);
	setenv("COI_TRUST_ALL", "1", 1);
	CHECK(load(NULL, &c, NULL, &err) == 0);
	unsetenv("COI_TRUST_ALL");
	if (!c)
		return;
	s = text_of(c, "in", 1024, &err);
	CHECK_STREQ(s, "inside");
	free(s);
	s = text_of(c, "up", 1024, &err); /* .coi/../README.md is the project's */
	CHECK_STREQ(s, "the readme");
	free(s);
	s = text_of(c, "linkin", 1024, &err);
	CHECK_STREQ(s, "the readme");
	free(s);
	const char *const out[] = {"dotdot", "abs", "home", "link", "dirlink"};
	for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++) {
		s = text_of(c, out[i], 1024, &err);
		if (s || err.code != -EPERM)
			printf("# %s: %s\n", out[i], s ? s : err.msg);
		CHECK(s == NULL && err.code == -EPERM &&
		      strstr(err.msg, "leads outside the project"));
		free(s);
	}
	CHECK(text_of(c, "fifo", 1024, &err) == NULL && strstr(err.msg, "not a regular file"));
	config_free(c);
}

static void test_unknown_name(void)
{
	struct coi_config *c = NULL;
	struct coi_error err = {0};

	unlink(at("ws/.coi/config.toml"));
	write_text(at("user.toml"), "[prompts]\nreview = \"r\"\ntriage = \"t\"\nfix = \"f\"\n");
	CHECK(load(NULL, &c, NULL, &err) == 0);
	if (!c)
		return;
	CHECK(text_of(c, "revew", 1024, &err) == NULL && err.code == -ENOENT);
	CHECK_STREQ(err.msg, "no prompt named 'revew' (did you mean 'review'?); the prompts: fix, "
	                     "review, triage");
	CHECK(text_of(c, "completely-else", 1024, &err) == NULL);
	CHECK_STREQ(err.msg, "no prompt named 'completely-else'; the prompts: fix, review, triage");
	c = config_free(c);
	write_text(at("user.toml"), "");
	CHECK(load(NULL, &c, NULL, &err) == 0);
	if (!c)
		return;
	CHECK(text_of(c, "x", 1024, &err) == NULL && err.code == -ENOENT);
	CHECK_STREQ(err.msg, "no prompt named 'x': no [prompts] are configured");
	config_free(c);
}

static void test_output(void)
{
	struct coi_config *c = NULL;
	struct coi_error err = {0};
	char *s;

	unlink(at("ws/.coi/config.toml"));
	write_text(at("user.toml"),
	           "[prompts]\nr = \"say \\\"hi\\\"\"\nf = { file = \"/x.md\" }\n");
	CHECK(load(NULL, &c, NULL, &err) == 0);
	if (!c)
		return;
	s = config_to_toml(c);
	CHECK(s &&
	      strstr(s, "\nprompts = { r = \"say \\\"hi\\\"\", f = { file = \"/x.md\" } }  # "));
	free(s);
	s = config_to_json(c);
	CHECK(s && strstr(s, "\"r\": \"say \\\"hi\\\"\""));
	CHECK(s && strstr(s, "\"f\": {\n        \"file\": \"/x.md\"\n      }"));
	free(s);
	config_free(c);
}

int main(void)
{
	char cmd[128];

	if (!mkdtemp(dir))
		return 1;
	setenv("HOME", at("home"), 1);
	setenv("COI_HOME", at("coi"), 1);
	unsetenv("COI_TRUST_ALL");
	unsetenv("COI_CONFIG");
	mkdir(at("home"), 0700);
	mkdir(at("coi"), 0700);
	mkdir(at("coi/profiles"), 0700);
	mkdir(at("coi/profiles/pp"), 0700);
	mkdir(at("ws"), 0700);
	mkdir(at("ws/.coi"), 0700);
	mkdir(at("ws/.coi/profiles"), 0700);
	mkdir(at("ws/.coi/profiles/pp2"), 0700);
	RUN(test_forms);
	RUN(test_errors);
	RUN(test_layers);
	RUN(test_trust);
	RUN(test_read_user);
	RUN(test_read_project);
	RUN(test_unknown_name);
	RUN(test_output);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return tap_done();
}
