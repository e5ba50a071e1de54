/* SPDX-License-Identifier: MIT */
/* rules-files.c: the rules on files the kernel saw opened or written (fanotify): credential files
 * read by what has no business reading them, and persistence (start-up files, cron, units, hooks,
 * keys) written. Split from rules.c, whose helpers it shares (rules-internal.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "monitor/cmdline.h"
#include "monitor/rules-internal.h"
#include "monitor/rules.h"
#include "util/strv.h"

/* ---- credential files opened (fanotify) -------------------------------------------------- */

/* Which files hold secrets, and which programs are theirs: ssh reads a private key, git's
 * credential helper .git-credentials, sudo /etc/shadow. Anything else opening them is reading
 * what it has no business reading, whatever its name or command line (a copy of cat named ssh
 * is not ssh: progid knows the owners by their binaries). */
struct cred_spec {
	const char *where; /* a substring of the path, or with a leading '=' the basename's start */
	const char
	        *names; /* with a directory pattern: the basenames that count ("a|b"); NULL: all */
	enum cred_file kind;
	const char *owners; /* "a|b|c" */
};

#define SSH_OWNERS "ssh|scp|sftp|ssh-add|ssh-keygen|ssh-agent|sshd|ssh-keysign"
#define GIT_OWNERS "git|git-credential-store|git-credential-cache|git-remote-http|git-remote-https"
#define SHADOW_OWNERS                                                                 \
	"sudo|su|login|passwd|chpasswd|chage|unix_chkpwd|usermod|useradd|userdel|"    \
	"groupadd|groupmod|groupdel|gpasswd|newgrp|pwck|grpck|pwconv|vipw|sshd|cron|" \
	"systemd-sysusers"
/* The owners that are scripts run by an interpreter: known by the script, or the title it sets
 * itself. Every other owner must be its binary. */
#define SCRIPT_OWNERS                                                              \
	"aws|aws_completer|gcloud|gcloud.py|gsutil|bq|az|azure.cli|npm|npx|"       \
	"npm-cli.js|npx-cli.js|yarn|pnpm|corepack|claude|gemini|codex|twine|flit|" \
	"poetry|hatch"
#define FIREFOX      "firefox|firefox-esr|firefox-bin"
#define CHROME       "chrome|google-chrome|chromium|chromium-browser|brave|brave-browser"
#define CHROME_FILES "Login Data|Cookies|Web Data|Local State"

/* clang-format off */
static const struct cred_spec cred_specs[] = {
	{ "/.ssh/",                      NULL, CRED_FILE_NONE, NULL }, /* resolved below */
	{ "/etc/ssh/ssh_host_",          NULL, CRED_FILE_STRONG, "sshd|ssh-keygen|ssh-keysign" },
	{ "/.git-credentials",           NULL, CRED_FILE_STRONG, GIT_OWNERS },
	{ "/.config/git/credentials",    NULL, CRED_FILE_STRONG, GIT_OWNERS },
	{ "/.aws/credentials",           NULL, CRED_FILE_STRONG, "aws|aws_completer" },
	{ "/.aws/sso/cache/",            NULL, CRED_FILE_STRONG, "aws" },
	{ "/.config/gcloud/",            NULL, CRED_FILE_STRONG, "gcloud|gcloud.py|gsutil|bq" },
	{ "/.azure/",                    NULL, CRED_FILE_STRONG, "az|azure.cli" },
	{ "/.kube/config",               NULL, CRED_FILE_STRONG, "kubectl|helm|k9s|kubectx|kubens|minikube|kind" },
	{ "/.docker/config.json",        NULL, CRED_FILE_STRONG, "docker|docker-credential-pass|docker-credential-secretservice|podman|skopeo|crane|buildah" },
	{ "/.gnupg/private-keys-v1.d/",  NULL, CRED_FILE_STRONG, "gpg|gpg2|gpg-agent|gpgsm" },
	{ "/.gnupg/secring.gpg",         NULL, CRED_FILE_STRONG, "gpg|gpg2|gpg-agent" },
	{ "/.config/gh/hosts.yml",       NULL, CRED_FILE_STRONG, "gh" },
	{ "/.claude/.credentials.json",  NULL, CRED_FILE_STRONG, "claude" },
	{ "/.codex/auth.json",           NULL, CRED_FILE_STRONG, "codex|codex-*" }, /* its native binary: codex-<target> */
	{ "/.local/share/opencode/auth.json", NULL, CRED_FILE_STRONG, "opencode|opencode-*" },
	{ "/.gemini/oauth_creds.json",   NULL, CRED_FILE_STRONG, "gemini" },
	{ "/.vault-token",               NULL, CRED_FILE_STRONG, "vault" },
	{ "/.netrc",                     NULL, CRED_FILE_STRONG, "curl|wget|git-remote-http|git-remote-https|ftp|lftp" },
	{ "/.password-store/",           NULL, CRED_FILE_STRONG, "pass|gpg|gpg2" },
	{ "/.local/share/keyrings/",     NULL, CRED_FILE_STRONG, "gnome-keyring-daemon|secret-tool" },
	{ "/etc/shadow",                 NULL, CRED_FILE_STRONG, SHADOW_OWNERS },
	{ "/etc/gshadow",                NULL, CRED_FILE_STRONG, SHADOW_OWNERS },
	{ "/.mozilla/firefox/",          "logins.json|key4.db|key3.db|cookies.sqlite|signons.sqlite|cert9.db", CRED_FILE_STRONG, FIREFOX },
	{ "/.config/google-chrome/",     CHROME_FILES, CRED_FILE_STRONG, CHROME },
	{ "/.config/chromium/",          CHROME_FILES, CRED_FILE_STRONG, CHROME },
	{ "/.config/BraveSoftware/",     CHROME_FILES, CRED_FILE_STRONG, CHROME },
	{ "=id_rsa",                     NULL, CRED_FILE_STRONG, SSH_OWNERS },
	{ "=id_dsa",                     NULL, CRED_FILE_STRONG, SSH_OWNERS },
	{ "=id_ecdsa",                   NULL, CRED_FILE_STRONG, SSH_OWNERS },
	{ "=id_ed25519",                 NULL, CRED_FILE_STRONG, SSH_OWNERS },
	{ "/.npmrc",                     NULL, CRED_FILE_WEAK, "npm|npx|yarn|pnpm|npm-cli.js|npx-cli.js|corepack" },
	{ "/.pypirc",                    NULL, CRED_FILE_WEAK, "twine|flit|poetry|hatch" },
	{ "/.pgpass",                    NULL, CRED_FILE_WEAK, "psql|pg_dump|pg_dumpall|pg_restore" },
};
/* clang-format on */

/* Is name one of "a|b|c*" (c*: any name starting with c)? */
static bool in_bars(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p && *p; p = strchr(p, '|') ? strchr(p, '|') + 1 : NULL) {
		size_t len = strcspn(p, "|");

		if (len > 1 && p[len - 1] == '*' && n >= len - 1 && strncmp(p, name, len - 1) == 0)
			return true;
		if (strncmp(p, name, n) == 0 && (p[n] == '|' || p[n] == 0))
			return true;
	}
	return false;
}

static bool is_pub(const char *base)
{
	size_t n = strlen(base);

	return n > 4 && strcmp(base + n - 4, ".pub") == 0;
}

/* A file directly in a home: /root/x, /home/<user>/x. */
static bool home_file(const char *path)
{
	const char *rest = strncmp(path, "/root/", 6) == 0   ? path + 6
	                   : strncmp(path, "/home/", 6) == 0 ? strchr(path + 6, '/')
	                                                     : NULL;

	if (rest && *rest == '/')
		rest++;
	return rest && *rest && !strchr(rest, '/');
}

/* The spec path falls under, or NULL. In ~/.ssh, everything but the public parts (config,
 * known_hosts, authorized_keys, *.pub) may be a private key, whatever it is called: the watch
 * marks it; an open is judged a key's when it is named id_* or its content says so (key is -1:
 * not known, for marking). */
static const struct cred_spec *cred_spec_of_key(const char *path, int key, enum cred_file *ret_kind)
{
	static const struct cred_spec ssh_dir = {"/.ssh/", NULL, CRED_FILE_STRONG, SSH_OWNERS};
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

	for (size_t i = 0; i < ELEMENTSOF(cred_specs); i++) {
		const struct cred_spec *c = &cred_specs[i];
		bool at = c->where[0] == '='
		                  ? strncmp(base, c->where + 1, strlen(c->where + 1)) == 0
		                  : strstr(path, c->where) != NULL;

		if (!at || (c->names && !in_bars(c->names, base)))
			continue;
		if (i == 0) { /* ~/.ssh */
			static const char *const public[] = {"config",
			                                     "known_hosts",
			                                     "known_hosts.old",
			                                     "authorized_keys",
			                                     "authorized_keys2",
			                                     "environment",
			                                     NULL};

			if (strchr(strstr(path, "/.ssh/") + 6, '/') ||
			    rules_in_list(base, public) || is_pub(base) || !*base ||
			    (key == 0 && strncmp(base, "id_", 3) != 0))
				return NULL;
			*ret_kind = CRED_FILE_STRONG;
			return &ssh_dir;
		}
		if (c->where[0] == '=' && is_pub(base))
			return NULL;
		/* a package manager's token file is a home's: a project's .npmrc or .pypirc names
		 * its registry, and git add reads it like any other file */
		if (c->kind == CRED_FILE_WEAK && !home_file(path))
			return NULL;
		*ret_kind = c->kind;
		return c;
	}
	return NULL;
}

static const struct cred_spec *cred_spec_of(const char *path, enum cred_file *ret_kind)
{
	return cred_spec_of_key(path, -1, ret_kind);
}

enum cred_file rules_cred_file(const char *path)
{
	const char *base = path && strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	enum cred_file k = CRED_FILE_NONE;

	if (!path)
		return k;
	if (cred_spec_of(path, &k))
		return k;
	if (strcmp(base, ".env") == 0 || strcmp(base, ".envrc") == 0 ||
	    (strncmp(base, ".env.", 5) == 0 &&
	     !rules_contains(base + 4,
	                     (const char *const[]){".example", ".sample", ".template", ".dist",
	                                           ".defaults", NULL},
	                     false, NULL)))
		return CRED_FILE_ENV;
	return CRED_FILE_NONE;
}

bool rules_cred_owner_name(const char *name)
{
	for (size_t i = 0; name && *name && i < ELEMENTSOF(cred_specs); i++)
		if (cred_specs[i].owners && in_bars(cred_specs[i].owners, name))
			return true;
	return name && in_bars(SSH_OWNERS, name);
}

/* Keys, tokens and cloud credentials opened by a program they do not belong to: HIGH (with
 * pausing on, the open itself is refused: the watch holds it until this decides). Token files of
 * package managers: WARNING. A project's .env opened by anything: a record (INFO), as tools
 * read whole project trees and an app reads its own .env all day. */
size_t rules_match_open(const struct open_obs *o, const struct rules_config *cfg,
                        struct rule_hit *hits, size_t max)
{
	enum cred_file kind = CRED_FILE_NONE;
	const struct cred_spec *c;
	const char *who = o->program ? o->program : o->comm ? o->comm : "?";

	(void)cfg;
	if (max == 0 || !o->path)
		return 0;
	c = cred_spec_of_key(o->path, o->private_key, &kind);
	if (!c) {
		if (rules_cred_file(o->path) != CRED_FILE_ENV)
			return 0;
		hits[0] = (struct rule_hit){.rule = rules_find("cred-open-env"),
		                            .level = THREAT_INFO};
		rules_hitf(&hits[0], "a project's secrets file is opened", "%s by %s", o->path,
		           who);
		return 1;
	}
	if ((o->program && in_bars(c->owners, o->program)) ||
	    (o->script && in_bars(c->owners, o->script) && in_bars(SCRIPT_OWNERS, o->script)))
		return 0;
	/* /etc/shadow: libc's getspnam() reads it for root's perl, PAM and the package
	 * manager's scripts (debconf asks getpwnam as root) */
	if (c->owners && strcmp(c->owners, SHADOW_OWNERS) == 0 && (o->packaging || o->installed))
		return 0;
	hits[0] = (struct rule_hit){
	        .rule = rules_find(kind == CRED_FILE_STRONG ? "cred-open" : "cred-open-secrets")};
	hits[0].level = hits[0].rule->level;
	rules_hitf(&hits[0], "a credential file is opened by a program it does not belong to",
	           "%s by %s%s%s", o->path, who, o->script ? " " : "", o->script ? o->script : "");
	return 1;
}

/* ---- persistence (fanotify writes) ------------------------------------------------------- */

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Does path lie directly in dir ("/etc/cron.d" holds "/etc/cron.d/x", not deeper)? */
static bool directly_in(const char *path, const char *dir)
{
	const char *p = strstr(path, dir);

	return p && p[strlen(dir)] == '/' && p[strlen(dir) + 1] &&
	       !strchr(p + strlen(dir) + 1, '/');
}

enum persist_kind rules_persist_file(const char *path)
{
	static const char *const startup[] = {
	        ".bashrc", ".profile",  ".bash_profile", ".bash_login", ".bash_logout",
	        ".zshrc",  ".zprofile", ".zshenv",       ".zlogin",     NULL};
	static const char *const schedule_dirs[] = {
	        "/etc/cron.d",         "/etc/cron.hourly",
	        "/etc/cron.daily",     "/var/spool/cron/crontabs",
	        "/etc/systemd/system", "/.config/systemd/user",
	        "/.config/autostart",  NULL};
	const char *base;

	if (!path || !(base = strrchr(path, '/')))
		return PERSIST_NONE;
	base++;
	if (strcmp(path, "/etc/ld.so.preload") == 0 || directly_in(path, "/etc/ld.so.conf.d"))
		return PERSIST_LOADER;
	if (ends_with(path, "/.ssh/authorized_keys") || ends_with(path, "/.ssh/authorized_keys2") ||
	    strcmp(path, "/etc/sudoers") == 0 || directly_in(path, "/etc/sudoers.d"))
		return PERSIST_ACCESS;
	if (strcmp(path, "/etc/crontab") == 0 || strcmp(path, "/etc/rc.local") == 0)
		return PERSIST_SCHEDULE;
	for (size_t i = 0; schedule_dirs[i]; i++)
		if (directly_in(path, schedule_dirs[i]))
			return PERSIST_SCHEDULE;
	if (strcmp(path, "/etc/profile") == 0 || strcmp(path, "/etc/bash.bashrc") == 0 ||
	    strcmp(path, "/etc/environment") == 0 || directly_in(path, "/etc/profile.d") ||
	    ends_with(path, "/.config/fish/config.fish") || ends_with(path, "/.ssh/rc"))
		return PERSIST_STARTUP;
	/* a home's own startup files: /root/.bashrc, /home/<user>/.profile */
	if (rules_in_list(base, startup) &&
	    (strncmp(path, "/root/", 6) == 0 ||
	     (strncmp(path, "/home/", 6) == 0 && strchr(path + 6, '/') == base - 1)))
		return PERSIST_STARTUP;
	return PERSIST_NONE;
}

/* A line judged as the shell will run it. */
static bool line_attacks(const char *line, struct rule_hit *h)
{
	char *argv[] = {"sh", "-c", (char *)line, NULL};
	struct rule_hit hits[RULES_MAX_HITS];
	struct rules_config cfg;
	size_t k;

	rules_config_default(&cfg);
	k = rules_match_process(&(struct proc_obs){.argv = argv}, &cfg, hits, RULES_MAX_HITS);
	for (size_t i = 0; i < k; i++)
		if (hits[i].level >= THREAT_HIGH) {
			rules_hitf(h, "a line added to a file that runs later attacks", "%s (%s)",
			           line, hits[i].rule->id);
			return true;
		}
	return false;
}

/* Each added line judged as it will run: as a shell line, as a unit's Exec*= command, and
 * without a cron schedule in front ("m h dom mon dow [user] cmd", "@reboot cmd"). */
static bool planted(const char *added, struct rule_hit *h)
{
	const char *l = added;

	for (int lines = 0; l && *l && lines < 64; lines++, l = strchrnul(l, '\n'), l += !!*l) {
		size_t n = strcspn(l, "\n");
		char line[RULE_TEXT_MAX * 4];
		const char *p = line;

		if (n == 0 || l[strspn(l, " \t")] == '#')
			continue;
		snprintf(line, sizeof(line), "%.*s", (int)n, l);
		if (line_attacks(line, h))
			return true;
		if (strncmp(line, "Exec", 4) == 0 && strchr(line, '='))
			if (line_attacks(strchr(line, '=') + 1 + (strchr(line, '=')[1] == '-'), h))
				return true;
		for (int field = 1; field <= 6 && *p; field++) {
			p += strcspn(p, " \t");
			p += strspn(p, " \t");
			if ((field == 1 && line[0] == '@') || field >= 5)
				if (*p && line_attacks(p, h))
					return true;
		}
	}
	return false;
}

/* Package managers write the system's own cron jobs and units. */
static bool is_packager(const char *program)
{
	static const char *const pm[] = {"dpkg",
	                                 "apt",
	                                 "apt-get",
	                                 "aptitude",
	                                 "ucf",
	                                 "update-alternatives",
	                                 "deb-systemd-helper",
	                                 NULL};

	return program && rules_in_list(program, pm);
}

size_t rules_match_write(const struct write_obs *o, const struct rules_config *cfg,
                         struct rule_hit *hits, size_t max)
{
	enum persist_kind k = rules_persist_file(o->path);
	static const char *const ids[] = {[PERSIST_STARTUP] = "persist-startup",
	                                  [PERSIST_SCHEDULE] = "persist-schedule",
	                                  [PERSIST_ACCESS] = "persist-access",
	                                  [PERSIST_LOADER] = "persist-preload"};
	char first[RULE_TEXT_MAX];

	(void)cfg;
	if (max == 0 || k == PERSIST_NONE || !o->added || !*o->added)
		return 0;
	hits[0] = (struct rule_hit){.rule = rules_find("persist-backdoor")};
	if (planted(o->added, &hits[0])) {
		hits[0].level = THREAT_HIGH;
		return 1;
	}
	hits[0] = (struct rule_hit){.rule = rules_find(ids[k])};
	hits[0].level = is_packager(o->program) || o->packaging ? THREAT_INFO : hits[0].rule->level;
	snprintf(first, sizeof(first), "%.*s", (int)strcspn(o->added, "\n"), o->added);
	rules_hitf(&hits[0],
	           k == PERSIST_STARTUP    ? "a shell startup file changed"
	           : k == PERSIST_SCHEDULE ? "a scheduled task or service was added"
	           : k == PERSIST_ACCESS   ? "who may log in or use sudo changed"
	                                   : "a library is preloaded into every program",
	           "%s: %s%s", o->path, first,
	           strchr(o->added, '\n') && strchr(o->added, '\n')[1] ? " ..." : "");
	return 1;
}
