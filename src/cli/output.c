/*
 * output.c: tables, INFORMATION blocks, --json and --xml output.
 */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <libxml/tree.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/template.h"

#include "doc.h"
#include "output.h"

struct mkt_output_table {
	const mkt_output_column *cols;
	size_t ncols;
	char **cells;               /* row-major, ncells of them */
	size_t ncells;
	size_t cap;
};

mkt_output_table *mkt_output_table_new(const mkt_output_column *cols,
				       size_t ncols)
{
	mkt_output_table *t = mkt_calloc(1, sizeof(*t));

	t->cols = cols;
	t->ncols = ncols;
	return t;
}

void mkt_output_table_free(mkt_output_table *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

void mkt_output_table_cell_take(mkt_output_table *t, char *text)
{
	if (!text || !*text) {
		free(text);
		text = mkt_strdup("-");
	}
	if (t->ncells == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->cells = mkt_realloc(t->cells, t->cap * sizeof(*t->cells));
	}
	t->cells[t->ncells++] = text;
}

void mkt_output_table_cell(mkt_output_table *t, const char *text)
{
	mkt_output_table_cell_take(t, mkt_strdup(text ? text : ""));
}

void mkt_output_table_cellf(mkt_output_table *t, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	mkt_output_table_cell_take(t, s);
}

/* Display width: UTF-8 code points (continuation bytes do not count). */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			w++;
	return w;
}

/* Newlines or tabs in a cell would break the table; print them as blanks. */
static void put_cell(FILE *fp, const char *s)
{
	for (; *s; s++)
		fputc(*s == '\n' || *s == '\t' || *s == '\r' ? ' ' : *s, fp);
}

void mkt_output_table_print(const mkt_output_table *t, FILE *fp)
{
	size_t *w = mkt_calloc(t->ncols, sizeof(*w));
	size_t i, c, nrows = t->ncells / t->ncols;

	for (c = 0; c < t->ncols; c++)
		w[c] = width(t->cols[c].header);
	for (i = 0; i < nrows * t->ncols; i++) {
		size_t cw = width(t->cells[i]);

		if (cw > w[i % t->ncols])
			w[i % t->ncols] = cw;
	}

	for (i = 0; i <= nrows; i++) {
		for (c = 0; c < t->ncols; c++) {
			const char *s = i == 0 ? t->cols[c].header :
					t->cells[(i - 1) * t->ncols + c];
			size_t pad = w[c] - width(s);
			int last = c + 1 == t->ncols;

			if (c > 0)
				fputc(' ', fp);
			if (t->cols[c].right)
				fprintf(fp, "%*s", (int)pad, "");
			put_cell(fp, s);
			if (!t->cols[c].right && !last)
				fprintf(fp, "%*s", (int)pad, "");
		}
		fputc('\n', fp);
	}
	free(w);
}

char *mkt_output_size_mb(long long mb)
{
	static const char *const units[] = { "M", "G", "T", "P", "E" };
	double v = (double)mb;
	size_t u = 0;
	char *s;
	size_t len;

	if (mb < 0)
		return mkt_strdup("-");
	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	s = mkt_asprintf("%.1f", v);
	len = strlen(s);
	if (len > 2 && strcmp(s + len - 2, ".0") == 0)
		s[len - 2] = '\0';
	s = mkt_realloc(s, strlen(s) + 2);
	strcat(s, units[u]);
	return s;
}

char *mkt_output_size_at(xmlNodePtr node, const char *path)
{
	long long mb;

	if (mkt_doc_get_long(node, path, &mb) < 0)
		return mkt_strdup("-");
	return mkt_output_size_mb(mb);
}

char *mkt_output_avail(xmlNodePtr node)
{
	long long total = 0, free_mb = 0;

	if (mkt_doc_get_long(node, "TOTAL_MB", &total) < 0 || total <= 0)
		return mkt_strdup("-");
	if (mkt_doc_get_long(node, "FREE_MB", &free_mb) < 0)
		free_mb = 0;
	return mkt_asprintf("%.0f%%", (double)free_mb * 100.0 / (double)total);
}

const char *mkt_output_yes_no(xmlNodePtr node, const char *path)
{
	long long v;

	if (mkt_doc_get_long(node, path, &v) < 0)
		return "-";
	return v ? "Yes" : "No";
}

const char *mkt_output_enum(xmlNodePtr node, const char *path,
			    const char *const *names, size_t n)
{
	long long v;

	if (mkt_doc_get_long(node, path, &v) < 0 || v < 0 || (size_t)v >= n)
		return "-";
	return names[v];
}

char *mkt_output_time(long long epoch, int with_time)
{
	time_t tt = (time_t)epoch;
	struct tm tm;

	if (epoch < 0 || !localtime_r(&tt, &tm))
		return mkt_strdup("-");
	/* OpenNebula's %m/%d/%y (and "%m/%d/%y %H:%M:%S"), spelled out since
	 * strftime's two-digit year trips -Wformat-y2k. */
	if (with_time)
		return mkt_asprintf("%02d/%02d/%02d %02d:%02d:%02d", tm.tm_mon + 1,
				    tm.tm_mday, tm.tm_year % 100, tm.tm_hour,
				    tm.tm_min, tm.tm_sec);
	return mkt_asprintf("%02d/%02d/%02d", tm.tm_mon + 1, tm.tm_mday,
			    tm.tm_year % 100);
}

char *mkt_output_time_at(xmlNodePtr node, const char *path, int with_time)
{
	long long t;

	if (mkt_doc_get_long(node, path, &t) < 0)
		return mkt_strdup("-");
	return mkt_output_time(t, with_time);
}

void mkt_output_kv(FILE *fp, const char *key, const char *value)
{
	fprintf(fp, "%-15s: %s\n", key, value ? value : "");
}

void mkt_output_kv_take(FILE *fp, const char *key, char *value)
{
	mkt_output_kv(fp, key, value);
	free(value);
}

void mkt_output_section(FILE *fp, const char *title)
{
	fprintf(fp, "\n%s\n", title);
}

void mkt_output_permissions(FILE *fp, xmlNodePtr obj)
{
	static const struct {
		const char *label;
		const char *prefix;
	} who[] = {
		{ "OWNER", "OWNER" }, { "GROUP", "GROUP" }, { "OTHER", "OTHER" },
	};
	static const struct {
		const char *suffix;
		char letter;
	} bits[] = {
		{ "_U", 'u' }, { "_M", 'm' }, { "_A", 'a' },
	};
	xmlNodePtr perms = mkt_doc_find(obj, "PERMISSIONS");
	size_t i, j;

	mkt_output_section(fp, "PERMISSIONS");
	for (i = 0; i < sizeof(who) / sizeof(who[0]); i++) {
		char mode[4] = "---";

		for (j = 0; j < sizeof(bits) / sizeof(bits[0]); j++) {
			char name[16];
			long long v = 0;

			snprintf(name, sizeof(name), "%s%s", who[i].prefix, bits[j].suffix);
			if (mkt_doc_get_long(perms, name, &v) == 0 && v == 1)
				mode[j] = bits[j].letter;
		}
		mkt_output_kv(fp, who[i].label, mode);
	}
}

int mkt_output_template(FILE *fp, const char *title, xmlNodePtr tmpl)
{
	mkt_template *t = NULL;
	mkt_buf b = MKT_BUF_INIT;
	int ret = 0;

	if (title)
		mkt_output_section(fp, title);
	if (!tmpl)
		goto cleanup;
	if (mkt_template_parse_xml_node(&t, tmpl) < 0) {
		char *why = mkt_strdup(mkt_error_message());

		ret = mkt_error_set(MKT_ERROR, MKT_ERR_XML,
				    "unexpected reply from marketd: cannot read <%s>: %s",
				    mkt_doc_name(tmpl), why);
		free(why);
		goto cleanup;
	}
	mkt_template_format_text(t, &b);
	fputs(mkt_buf_cstr(&b), fp);
	if (b.len > 0 && b.ptr[b.len - 1] != '\n')
		fputc('\n', fp);

 cleanup:
	mkt_template_free(t);
	mkt_buf_free(&b);
	return ret;
}

/* ---- JSON ------------------------------------------------------------- */

static int has_element_children(xmlNodePtr node)
{
	return mkt_doc_first(node, NULL) != NULL;
}

static json_t *to_json(xmlNodePtr node)
{
	json_t *obj;
	xmlNodePtr c;

	if (!has_element_children(node)) {
		char *text = mkt_doc_text(node);
		json_t *s = json_string(text);

		free(text);
		/* json_string() refuses invalid UTF-8, which libxml2 never
		 * produces; keep the key anyway. */
		return s ? s : json_string("");
	}

	obj = json_object();
	for (c = mkt_doc_first(node, NULL); c; c = mkt_doc_next(c, NULL)) {
		const char *key = mkt_doc_name(c);
		json_t *v = to_json(c);
		json_t *prev = json_object_get(obj, key);

		if (!prev) {
			json_object_set_new(obj, key, v);
		} else if (json_is_array(prev)) {
			/* Only repetition makes arrays: values are never arrays. */
			json_array_append_new(prev, v);
		} else {
			json_t *arr = json_array();

			json_array_append(arr, prev);
			json_array_append_new(arr, v);
			json_object_set_new(obj, key, arr);
		}
	}
	return obj;
}

int mkt_output_json(FILE *fp, xmlNodePtr root)
{
	json_t *top = json_object();
	char *text = NULL;
	int ret = 0;

	json_object_set_new(top, mkt_doc_name(root), to_json(root));
	text = json_dumps(top, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!text) {
		ret = mkt_error_set(MKT_ERROR, MKT_ERR_XML,
				    "cannot convert the reply to JSON");
		goto cleanup;
	}
	fprintf(fp, "%s\n", text);

 cleanup:
	free(text);
	json_decref(top);
	return ret;
}

void mkt_output_json_text(FILE *fp, const char *text)
{
	json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
	char *pretty = v ? json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
					     JSON_ENCODE_ANY) : NULL;
	const char *out = pretty ? pretty : text;
	size_t len = strlen(out);

	fputs(out, fp);
	if (len == 0 || out[len - 1] != '\n')
		fputc('\n', fp);
	free(pretty);
	json_decref(v);
}

void mkt_output_xml(FILE *fp, xmlDocPtr doc)
{
	xmlBufferPtr buf = xmlBufferCreate();

	if (xmlNodeDump(buf, doc, xmlDocGetRootElement(doc), 0, 0) >= 0)
		fprintf(fp, "%s\n", (const char *)xmlBufferContent(buf));
	xmlBufferFree(buf);
}
