/*
 * throttle.h: back-off after failed logins, per user and per client address.
 *
 * Verifying a password costs tens of milliseconds of yescrypt on purpose,
 * so guesses must be both rare and cheap to turn down.  Each user name and
 * each client address has a failure count; past a few free failures, the
 * next login is not even checked until a delay that doubles with every
 * failure (up to a cap) has passed: it fails at once, with the same message
 * as a wrong password, and counts as one more failure.  Nothing waits and
 * nothing queues, so a storm of guesses costs a table lookup each.
 *
 * The tables have a fixed number of slots (the least recently failed entry
 * makes room), and an entry is forgotten after a quiet period.  A success
 * forgets the user's failures, never the address's: whoever owns one
 * account could otherwise reset them between guesses at others.
 *
 * Sessions already in the session cache (user.h) are not throttled: they
 * prove the password without a guess, so a storm aimed at one account does
 * not log out the users already working from the same address.
 *
 * Thread-safe (an internal lock): logins are checked outside the core lock.
 */
#ifndef MKT_THROTTLE_H
#define MKT_THROTTLE_H

typedef struct mkt_throttle mkt_throttle;

mkt_throttle *mkt_throttle_new(void);
void mkt_throttle_free(mkt_throttle *t);

/* 0 when a login of @user from @addr may be checked now, MKT_EBUSY while
 * either is within its delay.  Sets no error: the caller reports a plain
 * authentication failure. */
int mkt_throttle_check(mkt_throttle *t, const char *user, const char *addr);
/* (@user NULL, in these three: only the address counts; the federation's
 * server user, which anyone could otherwise lock out of every zone.) */
/* Count a failed login (@refused: turned down by mkt_throttle_check).
 * Logs a warning, at most one line per few seconds for all failures. */
void mkt_throttle_fail(mkt_throttle *t, const char *user, const char *addr, int refused);
/* A verified password: forget @user's failures. */
void mkt_throttle_success(mkt_throttle *t, const char *user);

#endif
