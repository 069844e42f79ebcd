/*
 * osb_catalog_fuzz.c: libFuzzer target for the osb driver's catalog
 * mapper (drivers/osb/catalog.h): a broker's GET /v2/catalog reply,
 * turned into one APP line per plan.
 *
 * As for the one driver: whatever a broker sends, the output must be
 * results that parse as a template, each APP a base64 template that
 * parses in turn.  And the body read one service at a time
 * (osb_catalog_convert_text) must give what the whole tree gives.
 */
#include <config.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "common/error.h"
#include "driver.h"
#include "fuzz_drv.h"
#include "osb/catalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	osb_catalog_stats stats = { 0, 0 }, text_stats = { 0, 0 };
	json_t *root = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	char *whole = NULL;
	size_t i;
	int ret = OSB_CATALOG_MALFORMED, text_ret;

	for (i = 0; i < size && isspace(data[i]); i++)
		;
	if (i == size) {
		json_decref(root);
		root = json_object();   /* an empty body counts as {} */
	}
	mkt_drv_results_reset();
	if (json_is_object(root) && (ret = osb_catalog_convert("the catalog", root, &stats)) == 0)
		fuzz_check_app_results();
	whole = strdup(mkt_drv_results());
	json_decref(root);
	mkt_drv_results_reset();
	text_ret = osb_catalog_convert_text("the catalog", (const char *)data, size, &text_stats);
	if (text_ret != ret || strcmp(whole, mkt_drv_results()) != 0 ||
	    (ret == 0 && (stats.apps != text_stats.apps || stats.skipped != text_stats.skipped))) {
		fprintf(stderr, "read whole: %d (%zu apps, %zu skipped), read a service at a time: "
			"%d (%zu apps, %zu skipped); results %s\n", ret, stats.apps, stats.skipped,
			text_ret, text_stats.apps, text_stats.skipped,
			strcmp(whole, mkt_drv_results()) ? "differ" : "equal");
		abort();
	}
	free(whole);
	mkt_drv_results_reset();
	mkt_error_clear();
	return 0;
}
