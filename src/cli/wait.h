/*
 * wait.h: --wait, for objects marketd works on in the background (an
 * image being copied, an app being uploaded to its market, a service
 * instance or binding while its broker works).
 */
#ifndef MKT_WAIT_H
#define MKT_WAIT_H

#include "object.h"

/* How often --wait reads the object. */
#define MKT_WAIT_INTERVAL_MS 500

/*
 * Read <prefix>.info(@id) every MKT_WAIT_INTERVAL_MS until the object's
 * STATE is the class's ready state (0) or its error state (MKT_ERROR with
 * the reason, TEMPLATE/ERROR or the class's error_path, in the message),
 * showing its PROGRESS on stderr (progress.h) meanwhile, and for classes
 * that announce them each state it sees.  With ready_error, the ready
 * state with a reason recorded is a failure too.  A state that is neither pending nor one of
 * those two ends the wait with an error naming it.  Ctrl-C stops waiting
 * (marketd goes on) and returns MKT_CLI_EINTERRUPTED with a message that
 * says so.  @cls must have states.
 */
int mkt_wait_object(mkt_cli *cli, const mkt_cli_class *cls, long long id);

/*
 * After a delete: read <prefix>.info(@id) the same way until marketd
 * answers that the object does not exist (0).  The error state is a
 * failure with its reason, any state outside the class's removing ones
 * ends the wait with an error naming it; Ctrl-C as above.
 */
int mkt_wait_gone(mkt_cli *cli, const mkt_cli_class *cls, long long id);

#endif
