/*
 * wait.c: --wait: poll an app or image until marketd has filled it, a
 * service instance or binding until its broker's operation ended, or one
 * being deleted until it is gone.
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"

#include "client.h"

#include "doc.h"
#include "progress.h"
#include "wait.h"

static int stopped(const mkt_cli_class *cls, long long id)
{
	const char *work = cls->states->work ? cls->states->work : "the transfer";

	return mkt_error_set(MKT_CLI_EINTERRUPTED, MKT_ERR_OS,
			     "stopped waiting for %s %lld; marketd goes on with %s (follow it with 'marketctl %s show %lld')",
			     cls->label, id, work, cls->name, id);
}

/* A class that announces its states: "service instance 3: READY" on
 * stderr, once per state seen. */
static void announce(const mkt_cli_class *cls, long long id, xmlNodePtr obj,
		     long long state, long long *last)
{
	if (!cls->states->announce || state == *last)
		return;
	*last = state;
	fprintf(stderr, "%s %lld: %s\n", cls->label, id, mkt_object_state_name(cls, obj));
	fflush(stderr);
}

/* The reason an object records for its failure (malloc'ed), NULL when
 * none. */
static char *reason(const mkt_cli_class *cls, xmlNodePtr obj)
{
	char *why = mkt_doc_get(obj, cls->states->error_path ? cls->states->error_path :
				     "TEMPLATE/ERROR");

	if (why && !*why)
		MKT_FREE(why);
	return why;
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
	char *why = reason(cls, obj);
	int ret;

	ret = mkt_error_set(MKT_ERROR, MKT_ERR_CORE, "%s %lld is in state %s: %s", cls->label,
			    id, mkt_object_state_name(cls, obj),
			    why ? why : "marketd recorded no reason");
	free(why);
	return ret;
}

/* Ready again after an operation that failed without harm (an update):
 * 0 when there is no reason recorded. */
static int failed_ready(const mkt_cli_class *cls, long long id, xmlNodePtr obj)
{
	char *why = cls->states->ready_error ? reason(cls, obj) : NULL;
	int ret = 0;

	if (why)
		ret = mkt_error_set(MKT_ERROR, MKT_ERR_CORE,
				    "%s %lld is %s again, but its operation failed: %s",
				    cls->label, id, mkt_object_state_name(cls, obj), why);
	free(why);
	return ret;
}

/* The object is gone (after a delete): marketd answered NO_EXISTS. */
static int gone(mkt_cli *cli, const mkt_cli_class *cls, long long id, int ret)
{
	if (ret != MKT_CLIENT_EREPLY ||
	    mkt_client_last_code(cli->client) != MKT_CLIENT_NO_EXISTS)
		return ret;
	mkt_error_clear();
	if (cls->states->announce)
		fprintf(stderr, "%s %lld: deleted\n", cls->label, id);
	return 0;
}

/* mkt_wait_object (@deleting 0) and mkt_wait_gone (1): the states waited
 * through are the class's pending or removing ones. */
static int wait_for(mkt_cli *cli, const mkt_cli_class *cls, long long id, int deleting)
{
	const mkt_cli_states *st = cls->states;
	unsigned through = deleting ? st->removing : st->pending;
	mkt_progress *prog = mkt_progress_new(stderr, isatty(STDERR_FILENO));
	const volatile int *interrupted = mkt_progress_interrupted();
	xmlDocPtr doc = NULL;
	uint64_t done = 0, total = 0;
	long long last = -1;
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
			else if (deleting)
				ret = gone(cli, cls, id, ret);
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
		announce(cls, id, obj, state, &last);
		if (state == st->ready && !deleting) {
			finish(prog, obj, seen, done, total);
			ret = failed_ready(cls, id, obj);
			break;
		}
		if (state == st->error) {
			ret = failed(cls, id, obj);
			break;
		}
		if (state < 0 || state >= 32 || !(through & (1u << state))) {
			ret = mkt_error_set(MKT_ERROR, MKT_ERR_CORE,
					    "%s %lld is %s, not %s: stopped waiting", cls->label,
					    id, mkt_object_state_name(cls, obj),
					    deleting ? "being deleted" : st->names[st->ready]);
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

int mkt_wait_object(mkt_cli *cli, const mkt_cli_class *cls, long long id)
{
	return wait_for(cli, cls, id, 0);
}

int mkt_wait_gone(mkt_cli *cli, const mkt_cli_class *cls, long long id)
{
	return wait_for(cli, cls, id, 1);
}
