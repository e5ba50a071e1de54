/* SPDX-License-Identifier: MIT */
/* fuzz-monitor: the monitor's decoders of untrusted bytes. The first byte picks one: the proc
 * connector, NFLOG and sock_diag datagrams (kernel input, but parsed with no trust), and command
 * lines (written by the agent: the shell lexer and every process rule). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/rules.h"
#include "monitor/sources.h"

static void on_ev(const struct proccn_event *ev, void *u)
{
	(void)ev, (void)u;
}

static void on_pkt(const struct nflog_packet *p, void *u)
{
	char name[64];

	(void)u;
	(void)nflog_prefix_container(p->prefix, name, sizeof(name));
}

static void on_conn(const struct conn_obs *c, void *u)
{
	struct rules_config cfg;
	struct rule_hit hits[RULES_MAX_HITS];

	(void)u;
	rules_config_default(&cfg);
	(void)rules_match_connection(c, &cfg, hits, RULES_MAX_HITS);
}

static void fuzz_cmdline(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *argv[64];
	struct rules_config cfg;
	struct rule_hit hits[RULES_MAX_HITS];
	struct proc_obs p = {.argv = argv, .socks.stdio[0] = size & 1 ? PEER_REMOTE : PEER_NONE};
	size_t n = 0;

	if (!s)
		return;
	memcpy(s, data, size);
	s[size] = 0;
	rules_config_default(&cfg);
	/* as a script run by sh -c */
	argv[0] = "sh", argv[1] = "-c", argv[2] = s, argv[3] = NULL;
	(void)rules_match_process(&p, &cfg, hits, RULES_MAX_HITS);
	/* as an argv, NUL-separated */
	for (size_t i = 0; i <= size && n < 63; i += strlen(s + i) + 1)
		argv[n++] = s + i;
	argv[n] = NULL;
	(void)rules_match_process(&p, &cfg, hits, RULES_MAX_HITS);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	if (size < 1 || size > 65536)
		return 0;
	if (data[0] % 4 == 3) {
		fuzz_cmdline(data + 1, size - 1);
		return 0;
	}
	/* netlink parsers read aligned headers: give them an aligned copy */
	copy = aligned_alloc(8, (size + 7) & ~(size_t)7);
	if (!copy)
		return 0;
	memcpy(copy, data + 1, size - 1);
	switch (data[0] % 4) {
	case 0:
		(void)proccn_parse(copy, size - 1, on_ev, NULL);
		break;
	case 1:
		(void)nflog_parse(copy, size - 1, on_pkt, NULL);
		break;
	case 2:
		(void)sockdiag_parse(copy, size - 1, data[0] & 4 ? 0 : IPPROTO_TCP, on_conn, NULL);
		break;
	}
	free(copy);
	return 0;
}
