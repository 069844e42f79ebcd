/*
 * netpolicy.h: which network addresses a fetch of a user's URL may
 * connect to (marketd.conf IMPORT_ALLOWED_NETWORKS, IMPORT_DENIED_NETWORKS).
 *
 * Without it, a URL given as an app's IMPORT_SOURCE or an image's PATH
 * makes marketd (or a driver) fetch whatever the marketd host can reach
 * and publish it: a service listening on the loopback only, the cloud's
 * metadata service at 169.254.169.254.  The policy is two lists of
 * networks; an address is refused when it is in the denied list and not
 * in the allowed one (the allowed list makes exceptions: DENIED
 * "0.0.0.0/0, ::/0" with ALLOWED "192.0.2.0/24" allows that network only).
 *
 * A list is networks separated by commas or blanks: an IPv4 or IPv6
 * address with an optional prefix length ("10.0.0.0/8", "::1",
 * "fe80::/10"), or the word HOST, every address of this host's network
 * interfaces at the time the policy is made.  IPv4-mapped IPv6 addresses
 * (::ffff:127.0.0.1) are matched as the IPv4 address they carry, in the
 * lists and when checking.
 *
 * The transfer module checks every address it connects to, after every
 * DNS answer and every redirect (mkt_transfer_opts.networks).
 */
#ifndef MKT_NETPOLICY_H
#define MKT_NETPOLICY_H

#include <stddef.h>
#include <sys/socket.h>

/* What a non-admin import may not reach unless allowed: the loopback,
 * "this network" (0.0.0.0 reaches the loopback on Linux), link-local
 * (169.254.169.254, the cloud metadata service), and this host. */
#define MKT_NETPOLICY_DEFAULT_DENIED \
	"127.0.0.0/8, ::1/128, ::/128, 0.0.0.0/8, 169.254.0.0/16, fe80::/10, HOST"

typedef struct mkt_netpolicy mkt_netpolicy;

/* Parse the two lists (NULL or "" is an empty list).  @what names the
 * attribute that gave the URL ("IMPORT_SOURCE", "PATH") in refusals.
 * MKT_EINVAL naming the entry that is not a network; MKT_ERROR when HOST
 * is asked and the interfaces cannot be listed. */
int mkt_netpolicy_new(mkt_netpolicy **out, const char *what, const char *allowed,
		      const char *denied);
void mkt_netpolicy_free(mkt_netpolicy *p);   /* accepts NULL */

/* Is @sa (AF_INET or AF_INET6; any other family is refused) allowed?
 * 1 when it is; 0 when refused, with the address as text in @addr (at
 * least INET6_ADDRSTRLEN bytes) for the message. */
int mkt_netpolicy_allows(const mkt_netpolicy *p, const struct sockaddr *sa, char *addr,
			 size_t addr_len);

/* The message of a refusal, set as the error (MKT_EPERM):
 * "<what> <url>: address <addr> is not allowed for imports
 * (IMPORT_DENIED_NETWORKS)", @url as messages show it (masked). */
int mkt_netpolicy_refuse(const mkt_netpolicy *p, const char *url, const char *addr);

#endif
