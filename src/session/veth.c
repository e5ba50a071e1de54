/* SPDX-License-Identifier: MIT */
/* veth.c: see veth.h. One rtnetlink socket per call; a dump is read to its end (bounded by the
 * kernel's own list), every reply is checked against our sequence number. */
#include "session/veth.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/strv.h"

#define REQ_MAX 1024 /* one request: a header, an ifinfomsg, a name */

DEFINE_CLEANUP(struct mnl_socket *, mnl_socket_close)

void veth_name(char *buf, size_t size, const char *hash, int slot)
{
	(void)snprintf(buf, size, VETH_PREFIX "%.8s%d", hash, slot);
}

int veth_parse_name(const char *ifname, char ret_hash[WORKSPACE_HASH_LEN + 1])
{
	const char *h, *slot;
	size_t n;

	if (!ifname || strncmp(ifname, VETH_PREFIX, strlen(VETH_PREFIX)) != 0)
		return 0;
	h = ifname + strlen(VETH_PREFIX);
	if (strspn(h, "0123456789abcdef") < WORKSPACE_HASH_LEN)
		return 0;
	slot = h + WORKSPACE_HASH_LEN;
	n = strlen(slot);
	if (n < 1 || n > 3 || strspn(slot, "0123456789") != n || slot[0] == '0')
		return 0;
	if (ret_hash) {
		memcpy(ret_hash, h, WORKSPACE_HASH_LEN);
		ret_hash[WORKSPACE_HASH_LEN] = '\0';
	}
	return atoi(slot);
}

static int rtnl_open(struct mnl_socket **ret, struct coi_error *err)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);

	if (!nl)
		return coi_error_errno(err, errno, "cannot open a netlink socket");
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;

		mnl_socket_close(nl);
		return coi_error_errno(err, e, "cannot bind a netlink socket");
	}
	*ret = nl;
	return 0;
}

/* Send nlh and read the answers into cb until the end of a dump or the ACK. */
static int rtnl_talk(struct mnl_socket *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	_cleanup_free_ char *buf = malloc(MNL_SOCKET_BUFFER_SIZE);
	unsigned int portid = mnl_socket_get_portid(nl);
	uint32_t seq = nlh->nlmsg_seq;
	ssize_t n;
	int r;

	if (!buf)
		return -ENOMEM;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(nl, buf, MNL_SOCKET_BUFFER_SIZE);
		if (n < 0)
			return -errno;
		r = mnl_cb_run(buf, (size_t)n, seq, portid, cb, data);
	} while (r > MNL_CB_STOP);
	return r < 0 ? -errno : 0;
}

struct leaked {
	char **names;
	int r;
};

static int link_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, IFLA_MAX) >= 0)
		tb[type] = a;
	return MNL_CB_OK;
}

static int info_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(a, IFLA_INFO_MAX) >= 0)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

static int on_link(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[IFLA_MAX + 1] = {0}, *info[IFLA_INFO_MAX + 1] = {0};
	struct leaked *l = data;
	const char *name;

	if (mnl_attr_parse(nlh, sizeof(struct ifinfomsg), link_attr, tb) < 0 || !tb[IFLA_IFNAME] ||
	    !tb[IFLA_LINKINFO])
		return MNL_CB_OK;
	name = mnl_attr_get_str(tb[IFLA_IFNAME]);
	if (!veth_parse_name(name, NULL))
		return MNL_CB_OK;
	if (mnl_attr_parse_nested(tb[IFLA_LINKINFO], info_attr, info) < 0 ||
	    !info[IFLA_INFO_KIND] || strcmp(mnl_attr_get_str(info[IFLA_INFO_KIND]), "veth") != 0)
		return MNL_CB_OK;
	/* the peer lives in another namespace (a container's): in use */
	if (tb[IFLA_LINK_NETNSID])
		return MNL_CB_OK;
	if (strv_push(&l->names, name) < 0) {
		l->r = -ENOMEM;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

/* A link request of type (RTM_GETLINK, ...) in buf (REQ_MAX bytes), for every family. */
static struct nlmsghdr *link_request(char *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = (uint32_t)time(NULL);
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	return nlh;
}

int veth_list_leaked(char ***ret, struct coi_error *err)
{
	_cleanup_(mnl_socket_closep) struct mnl_socket *nl = NULL;
	char buf[REQ_MAX];
	struct leaked l = {0};
	struct nlmsghdr *nlh;
	int r;

	r = rtnl_open(&nl, err);
	if (r < 0)
		return r;
	nlh = link_request(buf, RTM_GETLINK, NLM_F_DUMP);
	r = rtnl_talk(nl, nlh, on_link, &l);
	if (r < 0 || l.r < 0) {
		strv_free(l.names);
		return l.r < 0 ? coi_error_oom(err)
		               : coi_error_errno(err, r, "cannot list the host's interfaces");
	}
	if (!l.names && !(l.names = calloc(1, sizeof(char *))))
		return coi_error_oom(err);
	*ret = l.names;
	return 0;
}

int veth_delete(const char *name, struct coi_error *err)
{
	_cleanup_(mnl_socket_closep) struct mnl_socket *nl = NULL;
	char buf[REQ_MAX];
	struct nlmsghdr *nlh;
	int r;

	if (!veth_parse_name(name, NULL))
		return coi_error_set(err, -EINVAL, "'%s' is not a name coi gives", name);
	r = rtnl_open(&nl, err);
	if (r < 0)
		return r;
	nlh = link_request(buf, RTM_DELLINK, NLM_F_ACK);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	r = rtnl_talk(nl, nlh, NULL, NULL);
	if (r == -ENODEV)
		return coi_error_set(err, r, "the interface '%s' is gone already", name);
	if (r < 0)
		return coi_error_errno(err, r, "cannot delete the interface '%s'", name);
	return 0;
}
