/*
 * util.h: small string and file helpers shared by every layer.
 */
#ifndef MKT_UTIL_H
#define MKT_UTIL_H

#include <stddef.h>

/* Parse a whole decimal integer (optional sign, surrounding blanks
 * allowed).  0 on success, MKT_EINVAL otherwise (no error recorded). */
int mkt_util_parse_long(const char *s, long long *out);

/* The value of one hexadecimal digit (either case), or -1. */
int mkt_util_parse_hex_digit(char c);

/* YES/NO, TRUE/FALSE, ON/OFF, 1/0 in any case: 0 and *out=0/1, or MKT_EINVAL. */
int mkt_util_parse_bool(const char *s, int *out);

/* Trim leading/trailing blanks in place; returns @s. */
char *mkt_util_trim(char *s);

/* Read a whole file (up to @max bytes) into a NUL-terminated string. */
int mkt_util_read_file(char **out, const char *path, size_t max);

/* Write @data to @path atomically (temp file, fsync, rename) with @mode. */
int mkt_util_write_file(const char *path, const char *data, size_t len, unsigned mode);

/* mkdir -p with @mode for the directories it creates. */
int mkt_util_mkdir_p(const char *path, unsigned mode);

/* Fill @out with @n random bytes from the kernel. */
int mkt_util_random(void *out, size_t n);

/* @n bytes of @data as lower-case hex into @out, which holds 2n + 1. */
void mkt_util_hex(const void *data, size_t n, char *out);

/* Base64 (RFC 4648, with padding).  Decoding ignores whitespace and fails
 * with MKT_EINVAL on any other invalid character. */
char *mkt_util_base64_encode(const void *data, size_t len);
int mkt_util_base64_decode(unsigned char **out, size_t *out_len, const char *text);

/* Does @s start with a URL scheme and "://" ("https://", "s3://")? */
int mkt_util_url_has_scheme(const char *s);

/* @url as messages and logs may show it: a password in its userinfo
 * becomes four stars (http://user:PASSWORD@host/x shows as
 * http://user:<4 stars>@host/x), and userinfo without a password, which
 * may be a token, becomes four stars whole.  Anything else, a path
 * included, comes back unchanged.  Caller frees. */
char *mkt_util_url_mask(const char *url);

/* Does @text (an XML document, a template...) hold a URL with userinfo
 * anywhere: "<scheme>://" followed by an '@' before the end of its host
 * part?  Such text must not go where every user of the host can read it
 * (a process's argv). */
int mkt_util_text_has_url_userinfo(const char *text);

/* Constant-time comparison of two NUL-terminated strings. */
int mkt_util_streq_ct(const char *a, const char *b);

/* @s cut to @outsz - 1 bytes, control characters as '?': text from
 * outside fit for one log line. */
void mkt_util_printable(char *out, size_t outsz, const char *s);

/* Milliseconds of CLOCK_MONOTONIC: for intervals, never for dates. */
long long mkt_util_now_ms(void);

#endif
