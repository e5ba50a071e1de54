/* SPDX-License-Identifier: MIT */
/* network.h: the session's network phases (see network.c). */
#pragma once

#include <stdbool.h>

struct coi_error;
struct incus_profile;
struct session;
struct session_layout;

/* The session's profile ([container] profile, or "default"), read from Incus once per start: the
 * bridge, the warm pool's fingerprints (one per candidate) and the create read the same one. */
int session_profile(struct session *s, const struct incus_profile **ret, struct coi_error *err);

/* The bridge's address and prefix into s->gateway and s->prefix (once). */
int session_net_bridge(struct session *s, struct coi_error *err);
/* Before create, on a managed bridge (the profile's one NIC): the guest's address, decided now
 * into s->ipv4 (a persistent container started again: the one it has), and the host file that
 * tells the guest's networkd (s->net_file, removed by an undo step). Else nothing (0): DHCP
 * decides, after the start. */
int session_net_pin(struct session *s, struct coi_error *err);
/* The start was refused, the address pinned on another instance's NIC too (another user's
 * session, starting at the same moment, picked it): another one into s->ipv4 (attempt 1, 2...:
 * further on by a random step, wider each time), the networkd file and the rules moved to it.
 * A persistent container started again keeps its address: -EADDRINUSE. */
int session_net_repin(struct session *s, unsigned attempt, struct coi_error *err);
/* How many other addresses a session tries, when its start is refused or its rules would meet
 * another session's on its address. */
#define SESSION_PIN_ATTEMPTS 8
/* What the create request needs of it (ip and gw: INET_ADDRSTRLEN each, for the texts). */
void session_net_layout(const struct session *s, char *ip, char *gw, struct session_layout *l);
/* Before start: drop the container's traffic until the real rules are in (not needed when the
 * address is decided before: the real rules go in before the create). */
int session_net_boot(struct session *s, struct coi_error *err);
/* Before create, for the address decided then: bind the DNS filter's sockets and install the
 * rules (the redirect to the filter with them). Another session's rules already keyed on that
 * address (another user's session picked it at the same moment) are left alone: this one moves
 * to another address (session_net_repin's way), at most SESSION_PIN_ATTEMPTS times. */
int session_net_apply_early(struct session *s, struct coi_error *err);
/* After start: unless done early, wait for the IPv4, bind the DNS filter's sockets, install the
 * rules; then write [[network.hosts]] into /etc/hosts. */
int session_net_apply(struct session *s, struct coi_error *err);
/* When the address was decided before start: a sh script the guest runs before the command
 * starts, which exits 0 once its network is up ($1: how many checks, 50 ms apart; $2: the
 * bridge's address; $3: the guest's, "A/prefix"); else NULL. */
const char *session_net_ready_script(const struct session *s);
/* Remove every rule of the session. */
/* A claimed warm container's block and network file (warm.h), removed whatever phase of the
 * session that claimed it fails; an undo step. */
int session_net_remove_claimed(struct session *s, struct coi_error *err);
int session_net_remove(struct session *s, struct coi_error *err);

/* The supervisor runs the DNS filter: whether there is one to run, the supervisor's options for
 * it (appended to argv; with monitoring off, --timer-only too), in the supervisor's child before
 * its exec the sockets as fds first and first + 1 and every descriptor above closed, and in the
 * session once the supervisor has them, their close. */
bool session_net_has_filter(const struct session *s);
int session_net_supervisor_args(const struct session *s, int first, char ***argv);
void session_net_supervisor_fds(const struct session *s, int first);
void session_net_supervisor_started(struct session *s);
/* Frees what the phases kept (session_free). */
void session_net_release(struct session *s);
