/*
 * noop.c: a market driver that does nothing, for the dispatch benchmark:
 * it reads its document and answers an empty monitor result.
 */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	char buf[4096];

	while (read(0, buf, sizeof(buf)) > 0)
		;
	fputs("TOTAL_MB=\"0\"\n", stdout);
	return 0;
}
