/* SPDX-License-Identifier: MIT */
/* loop.c: the monitor's event loop. Every wait is on an fd: sockets, timerfds, a signalfd. */
#include "monitor/loop.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "util/cleanup.h"

#define LOOP_MAX_SOURCES 32

struct source {
	int fd;
	bool own;
	bool timer;
	loop_fn fn;
	void *userdata;
};

struct loop {
	int epfd;
	bool done;
	int code;
	struct source sources[LOOP_MAX_SOURCES];
	size_t n;
};

int loop_new(struct loop **ret)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		int r = -errno;

		free(l);
		return r;
	}
	*ret = l;
	return 0;
}

struct loop *loop_free(struct loop *l)
{
	if (!l)
		return NULL;
	for (size_t i = 0; i < l->n; i++)
		if (l->sources[i].own && l->sources[i].fd >= 0)
			close(l->sources[i].fd);
	close(l->epfd);
	free(l);
	return NULL;
}

static int add(struct loop *l, int fd, bool own, bool timer, loop_fn fn, void *userdata)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct source *s;

	if (l->n >= LOOP_MAX_SOURCES)
		return -ENOSPC;
	s = &l->sources[l->n];
	*s = (struct source){fd, own, timer, fn, userdata};
	ev.data.ptr = s;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	l->n++;
	return 0;
}

int loop_add_fd(struct loop *l, int fd, int own, loop_fn fn, void *userdata)
{
	return add(l, fd, own, false, fn, userdata);
}

int loop_remove_fd(struct loop *l, int fd)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->sources[i].fd == fd) {
			(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
			if (l->sources[i].own)
				close(fd);
			/* Slots are referenced by epoll data: keep them in place, just disable. */
			l->sources[i].fd = -EBADF;
			l->sources[i].fn = NULL;
			return 0;
		}
	return -ENOENT;
}

int loop_add_timer(struct loop *l, uint64_t interval_ms, loop_fn fn, void *userdata)
{
	struct itimerspec its = {
	        .it_interval = {(time_t)(interval_ms / 1000), (long)(interval_ms % 1000) * 1000000},
	        .it_value = {(time_t)(interval_ms / 1000), (long)(interval_ms % 1000) * 1000000},
	};
	_cleanup_close_ int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	int r;

	if (fd < 0)
		return -errno;
	if (timerfd_settime(fd, 0, &its, NULL) < 0)
		return -errno;
	r = add(l, fd, true, true, fn, userdata);
	if (r < 0)
		return r;
	TAKE_FD(fd);
	return 0;
}

static int on_signal(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) == sizeof(si))
		loop_exit(l, -EINTR);
	return 0;
}

int loop_add_exit_signals(struct loop *l)
{
	sigset_t mask;
	_cleanup_close_ int fd = -EBADF;
	int r;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	r = add(l, fd, true, false, on_signal, NULL);
	if (r < 0)
		return r;
	TAKE_FD(fd);
	return 0;
}

void loop_exit(struct loop *l, int code)
{
	l->done = true;
	l->code = code;
}

int loop_run(struct loop *l)
{
	struct epoll_event evs[16];

	while (!l->done) {
		int n = epoll_wait(l->epfd, evs, (int)ELEMENTSOF(evs), -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (int i = 0; i < n && !l->done; i++) {
			struct source *s = evs[i].data.ptr;
			uint64_t expiries;
			int r;

			if (!s->fn)
				continue;
			if (s->timer && read(s->fd, &expiries, sizeof(expiries)) < 0)
				continue;
			r = s->fn(l, s->fd, evs[i].events, s->userdata);
			if (r < 0)
				loop_exit(l, r);
		}
	}
	return l->code;
}
