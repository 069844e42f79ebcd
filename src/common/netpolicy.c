/*
 * netpolicy.c: address lists for the fetches of users' URLs (see
 * netpolicy.h).
 */
#include <config.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "error.h"
#include "netpolicy.h"

/* One network: the first @bits bits of @addr.  IPv4 is kept as IPv4
 * (4 bytes), whether written as such or as an IPv4-mapped IPv6 address. */
typedef struct {
	int family;
	unsigned char addr[16];
	unsigned bits;
} network;

typedef struct {
	network *nets;
	size_t n;
} netlist;

struct mkt_netpolicy {
	char *what;
	netlist allowed;
	netlist denied;
};

static const unsigned char v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* @a as the network it is in the lists: an IPv4-mapped IPv6 address
 * becomes IPv4 (with @bits over its last 32 bits). */
static void network_set(network *out, int family, const void *a, unsigned bits)
{
	if (family == AF_INET6 && !memcmp(a, v4_mapped, sizeof(v4_mapped)) && bits >= 96) {
		out->family = AF_INET;
		memcpy(out->addr, (const unsigned char *)a + 12, 4);
		out->bits = bits - 96;
		return;
	}
	out->family = family;
	memcpy(out->addr, a, family == AF_INET ? 4 : 16);
	out->bits = bits;
}

static int network_contains(const network *net, const network *host)
{
	unsigned full = net->bits / 8, rest = net->bits % 8;

	if (net->family != host->family || memcmp(net->addr, host->addr, full))
		return 0;
	return !rest || !((net->addr[full] ^ host->addr[full]) & (0xff00 >> rest));
}

static void netlist_add(netlist *l, const network *net)
{
	l->nets = mkt_realloc(l->nets, (l->n + 1) * sizeof(*l->nets));
	l->nets[l->n++] = *net;
}

static int netlist_contains(const netlist *l, const network *host)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (network_contains(&l->nets[i], host))
			return 1;
	}
	return 0;
}

/* HOST: every address of the interfaces, as single-address networks. */
static int add_host(netlist *l)
{
	struct ifaddrs *all = NULL, *i;
	network net;

	if (getifaddrs(&all) < 0)
		return mkt_error_set_os(errno, "cannot list this host's addresses (HOST)");
	for (i = all; i; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			network_set(&net, AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 32);
		else if (i->ifa_addr->sa_family == AF_INET6)
			network_set(&net, AF_INET6, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 128);
		else
			continue;
		netlist_add(l, &net);
	}
	freeifaddrs(all);
	return 0;
}

/* One entry: "HOST", "a.b.c.d[/n]" or "x:y::z[/n]". */
static int parse_entry(netlist *l, const char *entry)
{
	char text[INET6_ADDRSTRLEN + 8];
	unsigned char a[16];
	char *slash, *end = NULL;
	long bits = -1;
	int family;
	network net;

	if (!strcasecmp(entry, "HOST"))
		return add_host(l);
	if (strlen(entry) >= sizeof(text))
		goto bad;
	strcpy(text, entry);
	if ((slash = strchr(text, '/'))) {
		*slash = '\0';
		errno = 0;
		bits = isdigit((unsigned char)slash[1]) ? strtol(slash + 1, &end, 10) : -1;
		if (bits < 0 || errno || *end)
			goto bad;
	}
	if (inet_pton(AF_INET, text, a) == 1)
		family = AF_INET;
	else if (inet_pton(AF_INET6, text, a) == 1)
		family = AF_INET6;
	else
		goto bad;
	if (bits < 0)
		bits = family == AF_INET ? 32 : 128;
	if (bits > (family == AF_INET ? 32 : 128))
		goto bad;
	network_set(&net, family, a, (unsigned)bits);
	netlist_add(l, &net);
	return 0;

 bad:
	return mkt_error_set(MKT_EINVAL, MKT_ERR_CONFIG,
			     "'%s' is not an IP address, a network (address/prefix length) or HOST",
			     entry);
}

static int parse_list(netlist *l, const char *name, const char *text)
{
	char *copy = mkt_strdup(text ? text : ""), *save = NULL, *tok;
	int ret = 0;

	for (tok = strtok_r(copy, ", \t\r\n", &save); tok; tok = strtok_r(NULL, ", \t\r\n", &save)) {
		if ((ret = parse_entry(l, tok)) < 0) {
			ret = mkt_error_set(ret, MKT_ERR_CONFIG, "%s: %s", name, mkt_error_message());
			break;
		}
	}
	free(copy);
	return ret;
}

int mkt_netpolicy_new(mkt_netpolicy **out, const char *what, const char *allowed,
		      const char *denied)
{
	mkt_netpolicy *p = mkt_calloc(1, sizeof(*p));
	int ret;

	p->what = mkt_strdup(what);
	if ((ret = parse_list(&p->allowed, "IMPORT_ALLOWED_NETWORKS", allowed)) < 0 ||
	    (ret = parse_list(&p->denied, "IMPORT_DENIED_NETWORKS", denied)) < 0)
		goto cleanup;
	*out = MKT_STEAL(p);

 cleanup:
	mkt_netpolicy_free(p);
	return ret;
}

void mkt_netpolicy_free(mkt_netpolicy *p)
{
	if (!p)
		return;
	free(p->allowed.nets);
	free(p->denied.nets);
	free(p->what);
	free(p);
}

int mkt_netpolicy_allows(const mkt_netpolicy *p, const struct sockaddr *sa, char *addr,
			 size_t addr_len)
{
	network host;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		network_set(&host, AF_INET, &in->sin_addr, 32);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		network_set(&host, AF_INET6, &in6->sin6_addr, 128);
	} else {
		snprintf(addr, addr_len, "of family %d", (int)sa->sa_family);
		return 0;
	}
	if (netlist_contains(&p->allowed, &host) || !netlist_contains(&p->denied, &host))
		return 1;
	if (!inet_ntop(host.family, host.addr, addr, (socklen_t)addr_len))
		snprintf(addr, addr_len, "?");
	return 0;
}

int mkt_netpolicy_refuse(const mkt_netpolicy *p, const char *url, const char *addr)
{
	return mkt_error_set(MKT_EPERM, MKT_ERR_OS,
			     "%s %s: address %s is not allowed for imports (IMPORT_DENIED_NETWORKS)",
			     p->what, url, addr);
}
