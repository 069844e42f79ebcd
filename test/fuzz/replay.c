/*
 * replay.c: runs a fuzz target over its corpus without libFuzzer, so that
 * every input that once crashed (or seeds the fuzzer) is a regression test
 * in `make check` (libgit2's fuzzers/standalone_driver.c idea).
 *
 * Usage: <target>_replay [DIR...]   (each regular file is one input; with
 * no DIR, test/fuzz/corpora/<target> under $MKT_SRCDIR)
 */
#include <config.h>

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The whole file, NUL bytes included: inputs are bytes, not strings. */
static int read_input(mkt_buf *b, const char *path)
{
	char chunk[8192];
	FILE *fp = fopen(path, "rb");
	size_t n;

	if (!fp)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		mkt_buf_addn(b, chunk, n);
	fclose(fp);
	return 0;
}

static int replay_dir(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	if (!d) {
		fprintf(stderr, "replay: cannot open %s\n", dir);
		return -1;
	}
	while ((e = readdir(d))) {
		mkt_buf b = MKT_BUF_INIT;
		char *path, *copy;

		if (e->d_name[0] == '.')
			continue;
		path = mkt_asprintf("%s/%s", dir, e->d_name);
		if (read_input(&b, path) == 0) {
			/* An exact-size copy, so ASan sees reads past the end. */
			copy = mkt_malloc(b.len ? b.len : 1);
			memcpy(copy, mkt_buf_cstr(&b), b.len);
			LLVMFuzzerTestOneInput((const uint8_t *)copy, b.len);
			free(copy);
			n++;
		}
		mkt_buf_free(&b);
		free(path);
	}
	closedir(d);
	return n;
}

/* test/fuzz/corpora/<target> for a program named <target>_replay. */
static char *default_dir(const char *argv0)
{
	const char *base = strrchr(argv0, '/') ? strrchr(argv0, '/') + 1 : argv0;
	size_t len = strlen(base);

	if (len > 7 && strcmp(base + len - 7, "_replay") == 0)
		len -= 7;
	return mkt_asprintf("test/fuzz/corpora/%.*s", (int)len, base);
}

static char *in_srcdir(const char *dir)
{
	const char *top = getenv("MKT_SRCDIR");

	return dir[0] == '/' || !top ? mkt_strdup(dir) : mkt_asprintf("%s/%s", top, dir);
}

int main(int argc, char **argv)
{
	int i, total = 0;

	for (i = 1; i < argc || (argc == 1 && i == 1); i++) {
		char *rel = argc > 1 ? mkt_strdup(argv[i]) : default_dir(argv[0]);
		char *dir = in_srcdir(rel);
		int n = replay_dir(dir);

		free(dir);
		free(rel);
		if (n < 0)
			return 1;
		total += n;
	}
	printf("replayed %d inputs\n", total);
	return total > 0 ? 0 : 1;
}
