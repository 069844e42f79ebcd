/*
 * object_fuzz.c: libFuzzer target for the object XML loaders: every
 * class's parse (market, app, image, datastore, VM template, document,
 * service instance, service binding), and the users' and groups' loaders
 * (behind one.user.info and one.group.info, through an in-memory store).
 *
 * Stored bodies are marketd's own, but a corrupt or hand-edited database
 * must give an error, never a crash or a leak; and what a class accepts,
 * it must format and load back to the same XML (object_test.c's fixed
 * point), or objects would drift each time they are saved.
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/log.h"
#include "common/xml.h"
#include "core/core.h"
#include "core/datastore.h"
#include "core/image.h"
#include "core/object.h"
#include "core/service.h"
#include "core/user.h"
#include "core/vmtemplate.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const mkt_class *const classes[] = {
	&mkt_market_class, &mkt_app_class, &mkt_image_class, &mkt_datastore_class,
	&mkt_vmtemplate_class, &mkt_document_class, &mkt_instance_class, &mkt_binding_class,
};

enum { USER_ID = 5, GROUP_ID = 7 };

static mkt_core *core;

static void check_fixed_point(const mkt_class *cls, const mkt_object *obj)
{
	mkt_buf first = MKT_BUF_INIT, second = MKT_BUF_INIT;
	mkt_object *back = NULL;
	xmlDocPtr doc = NULL;

	cls->format(NULL, obj, MKT_FORMAT_STORE, &first);
	if (mkt_xml_parse(&doc, first.ptr, first.len) < 0 ||
	    cls->parse(&back, xmlDocGetRootElement(doc)) < 0) {
		fprintf(stderr, "%s: formatted XML does not load: %s\n--\n%s\n--\n",
			cls->xml_name, mkt_error_message(), mkt_buf_cstr(&first));
		abort();
	}
	cls->format(NULL, back, MKT_FORMAT_STORE, &second);
	if (strcmp(mkt_buf_cstr(&first), mkt_buf_cstr(&second)) != 0) {
		fprintf(stderr, "%s: load(format(x)) formats differently:\n--\n%s\n--\n%s\n--\n",
			cls->xml_name, mkt_buf_cstr(&first), mkt_buf_cstr(&second));
		abort();
	}
	mkt_object_free(cls, back);
	xmlFreeDoc(doc);
	mkt_buf_free(&first);
	mkt_buf_free(&second);
}

static void write_row(mkt_table t, int oid, const char *body, mkt_store_op op)
{
	mkt_store_row row = { .oid = oid, .name = oid ? "fuzz" : "oneadmin", .uid = 0, .gid = 0,
			      .parent = -1, .body = body };

	if (mkt_store_write(core->store, t, op, &row) < 0) {
		fprintf(stderr, "store write: %s\n", mkt_error_message());
		abort();
	}
}

static void init(void)
{
	static mkt_config conf;
	mkt_store *store = NULL;
	/* The store's page size (store_sqlite.c): a smaller slot would not
	 * be used at all. */
	enum { PAGE = 16384, SLOTS = 288 };
	static char pages[SLOTS * (PAGE + 512)];
	int hdr = 0;

	/* Database pages from a buffer of their own, not from malloc: the
	 * in-memory database grows and shrinks as the log is trimmed, and
	 * libFuzzer would take each run that ends with more pages than it
	 * started for a possible leak and scan the heap (20 times slower). */
	if (sqlite3_config(SQLITE_CONFIG_PCACHE_HDRSZ, &hdr) != SQLITE_OK || hdr > 512 ||
	    sqlite3_config(SQLITE_CONFIG_PAGECACHE, pages, PAGE + hdr,
			   (int)(sizeof(pages) / (PAGE + hdr))) != SQLITE_OK) {
		fprintf(stderr, "cannot give sqlite its page cache\n");
		abort();
	}
	mkt_log_open(MKT_LOG_STD, NULL, MKT_LOG_ERROR);
	if (mkt_store_open(&store, "sqlite", ":memory:") < 0 ||
	    mkt_core_new(&core, &conf, store) < 0) {
		fprintf(stderr, "cannot set up the store: %s\n", mkt_error_message());
		abort();
	}
	/* Every write is logged for federation; without the daemon's retention
	 * the log would grow each run, and the fuzzer slow down with it. */
	mkt_store_set_log_retention(store, 16);
	/* Group 0, for a user's GNAME; the fuzzed rows, rewritten each run. */
	write_row(MKT_TABLE_GROUP, 0, "<GROUP><ID>0</ID><NAME>oneadmin</NAME><TEMPLATE/></GROUP>",
		  MKT_STORE_INSERT);
	write_row(MKT_TABLE_GROUP, GROUP_ID, "<GROUP/>", MKT_STORE_INSERT);
	write_row(MKT_TABLE_USER, USER_ID, "<USER/>", MKT_STORE_INSERT);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mkt_principal admin = { .uid = 0, .gid = 0, .admin = 1 };
	char *text = mkt_malloc(size + 1);
	xmlDocPtr doc = NULL;
	char *xml = NULL;
	size_t i;

	if (!core)
		init();
	memcpy(text, data, size);
	text[size] = '\0';
	if (mkt_xml_parse(&doc, text, size) == 0) {
		for (i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
			mkt_object *obj = NULL;

			if (classes[i]->parse(&obj, xmlDocGetRootElement(doc)) == 0)
				check_fixed_point(classes[i], obj);
			mkt_object_free(classes[i], obj);
		}
		xmlFreeDoc(doc);
	}

	/* The stores keep text: bodies end at a NUL. */
	write_row(MKT_TABLE_USER, USER_ID, text, MKT_STORE_UPDATE);
	if (mkt_user_info(core, &admin, USER_ID, &xml) == 0)
		free(xml);
	xml = NULL;
	write_row(MKT_TABLE_GROUP, GROUP_ID, text, MKT_STORE_UPDATE);
	if (mkt_group_info(core, &admin, GROUP_ID, &xml) == 0)
		free(xml);
	mkt_error_clear();
	free(text);
	return 0;
}
