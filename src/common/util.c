/*
 * util.c: small string and file helpers.
 */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "error.h"
#include "util.h"

int mkt_util_parse_long(const char *s, long long *out)
{
	char *end = NULL;
	long long v;

	if (!s)
		return MKT_EINVAL;
	while (isspace((unsigned char)*s))
		s++;
	if (!*s)
		return MKT_EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s)
		return MKT_EINVAL;
	while (isspace((unsigned char)*end))
		end++;
	if (*end)
		return MKT_EINVAL;
	*out = v;
	return 0;
}

int mkt_util_parse_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int mkt_util_parse_bool(const char *s, int *out)
{
	static const struct { const char *word; int value; } words[] = {
		{ "yes", 1 }, { "true", 1 }, { "on", 1 }, { "1", 1 },
		{ "no", 0 }, { "false", 0 }, { "off", 0 }, { "0", 0 },
	};
	size_t i;

	if (!s)
		return MKT_EINVAL;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (!strcasecmp(s, words[i].word)) {
			*out = words[i].value;
			return 0;
		}
	}
	return MKT_EINVAL;
}

char *mkt_util_trim(char *s)
{
	char *start = s;
	size_t len;

	while (isspace((unsigned char)*start))
		start++;
	len = strlen(start);
	while (len > 0 && isspace((unsigned char)start[len - 1]))
		len--;
	memmove(s, start, len);
	s[len] = '\0';
	return s;
}

int mkt_util_read_file(char **out, const char *path, size_t max)
{
	char *data = NULL;
	size_t len = 0, cap = 0;
	int fd, ret = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return mkt_error_set_os(errno, "cannot open '%s'", path);
	for (;;) {
		ssize_t n;

		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			data = mkt_realloc(data, cap + 1);
		}
		n = read(fd, data + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = mkt_error_set_os(errno, "cannot read '%s'", path);
			goto cleanup;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			ret = mkt_error_set(MKT_EINVAL, MKT_ERR_OS,
					    "'%s' is larger than %zu bytes", path, max);
			goto cleanup;
		}
	}
	data[len] = '\0';
	*out = MKT_STEAL(data);

 cleanup:
	free(data);
	close(fd);
	return ret;
}

int mkt_util_write_file(const char *path, const char *data, size_t len, unsigned mode)
{
	char *tmp = mkt_asprintf("%s.XXXXXX", path);
	int fd, ret = 0;

	if ((fd = mkstemp(tmp)) < 0) {
		ret = mkt_error_set_os(errno, "cannot create a temporary file for '%s'", path);
		goto cleanup;
	}
	if (fchmod(fd, mode) < 0) {
		ret = mkt_error_set_os(errno, "cannot set the mode of '%s'", tmp);
		goto cleanup;
	}
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = mkt_error_set_os(errno, "cannot write '%s'", tmp);
			goto cleanup;
		}
		data += n;
		len -= (size_t)n;
	}
	if (fsync(fd) < 0) {
		ret = mkt_error_set_os(errno, "cannot sync '%s'", tmp);
		goto cleanup;
	}
	if (close(fd) < 0) {
		fd = -1;
		ret = mkt_error_set_os(errno, "cannot close '%s'", tmp);
		goto cleanup;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		ret = mkt_error_set_os(errno, "cannot rename '%s' to '%s'", tmp, path);

 cleanup:
	if (fd >= 0)
		close(fd);
	if (ret < 0)
		unlink(tmp);
	free(tmp);
	return ret;
}

int mkt_util_mkdir_p(const char *path, unsigned mode)
{
	char *copy = mkt_strdup(path);
	char *p;
	int ret = 0;

	for (p = copy + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;

		*p = '\0';
		if (mkdir(copy, mode) < 0 && errno != EEXIST) {
			ret = mkt_error_set_os(errno, "cannot create directory '%s'", copy);
			goto cleanup;
		}
		*p = saved;
		if (!saved)
			break;
	}

 cleanup:
	free(copy);
	return ret;
}

int mkt_util_random(void *out, size_t n)
{
	unsigned char *p = out;

	while (n > 0) {
		ssize_t got = getrandom(p, n, 0);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return mkt_error_set_os(errno, "cannot read random bytes");
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void mkt_util_hex(const void *data, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

char *mkt_util_base64_encode(const void *data, size_t len)
{
	const unsigned char *in = data;
	char *out = mkt_malloc(4 * ((len + 2) / 3) + 1);
	char *o = out;
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		*o++ = b64chars[in[i] >> 2];
		*o++ = b64chars[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		*o++ = b64chars[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
		*o++ = b64chars[in[i + 2] & 63];
	}
	if (i < len) {
		*o++ = b64chars[in[i] >> 2];
		if (i + 1 < len) {
			*o++ = b64chars[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
			*o++ = b64chars[(in[i + 1] & 15) << 2];
		} else {
			*o++ = b64chars[(in[i] & 3) << 4];
			*o++ = '=';
		}
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

/* A catalog pass decodes tens of MB: a table, not a search per byte.
 * A digit's value plus one; 0 for every other byte. */
static const unsigned char b64_digit[256] = {
	['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7, ['H'] = 8,
	['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
	['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23,
	['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30,
	['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37,
	['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44,
	['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49, ['x'] = 50, ['y'] = 51,
	['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56, ['4'] = 57, ['5'] = 58,
	['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
};

int mkt_util_base64_decode(unsigned char **out, size_t *out_len, const char *text)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t cap = strlen(text) / 4 * 3 + 3;
	unsigned char *buf = mkt_malloc(cap);
	unsigned int acc = 0;
	size_t len = 0;
	int bits = 0, pad = 0;

	/* Whole groups of four digits first: all of a catalog entry but its
	 * end. */
	while (b64_digit[p[0]] && b64_digit[p[1]] && b64_digit[p[2]] && b64_digit[p[3]]) {
		unsigned int v = (unsigned)(b64_digit[p[0]] - 1) << 18 |
				 (unsigned)(b64_digit[p[1]] - 1) << 12 |
				 (unsigned)(b64_digit[p[2]] - 1) << 6 | (unsigned)(b64_digit[p[3]] - 1);

		buf[len++] = (unsigned char)(v >> 16);
		buf[len++] = (unsigned char)(v >> 8);
		buf[len++] = (unsigned char)v;
		p += 4;
	}
	/* The rest, a digit at a time: blanks, padding, a last short group. */
	for (; *p; p++) {
		int c = *p;

		if (isspace(c))
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad || !b64_digit[c]) {
			free(buf);
			return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE, "invalid base64 data");
		}
		acc = (acc << 6) | (unsigned)(b64_digit[c] - 1);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[len++] = (unsigned char)(acc >> bits);
		}
	}
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	return 0;
}

#define SCHEME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-"

int mkt_util_url_has_scheme(const char *s)
{
	size_t n = strspn(s, SCHEME_CHARS);

	return n > 0 && isalpha((unsigned char)*s) && !strncmp(s + n, "://", 3);
}

/* The userinfo of the URL whose authority starts at @auth: its length up
 * to and without the '@' that ends it, or -1 when there is none.  The
 * authority ends at the path, query or fragment (or, in running text, at
 * a blank or markup); the last '@' in it ends the userinfo (an '@' of the
 * password itself should be percent-encoded, but often is not). */
static ssize_t userinfo_len(const char *auth)
{
	size_t len = strcspn(auth, "/?#<>\"' \t\r\n");
	const char *at = memrchr(auth, '@', len);

	return at ? at - auth : -1;
}

char *mkt_util_url_mask(const char *url)
{
	const char *auth, *colon;
	ssize_t n;

	if (!mkt_util_url_has_scheme(url))
		return mkt_strdup(url);
	auth = strstr(url, "://") + 3;
	if ((n = userinfo_len(auth)) < 0)
		return mkt_strdup(url);
	/* The user name stays when there is a password: it says whose
	 * credentials these are, and is no secret by itself. */
	colon = memchr(auth, ':', (size_t)n);
	return mkt_asprintf("%.*s****%s", (int)(colon ? colon + 1 - url : auth - url), url,
			    auth + n);
}

int mkt_util_text_has_url_userinfo(const char *text)
{
	const char *p = text;

	while ((p = strstr(p, "://"))) {
		/* A scheme must come before it; any will do: a URL's
		 * credentials are a secret whatever the scheme. */
		if (p > text && strchr(SCHEME_CHARS, p[-1]) && userinfo_len(p + 3) >= 0)
			return 1;
		p += 3;
	}
	return 0;
}

int mkt_util_streq_ct(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char diff = (unsigned char)(la != lb);

	for (i = 0; i < la; i++)
		diff |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
	return diff == 0;
}

void mkt_util_printable(char *out, size_t outsz, const char *s)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < outsz; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	out[i] = '\0';
}

long long mkt_util_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
