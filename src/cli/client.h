/*
 * client.h: marketctl's XML-RPC client for marketd's one.* API.
 *
 * The client finds its endpoint and credentials the way OpenNebula's
 * clients do, sends the session string "user:password" as the first
 * parameter of every call and decodes oned-style replies:
 * [true, value, 0] on success, [false, message, code, ...] on failure.
 * Nothing touches the network or the credentials file until the first
 * call, so usage errors and --help never need either.
 */
#ifndef MKT_CLIENT_H
#define MKT_CLIENT_H

#include <xmlrpc-c/base.h>

/* Status of a call that marketd answered with [false, message, code]:
 * the message is the server's, to be printed as it is. */
#define MKT_CLIENT_EREPLY (-65)

#define MKT_CLIENT_DEFAULT_ENDPOINT "http://localhost:2633/RPC2"

typedef struct mkt_client mkt_client;

/*
 * A client for @endpoint (NULL: $ONE_XMLRPC, else the default) with the
 * credentials @user and @password (both NULL: the file named by $ONE_AUTH,
 * else ~/.one/one_auth).  The strings are copied.
 */
mkt_client *mkt_client_new(const char *endpoint, const char *user,
			   const char *password);
void mkt_client_free(mkt_client *c);   /* accepts NULL */

/* The endpoint URL in use (borrowed from @c). */
const char *mkt_client_endpoint(const mkt_client *c);

/* The error code of the last call that marketd answered [false, message,
 * code] (oned's: 0x400 NO_EXISTS, ...); 0 after any other outcome. */
#define MKT_CLIENT_NO_EXISTS 0x400
int mkt_client_last_code(const mkt_client *c);

/*
 * Call @method with the session followed by the parameters built from
 * @fmt, an xmlrpc_build_value() format for the parameters after the
 * session (e.g. "is" for an int and a string; "" for none).
 *
 * Returns 0 and the reply's value in *out (the caller decrefs it), or:
 *   MKT_CLIENT_EREPLY  marketd answered [false, message, code]
 *   MKT_ERROR          connection failure, XML-RPC fault, malformed reply,
 *                      unreadable credentials
 * with the message recorded by mkt_error_set().
 */
int mkt_client_call(mkt_client *c, xmlrpc_value **out, const char *method,
		    const char *fmt, ...);

/* The same for a call whose value is an int or i8 (an object id). */
int mkt_client_call_id(mkt_client *c, long long *out, const char *method,
		       const char *fmt, ...);

/* The same for a call whose value is a string (an XML document); *out is
 * malloc'ed and NUL terminated. */
int mkt_client_call_string(mkt_client *c, char **out, const char *method,
			   const char *fmt, ...);

/*
 * Read the session string "user:password" from @path: the content with
 * trailing whitespace stripped.  Fails with a message naming the path when
 * the file cannot be read or holds no "user:password".  Exposed for tests.
 */
int mkt_client_read_auth(char **out, const char *path);

#endif
