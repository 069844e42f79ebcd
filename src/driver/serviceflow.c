/*
 * serviceflow.c: broker calls of service instances and bindings.
 */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "core/market.h"
#include "core/service.h"
#include "appflow.h"
#include "serviceflow.h"

/* Polls without a Retry-After come after 1 s, 1 s, 2 s, … up to this. */
#define POLL_MAX_DELAY 30
/* Orphan-mitigation retries back off from 2 s to this. */
#define RETRY_MAX_DELAY 300
/* How often the expiry of bindings is looked at, at most. */
#define EXPIRY_CHECK 60
/* Batches: calls in one (the driver runs them on as many threads), and
 * batches of one driver running at once. */
#define BATCH_MAX 16
#define BATCH_RUNNING 2

typedef struct due {
	struct due *next;
	long long at;              /* monotonic milliseconds */
	int table;
	int id;
} due;

typedef struct call call;

/* A call waiting for its driver's next batch. */
typedef struct waiting {
	struct waiting *next;
	call *c;
	char *document;
} waiting;

/* The calls of one driver that wait, and its batches running. */
typedef struct queue {
	struct queue *next;
	char *mad;
	waiting *head, **tail;
	size_t n;
	int running;
} queue;

struct mkt_serviceflow {
	mkt_core *core;
	mkt_driver *drv;
	pthread_mutex_t lock;      /* due list, queues and stop flag; taken after core->lock */
	pthread_cond_t cond;
	due *due;
	queue *queues;
	int stopping;
	pthread_t thread;
	int thread_started;
	long long next_expiry;     /* wall clock of the next look at expiries */
	int expiry_poked;          /* a binding was made: look now */
};

/* What a call of each operation kind is, for the driver. */
static const mkt_driver_action op_actions[MKT_OP_LAST] = {
	[MKT_OP_PROVISION] = MKT_ACTION_PROVISION, [MKT_OP_UPDATE] = MKT_ACTION_UPDATE,
	[MKT_OP_DEPROVISION] = MKT_ACTION_DEPROVISION, [MKT_OP_BIND] = MKT_ACTION_BIND,
	[MKT_OP_UNBIND] = MKT_ACTION_UNBIND,
};

struct call {
	mkt_serviceflow *sf;
	int table;
	int id;
	int kind;
	int poll;                  /* a last_operation */
};

static void schedule(mkt_serviceflow *sf, int table, int id, long long delay)
{
	due *d = mkt_calloc(1, sizeof(*d)), **pp;

	d->at = mkt_util_now_ms() + delay * 1000;
	d->table = table;
	d->id = id;
	pthread_mutex_lock(&sf->lock);
	for (pp = &sf->due; *pp && (*pp)->at <= d->at; pp = &(*pp)->next)
		;
	d->next = *pp;
	*pp = d;
	pthread_cond_signal(&sf->cond);
	pthread_mutex_unlock(&sf->lock);
}

/* ---- documents ------------------------------------------------------------- */

typedef struct {
	int instance_id;
	int binding_id;            /* -1 for an instance's call */
	int app_id;
	int kind;
	int async;
	int attempts;
} target;

/* The object a call is about, and what the document needs of it. */
static int load_target(mkt_core *core, int table, int id, target *t)
{
	mkt_object *obj = NULL, *iobj = NULL;
	const mkt_op *op;
	int ret;

	memset(t, 0, sizeof(*t));
	t->binding_id = -1;
	if (table == MKT_TABLE_BINDING) {
		if ((ret = mkt_object_load(core, &mkt_binding_class, id, &obj)) < 0)
			return ret;
		t->binding_id = id;
		t->instance_id = ((mkt_binding *)obj)->instance_id;
		op = &((mkt_binding *)obj)->op;
	} else {
		if ((ret = mkt_object_load(core, &mkt_instance_class, id, &iobj)) < 0)
			return ret;
		t->instance_id = id;
		op = &((mkt_instance *)iobj)->op;
	}
	t->kind = op->kind;
	t->async = op->async;
	t->attempts = op->attempts;
	if (!iobj && (ret = mkt_object_load(core, &mkt_instance_class, t->instance_id, &iobj)) < 0)
		goto cleanup;
	t->app_id = ((mkt_instance *)iobj)->app_id;

 cleanup:
	mkt_object_free(&mkt_binding_class, obj);
	mkt_object_free(&mkt_instance_class, iobj);
	return ret;
}

static void add_object(mkt_core *core, const mkt_class *cls, int id, mkt_buf *b,
		       mkt_object **keep)
{
	mkt_object *obj = NULL;

	if (mkt_object_load(core, cls, id, &obj) < 0) {
		mkt_error_clear();
		return;
	}
	/* POOL: no derived child lists, no sealed credentials. */
	cls->format(core, obj, MKT_FORMAT_POOL, b);
	*keep = obj;
}

static int build_request(mkt_serviceflow *sf, const target *t, int poll,
			 const mkt_principal *who, mkt_driver_request *req, char **out_mad)
{
	mkt_core *core = sf->core;
	mkt_buf extra = MKT_BUF_INIT;
	mkt_object *inst = NULL, *bind = NULL, *mobj = NULL;
	mkt_instance *in;
	int ret;

	mkt_buf_add(&extra, "<REQUEST>");
	mkt_buf_printf(&extra, "<ID>marketd-%d-%d</ID>", t->instance_id, ++core->req_id);
	mkt_buf_add_elem_int(&extra, "UID", who ? who->uid : MKT_ONEADMIN_UID);
	mkt_buf_add_elem(&extra, "UNAME", who ? who->uname : "oneadmin");
	mkt_buf_add(&extra, "</REQUEST>");
	add_object(core, &mkt_instance_class, t->instance_id, &extra, &inst);
	if (!inst) {
		ret = mkt_error_set(MKT_ENOTFOUND, MKT_ERR_CORE, "service instance %d is gone",
				    t->instance_id);
		goto cleanup;
	}
	in = (mkt_instance *)inst;
	if (t->binding_id >= 0)
		add_object(core, &mkt_binding_class, t->binding_id, &extra, &bind);
	if (t->kind == MKT_OP_UPDATE) {
		mkt_buf_add(&extra, "<UPDATE>");
		mkt_buf_add_elem(&extra, "PLAN_ID", in->next_plan_id ? in->next_plan_id : in->plan_id);
		mkt_buf_add_elem(&extra, "PARAMETERS", in->next_parameters);
		mkt_buf_add_elem(&extra, "PREVIOUS_PLAN_ID", in->plan_id);
		mkt_buf_add(&extra, "</UPDATE>");
	}
	if (poll)
		mkt_buf_add_elem(&extra, "OPERATION_KIND", mkt_op_kind_name(t->kind));
	req->action = poll ? MKT_ACTION_LAST_OPERATION : op_actions[t->kind];
	if ((ret = mkt_appflow_document(core, req->action, t->app_id, -1, mkt_buf_cstr(&extra),
					req)) < 0 ||
	    (ret = mkt_object_load(core, &mkt_market_class, in->market_id, &mobj)) < 0)
		goto cleanup;
	*out_mad = mkt_strdup(((mkt_market *)mobj)->mad);

 cleanup:
	mkt_object_free(&mkt_instance_class, inst);
	mkt_object_free(&mkt_binding_class, bind);
	mkt_object_free(&mkt_market_class, mobj);
	mkt_buf_free(&extra);
	return ret;
}

/* ---- outcomes -------------------------------------------------------------- */

/* What the driver's answer means for the operation (drivers.md). */
static mkt_outcome outcome_of(const mkt_driver_reply *reply, const call *c)
{
	const char *state;

	if (reply->shutdown)
		return MKT_OUTCOME_RETRY;
	if (!reply->ok) {
		/* Exit 4: the broker may hold what a create made.  A driver that
		 * died or timed out tells nothing either: the same. */
		if (c->kind == MKT_OP_PROVISION || c->kind == MKT_OP_BIND)
			return reply->exit_status == MKT_DRIVER_EXIT_ORPHAN ||
			       reply->exit_status < 0 ? MKT_OUTCOME_ORPHAN : MKT_OUTCOME_FAILED;
		return MKT_OUTCOME_FAILED;
	}
	state = mkt_template_get(reply->result, "STATE");
	if (state && !strcmp(state, "in progress"))
		return MKT_OUTCOME_PENDING;
	if (state && !strcmp(state, "failed"))
		return c->kind == MKT_OP_PROVISION || c->kind == MKT_OP_BIND ? MKT_OUTCOME_ORPHAN :
		       MKT_OUTCOME_FAILED;
	return MKT_OUTCOME_DONE;
}

static long long backoff(int attempts, long long max)
{
	long long d = 1;

	while (attempts-- > 0 && d < max)
		d *= 2;
	return d < max ? d : max;
}

/* After an outcome: poll, call again, or go on to what it unblocks. */
static void follow_up(mkt_serviceflow *sf, const call *c, mkt_outcome outcome, int next,
		      const mkt_template *result)
{
	mkt_core *core = sf->core;
	target t;
	long long retry = 0;

	if (next == MKT_OP_NONE)
		return;
	if (load_target(core, c->table, c->id, &t) < 0) {
		mkt_error_clear();
		return;
	}
	if (outcome == MKT_OUTCOME_PENDING) {
		if (result && mkt_template_get_long(result, "RETRY_AFTER", &retry) == 0 && retry > 0)
			schedule(sf, c->table, c->id, retry > 3600 ? 3600 : retry);
		else
			/* 1 s, 1 s, 2 s, 4 s…: most operations are short. */
			schedule(sf, c->table, c->id,
				 backoff(t.attempts > 2 ? t.attempts - 2 : 0, POLL_MAX_DELAY));
		mkt_error_clear();
		return;
	}
	/* A new call (orphan mitigation) or a retry of one that failed. */
	schedule(sf, c->table, c->id, next == c->kind ? backoff(t.attempts, RETRY_MAX_DELAY) : 0);
}

static int report(mkt_core *core, const call *c, mkt_outcome outcome,
		  const mkt_template *result, const char *message, int *next)
{
	return c->table == MKT_TABLE_BINDING ?
	       mkt_binding_op_done(core, c->id, c->kind, outcome, result, message, next) :
	       mkt_instance_op_done(core, c->id, c->kind, outcome, result, message, next);
}

static void deprovision_if_unbound(mkt_serviceflow *sf, int instance_id)
{
	if (instance_id >= 0 && mkt_instance_ready_to_deprovision(sf->core, instance_id))
		mkt_serviceflow_run(sf, MKT_TABLE_INSTANCE, instance_id, NULL);
}

static void call_done(const mkt_driver_reply *reply, void *ud)
{
	call *c = ud;
	mkt_serviceflow *sf = c->sf;
	mkt_outcome outcome = outcome_of(reply, c);
	int next = MKT_OP_NONE, instance_id = -1;
	long long elapsed_max;
	target t;

	pthread_mutex_lock(&sf->core->lock);
	if (c->table == MKT_TABLE_BINDING && load_target(sf->core, c->table, c->id, &t) == 0)
		instance_id = t.instance_id;
	mkt_error_clear();
	/* Polling stops at the plan's or market's limit: then it failed. */
	if (outcome == MKT_OUTCOME_PENDING && load_target(sf->core, c->table, c->id, &t) == 0) {
		mkt_object *obj = NULL;
		long long start = 0;
		const mkt_class *cls = c->table == MKT_TABLE_BINDING ? &mkt_binding_class :
				       &mkt_instance_class;

		elapsed_max = mkt_service_max_polling(sf->core, instance_id >= 0 ? instance_id : c->id);
		if (mkt_object_load(sf->core, cls, c->id, &obj) == 0)
			start = cls == &mkt_binding_class ? ((mkt_binding *)obj)->op.start :
				((mkt_instance *)obj)->op.start;
		mkt_object_free(cls, obj);
		if (start && (long long)time(NULL) - start > elapsed_max) {
			outcome = c->kind == MKT_OP_PROVISION || c->kind == MKT_OP_BIND ?
				  MKT_OUTCOME_ORPHAN : MKT_OUTCOME_FAILED;
			reply = &(mkt_driver_reply){ .message = "the broker's operation did not end "
						     "within the maximum polling duration" };
		}
	}
	mkt_error_clear();
	if (report(sf->core, c, outcome, reply->ok ? reply->result : NULL,
		   reply->ok ? mkt_template_get(reply->result, "DESCRIPTION") : reply->message,
		   &next) < 0) {
		mkt_log(MKT_LOG_ERROR, "service", "%s %d: the broker's answer cannot be recorded: %s",
			c->table == MKT_TABLE_BINDING ? "binding" : "instance", c->id,
			mkt_error_message());
		mkt_error_clear();
	} else if (outcome != MKT_OUTCOME_RETRY) {
		if (c->table == MKT_TABLE_BINDING && c->kind == MKT_OP_BIND &&
		    outcome == MKT_OUTCOME_DONE) {
			/* A new binding may expire before the next look. */
			pthread_mutex_lock(&sf->lock);
			sf->expiry_poked = 1;
			pthread_cond_signal(&sf->cond);
			pthread_mutex_unlock(&sf->lock);
		}
		follow_up(sf, c, outcome, next, reply->ok ? reply->result : NULL);
		if (c->table == MKT_TABLE_BINDING && next == MKT_OP_NONE)
			deprovision_if_unbound(sf, instance_id);
	}
	pthread_mutex_unlock(&sf->core->lock);
	free(c);
}

/* ---- batches ---------------------------------------------------------------- */

typedef struct {
	mkt_serviceflow *sf;
	queue *q;
	waiting *calls;
	size_t n;
} batch;

/* Under sf->lock. */
static queue *queue_of(mkt_serviceflow *sf, const char *mad)
{
	queue *q;

	for (q = sf->queues; q; q = q->next) {
		if (!strcmp(q->mad, mad))
			return q;
	}
	q = mkt_calloc(1, sizeof(*q));
	q->mad = mkt_strdup(mad);
	q->tail = &q->head;
	q->next = sf->queues;
	sf->queues = q;
	return q;
}

/* The scheduler thread starts the batch, without any lock held: a batch
 * that cannot start fails its calls, which takes the core lock. */
static void wait_for_batch(mkt_serviceflow *sf, const char *mad, call *c, char *document)
{
	waiting *w = mkt_calloc(1, sizeof(*w));
	queue *q;

	w->c = c;
	w->document = document;
	pthread_mutex_lock(&sf->lock);
	q = queue_of(sf, mad);
	*q->tail = w;
	q->tail = &w->next;
	q->n++;
	pthread_cond_signal(&sf->cond);
	pthread_mutex_unlock(&sf->lock);
}

/* Is a batch waiting that may start?  Under sf->lock. */
static int batch_ready(const mkt_serviceflow *sf)
{
	const queue *q;

	for (q = sf->queues; q; q = q->next) {
		if (q->n && q->running < BATCH_RUNNING)
			return !sf->stopping;
	}
	return 0;
}

/* The next batch to start, or NULL.  Under sf->lock. */
static batch *take_batch(mkt_serviceflow *sf)
{
	queue *q;
	batch *b;
	waiting **pp;

	if (!batch_ready(sf))
		return NULL;
	for (q = sf->queues; q; q = q->next) {
		if (q->n && q->running < BATCH_RUNNING)
			break;
	}
	b = mkt_calloc(1, sizeof(*b));
	b->sf = sf;
	b->q = q;
	b->calls = q->head;
	for (pp = &q->head; *pp && b->n < BATCH_MAX; pp = &(*pp)->next)
		b->n++;
	q->head = *pp;
	*pp = NULL;
	if (!q->head)
		q->tail = &q->head;
	q->n -= b->n;
	q->running++;
	return b;
}

static void free_waiting(waiting *w)
{
	while (w) {
		waiting *next = w->next;

		free(w->document);
		free(w->c);
		free(w);
		w = next;
	}
}

/* Batch @b is over: its driver may run the next one. */
static void end_batch(mkt_serviceflow *sf, batch *b)
{
	free_waiting(b->calls);
	pthread_mutex_lock(&sf->lock);
	b->q->running--;
	pthread_cond_signal(&sf->cond);
	pthread_mutex_unlock(&sf->lock);
	free(b);
}

/* Each call's answer, as call_done() takes it. */
static void batch_done(const mkt_driver_reply *reply, void *ud)
{
	batch *b = ud;
	mkt_serviceflow *sf = b->sf;
	const mkt_tattr **answers = mkt_calloc(b->n, sizeof(*answers));
	waiting *w;
	size_t i, k;

	for (k = 0; reply->ok && k < mkt_template_size(reply->result); k++) {
		const mkt_tattr *a = mkt_template_at(reply->result, k);
		long long index;

		if (!strcmp(mkt_tattr_name(a), "CALL") && mkt_tattr_is_vector(a) &&
		    mkt_util_parse_long(mkt_tattr_vector_get(a, "INDEX"), &index) == 0 &&
		    index >= 0 && (size_t)index < b->n && !answers[index])
			answers[index] = a;
	}
	for (w = b->calls, i = 0; w; w = w->next, i++) {
		mkt_driver_reply one = *reply;
		mkt_template *result = NULL;
		long long status = -1;
		const char *text;

		if (reply->ok && !answers[i]) {
			one = (mkt_driver_reply){ .exit_status = -1,
				.message = "the driver's batch answer has no answer for this call" };
		} else if (reply->ok) {
			mkt_util_parse_long(mkt_tattr_vector_get(answers[i], "STATUS"), &status);
			text = mkt_tattr_vector_get(answers[i], "RESULT");
			one = (mkt_driver_reply){ .exit_status = (int)status };
			if (status == 0 && mkt_template_parse_base64(&result, text ? text : "") == 0) {
				one.ok = 1;
				one.result = result;
			} else {
				one.message = status == 0 ? "the driver's answer to this call does not parse" :
					      mkt_tattr_vector_get(answers[i], "ERROR");
				if (!one.message || !*one.message)
					one.message = "the driver failed without a message";
			}
			mkt_error_clear();
		}
		call_done(&one, w->c);
		w->c = NULL;            /* call_done() frees it */
		mkt_template_free(result);
	}
	free(answers);
	end_batch(sf, b);
}

/* Start batch @b (no lock held). */
static void start_batch(mkt_serviceflow *sf, batch *b)
{
	mkt_driver_request req = { .action = MKT_ACTION_BATCH, .done = batch_done, .ud = b,
				   .document_secret = 1 };
	mkt_buf doc = MKT_BUF_INIT;
	waiting *w;
	char *why;
	int next;

	mkt_buf_add(&doc, "<MARKET_DRIVER_BATCH>");
	for (w = b->calls; w; w = w->next)
		mkt_buf_add(&doc, w->document);
	mkt_buf_add(&doc, "</MARKET_DRIVER_BATCH>");
	req.document = mkt_buf_steal(&doc);
	req.mad = b->q->mad;
	req.oid = b->calls->c->id;
	if (mkt_driver_submit(sf->drv, &req) == 0)
		return;
	/* Not even started (the driver lost its batch action): each call's
	 * outcome, a failure the broker never saw, as for a call of its own. */
	why = mkt_strdup(mkt_error_message());
	mkt_error_clear();
	for (w = b->calls; w; w = w->next) {
		pthread_mutex_lock(&sf->core->lock);
		report(sf->core, w->c, MKT_OUTCOME_FAILED, NULL, why, &next);
		mkt_error_clear();
		pthread_mutex_unlock(&sf->core->lock);
	}
	free(why);
	end_batch(sf, b);
}

/* ---- calls ----------------------------------------------------------------- */

static int submit(mkt_serviceflow *sf, int table, int id, int poll, const mkt_principal *who)
{
	mkt_driver_request req = { .done = call_done, .own_failure_log = 0 };
	call *c = NULL;
	char *mad = NULL;
	target t;
	int ret;

	if ((ret = load_target(sf->core, table, id, &t)) < 0)
		return ret;
	if (t.kind == MKT_OP_NONE)
		return 0;
	if ((ret = build_request(sf, &t, poll, who, &req, &mad)) < 0)
		goto cleanup;
	c = mkt_calloc(1, sizeof(*c));
	*c = (call){ sf, table, id, t.kind, poll };
	req.mad = mad;
	req.oid = id;
	req.ud = c;
	if (mkt_driver_has_action(sf->drv, mad, MKT_ACTION_BATCH)) {
		wait_for_batch(sf, mad, c, req.document);
		req.document = NULL;
		c = NULL;
	} else if ((ret = mkt_driver_submit(sf->drv, &req)) == 0) {
		c = NULL;
	}

 cleanup:
	if (ret < 0 && c) {
		/* Not even started (no such driver action...): that is its
		 * outcome, as a failure the broker never saw. */
		mkt_error saved;
		int next;

		mkt_error_preserve(&saved);
		report(sf->core, c, MKT_OUTCOME_FAILED, NULL, saved.message, &next);
		mkt_error_restore(&saved);
	}
	free(c);
	free(mad);
	return ret;
}

int mkt_serviceflow_run(mkt_serviceflow *sf, int table, int id, const mkt_principal *who)
{
	target t;
	int n = 0;

	if (load_target(sf->core, table, id, &t) < 0)
		return MKT_ENOTFOUND;
	/* An instance's deprovision waits for its bindings to be gone. */
	if (table == MKT_TABLE_INSTANCE && t.kind == MKT_OP_DEPROVISION &&
	    mkt_object_count_children(sf->core, MKT_TABLE_BINDING, id, &n) == 0 && n > 0)
		return 0;
	return submit(sf, table, id, t.async, who);
}

int mkt_serviceflow_delete_instance(mkt_serviceflow *sf, const mkt_principal *who, int id)
{
	int *ids = NULL, dropped = 0, ret;
	size_t i, n = 0;

	if ((ret = mkt_instance_delete(sf->core, who, id, &ids, &n, &dropped)) < 0 || dropped)
		goto cleanup;
	if ((ret = mkt_core_begin(sf->core)) < 0)
		goto cleanup;
	ret = mkt_core_end(sf->core, mkt_binding_unbind_all(sf->core, ids, n));
	for (i = 0; i < n && ret == 0; i++)
		mkt_serviceflow_run(sf, MKT_TABLE_BINDING, ids[i], who);
	if (ret == 0)
		ret = mkt_serviceflow_run(sf, MKT_TABLE_INSTANCE, id, who);

 cleanup:
	free(ids);
	return ret;
}

/* ---- the scheduler --------------------------------------------------------- */

static void check_expiry(mkt_serviceflow *sf)
{
	long long now = (long long)time(NULL), next = 0;
	int *ids = NULL;
	size_t i, n = 0;

	pthread_mutex_lock(&sf->lock);
	if (!sf->expiry_poked && sf->next_expiry && now < sf->next_expiry) {
		pthread_mutex_unlock(&sf->lock);
		return;
	}
	sf->expiry_poked = 0;
	pthread_mutex_unlock(&sf->lock);
	pthread_mutex_lock(&sf->core->lock);
	if (mkt_binding_list_expired(sf->core, now, &ids, &n, &next) == 0) {
		for (i = 0; i < n; i++)
			if (mkt_binding_expire(sf->core, ids[i]) == 0)
				mkt_serviceflow_run(sf, MKT_TABLE_BINDING, ids[i], NULL);
	}
	mkt_error_clear();
	pthread_mutex_unlock(&sf->core->lock);
	free(ids);
	pthread_mutex_lock(&sf->lock);
	sf->next_expiry = next && next < now + EXPIRY_CHECK ? next : now + EXPIRY_CHECK;
	pthread_mutex_unlock(&sf->lock);
}

static void *scheduler(void *arg)
{
	mkt_serviceflow *sf = arg;

	pthread_mutex_lock(&sf->lock);
	while (!sf->stopping) {
		long long now = mkt_util_now_ms(), wake = now + 1000;
		due *d = sf->due;
		struct timespec ts;
		batch *b;

		if (d && d->at <= now) {
			sf->due = d->next;
			pthread_mutex_unlock(&sf->lock);
			/* The core lock comes first, as for every caller. */
			pthread_mutex_lock(&sf->core->lock);
			if (mkt_serviceflow_run(sf, d->table, d->id, NULL) < 0)
				mkt_log(MKT_LOG_WARN, "service", "%s %d: %s",
					d->table == MKT_TABLE_BINDING ? "binding" : "instance", d->id,
					mkt_error_message());
			mkt_error_clear();
			pthread_mutex_unlock(&sf->core->lock);
			free(d);
			pthread_mutex_lock(&sf->lock);
			continue;
		}
		/* The calls those made, and any an RPC made, go in batches. */
		if ((b = take_batch(sf))) {
			pthread_mutex_unlock(&sf->lock);
			start_batch(sf, b);
			pthread_mutex_lock(&sf->lock);
			continue;
		}
		pthread_mutex_unlock(&sf->lock);
		check_expiry(sf);
		pthread_mutex_lock(&sf->lock);
		if (sf->due && sf->due->at < wake)
			wake = sf->due->at;
		clock_gettime(CLOCK_REALTIME, &ts);
		if (wake > now) {
			long long ns = ts.tv_nsec + (wake - now) % 1000 * 1000000;

			ts.tv_sec += (wake - now) / 1000 + ns / 1000000000;
			ts.tv_nsec = ns % 1000000000;
		}
		if (!sf->stopping && !(sf->due && sf->due->at <= mkt_util_now_ms()) && !batch_ready(sf))
			pthread_cond_timedwait(&sf->cond, &sf->lock, &ts);
	}
	pthread_mutex_unlock(&sf->lock);
	return NULL;
}

int mkt_serviceflow_new(mkt_serviceflow **out, mkt_core *core, mkt_driver *drv)
{
	mkt_serviceflow *sf = mkt_calloc(1, sizeof(*sf));
	mkt_service_pending *p = NULL;
	size_t i, n = 0;
	int ret;

	sf->core = core;
	sf->drv = drv;
	pthread_mutex_init(&sf->lock, NULL);
	pthread_cond_init(&sf->cond, NULL);
	pthread_mutex_lock(&core->lock);
	if ((ret = mkt_service_list_pending(core, &p, &n)) == 0) {
		for (i = 0; i < n; i++) {
			mkt_log(MKT_LOG_INFO, "service", "resuming the %s of %s %d", mkt_op_kind_name(p[i].kind),
				p[i].table == MKT_TABLE_BINDING ? "binding" : "instance", p[i].id);
			schedule(sf, p[i].table, p[i].id, 0);
		}
	}
	pthread_mutex_unlock(&core->lock);
	free(p);
	if (ret < 0)
		goto fail;
	if ((ret = pthread_create(&sf->thread, NULL, scheduler, sf)) != 0) {
		ret = mkt_error_set_os(ret, "cannot start the service scheduler");
		goto fail;
	}
	sf->thread_started = 1;
	*out = sf;
	return 0;

 fail:
	mkt_serviceflow_free(sf);
	return ret;
}

void mkt_serviceflow_stop(mkt_serviceflow *sf)
{
	if (!sf)
		return;
	pthread_mutex_lock(&sf->lock);
	sf->stopping = 1;
	pthread_cond_signal(&sf->cond);
	pthread_mutex_unlock(&sf->lock);
	if (sf->thread_started)
		pthread_join(sf->thread, NULL);
	sf->thread_started = 0;
}

void mkt_serviceflow_free(mkt_serviceflow *sf)
{
	if (!sf)
		return;
	mkt_serviceflow_stop(sf);
	while (sf->queues) {
		queue *q = sf->queues;

		sf->queues = q->next;
		/* Their operations stay pending in the store: the next start
		 * resumes them. */
		free_waiting(q->head);
		free(q->mad);
		free(q);
	}
	while (sf->due) {
		due *d = sf->due;

		sf->due = d->next;
		free(d);
	}
	pthread_cond_destroy(&sf->cond);
	pthread_mutex_destroy(&sf->lock);
	free(sf);
}
