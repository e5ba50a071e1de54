/* SPDX-License-Identifier: MIT */
/* dns-filter: coi's DNS filter (egress/dnsserver.h) on its own, for tests and the bench: the same
 * code a session's supervisor runs, with the policy from the command line and the container's
 * nft rules (and its sets) applied to the current network namespace first. Run it in a
 * throwaway namespace (`unshare -n`, `ip netns exec`): it changes that namespace's nftables.
 *
 *	dns-filter -l ADDR[:PORT] -u UPSTREAM... [-m MODE] [-a ENTRY]... [-H IP=NAME[,NAME]]...
 *	           [-c CLIENT] [-r RULES] [-n CONTAINER] [-t TABLE] [-T MIN_TTL] [-x HOSTS] [-q]
 *
 * The rules are keyed on RULES (by default CLIENT, else 127.0.0.2): a client of another
 * address is answered without meeting them (the bench asks the upstream server directly too).
 * Prints "ready PORT" once it answers, then one line per query (unless -q):
 * "VERDICT RCODE TYPE NAME ADDR,ADDR... TIMEOUT". Runs until killed. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "egress/dnsserver.h"
#include "netpolicy/netpolicy.h"
#include "util/error.h"
#include "util/strv.h"

static bool quiet;

static void on_record(const struct egress_dns_record *r, void *u)
{
	char type[16], a[INET_ADDRSTRLEN];

	(void)u;
	if (quiet)
		return;
	printf("%s %d %s %s ", egress_verdict_to_string(r->verdict), r->rcode,
	       dns_type_to_string(r->qtype, type), r->name[0] ? r->name : "-");
	for (size_t i = 0; i < r->n_addrs && i < EGRESS_RECORD_ADDRS; i++)
		printf("%s%s", i ? "," : "", inet_ntop(AF_INET, &r->addrs[i], a, sizeof(a)));
	printf("%s %u\n", r->n_addrs ? "" : "-", r->timeout);
	fflush(stdout);
}

static void on_ready(void *u)
{
	printf("ready %u\n", *(uint16_t *)u);
	fflush(stdout);
}

/* The container's rules in this namespace, with the filter's sets. */
static int apply(const struct net_policy *p, const char *table, const char *container,
                 struct in_addr listen, struct in_addr rules, uint16_t port, struct coi_error *err)
{
	static const struct net_nft nft = {.backend = NET_BACKEND_LIBNFTABLES};
	struct net_target t = {.table = table,
	                       .container = container,
	                       .veth = "vdnsfilter",
	                       .ipv4 = rules,
	                       .gateway = listen,
	                       .prefix = 24,
	                       .log_group = -1,
	                       .dns_port = port};

	if (t.ipv4.s_addr == INADDR_ANY)
		t.ipv4.s_addr = htonl(0x7f000002);
	return netpolicy_apply(&nft, &t, p, err);
}

int main(int argc, char **argv)
{
	static const struct net_nft nft = {.backend = NET_BACKEND_LIBNFTABLES};
	_cleanup_strv_free_ char **upstream = NULL;
	struct net_policy p;
	struct coi_error err = {0};
	struct in_addr listen = {htonl(0x7f000001)}, client = {0}, rules = {0};
	const char *table = "coi", *container = "coi-dns-filter", *hosts = "/etc/hosts";
	unsigned port = 0, ttl_min = 60;
	char addr[64];
	uint16_t bound;
	int o, r = 0, udp, tcp;

	net_policy_init(&p);
	p.mode = NET_MODE_ALLOWLIST;
	while (r >= 0 && (o = getopt(argc, argv, "l:u:m:a:H:c:r:n:t:T:x:q")) != -1) {
		switch (o) {
		case 'l':
			if (sscanf(optarg, "%63[0-9.]:%u", addr, &port) < 1 ||
			    inet_pton(AF_INET, addr, &listen) != 1)
				r = coi_error_set(&err, -EINVAL, "bad -l '%s'", optarg);
			break;
		case 'u':
			r = strv_push(&upstream, optarg);
			break;
		case 'm':
			p.mode = net_mode_from_string(optarg);
			if ((int)p.mode < 0)
				r = coi_error_set(&err, -EINVAL, "bad mode '%s'", optarg);
			break;
		case 'a':
			r = net_policy_add_dest(&p, optarg, &err);
			break;
		case 'H':
			r = net_policy_add_host_text(&p, optarg, &err);
			break;
		case 'c':
			if (inet_pton(AF_INET, optarg, &client) != 1)
				r = coi_error_set(&err, -EINVAL, "bad -c '%s'", optarg);
			break;
		case 'r':
			if (inet_pton(AF_INET, optarg, &rules) != 1)
				r = coi_error_set(&err, -EINVAL, "bad -r '%s'", optarg);
			break;
		case 'n':
			container = optarg;
			break;
		case 't':
			table = optarg;
			break;
		case 'T':
			ttl_min = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'x':
			hosts = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		default:
			return 2;
		}
	}
	if (r >= 0)
		r = egress_dns_listen(listen, (uint16_t)port, &udp, &tcp, &bound, &err);
	if (r >= 0)
		r = apply(&p, table, container, listen, rules.s_addr ? rules : client, bound, &err);
	if (r >= 0) {
		struct egress_dns_opts eo = {.container = container,
		                             .table = table,
		                             .nft = &nft,
		                             .policy = &p,
		                             .client = client,
		                             .udp_fd = udp,
		                             .tcp_fd = tcp,
		                             .upstream = upstream,
		                             .hosts_path = hosts,
		                             .ttl_min = ttl_min,
		                             .stop_fd = -1,
		                             .record = on_record,
		                             .ready = on_ready,
		                             .userdata = &bound};

		r = egress_dns_run(&eo, &err);
	}
	net_policy_release(&p);
	if (r < 0) {
		fprintf(stderr, "dns-filter: %s\n", coi_error_message(&err));
		return 1;
	}
	return 0;
}
