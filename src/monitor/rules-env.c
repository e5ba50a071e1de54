/* SPDX-License-Identifier: MIT */
/* rules-env.c: the process rules on secrets in the environment and in credential files: a dump
 * of the environment filtered for secrets, a program reading its own or another process's
 * environ, credential files read or searched for. Split from rules.c (rules-internal.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "monitor/cmdline.h"
#include "monitor/rules-internal.h"
#include "monitor/rules.h"
#include "util/strv.h"

static const char *const searchers[] = {"grep", "egrep", "fgrep", "zgrep", "rg",
                                        "ag",   "ack",   "ugrep", NULL};
/* Programs whose arguments are text or names, not file contents they read. */
static const char *const non_readers[] = {
        "echo",      "printf",  "git",      "gh",       "man",        "info",    "which",
        "type",      "whereis", "whatis",   "apropos",  "ls",         "stat",    "test",
        "[",         "[[",      "mkdir",    "touch",    "chmod",      "chown",   "chgrp",
        "rm",        "rmdir",   "ln",       "file",     "du",         "df",      "find",
        "fd",        "fdfind",  "ssh",      "ssh-add",  "ssh-keygen", "apt",     "apt-get",
        "apt-cache", "dpkg",    "pip",      "pip3",     "npm",        "npx",     "yarn",
        "pnpm",      "cargo",   "go",       "make",     "cmake",      "docker",  "podman",
        "kubectl",   "code",    "realpath", "readlink", "basename",   "dirname", "export",
        "unset",     "alias",   "trap",     "declare",  "local",      "claude",  "opencode",
        "codex",     "gemini",  "mkfifo",   "mktemp",   "true",       "false",   ":",
        NULL};

/* ---- environment and credentials ----------------------------------------------------------- */

static const char *const secret_words[] = {"key",  "token", "secret",  "passw",  "credential",
                                           "auth", "api",   "private", "cookie", NULL};

/* The word index that is a program text rather than a file (grep's pattern, sed's script), or 0. */
static size_t program_arg(const struct simple_cmd *c)
{
	const char *p = cmd_prog(c);
	bool search = rules_in_list(p, searchers) || strcmp(p, "sed") == 0 ||
	              strcmp(p, "jq") == 0 || rules_interp_of(p) == INTERP_AWK;

	if (!search)
		return 0;
	for (size_t i = 1; c->argv[i]; i++) {
		const char *w = c->argv[i];

		if (strcmp(w, "-e") == 0 || strcmp(w, "-f") == 0 || strcmp(w, "--regexp") == 0)
			return i + 1;
		if (w[0] != '-')
			return i;
	}
	return 0;
}

/* The path an argument names, if it names one: "x", "--file=x", "if=x", "@x", "-d@x". */
static const char *arg_path(const char *w)
{
	const char *at = strstr(w, "=@");

	if (at)
		return at + 2;
	if (w[0] == '@')
		return w + 1;
	if (w[0] == '-' && strchr(w, '='))
		return strchr(w, '=') + 1;
	if (strncmp(w, "if=", 3) == 0)
		return w + 3;
	return w[0] == '-' ? NULL : w;
}

static bool is_env_dump(const struct simple_cmd *c)
{
	const char *p = cmd_prog(c);
	size_t n = strv_length(c->argv);

	if (strcmp(p, "env") == 0 || strcmp(p, "printenv") == 0) {
		for (size_t i = 1; i < n; i++)
			if (c->argv[i][0] != '-' && !strchr(c->argv[i], '='))
				return false;
		return true;
	}
	if (strcmp(p, "set") == 0 || strcmp(p, "export") == 0)
		return n == 1 || (n == 2 && strcmp(c->argv[1], "-p") == 0);
	if (strcmp(p, "declare") == 0 || strcmp(p, "typeset") == 0)
		return n == 2 && (strcmp(c->argv[1], "-x") == 0 || strcmp(c->argv[1], "-p") == 0);
	return strcmp(p, "compgen") == 0 && n == 2 && strcmp(c->argv[1], "-v") == 0;
}

bool rules_env_dump_grep(const struct cmdline *cl, struct rule_hit *h)
{
	for (size_t i = 0; i + 1 < cl->n; i++) {
		const struct simple_cmd *a = &cl->cmds[i], *b = &cl->cmds[i + 1];
		const char *word = NULL;

		if (!a->piped_out || !b->piped_in || !is_env_dump(a))
			continue;
		for (size_t j = 1; b->argv[j]; j++)
			if (rules_contains(b->argv[j], secret_words, true, &word))
				return rules_hitf(h, "the environment is filtered for secrets",
				                  "%s | %s %s", cmd_prog(a), cmd_prog(b),
				                  b->argv[j]);
	}
	return false;
}

bool rules_env_secret_read(const struct cmdline *cl, struct rule_hit *h)
{
	for (size_t i = 0; i < cl->n; i++) {
		const struct simple_cmd *c = &cl->cmds[i];
		const char *p = cmd_prog(c);
		bool pe = strcmp(p, "printenv") == 0,
		     echo = !pe && (strcmp(p, "echo") == 0 || strcmp(p, "printf") == 0);

		for (size_t j = 1; (pe || echo) && c->argv[j]; j++) {
			const char *w = c->argv[j], *v = echo ? strchr(w, '$') : w;

			if (v && !(pe && w[0] == '-') &&
			    rules_contains(v, secret_words, true, NULL))
				return rules_hitf(h, "a secret-looking variable is printed",
				                  "%s %s", p, w);
		}
		if (rules_interp_of(p) != INTERP_NONE) {
			static const char *const envapi[] = {
			        "os.environ", "os.getenv", "process.env", "%ENV",
			        "ENV[",       "getenv(",   "ENVIRON[",    NULL};
			const char *code = rules_interp_code(c, rules_interp_of(p)), *api = NULL,
			           *word = NULL;

			if (code && rules_contains(code, envapi, false, &api) &&
			    rules_contains(code, secret_words, true, &word))
				return rules_hitf(h, "code reads secret-looking variables",
				                  "%s %s %s", p, api, word);
		}
	}
	return false;
}

/* "/proc/<pid or glob>/environ" in s, for another process than the reader itself. */
static bool find_foreign_environ(const char *s, char *out, size_t size)
{
	for (const char *p = strstr(s, "/proc/"); p; p = strstr(p + 1, "/proc/")) {
		const char *seg = p + 6, *end = strchrnul(seg, '/');
		size_t len = (size_t)(end - seg);

		if (*end != '/' || len == 0)
			continue;
		if ((len == 4 && strncmp(seg, "self", 4) == 0) ||
		    (len == 11 && strncmp(seg, "thread-self", 11) == 0) ||
		    (len == 2 && strncmp(seg, "$$", 2) == 0))
			continue;
		if (strncmp(end, "/environ", 8) == 0 ||
		    (strncmp(end, "/task/", 6) == 0 && strstr(end, "/environ"))) {
			snprintf(out, size, "%.*s", (int)strcspn(p, " '\")"), p);
			return true;
		}
	}
	return false;
}

static const char *const copiers[] = {"cp", "mv", "install", "rsync", "scp", NULL};

/* Calls fn on every word that a command reads as a file (or, for interpreters, its code). */
static bool each_read(const struct cmdline *cl, bool (*fn)(const char *w, bool code, void *u),
                      void *u)
{
	for (size_t i = 0; i < cl->n; i++) {
		const struct simple_cmd *c = &cl->cmds[i];
		const char *p = cmd_prog(c);
		size_t skip = program_arg(c);
		const char *code = rules_interp_of(p) != INTERP_AWK
		                           ? rules_interp_code(c, rules_interp_of(p))
		                           : NULL;
		size_t last = strv_length(c->argv) - 1;

		strv_foreach(r, c->redirs)
			if ((*r)[0] == '<' && (*r)[1] != '<' &&
			    fn(*r + 1 + ((*r)[1] == '>'), false, u))
				return true;
		/* A shell's -c script was parsed into commands of its own. */
		if (rules_in_list(p, non_readers) || rules_in_list(p, rules_shells))
			continue;
		for (size_t j = 1; c->argv[j]; j++) {
			const char *w = c->argv[j] == code ? c->argv[j] : arg_path(c->argv[j]);

			if (j == last && j > 1 && rules_in_list(p, copiers))
				break; /* the destination is written, not read */
			if (j != skip && w && fn(w, c->argv[j] == code, u))
				return true;
		}
	}
	return false;
}

static bool environ_fn(const char *w, bool code, void *u)
{
	return find_foreign_environ(w, ((struct rule_hit *)u)->pattern,
	                            sizeof(((struct rule_hit *)u)->pattern));
}

bool rules_proc_environ(const struct cmdline *cl, struct rule_hit *h)
{
	if (!each_read(cl, environ_fn, h))
		return false;
	snprintf(h->reason, sizeof(h->reason), "another process's environment is read");
	return true;
}

static enum cred cred_class(const char *path, bool code)
{
	static const char *const strong[] = {"/.ssh/id_",
	                                     ".aws/credentials",
	                                     ".git-credentials",
	                                     ".docker/config.json",
	                                     ".kube/config",
	                                     ".config/gcloud/",
	                                     ".azure/",
	                                     ".gnupg/private-keys",
	                                     ".gnupg/secring",
	                                     "/etc/shadow",
	                                     "/etc/gshadow",
	                                     ".credentials.json",
	                                     ".config/gh/hosts.yml",
	                                     ".vault-token",
	                                     ".netrc",
	                                     NULL};
	static const char *const keys[] = {"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", NULL};
	static const char *const weak_ok[] = {".example", ".sample",   ".template",
	                                      ".dist",    ".defaults", NULL};
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	size_t len = strlen(path);

	if (rules_contains(path, strong, false, NULL) || (strncmp(path, ".ssh/id_", 8) == 0) ||
	    ((strstr(path, "/.ssh/") || strncmp(path, ".ssh/", 5) == 0) && strchr(base, '*')))
		return (len > 4 && strcmp(path + len - 4, ".pub") == 0) ? CRED_NONE : CRED_STRONG;
	if (code)
		return CRED_NONE;
	for (size_t i = 0; keys[i]; i++)
		if (strncmp(base, keys[i], strlen(keys[i])) == 0 && !strstr(base, ".pub"))
			return CRED_STRONG;
	if (strcmp(base, ".npmrc") == 0 || strcmp(base, ".pypirc") == 0 ||
	    strcmp(base, ".pgpass") == 0)
		return CRED_WEAK;
	if (strcmp(base, ".env") == 0 || strcmp(base, ".envrc") == 0 ||
	    (strncmp(base, ".env.", 5) == 0 && !rules_contains(base + 4, weak_ok, false, NULL)))
		return CRED_ENV;
	return CRED_NONE;
}

struct cred_find {
	enum cred want;
	struct rule_hit *h;
};

static bool cred_fn(const char *w, bool code, void *u)
{
	struct cred_find *f = u;

	if (cred_class(w, code) != f->want)
		return false;
	snprintf(f->h->pattern, sizeof(f->h->pattern), "%s", w);
	return true;
}

bool rules_cred(const struct cmdline *cl, enum cred want, struct rule_hit *h)
{
	struct cred_find f = {want, h};

	if (!each_read(cl, cred_fn, &f))
		return false;
	snprintf(h->reason, sizeof(h->reason), "%s",
	         want == CRED_STRONG ? "a credential file is read"
	         : want == CRED_WEAK ? "a secrets file is read"
	                             : "a project's secrets file is read");
	return true;
}

static bool is_home_root(const char *w)
{
	static const char *const roots[] = {"/",          "~",           "~/",     "$HOME",
	                                    "${HOME}",    "/home",       "/root",  "/etc",
	                                    "/home/code", "/home/code/", "$HOME/", NULL};
	return rules_in_list(w, roots);
}

bool rules_cred_search(const struct cmdline *cl, struct rule_hit *h)
{
	static const char *const names[] = {"id_rsa",  "id_ed25519",       "id_*",   "*.pem",
	                                    "*.key",   "credentials",      ".env",   "*secret*",
	                                    "*token*", ".git-credentials", ".netrc", "*.kdbx",
	                                    NULL};

	for (size_t i = 0; i < cl->n; i++) {
		const struct simple_cmd *c = &cl->cmds[i];
		const char *p = cmd_prog(c), *what = NULL;
		size_t pat = program_arg(c);
		bool rooted = false;

		if (strcmp(p, "find") == 0 || strcmp(p, "fd") == 0 || strcmp(p, "locate") == 0) {
			for (size_t j = 1; c->argv[j]; j++)
				if (rules_contains(c->argv[j], names, true, &what))
					return rules_hitf(
					        h, "files named like credentials are searched for",
					        "%s %s", p, c->argv[j]);
			continue;
		}
		if (!pat || !rules_in_list(p, searchers) || !c->argv[pat])
			continue;
		for (size_t j = pat + 1; c->argv[j]; j++)
			rooted |= is_home_root(c->argv[j]);
		if (rooted && rules_contains(c->argv[pat], secret_words, true, &what))
			return rules_hitf(h, "home or system directories are searched for secrets",
			                  "%s %s", p, c->argv[pat]);
	}
	return false;
}
