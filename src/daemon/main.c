/*
 * main.c: marketd start-up, signals and shutdown.  Wiring only: every
 * decision lives in the layer that owns it.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <getopt.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/resource.h>
#include <libxml/parser.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xml.h"
#include "core/config.h"
#include "core/core.h"
#include "core/datastore.h"
#include "core/image.h"
#include "core/marketapp.h"
#include "core/zone.h"
#include "driver/driver.h"
#include "driver/imageflow.h"
#include "driver/monitorflow.h"
#include "federation/federation.h"
#include "rpc/rpc.h"
#include "store/store.h"

/* The daemon context: everything that lives as long as the process. */
typedef struct {
	const char *config_path;
	int foreground;
	mkt_config *conf;
	mkt_store *store;
	mkt_core *core;
	mkt_driver *drv;
	mkt_monitor_loop *monitor;
	mkt_serviceflow *services;
	mkt_fed *fed;                /* NULL when standalone */
	mkt_rpc_server *rpc;
	mkt_xml_errlog xml_errors;    /* libxml2's process-wide reports, to the log */
	sigset_t signals;
	pthread_t signal_thread;
	int signal_thread_started;
	int pid_file_written;
} mkt_daemon;

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: marketd [-c FILE] [-f] [-h] [-V]\n"
		"Serve MarketPlaces and MarketPlaceApps over an OpenNebula-compatible XML-RPC API.\n"
		"\n"
		"  -c, --config FILE  configuration file (default %s/marketd/marketd.conf)\n"
		"  -f, --foreground   stay in the foreground (do not fork)\n"
		"  -h, --help         show this help and exit\n"
		"  -V, --version      show the version and exit\n"
		"\n"
		"oneadmin's credentials are read from $ONE_AUTH, else ~/.one/one_auth;\n"
		"at first start, if neither exists, a password is generated into that file.\n"
		"See marketd(8) and marketd.conf(5).\n", MKT_SYSCONFDIR);
}

/* This zone's ENDPOINT as its zone object first records it; a wildcard
 * address says nothing to other zones, the host name does. */
static char *own_endpoint(const mkt_config *conf)
{
	char host[256] = "localhost";
	const char *addr = conf->listen_address;

	if (!strcmp(addr, "0.0.0.0") || !strcmp(addr, "::") || !*addr) {
		if (gethostname(host, sizeof(host) - 1) < 0)
			strcpy(host, "localhost");
		addr = host;
	}
	return mkt_asprintf(strchr(addr, ':') ? "http://[%s]:%d/RPC2" : "http://%s:%d/RPC2",
			    addr, conf->port);
}

static char *auth_file_path(void)
{
	const char *env = getenv("ONE_AUTH"), *home = getenv("HOME");
	struct passwd *pw;

	if (env && *env)
		return mkt_strdup(env);
	if ((!home || !*home) && (pw = getpwuid(getuid())))
		home = pw->pw_dir;
	return mkt_asprintf("%s/.one/one_auth", home ? home : "/");
}

/* RPC MAX_CONN connections need as many descriptors: raise the usual
 * soft 1024 towards the hard limit, but not to a million (drivers inherit
 * it, and some close every descriptor up to it). */
#define FD_LIMIT_WANTED 65536

static void raise_fd_limit(void)
{
	struct rlimit rl;
	rlim_t want;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	want = rl.rlim_max < FD_LIMIT_WANTED ? rl.rlim_max : FD_LIMIT_WANTED;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = want;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void *signal_loop(void *arg)
{
	mkt_daemon *d = arg;

	for (;;) {
		int sig = 0;

		if (sigwait(&d->signals, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			if (mkt_log_reopen() < 0)
				fprintf(stderr, "marketd: %s\n", mkt_error_message());
			mkt_log(MKT_LOG_INFO, "daemon", "log reopened on SIGHUP");
			continue;
		}
		mkt_log(MKT_LOG_INFO, "daemon", "received %s, shutting down", strsignal(sig));
		mkt_rpc_server_stop(d->rpc);
		return NULL;
	}
}

static int daemonize(const mkt_config *conf)
{
	pid_t child;
	int fd;

	if ((child = fork()) < 0)
		return mkt_error_set_os(errno, "cannot fork");
	if (child > 0)
		_exit(0);
	setsid();
	if ((child = fork()) < 0)
		return mkt_error_set_os(errno, "cannot fork");
	if (child > 0)
		_exit(0);
	if (chdir("/") < 0)
		return mkt_error_set_os(errno, "cannot chdir to /");
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		if (conf->log_system != MKT_LOG_STD)
			dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	return 0;
}

/* A daemon that forked must say where it went.  In the foreground
 * (systemd, tests, a terminal) the caller already knows the pid, so no
 * file is written: the default's /run/marketd need not even exist. */
static int write_pid_file(mkt_daemon *d)
{
	char pid[32];

	if (d->foreground)
		return 0;
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (mkt_util_write_file(d->conf->pid_file, pid, strlen(pid), 0644) < 0)
		return MKT_ERROR;
	d->pid_file_written = 1;
	return 0;
}

static int start(mkt_daemon *d)
{
	char *auth_file = NULL;
	int ret;

	if ((ret = mkt_config_load(&d->conf, d->config_path)) < 0)
		return ret;
	mkt_log_set_zone(d->conf->zone_id);
	if ((ret = mkt_log_open(d->conf->log_system, d->conf->log_file, d->conf->log_level)) < 0)
		return ret;
	mkt_log(MKT_LOG_INFO, "daemon", "marketd %s starting (config %s)", PACKAGE_VERSION,
		d->config_path);
	if ((ret = mkt_util_mkdir_p(d->conf->data_dir, 0750)) < 0)
		return ret;
	if ((ret = mkt_store_open(&d->store, d->conf->db_backend, d->conf->db_file)) < 0)
		return ret;
	mkt_store_set_log_retention(d->store, d->conf->fed_log_retention);
	if ((ret = mkt_core_new(&d->core, d->conf, d->store)) < 0)
		return ret;
	if ((ret = mkt_fed_new(&d->fed, d->core)) < 0)
		return ret;
	/* A slave's shared objects (oneadmin included) come from its master:
	 * it makes none of its own. */
	if (!mkt_fed_is_slave(d->fed)) {
		char *endpoint = own_endpoint(d->conf);

		auth_file = auth_file_path();
		ret = mkt_core_bootstrap(d->core, auth_file);
		free(auth_file);
		if (ret == 0)
			ret = mkt_zone_bootstrap(d->core, d->conf->zone_id, endpoint);
		free(endpoint);
		if (ret < 0)
			return ret;
	}
	if ((ret = mkt_datastore_bootstrap(d->core)) < 0 ||
	    (!mkt_fed_is_slave(d->fed) && (ret = mkt_app_recover(d->core)) < 0) ||
	    (ret = mkt_image_recover(d->core)) < 0)
		return ret;
	/* No copy of ours runs yet; an export driver left running by a
	 * marketd that was killed still holds its file's lock. */
	mkt_imageflow_sweep(d->core, 0);
	if ((ret = mkt_rpc_server_new(&d->rpc, d->core, NULL, d->conf)) < 0)
		return ret;
	if (!d->foreground && (ret = daemonize(d->conf)) < 0)
		return ret;
	if ((ret = write_pid_file(d)) < 0)
		return ret;

	/* Signals are handled by one thread with sigwait, so handlers never
	 * run inside the RPC threads (which inherit this mask). */
	sigemptyset(&d->signals);
	sigaddset(&d->signals, SIGTERM);
	sigaddset(&d->signals, SIGINT);
	sigaddset(&d->signals, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &d->signals, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* The replica catches up before requests are served, and a slave's
	 * writes to shared objects go to the master from now on
	 * (federation.h): its interrupted uploads are recovered only then. */
	if ((ret = mkt_fed_start(d->fed)) < 0)
		return ret;
	mkt_rpc_server_set_federation(d->rpc, d->fed);
	if (mkt_fed_is_slave(d->fed)) {
		/* The replication thread runs: the store is shared now. */
		pthread_mutex_lock(&d->core->lock);
		if (mkt_app_recover(d->core) < 0)
			mkt_log(MKT_LOG_WARN, "daemon", "interrupted uploads not recovered now: %s",
				mkt_error_message());
		pthread_mutex_unlock(&d->core->lock);
	}
	/* Worker threads start after the fork and inherit the signal mask. */
	if ((ret = mkt_driver_new(&d->drv, d->conf)) < 0)
		return ret;
	mkt_driver_check(d->drv, d->conf);
	mkt_rpc_server_set_driver(d->rpc, d->drv);
	if ((ret = mkt_serviceflow_new(&d->services, d->core, d->drv)) < 0)
		return ret;
	mkt_rpc_server_set_services(d->rpc, d->services);
	if ((ret = mkt_monitor_loop_start(&d->monitor, d->core, d->drv,
					  d->conf->monitoring_interval)) < 0)
		return ret;
	if ((ret = pthread_create(&d->signal_thread, NULL, signal_loop, d)) != 0)
		return mkt_error_set_os(ret, "cannot start the signal thread");
	d->signal_thread_started = 1;
	mkt_log(MKT_LOG_INFO, "daemon", "listening on %s:%d, XML-RPC at /RPC2",
		d->conf->listen_address, mkt_rpc_server_port(d->rpc));
	return mkt_rpc_server_run(d->rpc);
}

static void stop(mkt_daemon *d)
{
	if (d->signal_thread_started) {
		/* Wake the signal thread if the server stopped on its own. */
		pthread_kill(d->signal_thread, SIGTERM);
		pthread_join(d->signal_thread, NULL);
	}
	/* Lets the requests in flight finish and answer (other zones' long
	 * polls were woken by the stop), then joins the server's threads:
	 * never with the core lock held, which they take. */
	mkt_rpc_server_free(d->rpc);
	mkt_monitor_loop_stop(d->monitor);
	mkt_serviceflow_stop(d->services);
	/* Running drivers are stopped; their callbacks record the outcome,
	 * which a slave still hands to its master. */
	mkt_driver_free(d->drv);
	mkt_serviceflow_free(d->services);
	mkt_fed_free(d->fed);        /* nothing writes any more */
	mkt_core_free(d->core);
	mkt_store_close(d->store);
	if (d->pid_file_written)
		unlink(d->conf->pid_file);
	mkt_config_free(d->conf);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	mkt_daemon d = { .config_path = MKT_SYSCONFDIR "/marketd/marketd.conf",
			  .xml_errors = MKT_XML_ERRLOG_INIT };
	int c, ret;

	/* Requests run on the front end's threads and driver actions on
	 * threads of their own, and glibc would give each its own malloc
	 * arena: a few are plenty for a daemon whose work is serialised by
	 * the core lock. */
	mallopt(M_ARENA_MAX, 2);

	while ((c = getopt_long(argc, argv, "c:fhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': d.config_path = optarg; break;
		case 'f': d.foreground = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("marketd %s\n", PACKAGE_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "marketd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	xmlInitParser();
	mkt_xml_log_errors(&d.xml_errors);
	raise_fd_limit();
	ret = start(&d);
	if (ret < 0) {
		fprintf(stderr, "marketd: %s\n", mkt_error_message());
		mkt_log(MKT_LOG_ERROR, "daemon", "%s", mkt_error_message());
	}
	stop(&d);
	mkt_log(MKT_LOG_INFO, "daemon", "marketd stopped");
	mkt_log_close();
	xmlCleanupParser();
	return ret < 0 ? 1 : 0;
}
