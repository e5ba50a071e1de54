/* SPDX-License-Identifier: MIT */
/* coi rules: the monitor's detection rules. list: the table's own, coi's rule files and the
 * user's ([detection] gtfobins_dir, sigma_dir), with why a rule is skipped; test: what they make
 * of a command line, or whether a rule file loads; update: bring the user's databases up to date
 * from gtfobins_source and sigma_source with git. */
#include "monitor/rules.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/table.h"
#include "config/config.h"
#include "monitor/cmdline.h"
#include "monitor/ruleset.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/json.h"
#include "util/path.h"
#include "util/strv.h"

const struct verb verb_rules;

static void warn_file(const char *msg, void *userdata)
{
	(void)userdata;
	fprintf(stderr, "coi: warning: %s, ignoring\n", msg);
}

/* coi's rule files and the configured directories'. */
static int load_rules(const struct coi_config *cfg, struct ruleset **ret)
{
	_cleanup_(ruleset_freep) struct ruleset *rs = NULL;
	struct coi_error err = {0};

	if (ruleset_new(&rs) < 0)
		return cmd_failf("out of memory");
	if (ruleset_add_builtin(rs, &err) < 0 ||
	    (cfg->detection.gtfobins_dir &&
	     ruleset_add_dir(rs, RULESET_GTFOBINS, cfg->detection.gtfobins_dir, warn_file, NULL,
	                     &err) < 0) ||
	    (cfg->detection.sigma_dir &&
	     ruleset_add_dir(rs, RULESET_SIGMA, cfg->detection.sigma_dir, warn_file, NULL, &err) <
	             0))
		return cmd_fail(&err);
	*ret = TAKE_PTR(rs);
	return EXIT_OK;
}

static int load_config(struct coi_config **ret);

/* The configuration's rules: coi's and the user's directories'. */
static int load_all(struct ruleset **ret)
{
	struct coi_config *cfg = NULL;
	int rc = load_config(&cfg);

	if (rc == EXIT_OK)
		rc = load_rules(cfg, ret);
	config_free(cfg);
	return rc;
}

static int load_config(struct coi_config **ret)
{
	struct coi_error err = {0};
	char **warnings = NULL;
	int r = config_load(&(struct config_load_opts){0}, ret, &warnings, &err);

	strv_foreach(w, warnings)
		fprintf(stderr, "coi: warning: %s\n", *w);
	strv_free(warnings);
	return r < 0 ? cmd_fail(&err) : EXIT_OK;
}

/* ---- list ---------------------------------------------------------------------------------- */

/* One row of 'coi rules list': a built-in rule or one loaded from a rule file. */
struct rule_row {
	const struct rule *rule;
	const char *format, *source, *summary, *skipped;
};

typedef int (*rule_row_fn)(const struct rule_row *row, void *ud);

/* Every row list shows (skipped rules only with all), built-in rules first; stops at the first
 * negative return of fn. */
static int each_row(const struct ruleset *rs, bool all, rule_row_fn fn, void *ud)
{
	size_t n;
	const struct rule *own = rules_table(&n);
	int r = 0;

	for (size_t i = 0; r >= 0 && i < n; i++)
		r = fn(&(struct rule_row){&own[i], "coi", "built in", NULL, NULL}, ud);
	for (size_t i = 0; r >= 0 && i < ruleset_count(rs); i++) {
		const struct ruleset_info *f = ruleset_get(rs, i);

		if (all || !f->skipped)
			r = fn(&(struct rule_row){f->rule, ruleset_format_to_string(f->format),
			                          f->source, f->summary, f->skipped},
			       ud);
	}
	return r;
}

static int row_json(const struct rule_row *w, void *ud)
{
	const struct rule *r = w->rule;

	return json_array_append_new(
	               ud, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s?, s:s?}", "id", r->id,
	                             "level", threat_level_to_string(r->level), "format", w->format,
	                             "source", w->source, "category", r->category, "title",
	                             r->title, "matches", w->summary, "skipped", w->skipped)) < 0
	               ? -ENOMEM
	               : 0;
}

static int list_json(const struct ruleset *rs, bool all)
{
	_cleanup_json_ json_t *arr = json_array();
	_cleanup_free_ char *s = NULL;

	if (arr && each_row(rs, all, row_json, arr) >= 0)
		s = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!s)
		return cmd_failf("out of memory");
	printf("%s\n", s);
	return EXIT_OK;
}

static int row_text(const struct rule_row *w, void *ud)
{
	return table_add(ud,
	                 (const char *const[]){w->rule->id, threat_level_to_string(w->rule->level),
	                                       w->format, w->source, w->rule->title,
	                                       w->skipped ? w->skipped : "", NULL});
}

static int count_skipped(const struct ruleset *rs)
{
	int skipped = 0;

	for (size_t i = 0; i < ruleset_count(rs); i++)
		skipped += ruleset_get(rs, i)->skipped != NULL;
	return skipped;
}

static int list_text(const struct ruleset *rs, bool all)
{
	static const char *const headers[] = {"ID", "LEVEL", "FORMAT", "SOURCE", "TITLE", NULL};
	static const char *const headers_all[] = {"ID",    "LEVEL",   "FORMAT", "SOURCE",
	                                          "TITLE", "SKIPPED", NULL};
	struct table *t = table_new(all ? headers_all : headers);
	int skipped = count_skipped(rs);

	if (!t || each_row(rs, all, row_text, t) < 0) {
		table_free(t);
		return cmd_failf("out of memory");
	}
	table_print(t, stdout);
	table_free(t);
	if (skipped && !all)
		printf("(%d rule%s skipped: 'coi rules list --all' says why)\n", skipped,
		       skipped == 1 ? "" : "s");
	return EXIT_OK;
}

static int run_list(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"all", no_argument, NULL, 'a'},
	        {"json", no_argument, NULL, 'j'},
	        {"format", required_argument, NULL, 'F'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	_cleanup_(ruleset_freep) struct ruleset *rs = NULL;
	bool all = false;
	int c, rc, json = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, "ajh", opts, NULL)) != -1) {
		if (c == 'a')
			all = true;
		else if (c == 'j')
			json = 1;
		else if (c == 'F' && cmd_parse_format(&verb_rules, optarg, &json))
			return EXIT_USAGE;
		else if (c == 'h')
			return cmd_help(&verb_rules);
		else if (c != 'F')
			return cmd_bad_option(&verb_rules, argv);
	}
	if (optind < argc)
		return cmd_usage_error(&verb_rules, "unexpected argument '%s'", argv[optind]);
	rc = load_all(&rs);
	if (rc != EXIT_OK)
		return rc;
	return json ? list_json(rs, all) : list_text(rs, all);
}

/* ---- test ---------------------------------------------------------------------------------- */

/* Where a hit's rule comes from, for the output. */
static const char *source_of(const struct ruleset *rs, const struct rule *r)
{
	for (size_t i = 0; i < ruleset_count(rs); i++)
		if (ruleset_get(rs, i)->rule == r)
			return ruleset_get(rs, i)->source;
	return "built in";
}

struct seen_hits {
	struct rule_hit hits[64];
	size_t n;
};

static void add_hits(struct seen_hits *s, const struct rule_hit *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool dup = false;

		for (size_t k = 0; k < s->n && !dup; k++)
			dup = s->hits[k].rule == h[i].rule;
		if (!dup && s->n < ELEMENTSOF(s->hits))
			s->hits[s->n++] = h[i];
	}
}

/* What the monitor would make of an agent running CMD: the shell's process (sh -c CMD), then
 * each program of it as the process it becomes. */
static void evaluate(const char *cmd, const struct rules_config *cfg, struct seen_hits *out)
{
	char *sh[] = {"sh", "-c", (char *)cmd, NULL};
	struct rule_hit hits[RULES_MAX_HITS];
	struct cmdline cl = {0};

	add_hits(out, hits,
	         rules_match_process(
	                 &(struct proc_obs){
	                         .pid = 2, .ppid = 1, .uid = 1000, .argv = sh, .parent = "bash"},
	                 cfg, hits, RULES_MAX_HITS));
	if (cmdline_from_script(cmd, &cl) < 0)
		return;
	for (size_t i = 0; i < cl.n; i++)
		add_hits(out, hits,
		         rules_match_process(&(struct proc_obs){.pid = 3,
		                                                .ppid = 2,
		                                                .uid = 1000,
		                                                .argv = cl.cmds[i].argv,
		                                                .parent = "sh<bash"},
		                             cfg, hits, RULES_MAX_HITS));
	cmdline_release(&cl);
}

static void print_hits(const char *cmd, const struct seen_hits *s, const struct ruleset *rs,
                       bool json)
{
	if (json) {
		_cleanup_json_ json_t *o = json_pack("{s:s, s:[]}", "cmdline", cmd, "hits");
		_cleanup_free_ char *text = NULL;

		for (size_t i = 0; o && i < s->n; i++) {
			const struct rule_hit *h = &s->hits[i];

			json_array_append_new(
			        json_object_get(o, "hits"),
			        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "rule", h->rule->id,
			                  "level", threat_level_to_string(h->level), "title",
			                  h->rule->title, "reason", h->reason, "pattern",
			                  h->pattern, "source", source_of(rs, h->rule)));
		}
		if (o && (text = json_encode(o)))
			printf("%s\n", text);
		return;
	}
	if (s->n == 0)
		printf("%s: no rule matches\n", cmd);
	for (size_t i = 0; i < s->n; i++)
		printf("%-8s %s: %s (%s: %s) [%s]\n", threat_level_to_string(s->hits[i].level),
		       s->hits[i].rule->id, s->hits[i].rule->title, s->hits[i].reason,
		       s->hits[i].pattern, source_of(rs, s->hits[i].rule));
}

/* Each rule of file (rs[from..to]) loads, or is skipped and why: EXIT_FAIL if any is. */
static int report(const struct ruleset *rs, const char *file, size_t from, size_t to, bool quiet)
{
	int rc = EXIT_OK;

	for (size_t i = from; i < to; i++) {
		const struct ruleset_info *r = ruleset_get(rs, i);

		if (r->skipped)
			rc = EXIT_FAIL;
		if (!quiet || r->skipped)
			printf("%s: %s %s (%s)%s%s\n", file, r->rule->id,
			       r->skipped ? "skipped" : "loads",
			       threat_level_to_string(r->rule->level),
			       r->skipped ? ": " : ": matches ",
			       r->skipped   ? r->skipped
			       : r->summary ? r->summary
			                    : "");
	}
	return rc;
}

/* The rule files named on the command line: each must load, every rule in it used. */
static int add_files(struct ruleset *rs, char **files, bool quiet)
{
	int rc = EXIT_OK;

	for (char **f = files; f && *f; f++) {
		_cleanup_buf_ struct buf b = BUF_INIT(RULESET_FILE_MAX);
		_cleanup_free_ char *abs = NULL;
		struct coi_error err = {0};
		size_t before = ruleset_count(rs), from = before, to = before;
		int fmt;

		/* a file of a configured directory is loaded already: report its rules */
		if (path_absolute(*f, &abs, NULL) < 0)
			abs = NULL;
		for (size_t i = 0; abs && i < before; i++)
			if (strcmp(ruleset_get(rs, i)->source, abs) == 0) {
				from = from == before ? i : from;
				to = i + 1;
			}
		if (to > from) {
			rc |= report(rs, *f, from, to, quiet);
			continue;
		}
		if (read_file(*f, &b, &err) < 0) {
			cmd_fail(&err);
			rc = EXIT_FAIL;
			continue;
		}
		fmt = ruleset_sniff(buf_str(&b), b.len);
		if (fmt < 0)
			fmt = strstr(*f, ".yml") || strstr(*f, ".yaml") ? RULESET_SIGMA
			                                                : RULESET_GTFOBINS;
		if (ruleset_add_text(rs, (enum ruleset_format)fmt, *f, buf_str(&b), b.len, &err) <
		    0) {
			cmd_fail(&err);
			rc = EXIT_FAIL;
			continue;
		}
		rc |= report(rs, *f, before, ruleset_count(rs), quiet);
	}
	return rc;
}

static int run_test(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"cmdline", required_argument, NULL, 'c'},
	        {"json", no_argument, NULL, 'j'},
	        {"format", required_argument, NULL, 'F'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	_cleanup_(ruleset_freep) struct ruleset *rs = NULL;
	_cleanup_strv_free_ char **cmds = NULL;
	struct rules_config rc_cfg;
	bool any = false;
	int c, rc, json = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, "c:jh", opts, NULL)) != -1) {
		if (c == 'c' && strv_push(&cmds, optarg) < 0)
			return cmd_failf("out of memory");
		else if (c == 'j')
			json = 1;
		else if (c == 'F' && cmd_parse_format(&verb_rules, optarg, &json))
			return EXIT_USAGE;
		else if (c == 'h')
			return cmd_help(&verb_rules);
		else if (c != 'c' && c != 'F')
			return cmd_bad_option(&verb_rules, argv);
	}
	if (optind == argc && !cmds)
		return cmd_usage_error(&verb_rules, "test needs a rule FILE or --cmdline CMD");
	rc = load_all(&rs);
	if (rc != EXIT_OK)
		return rc;
	rc = add_files(rs, argv + optind, cmds != NULL);
	rules_config_default(&rc_cfg);
	rc_cfg.extra = ruleset_match_process;
	rc_cfg.extra_set = rs;
	strv_foreach(cmd, cmds) {
		struct seen_hits s = {0};

		evaluate(*cmd, &rc_cfg, &s);
		print_hits(*cmd, &s, rs, json);
		any |= s.n > 0;
	}
	/* like grep: a command line no rule matches is a failure */
	return rc != EXIT_OK ? rc : cmds && !any ? EXIT_FAIL : EXIT_OK;
}

/* ---- update -------------------------------------------------------------------------------- */

/* Runs argv (git), its output on stderr; the exit code. */
static int run_git(char *const *argv, bool dry_run)
{
	_cleanup_free_ char *line = strv_join((char **)argv, " ");
	int status;
	pid_t pid;

	fprintf(stderr, "%s%s\n", dry_run ? "would run: " : "+ ", line ? line : argv[0]);
	if (dry_run)
		return 0;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		(void)dup2(STDERR_FILENO, STDOUT_FILENO);
		execvp(argv[0], argv);
		fprintf(stderr, "coi: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* A shallow clone of source into dir, or a pull of the one there; for Sigma only its Linux
 * process_creation rules are checked out. */
static int update_one(const char *what, const char *source, const char *dir, bool sigma,
                      bool dry_run)
{
	_cleanup_free_ char *git = dir ? path_join(dir, ".git") : NULL;
	struct stat st;
	int r;

	if (!source || !*source || !dir) {
		fprintf(stderr, "coi: %s: no source or directory configured, skipping\n", what);
		return 0;
	}
	if (git && stat(git, &st) == 0)
		return run_git((char *const[]){"git", "-C", (char *)dir, "pull", "--ff-only",
		                               "--quiet", NULL},
		               dry_run);
	r = run_git(sigma ? (char *const[]){"git", "clone", "--depth", "1", "--quiet", "--sparse",
	                                    (char *)source, (char *)dir, NULL}
	                  : (char *const[]){"git", "clone", "--depth", "1", "--quiet",
	                                    (char *)source, (char *)dir, NULL},
	            dry_run);
	if (r == 0 && sigma)
		r = run_git((char *const[]){"git", "-C", (char *)dir, "sparse-checkout", "set",
		                            "rules/linux/process_creation", NULL},
		            dry_run);
	return r;
}

static int run_update(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"dry-run", no_argument, NULL, 'n'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	struct coi_config *cfg = NULL;
	bool dry_run = false;
	int c, rc, a, b;

	optind = 0;
	while ((c = getopt_long(argc, argv, "nh", opts, NULL)) != -1) {
		if (c == 'n')
			dry_run = true;
		else if (c == 'h')
			return cmd_help(&verb_rules);
		else
			return cmd_bad_option(&verb_rules, argv);
	}
	if (optind < argc)
		return cmd_usage_error(&verb_rules, "unexpected argument '%s'", argv[optind]);
	rc = load_config(&cfg);
	if (rc != EXIT_OK)
		return rc;
	a = update_one("gtfobins", cfg->detection.gtfobins_source, cfg->detection.gtfobins_dir,
	               false, dry_run);
	b = update_one("sigma", cfg->detection.sigma_source, cfg->detection.sigma_dir, true,
	               dry_run);
	config_free(cfg);
	if (a != 0 || b != 0)
		return cmd_failf("updating the rule databases failed (git's messages above)");
	if (!dry_run)
		fprintf(stderr, "coi: updated; sessions started from now on load them ('coi rules "
		                "list' shows what loads)\n");
	return EXIT_OK;
}

static int run(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (!sub)
		return cmd_usage_error(&verb_rules, "which: list, test or update?");
	if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0 || strcmp(sub, "help") == 0)
		return cmd_help(&verb_rules);
	if (strcmp(sub, "list") == 0)
		return run_list(argc - 1, argv + 1);
	if (strcmp(sub, "test") == 0)
		return run_test(argc - 1, argv + 1);
	if (strcmp(sub, "update") == 0)
		return run_update(argc - 1, argv + 1);
	return cmd_usage_error(&verb_rules, "unknown sub-command '%s'", sub);
}

const struct verb verb_rules = {
        .name = "rules",
        .run = run,
        .summary = "list the monitor's detection rules, try them on a command line, update them",
        .usage = "Usage: coi rules list [--all] [--json | --format text|json]\n"
                 "       coi rules test [FILE...] [--cmdline CMD]... [--json | --format F]\n"
                 "       coi rules update [--dry-run]\n"
                 "\n"
                 "The monitor's rules: its own table, coi's GTFOBins and Sigma rule files, and\n"
                 "those in [detection] gtfobins_dir and sigma_dir (docs/monitoring.md).\n"
                 "\n"
                 "list     every rule that loads: id, level, format, where it comes from\n"
                 "  --all  also the rules coi skips, and why\n"
                 "test     what the rules make of an agent running CMD (its shell, then each\n"
                 "         program); exits 1 when no rule matches. Rule FILEs are loaded too,\n"
                 "         and each of their rules is reported as loading or skipped (exit 1)\n"
                 "  --cmdline CMD  a command line, as an agent's shell would run it\n"
                 "update   clone or pull gtfobins_source into gtfobins_dir and sigma_source\n"
                 "         into sigma_dir (Sigma: only rules/linux/process_creation), with git\n"
                 "  --dry-run  print the git commands instead",
};
