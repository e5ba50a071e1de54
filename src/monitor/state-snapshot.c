/* SPDX-License-Identifier: MIT */
/* state-snapshot.c: monitor_snapshot(), a one-time look at a container for `coi monitor`: its
 * processes (from the cgroup, read on the host), its sockets (sock_diag, root only), its I/O
 * counters and /tmp. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "incus/incus.h"
#include "monitor/monitor.h"
#include "monitor/sources.h"
#include "util/error.h"
#include "util/strv.h"

#define SNAPSHOT_MAX 4096

struct monitor_snapshot *monitor_snapshot_free(struct monitor_snapshot *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n_procs; i++)
		free(s->procs[i].command);
	free(s->procs);
	free(s->conns);
	free(s);
	return NULL;
}

static int add_proc(pid_t pid, void *u)
{
	struct monitor_snapshot *s = u;
	struct proc_facts f;
	struct monitor_proc *grown;

	if (s->n_procs >= SNAPSHOT_MAX || proc_facts_read(pid, &f) < 0)
		return 0;
	grown = realloc(s->procs, sizeof(*grown) * (s->n_procs + 1));
	if (!grown) {
		proc_facts_release(&f);
		return -ENOMEM;
	}
	s->procs = grown;
	grown[s->n_procs++] = (struct monitor_proc){
	        .pid = pid,
	        .ppid = f.ppid,
	        .uid = f.uid,
	        .command = f.argv ? strv_join(f.argv, " ") : strdup(f.comm),
	};
	proc_facts_release(&f);
	return 0;
}

static void add_conn(const struct conn_obs *c, void *u)
{
	struct monitor_snapshot *s = u;
	struct monitor_conn *grown;

	if (s->n_conns >= SNAPSHOT_MAX)
		return;
	grown = realloc(s->conns, sizeof(*grown) * (s->n_conns + 1));
	if (!grown)
		return;
	s->conns = grown;
	grown = &grown[s->n_conns++];
	snprintf(grown->proto, sizeof(grown->proto), "%s", c->proto == IPPROTO_UDP ? "udp" : "tcp");
	conn_obs_format(c, false, grown->local, sizeof(grown->local));
	conn_obs_format(c, true, grown->remote, sizeof(grown->remote));
	snprintf(grown->state, sizeof(grown->state), "%s", c->state);
}

int monitor_snapshot(struct incus_client *c, const char *container, struct monitor_snapshot **ret,
                     struct coi_error *err)
{
	_cleanup_(incus_instance_state_freep) struct incus_instance_state *st = NULL;
	struct monitor_snapshot *s;
	struct cgroup_ref cg;
	int fd = -EBADF, r;

	if (incus_client_is_remote(c))
		return coi_error_set(
		        err, -EOPNOTSUPP,
		        "a snapshot reads the host's /proc; '%s' is on a remote server", container);
	r = incus_instance_state(c, container, &st, err);
	if (r < 0)
		return r;
	if (st->pid <= 0)
		return coi_error_set(err, -ESRCH, "container '%s' is not running", container);
	r = cgroup_of_init((pid_t)st->pid, &cg);
	if (r < 0)
		return coi_error_errno(err, r, "cannot find the cgroup of '%s'", container);
	s = calloc(1, sizeof(*s));
	if (!s)
		return coi_error_oom(err);
	s->init_pid = (pid_t)st->pid;
	(void)cgroup_pids(&cg, add_proc, s);
	if (sockdiag_open(s->init_pid, &fd, NULL) >= 0) {
		s->conns_available = sockdiag_dump(fd, add_conn, s) >= 0;
		close(fd);
	}
	(void)cgroup_io(&cg, &s->read_bytes, &s->write_bytes);
	(void)container_disk(s->init_pid, "/tmp", &s->tmp);
	*ret = s;
	return 0;
}
