/* SPDX-License-Identifier: MIT */
/* gitident.h: who the commits made inside a session are by. [git] name and email when set;
 * what is unset is the host user's own identity (user.name, user.email of ~/.gitconfig and
 * ~/.config/git/config, the last one wins as in git) when [git] seed_host_identity is on. The
 * result is the code user's ~/.gitconfig. Nothing is run: the host's files are read with the
 * configuration reader (gitconfig.h), without following an include. */
#pragma once

#include <stdbool.h>

struct buf;

/* The [user] section for name and email, seeded from the files under home when seed_host
 * (home NULL: none), appended to out; nothing when neither is known. Values are written quoted,
 * control characters dropped. */
int gitident_text(const char *name, const char *email, bool seed_host, const char *home,
                  struct buf *out);
