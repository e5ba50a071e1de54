/* SPDX-License-Identifier: MIT */
/* fuzz-monitor: the monitor's decoders of untrusted bytes. The first byte picks one: the proc
 * connector, NFLOG and sock_diag datagrams (kernel input, but parsed with no trust), command
 * lines (written by the agent: the shell lexer and every process rule), ELF headers (binaries
 * in the container), /proc/net tables, lines added to startup files and paths of opened files. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/progid.h"
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

static bool on_sock(const struct net_sock *s, void *u)
{
	char peer[64];

	(void)u;
	net_sock_peer(s, peer, sizeof(peer));
	return net_sock_loopback(s) && s->inode == 1;
}

/* Text from outside: /proc/<pid>/net tables, a file a write added lines to (each judged as the
 * shell would run it), paths a file watch reports. */
static void fuzz_text(const uint8_t *data, size_t size, uint8_t how)
{
	char *s = malloc(size + 1);
	struct rules_config cfg;
	struct rule_hit hits[RULES_MAX_HITS];

	if (!s)
		return;
	memcpy(s, data, size);
	s[size] = 0;
	rules_config_default(&cfg);
	switch (how % 3) {
	case 0:
		(void)proc_net_parse(s, how & 8, on_sock, NULL);
		break;
	case 1:
		(void)rules_match_write(&(struct write_obs){.path = how & 8 ? "/etc/cron.d/x"
		                                                            : "/home/code/.bashrc",
		                                            .added = s},
		                        &cfg, hits, RULES_MAX_HITS);
		break;
	case 2:
		(void)rules_match_open(&(struct open_obs){.path = s, .program = "cat"}, &cfg, hits,
		                       RULES_MAX_HITS);
		(void)rules_persist_file(s);
		break;
	}
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy, id[PROGID_BUILD_ID_MAX];

	if (size < 1 || size > 65536)
		return 0;
	if (data[0] % 4 == 3) {
		if (data[0] & 0x80) /* an ELF header and its notes: a binary in the container */
			(void)elf_build_id(data + 1, size - 1, id);
		else if (data[0] & 0x40)
			fuzz_text(data + 1, size - 1, data[0] >> 2);
		else
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
