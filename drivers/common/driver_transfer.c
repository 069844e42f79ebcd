/*
 * driver_transfer.c: the copying actions of the drivers' helper library
 * (driver.h, "Transfers"): one mkt_transfer_run() that a SIGTERM cancels
 * cleanly, and the export action of every driver whose SOURCE is a URL.
 */
#include <config.h>

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "driver.h"

/* Set by SIGTERM/SIGINT while a transfer runs; the transfer polls it
 * (mkt_transfer_opts.cancel, a const volatile int *). */
static volatile sig_atomic_t stop_signal;
_Static_assert(sizeof(sig_atomic_t) == sizeof(int), "sig_atomic_t is an int");

static void on_stop(int sig)
{
	stop_signal = sig;
}

int mkt_drv_run_transfer(mkt_transfer_opts *opts, mkt_transfer_result *out)
{
	struct sigaction sa, old_term, old_int;
	int ret;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGINT, &sa, &old_int);
	opts->progress = mkt_drv_transfer_progress;
	opts->cancel = (const volatile int *)&stop_signal;

	ret = mkt_transfer_run(opts, out);

	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGINT, &old_int, NULL);
	if (stop_signal) {
		/* The signal came after the final rename: the action is still
		 * killed, so what it wrote must go too. */
		if (ret == 0)
			unlink(opts->target);
		return mkt_drv_fail(MKT_DRV_EFAIL, "terminated by signal %d while writing %s",
				    (int)stop_signal, opts->target);
	}
	if (ret < 0)
		return mkt_drv_fail(MKT_DRV_EFAIL, "%s", mkt_error_message());
	mkt_drv_progress_flush();
	return MKT_DRV_OK;
}

int mkt_drv_export_source(mkt_drv *d, const char *user_agent)
{
	mkt_transfer_opts opts = { 0 };
	mkt_transfer_result r;
	const char *source = NULL, *target = NULL, *md5;
	int ret;

	if ((ret = mkt_drv_require(d, "MARKETPLACEAPP/SOURCE", &source)) != 0 ||
	    (ret = mkt_drv_require(d, "EXPORT_TARGET", &target)) != 0)
		return ret;
	if (target[0] != '/')
		return mkt_drv_fail(MKT_DRV_EINPUT, "EXPORT_TARGET \"%s\" is not an absolute path",
				    target);

	md5 = mkt_drv_get(d, "MARKETPLACEAPP/MD5");
	opts.source = source;
	opts.target = target;
	opts.unpack = 1;
	opts.expect_md5 = md5 && *md5 ? md5 : NULL;
	/* The app's md5 is what proves the download; a sha256 too would be
	 * most of the export's CPU for nothing the image needs. */
	opts.md5_only = 1;
	opts.user_agent = user_agent;
	mkt_drv_log(MKT_LOG_INFO, "exporting %s to %s", source, target);
	if ((ret = mkt_drv_run_transfer(&opts, &r)) != 0)
		return ret;

	/* What was written: after unpacking, not the bytes read. */
	mkt_drv_result("MD5", r.md5_out);
	mkt_drv_result_long("SIZE", mkt_drv_size_mb(r.bytes_out));
	mkt_drv_result("FORMAT", r.format);
	return MKT_DRV_OK;
}
