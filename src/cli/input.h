/*
 * input.h: reading the files marketctl is given (templates, credentials).
 */
#ifndef MKT_INPUT_H
#define MKT_INPUT_H

#include <stddef.h>

/* Largest template or credentials file marketctl reads. */
#define MKT_INPUT_MAX (64u * 1024 * 1024)

/*
 * Read the whole of @path ("-" is standard input) into a NUL-terminated
 * string.  @what names the file in error messages ("template file",
 * "credentials file").  Fails with MKT_ERROR and a message naming the path
 * when it cannot be read, is larger than MKT_INPUT_MAX or holds a NUL byte.
 */
int mkt_input_read(char **out, const char *path, const char *what);

/* Strip trailing whitespace (blanks, tabs, CR, LF) in place; returns @s. */
char *mkt_input_rstrip(char *s);

#endif
