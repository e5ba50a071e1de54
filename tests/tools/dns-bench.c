/* SPDX-License-Identifier: MIT */
/* dns-bench: DNS queries for tests and the bench, over UDP, each sent once.
 *
 *	dns-bench -s ADDR[:PORT] [-s ADDR[:PORT]] [-b ADDR] [-n COUNT] [-w WINDOW] [-q NAME]
 *	          [-y TYPE] [-r TIMEOUT_MS] [-T] [-v]
 *
 * NAME may hold one %u, replaced by the query's number (unique names: no cache helps). With
 * one server, COUNT queries go out with at most WINDOW in flight (a burst) and one line sums
 * them up: "sent N answered N lost N noerror N nxdomain N servfail N other N addrs N ms N".
 * With two servers, the queries alternate between them one at a time (interleaved pairs) and
 * the line is "a_median_us N b_median_us N ratio X lost N" (b against a). -v prints each answer:
 * "NAME RCODE ADDR,ADDR...". -b sends from ADDR. -T asks over one TCP connection, one query at a
 * time. Exit status 0 when every query was answered. */
#include <arpa/inet.h>
#include <errno.h>
#include <ldns/ldns.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WINDOW_MAX 4096

struct slot {
	bool busy;
	unsigned index;
	int64_t sent_us;
};

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int parse_server(const char *s, struct sockaddr_in *sa)
{
	char addr[64];
	unsigned port = 53;

	*sa = (struct sockaddr_in){.sin_family = AF_INET};
	if (sscanf(s, "%63[0-9.]:%u", addr, &port) < 1 || port > 65535 ||
	    inet_pton(AF_INET, addr, &sa->sin_addr) != 1)
		return -1;
	sa->sin_port = htons((uint16_t)port);
	return 0;
}

static bool tcp;

static int send_query(int fd, const struct sockaddr_in *to, const char *pattern, unsigned i,
                      uint16_t id, ldns_rr_type type)
{
	const char *pct = strstr(pattern, "%u");
	ldns_pkt *p = NULL;
	char name[512];
	uint8_t *wire = NULL;
	size_t len;
	int r = -1;

	if (pct)
		(void)snprintf(name, sizeof(name), "%.*s%u%s", (int)(pct - pattern), pattern, i,
		               pct + 2);
	else
		(void)snprintf(name, sizeof(name), "%s", pattern);
	if (ldns_pkt_query_new_frm_str(&p, name, type, LDNS_RR_CLASS_IN, LDNS_RD) != LDNS_STATUS_OK)
		return -1;
	ldns_pkt_set_id(p, id);
	if (ldns_pkt2wire(&wire, p, &len) == LDNS_STATUS_OK) {
		uint8_t hdr[2] = {(uint8_t)(len >> 8), (uint8_t)len};

		if (tcp && send(fd, hdr, 2, MSG_NOSIGNAL) == 2 &&
		    send(fd, wire, len, MSG_NOSIGNAL) == (ssize_t)len)
			r = 0;
		else if (!tcp &&
		         sendto(fd, wire, len, 0, (const void *)to, sizeof(*to)) == (ssize_t)len)
			r = 0;
	}
	free(wire);
	ldns_pkt_free(p);
	return r;
}

struct tally {
	unsigned answered, noerror, nxdomain, servfail, other, addrs;
};

/* Reads one answer; its id, or -1. */
static int read_answer(int fd, struct tally *t, bool verbose)
{
	uint8_t buf[65536];
	ssize_t n;
	ldns_pkt *p = NULL;
	int id, rc;

	if (tcp) { /* one length-prefixed answer, read whole */
		uint8_t hdr[2];

		n = recv(fd, hdr, 2, MSG_WAITALL) == 2
		            ? recv(fd, buf, (size_t)hdr[0] << 8 | hdr[1], MSG_WAITALL)
		            : -1;
	} else {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	}
	if (n <= 0 || ldns_wire2pkt(&p, buf, (size_t)n) != LDNS_STATUS_OK)
		return -1;
	id = ldns_pkt_id(p);
	rc = ldns_pkt_get_rcode(p);
	t->answered++;
	*(rc == 0 ? &t->noerror : rc == 3 ? &t->nxdomain : rc == 2 ? &t->servfail : &t->other) += 1;
	for (size_t i = 0; i < ldns_pkt_ancount(p); i++)
		t->addrs +=
		        ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(p), i)) == LDNS_RR_TYPE_A;
	if (verbose) {
		ldns_rr *q = ldns_rr_list_rr(ldns_pkt_question(p), 0);
		char *name = q ? ldns_rdf2str(ldns_rr_owner(q)) : NULL;

		printf("%s %d ", name ? name : "?", rc);
		free(name);
		for (size_t i = 0, k = 0; i < ldns_pkt_ancount(p); i++) {
			ldns_rr *rr =
			        ldns_pkt_answer(p) ? ldns_rr_list_rr(ldns_pkt_answer(p), i) : NULL;
			char *a;

			if (!rr || ldns_rr_get_type(rr) != LDNS_RR_TYPE_A)
				continue;
			a = ldns_rdf2str(ldns_rr_rdf(rr, 0));
			printf("%s%s", k++ ? "," : "", a ? a : "?");
			free(a);
		}
		printf("\n");
	}
	ldns_pkt_free(p);
	return id;
}

static int burst(int fd, const struct sockaddr_in *to, const char *pattern, ldns_rr_type type,
                 unsigned count, unsigned window, int timeout_ms, bool verbose)
{
	static struct slot slot[WINDOW_MAX];
	struct tally t = {0};
	unsigned next = 0, lost = 0, inflight = 0;
	int64_t t0 = now_us();

	while (next < count || inflight) {
		struct pollfd pf = {fd, POLLIN, 0};
		int64_t now = now_us();

		for (unsigned k = 0; k < window; k++) { /* send into free slots, expire old ones */
			struct slot *s = &slot[k];

			if (s->busy && now - s->sent_us > (int64_t)timeout_ms * 1000) {
				s->busy = false;
				inflight--;
				lost++;
			}
			if (!s->busy && next < count) {
				/* id: the slot and a generation, so a late answer is not miscounted
				 */
				uint16_t id = (uint16_t)(k | ((next / window) & 0xf) << 12);

				if (send_query(fd, to, pattern, next, id, type) == 0) {
					*s = (struct slot){true, next, now_us()};
					inflight++;
				} else {
					lost++;
				}
				next++;
			}
		}
		if (poll(&pf, 1, 50) > 0) {
			for (int id; (id = read_answer(fd, &t, verbose)) >= 0;) {
				struct slot *s = &slot[id & 0xfff];

				if ((id & 0xfff) < (int)window && s->busy &&
				    ((s->index / window) & 0xf) == (unsigned)(id >> 12)) {
					s->busy = false;
					inflight--;
				}
				if (tcp)
					break; /* one answer per wakeup: the next read would wait */
			}
		}
	}
	printf("sent %u answered %u lost %u noerror %u nxdomain %u servfail %u other %u addrs %u "
	       "ms %.0f\n",
	       count, t.answered, lost, t.noerror, t.nxdomain, t.servfail, t.other, t.addrs,
	       (double)(now_us() - t0) / 1000.0);
	return lost || t.answered < count ? 1 : 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* One query at a time, alternating between the servers; medians of each. */
static int pairs(int fd, const struct sockaddr_in *to, const char *pattern, ldns_rr_type type,
                 unsigned count, int timeout_ms)
{
	int64_t *lat[2] = {calloc(count, sizeof(int64_t)), calloc(count, sizeof(int64_t))};
	unsigned n[2] = {0, 0}, lost = 0;
	struct tally t = {0};
	double med[2];

	for (unsigned i = 0; lat[0] && lat[1] && i < 2 * count; i++) {
		int which = (int)(i % 2) ^ (int)((i / 2) % 2); /* ABBA: neither always goes first */
		int64_t t0 = now_us();
		bool got = false;

		if (send_query(fd, &to[which], pattern, i, (uint16_t)i, type) < 0) {
			lost++;
			continue;
		}
		while (!got && now_us() - t0 < (int64_t)timeout_ms * 1000) {
			struct pollfd pf = {fd, POLLIN, 0};

			if (poll(&pf, 1, timeout_ms) > 0 &&
			    read_answer(fd, &t, false) == (uint16_t)i)
				got = true;
		}
		if (got)
			lat[which][n[which]++] = now_us() - t0;
		else
			lost++;
	}
	for (int k = 0; k < 2; k++) {
		qsort(lat[k], n[k], sizeof(int64_t), cmp_i64);
		med[k] = n[k] ? (double)lat[k][n[k] / 2] : 0;
	}
	printf("a_median_us %.0f b_median_us %.0f ratio %.2f lost %u\n", med[0], med[1],
	       med[0] > 0 ? med[1] / med[0] : 0, lost);
	free(lat[0]);
	free(lat[1]);
	return lost ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in to[2], from = {.sin_family = AF_INET};
	unsigned n_to = 0, count = 1, window = 1;
	const char *pattern = "example.test";
	ldns_rr_type type = LDNS_RR_TYPE_A;
	int o, timeout_ms = 3000, fd, rcvbuf = 4 << 20;
	bool verbose = false;

	while ((o = getopt(argc, argv, "s:b:n:w:q:y:r:Tv")) != -1) {
		if (o == 's' && n_to < 2 && parse_server(optarg, &to[n_to]) == 0)
			n_to++;
		else if (o == 'b' && inet_pton(AF_INET, optarg, &from.sin_addr) == 1)
			continue;
		else if (o == 'n')
			count = (unsigned)strtoul(optarg, NULL, 10);
		else if (o == 'w')
			window = (unsigned)strtoul(optarg, NULL, 10);
		else if (o == 'q')
			pattern = optarg;
		else if (o == 'y')
			type = ldns_get_rr_type_by_name(optarg);
		else if (o == 'r')
			timeout_ms = atoi(optarg);
		else if (o == 'v')
			verbose = true;
		else if (o == 'T')
			tcp = true;
		else
			return 2;
	}
	if (!n_to || !count || !window || window > WINDOW_MAX || !type) {
		fprintf(stderr, "dns-bench: -s ADDR[:PORT] is needed; -n, -w 1..%d\n", WINDOW_MAX);
		return 2;
	}
	fd = socket(AF_INET, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 1;
	if (from.sin_addr.s_addr && bind(fd, (void *)&from, sizeof(from)) < 0) {
		perror("dns-bench: bind");
		return 1;
	}
	if (tcp && (window > 1 || n_to > 1 || connect(fd, (void *)&to[0], sizeof(to[0])) < 0)) {
		fprintf(stderr,
		        "dns-bench: -T: one server, one query at a time, and it must accept\n");
		return 1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (n_to == 2)
		return pairs(fd, to, pattern, type, count, timeout_ms);
	return burst(fd, &to[0], pattern, type, count, window, timeout_ms, verbose);
}
