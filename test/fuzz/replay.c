/*
 * replay.c: runs a fuzz target over its corpus without libFuzzer, so that
 * every input that once crashed (or seeds the fuzzer) is a regression test
 * in `make check` (libgit2's fuzzers/standalone_driver.c idea).
 *
 * Usage: <target>_replay DIR...   (each regular file is one input)
 */
#include <config.h>

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
		char *path, *data = NULL;

		if (e->d_name[0] == '.')
			continue;
		path = mkt_asprintf("%s/%s", dir, e->d_name);
		if (mkt_util_read_file(&data, path, 16 * 1024 * 1024) == 0) {
			LLVMFuzzerTestOneInput((const uint8_t *)data, strlen(data));
			n++;
		}
		free(data);
		free(path);
	}
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	const char *top = getenv("MKT_SRCDIR");
	int i, total = 0;

	for (i = 1; i < argc; i++) {
		char *dir = argv[i][0] == '/' || !top ? mkt_strdup(argv[i]) :
			    mkt_asprintf("%s/%s", top, argv[i]);
		int n = replay_dir(dir);

		free(dir);
		if (n < 0)
			return 1;
		total += n;
	}
	printf("replayed %d inputs\n", total);
	return total > 0 ? 0 : 1;
}
