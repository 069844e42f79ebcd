/*
 * one.c: the one market driver, the OpenNebula public marketplace.
 *
 * A read-only catalog of appliances served at ENDPOINT (a market template
 * attribute; default https://marketplace.opennebula.io/):
 *
 *   monitor  GET <ENDPOINT>/appliance and print one APP line per
 *            appliance (catalog.h); no TOTAL_MB/FREE_MB/USED_MB, a public
 *            catalog has no capacity
 *   export   download an image app's SOURCE into EXPORT_TARGET, unpacked
 *            and checked against its MD5 (the helper library's export,
 *            the http driver's too)
 *   import, delete   refused: nobody uploads to or deletes from the
 *            public catalog
 *
 * One binary serves every action; drivers/one/{import,export,delete,
 * monitor} are links to it.  The protocol is in share/doc/drivers.md.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "catalog.h"
#include "driver.h"
#include "fetch.h"

#define DEFAULT_ENDPOINT "https://marketplace.opennebula.io/"
#define USER_AGENT "marketd/" PACKAGE_VERSION " (Market Driver)"
/* The catalog mapping (mkt_drv_catalog_digest): change it with catalog.c's output. */
#define CATALOG_SCHEME "one catalog 1"
/* The real catalog is a few MB; this only stops a runaway server. */
#define MAX_CATALOG ((size_t)256 << 20)
#define CONNECT_TIMEOUT 30L
/* Below marketd's default MONITOR_TIMEOUT (600 s), so a slow server
 * fails with its own message rather than "timed out". */
#define TOTAL_TIMEOUT 300L

/* An http(s) URL; schemes are matched case-insensitively, as in URLs. */
static int is_http_url(const char *s)
{
	return !strncasecmp(s, "http://", 7) || !strncasecmp(s, "https://", 8);
}

/*
 * The endpoint with exactly one trailing '/', which every URL is built on
 * ("<url>appliance"): ENDPOINT with or without its slash gives the same
 * URLs (OpenNebula issue 4765: a double slash).  Caller frees *out.
 */
static int one_endpoint(mkt_drv *d, char **out)
{
	const char *endpoint = mkt_drv_get(d, "MARKETPLACE/TEMPLATE/ENDPOINT");
	size_t len;

	if (!endpoint || !*endpoint)
		endpoint = DEFAULT_ENDPOINT;
	if (!is_http_url(endpoint))
		return mkt_drv_fail(MKT_DRV_EINPUT, "ENDPOINT \"%s\" is not an http:// or https:// URL",
				    endpoint);
	len = strlen(endpoint);
	while (len > 0 && endpoint[len - 1] == '/')
		len--;
	*out = mkt_asprintf("%.*s/", (int)len, endpoint);
	return MKT_DRV_OK;
}

static int one_monitor(mkt_drv *d)
{
	one_fetch_opts opts = { USER_AGENT, CONNECT_TIMEOUT, TOTAL_TIMEOUT, MAX_CATALOG };
	one_catalog_stats stats;
	char *url = NULL, *catalog = NULL, *body = NULL, *scheme = NULL;
	size_t len = 0;
	int ret;

	if ((ret = one_endpoint(d, &url)) != 0)
		goto cleanup;
	catalog = mkt_asprintf("%sappliance", url);
	if ((ret = one_fetch(catalog, &opts, &body, &len)) != 0)
		goto cleanup;
	/* The entries' URLs are built on the endpoint: it is part of the
	 * mapping. */
	scheme = mkt_asprintf("%s %s", CATALOG_SCHEME, url);
	if (mkt_drv_catalog_digest(d, scheme, body, len)) {
		mkt_drv_log(MKT_LOG_INFO, "%s is unchanged since the last pass", catalog);
		goto cleanup;
	}
	if ((ret = one_catalog_convert(url, catalog, body, len, &stats)) != 0)
		goto cleanup;
	mkt_drv_log(MKT_LOG_INFO, "%zu apps from %s (%zu appliances skipped)",
		    stats.apps, catalog, stats.skipped);

 cleanup:
	free(scheme);
	free(body);
	free(catalog);
	free(url);
	return ret;
}

static int one_export(mkt_drv *d)
{
	mkt_transfer_opts opts = { 0 };
	const char *source = NULL;
	int ret;

	/* Only what this driver's monitor made: the app's SOURCE is the
	 * catalog's download URL, never a local path. */
	if ((ret = mkt_drv_require(d, "MARKETPLACEAPP/SOURCE", &source)) != 0)
		return ret;
	if (!is_http_url(source))
		return mkt_drv_fail(MKT_DRV_EINPUT,
				    "SOURCE \"%s\" is not an http:// or https:// URL of the catalog",
				    source);
	opts.source = source;
	return mkt_drv_export(d, &opts, USER_AGENT);
}

/* Import and delete: the protocol's "not supported" (3), with a message
 * that says why rather than the library's generic one. */
static int one_read_only(mkt_drv *d)
{
	const char *id = mkt_drv_id(d);

	return mkt_drv_fail(MKT_DRV_ENOTSUP,
			    "the one marketplace is read-only: cannot %s app %s",
			    mkt_drv_action_name(d), id ? id : "(no id)");
}

static const mkt_drv_action one_actions[] = {
	{ "import", one_read_only },
	{ "export", one_export },
	{ "delete", one_read_only },
	{ "monitor", one_monitor },
	{ NULL, NULL }
};

int main(int argc, char **argv)
{
	return mkt_drv_main(argc, argv, one_actions);
}
