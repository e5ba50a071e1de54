/* SPDX-License-Identifier: MIT */
/* coi top's arithmetic: connections counted from /proc/PID/net/tcp text, rates from two samples
 * (unknown stays unknown, a counter that went back reads as 0). */
#include "monitor/top.h"
#include "tap.h"

static void test_established(void)
{
	const char *tcp =
	        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid\n"
	        "   0: 0100007F:0035 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0\n"
	        "   1: 02AB0A0A:9C40 01AB0A0A:0035 01 00000000:00000000 00:00000000 00000000  1000\n"
	        "   2: 02AB0A0A:9C42 01AB0A0A:01BB 06 00000000:00000000 03:00000DD5 00000000     0\n"
	        "   3: 02AB0A0A:9C44 01AB0A0A:01BB 01 00000000:00000000 00:00000000 00000000  1000\n";

	CHECK(top_count_established(tcp) == 2);
	CHECK(top_count_established("") == 0);
	CHECK(top_count_established("garbage\n\n01 01 01\n") == 0);
}

static void test_rates(void)
{
	struct top_counters a = {.at_ns = 1000000000,
	                         .cpu_ns = 0,
	                         .io_read = 100,
	                         .io_write = -1,
	                         .net_rx = 5000,
	                         .net_tx = 0};
	struct top_counters b = {.at_ns = 3000000000,
	                         .cpu_ns = 1000000000,
	                         .io_read = 2148,
	                         .io_write = 10,
	                         .net_rx = 1000,
	                         .net_tx = 400};
	struct top_rates r;

	top_rates_of(&a, &b, &r);
	CHECK(r.cpu_percent == 50);   /* one second of CPU in two */
	CHECK(r.io_read_bps == 1024); /* 2048 bytes in two seconds */
	CHECK(r.io_write_bps == -1);  /* unknown before: unknown */
	CHECK(r.net_rx_bps == 0);     /* went back (the veth was replaced): 0, not negative */
	CHECK(r.net_tx_bps == 200);
	top_rates_of(&b, &b, &r); /* no time passed */
	CHECK(r.cpu_percent == -1);
}

int main(void)
{
	RUN(test_established);
	RUN(test_rates);
	return tap_done();
}
