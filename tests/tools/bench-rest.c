/* SPDX-License-Identifier: MIT */
/* bench-rest IMAGE NAME: the bare REST sequence a session needs, in-process over coi's Incus
 * client and nothing else: create and start a container from IMAGE, run `true` in it, delete it.
 * Prints the milliseconds it took. The benchmark's floor for `coi run -- true`. */
#include <stdio.h>
#include <time.h>

#include "incus/incus.h"
#include "util/error.h"

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	_cleanup_(incus_client_freep) struct incus_client *c = NULL;
	struct incus_client_opts o;
	struct incus_exec_opts x;
	struct incus_exec_result res = {0};
	struct coi_error err = {0};
	char *cmd[] = {"true", NULL};
	double t0;
	int r;

	if (argc != 3) {
		fprintf(stderr, "usage: bench-rest IMAGE NAME\n");
		return 2;
	}
	incus_client_opts_from_env(&o);
	if (incus_client_new(&o, &c, &err) < 0)
		goto fail;
	t0 = now_ms();
	r = incus_instance_create(c,
	                          &(struct incus_instance_spec){
	                                  .name = argv[2], .image_alias = argv[1], .start = true},
	                          NULL, &err);
	if (r < 0)
		goto fail;
	incus_exec_opts_init(&x);
	x.argv = cmd;
	/* exec works a moment after start: retry, as any client must */
	for (int i = 0; i < 200; i++) {
		r = incus_exec(c, argv[2], &x, &res, &err);
		incus_exec_result_release(&res);
		if (r >= 0 && res.exit_status == 0)
			break;
		nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
	}
	if (r < 0 || incus_instance_delete(c, argv[2], true, &err) < 0)
		goto fail;
	printf("%.1f\n", now_ms() - t0);
	return 0;
fail:
	fprintf(stderr, "bench-rest: %s\n", coi_error_message(&err));
	(void)incus_instance_delete(c, argv[2], true, NULL);
	return 1;
}
