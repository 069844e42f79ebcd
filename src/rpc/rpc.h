/*
 * rpc.h: the XML-RPC layer's contract.
 *
 * Every API method is one row of mkt_rpc_methods[] (methods.c): its name,
 * an argument signature and a handler.  One dispatcher (server.c) does
 * what no handler repeats: it decodes and checks the arguments against the
 * signature, authenticates the session, serialises the call with the core
 * lock and turns the handler's status into oned's reply array (fault.c).
 *
 * Signature characters, after the session string: i int, s string,
 * b boolean (an int is accepted too), A array of ints; a '|' starts the
 * optional tail.  Extra trailing parameters are ignored, as oned does.
 */
#ifndef MKT_RPC_H
#define MKT_RPC_H

#include <stddef.h>
#include <xmlrpc-c/base.h>

#include "core/core.h"
#include "core/object.h"
#include "driver/driver.h"
#include "driver/serviceflow.h"
#include "federation/federation.h"

#define MKT_RPC_MAX_ARGS 12

/* oned's error codes (Request.h). */
enum {
	MKT_RPC_AUTHENTICATION = 0x100,
	MKT_RPC_AUTHORIZATION = 0x200,
	MKT_RPC_NO_EXISTS = 0x400,
	MKT_RPC_ACTION = 0x800,
	MKT_RPC_RPC_API = 0x1000,
	MKT_RPC_INTERNAL = 0x2000,
	MKT_RPC_ALLOCATE = 0x4000,
	MKT_RPC_LOCKED = 0x8000,
	MKT_RPC_REPLICATION = 0x10000
};

typedef struct {
	int present;
	int i;              /* i and b */
	const char *s;      /* s (borrowed from the request) */
	int *ints;          /* A */
	size_t nints;
} mkt_rpc_arg;

/* A text answer in pieces, each encoded as it is sent. */
typedef struct {
	/* 1 with the next piece (valid until the next call), 0 at the end,
	 * < 0 (an error recorded) when the rest cannot be made. */
	int (*next)(void *arg, const char **data, size_t *len);
	void (*free)(void *arg);
	void *arg;
} mkt_rpc_pieces;

typedef struct {
	int is_text;
	int id;             /* when !is_text */
	char *text;         /* when is_text; freed by the dispatcher */
	/* Or, is_text with text NULL: the text from these, read after the
	 * core lock is released (a pool read from a store cursor). */
	mkt_rpc_pieces pieces;
} mkt_rpc_result;

typedef struct mkt_rpc_method mkt_rpc_method;

/* What handlers work with: the object layer and the driver pool. */
typedef struct {
	mkt_core *core;
	mkt_driver *drv;
	mkt_serviceflow *services;   /* broker calls of instances and bindings */
	mkt_fed *fed;                /* NULL when standalone */
} mkt_rpc_env;

/* What a method does in a federation (federation.h). */
enum {
	/* Served by this zone: reads, zone-local objects, and calls whose
	 * replicated writes the store forwards to the master. */
	MKT_RPC_FED_LOCAL = 0,
	/* Changes only replicated objects: a slave sends the whole call to
	 * the master, as the user who made it. */
	MKT_RPC_FED_PROXY = 1,
	/* The master's replication methods: the server credential only; the
	 * handler takes the core lock itself, since it may wait. */
	MKT_RPC_FED_SERVER = 2
};

typedef int (*mkt_rpc_handler)(const mkt_rpc_env *env, const mkt_principal *who,
			       const mkt_rpc_method *m, const mkt_rpc_arg *args,
			       mkt_rpc_result *out);

struct mkt_rpc_method {
	const char *name;
	const char *sig;
	mkt_rpc_handler handler;
	const mkt_class *cls;     /* for the generic object handlers */
	const char *object;       /* "marketplace", "user"... in messages */
	int allocate;             /* failures are ALLOCATE errors */
	const char *help;
	int fed;                  /* MKT_RPC_FED_* */
};

extern const mkt_rpc_method mkt_rpc_methods[];
extern const size_t mkt_rpc_nmethods;

/* Build the reply for a failed call from the thread's last error. */
xmlrpc_value *mkt_rpc_fault(xmlrpc_env *env, const mkt_rpc_method *m, int status,
			    const mkt_principal *who, int resp_id);
/* Reply array for a failure with an explicit code and message. */
xmlrpc_value *mkt_rpc_failure(xmlrpc_env *env, const char *method, const char *message,
			      int code, int resp_id);

typedef struct mkt_rpc_server mkt_rpc_server;

int mkt_rpc_server_new(mkt_rpc_server **out, mkt_core *core, mkt_driver *drv,
		       const mkt_config *conf);
/* The driver pool starts after the server is bound (and after the daemon
 * forked); requests are served only once it is set. */
void mkt_rpc_server_set_driver(mkt_rpc_server *srv, mkt_driver *drv);
void mkt_rpc_server_set_services(mkt_rpc_server *srv, mkt_serviceflow *services);
void mkt_rpc_server_set_federation(mkt_rpc_server *srv, mkt_fed *fed);
/* Serve until mkt_rpc_server_stop(); returns 0 or an error. */
int mkt_rpc_server_run(mkt_rpc_server *srv);
/* Ask the server to stop accepting; safe from another thread. */
void mkt_rpc_server_stop(mkt_rpc_server *srv);
void mkt_rpc_server_free(mkt_rpc_server *srv);
/* The port actually bound (useful with PORT = 0). */
int mkt_rpc_server_port(const mkt_rpc_server *srv);

#endif
