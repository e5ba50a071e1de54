/* SPDX-License-Identifier: MIT */
/* test-netpolicy.c: the policy model, the allowlist parser, resolution with an injected
 * resolver, the nft batch generator (exact text for each mode, each knob), the state reader,
 * removal and purge, /etc/hosts rendering, descriptions, and injection attempts. No nft runs and
 * no packet is sent here; test-nft-apply.c applies batches to a scratch table. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "netpolicy/netpolicy.h"
#include "tap.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/json.h"
#include "util/strv.h"

#define T   "add rule ip coi ct-c1 "
#define C   " comment \"coi:c1\"\n"
#define RJ  " log prefix \"coi-deny:c1 \" group 5 reject with icmp type admin-prohibited"
#define RST " log prefix \"coi-deny:c1 \" group 5 reject with tcp reset"
/* A refusal: a TCP reset for TCP, the ICMP error for the rest (m: a non-empty match). */
#define DENY(m) T m " meta l4proto tcp" RST C T m RJ C
#define DENY_ALL                     \
	T "meta l4proto tcp" RST C T \
	  "log prefix \"coi-deny:c1 \" group 5 reject with icmp type admin-prohibited" C

#define SETUP                                                                                  \
	"add table ip coi\n"                                                                   \
	"add chain ip coi forward { type filter hook forward priority 10; policy accept; }\n"  \
	"add chain ip coi input { type filter hook input priority 10; policy accept; }\n"      \
	"add table bridge coi\n"                                                               \
	"add chain bridge coi prerouting { type filter hook prerouting priority -200; policy " \
	"accept; }\n"

#define CT_RESET "add chain ip coi ct-c1\nflush chain ip coi ct-c1\n"
#define JUMPS                                                                       \
	"add rule ip coi forward ip saddr 10.0.3.7 jump ct-c1 comment \"coi:c1\"\n" \
	"add rule ip coi input ip saddr 10.0.3.7 jump ct-c1 comment \"coi:c1\"\n"
#define SIBLINGS "ip daddr { 10.0.3.0/24, 224.0.0.0/4, 255.255.255.255 }"
#define GW_DHCP  T "ip daddr 10.0.3.1 udp dport 67 accept" C
#define GW_DNS   T "ip daddr 10.0.3.1 meta l4proto { tcp, udp } th dport 53 accept" C
#define GW_PING  T "ip daddr 10.0.3.1 icmp type echo-request accept" C
/* the bridge's address: its DHCP, DNS and ping only */
#define GW    GW_DHCP GW_DNS GW_PING
#define BCAST T "ip daddr 255.255.255.255 udp dport 67 accept" C DENY(SIBLINGS)
/* every other address of the host itself; the special-purpose ranges */
#define SELF DENY("fib daddr type local")
#define SPECIAL                                                                               \
	DENY("ip daddr { 0.0.0.0/8, 100.64.0.0/10, 127.0.0.0/8, 192.0.0.0/24, 192.0.2.0/24, " \
	     "192.88.99.0/24, 198.18.0.0/15, 198.51.100.0/24, 203.0.113.0/24, 240.0.0.0/4 }")
#define BR_RESET "add chain bridge coi br-c1\nflush chain bridge coi br-c1\n"
#define BR_REAL                                                                             \
	"add rule bridge coi br-c1 ether type arp accept" C                                 \
	"add rule bridge coi br-c1 ip saddr 10.0.3.7 accept" C                              \
	"add rule bridge coi br-c1 ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp dport 67 " \
	"accept" C "add rule bridge coi br-c1 drop" C                                       \
	"add rule bridge coi prerouting iifname \"vethc1\" jump br-c1 comment \"coi:c1\"\n"

static struct in_addr A(const char *s) {
	struct in_addr a = {0};

	(void)inet_pton(AF_INET, s, &a);
	return a;
}

static struct net_target
target(void)
{
	return (struct net_target){.container = "c1",
	                           .veth = "vethc1",
	                           .ipv4 = A("10.0.3.7"),
	                           .gateway = A("10.0.3.1"),
	                           .prefix = 24,
	                           .log_group = 5};
}

/* The batch for p as a string; "" and the error in err on failure. */
static char *gen(const struct net_target *t, const struct net_policy *p, const struct net_state *st,
                 int *ret)
{
	struct buf b = BUF_INIT(1 << 20);
	struct coi_error err = {0};
	int r = net_nft_apply(t, p, st, &b, &err);

	if (ret)
		*ret = r;
	if (r < 0)
		printf("# gen: %s\n", err.msg);
	return buf_steal(&b);
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_mode_strings(void)
{
	for (int m = 0; m < _NET_MODE_MAX; m++)
		CHECK(net_mode_from_string(net_mode_to_string((enum net_mode)m)) == m);
	CHECK(net_mode_from_string("bogus") == _NET_MODE_INVALID);
	CHECK(net_mode_from_string(NULL) == _NET_MODE_INVALID);
	CHECK(_NET_MODE_INVALID == -EINVAL);
}

static void test_defaults(void)
{
	struct net_policy p;

	net_policy_init(&p);
	CHECK(p.mode == NET_MODE_RESTRICTED);
	CHECK(p.block_private_networks && p.block_metadata_endpoint);
	CHECK(!p.allow_local_network_access);
	CHECK(p.dns_min_ttl == 60);
	net_policy_release(&p);
}

/* Field by field: struct padding is not part of the value. */
static int dest_equal(const struct net_dest *a, const struct net_dest *b)
{
	return a->kind == b->kind && strcmp(a->name, b->name) == 0 &&
	       a->addr.s_addr == b->addr.s_addr && a->prefix == b->prefix &&
	       a->ports.n == b->ports.n &&
	       memcmp(a->ports.r, b->ports.r, a->ports.n * sizeof(a->ports.r[0])) == 0;
}

static void check_dest(const char *in, const char *formatted)
{
	struct net_dest d, d2;
	struct coi_error err = {0};
	_cleanup_buf_ struct buf b = BUF_INIT(1024);

	if (net_dest_parse(in, &d, &err) != 0) {
		printf("# '%s' refused: %s\n", in, err.msg);
		CHECK(!"good entry refused");
		return;
	}
	CHECK(net_dest_format(&d, &b) == 0);
	CHECK_STREQ(buf_str(&b), formatted);
	/* what is printed parses back to the same entry */
	CHECK(net_dest_parse(buf_str(&b), &d2, &err) == 0);
	CHECK(dest_equal(&d, &d2));
}

static void test_allowlist_good(void)
{
	struct net_dest d;

	check_dest("example.com", "example.com");
	check_dest("Registry.NPMJS.org.", "registry.npmjs.org");
	check_dest("api.anthropic.com:443", "api.anthropic.com:443");
	check_dest("host:80,443", "host:80,443");
	check_dest("host:8000-8100", "host:8000-8100");
	check_dest("host:22,8000-8100,9000", "host:22,8000-8100,9000");
	check_dest("8.8.8.8", "8.8.8.8");
	check_dest("8.8.8.8:53", "8.8.8.8:53");
	check_dest("10.0.0.0/8", "10.0.0.0/8");
	check_dest("10.1.2.3/8:443", "10.0.0.0/8:443"); /* host bits cleared, as Go reads it */
	check_dest("1.2.3.4/32", "1.2.3.4");
	check_dest("0.0.0.0/0", "0.0.0.0/0");
	check_dest("_dmarc.example.com", "_dmarc.example.com");
	check_dest("localhost", "localhost");
	check_dest("host:1,65535", "host:1,65535");
	check_dest("*.Example.com", "*.example.com");
	check_dest("*.githubusercontent.com:443", "*.githubusercontent.com:443");
	check_dest("*.test.", "*.test");
	CHECK(net_dest_parse("*.example.com:443", &d, NULL) == 0);
	CHECK(d.kind == NET_DEST_NAME && d.wildcard && strcmp(d.name, "example.com") == 0);
	CHECK(net_dest_parse("x.example.com:443", &d, NULL) == 0);
	CHECK(d.kind == NET_DEST_NAME && d.ports.n == 1 && d.ports.r[0].lo == 443);
	CHECK(net_dest_parse("192.168.1.0/24", &d, NULL) == 0);
	CHECK(d.kind == NET_DEST_CIDR && d.prefix == 24 &&
	      d.addr.s_addr == A("192.168.1.0").s_addr);
}

static void test_allowlist_bad(void)
{
	static const char *const bad[] = {
	        "",
	        "*",
	        "*.",
	        "*.*.com",
	        "**.com",
	        "*com",
	        "*.1.2.3.4",
	        "*.10.0.0.0/8",
	        "a*.example.com",
	        "api.*.com",
	        "https://example.com",
	        "http://x:80",
	        "::1",
	        "[::1]:443",
	        "2001:db8::1",
	        "host:",
	        "host:0",
	        "host:65536",
	        "host:80-",
	        "host:-80",
	        "host:90-80",
	        "host:8a",
	        "host:80,,443",
	        "host:,80",
	        "host:80:90",
	        "host: 80",
	        "1.2.3.4/33",
	        "1.2.3.4/",
	        "1.2.3.4/-1",
	        "1.2.3.4/+8",
	        "foo/24",
	        "1.2.3",
	        "256.1.1.1",
	        "1.2.3.4.5",
	        "010.1.1.1",
	        "host name",
	        "host;drop",
	        "ho\"st",
	        "host\"; flush ruleset; \"",
	        "-bad.com",
	        "bad-.com",
	        "a..b",
	        ".com",
	        "..",
	        "a\nb",
	        "a\tb",
	        "ex{ample}.com",
	        "exa$mple.com",
	        "host:443\n",
	        ":443",
	        "host:99999999999",
	};
	struct coi_error err = {0};
	struct net_dest d;
	char longlabel[80], longname[300];

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		coi_error_clear(&err);
		if (net_dest_parse(bad[i], &d, &err) >= 0) {
			printf("# accepted bad entry '%s'\n", bad[i]);
			CHECK(!"bad entry accepted");
		}
		CHECK(err.code < 0 && err.msg[0]);
		/* without an error struct the result is the same */
		CHECK(net_dest_parse(bad[i], &d, NULL) < 0);
	}
	memset(longlabel, 'a', 64);
	memcpy(longlabel + 64, ".com", 5);
	CHECK(net_dest_parse(longlabel, &d, NULL) < 0);
	for (size_t i = 0; i < 254; i += 2)
		memcpy(longname + i, "a.", 2);
	memcpy(longname + 254, "com", 4);
	CHECK(net_dest_parse(longname, &d, NULL) < 0);
	CHECK(net_dest_parse("api.*.example.com", &d, &err) == -EINVAL);
	CHECK(strstr(err.msg, "wildcard") != NULL);
}

static void test_dest_match(void)
{
	struct net_dest exact, wild, cidr;

	CHECK(net_dest_parse("api.example.com:443", &exact, NULL) == 0);
	CHECK(net_dest_parse("*.example.com", &wild, NULL) == 0);
	CHECK(net_dest_parse("10.0.0.0/8", &cidr, NULL) == 0);
	CHECK(net_dest_match(&exact, "api.example.com"));
	CHECK(!net_dest_match(&exact, "x.api.example.com"));
	CHECK(!net_dest_match(&exact, "pi.example.com"));
	CHECK(!net_dest_match(&exact, "api.example.co"));
	CHECK(net_dest_match(&wild, "api.example.com"));
	CHECK(net_dest_match(&wild, "a.b.c.example.com"));
	CHECK(!net_dest_match(&wild, "example.com")); /* the wildcard is below the name only */
	CHECK(!net_dest_match(&wild, "badexample.com"));
	CHECK(!net_dest_match(&wild, ".example.com"));
	CHECK(!net_dest_match(&wild, "example.com.evil.org"));
	CHECK(!net_dest_match(&wild, ""));
	CHECK(!net_dest_match(&cidr, "10.0.0.1"));
}

static void test_dns_sets(void)
{
	struct net_policy p;
	uint32_t set_of[8];

	net_policy_init(&p);
	p.mode = NET_MODE_ALLOWLIST;
	CHECK(net_policy_add_dest(&p, "a.example.com:443", NULL) == 0);
	CHECK(net_policy_add_dest(&p, "1.2.3.4:443", NULL) == 0);
	CHECK(net_policy_add_dest(&p, "*.b.example.com", NULL) == 0);
	CHECK(net_policy_add_dest(&p, "c.example.com:443", NULL) == 0);
	CHECK(net_policy_add_dest(&p, "d.example.com:80,443", NULL) == 0);
	CHECK(net_policy_add_dest(&p, "e.example.com", NULL) == 0);
	CHECK(net_policy_dns_sets(&p, set_of) == 3);
	CHECK(set_of[0] == 0 && set_of[1] == NET_SET_NONE && set_of[2] == 1 && set_of[3] == 0 &&
	      set_of[4] == 2 && set_of[5] == 1);
	/* allowed_ports is what entries without ports get: now the same as a's */
	CHECK(net_policy_add_allowed_port(&p, 443, NULL) == 0);
	CHECK(net_policy_dns_sets(&p, set_of) == 2);
	CHECK(set_of[0] == 0 && set_of[2] == 0 && set_of[3] == 0 && set_of[4] == 1 &&
	      set_of[5] == 0);
	net_policy_release(&p);
}

static void test_ports_limit(void)
{
	_cleanup_buf_ struct buf b = BUF_INIT(4096);
	struct net_ports ports;

	CHECK(buf_puts(&b, "h:1") == 0);
	for (int i = 2; i <= NET_PORTS_MAX; i++)
		CHECK(buf_printf(&b, ",%d", i) == 0);
	CHECK(net_ports_parse(buf_str(&b) + 2, &ports, NULL) == 0);
	CHECK(ports.n == NET_PORTS_MAX);
	CHECK(buf_puts(&b, ",999") == 0);
	CHECK(net_ports_parse(buf_str(&b) + 2, &ports, NULL) == -E2BIG);
}

static void test_validators(void)
{
	CHECK(net_container_name_valid("coi-1a2b3c4d-1"));
	CHECK(net_container_name_valid("c1"));
	CHECK(!net_container_name_valid(""));
	CHECK(!net_container_name_valid("-c"));
	CHECK(!net_container_name_valid("c-"));
	CHECK(!net_container_name_valid("c1\" accept"));
	CHECK(!net_container_name_valid("c1;flush ruleset"));
	CHECK(!net_container_name_valid("c_1"));
	CHECK(!net_container_name_valid("c.1"));
	CHECK(!net_container_name_valid(
	        "a234567890123456789012345678901234567890123456789012345678901234"));
	CHECK(net_ifname_valid("veth1a2b3c4d"));
	CHECK(net_ifname_valid("coi.eth-0_x"));
	CHECK(!net_ifname_valid("veth0\""));
	CHECK(!net_ifname_valid("veth 0"));
	CHECK(!net_ifname_valid("veth0\" drop"));
	CHECK(!net_ifname_valid("a234567890123456"));
	CHECK(!net_ifname_valid(".") && !net_ifname_valid("..") && !net_ifname_valid(""));
	CHECK(!net_ifname_valid("eth/0"));
	CHECK(net_table_name_valid("coi") && net_table_name_valid("coi_t_1234"));
	CHECK(!net_table_name_valid("coi-x") && !net_table_name_valid("1coi"));
	CHECK(!net_table_name_valid("coi; flush ruleset"));
	CHECK(net_hostname_valid("a.b-c.d_e"));
	CHECK(!net_hostname_valid("a.1") && !net_hostname_valid("a b"));
}

static void test_builders(void)
{
	struct net_policy p;
	struct coi_error err = {0};
	char *names[] = {"nas", "nas.lan", NULL}, *bad[] = {"nas lan", NULL};
	long ports[] = {445, 8080}, badport[] = {0};

	net_policy_init(&p);
	CHECK(net_policy_add_dest(&p, "example.com:443", &err) == 0);
	CHECK(net_policy_add_dest(&p, "x.*.com", &err) == -EINVAL);
	/* [[network.hosts]] as the DNS filter's options carry it */
	CHECK(net_policy_add_host_text(&p, "10.9.8.7=a.lan,b.lan", &err) == 0);
	CHECK(p.n_hosts == 1 && strv_length(p.hosts[0].hostnames) == 2 && p.hosts[0].ports.n == 0);
	CHECK(net_policy_add_host_text(&p, "10.9.8.7", &err) == -EINVAL);
	CHECK(net_policy_add_host_text(&p, "10.9.8=a.lan", &err) == -EINVAL);
	CHECK(net_policy_add_host_text(&p, "10.9.8.7=a lan", &err) == -EINVAL);
	CHECK(p.n_hosts == 1);
	net_policy_release(&p);
	net_policy_init(&p);
	CHECK(net_policy_add_dest(&p, "example.com:443", &err) == 0);
	CHECK(p.n_allowlist == 1);
	CHECK(net_policy_add_dns_server(&p, "1.1.1.1", &err) == 0);
	CHECK(net_policy_add_dns_server(&p, "1.1.1", &err) == -EINVAL);
	CHECK(net_policy_add_dns_server(&p, "1.1.1.1; drop", &err) == -EINVAL);
	CHECK(p.n_dns_servers == 1);
	CHECK(net_policy_add_allowed_port(&p, 443, &err) == 0);
	CHECK(net_policy_add_allowed_port(&p, 70000, &err) == -ERANGE);
	CHECK(net_policy_add_host(&p, "192.168.1.10", names, ports, 2, &err) == 0);
	CHECK(net_policy_add_host(&p, "192.168.1.11", bad, NULL, 0, &err) == -EINVAL);
	CHECK(net_policy_add_host(&p, "192.168.1.12", names, badport, 1, &err) == -ERANGE);
	CHECK(net_policy_add_host(&p, "nas", names, NULL, 0, &err) == -EINVAL);
	CHECK(p.n_hosts == 1 && p.hosts[0].ports.n == 2);
	CHECK_STREQ(p.hosts[0].hostnames[1], "nas.lan");
	CHECK(net_policy_add_allowed_network(&p, "100.64.0.0/10", &err) == 0);
	CHECK(net_policy_add_allowed_network(&p, "100.64.1.2", &err) == 0);
	CHECK(net_policy_add_allowed_network(&p, "100.64.0.0/10:22", &err) == -EINVAL);
	CHECK(net_policy_add_allowed_network(&p, "nas.lan", &err) == -EINVAL);
	CHECK(net_policy_add_allowed_network(&p, "100.64.0.0/33", &err) == -EINVAL);
	CHECK(p.n_allowed_networks == 2 && p.allowed_networks[1].prefix == 32);
	net_policy_release(&p);
	CHECK(p.n_hosts == 0 && p.hosts == NULL && p.allowed_networks == NULL);
}

/* What a name may resolve to: never into the special-purpose ranges (a tailnet, a proxy's fake
 * addresses), unless allowed_networks opens one; never loopback, 0/8 or multicast. */
static void test_name_addr_filter(void)
{
	static const char *const refused[] = {
	        "0.1.2.3",         "100.64.0.1",   "100.127.255.254", "127.0.0.1",
	        "192.0.0.9",       "192.0.2.1",    "192.88.99.1",     "198.18.0.2",
	        "198.19.255.1",    "198.51.100.7", "203.0.113.9",     "240.0.0.1",
	        "255.255.255.255", "224.0.0.251",  "10.1.2.3",        "169.254.169.254",
	};
	static const char *const reached[] = {"100.63.255.255", "100.128.0.2", "198.17.255.255",
	                                      "198.20.0.1",     "8.8.8.8",     "203.0.114.1"};
	struct net_policy p;

	net_policy_init(&p);
	for (size_t i = 0; i < ELEMENTSOF(refused); i++)
		CHECK(!net_policy_name_addr_ok(&p, A(refused[i])));
	for (size_t i = 0; i < ELEMENTSOF(reached); i++)
		CHECK(net_policy_name_addr_ok(&p, A(reached[i])));
	CHECK(net_policy_add_allowed_network(&p, "100.64.0.0/10", NULL) == 0);
	CHECK(net_policy_add_allowed_network(&p, "127.0.0.0/8", NULL) == 0);
	CHECK(net_policy_name_addr_ok(&p, A("100.101.102.103")));
	CHECK(!net_policy_name_addr_ok(&p, A("127.0.0.1"))); /* never */
	CHECK(!net_policy_name_addr_ok(&p, A("198.18.0.2")));
	net_policy_release(&p);
}

static void test_gen_restricted_default(void)
{
	struct net_target t = target();
	struct net_policy p;
	_cleanup_free_ char *s = NULL;
	int r;

	net_policy_init(&p);
	s = gen(&t, &p, NULL, &r);
	CHECK(r == 0);
	CHECK_STREQ(s, SETUP CT_RESET T "ct state established,related accept" C GW BCAST SELF DENY(
	                       "ip daddr { 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 }")
	                       DENY("ip daddr 169.254.0.0/16") SPECIAL T
	            "accept" C JUMPS BR_RESET BR_REAL);
	net_policy_release(&p);
}

static void test_gen_restricted_knobs(void)
{
	struct net_target t = target();
	struct net_policy p;
	char *names[] = {"nas", NULL};
	long hp[] = {445};
	_cleanup_free_ char *s1 = NULL, *s2 = NULL, *s3 = NULL, *s4 = NULL, *s5 = NULL, *s6 = NULL;

	net_policy_init(&p);
	p.block_private_networks = false;
	p.block_metadata_endpoint = false;
	s1 = gen(&t, &p, NULL, NULL);
	CHECK(strstr(s1, "10.0.0.0/8") == NULL);
	CHECK(strstr(s1, "169.254") == NULL);
	CHECK(strstr(s1, DENY(SIBLINGS)) != NULL); /* siblings still blocked */

	p.allow_local_network_access = true;
	p.block_private_networks = true;
	s2 = gen(&t, &p, NULL, NULL);
	CHECK(strstr(s2, T "ip daddr { 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 } accept" C));
	CHECK(strstr(s2, "10.0.3.0/24") == NULL);
	CHECK(strstr(s2, "fib") == NULL); /* the host itself is local too */
	CHECK(strstr(s2, "reject") != NULL && strstr(s2, SPECIAL) != NULL); /* the rest is not */

	net_policy_release(&p);
	net_policy_init(&p);
	CHECK(net_policy_add_allowed_port(&p, 443, NULL) == 0);
	CHECK(net_policy_add_allowed_port(&p, 80, NULL) == 0);
	s3 = gen(&t, &p, NULL, NULL);
	CHECK(strstr(s3, DENY("ip daddr 169.254.0.0/16") SPECIAL T
	             "meta l4proto { tcp, udp } th dport { 443, 80 } accept" C T
	             "icmp type echo-request accept" C DENY_ALL "add rule ip coi forward") != NULL);
	CHECK(strstr(s3, T "accept" C) == NULL); /* no final accept with a port cap */

	CHECK(net_policy_add_dns_server(&p, "1.1.1.1", NULL) == 0);
	CHECK(net_policy_add_dns_server(&p, "9.9.9.9", NULL) == 0);
	CHECK(net_policy_add_host(&p, "192.168.1.10", names, hp, 1, NULL) == 0);
	CHECK(net_policy_add_host(&p, "192.168.1.11", names, NULL, 0, NULL) == 0);
	s4 = gen(&t, &p, NULL, NULL);
	CHECK(strstr(s4, GW_DHCP GW_PING BCAST T
	             "ip daddr { 1.1.1.1, 9.9.9.9 } meta l4proto { tcp, udp } th dport 53 "
	             "accept" C DENY("meta l4proto { tcp, udp } th dport 53") T
	             "ip daddr 192.168.1.10 meta l4proto { tcp, udp } th dport 445 accept" C T
	             "ip daddr 192.168.1.11 meta l4proto { tcp, udp } th dport { 443, 80 } "
	             "accept" C SELF T "ip daddr { 10.0.0.0/8") != NULL);

	/* allowed_networks: accepted before the host's own addresses and the ranges refused */
	CHECK(net_policy_add_allowed_network(&p, "100.64.0.0/10", NULL) == 0);
	CHECK(net_policy_add_allowed_network(&p, "203.0.113.7", NULL) == 0);
	s6 = gen(&t, &p, NULL, NULL);
	CHECK(strstr(s6, "accept" C T "ip daddr { 100.64.0.0/10, 203.0.113.7/32 } meta l4proto { "
	                 "tcp, udp } th dport { 443, 80 } accept" C SELF) != NULL);

	t.log_group = -1;
	s5 = gen(&t, &p, NULL, NULL);
	CHECK(strstr(s5, "log") == NULL);
	CHECK(strstr(s5, T "meta l4proto { tcp, udp } th dport 53 meta l4proto tcp reject with "
	                   "tcp reset" C T "meta l4proto { tcp, udp } th dport 53 reject with icmp "
	                   "type admin-prohibited" C) != NULL);
	net_policy_release(&p);
}

/* Without a DNS filter a name entry reaches nothing (fail closed); IP and CIDR entries as
 * written, with their ports or allowed_ports. */
static void test_gen_allowlist(void)
{
	struct net_target t = target();
	struct net_policy p;
	_cleanup_free_ char *s = NULL, *s2 = NULL;

	net_policy_init(&p);
	p.mode = NET_MODE_ALLOWLIST;
	CHECK(net_policy_add_dest(&p, "registry.npmjs.org", NULL) == 0);
	CHECK(net_policy_add_dest(&p, "1.2.3.0/24:80,8000-8100", NULL) == 0);
	CHECK(net_policy_add_dest(&p, "5.6.7.8", NULL) == 0);
	s = gen(&t, &p, NULL, NULL);
	CHECK_STREQ(s, SETUP CT_RESET T "ct state established,related accept" C DENY(
	                       "meta l4proto { tcp, udp } th dport 53")
	                       GW BCAST SELF DENY("ip daddr 169.254.0.0/16") T
	            "ip daddr 1.2.3.0/24 meta l4proto { tcp, udp } th dport { 80, 8000-8100 } "
	            "accept" C T "ip daddr 5.6.7.8 meta l4proto { tcp, udp } accept" C T
	            "ip daddr { 1.2.3.0/24, 5.6.7.8 } icmp type echo-request limit rate 10/second "
	            "accept" C DENY_ALL JUMPS BR_RESET BR_REAL);
	CHECK(!strstr(s, "npmjs") && !strstr(s, "add set"));

	/* allowed_ports caps entries without their own ports; the LAN when asked */
	CHECK(net_policy_add_allowed_port(&p, 443, NULL) == 0);
	p.allow_local_network_access = true;
	s2 = gen(&t, &p, NULL, NULL);
	CHECK(strstr(s2, T "ip daddr 5.6.7.8 meta l4proto { tcp, udp } th dport 443 accept" C));
	CHECK(strstr(s2, T "ip daddr { 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 } accept" C));
	CHECK(strstr(s2, "10.0.3.0/24") == NULL);
	net_policy_release(&p);
}

/* With a DNS filter: DNS to any server is redirected to it, its port is accepted first, and
 * name entries are sets (one per port list) the filter fills; IP and CIDR entries as before. */
#define SETUP_NAT                                                                              \
	"add table ip coi\n"                                                                   \
	"add chain ip coi forward { type filter hook forward priority 10; policy accept; }\n"  \
	"add chain ip coi input { type filter hook input priority 10; policy accept; }\n"      \
	"add chain ip coi dstnat { type nat hook prerouting priority dstnat; policy accept; "  \
	"}\n"                                                                                  \
	"add table bridge coi\n"                                                               \
	"add chain bridge coi prerouting { type filter hook prerouting priority -200; policy " \
	"accept; }\n"
#define REDIRECT                                                                               \
	"add rule ip coi dstnat ip saddr 10.0.3.7 meta l4proto { tcp, udp } th dport 53 dnat " \
	"to 10.0.3.1:5399" C T "ip daddr 10.0.3.1 meta l4proto { tcp, udp } th dport 5399 "    \
	"accept" C
static void test_gen_dns_filter(void)
{
	struct net_target t = target();
	struct net_policy p;
	_cleanup_free_ char *s = NULL, *s2 = NULL, *s3 = NULL;

	t.dns_port = 5399;
	net_policy_init(&p);
	p.mode = NET_MODE_ALLOWLIST;
	CHECK(net_policy_add_dest(&p, "registry.npmjs.org", NULL) == 0);
	CHECK(net_policy_add_dest(&p, "1.2.3.0/24:80", NULL) == 0);
	CHECK(net_policy_add_dest(&p, "*.example.com:443", NULL) == 0);
	CHECK(net_policy_add_dest(&p, "api.example.org:443", NULL) == 0);
	s = gen(&t, &p, NULL, NULL);
	/* clang-format off */
	CHECK_STREQ(s, SETUP_NAT CT_RESET REDIRECT
	            T "ct state established,related accept" C
	            DENY("meta l4proto { tcp, udp } th dport 53") GW BCAST SELF
	            DENY("ip daddr 169.254.0.0/16")
	            "add set ip coi d0-c1 { type ipv4_addr; flags timeout; }\n"
	            T "ip daddr @d0-c1 meta l4proto { tcp, udp } accept" C
	            T "ip daddr @d0-c1 icmp type echo-request limit rate 10/second accept" C
	            "add set ip coi d1-c1 { type ipv4_addr; flags timeout; }\n"
	            T "ip daddr @d1-c1 meta l4proto { tcp, udp } th dport 443 accept" C
	            T "ip daddr @d1-c1 icmp type echo-request limit rate 10/second accept" C
	            T "ip daddr 1.2.3.0/24 meta l4proto { tcp, udp } th dport 80 accept" C
	            T "ip daddr 1.2.3.0/24 icmp type echo-request limit rate 10/second accept" C
	            DENY_ALL JUMPS BR_RESET BR_REAL);
	/* clang-format on */
	/* restricted: the redirect and its accept, no sets; [monitoring.nft] logs connections only
	 * (the filter records the queries), after the filter's accept */
	p.mode = NET_MODE_RESTRICTED;
	p.watch = (struct net_watch){.enabled = true, .rate = 7, .dns = true};
	s2 = gen(&t, &p, NULL, NULL);
	CHECK(strstr(s2, SETUP_NAT CT_RESET REDIRECT T
	             "ct state new limit rate 7/second log prefix \"coi-new:c1 \" group 5" C T
	             "ct state established,related accept" C) == s2);
	CHECK(!strstr(s2, "add set") && !strstr(s2, "coi-dns"));
	/* open mode too: every query reaches the filter */
	p.mode = NET_MODE_OPEN;
	p.watch.enabled = false;
	s3 = gen(&t, &p, NULL, NULL);
	CHECK_STREQ(s3, SETUP_NAT CT_RESET REDIRECT T "accept" C JUMPS BR_RESET
	                                              "delete chain bridge coi br-c1\n");
	net_policy_release(&p);
}

/* The largest allowlist: every entry a CIDR with ports, and one name entry per port list
 * (each a set). */
static void big_allowlist(struct net_policy *p)
{
	char entry[48];

	net_policy_init(p);
	p->mode = NET_MODE_ALLOWLIST;
	for (size_t i = 0; i < NET_ALLOWLIST_MAX; i++) {
		if (i % 8 == 0)
			(void)snprintf(entry, sizeof(entry), "h%zu.example.com:%zu", i, 1000 + i);
		else
			(void)snprintf(entry, sizeof(entry), "93.%zu.%zu.0/24:443,8000-8100",
			               i / 256, i % 256);
		CHECK(net_policy_add_dest(p, entry, NULL) == 0);
	}
	CHECK(net_policy_add_dest(p, "one-too-many.example.com", NULL) == -E2BIG);
}

static void test_gen_allowlist_large(void)
{
	struct net_target t = target();
	struct net_policy p;
	_cleanup_free_ char *s = NULL, *s2 = NULL;
	int r;

	big_allowlist(&p);
	s = gen(&t, &p, NULL, &r);
	CHECK(r == 0);
	/* 448 CIDR accepts and 32 others (five refusals of two rules each, the bridge address
	 * three, the ICMP rule naming every CIDR) */
	CHECK(count_lines(s) == 32 + NET_ALLOWLIST_MAX - NET_ALLOWLIST_MAX / 8);
	CHECK(strstr(s, "93.1.255.0/24 } icmp type echo-request"));
	/* with the filter: 64 sets of two rules each besides */
	t.dns_port = 5399;
	s2 = gen(&t, &p, NULL, &r);
	CHECK(r == 0 && strstr(s2, "add set ip coi d63-c1 {") && !strstr(s2, "d64-c1"));
	net_policy_release(&p);
}

static void test_gen_open(void)
{
	struct net_target t = target();
	struct net_policy p;
	_cleanup_free_ char *s = NULL;

	net_policy_init(&p);
	p.mode = NET_MODE_OPEN;
	s = gen(&t, &p, NULL, NULL);
	CHECK_STREQ(s,
	            SETUP CT_RESET T "accept" C JUMPS BR_RESET "delete chain bridge coi br-c1\n");
	net_policy_release(&p);
}

/* [monitoring.nft]: two log rules first in ct-<name> (DNS queries, other new connections), each
 * rate limited; one when DNS queries are not logged apart; none without an NFLOG group. */
#define WATCH_DNS                                                                                \
	T "udp dport 53 limit rate 7/second log prefix \"coi-dns:c1 \" group 5" C T              \
	  "ct state new meta l4proto . th dport != { udp . 53 } limit rate 7/second log prefix " \
	  "\"coi-new:c1 \" group 5" C
static void test_gen_watch(void)
{
	struct net_target t = target();
	struct net_policy p;
	struct buf b = BUF_INIT(1 << 16);
	struct coi_error err = {0};
	_cleanup_free_ char *s1 = NULL, *s2 = NULL, *s3 = NULL, *s4 = NULL;

	net_policy_init(&p);
	CHECK(!p.watch.enabled && p.watch.rate == 100 && p.watch.dns);
	p.watch = (struct net_watch){.enabled = true, .rate = 7, .dns = true};
	s1 = gen(&t, &p, NULL, NULL);
	CHECK_STREQ(s1, SETUP CT_RESET WATCH_DNS T
	            "ct state established,related accept" C GW BCAST SELF DENY(
	                    "ip daddr { 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 }")
	                    DENY("ip daddr 169.254.0.0/16") SPECIAL T
	            "accept" C JUMPS BR_RESET BR_REAL);
	p.mode = NET_MODE_OPEN;
	s2 = gen(&t, &p, NULL, NULL);
	CHECK_STREQ(s2, SETUP CT_RESET WATCH_DNS T "accept" C JUMPS BR_RESET
	                                           "delete chain bridge coi br-c1\n");
	p.watch.dns = false;
	s3 = gen(&t, &p, NULL, NULL);
	CHECK_STREQ(s3, SETUP CT_RESET T
	            "ct state new limit rate 7/second log prefix \"coi-new:c1 \" group 5" C T
	            "accept" C JUMPS BR_RESET "delete chain bridge coi br-c1\n");
	t.log_group = -1; /* nowhere to send them */
	s4 = gen(&t, &p, NULL, NULL);
	CHECK(!strstr(s4, "coi-new:") && !strstr(s4, "log"));
	t = target();
	p.watch.rate = 0;
	CHECK(net_nft_apply(&t, &p, NULL, &b, &err) == -EINVAL);
	p.watch.rate = NET_WATCH_RATE_MAX + 1;
	CHECK(net_nft_apply(&t, &p, NULL, &b, &err) == -EINVAL);
	CHECK(b.len == 0);
	p.watch.enabled = false; /* the rate does not matter then */
	CHECK(net_nft_apply(&t, &p, NULL, &b, &err) == 0);
	buf_release(&b);
	net_policy_release(&p);
}

/* [monitoring]: two counting rules first in ct-<name>, before [monitoring.nft]'s log rules and
 * the policy; open mode gets them too; none without an NFLOG group; limits checked. */
#define COUNT                                                                                      \
	T "limit rate over 10240 kbytes/second burst 51200 kbytes limit rate 1/second log prefix " \
	  "\"coi-bytes:c1 \" group 5" C T                                                          \
	  "meta l4proto { tcp, udp } ct original proto-dst 53 limit rate over 100/minute burst "   \
	  "100 packets limit rate 1/second log prefix \"coi-dnsx:c1 \" group 5" C
static void test_gen_count(void)
{
	struct net_target t = target();
	struct net_policy p;
	struct buf b = BUF_INIT(1 << 16);
	struct coi_error err = {0};
	_cleanup_free_ char *s1 = NULL, *s2 = NULL, *s3 = NULL;

	net_policy_init(&p);
	CHECK(!p.watch.count);
	p.watch.count = true;
	p.watch.egress_kbytes_s = 10240;
	p.watch.egress_burst_kbytes = 51200;
	p.watch.dns_per_minute = 100;
	p.mode = NET_MODE_OPEN;
	s1 = gen(&t, &p, NULL, NULL);
	CHECK_STREQ(s1, SETUP CT_RESET COUNT T "accept" C JUMPS BR_RESET
	                                       "delete chain bridge coi br-c1\n");
	p.watch.enabled = true;
	p.watch.rate = 7;
	s2 = gen(&t, &p, NULL, NULL);
	CHECK(strstr(s2, COUNT WATCH_DNS) != NULL); /* counting first */
	t.log_group = -1;
	s3 = gen(&t, &p, NULL, NULL);
	CHECK(!strstr(s3, "coi-bytes:") && !strstr(s3, "log"));
	t = target();
	p.watch.dns_per_minute = 0;
	CHECK(net_nft_apply(&t, &p, NULL, &b, &err) == -EINVAL);
	p.watch.dns_per_minute = 100;
	p.watch.egress_burst_kbytes = NET_COUNT_MAX + 1;
	CHECK(net_nft_apply(&t, &p, NULL, &b, &err) == -EINVAL);
	CHECK(b.len == 0);
	p.watch.count = false; /* the limits do not matter then */
	CHECK(net_nft_apply(&t, &p, NULL, &b, &err) == 0);
	buf_release(&b);
	net_policy_release(&p);
}

static void test_gen_boot(void)
{
	struct net_target t = target();
	struct buf b = BUF_INIT(1 << 16);
	_cleanup_free_ char *s = NULL;

	t.ipv4.s_addr = 0; /* not known yet */
	CHECK(net_nft_boot(&t, NULL, &b, NULL) == 0);
	s = buf_steal(&b);
	CHECK_STREQ(s, SETUP BR_RESET
	            "add rule bridge coi br-c1 ether type arp accept" C
	            "add rule bridge coi br-c1 ip daddr { 10.0.3.1, 255.255.255.255 } udp dport 67 "
	            "accept" C "add rule bridge coi br-c1 drop" C
	            "add rule bridge coi prerouting iifname \"vethc1\" jump br-c1 comment "
	            "\"coi:c1\"\n");
}

static void test_gen_bad_target(void)
{
	struct net_policy p;
	struct coi_error err = {0};
	struct buf b = BUF_INIT(1 << 16);
	struct net_target t;

	net_policy_init(&p);
	t = target();
	t.container = "c1\" accept comment \"";
	CHECK(net_nft_apply(&t, &p, NULL, &b, &err) == -EINVAL);
	t = target();
	t.veth = "veth\" accept";
	CHECK(net_nft_apply(&t, &p, NULL, &b, &err) == -EINVAL);
	CHECK(net_nft_boot(&t, NULL, &b, &err) == -EINVAL);
	t = target();
	t.table = "coi; flush ruleset";
	CHECK(net_nft_apply(&t, &p, NULL, &b, &err) == -EINVAL);
	t = target();
	t.ipv4.s_addr = 0;
	CHECK(net_nft_apply(&t, &p, NULL, &b, &err) == -EINVAL);
	CHECK(strstr(err.msg, "IPv4") != NULL);
	t = target();
	t.prefix = 0;
	CHECK(net_nft_apply(&t, &p, NULL, &b, &err) == -EINVAL);
	t = target();
	t.log_group = 70000;
	CHECK(net_nft_apply(&t, &p, NULL, &b, &err) == -EINVAL);
	t = target();
	p.mode = (enum net_mode)7;
	CHECK(net_nft_apply(&t, &p, NULL, &b, &err) == -EINVAL);
	CHECK(b.len == 0); /* nothing was generated for any of them */
	CHECK(net_nft_remove("coi", "c1\"", NULL, &b, &err) == -EINVAL);
	CHECK(net_nft_remove("bad table", "c1", NULL, &b, &err) == -EINVAL);
	CHECK(net_nft_purge("bad table", NULL, NULL, &b, &err) == -EINVAL);
	buf_release(&b);
	net_policy_release(&p);
}

/* What `nft -j list table` prints, trimmed to what matters, with an evil chain and comment. */
static const char state_json_ip[] =
        "{\"nftables\": [{\"metainfo\": {\"version\": \"1.0.6\"}},"
        "{\"table\": {\"family\": \"ip\", \"name\": \"coi\", \"handle\": 6}},"
        "{\"chain\": {\"family\": \"ip\", \"table\": \"coi\", \"name\": \"forward\", \"handle\": 1,"
        " \"hook\": \"forward\"}},"
        "{\"chain\": {\"family\": \"ip\", \"table\": \"coi\", \"name\": \"ct-old\", \"handle\": 3}},"
        "{\"chain\": {\"family\": \"ip\", \"table\": \"coi\", \"name\": \"ct-c1\", \"handle\": 4}},"
        "{\"chain\": {\"family\": \"ip\", \"table\": \"coi\", \"name\": \"ct-other\", \"handle\": 5}},"
        "{\"chain\": {\"family\": \"ip\", \"table\": \"coi\", \"name\": \"ct-x; flush ruleset\"}},"
        "{\"chain\": {\"family\": \"ip\", \"table\": \"notcoi\", \"name\": \"ct-foreign\"}},"
        "{\"rule\": {\"family\": \"ip\", \"table\": \"coi\", \"chain\": \"forward\", \"handle\": 10,"
        " \"comment\": \"coi:old\", \"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"payload\":"
        " {\"protocol\": \"ip\", \"field\": \"saddr\"}}, \"right\": \"10.0.3.7\"}},"
        " {\"jump\": {\"target\": \"ct-old\"}}]}},"
        "{\"rule\": {\"family\": \"ip\", \"table\": \"coi\", \"chain\": \"input\", \"handle\": 11,"
        " \"comment\": \"coi:old\", \"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"payload\":"
        " {\"protocol\": \"ip\", \"field\": \"saddr\"}}, \"right\": \"10.0.3.7\"}}]}},"
        "{\"rule\": {\"family\": \"ip\", \"table\": \"coi\", \"chain\": \"forward\", \"handle\": 12,"
        " \"comment\": \"coi:c1\", \"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"payload\":"
        " {\"protocol\": \"ip\", \"field\": \"saddr\"}}, \"right\": \"10.0.3.99\"}}]}},"
        "{\"rule\": {\"family\": \"ip\", \"table\": \"coi\", \"chain\": \"forward\", \"handle\": 13,"
        " \"comment\": \"coi:other\", \"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"payload\":"
        " {\"protocol\": \"ip\", \"field\": \"saddr\"}}, \"right\": \"10.0.3.8\"}}]}},"
        "{\"rule\": {\"family\": \"ip\", \"table\": \"coi\", \"chain\": \"forward\", \"handle\": 14,"
        " \"comment\": \"coi:x\\\" drop\", \"expr\": []}},"
        "{\"rule\": {\"family\": \"ip\", \"table\": \"coi\", \"chain\": \"ct-c1\", \"handle\": 15,"
        " \"comment\": \"coi:c1\", \"expr\": []}},"
        "{\"set\": {\"family\": \"ip\", \"table\": \"coi\", \"name\": \"d0-c1\"}},"
        "{\"set\": {\"family\": \"ip\", \"table\": \"coi\", \"name\": \"d12-old\"}},"
        "{\"set\": {\"family\": \"ip\", \"table\": \"coi\", \"name\": \"d1234-old\"}},"
        "{\"set\": {\"family\": \"ip\", \"table\": \"coi\", \"name\": \"x0-old\"}},"
        "{\"set\": {\"family\": \"ip\", \"table\": \"coi\", \"name\": \"d1-x;drop\"}},"
        "{\"rule\": {\"family\": \"ip\", \"table\": \"coi\", \"chain\": \"dstnat\", \"handle\": 16,"
        " \"comment\": \"coi:c1\", \"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"payload\":"
        " {\"protocol\": \"ip\", \"field\": \"saddr\"}}, \"right\": \"10.0.3.99\"}}]}}"
        "]}";

static const char state_json_bridge[] =
        "{\"nftables\": [{\"table\": {\"family\": \"bridge\", \"name\": \"coi\"}},"
        "{\"chain\": {\"family\": \"bridge\", \"table\": \"coi\", \"name\": \"br-veth-owner\"}},"
        "{\"rule\": {\"family\": \"bridge\", \"table\": \"coi\", \"chain\": \"prerouting\","
        " \"handle\": 7, \"comment\": \"coi:veth-owner\", \"expr\": [{\"match\": {\"op\": \"==\","
        " \"left\": {\"meta\": {\"key\": \"iifname\"}}, \"right\": \"vethc1\"}}]}}"
        "]}";

static void load_state(struct net_state *st)
{
	struct coi_error err = {0};

	CHECK(net_state_parse(state_json_ip, strlen(state_json_ip), "coi", st, &err) == 0);
	CHECK(net_state_parse(state_json_bridge, strlen(state_json_bridge), "coi", st, &err) == 0);
}

static void test_state_parse(void)
{
	struct net_state st = {0};
	_cleanup_strv_free_ char **owners = NULL;
	struct coi_error err = {0};

	load_state(&st);
	CHECK(st.have_ip && st.have_bridge);
	/* ct-old, ct-c1, ct-other, br-veth-owner, sets d0-c1 and d12-old; not the evil ones */
	CHECK(st.n_chains == 6);
	CHECK(st.n_rules ==
	      7); /* base-chain rules only (dstnat too); the one in ct-c1 is not kept */
	CHECK(st.rules[0].handle == 10 && st.rules[0].family == NET_FAMILY_IP);
	CHECK_STREQ(st.rules[0].owner, "old");
	CHECK_STREQ(st.rules[0].key, "10.0.3.7");
	CHECK_STREQ(st.rules[4].owner, ""); /* comment "coi:x\" drop" is not a name */
	CHECK_STREQ(st.rules[5].key, "10.0.3.99");
	CHECK_STREQ(st.rules[5].chain, "dstnat");
	CHECK_STREQ(st.rules[6].key, "vethc1");
	CHECK(st.chains[3].set && strcmp(st.chains[3].owner, "c1") == 0);
	CHECK(st.chains[4].set && strcmp(st.chains[4].name, "d12-old") == 0);
	owners = net_state_owners(&st);
	CHECK(owners && strv_length(owners) == 4);
	CHECK_STREQ(owners[0], "c1");
	CHECK_STREQ(owners[1], "old");
	CHECK_STREQ(owners[2], "other");
	CHECK_STREQ(owners[3], "veth-owner");
	net_state_release(&st);
	CHECK(net_state_parse("{", 1, "coi", &st, &err) < 0);
	CHECK(net_state_parse("{\"x\":1}", 7, "coi", &st, &err) == -EBADMSG);
	{
		const char *odd = "{\"nftables\":[1,\"a\",{\"rule\":5},{\"chain\":[]}]}";

		CHECK(net_state_parse(odd, strlen(odd), "coi", &st, &err) == 0);
	}
	CHECK(st.n_rules == 0);
	net_state_release(&st);
}

static void test_gen_apply_with_state(void)
{
	struct net_target t = target();
	struct net_policy p;
	struct net_state st = {0};
	_cleanup_free_ char *s = NULL;

	net_policy_init(&p);
	load_state(&st);
	s = gen(&t, &p, &st, NULL);
	/* stale: "old" keyed on our IPv4, "veth-owner" on our veth; then our own old jump; all
	 * before the new rules, in the same batch */
	CHECK(strstr(s, SETUP "delete rule ip coi forward handle 10\n"
	                      "delete rule ip coi input handle 11\n"
	                      "flush chain ip coi ct-old\ndelete chain ip coi ct-old\n"
	                      "delete set ip coi d12-old\n"
	                      "delete rule bridge coi prerouting handle 7\n"
	                      "flush chain bridge coi br-veth-owner\n"
	                      "delete chain bridge coi br-veth-owner\n"
	                      "delete rule ip coi forward handle 12\n"
	                      "delete rule ip coi dstnat handle 16\n" CT_RESET) == s);
	CHECK(strstr(s, "delete set ip coi d0-c1") == NULL); /* its own sets live on */
	CHECK(strstr(s, "handle 13") == NULL); /* another live container is left alone */
	CHECK(strstr(s, "ct-other") == NULL);
	CHECK(strstr(s, "flush ruleset") == NULL);
	CHECK(strstr(s, "delete chain ip coi ct-c1") == NULL);
	net_state_release(&st);
	net_policy_release(&p);
}

/* An address coi decided before the start: another session's rules keyed on it are a session
 * that picked it at the same moment, not stale ones. Removing them (as for a leased address)
 * left that session's container with no rules at all: the base chains accept. */
static void test_gen_apply_pinned_refuses_another(void)
{
	struct net_target t = target();
	struct net_policy p;
	struct net_state st = {0};
	_cleanup_free_ char *s = NULL, *s2 = NULL;
	int r = 0;

	net_policy_init(&p);
	load_state(&st);
	t.pinned = true;
	s = gen(&t, &p, &st, &r);
	CHECK(r == -EADDRINUSE);
	CHECK(strstr(s, "ct-old") == NULL);
	t.ipv4 = A("10.0.3.9"); /* an address nobody else's rules name: as before */
	s2 = gen(&t, &p, &st, &r);
	CHECK(r == 0);
	CHECK(strstr(s2, "delete chain ip coi ct-old") == NULL);
	CHECK(strstr(s2, "delete chain bridge coi br-veth-owner") != NULL); /* keyed on our veth */
	net_state_release(&st);
	net_policy_release(&p);
}

static void test_gen_remove_purge(void)
{
	struct net_state st = {0};
	struct buf b = BUF_INIT(1 << 16);
	_cleanup_free_ char *s = NULL, *s2 = NULL, *s3 = NULL;
	char *live[] = {"c1", "other", NULL};

	load_state(&st);
	CHECK(net_nft_remove(NULL, "c1", &st, &b, NULL) == 0);
	s = buf_steal(&b);
	CHECK_STREQ(s, "delete rule ip coi forward handle 12\n"
	               "delete rule ip coi dstnat handle 16\n"
	               "flush chain ip coi ct-c1\ndelete chain ip coi ct-c1\n"
	               "delete set ip coi d0-c1\n");
	CHECK(net_nft_remove(NULL, "nobody", &st, &b, NULL) == 0);
	CHECK(b.len == 0);
	CHECK(net_nft_purge(NULL, live, &st, &b, NULL) == 2);
	s2 = buf_steal(&b);
	CHECK_STREQ(s2, "delete rule ip coi forward handle 10\n"
	                "delete rule ip coi input handle 11\n"
	                "flush chain ip coi ct-old\ndelete chain ip coi ct-old\n"
	                "delete set ip coi d12-old\n"
	                "delete rule bridge coi prerouting handle 7\n"
	                "flush chain bridge coi br-veth-owner\n"
	                "delete chain bridge coi br-veth-owner\n");
	CHECK(net_nft_purge("coi_t_1", NULL, &st, &b, NULL) == 4);
	s3 = buf_steal(&b);
	CHECK(strstr(s3, "delete chain ip coi_t_1 ct-other\n") != NULL);
	CHECK(net_nft_purge(NULL, NULL, NULL, &b, NULL) == 0);
	CHECK(b.len == 0);
	buf_release(&b);
	net_state_release(&st);
}

static void test_gen_boot_with_state(void)
{
	struct net_target t = target();
	struct net_state st = {0};
	struct buf b = BUF_INIT(1 << 16);
	_cleanup_free_ char *s = NULL;

	load_state(&st);
	CHECK(net_nft_boot(&t, &st, &b, NULL) == 0);
	s = buf_steal(&b);
	/* the veth's stale owner and everything c1 had in the ip table go; not "old" (keyed on an
	 * IPv4 the boot block does not know yet: apply handles that) */
	CHECK(strstr(s, SETUP "delete rule bridge coi prerouting handle 7\n"
	                      "flush chain bridge coi br-veth-owner\n"
	                      "delete chain bridge coi br-veth-owner\n"
	                      "delete rule ip coi forward handle 12\n"
	                      "delete rule ip coi dstnat handle 16\n"
	                      "flush chain ip coi ct-c1\ndelete chain ip coi ct-c1\n"
	                      "delete set ip coi d0-c1\n" BR_RESET) == s);
	CHECK(strstr(s, "handle 10") == NULL);
	net_state_release(&st);
}

static void test_hosts_lookup(void)
{
	const char *text = "127.0.0.1\tlocalhost\n"
	                   "# 9.9.9.9 commented.example\n"
	                   "::1 v6.example\n"
	                   "198.18.0.2  Pub.Example pub-alias # trailing comment\r\n"
	                   "198.18.0.3 other.example pub.example\n"
	                   "not-an-address pub.example\n"
	                   "198.18.0.4 pub.example.evil";
	struct net_addrs s;
	char ip[INET_ADDRSTRLEN];

	CHECK(net_hosts_lookup(text, "pub.example", &s) == 0);
	CHECK(s.n == 2);
	CHECK_STREQ(inet_ntop(AF_INET, &s.a[0], ip, sizeof(ip)), "198.18.0.2");
	CHECK_STREQ(inet_ntop(AF_INET, &s.a[1], ip, sizeof(ip)), "198.18.0.3");
	CHECK(net_hosts_lookup(text, "pub-alias", &s) == 0 && s.n == 1);
	CHECK(net_hosts_lookup(text, "commented.example", &s) == -ENOENT);
	CHECK(net_hosts_lookup(text, "v6.example", &s) == -ENOENT);
	CHECK(net_hosts_lookup(text, "trailing", &s) == -ENOENT);
	CHECK(net_hosts_lookup(text, "example", &s) == -ENOENT);
	CHECK(net_hosts_lookup("", "pub.example", &s) == -ENOENT);
}

static void test_hosts(void)
{
	struct net_policy p;
	char *names[] = {"nas", "nas.lan", NULL};
	_cleanup_buf_ struct buf b = BUF_INIT(4096), m = BUF_INIT(4096), m2 = BUF_INIT(4096);
	const char *etc = "127.0.0.1 localhost\n" NET_HOSTS_BEGIN "\n1.1.1.1\told\n" NET_HOSTS_END
	                  "\n::1 ip6-localhost\n";

	net_policy_init(&p);
	p.mode = NET_MODE_ALLOWLIST;
	CHECK(net_policy_add_dest(&p, "a.example.com", NULL) == 0);
	CHECK(net_policy_add_dest(&p, "10.0.0.0/8", NULL) == 0);
	CHECK(net_policy_add_host(&p, "192.168.1.10", names, NULL, 0, NULL) == 0);
	/* only [[network.hosts]]: allowed names resolve through the DNS filter */
	CHECK(net_hosts_render(&p, &b) == 0);
	CHECK_STREQ(buf_str(&b),
	            NET_HOSTS_BEGIN "\n192.168.1.10\tnas nas.lan\n" NET_HOSTS_END "\n");
	CHECK(net_hosts_merge(etc, buf_str(&b), &m) == 0);
	CHECK_STREQ(buf_str(&m),
	            "127.0.0.1 localhost\n" NET_HOSTS_BEGIN
	            "\n192.168.1.10\tnas nas.lan\n" NET_HOSTS_END "\n::1 ip6-localhost\n");
	CHECK(net_hosts_merge("127.0.0.1 localhost", NET_HOSTS_BEGIN "\n" NET_HOSTS_END "\n",
	                      &m2) == 0);
	CHECK_STREQ(buf_str(&m2), "127.0.0.1 localhost\n" NET_HOSTS_BEGIN "\n" NET_HOSTS_END "\n");
	/* restricted: the same */
	p.mode = NET_MODE_RESTRICTED;
	buf_reset(&b);
	CHECK(net_hosts_render(&p, &b) == 0);
	CHECK_STREQ(buf_str(&b),
	            NET_HOSTS_BEGIN "\n192.168.1.10\tnas nas.lan\n" NET_HOSTS_END "\n");
	net_policy_release(&p);
}

static void test_describe(void)
{
	struct net_policy p;
	_cleanup_buf_ struct buf b = BUF_INIT(4096);
	_cleanup_json_ json_t *j = NULL, *j2 = NULL;
	_cleanup_free_ char *enc = NULL;

	net_policy_init(&p);
	CHECK(net_policy_describe(&p, &b) == 0);
	CHECK(strstr(buf_str(&b), "restricted") && strstr(buf_str(&b), "192.168.0.0/16"));
	CHECK(strstr(buf_str(&b), "169.254.0.0/16") && strstr(buf_str(&b), "IPv6 is blocked"));
	j = net_policy_to_json(&p);
	CHECK(j != NULL);
	CHECK_STREQ(json_get_str(j, "mode"), "restricted");
	/* 3 private, metadata, 10 special, other containers, the host itself, IPv6 */
	CHECK(json_array_size(json_get_arr(j, "blocked")) == 17);
	CHECK(strstr(buf_str(&b), "100.64.0.0/10") && strstr(buf_str(&b), "host's own addresses"));
	CHECK(!json_get_bool(j, "ipv6_allowed", true));

	p.mode = NET_MODE_ALLOWLIST;
	CHECK(net_policy_add_dest(&p, "a.example.com:443", NULL) == 0);
	CHECK(net_policy_add_dest(&p, "*.cdn.example.com", NULL) == 0);
	buf_reset(&b);
	CHECK(net_policy_describe(&p, &b) == 0);
	CHECK(strstr(buf_str(&b), "allowlist") && strstr(buf_str(&b), "a.example.com:443"));
	CHECK(strstr(buf_str(&b), "*.cdn.example.com") && strstr(buf_str(&b), "do not resolve"));
	j2 = net_policy_to_json(&p);
	enc = json_encode(j2);
	CHECK_STREQ(json_get_str(json_array_get(json_get_arr(j2, "allowed"), 0), "destination"),
	            "a.example.com:443");
	CHECK_STREQ(json_get_str(json_array_get(json_get_arr(j2, "allowed"), 1), "destination"),
	            "*.cdn.example.com");
	CHECK(enc && !strstr(enc, "\"addresses\":") && !strstr(enc, "refresh"));

	p.mode = NET_MODE_OPEN;
	buf_reset(&b);
	CHECK(net_policy_describe(&p, &b) == 0);
	CHECK(strstr(buf_str(&b), "open") != NULL);
	net_policy_release(&p);
}

/* The pinned address: stable for a name, inside the subnet, never the network, broadcast or
 * gateway address, never one in use; attempt N is the N+1th free one; a full subnet is ENOSPC. */
static void test_pick_address(void)
{
	struct in_addr gw, a, b, taken[3];
	char s[INET_ADDRSTRLEN];

	inet_pton(AF_INET, "10.171.92.1", &gw);
	CHECK(net_pick_address(gw, 24, "coi-abcdef12-1", NULL, 0, 0, &a) == 0);
	CHECK(net_pick_address(gw, 24, "coi-abcdef12-1", NULL, 0, 0, &b) == 0);
	CHECK(a.s_addr == b.s_addr);
	CHECK((ntohl(a.s_addr) & 0xffffff00u) == 0x0aab5c00u);
	CHECK((ntohl(a.s_addr) & 0xffu) != 0 && (ntohl(a.s_addr) & 0xffu) != 255 &&
	      a.s_addr != gw.s_addr);
	CHECK(net_pick_address(gw, 24, "coi-abcdef12-2", NULL, 0, 0, &b) == 0);
	CHECK(a.s_addr != b.s_addr);
	/* taken: the next free one; attempt 1: the one after that */
	taken[0] = a;
	CHECK(net_pick_address(gw, 24, "coi-abcdef12-1", taken, 1, 0, &b) == 0);
	CHECK(b.s_addr != a.s_addr);
	CHECK(net_pick_address(gw, 24, "coi-abcdef12-1", NULL, 0, 1, &taken[1]) == 0);
	CHECK(taken[1].s_addr == b.s_addr);
	/* a /30 has two hosts, one the gateway */
	inet_pton(AF_INET, "192.168.5.1", &gw);
	CHECK(net_pick_address(gw, 30, "x", NULL, 0, 0, &a) == 0);
	inet_ntop(AF_INET, &a, s, sizeof(s));
	CHECK_STREQ(s, "192.168.5.2");
	CHECK(net_pick_address(gw, 30, "x", NULL, 0, 1, &a) == -ENOSPC);
	taken[2] = a;
	CHECK(net_pick_address(gw, 30, "y", &taken[2], 1, 0, &a) == -ENOSPC);
	CHECK(net_pick_address(gw, 31, "x", NULL, 0, 0, &a) == -EINVAL);
	CHECK(net_pick_address(gw, 4, "x", NULL, 0, 0, &a) == -EINVAL);
}

int main(void)
{
	RUN(test_mode_strings);
	RUN(test_defaults);
	RUN(test_allowlist_good);
	RUN(test_allowlist_bad);
	RUN(test_dest_match);
	RUN(test_dns_sets);
	RUN(test_ports_limit);
	RUN(test_validators);
	RUN(test_builders);
	RUN(test_name_addr_filter);
	RUN(test_gen_restricted_default);
	RUN(test_gen_restricted_knobs);
	RUN(test_gen_allowlist);
	RUN(test_gen_allowlist_large);
	RUN(test_gen_dns_filter);
	RUN(test_gen_open);
	RUN(test_gen_watch);
	RUN(test_gen_count);
	RUN(test_gen_boot);
	RUN(test_gen_bad_target);
	RUN(test_state_parse);
	RUN(test_gen_apply_with_state);
	RUN(test_gen_apply_pinned_refuses_another);
	RUN(test_gen_remove_purge);
	RUN(test_gen_boot_with_state);
	RUN(test_hosts_lookup);
	RUN(test_hosts);
	RUN(test_describe);
	RUN(test_pick_address);
	return tap_done();
}
