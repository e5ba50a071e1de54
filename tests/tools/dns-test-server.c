/* SPDX-License-Identifier: MIT */
/* dns-test-server: the internet's DNS, as far as tests are concerned. An authoritative server
 * for the records given on its command line, over UDP and TCP, that logs every query it gets,
 * so a test can show which names reached it (and which never did). Run it in a test network
 * namespace; nothing is forwarded anywhere.
 *
 *	dns-test-server [-l ADDR[:PORT]] [-o LOG] [-t SECONDS] [-d MS] RECORD...
 *
 * RECORD is NAME=VALUE[,VALUE...][/TTL] (TTL 60 unless given); NAME may be "*.suffix" (every
 * name below suffix); VALUE is an IPv4 address (A), "cname:TARGET" or "txt:TEXT". A CNAME to a
 * name of this server is followed, as an authoritative server does within its zone. Any other
 * name is NXDOMAIN; a known name with no record of the type asked has no records (NODATA).
 * Each query is a line "TYPE NAME udp|tcp" in LOG (flushed at once). -t bounds its life (600 s
 * by default), -d delays every answer. Prints "ready ADDR:PORT" once listening. */
#include <arpa/inet.h>
#include <errno.h>
#include <ldns/ldns.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RECORDS_MAX 256
#define VALUES_MAX  16

struct record {
	char name[256]; /* lower case, no final dot; "*.x" for a wildcard */
	uint32_t ttl;
	size_t n;
	char value[VALUES_MAX][256];
};

static struct record records[RECORDS_MAX];
static size_t n_records;
static FILE *logf_;
static int delay_ms;

static bool name_matches(const char *pattern, const char *name)
{
	size_t p = strlen(pattern), n = strlen(name);

	if (strncmp(pattern, "*.", 2) != 0)
		return strcasecmp(pattern, name) == 0;
	return n > p - 1 && name[n - p + 1] == '.' &&
	       strcasecmp(name + n - p + 2, pattern + 2) == 0;
}

static const struct record *lookup(const char *name)
{
	for (size_t i = 0; i < n_records; i++) /* exact names first, then wildcards */
		if (records[i].name[0] != '*' && name_matches(records[i].name, name))
			return &records[i];
	for (size_t i = 0; i < n_records; i++)
		if (records[i].name[0] == '*' && name_matches(records[i].name, name))
			return &records[i];
	return NULL;
}

static int parse_record(const char *arg, struct record *r)
{
	const char *eq = strchr(arg, '='), *slash = strrchr(arg, '/');
	char values[4096], *save = NULL;

	if (!eq || (size_t)(eq - arg) >= sizeof(r->name))
		return -1;
	*r = (struct record){.ttl = 60};
	memcpy(r->name, arg, (size_t)(eq - arg));
	if (slash && slash > eq && strspn(slash + 1, "0123456789") == strlen(slash + 1) && slash[1])
		r->ttl = (uint32_t)strtoul(slash + 1, NULL, 10);
	else
		slash = NULL;
	(void)snprintf(values, sizeof(values), "%.*s",
	               (int)(slash ? slash - eq - 1 : (ptrdiff_t)strlen(eq + 1)), eq + 1);
	for (char *v = strtok_r(values, ",", &save); v && r->n < VALUES_MAX;
	     v = strtok_r(NULL, ",", &save))
		(void)snprintf(r->value[r->n++], sizeof(r->value[0]), "%s", v);
	return r->n ? 0 : -1;
}

static ldns_rr *make_rr(const char *owner, uint32_t ttl, const char *value, ldns_rr_type *type)
{
	char text[1024];
	ldns_rr *rr = NULL;
	struct in_addr a;

	if (strncmp(value, "cname:", 6) == 0) {
		*type = LDNS_RR_TYPE_CNAME;
		(void)snprintf(text, sizeof(text), "%s. %u IN CNAME %s.", owner, ttl, value + 6);
	} else if (strncmp(value, "txt:", 4) == 0) {
		*type = LDNS_RR_TYPE_TXT;
		(void)snprintf(text, sizeof(text), "%s. %u IN TXT \"%s\"", owner, ttl, value + 4);
	} else if (inet_pton(AF_INET, value, &a) == 1) {
		*type = LDNS_RR_TYPE_A;
		(void)snprintf(text, sizeof(text), "%s. %u IN A %s", owner, ttl, value);
	} else {
		return NULL;
	}
	return ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL) == LDNS_STATUS_OK ? rr : NULL;
}

/* The records of name (and, through a CNAME, of its target) of type t into p; the rcode. */
static int answer_name(ldns_pkt *p, const char *name, ldns_rr_type t, int depth)
{
	const struct record *r = lookup(name);
	char target[256] = "";

	if (!r)
		return depth ? LDNS_RCODE_NOERROR : LDNS_RCODE_NXDOMAIN;
	for (size_t i = 0; i < r->n; i++) {
		ldns_rr_type type;
		ldns_rr *rr = make_rr(name, r->ttl, r->value[i], &type);

		if (!rr)
			continue;
		if (type == t || (type == LDNS_RR_TYPE_CNAME && t != LDNS_RR_TYPE_CNAME)) {
			ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
			if (type == LDNS_RR_TYPE_CNAME)
				(void)snprintf(target, sizeof(target), "%s", r->value[i] + 6);
		} else {
			ldns_rr_free(rr);
		}
	}
	if (target[0] && depth < 8)
		return answer_name(p, target, t, depth + 1);
	return LDNS_RCODE_NOERROR;
}

/* The answer to one query message, or NULL (garbage gets nothing). */
static uint8_t *answer(const uint8_t *msg, size_t len, size_t *ret_len, const char *proto)
{
	ldns_pkt *q = NULL, *p;
	ldns_rr *qr;
	uint8_t *wire = NULL;
	char *name;
	int rcode;

	if (ldns_wire2pkt(&q, msg, len) != LDNS_STATUS_OK)
		return NULL;
	qr = ldns_rr_list_rr(ldns_pkt_question(q), 0);
	if (ldns_pkt_qr(q) || !qr) {
		ldns_pkt_free(q);
		return NULL;
	}
	name = ldns_rdf2str(ldns_rr_owner(qr));
	if (name && strlen(name) > 1)
		name[strlen(name) - 1] = '\0';
	{
		char *type = ldns_rr_type2str(ldns_rr_get_type(qr));

		fprintf(logf_, "%s %s %s\n", type ? type : "?", name ? name : "?", proto);
		fflush(logf_);
		free(type);
	}
	p = ldns_pkt_new();
	ldns_pkt_set_id(p, ldns_pkt_id(q));
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_aa(p, true);
	ldns_pkt_set_rd(p, ldns_pkt_rd(q));
	ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, ldns_rr_clone(qr));
	rcode = name ? answer_name(p, name, ldns_rr_get_type(qr), 0) : LDNS_RCODE_SERVFAIL;
	ldns_pkt_set_rcode(p, (uint8_t)rcode);
	if (ldns_pkt2wire(&wire, p, ret_len) != LDNS_STATUS_OK)
		wire = NULL;
	free(name);
	ldns_pkt_free(p);
	ldns_pkt_free(q);
	return wire;
}

static void pause_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (ms > 0 && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void serve_udp(int fd)
{
	uint8_t msg[65536];
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	ssize_t n = recvfrom(fd, msg, sizeof(msg), MSG_DONTWAIT, (void *)&peer, &plen);
	size_t len;
	uint8_t *wire;

	if (n <= 0)
		return;
	wire = answer(msg, (size_t)n, &len, "udp");
	pause_ms(delay_ms);
	if (wire && sendto(fd, wire, len, 0, (void *)&peer, plen) < 0)
		perror("dns-test-server: sendto");
	free(wire);
}

/* One TCP client: its queries one after another until it closes (bounded by a read timeout). */
static void serve_tcp(int lfd)
{
	int fd = accept(lfd, NULL, NULL);
	struct timeval tv = {2, 0};

	if (fd < 0)
		return;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (int k = 0; k < 1000; k++) {
		uint8_t hdr[2], msg[65535], out[2];
		size_t len, got = 0;
		uint8_t *wire;

		if (recv(fd, hdr, 2, MSG_WAITALL) != 2)
			break;
		len = (size_t)hdr[0] << 8 | hdr[1];
		while (got < len) {
			ssize_t n = recv(fd, msg + got, len - got, 0);

			if (n <= 0)
				break;
			got += (size_t)n;
		}
		if (got < len)
			break;
		wire = answer(msg, len, &len, "tcp");
		pause_ms(delay_ms);
		out[0] = (uint8_t)(len >> 8);
		out[1] = (uint8_t)len;
		if (!wire || send(fd, out, 2, MSG_NOSIGNAL) != 2 ||
		    send(fd, wire, len, MSG_NOSIGNAL) != (ssize_t)len) {
			free(wire);
			break;
		}
		free(wire);
	}
	close(fd);
}

static int listen_on(const char *spec, int *udp, int *tcp, char *printed, size_t size)
{
	char addr[64] = "127.0.0.1";
	unsigned port = 53;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int one = 1;

	if (sscanf(spec, "%63[0-9.]:%u", addr, &port) < 1 ||
	    inet_pton(AF_INET, addr, &sa.sin_addr) != 1 || port > 65535)
		return -1;
	sa.sin_port = htons((uint16_t)port);
	*udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	*tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	(void)setsockopt(*tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (*udp < 0 || *tcp < 0 || bind(*udp, (void *)&sa, sizeof(sa)) < 0)
		return -1;
	if (port == 0) { /* the same port for TCP */
		socklen_t l = sizeof(sa);

		(void)getsockname(*udp, (void *)&sa, &l);
	}
	if (bind(*tcp, (void *)&sa, sizeof(sa)) < 0 || listen(*tcp, 16) < 0)
		return -1;
	(void)snprintf(printed, size, "%s:%u", addr, ntohs(sa.sin_port));
	return 0;
}

int main(int argc, char **argv)
{
	const char *listen_spec = "127.0.0.1:53", *log_path = NULL;
	char where[96];
	int o, udp, tcp;
	long timeout = 600;
	time_t end;

	while ((o = getopt(argc, argv, "l:o:t:d:")) != -1) {
		if (o == 'l')
			listen_spec = optarg;
		else if (o == 'o')
			log_path = optarg;
		else if (o == 't')
			timeout = strtol(optarg, NULL, 10);
		else if (o == 'd')
			delay_ms = atoi(optarg);
		else
			return 2;
	}
	for (; optind < argc; optind++)
		if (n_records == RECORDS_MAX ||
		    parse_record(argv[optind], &records[n_records++]) < 0) {
			fprintf(stderr, "dns-test-server: bad record '%s'\n", argv[optind]);
			return 2;
		}
	logf_ = log_path ? fopen(log_path, "ae") : stderr;
	if (!logf_ || listen_on(listen_spec, &udp, &tcp, where, sizeof(where)) < 0) {
		fprintf(stderr, "dns-test-server: cannot listen on %s: %s\n", listen_spec,
		        strerror(errno));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	printf("ready %s\n", where);
	fflush(stdout);
	end = time(NULL) + timeout;
	while (time(NULL) < end) {
		struct pollfd pf[2] = {{udp, POLLIN, 0}, {tcp, POLLIN, 0}};

		if (poll(pf, 2, 1000) <= 0)
			continue;
		if (pf[0].revents)
			serve_udp(udp);
		if (pf[1].revents)
			serve_tcp(tcp);
	}
	return 0;
}
