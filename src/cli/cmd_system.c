/*
 * cmd_system.c: commands about the daemon itself (`version`).
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>

#include "object.h"

int mkt_cmd_system_version(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv)
{
	char *version = NULL;
	int ret;

	if ((ret = mkt_client_call_string(cli->client, &version,
					  "one.system.version", "")) < 0)
		return ret;
	printf("%s\n", version);
	free(version);
	return 0;
}
