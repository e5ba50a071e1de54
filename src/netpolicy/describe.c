/* SPDX-License-Identifier: MIT */
/* describe.c: the policy as the container and the user see it: the /etc/hosts lines coi writes
 * into the container ([[network.hosts]]), a short text for the sandbox context file, and JSON
 * for `coi list --json` and SANDBOX_CONTEXT.json; and reading a hosts file (the DNS filter
 * answers an allowed name the host's /etc/hosts has from it). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "netpolicy/netpolicy.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strv.h"

static const char *ip4(struct in_addr a, char buf[static INET_ADDRSTRLEN])
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

int net_hosts_lookup(const char *text, const char *name, struct net_addrs *ret)
{
	struct net_addrs s = {0};

	for (const char *line = text, *end; line && *line; line = end ? end + 1 : NULL) {
		size_t len;
		char copy[1024], *save = NULL, *tok;
		struct in_addr a;

		end = strchr(line, '\n');
		len = end ? (size_t)(end - line) : strlen(line);
		if (len >= sizeof(copy))
			continue; /* longer than any line coi would use */
		memcpy(copy, line, len);
		copy[len] = '\0';
		copy[strcspn(copy, "#")] = '\0';
		tok = strtok_r(copy, " \t\r", &save);
		if (!tok || inet_pton(AF_INET, tok, &a) != 1)
			continue;
		while ((tok = strtok_r(NULL, " \t\r", &save)))
			if (strcasecmp(tok, name) == 0) {
				if (s.n < NET_ADDRS_MAX)
					s.a[s.n++] = a;
				break;
			}
	}
	if (s.n == 0)
		return -ENOENT;
	*ret = s;
	return 0;
}

int net_hosts_render(const struct net_policy *p, struct buf *out)
{
	char a[INET_ADDRSTRLEN];
	int ret = buf_puts(out, NET_HOSTS_BEGIN "\n");

	for (size_t i = 0; i < p->n_hosts && ret >= 0; i++) {
		_cleanup_free_ char *names = strv_join(p->hosts[i].hostnames, " ");

		if (!names)
			return -ENOMEM;
		if (*names)
			ret = buf_printf(out, "%s\t%s\n", ip4(p->hosts[i].addr, a), names);
	}
	return ret < 0 ? ret : buf_puts(out, NET_HOSTS_END "\n");
}

/* The start of the line holding marker in text (a whole line), or NULL. */
static const char *find_line(const char *text, const char *marker)
{
	size_t n = strlen(marker);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, marker, n) == 0 && (l[n] == '\n' || l[n] == '\0'))
			return l;
	return NULL;
}

int net_hosts_merge(const char *existing, const char *block, struct buf *out)
{
	const char *begin = find_line(existing, NET_HOSTS_BEGIN);
	const char *end = begin ? find_line(begin, NET_HOSTS_END) : NULL;
	size_t len = strlen(existing);
	int r;

	if (begin && end) {
		const char *after = strchr(end, '\n');

		r = buf_append(out, existing, (size_t)(begin - existing));
		if (r >= 0)
			r = buf_puts(out, block);
		return r < 0 || !after ? r : buf_puts(out, after + 1);
	}
	r = buf_puts(out, existing);
	if (r >= 0 && len > 0 && existing[len - 1] != '\n')
		r = buf_putc(out, '\n');
	return r < 0 ? r : buf_puts(out, block);
}

static int describe_dests(const struct net_policy *p, struct buf *out)
{
	int r = 0;

	for (size_t i = 0; i < p->n_allowlist && r >= 0; i++) {
		r = buf_puts(out, i ? ", " : "");
		if (r >= 0)
			r = net_dest_format(&p->allowlist[i], out);
	}
	return r;
}

static int describe_hosts(const struct net_policy *p, struct buf *out)
{
	char a[INET_ADDRSTRLEN];
	int r = 0;

	for (size_t i = 0; i < p->n_hosts && r >= 0; i++) {
		_cleanup_free_ char *names = strv_join(p->hosts[i].hostnames, " ");

		if (!names)
			return -ENOMEM;
		r = buf_printf(out, "%s%s%s%s", i ? ", " : "", ip4(p->hosts[i].addr, a),
		               *names ? " " : "", names);
		if (r >= 0 && p->hosts[i].ports.n) {
			r = buf_puts(out, " ports ");
			if (r >= 0)
				r = net_ports_format(&p->hosts[i].ports, out);
		}
	}
	return r;
}

static int describe_networks(const struct net_policy *p, struct buf *out)
{
	char a[INET_ADDRSTRLEN];
	int r = 0;

	for (size_t i = 0; i < p->n_allowed_networks && r >= 0; i++)
		r = buf_printf(out, "%s%s/%u", i ? ", " : "", ip4(p->allowed_networks[i].addr, a),
		               p->allowed_networks[i].prefix);
	return r;
}

static int describe_restricted(const struct net_policy *p, struct buf *out)
{
	char a[INET_ADDRSTRLEN];
	int r = buf_puts(out, "Network: restricted. The internet is reachable.");

	if (r >= 0 && !p->allow_local_network_access && p->block_private_networks)
		r = buf_puts(out, " Private networks (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16) "
		                  "are blocked.");
	if (r >= 0 && p->allow_local_network_access)
		r = buf_puts(out, " Local networks are reachable.");
	if (r >= 0 && p->block_metadata_endpoint)
		r = buf_puts(out, " Link-local addresses and the cloud metadata service "
		                  "(169.254.0.0/16) are blocked.");
	if (r >= 0)
		r = buf_puts(out,
		             " Special-purpose ranges (100.64.0.0/10, 198.18.0.0/15, 240.0.0.0/4, "
		             "...) are blocked.");
	if (r >= 0 && !p->allow_local_network_access)
		r = buf_puts(out,
		             " Other containers and the host's own addresses are not reachable; "
		             "the host's bridge answers DHCP and DNS.");
	if (r >= 0 && p->n_allowed_networks) {
		r = buf_puts(out, " Reachable all the same: ");
		r = r < 0 ? r : describe_networks(p, out);
		r = r < 0 ? r : buf_putc(out, '.');
	}
	if (r >= 0 && p->allowed_ports.n) {
		r = buf_puts(out, " Only these ports are open: ");
		r = r < 0 ? r : net_ports_format(&p->allowed_ports, out);
		r = r < 0 ? r : buf_putc(out, '.');
	}
	for (size_t i = 0; r >= 0 && i < p->n_dns_servers; i++)
		r = buf_printf(out, "%s%s", i ? ", " : " DNS goes only to the bridge and ",
		               ip4(p->dns_servers[i], a));
	if (r >= 0 && p->n_dns_servers)
		r = buf_putc(out, '.');
	return r;
}

int net_policy_describe(const struct net_policy *p, struct buf *out)
{
	int r;

	switch (p->mode) {
	case NET_MODE_RESTRICTED:
		r = describe_restricted(p, out);
		break;
	case NET_MODE_ALLOWLIST:
		r = buf_puts(out, "Network: allowlist. Only these destinations are reachable: ");
		r = r < 0 ? r : describe_dests(p, out);
		r = r < 0 ? r
		          : buf_puts(out,
		                     ". A name resolves only when an entry allows it (*.name: "
		                     "every name below name), and its addresses are reachable "
		                     "once resolved; other names do not resolve. Everything else "
		                     "is refused.");
		break;
	case NET_MODE_OPEN:
		return buf_puts(out,
		                "Network: open. No filtering; IPv4 and IPv6 are unrestricted.\n");
	case _NET_MODE_MAX:
	case _NET_MODE_INVALID:
	default:
		return -EINVAL;
	}
	if (r >= 0 && p->n_hosts) {
		r = buf_puts(out, " Also reachable (named in /etc/hosts): ");
		r = r < 0 ? r : describe_hosts(p, out);
		r = r < 0 ? r : buf_putc(out, '.');
	}
	return r < 0 ? r : buf_puts(out, " IPv6 is blocked.\n");
}

static json_t *ports_json(const struct net_ports *ports)
{
	_cleanup_buf_ struct buf b = BUF_INIT(4096);

	if (ports->n == 0)
		return json_null();
	return net_ports_format(ports, &b) < 0 ? NULL : json_string(buf_str(&b));
}

static json_t *allowed_json(const struct net_policy *p)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < p->n_allowlist; i++) {
		const struct net_dest *d = &p->allowlist[i];
		_cleanup_buf_ struct buf b = BUF_INIT(1024);
		json_t *o;

		if (net_dest_format(d, &b) < 0)
			goto fail;
		o = json_pack("{s:s, s:o*}", "destination", buf_str(&b), "ports",
		              ports_json(&d->ports));
		if (!o || json_array_append_new(arr, o) < 0)
			goto fail;
	}
	return arr;
fail:
	json_decref(arr);
	return NULL;
}

static json_t *hosts_json(const struct net_policy *p)
{
	json_t *arr = json_array();
	char s[INET_ADDRSTRLEN];

	for (size_t i = 0; arr && i < p->n_hosts; i++) {
		json_t *names = json_array(), *o;

		strv_foreach(n, p->hosts[i].hostnames)
			json_array_append_new(names, json_string(*n));
		o = json_pack("{s:s, s:o, s:o*}", "ip", ip4(p->hosts[i].addr, s), "hostnames",
		              names, "ports", ports_json(&p->hosts[i].ports));
		if (!o || json_array_append_new(arr, o) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static json_t *blocked_json(const struct net_policy *p)
{
	json_t *arr = json_array();

	if (!arr)
		return NULL;
	if (p->mode == NET_MODE_OPEN)
		return arr;
	if (p->mode == NET_MODE_ALLOWLIST)
		json_array_append_new(arr, json_string("everything not allowed"));
	if (p->block_private_networks && !p->allow_local_network_access &&
	    p->mode == NET_MODE_RESTRICTED) {
		json_array_append_new(arr, json_string("10.0.0.0/8"));
		json_array_append_new(arr, json_string("172.16.0.0/12"));
		json_array_append_new(arr, json_string("192.168.0.0/16"));
	}
	if (p->block_metadata_endpoint)
		json_array_append_new(arr, json_string("169.254.0.0/16"));
	for (size_t i = 0; p->mode == NET_MODE_RESTRICTED && i < net_n_special_ranges; i++) {
		char s[INET_ADDRSTRLEN + 4];

		ip4(net_special_ranges[i].addr, s);
		(void)snprintf(s + strlen(s), 4, "/%u", net_special_ranges[i].prefix);
		json_array_append_new(arr, json_string(s));
	}
	if (!p->allow_local_network_access) {
		json_array_append_new(arr, json_string("other containers"));
		json_array_append_new(arr, json_string("the host's own addresses"));
	}
	if (p->mode == NET_MODE_ALLOWLIST)
		json_array_append_new(arr, json_string("names not allowed"));
	json_array_append_new(arr, json_string("ipv6"));
	return arr;
}

json_t *net_policy_to_json(const struct net_policy *p)
{
	json_t *ports = json_array(), *dns = json_array();

	for (size_t i = 0; ports && i < p->allowed_ports.n; i++)
		json_array_append_new(ports, json_integer(p->allowed_ports.r[i].lo));
	for (size_t i = 0; dns && i < p->n_dns_servers; i++) {
		char s[INET_ADDRSTRLEN];

		json_array_append_new(dns, json_string(ip4(p->dns_servers[i], s)));
	}
	return json_pack("{s:s?, s:o*, s:o*, s:o*, s:o*, s:o*, s:b}", "mode",
	                 net_mode_to_string(p->mode), "blocked", blocked_json(p), "allowed",
	                 allowed_json(p), "allowed_ports", ports, "dns_servers", dns, "hosts",
	                 hosts_json(p), "ipv6_allowed", p->mode == NET_MODE_OPEN);
}
