/*
 * one_catalog_fuzz.c: libFuzzer target for the one driver's catalog
 * mapper (drivers/one/catalog.h): the JSON a marketplace server sends,
 * turned into APP lines.
 *
 * Whatever the catalog holds, the output must be what marketd reads:
 * results that parse as a template, each APP a base64 template that
 * parses in turn (one_catalog_test.c, for any input).
 */
#include <config.h>

#include <stdint.h>

#include "common/error.h"
#include "driver.h"
#include "fuzz_drv.h"
#include "one/catalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one_catalog_stats stats;

	mkt_drv_results_reset();
	if (one_catalog_convert("http://market.example/", "the catalog", (const char *)data, size,
				&stats) == 0)
		fuzz_check_app_results();
	mkt_drv_results_reset();
	mkt_error_clear();
	return 0;
}
