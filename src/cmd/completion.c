/* SPDX-License-Identifier: MIT */
/* coi completion: a completion script for bash, zsh or fish. The script asks the hidden verb
 * 'coi __complete WORD... CURRENT' for candidates, which reads them from the verb table and each
 * verb's usage text (cmd/usage.h), so a new verb or option completes without touching this file.
 * Container names come from the daemon, profile names from the profile directories, prompt
 * names from the configuration in effect (an unapproved project file's are not offered).
 *
 * The __complete protocol: one candidate per line, "WORD" or "WORD<TAB>DESCRIPTION", already
 * filtered by the prefix CURRENT; then one last line, ":files" (the shell adds file names),
 * ":dirs" (directories) or ":" (nothing more). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/client.h"
#include "cmd/cmd.h"
#include "cmd/usage.h"
#include "config/config.h"
#include "incus/incus.h"
#include "session/fleet.h"
#include "util/path.h"
#include "util/strv.h"

/* A completion must never hang the shell: give up after this many seconds (SIGALRM ends us). */
#define COMPLETE_TIMEOUT_SEC 3

const struct verb verb_completion;
const struct verb verb___complete;

/* clang-format off */
static const char *const global_opts[][2] = {
	{"--verbose", "more detail on stderr (twice for debug)"},
	{"--quiet", "errors only"},
	{"--version", "print the version"},
	{"--help", "the list of verbs"},
};
/* clang-format on */

static void emit(const char *cur, const char *prefix, const char *word, const char *desc)
{
	size_t pl = strlen(prefix);

	if (strncmp(cur, prefix, pl) != 0 || strncmp(word, cur + pl, strlen(cur + pl)) != 0)
		return;
	if (desc && *desc)
		printf("%s%s\t%s\n", prefix, word, desc);
	else
		printf("%s%s\n", prefix, word);
}

static void emit_containers(const char *cur, const char *prefix)
{
	_cleanup_(incus_client_freep) struct incus_client *c = NULL;
	struct fleet f = {0};

	if (cmd_client_new(&c, NULL) < 0 || fleet_list(c, false, &f, NULL) < 0)
		return;
	for (size_t i = 0; i < f.n; i++)
		emit(cur, prefix, f.items[i].name, f.items[i].workspace);
	fleet_release(&f);
}

static void emit_images(const char *cur, const char *prefix)
{
	_cleanup_(incus_client_freep) struct incus_client *c = NULL;
	_cleanup_(incus_image_list_freep) struct incus_image **l = NULL;

	if (cmd_client_new(&c, NULL) < 0 || incus_image_list(c, &l, NULL) < 0)
		return;
	for (size_t i = 0; l[i]; i++)
		for (size_t j = 0; l[i]->aliases && l[i]->aliases[j]; j++)
			emit(cur, prefix, l[i]->aliases[j], l[i]->description);
}

static void add_dirs(char ***names, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && e->d_type == DT_DIR && !strv_contains(*names, e->d_name))
			(void)strv_push(names, e->d_name);
	closedir(d);
}

/* Built-in profiles, then ~/.coi/profiles/NAME/ and WORKSPACE/.coi/profiles/NAME/. */
static void emit_profiles(const char *cur, const char *prefix, const char *workspace)
{
	_cleanup_strv_free_ char **names = NULL;
	_cleanup_free_ char *user = NULL, *proj = NULL, *dir = coi_dir();

	(void)strv_push(&names, "default");
	(void)strv_push(&names, "hardened");
	if (dir && asprintf(&user, "%s/profiles", dir) > 0)
		add_dirs(&names, user);
	if (asprintf(&proj, "%s/.coi/profiles", workspace ? workspace : ".") > 0)
		add_dirs(&names, proj);
	strv_foreach(n, names)
		emit(cur, prefix, *n, NULL);
}

/* The value of option short (may be NULL) or long among the finished words: the workspace for
 * project profiles and prompts, the profile for its prompts. */
static const char *find_value(char **w, int n, const char *short_name, const char *long_name)
{
	size_t l = strlen(long_name);

	for (int i = 0; i < n - 1; i++) {
		if (strcmp(w[i], "--") == 0)
			break;
		if (i + 1 < n - 1 &&
		    ((short_name && strcmp(w[i], short_name) == 0) || strcmp(w[i], long_name) == 0))
			return w[i + 1];
		if (strncmp(w[i], long_name, l) == 0 && w[i][l] == '=')
			return w[i] + l + 1;
	}
	return NULL;
}

/* The names of [prompts] in the configuration of workspace (and profile), each with the start
 * of its text or its file as the description. */
static void emit_prompts(const char *cur, const char *prefix, const char *workspace,
                         const char *profile)
{
	struct config_load_opts o = {.workspace = workspace, .profile = profile};
	struct coi_config *c = NULL;

	if (config_load(&o, &c, NULL, NULL) < 0)
		return;
	for (size_t i = 0; i < c->n_prompts; i++) {
		const struct config_prompt *p = &c->prompts[i];
		char desc[64];

		/* one line: the first of the text, control characters and all cut there */
		(void)snprintf(desc, sizeof(desc), "%s", p->text ? p->text : p->file);
		for (char *d = desc; *d; d++)
			if ((unsigned char)*d < 0x20) {
				*d = '\0';
				break;
			}
		emit(cur, prefix, p->name, desc);
	}
	config_free(c);
}

/* The candidates for a value of kind; returns the directive. */
static const char *complete_value(enum usage_kind kind, const char *arg, const char *cur,
                                  const char *prefix, char **w, int n)
{
	const char *workspace = find_value(w, n, "-w", "--workspace");
	_cleanup_strv_free_ char **choices = NULL;

	switch (kind) {
	case USAGE_CONTAINER:
		emit_containers(cur, prefix);
		break;
	case USAGE_IMAGE:
		emit_images(cur, prefix);
		break;
	case USAGE_PROFILE:
		emit_profiles(cur, prefix, workspace);
		break;
	case USAGE_PROMPT:
		emit_prompts(cur, prefix, workspace, find_value(w, n, NULL, "--profile"));
		break;
	case USAGE_CHOICE:
		choices = strv_split(arg, "|");
		strv_foreach(c, choices)
			emit(cur, prefix, *c, NULL);
		break;
	case USAGE_DIR:
		return ":dirs";
	case USAGE_FILE:
		return ":files";
	case USAGE_NONE:
		break;
	}
	return ":";
}

static bool takes_value(const struct usage *u, const char *w)
{
	const struct usage_opt *o;

	if (w[0] != '-' || strchr(w, '='))
		return false;
	if (strcmp(w, "--profile") == 0)
		return true;
	o = usage_find_opt(u, w);
	return o && o->arg;
}

/* The subcommand among the finished words w[0..n-2], or NULL. */
static const char *find_sub(const struct usage *whole, char **w, int n)
{
	for (int i = 0; i < n - 1; i++) {
		if (strcmp(w[i], "--") == 0)
			return NULL;
		if (w[i][0] == '-') {
			i += takes_value(whole, w[i]);
			continue;
		}
		return strv_contains(whole->subcommands, w[i]) ? w[i] : NULL;
	}
	return NULL;
}

/* How many positional words w[0..n-2] hold (after the subcommand, if any). */
static int count_positionals(const struct usage *u, char **w, int n, bool has_sub)
{
	bool dashdash = false;
	int count = 0;

	for (int i = 0; i < n - 1; i++) {
		if (!dashdash && strcmp(w[i], "--") == 0)
			dashdash = true;
		else if (!dashdash && w[i][0] == '-' && w[i][1])
			i += takes_value(u, w[i]);
		else
			count++;
	}
	return has_sub ? count - 1 : count;
}

static const char *complete_positional(const struct verb *v, const struct usage *u, char **w, int n,
                                       bool has_sub)
{
	size_t np = strv_length(u->positionals), l;
	int idx = count_positionals(u, w, n, has_sub);
	const char *ph;

	if (np == 0 || idx < 0)
		return ":";
	if ((size_t)idx >= np) {
		ph = u->positionals[np - 1];
		l = strlen(ph);
		if (l < 3 || strcmp(ph + l - 3, "...") != 0)
			return ":";
	} else {
		ph = u->positionals[idx];
	}
	return complete_value(usage_kind(NULL, ph, v->usage), ph, w[n - 1], "", w, n);
}

static bool after_dashdash(char **w, int n)
{
	for (int i = 0; i < n - 1; i++)
		if (strcmp(w[i], "--") == 0)
			return true;
	return false;
}

/* w[0..n-1] are the words after the verb, w[n-1] the one being completed. */
static const char *complete_verb(const struct verb *v, char **w, int n)
{
	struct usage whole = {0}, u = {0};
	const char *cur = w[n - 1], *prev = n >= 2 ? w[n - 2] : NULL, *sub, *dir = ":";
	const struct usage_opt *o;
	const char *eq = cur[0] == '-' ? strchr(cur, '=') : NULL;

	if (usage_parse(v->name, v->usage, NULL, &whole) < 0)
		return ":";
	sub = find_sub(&whole, w, n);
	if (sub && usage_parse(v->name, v->usage, sub, &u) < 0)
		goto out;
	if (!sub)
		u = whole, whole = (struct usage){0};
	if (prev && takes_value(&u, prev)) {
		o = usage_find_opt(&u, prev);
		dir = complete_value(usage_kind(prev, o ? o->arg : NULL, v->usage),
		                     o ? o->arg : NULL, cur, "", w, n);
	} else if (eq) {
		_cleanup_free_ char *name = strndup(cur, (size_t)(eq - cur)),
		                    *pre = strndup(cur, (size_t)(eq - cur + 1));

		o = name ? usage_find_opt(&u, name) : NULL;
		if (pre && o && o->arg)
			dir = complete_value(usage_kind(name, o->arg, v->usage), o->arg, cur, pre,
			                     w, n);
	} else if (cur[0] == '-' && !after_dashdash(w, n)) {
		for (size_t i = 0; i < u.n_opts; i++)
			emit(cur, "", u.opts[i].name, u.opts[i].help);
		if (!usage_find_opt(&u, "--help")) /* every verb takes it */
			emit(cur, "", "--help", "usage of the verb");
	} else if (u.subcommands && !sub) {
		strv_foreach(s, u.subcommands)
			emit(cur, "", *s, NULL);
	} else {
		dir = complete_positional(v, &u, w, n, sub != NULL);
	}
out:
	usage_release(&u);
	usage_release(&whole);
	return dir;
}

static bool hidden(const struct verb *v)
{
	return v->name[0] == '_';
}

static void emit_verbs(const char *cur)
{
	for (size_t i = 0; coi_verbs[i]; i++) {
		if (hidden(coi_verbs[i]))
			continue;
		emit(cur, "", coi_verbs[i]->name, coi_verbs[i]->summary);
		if (coi_verbs[i]->alias)
			emit(cur, "", coi_verbs[i]->alias, coi_verbs[i]->summary);
	}
}

static int run_complete(int argc, char **argv)
{
	char **w = argv + 1, *empty[] = {(char *)"", NULL};
	int n = argc - 1, i = 0;
	const struct verb *v;
	const char *dir = ":";

	alarm(COMPLETE_TIMEOUT_SEC);
	if (n < 1)
		w = empty, n = 1;
	while (i < n - 1 && w[i][0] == '-')
		i++;
	if (i == n - 1) {
		if (w[i][0] == '-')
			for (size_t j = 0; j < ELEMENTSOF(global_opts); j++)
				emit(w[i], "", global_opts[j][0], global_opts[j][1]);
		else
			emit_verbs(w[i]);
	} else if (strcmp(w[i], "help") == 0) {
		if (i + 2 == n)
			emit_verbs(w[n - 1]);
	} else if ((v = verb_find(w[i])) && !hidden(v)) {
		dir = complete_verb(v, w + i + 1, n - i - 1);
	}
	printf("%s\n", dir);
	return EXIT_OK;
}

static const char bash_script[] =
        "# bash completion for coi (generated by 'coi completion bash')\n"
        "_coi() {\n"
        "    local cur words cword line directive=: coi IFS=$'\\n'\n"
        "    local -a cands=()\n"
        "    if declare -F _get_comp_words_by_ref >/dev/null 2>&1; then\n"
        "        _get_comp_words_by_ref -n =: cur words cword\n"
        "    else\n"
        "        cur=${COMP_WORDS[COMP_CWORD]} cword=$COMP_CWORD words=(\"${COMP_WORDS[@]}\")\n"
        "    fi\n"
        "    coi=${words[0]}\n"
        "    [[ $coi == */* && -x $coi ]] || coi=coi\n"
        "    while IFS= read -r line; do\n"
        "        case $line in\n"
        "        :*) directive=$line ;;\n"
        "        *) cands+=(\"${line%%$'\\t'*}\") ;;\n"
        "        esac\n"
        "    done < <(command \"$coi\" __complete \"${words[@]:1:cword}\" 2>/dev/null)\n"
        "    COMPREPLY=(\"${cands[@]}\")\n"
        "    case $directive in\n"
        "    :files) COMPREPLY+=($(compgen -f -- \"$cur\")); compopt -o filenames 2>/dev/null ;;\n"
        "    :dirs) COMPREPLY+=($(compgen -d -- \"$cur\")); compopt -o filenames 2>/dev/null ;;\n"
        "    esac\n"
        "    # readline replaces only the part after the last '=' or ':' it breaks words at\n"
        "    if [[ $cur == *[=:]* ]]; then\n"
        "        local pre=${cur%\"${cur##*[=:]}\"}\n"
        "        COMPREPLY=(\"${COMPREPLY[@]#\"$pre\"}\")\n"
        "    fi\n"
        "}\n"
        "complete -F _coi coi\n";

static const char zsh_script[] =
        "#compdef coi\n"
        "# zsh completion for coi (generated by 'coi completion zsh')\n"
        "_coi() {\n"
        "    local line directive=: coi=${words[1]}\n"
        "    local -a lines entries\n"
        "    [[ $coi == */* && -x $coi ]] || coi=coi\n"
        "    lines=(\"${(@f)$(command $coi __complete \"${(@)words[2,CURRENT]}\" 2>/dev/null)}\")\n"
        "    for line in $lines; do\n"
        "        case $line in\n"
        "        :*) directive=$line ;;\n"
        "        *$'\\t'*) entries+=(\"${${line%%$'\\t'*}//:/\\\\:}:${line#*$'\\t'}\") ;;\n"
        "        ?*) entries+=(\"${line//:/\\\\:}\") ;;\n"
        "        esac\n"
        "    done\n"
        "    (( $#entries )) && _describe -t coi coi entries\n"
        "    case $directive in\n"
        "    :files) _files ;;\n"
        "    :dirs) _files -/ ;;\n"
        "    esac\n"
        "}\n"
        "if [[ $funcstack[1] == _coi ]]; then _coi \"$@\"; else compdef _coi coi; fi\n";

static const char fish_script[] =
        "# fish completion for coi (generated by 'coi completion fish')\n"
        "function __coi_complete\n"
        "    set -l tokens (commandline -opc)\n"
        "    set -l cur (commandline -ct)\n"
        "    set -l coi $tokens[1]\n"
        "    string match -q -- '*/*' $coi; or set coi coi\n"
        "    set -e tokens[1]\n"
        "    for line in (command $coi __complete $tokens \"$cur\" 2>/dev/null)\n"
        "        switch $line\n"
        "            case ':files'\n"
        "                __fish_complete_path \"$cur\"\n"
        "            case ':dirs'\n"
        "                __fish_complete_directories \"$cur\"\n"
        "            case ':*'\n"
        "            case '*'\n"
        "                echo $line\n"
        "        end\n"
        "    end\n"
        "end\n"
        "complete -c coi -f -a '(__coi_complete)'\n";

static int run_completion(int argc, char **argv)
{
	if (cmd_wants_help(argc, argv))
		return cmd_help(&verb_completion);
	if (argc != 2)
		return cmd_usage_error(&verb_completion, "name one shell: bash, zsh or fish");
	if (strcmp(argv[1], "bash") == 0)
		fputs(bash_script, stdout);
	else if (strcmp(argv[1], "zsh") == 0)
		fputs(zsh_script, stdout);
	else if (strcmp(argv[1], "fish") == 0)
		fputs(fish_script, stdout);
	else
		return cmd_usage_error(&verb_completion, "unknown shell '%s' (bash, zsh or fish)",
		                       argv[1]);
	return EXIT_OK;
}

const struct verb verb_completion = {
        .name = "completion",
        .run = run_completion,
        .summary = "print a shell completion script (bash, zsh, fish)",
        .usage = "Usage: coi completion bash|zsh|fish\n"
                 "\n"
                 "Print a script that completes coi's verbs, options, container names and profile\n"
                 "names in the shell. The packages install it; to load it by hand:\n"
                 "\n"
                 "  bash  source <(coi completion bash)           (in ~/.bashrc)\n"
                 "  zsh   source <(coi completion zsh)            (in ~/.zshrc, after compinit)\n"
                 "  fish  coi completion fish | source            (in ~/.config/fish/config.fish)",
};

const struct verb verb___complete = {
        .name = "__complete",
        .run = run_complete,
        .summary = "candidates for shell completion (used by the completion scripts)",
        .usage = "Usage: coi __complete WORD... CURRENT\n"
                 "\n"
                 "Print the completions of CURRENT after 'coi WORD...', one a line (WORD<TAB>\n"
                 "DESCRIPTION), then a directive line: ':files', ':dirs' or ':'.",
};
