/* SPDX-License-Identifier: MIT */
/* incus-events: print the daemon's events, one line each ("TYPE ACTION INSTANCE"), for e2e
 * tests of the event stream. Prints "subscribed" once the stream is open.
 *
 *	incus-events [-n COUNT] [-t TIMEOUT_MS] [TYPES]
 *
 * Exits 0 after COUNT events, 1 on a timeout or error. Uses $INCUS_SOCKET like coi. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "incus/incus.h"
#include "util/error.h"

int main(int argc, char **argv)
{
	_cleanup_incus_client_ struct incus_client *c = NULL;
	_cleanup_(incus_events_freep) struct incus_events *ev = NULL;
	struct coi_error err = {0};
	int o, count = 1, timeout = 10000;

	while ((o = getopt(argc, argv, "n:t:")) != -1) {
		if (o == 'n')
			count = atoi(optarg);
		else if (o == 't')
			timeout = atoi(optarg);
		else
			return 2;
	}
	if (incus_client_new_from_env(&c, &err) < 0 ||
	    incus_events_open(c, optind < argc ? argv[optind] : NULL, &ev, &err) < 0) {
		fprintf(stderr, "incus-events: %s\n", coi_error_message(&err));
		return 1;
	}
	printf("subscribed\n");
	fflush(stdout);
	for (int i = 0; i < count; i++) {
		struct incus_event e;

		if (incus_events_next(ev, timeout, &e, &err) < 0) {
			fprintf(stderr, "incus-events: %s\n", coi_error_message(&err));
			return 1;
		}
		printf("%s %s %s\n", e.type, e.action ? e.action : "-",
		       e.instance ? e.instance : "-");
		fflush(stdout);
		incus_event_release(&e);
	}
	return 0;
}
