/*
 * wait.h: --wait, for objects marketd fills in the background (an image
 * being copied, an app being uploaded to its market).
 */
#ifndef MKT_WAIT_H
#define MKT_WAIT_H

#include "object.h"

/* How often --wait reads the object. */
#define MKT_WAIT_INTERVAL_MS 500

/*
 * Read <prefix>.info(@id) every MKT_WAIT_INTERVAL_MS until the object's
 * STATE is the class's ready state (0) or its error state (MKT_ERROR with
 * TEMPLATE/ERROR in the message), showing its PROGRESS on stderr
 * (progress.h) meanwhile.  A state that is neither pending nor one of
 * those two ends the wait with an error naming it.  Ctrl-C stops waiting
 * (marketd goes on) and returns MKT_CLI_EINTERRUPTED with a message that
 * says so.  @cls must have states.
 */
int mkt_wait_object(mkt_cli *cli, const mkt_cli_class *cls, long long id);

#endif
