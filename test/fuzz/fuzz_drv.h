/*
 * fuzz_drv.h: what the driver mapper targets check of their output.
 */
#ifndef MKT_FUZZ_DRV_H
#define MKT_FUZZ_DRV_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/template.h"
#include "driver.h"

/* The results collected so far must be what marketd reads: a template
 * whose every attribute is APP="<base64 of a template>". */
static void fuzz_check_app_results(void)
{
	mkt_template *result = NULL, *app = NULL;
	size_t i;

	if (mkt_template_parse(&result, mkt_drv_results()) < 0) {
		fprintf(stderr, "the results do not parse: %s\n--\n%s--\n", mkt_error_message(),
			mkt_drv_results());
		abort();
	}
	for (i = 0; i < mkt_template_size(result); i++) {
		const mkt_tattr *a = mkt_template_at(result, i);

		if (strcmp(mkt_tattr_name(a), "APP") != 0 || mkt_tattr_is_vector(a) ||
		    mkt_template_parse_base64(&app, mkt_tattr_value(a)) < 0) {
			fprintf(stderr, "result %zu is not an APP template: %s\n--\n%s--\n", i,
				mkt_error_message(), mkt_drv_results());
			abort();
		}
		mkt_template_free(app);
	}
	mkt_template_free(result);
}

#endif
