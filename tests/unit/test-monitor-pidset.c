/* SPDX-License-Identifier: MIT */
/* The monitor's pid sets (pidset.h) and where a cgroup path is (cgroup_place): which processes
 * a supervisor may stop looking at because they live in another container, and which it must
 * keep checking (the host's, which `incus exec` moves into the container). */
#include <string.h>
#include <sys/mman.h>

#include "monitor/pidset.h"
#include "monitor/sources.h"
#include "tap.h"

static void test_cgroup_place(void)
{
	struct cgroup_ref cg = {.root = "/lxc.payload.coi-a-1"};

	CHECK(cgroup_place(&cg, "/lxc.payload.coi-a-1") == CGROUP_OURS);
	CHECK(cgroup_place(&cg, "/lxc.payload.coi-a-1/.lxc") == CGROUP_OURS);
	CHECK(cgroup_place(&cg, "/lxc.payload.coi-a-1/init.scope") == CGROUP_OURS);
	/* another instance, and one whose name ours begins */
	CHECK(cgroup_place(&cg, "/lxc.payload.coi-b-1") == CGROUP_FOREIGN);
	CHECK(cgroup_place(&cg, "/lxc.payload.coi-b-1/system.slice/x.service") == CGROUP_FOREIGN);
	CHECK(cgroup_place(&cg, "/lxc.payload.coi-a-10") == CGROUP_FOREIGN);
	CHECK(cgroup_place(&cg, "/lxc.payload.coi-a") == CGROUP_FOREIGN);
	/* the host's: incusd, lxc attach before it moves, the instances' monitors, anything */
	CHECK(cgroup_place(&cg, "/") == CGROUP_ELSEWHERE);
	CHECK(cgroup_place(&cg, "/system.slice/incus.service") == CGROUP_ELSEWHERE);
	CHECK(cgroup_place(&cg, "/lxc.monitor.coi-b-1") == CGROUP_ELSEWHERE);
	CHECK(cgroup_place(&cg, "/lxc.monitor.coi-a-1") == CGROUP_ELSEWHERE);
	CHECK(cgroup_place(&cg, "/lxc.payload.") == CGROUP_ELSEWHERE);
	CHECK(cgroup_place(&cg, "/lxc.payload./x") == CGROUP_ELSEWHERE);
	CHECK(cgroup_place(&cg, "/user.slice/lxc.payload.coi-b-1") == CGROUP_ELSEWHERE);
	CHECK(cgroup_place(&cg, "") == CGROUP_ELSEWHERE);
}

static void test_pidset(void)
{
	struct pidset s;

	CHECK(pidset_init(&s, 1000) == 0);
	pidset_add(&s, 10);
	pidset_add(&s, 10);
	CHECK(pidset_has(&s, 10) && s.live == 1);
	/* a child of ours is ours */
	CHECK(pidset_fork(&s, 10, 11) && pidset_has(&s, 11) && s.live == 2);
	/* a foreign process's children and theirs are foreign, never ours */
	pidset_set_foreign(&s, 20);
	CHECK(!pidset_fork(&s, 20, 21) && pidset_is_foreign(&s, 21) && !pidset_has(&s, 21));
	CHECK(!pidset_fork(&s, 21, 22) && pidset_is_foreign(&s, 22));
	/* a child of an unknown process is unknown, even in the pid of a foreign one gone */
	CHECK(pidset_exit(&s, 22) == false && !pidset_is_foreign(&s, 22));
	pidset_set_foreign(&s, 23);
	CHECK(!pidset_fork(&s, 1, 23) && !pidset_is_foreign(&s, 23));
	/* one of ours is never marked foreign; one found ours stops being foreign */
	pidset_set_foreign(&s, 10);
	CHECK(!pidset_is_foreign(&s, 10));
	pidset_add(&s, 21);
	CHECK(pidset_has(&s, 21) && !pidset_is_foreign(&s, 21) && s.live == 3);
	CHECK(pidset_exit(&s, 21) && !pidset_has(&s, 21) && s.live == 2);
	/* out of range: ignored */
	pidset_add(&s, 0);
	pidset_add(&s, -1);
	pidset_add(&s, 1000);
	pidset_set_foreign(&s, 5000);
	CHECK(s.live == 2 && !pidset_has(&s, 1000) && !pidset_is_foreign(&s, 5000));
	/* a scan that saw 10 only: 11 left */
	{
		uint64_t seen[1000 / 64 + 1] = {0};

		seen[0] = 1ull << 10;
		CHECK(pidset_keep(&s, seen) == 1 && s.live == 1 && pidset_has(&s, 10) &&
		      !pidset_has(&s, 11));
	}
	/* lost events: both sets forgotten */
	pidset_clear(&s);
	CHECK(s.live == 0 && !pidset_has(&s, 10) && !pidset_is_foreign(&s, 20));
	pidset_done(&s);
}

/* The foreign set moved into a mapping (as the kernel's filter shares it): what it held goes
 * along, and pidset_done unmaps it. */
static void test_pidset_shared(void)
{
	struct pidset s;
	size_t bytes = 4096;
	uint64_t *words =
	        mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	CHECK(words != MAP_FAILED && pidset_init(&s, 1000) == 0);
	pidset_set_foreign(&s, 70);
	pidset_share_foreign(&s, words, bytes);
	CHECK(pidset_is_foreign(&s, 70) && (words[1] >> 6) & 1);
	words[2] |= 1ull << 3; /* the kernel marks a child, 131 */
	CHECK(pidset_is_foreign(&s, 131));
	CHECK(!pidset_fork(&s, 131, 132) && (words[2] >> 4) & 1);
	pidset_clear(&s);
	CHECK(words[1] == 0 && words[2] == 0);
	pidset_done(&s);
}

int main(void)
{
	RUN(test_cgroup_place);
	RUN(test_pidset);
	RUN(test_pidset_shared);
	return tap_done();
}
