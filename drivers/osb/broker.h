/*
 * broker.h: one Open Service Broker, as the marketplace template names it,
 * and the HTTP calls made to it (OSB API v2.17; share/doc/drivers.md,
 * "Service actions").
 *
 * The marketplace attributes: BROKER_URL (the base URL; a trailing slash
 * or not gives the same URLs), BROKER_USERNAME and BROKER_PASSWORD (Basic
 * auth; required), API_VERSION (X-Broker-API-Version, default 2.17),
 * PLATFORM (default "marketd"), TIMEOUT (seconds for one request, default
 * 60).  Every call carries Basic auth, X-Broker-API-Version,
 * X-Broker-API-Request-Identity and, for an action a user caused,
 * X-Broker-API-Originating-Identity; a body is JSON.
 *
 * Secrets: BROKER_PASSWORD is handed to libcurl and never printed; the
 * broker's URL is only ever shown with any userinfo masked
 * (osb_broker_display()).
 */
#ifndef OSB_BROKER_H
#define OSB_BROKER_H

#include <jansson.h>

#include "driver.h"
#include "request.h"

typedef struct osb_broker osb_broker;

/*
 * The broker of the document's marketplace.  With @user_request, the
 * identity headers come from REQUEST/ID, REQUEST/UID and REQUEST/UNAME
 * (ID and UID required); without (monitor: marketd's own poll), the request
 * identity is a fresh GUID and no originating identity is sent.
 * MKT_DRV_OK, or MKT_DRV_EINPUT after an ERROR: line naming the missing
 * or bad attribute.
 */
int osb_broker_new(osb_broker **out, mkt_drv *d, int user_request);
void osb_broker_free(osb_broker *b);   /* accepts NULL */

/* BROKER_URL without its trailing slashes and with any user:password@
 * masked (mkt_util_url_mask()), for messages.  Borrowed from @b. */
const char *osb_broker_display(const osb_broker *b);

/* The value of PLATFORM (context.platform).  Borrowed from @b. */
const char *osb_broker_platform(const osb_broker *b);

/* What one call gave. */
typedef struct {
	mkt_drv_req_end end;       /* MKT_DRV_REQ_OK: a reply came, see status */
	long status;               /* 0 without a reply */
	json_t *json;              /* the body as a JSON object ({} for an empty body), or NULL */
	int malformed;             /* a body that is not a JSON object, or too large (the
				    * caller also sets it for a member of the wrong type) */
	const char *error;         /* an error reply's "error" code, or NULL (borrowed from json) */
	const char *description;   /* its "description", or NULL (likewise) */
	char *retry_after;         /* the Retry-After header, or NULL */
	char *reason;              /* for end != OK: libcurl's reason */
	char *body;                /* osb_broker_get_catalog(): a changed 200 body, unparsed */
	size_t body_len;
} osb_reply;

/*
 * @method @path (which starts with "/v2/" and holds its query, with values
 * escaped by osb_escape()) with @body (a JSON object, or NULL for none).
 * Always fills *out, to be freed with osb_reply_free(); returns 0 when a
 * reply came, -1 when none did (out->end says how).  Prints nothing.
 */
int osb_broker_call(osb_broker *b, const char *method, const char *path, json_t *body,
		    osb_reply *out);
void osb_reply_free(osb_reply *r);   /* accepts NULL */

/*
 * GET /v2/catalog as osb_broker_call(), except that a 200 body is first
 * given to mkt_drv_catalog_digest(@d, @scheme): when that says the
 * catalog is unchanged, *unchanged is 1; otherwise the body is left
 * unparsed in out->body (osb_catalog_convert_text()).  A reply of another
 * status is parsed as by osb_broker_call().
 */
int osb_broker_get_catalog(osb_broker *b, mkt_drv *d, const char *scheme, osb_reply *out,
			   int *unchanged);

/*
 * Print the one ERROR: line of a call that failed and return @code:
 * "broker <url>: <method> <path>: HTTP <status>: <error> <description>"
 * for a reply, "…: <reason>" without one; @extra (may be NULL) is
 * appended after "; ".
 */
int osb_broker_fail(const osb_broker *b, int code, const char *method, const char *path,
		    const osb_reply *r, const char *extra);

/* @s percent-encoded for a URL's query or path (RFC 3986 unreserved
 * characters kept).  Caller frees. */
char *osb_escape(const char *s);

#endif
