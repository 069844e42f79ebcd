/*
 * output.h: how marketctl prints: tables, INFORMATION blocks, --json.
 */
#ifndef MKT_OUTPUT_H
#define MKT_OUTPUT_H

#include <stdio.h>
#include <libxml/tree.h>

/* ---- tables ----------------------------------------------------------- */

typedef struct {
	const char *header;
	int right;                  /* right-align (numbers) */
} mkt_output_column;

typedef struct mkt_output_table mkt_output_table;

/* A table with @ncols columns; @cols must outlive the table. */
mkt_output_table *mkt_output_table_new(const mkt_output_column *cols,
				       size_t ncols);
void mkt_output_table_free(mkt_output_table *t);   /* accepts NULL */

/* Append the next cell (rows fill left to right); an empty or NULL text
 * prints as "-".  _take takes ownership of a malloc'ed @text. */
void mkt_output_table_cell(mkt_output_table *t, const char *text);
void mkt_output_table_cell_take(mkt_output_table *t, char *text);
void mkt_output_table_cellf(mkt_output_table *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Print the header and rows, each column padded to its widest cell. */
void mkt_output_table_print(const mkt_output_table *t, FILE *fp);

/* ---- value formatting ------------------------------------------------- */

/* A size in MB the way OpenNebula prints it: 512M, 1G, 1.5G, 2T. */
char *mkt_output_size_mb(long long mb);

/* The size in MB at @path below @node ("-" when missing), as above. */
char *mkt_output_size_at(xmlNodePtr node, const char *path);

/* AVAIL: FREE_MB as a percentage of TOTAL_MB below @node, "-" without a
 * capacity. */
char *mkt_output_avail(xmlNodePtr node);

/* The name of the enum value at @path below @node (@names indexed by
 * value, @n of them); "-" when missing or out of range.  Borrowed. */
/* "Yes"/"No" for the 1/0 at @path below @node (oned's booleans:
 * ENABLED, PERSISTENT); "-" when missing. */
const char *mkt_output_yes_no(xmlNodePtr node, const char *path);

const char *mkt_output_enum(xmlNodePtr node, const char *path,
			    const char *const *names, size_t n);

/* An epoch in local time as 01/31/25, or 01/31/25 13:05:00 when
 * @with_time; "-" for a bad time. */
char *mkt_output_time(long long epoch, int with_time);

/* The epoch at @path below @node as above; "-" when missing. */
char *mkt_output_time_at(xmlNodePtr node, const char *path, int with_time);

/* ---- INFORMATION blocks ----------------------------------------------- */

/* "KEY            : value" (NULL value prints empty). */
void mkt_output_kv(FILE *fp, const char *key, const char *value);

/* The same with the value taken (and freed) from a malloc'ed string. */
void mkt_output_kv_take(FILE *fp, const char *key, char *value);

/* A blank line and a section title. */
void mkt_output_section(FILE *fp, const char *title);

/* The PERMISSIONS section of @obj: OWNER/GROUP/OTHER as "um-". */
void mkt_output_permissions(FILE *fp, xmlNodePtr obj);

/*
 * @tmpl's attributes as template text (after a section @title, unless
 * NULL).  Fails with an "unexpected reply" error if @tmpl cannot be read as
 * a template.
 */
int mkt_output_template(FILE *fp, const char *title, xmlNodePtr tmpl);

/* ---- raw forms -------------------------------------------------------- */

/* --json: @root as {"ROOT": ...}: elements become keys, repeated sibling
 * elements arrays, text strings; pretty printed. */
int mkt_output_json(FILE *fp, xmlNodePtr root);

/* JSON text (a service's PARAMETERS or CREDENTIALS) pretty printed, with
 * two-space indents; text that is not JSON is printed as it is. */
void mkt_output_json_text(FILE *fp, const char *text);

/* --xml of a document built or filtered locally. */
void mkt_output_xml(FILE *fp, xmlDocPtr doc);

#endif
