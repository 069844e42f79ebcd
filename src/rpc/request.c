/*
 * request.c: the pre-decoding check of XML-RPC request bodies.
 */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/xmlreader.h>

#include "common/buf.h"
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

/* What xmlrpc-c makes of an <i8>'s content without a fault of its own. */
static int is_i8(const char *s)
{
	char *end;

	if (!*s || isspace((unsigned char)*s))
		return 0;
	errno = 0;
	(void)strtoll(s, &end, 10);
	return errno == 0 && *end == '\0';
}

/* The <i8> (or <ex:i8>) element at the reader, and the character data
 * after it while no other element starts. */
typedef struct {
	int depth;          /* -1: not in an <i8> */
	mkt_buf text;
} i8_elem;

static void i8_start(i8_elem *e, xmlTextReaderPtr r)
{
	const char *name = (const char *)xmlTextReaderConstName(r);

	e->depth = -1;
	if (name && (!strcmp(name, "i8") || !strcmp(name, "ex:i8"))) {
		e->depth = xmlTextReaderDepth(r);
		mkt_buf_reset(&e->text);
		/* <i8/>: empty content, which xmlrpc-c refuses itself. */
		if (xmlTextReaderIsEmptyElement(r))
			e->depth = -1;
	}
}

mkt_rpc_request_status mkt_rpc_request_check(const char *xml, size_t len, char *msg,
					     size_t msgsz)
{
	first_error fe = { msg, msgsz, 0 };
	mkt_rpc_request_status st = MKT_RPC_REQUEST_OK;
	i8_elem i8 = { -1, MKT_BUF_INIT };
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
		/* xmlrpc-c 1.33 crashes formatting the fault of an <i8> whose
		 * content strtoll() refuses (a missing printf argument in its
		 * parseI8): such a body never reaches it.  An <i8> holding an
		 * element is a fault xmlrpc-c reports itself. */
		switch (type) {
		case XML_READER_TYPE_ELEMENT:
			i8_start(&i8, r);
			break;
		case XML_READER_TYPE_TEXT:
		case XML_READER_TYPE_CDATA:
		case XML_READER_TYPE_WHITESPACE:
		case XML_READER_TYPE_SIGNIFICANT_WHITESPACE:
			if (i8.depth >= 0)
				mkt_buf_add(&i8.text, (const char *)xmlTextReaderConstValue(r));
			break;
		case XML_READER_TYPE_END_ELEMENT:
			if (i8.depth >= 0 && xmlTextReaderDepth(r) == i8.depth &&
			    !is_i8(mkt_buf_cstr(&i8.text))) {
				snprintf(msg, msgsz, "an <i8> element holds something else than "
					 "a 64-bit integer");
				st = MKT_RPC_REQUEST_MALFORMED;
			}
			i8.depth = -1;
			break;
		}
		if (st != MKT_RPC_REQUEST_OK)
			break;
	}
	if (st == MKT_RPC_REQUEST_OK && rc != 0) {
		if (!fe.seen)
			snprintf(msg, msgsz, "the request is not well-formed XML");
		st = MKT_RPC_REQUEST_MALFORMED;
	}
	xmlFreeTextReader(r);
	mkt_buf_free(&i8.text);
	return st;
}
