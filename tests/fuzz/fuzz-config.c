/* SPDX-License-Identifier: MIT */
/* fuzz-config: a whole config file, past the TOML reader: every key's type check, conversion
 * and validation, the layering over the defaults, profiles and their inheritance, and the
 * warnings, the output and the named prompts; then what a session makes of a loaded config,
 * without a container: the session options (session_opts_from_config, which checks what a
 * session needs), the monitor's arguments, and the network policy's nft batch and
 * descriptions. The input is the user's file (so every key is allowed), read through a memfd;
 * it is also checked as `coi config validate` does. Accept or refuse, never crash, leak or trip
 * a sanitizer. */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config/config.h"
#include "monitor/settings.h"
#include "netpolicy/netpolicy.h"
#include "session/session.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/strv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A config the loader accepted must give session options: anything refused there should have
 * been refused by the loader, with its file:line:col (a crash or a vague error at start
 * otherwise: `[container] image = ""` once reached the session as NULL). */
static void must(int r, const char *what, const struct coi_error *err)
{
	if (r >= 0 || r == -ENOMEM)
		return;
	fprintf(stderr, "the loader accepted a config that %s refuses: %s\n", what, err->msg);
	abort();
}

/* The policy as the session applies it: the batch for a container, the descriptions. */
static void network(const struct net_policy *p)
{
	struct net_target t = {
	        .container = "coi-fuzz-1", .veth = "vcoifuzz1", .prefix = 24, .log_group = 3};
	struct buf b = BUF_INIT(64 << 20);
	struct coi_error err = {0};

	(void)inet_pton(AF_INET, "10.9.8.7", &t.ipv4);
	(void)inet_pton(AF_INET, "10.9.8.1", &t.gateway);
	(void)net_nft_apply(&t, p, NULL, &b, &err);
	buf_reset(&b);
	t.dns_port = 5353; /* with the DNS filter: its redirect and sets */
	(void)net_nft_apply(&t, p, NULL, &b, &err);
	buf_reset(&b);
	(void)net_policy_describe(p, &b);
	buf_release(&b);
	json_decref(net_policy_to_json(p));
}

/* What `coi run` and `coi shell` make of the config before they touch a container. */
static void session_options(const struct coi_config *c)
{
	struct session_opts o = {0};
	struct coi_error err = {0};
	char **warnings = NULL, **argv = NULL;
	int r;

	if (session_opts_default("/nonexistent/coi-fuzz", &o, &err) < 0)
		return;
	r = session_opts_from_config(c, &o, &warnings, &err);
	must(r, "session_opts_from_config", &err);
	if (r == 0 && o.net)
		network(o.net);
	/* (the monitor checks some ranges of its keys itself, naming the key: not asserted) */
	if (monitor_config_argv(c, &argv, &err) == 0)
		strv_free(argv);
	strv_free(warnings);
	session_opts_release(&o);
}

static void load(const char *path)
{
	struct config_load_opts o = {.workspace = "/nonexistent/coi-fuzz", .user_file = path};
	struct coi_config *c = NULL;
	char **warnings = NULL;
	struct coi_error err = {0};

	if (config_load(&o, &c, &warnings, &err) == 0) {
		char **pp = NULL;

		if (config_protected_paths(c, &pp) == 0)
			strv_free(pp);
		/* the output, and the named prompts that need no file read */
		free(config_to_toml(c));
		for (size_t i = 0; i < c->n_prompts; i++) {
			char *text = NULL;

			if (c->prompts[i].text &&
			    config_prompt_read(&c->prompts[i], 4096, &text, &err) == 0)
				free(text);
		}
		/* never a prompt name (no leading '-'): the unknown-name message, no file read */
		(void)config_prompt_text(c, "-x", 4096, &(char *){NULL}, &err);
		session_options(c);
		config_free(c);
	}
	strv_free(warnings);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_close_ int fd = memfd_create("coi-fuzz-config", MFD_CLOEXEC);
	char path[64];
	char **warnings = NULL;
	struct coi_error err = {0};

	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		return 0;
	(void)snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	(void)config_validate_file(path, &warnings, &err);
	strv_free(warnings);
	load(path);
	return 0;
}
