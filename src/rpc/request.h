/*
 * request.h: what an XML-RPC request body must be before it is decoded.
 *
 * xmlrpc-c builds and frees a request's element tree recursively, so a
 * deeply nested body would exhaust a connection thread's stack, and it
 * expands a DTD's internal entities.  A body is therefore first read by
 * libxml2's streaming reader, which keeps its own element stack (no
 * recursion) and reports each element's real depth, whatever comments,
 * attributes or CDATA sections hold: no character counting can get that
 * right.
 */
#ifndef MKT_RPC_REQUEST_H
#define MKT_RPC_REQUEST_H

#include <stddef.h>

/* No API call nests more than a handful of levels (a struct in an array
 * in a param is 10); 64 leaves room and bounds any recursion after. */
#define MKT_RPC_REQUEST_DEPTH_LIMIT 64

typedef enum {
	MKT_RPC_REQUEST_OK = 0,
	MKT_RPC_REQUEST_MALFORMED,   /* not well-formed XML */
	MKT_RPC_REQUEST_TOO_DEEP,    /* nests deeper than the limit */
	MKT_RPC_REQUEST_DTD,         /* a DOCTYPE or an entity reference */
} mkt_rpc_request_status;

/* Check @len bytes of @xml.  On anything but OK, @msg (of @msgsz bytes)
 * says what is wrong, for the fault string. */
mkt_rpc_request_status mkt_rpc_request_check(const char *xml, size_t len, char *msg,
					     size_t msgsz);

#endif
