/*
 * define_queue: an SQS queue (SST's Queue), its dead-letter queue, its
 * policy for the services that deliver to it (topics, buckets), and the
 * functions that consume it through event source mappings.
 *
 * Resources, by construct path (NAME is the queue's name):
 *   NAME/Queue                 AWS::SQS::Queue
 *   NAME/DeadLetterQueue       AWS::SQS::Queue (dlq_max_receives > 0)
 *   NAME/Policy                AWS::SQS::QueuePolicy (synth_queue_allow_send)
 *   <fn>/<NAME>EventSource     AWS::Lambda::EventSourceMapping (a subscriber)
 *
 * The model for the other components: props checked at define time with
 * every range named; state copied; resources in generate(); subscribers as
 * event sources bound by the function (so their resources stay in the
 * function's stack); grants of exact actions on exactly this queue's ARN.
 * Written against the public construct API only.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <synth.h>
#include <synth/sys/construct.h>
#include <synth/queue.h>

/* SQS's limits (seconds, counts). */
enum {
	DELAY_MAX = 900,
	VISIBILITY_MAX = 43200,
	VISIBILITY_DEFAULT = 30,
	RETENTION_MIN = 60,
	RETENTION_MAX = 1209600,
	RETENTION_DEFAULT = 345600,
	DLQ_RECEIVES_MAX = 1000,
	BATCH_MAX = 10000,
	BATCH_MAX_FIFO = 10,
	BATCH_DEFAULT = 10,
	WINDOW_MAX = 300,
	CONCURRENCY_MIN = 2,
	CONCURRENCY_MAX = 1000,
	QUEUE_NAME_MAX = 80,
};

/* The AWS managed key of SSE-KMS ("kms"). */
#define SQS_MANAGED_KEY "alias/aws/sqs"

struct synth_queue {
	synth_construct *c;
	bool fifo, content_dedup;
	int delay, visibility, retention, dlq_max_receives;
	char *encryption;      /* "sqs", "kms" or "none" */
	json_t *statements;    /* the queue policy's statements (allow_send) */
	json_t *subscribers;   /* function name -> true (one mapping each) */
	synth_resource *queue; /* once generated */
	synth_resource *policy;
};

/* One subscriber: what the event source carries to bind(). */
typedef struct subscription {
	synth_queue *q; /* borrowed: lives as long as the backend */
	int batch_size, window, max_concurrency;
	bool partial;
	json_t *filters; /* FilterCriteria, or NULL */
} subscription;

static void queue_free(void *state)
{
	synth_queue *q = state;
	if (!q)
		return;
	free(q->encryption);
	json_decref(q->statements);
	json_decref(q->subscribers);
	free(q);
}

static char *path_of(const synth_queue *q, const char *id)
{
	return synth_asprintf("%s/%s", synth_construct_name(q->c), id);
}

/* A token of the queue resource: its Ref (the URL) or an attribute. */
static json_t *queue_token(const synth_queue *q, const char *attr)
{
	char *p = path_of(q, "Queue");
	json_t *t = p ? (attr ? synth_getatt(p, attr) : synth_ref(p)) : NULL;
	free(p);
	return t;
}

/*
 * The name of a FIFO queue, which must end in ".fifo". CloudFormation
 * would generate one, but from the stack's name, and nested stacks' names
 * make it longer than SQS's 80 characters (cloudformation-coverage-roadmap
 * #280). Instead: the construct path, and a hash of the backend's stack
 * name and that path, which keeps branches and sandboxes in one account
 * apart: "orders-1a2b3c4d5e.fifo".
 */
static char *fifo_name(const synth_queue *q, const char *id)
{
	synth_backend *b = synth_construct_backend(q->c);
	const char *name = synth_construct_name(q->c);
	char *key = synth_asprintf("%s/%s/%s", synth_backend_stack_name(b), name, id);
	char hex[65];
	if (!key || synth_sha256_hex(key, strlen(key), hex) < 0) {
		free(key);
		return NULL;
	}
	free(key);
	const char *suffix = strcmp(id, "Queue") ? "-dlq" : "";
	/* name + suffix + "-" + 10 hex + ".fifo" within 80 */
	int room = QUEUE_NAME_MAX - (int)strlen(suffix) - 1 - 10 - 5;
	return synth_asprintf("%.*s%s-%.10s.fifo", room, name, suffix, hex);
}

/* The properties both queues share: FIFO, name, encryption. */
static json_t *common_props(const synth_queue *q, const char *id)
{
	json_t *props = json_object();
	if (!props)
		return NULL;
	if (q->fifo) {
		char *n = fifo_name(q, id);
		if (!n) {
			json_decref(props);
			return NULL;
		}
		json_object_set_new(props, "FifoQueue", json_true());
		json_object_set_new(props, "QueueName", json_string(n));
		free(n);
	}
	if (!strcmp(q->encryption, "kms"))
		json_object_set_new(props, "KmsMasterKeyId", json_string(SQS_MANAGED_KEY));
	else
		json_object_set_new(props, "SqsManagedSseEnabled",
				    json_boolean(!strcmp(q->encryption, "sqs")));
	return props;
}

/* The queue policy, holding q->statements (shared: statements added after
 * generation appear in it). */
static int ensure_policy(synth_queue *q)
{
	if (q->policy || !q->queue)
		return 0;
	json_t *props = json_pack("{s:[o],s:{s:s,s:O}}", "Queues", queue_token(q, NULL),
				  "PolicyDocument", "Version", "2012-10-17", "Statement",
				  q->statements);
	if (!props)
		return synth_error_oom();
	return synth_resource_new(&q->policy, q->c, "Policy", "AWS::SQS::QueuePolicy", props);
}

static int queue_generate(synth_construct *self, void *state)
{
	synth_queue *q = state;
	synth_resource *dlq = NULL;
	int rc = 0;
	if (q->dlq_max_receives) {
		/* The dead-letter queue keeps messages as long as SQS allows:
		 * they are there to be looked at. */
		json_t *dp = common_props(q, "DeadLetterQueue");
		if (dp)
			json_object_set_new(dp, "MessageRetentionPeriod", json_integer(RETENTION_MAX));
		rc = dp ? synth_resource_new(&dlq, self, "DeadLetterQueue", "AWS::SQS::Queue", dp)
			: synth_error_oom();
	}
	json_t *props = rc == 0 ? common_props(q, "Queue") : NULL;
	if (rc == 0 && !props)
		rc = synth_error_oom();
	if (rc == 0) {
		json_object_set_new(props, "VisibilityTimeout", json_integer(q->visibility));
		json_object_set_new(props, "MessageRetentionPeriod", json_integer(q->retention));
		if (q->delay)
			json_object_set_new(props, "DelaySeconds", json_integer(q->delay));
		if (q->content_dedup)
			json_object_set_new(props, "ContentBasedDeduplication", json_true());
		if (dlq)
			json_object_set_new(props, "RedrivePolicy",
					    json_pack("{s:o,s:i}", "deadLetterTargetArn",
						      synth_resource_getatt(dlq, "Arn"),
						      "maxReceiveCount", q->dlq_max_receives));
		rc = synth_resource_new(&q->queue, self, "Queue", "AWS::SQS::Queue", props);
	}
	if (rc == 0 && json_array_size(q->statements))
		rc = ensure_policy(q);
	if (rc < 0)
		return synth_construct_failf(self, rc, "%s", synth_error_last()->message);
	return 0;
}

/* --- linking ------------------------------------------------------------ */

static const char *const send_actions[] = {"sqs:SendMessage", "sqs:GetQueueAttributes",
					   "sqs:GetQueueUrl", NULL};
static const char *const receive_actions[] = {
	"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
	"sqs:GetQueueAttributes", "sqs:GetQueueUrl", NULL};

/* Appends the ACTIONS not yet in LIST. */
static void add_actions(json_t *list, const char *const *actions)
{
	for (; *actions; actions++) {
		bool seen = false;
		size_t i;
		json_t *a;
		json_array_foreach(list, i, a)
			seen |= !strcmp(json_string_value(a), *actions);
		if (!seen)
			json_array_append_new(list, json_string(*actions));
	}
}

/*
 * For a queue encrypted with the AWS managed key: KMS ACTIONS on that key
 * only. Its ARN is not known to the template, so the statement names any
 * key of the account and region, used through SQS, whose alias is
 * alias/aws/sqs.
 */
static json_t *kms_statement(json_t *actions)
{
	return json_pack(
		"{s:s,s:o,s:o,s:{s:{s:o},s:{s:s}}}", "Effect", "Allow", "Action", actions,
		"Resource",
		synth_sub("arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*", NULL),
		"Condition", "StringEquals", "kms:ViaService",
		synth_sub("sqs.${AWS::Region}.amazonaws.com", NULL), "ForAnyValue:StringEquals",
		"kms:ResourceAliases", SQS_MANAGED_KEY);
}

/* synth_function_link: "send", "receive" (comma-separated) on exactly
 * this queue; its URL and ARN as SYNTH_<NAME>_URL and SYNTH_<NAME>_ARN. */
static int queue_link(synth_construct *self, void *state, synth_function *fn,
		      const char *access)
{
	synth_queue *q = state;
	json_t *acts = json_array(), *kms = json_array();
	char *list = strdup(access), *save = NULL;
	int rc = acts && kms && list ? 0 : synth_error_oom();
	for (char *t = list ? strtok_r(list, ", ", &save) : NULL; rc == 0 && t;
	     t = strtok_r(NULL, ", ", &save)) {
		bool send = !strcmp(t, "send"), receive = !strcmp(t, "receive");
		if (!send && !receive) {
			rc = synth_construct_failf(
				self, SYNTH_EINVALID, "link of %s: access '%s' is not send or receive",
				synth_construct_name(synth_function_construct(fn)), t);
			break;
		}
		add_actions(acts, send ? send_actions : receive_actions);
		const char *const kms_send[] = {"kms:GenerateDataKey", "kms:Decrypt", NULL};
		const char *const kms_receive[] = {"kms:Decrypt", NULL};
		add_actions(kms, send ? kms_send : kms_receive);
	}
	free(list);
	if (rc == 0 && !json_array_size(acts))
		rc = synth_construct_failf(self, SYNTH_EINVALID,
					   "link of %s: no access level (send, receive)",
					   synth_construct_name(synth_function_construct(fn)));
	if (rc == 0)
		rc = synth_function_add_statement(
			fn, json_pack("{s:s,s:O,s:o}", "Effect", "Allow", "Action", acts,
				      "Resource", queue_token(q, "Arn")));
	if (rc == 0 && !strcmp(q->encryption, "kms"))
		rc = synth_function_add_statement(fn, kms_statement(json_incref(kms)));
	if (rc == 0)
		rc = synth_function_link_env(fn, self, "URL", queue_token(q, NULL));
	if (rc == 0)
		rc = synth_function_link_env(fn, self, "ARN", queue_token(q, "Arn"));
	json_decref(acts);
	json_decref(kms);
	return rc;
}

static const synth_construct_class queue_class = {
	.version = SYNTH_CONSTRUCT_CLASS_VERSION,
	.kind = "queue",
	.generate = queue_generate,
	.free = queue_free,
	.link = queue_link,
};

/* --- define ------------------------------------------------------------- */

/* Props checks; every message names the queue NM and the allowed range. */
static int check_props(synth_backend *b, const char *nm, const synth_queue_props *p)
{
	if (p->delay_s < 0 || p->delay_s > DELAY_MAX)
		return synth_backend_failf(b, SYNTH_EINVALID, "%s: delay %d s is outside 0..%d",
					   nm, p->delay_s, DELAY_MAX);
	if (p->visibility_timeout_s < 0 || p->visibility_timeout_s > VISIBILITY_MAX)
		return synth_backend_failf(b, SYNTH_EINVALID,
					   "%s: visibility timeout %d s is outside 0..%d", nm,
					   p->visibility_timeout_s, VISIBILITY_MAX);
	if (p->retention_s &&
	    (p->retention_s < RETENTION_MIN || p->retention_s > RETENTION_MAX))
		return synth_backend_failf(b, SYNTH_EINVALID,
					   "%s: retention %d s is outside %d..%d (1 minute to 14 "
					   "days)", nm, p->retention_s, RETENTION_MIN, RETENTION_MAX);
	if (p->dlq_max_receives < 0 || p->dlq_max_receives > DLQ_RECEIVES_MAX)
		return synth_backend_failf(b, SYNTH_EINVALID,
					   "%s: dead-letter max receives %d is outside 1..%d (0: "
					   "no dead-letter queue)", nm, p->dlq_max_receives,
					   DLQ_RECEIVES_MAX);
	if (p->content_dedup && !p->fifo)
		return synth_backend_failf(b, SYNTH_EINVALID,
					   "%s: content-based deduplication needs a FIFO queue "
					   "(set .fifo)", nm);
	if (p->encryption && strcmp(p->encryption, "sqs") && strcmp(p->encryption, "kms") &&
	    strcmp(p->encryption, "none"))
		return synth_backend_failf(b, SYNTH_EINVALID,
					   "%s: encryption '%s' is not sqs, kms or none", nm,
					   p->encryption);
	return 0;
}

synth_queue *synth_define_queue(synth_backend *b, const char *name,
				const synth_queue_props *props)
{
	SYNTH_CHECK_HANDLE(b);
	static const synth_queue_props none = {0};
	const synth_queue_props *p = props ? props : &none;
	const char *nm = name ? name : "";
	synth_error_clear();
	if (check_props(b, nm, p) < 0)
		return NULL;
	synth_queue *q = calloc(1, sizeof *q);
	if (!q || !(q->encryption = strdup(p->encryption ? p->encryption : "sqs")) ||
	    !(q->statements = json_array()) || !(q->subscribers = json_object())) {
		queue_free(q);
		synth_backend_failf(b, SYNTH_ENOMEM, "%s: out of memory", nm);
		return NULL;
	}
	q->fifo = p->fifo;
	q->content_dedup = p->content_dedup;
	q->delay = p->delay_s;
	q->visibility = p->visibility_timeout_s ? p->visibility_timeout_s : VISIBILITY_DEFAULT;
	q->retention = p->retention_s ? p->retention_s : RETENTION_DEFAULT;
	q->dlq_max_receives = p->dlq_max_receives;
	/* On failure Q is freed and the error (naming NAME) is recorded. */
	if (synth_construct_new(&q->c, b, name, &queue_class, q) < 0)
		return NULL;
	return q;
}

/* A failed define's NULL gives NULL (false): its error is recorded. */
json_t *synth_queue_url(const synth_queue *q) { return q ? queue_token(q, NULL) : NULL; }
json_t *synth_queue_arn(const synth_queue *q) { return q ? queue_token(q, "Arn") : NULL; }
json_t *synth_queue_name(const synth_queue *q) { return q ? queue_token(q, "QueueName") : NULL; }
bool synth_queue_is_fifo(const synth_queue *q) { return q && q->fifo; }
synth_construct *synth_queue_construct(synth_queue *q) { return q ? q->c : NULL; }

/* --- the queue policy --------------------------------------------------- */

int synth_queue_allow_send(synth_queue *q, const char *id, const char *service_principal,
			   json_t *source_arn)
{
	SYNTH_CHECK_HANDLE(q);
	if (!strcmp(q->encryption, "kms")) {
		/* The AWS managed key's policy cannot be changed to let a
		 * service principal use it: SNS and S3 would fail to deliver. */
		json_decref(source_arn);
		return synth_construct_failf(
			q->c, SYNTH_EINVALID,
			"%s cannot send to this queue: it is encrypted with the AWS managed key "
			"(%s), which services cannot use; use encryption \"sqs\"",
			service_principal ? service_principal : "a service", SQS_MANAGED_KEY);
	}
	int rc = synth_policy_allow_service(q->c, q->statements, id, service_principal,
					    "sqs:SendMessage", queue_token(q, "Arn"), source_arn);
	if (rc == 0 && ensure_policy(q) < 0)
		return synth_construct_failf(q->c, SYNTH_ENOMEM, "out of memory");
	return rc;
}

/* --- subscribers: an event source mapping ------------------------------- */

static void subscription_free(void *data)
{
	subscription *s = data;
	if (!s)
		return;
	json_decref(s->filters);
	free(s);
}

static json_t *mapping_props(const subscription *s, synth_function *fn)
{
	json_t *props = json_pack("{s:o,s:o,s:i,s:b}", "EventSourceArn",
				  queue_token(s->q, "Arn"), "FunctionName",
				  synth_function_name_ref(fn), "BatchSize", s->batch_size, "Enabled",
				  1);
	if (!props)
		return NULL;
	if (s->window)
		json_object_set_new(props, "MaximumBatchingWindowInSeconds",
				    json_integer(s->window));
	if (s->partial)
		json_object_set_new(props, "FunctionResponseTypes",
				    json_pack("[s]", "ReportBatchItemFailures"));
	if (s->filters)
		json_object_set(props, "FilterCriteria", s->filters);
	if (s->max_concurrency)
		json_object_set_new(props, "ScalingConfig",
				    json_pack("{s:i}", "MaximumConcurrency", s->max_concurrency));
	return props;
}

/* In FN's construct: the mapping, after FN's policy grants it what Lambda
 * checks when the mapping is created (receive, delete, attributes). */
static int subscription_bind(synth_function *fn, void *data)
{
	subscription *s = data;
	synth_construct *scope = synth_function_construct(fn);
	const char *qname = synth_construct_name(s->q->c);
	int rc = synth_construct_require(scope, s->q->c);
	if (rc < 0)
		return rc;
	static const char *const actions[] = {"sqs:ReceiveMessage", "sqs:DeleteMessage",
					      "sqs:GetQueueAttributes", NULL};
	char *id = synth_asprintf("%sEventSource", qname);
	json_t *props = mapping_props(s, fn);
	synth_resource *esm = NULL;
	rc = id && props ? synth_resource_new(&esm, scope, id, "AWS::Lambda::EventSourceMapping",
					      props)
			 : (json_decref(props), synth_error_oom());
	free(id);
	if (rc == 0)
		rc = synth_function_grant(fn, actions, queue_token(s->q, "Arn"));
	if (rc == 0 && !strcmp(s->q->encryption, "kms"))
		rc = synth_function_add_statement(fn, kms_statement(json_pack("[s]",
									       "kms:Decrypt")));
	if (rc == 0)
		rc = synth_function_depend_on_policy(fn, esm);
	if (rc < 0)
		return synth_construct_failf(scope, rc, "subscription to queue %s: %s", qname,
					     synth_error_last()->message);
	return 0;
}

static const synth_event_source subscription_source = {
	.version = SYNTH_EVENT_SOURCE_VERSION,
	.kind = "queue",
	.bind = subscription_bind,
	.free = subscription_free,
};

/* The filters text into FilterCriteria (*out, NULL when TEXT is). Fails
 * naming FNAME. */
static int parse_filters(json_t **out, synth_queue *q, const char *fname, const char *text)
{
	*out = NULL;
	if (!text)
		return 0;
	const char *why;
	*out = synth_event_filter_criteria(text, &why);
	if (!*out && why)
		return synth_construct_failf(q->c, SYNTH_EINVALID,
					     "the filters of %s's subscription are not a JSON array "
					     "of patterns: %s", fname, why);
	return *out ? 0 : synth_construct_failf(q->c, SYNTH_ENOMEM, "out of memory");
}

/* The options and FN's timeout against the queue; messages name both. */
static int check_subscribe(synth_queue *q, synth_function *fn, const char *fname,
			   const synth_queue_subscribe_opts *o)
{
	int max_batch = q->fifo ? BATCH_MAX_FIFO : BATCH_MAX;
	if (o->batch_size < 0 || o->batch_size > max_batch)
		return synth_construct_failf(q->c, SYNTH_EINVALID,
					     "%s's batch size %d is outside 1..%d%s", fname,
					     o->batch_size, max_batch,
					     q->fifo ? " (a FIFO queue)" : "");
	if (o->batching_window_s < 0 || o->batching_window_s > WINDOW_MAX)
		return synth_construct_failf(q->c, SYNTH_EINVALID,
					     "%s's batching window %d s is outside 0..%d", fname,
					     o->batching_window_s, WINDOW_MAX);
	if (q->fifo && o->batching_window_s)
		return synth_construct_failf(q->c, SYNTH_EINVALID,
					     "%s's batching window: Lambda has none for FIFO queues",
					     fname);
	if (o->batch_size > BATCH_DEFAULT && o->batching_window_s < 1)
		return synth_construct_failf(q->c, SYNTH_EINVALID,
					     "%s's batch size %d is over 10: Lambda needs a batching "
					     "window of at least 1 s", fname, o->batch_size);
	if (o->max_concurrency &&
	    (o->max_concurrency < CONCURRENCY_MIN || o->max_concurrency > CONCURRENCY_MAX))
		return synth_construct_failf(q->c, SYNTH_EINVALID,
					     "%s's maximum concurrency %d is outside %d..%d", fname,
					     o->max_concurrency, CONCURRENCY_MIN, CONCURRENCY_MAX);
	/* A message whose consumer is still at work when it becomes visible
	 * again is delivered twice. */
	int timeout = synth_function_timeout(fn);
	if (q->visibility < timeout)
		return synth_construct_failf(q->c, SYNTH_EINVALID,
					     "visibility timeout %d s is shorter than the timeout of "
					     "its consumer %s (%d s): set it to at least %d s (AWS "
					     "recommends 6x the function's timeout, %d s)",
					     q->visibility, fname, timeout, timeout, 6 * timeout);
	if (json_object_get(q->subscribers, fname))
		return synth_construct_failf(q->c, SYNTH_EEXISTS,
					     "%s is subscribed to it already", fname);
	return 0;
}

int synth_queue_subscribe(synth_queue *q, synth_function *fn,
			  const synth_queue_subscribe_opts *opts)
{
	/* A failed define already recorded its error on the backend. */
	if (!q || !fn)
		return synth_error_setf(SYNTH_EINVALID,
					"synth_queue_subscribe: no %s (its definition failed)",
					!q ? "queue" : "function");
	static const synth_queue_subscribe_opts none = {0};
	const synth_queue_subscribe_opts *o = opts ? opts : &none;
	const char *fname = synth_construct_name(synth_function_construct(fn));
	json_t *filters = NULL;
	int rc = check_subscribe(q, fn, fname, o);
	if (rc == 0)
		rc = parse_filters(&filters, q, fname, o->filters);
	if (rc < 0)
		return rc;
	subscription *s = calloc(1, sizeof *s);
	if (!s || json_object_set_new(q->subscribers, fname, json_true()) < 0) {
		free(s);
		json_decref(filters);
		return synth_construct_failf(q->c, SYNTH_ENOMEM, "out of memory");
	}
	*s = (subscription){.q = q,
			    .batch_size = o->batch_size ? o->batch_size : BATCH_DEFAULT,
			    .window = o->batching_window_s,
			    .max_concurrency = o->max_concurrency,
			    .partial = o->partial_responses,
			    .filters = filters};
	/* S is FN's from here on, even on failure. */
	return synth_function_add_event_source(fn, &subscription_source, s);
}
