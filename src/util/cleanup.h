/* SPDX-License-Identifier: MIT */
/* cleanup.h: ownership by scope. Locals that own a resource carry a cleanup attribute; hand the
 * resource on with TAKE_PTR/TAKE_FD, which leaves the local empty so the cleanup does nothing. */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		(void)close(*fd);
		errno = saved;
	}
}

static inline void fclosep(FILE **f)
{
	if (*f)
		(void)fclose(*f);
}

#define _cleanup_(fn)    __attribute__((cleanup(fn)))
#define _cleanup_free_   _cleanup_(freep)
#define _cleanup_close_  _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)

/* DEFINE_CLEANUP(struct foo *, foo_free) gives foo_freep() for _cleanup_(foo_freep). */
#define DEFINE_CLEANUP(type, fn)          \
	static inline void fn##p(type *p) \
	{                                 \
		if (*p)                   \
			(void)fn(*p);     \
	}

#define TAKE_PTR(p)                        \
	({                                 \
		__typeof__(p) _tmp_ = (p); \
		(p) = NULL;                \
		_tmp_;                     \
	})

#define TAKE_FD(fd)               \
	({                        \
		int _tmp_ = (fd); \
		(fd) = -EBADF;    \
		_tmp_;            \
	})

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

#define COI_UNUSED       __attribute__((unused))
#define COI_PRINTF(a, b) __attribute__((format(printf, a, b)))
