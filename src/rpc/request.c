/*
 * request.c: the pre-decoding check of XML-RPC request bodies.
 */
#include <config.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <libxml/xmlreader.h>

#include "request.h"

typedef struct {
	char *msg;
	size_t msgsz;
	int seen;
} first_error;

/* Keep libxml2's first message (its own line and column) for the fault;
 * libxml2 would otherwise print every error to stderr. */
static void on_error(void *arg, xmlErrorPtr err)
{
	first_error *fe = arg;
	size_t n;

	if (fe->seen || !err || !err->message)
		return;
	fe->seen = 1;
	snprintf(fe->msg, fe->msgsz, "line %d: %s", err->line, err->message);
	n = strlen(fe->msg);
	while (n > 0 && (fe->msg[n - 1] == '\n' || fe->msg[n - 1] == ' '))
		fe->msg[--n] = '\0';
}

mkt_rpc_request_status mkt_rpc_request_check(const char *xml, size_t len, char *msg,
					     size_t msgsz)
{
	first_error fe = { msg, msgsz, 0 };
	mkt_rpc_request_status st = MKT_RPC_REQUEST_OK;
	xmlTextReaderPtr r;
	int rc;

	if (len > INT_MAX) {
		snprintf(msg, msgsz, "request body too large");
		return MKT_RPC_REQUEST_MALFORMED;
	}
	/* No NOENT: entities stay references (refused below); NONET: a body
	 * never makes marketd fetch anything. */
	r = xmlReaderForMemory(xml, (int)len, NULL, NULL,
			       XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!r) {
		snprintf(msg, msgsz, "cannot read the request (out of memory)");
		return MKT_RPC_REQUEST_MALFORMED;
	}
	xmlTextReaderSetStructuredErrorHandler(r, on_error, &fe);
	while ((rc = xmlTextReaderRead(r)) == 1) {
		int type = xmlTextReaderNodeType(r);

		if (type == XML_READER_TYPE_DOCUMENT_TYPE ||
		    type == XML_READER_TYPE_ENTITY_REFERENCE) {
			snprintf(msg, msgsz, "XML-RPC requests may not have a DOCTYPE or entities");
			st = MKT_RPC_REQUEST_DTD;
			break;
		}
		if (xmlTextReaderDepth(r) >= MKT_RPC_REQUEST_DEPTH_LIMIT) {
			snprintf(msg, msgsz, "XML-RPC request nests deeper than %d elements",
				 MKT_RPC_REQUEST_DEPTH_LIMIT);
			st = MKT_RPC_REQUEST_TOO_DEEP;
			break;
		}
	}
	if (st == MKT_RPC_REQUEST_OK && rc != 0) {
		if (!fe.seen)
			snprintf(msg, msgsz, "the request is not well-formed XML");
		st = MKT_RPC_REQUEST_MALFORMED;
	}
	xmlFreeTextReader(r);
	return st;
}
