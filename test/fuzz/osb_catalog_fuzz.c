/*
 * osb_catalog_fuzz.c: libFuzzer target for the osb driver's catalog
 * mapper (drivers/osb/catalog.h): a broker's GET /v2/catalog reply,
 * turned into one APP line per plan.
 *
 * As for the one driver: whatever a broker sends, the output must be
 * results that parse as a template, each APP a base64 template that
 * parses in turn.
 */
#include <config.h>

#include <stdint.h>
#include <jansson.h>

#include "common/error.h"
#include "driver.h"
#include "fuzz_drv.h"
#include "osb/catalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	osb_catalog_stats stats;
	json_t *root = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);

	mkt_drv_results_reset();
	if (root && osb_catalog_convert("the catalog", root, &stats) == 0)
		fuzz_check_app_results();
	json_decref(root);
	mkt_drv_results_reset();
	mkt_error_clear();
	return 0;
}
