/*
 * wait.c: --wait: poll an app or image until marketd has filled it.
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/error.h"

#include "doc.h"
#include "progress.h"
#include "wait.h"

static int stopped(const mkt_cli_class *cls, long long id)
{
	return mkt_error_set(MKT_CLI_EINTERRUPTED, MKT_ERR_OS,
			     "stopped waiting for %s %lld; marketd goes on with the transfer (follow it with 'marketctl %s show %lld')",
			     cls->label, id, cls->name, id);
}

/* The wait ended in the ready state: the last line, 100% of what we saw
 * (or of SIZE, in MB, when the transfer was too quick to be seen). */
static void finish(mkt_progress *prog, xmlNodePtr obj, int seen, uint64_t done,
		   uint64_t total)
{
	long long mb = 0;

	if (!seen || total == 0) {
		if (mkt_doc_get_long(obj, "SIZE", &mb) == 0 && mb > 0)
			total = (uint64_t)mb << 20;
		else if (!seen)
			return;
	}
	mkt_progress_finish(prog, total ? total : done, total);
}

static int failed(const mkt_cli_class *cls, long long id, xmlNodePtr obj)
{
	char *why = mkt_doc_get(obj, "TEMPLATE/ERROR");
	int ret;

	ret = mkt_error_set(MKT_ERROR, MKT_ERR_CORE, "%s %lld is in state %s: %s", cls->label,
			    id, mkt_object_state_name(cls, obj),
			    why && *why ? why : "marketd recorded no reason");
	free(why);
	return ret;
}

int mkt_wait_object(mkt_cli *cli, const mkt_cli_class *cls, long long id)
{
	const mkt_cli_states *st = cls->states;
	mkt_progress *prog = mkt_progress_new(stderr, isatty(STDERR_FILENO));
	const volatile int *interrupted = mkt_progress_interrupted();
	xmlDocPtr doc = NULL;
	uint64_t done = 0, total = 0;
	int seen = 0;
	int ret;

	mkt_progress_arm_sigint();
	for (;;) {
		xmlNodePtr obj;
		long long state = -1;

		if (*interrupted) {
			ret = stopped(cls, id);
			break;
		}
		if ((ret = mkt_object_info(cli, cls, id, &doc, NULL)) < 0) {
			if (*interrupted)
				ret = stopped(cls, id);
			break;
		}
		obj = xmlDocGetRootElement(doc);
		if (mkt_progress_read(obj, &done, &total) == 0) {
			seen = 1;
			mkt_progress_update(prog, done, total);
		}
		if (mkt_doc_get_long(obj, "STATE", &state) < 0) {
			ret = mkt_error_set(MKT_ERROR, MKT_ERR_RPC,
					    "unexpected reply from marketd: %s %lld has no STATE",
					    cls->label, id);
			break;
		}
		if (state == st->ready) {
			finish(prog, obj, seen, done, total);
			ret = 0;
			break;
		}
		if (state == st->error) {
			ret = failed(cls, id, obj);
			break;
		}
		if (state < 0 || state >= 32 || !(st->pending & (1u << state))) {
			ret = mkt_error_set(MKT_ERROR, MKT_ERR_CORE,
					    "%s %lld is %s, not %s: stopped waiting", cls->label,
					    id, mkt_object_state_name(cls, obj),
					    st->names[st->ready]);
			break;
		}
		xmlFreeDoc(doc);
		doc = NULL;
		mkt_progress_sleep(MKT_WAIT_INTERVAL_MS);
	}
	if (ret < 0)
		mkt_progress_abort(prog);
	mkt_progress_disarm_sigint();
	mkt_progress_free(prog);
	if (doc)
		xmlFreeDoc(doc);
	return ret;
}
