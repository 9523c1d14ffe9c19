/*
 * define_bus: an EventBridge event bus (a custom one, or the account's
 * default bus), rules that deliver its events to functions and queues,
 * and linking for functions that put events on it.
 *
 * Resources, by construct path (NAME is the bus's name; see
 * include/synth/bus.h):
 *   NAME/Bus                    AWS::Events::EventBus (custom bus only)
 *   <fn>/NAME[/<sub>]/Rule      AWS::Events::Rule        } a function subscription:
 *   <fn>/NAME[/<sub>]/Permission AWS::Lambda::Permission } an event source of <fn>
 *   NAME/<queue>[/<sub>]/Rule   AWS::Events::Rule        (a queue subscription)
 *
 * Where the rule of a function subscription lives: in the function's
 * construct, as the schedule (schedule.c) and the test topic do. The
 * permission names the function and the rule (SourceArn); keeping both
 * beside the function keeps them in the function's stack when the layout
 * splits a large backend, and the function's stack then depends on the
 * bus's, one way. A queue subscription has no function: its rule lives in
 * the bus's construct, and the queue's policy (the queue's construct,
 * through synth_queue_allow_send) names the rule.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <synth.h>
#include <synth/sys/construct.h>
#include <synth/queue.h>
#include <synth/bus.h>


#define EVENTS_PRINCIPAL "events.amazonaws.com"
#define MAX_INPUT_PATHS 100
#define MAX_INPUT_TEMPLATE 8192

/* One subscription: the rule's pattern and target, checked and copied at
 * subscribe time. */
typedef struct subscription {
	synth_bus *bus;     /* borrowed: the bus's state lives as long as the backend */
	char *label;        /* "NAME[/<sub>]" (function) or "<queue>[/<sub>]" (queue) */
	json_t *pattern;    /* EventPattern */
	json_t *target;     /* the target without Arn (Id, InputTransformer, ...) */
	synth_queue *dlq;   /* or NULL */
	synth_queue *queue; /* a queue target, or NULL for a function */
} subscription;

struct synth_bus {
	synth_construct *c;
	bool use_default;
	json_t *keys;            /* subscriptions taken: "fn:<name>/<sub>" -> true */
	subscription **queue_subs;
	size_t nqueue_subs, cap_queue_subs;
};

static void subscription_free(void *data)
{
	subscription *s = data;
	if (!s)
		return;
	free(s->label);
	json_decref(s->pattern);
	json_decref(s->target);
	free(s);
}

static void bus_free(void *state)
{
	synth_bus *bus = state;
	if (!bus)
		return;
	for (size_t i = 0; i < bus->nqueue_subs; i++)
		subscription_free(bus->queue_subs[i]);
	free(bus->queue_subs);
	json_decref(bus->keys);
	free(bus);
}

/* --- tokens -------------------------------------------------------------- */

static json_t *bus_token(const synth_bus *bus, const char *attr)
{
	char *p = synth_asprintf("%s/Bus", synth_construct_name(bus->c));
	json_t *t = p ? (attr ? synth_getatt(p, attr) : synth_ref(p)) : NULL;
	free(p);
	return t;
}

json_t *synth_bus_arn(const synth_bus *bus)
{
	if (!bus)
		return NULL; /* a failed define: its error is recorded */
	if (bus->use_default)
		return synth_sub("arn:${AWS::Partition}:events:${AWS::Region}:"
				 "${AWS::AccountId}:event-bus/default", NULL);
	return bus_token(bus, "Arn");
}

/* Ref of an AWS::Events::EventBus is its name. */
json_t *synth_bus_name(const synth_bus *bus)
{
	if (!bus)
		return NULL; /* a failed define: its error is recorded */
	return bus->use_default ? json_string("default") : bus_token(bus, NULL);
}

synth_construct *synth_bus_construct(synth_bus *bus) { return bus ? bus->c : NULL; }

/* A statement ID for a queue's policy: "Events" and the letters and
 * digits of PATH (unique per queue: rule paths are unique). */
static char *statement_id(const char *path)
{
	synth_buf b = SYNTH_BUF_INIT;
	synth_buf_puts(&b, "Events");
	for (const char *p = path; *p; p++)
		if (isalnum((unsigned char)*p))
			synth_buf_putc(&b, *p);
	return synth_buf_detach(&b);
}

/* --- rules --------------------------------------------------------------- */

/*
 * Adds the rule "<scope>/<label>/Rule" of S on its bus, targeting
 * TARGET_ARN (stolen), and lets the dead-letter queue receive from it.
 * *out is the rule.
 */
static int add_rule(synth_resource **out, synth_construct *scope, const subscription *s,
		    json_t *target_arn)
{
	char *id = synth_asprintf("%s/Rule", s->label);
	json_t *target = json_deep_copy(s->target);
	json_t *props = json_pack("{s:O,s:s}", "EventPattern", s->pattern, "State", "ENABLED");
	int rc = id && target && props && target_arn ? 0 : synth_error_oom();
	if (rc == 0 && !s->bus->use_default)
		json_object_set_new(props, "EventBusName", synth_bus_name(s->bus));
	if (rc == 0 && s->dlq)
		json_object_set_new(target, "DeadLetterConfig",
				    json_pack("{s:o}", "Arn", synth_queue_arn(s->dlq)));
	if (rc == 0) {
		json_object_set_new(target, "Arn", target_arn);
		target_arn = NULL;
		json_object_set_new(props, "Targets", json_pack("[O]", target));
		rc = synth_resource_new(out, scope, id, "AWS::Events::Rule", props);
		props = NULL;
	}
	json_decref(target_arn);
	json_decref(target);
	json_decref(props);
	free(id);
	if (rc == 0 && s->dlq)
		rc = synth_construct_require(scope, synth_queue_construct(s->dlq));
	if (rc == 0 && s->dlq) {
		char *sid = statement_id(synth_resource_path(*out));
		rc = sid ? synth_queue_allow_send(s->dlq, sid, EVENTS_PRINCIPAL,
						  synth_resource_getatt(*out, "Arn"))
			 : synth_error_oom();
		free(sid);
	}
	return rc;
}

/* In FN's construct: the rule targeting FN and the permission that lets
 * EventBridge invoke FN from exactly that rule. */
static int function_bind(synth_function *fn, void *data)
{
	subscription *s = data;
	synth_construct *scope = synth_function_construct(fn);
	/* The bus exists before the rule that names it. */
	int rc = synth_construct_require(scope, s->bus->c);
	synth_resource *rule = NULL;
	if (rc == 0)
		rc = add_rule(&rule, scope, s, synth_function_arn(fn));
	char *id = rc == 0 ? synth_asprintf("%s/Permission", s->label) : NULL;
	if (rc == 0 && !id)
		rc = synth_error_oom();
	if (rc == 0)
		rc = synth_resource_new(
			NULL, scope, id, "AWS::Lambda::Permission",
			json_pack("{s:s,s:o,s:s,s:o}", "Action", "lambda:InvokeFunction",
				  "FunctionName", synth_function_arn(fn), "Principal",
				  EVENTS_PRINCIPAL, "SourceArn", synth_resource_getatt(rule, "Arn")));
	free(id);
	if (rc < 0)
		return synth_construct_failf(scope, rc, "subscription to bus %s: %s",
					     synth_construct_name(s->bus->c),
					     synth_error_last()->message);
	return 0;
}

static const synth_event_source bus_source = {
	.version = SYNTH_EVENT_SOURCE_VERSION,
	.kind = "bus",
	.bind = function_bind,
	.free = subscription_free,
};

/* In the bus's construct: the rule targeting the queue, and the queue's
 * permission for exactly that rule. */
static int queue_rule(synth_construct *self, const subscription *s)
{
	synth_construct *qc = synth_queue_construct(s->queue);
	int rc = synth_construct_require(self, qc);
	synth_resource *rule = NULL;
	if (rc == 0)
		rc = add_rule(&rule, self, s, synth_queue_arn(s->queue));
	if (rc == 0) {
		char *sid = statement_id(synth_resource_path(rule));
		rc = sid ? synth_queue_allow_send(s->queue, sid, EVENTS_PRINCIPAL,
						  synth_resource_getatt(rule, "Arn"))
			 : synth_error_oom();
		free(sid);
	}
	if (rc < 0)
		return synth_construct_failf(self, rc, "subscription of queue %s: %s",
					     synth_construct_name(qc), synth_error_last()->message);
	return 0;
}

static int bus_generate(synth_construct *self, void *state)
{
	synth_bus *bus = state;
	if (!bus->use_default) {
		/* Unique per stack, so two backends in one account never share a
		 * bus by accident. */
		char *fmt = synth_asprintf("${AWS::StackName}-%s", synth_construct_name(self));
		if (!fmt)
			return synth_construct_failf(self, SYNTH_ENOMEM, "out of memory");
		int rc = synth_resource_new(NULL, self, "Bus", "AWS::Events::EventBus",
					    json_pack("{s:o}", "Name", synth_sub(fmt, NULL)));
		free(fmt);
		if (rc < 0)
			return synth_construct_failf(self, rc, "%s", synth_error_last()->message);
	}
	for (size_t i = 0; i < bus->nqueue_subs; i++) {
		int rc = queue_rule(self, bus->queue_subs[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* synth_function_link(fn, bus, "put"): events:PutEvents on exactly this
 * bus; its name and ARN as SYNTH_<NAME>_NAME and SYNTH_<NAME>_ARN. */
static int bus_link(synth_construct *self, void *state, synth_function *fn,
		    const char *access)
{
	synth_bus *bus = state;
	char *list = strdup(access), *save = NULL;
	int rc = list ? 0 : synth_error_oom();
	for (char *t = list ? strtok_r(list, ", ", &save) : NULL; rc == 0 && t;
	     t = strtok_r(NULL, ", ", &save))
		if (strcmp(t, "put"))
			rc = synth_construct_failf(
				self, SYNTH_EINVALID,
				"link of %s: access '%s' is not put (the only level a bus has)",
				synth_construct_name(synth_function_construct(fn)), t);
	free(list);
	const char *const actions[] = {"events:PutEvents", NULL};
	if (rc == 0)
		rc = synth_function_grant(fn, actions, synth_bus_arn(bus));
	if (rc == 0)
		rc = synth_function_link_env(fn, self, "NAME", synth_bus_name(bus));
	if (rc == 0)
		rc = synth_function_link_env(fn, self, "ARN", synth_bus_arn(bus));
	return rc;
}

static const synth_construct_class bus_class = {
	.version = SYNTH_CONSTRUCT_CLASS_VERSION,
	.kind = "bus",
	.generate = bus_generate,
	.free = bus_free,
	.link = bus_link,
};

synth_bus *synth_define_bus(synth_backend *b, const char *name, const synth_bus_props *props)
{
	SYNTH_CHECK_HANDLE(b);
	static const synth_bus_props none = {0};
	const synth_bus_props *p = props ? props : &none;
	synth_error_clear();
	synth_bus *bus = calloc(1, sizeof *bus);
	if (!bus || !(bus->keys = json_object())) {
		free(bus);
		synth_backend_failf(b, SYNTH_ENOMEM, "%s: out of memory", name ? name : "");
		return NULL;
	}
	bus->use_default = p->use_default;
	/* On failure BUS is freed and the error (naming NAME) is recorded. */
	if (synth_construct_new(&bus->c, b, name, &bus_class, bus) < 0)
		return NULL;
	return bus;
}

/* --- subscriptions: checking the options --------------------------------- */

/* The dotted path of the first leaf of the pattern object O that is not a
 * non-empty array (EventBridge matches values listed in arrays), or NULL
 * when all are. PREFIX is O's own path. Caller frees. */
static char *bad_leaf(const json_t *o, const char *prefix, bool *oom)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)o, k, v) {
		if (json_is_array(v) && json_array_size(v))
			continue;
		char *path = synth_asprintf("%s.%s", prefix, k);
		if (!path) {
			*oom = true;
			return NULL;
		}
		if (!json_is_object(v) || !json_object_size(v))
			return path;
		char *deeper = bad_leaf(v, path, oom);
		free(path);
		if (deeper || *oom)
			return deeper;
	}
	return NULL;
}

/* A NULL-terminated list of non-empty strings as a JSON array, or NULL
 * after failing naming WHAT. */
static json_t *string_list(synth_bus *bus, const char *who, const char *what,
			   const char *const *v)
{
	json_t *a = json_array();
	for (size_t i = 0; a && v[i]; i++)
		if (!*v[i]) {
			json_decref(a);
			synth_construct_failf(bus->c, SYNTH_EINVALID,
					      "the pattern of %s: %s %zu is empty", who, what, i + 1);
			return NULL;
		} else
			json_array_append_new(a, json_string(v[i]));
	if (!a)
		synth_construct_failf(bus->c, SYNTH_ENOMEM, "out of memory");
	return a;
}

/* The EventPattern of O, or NULL after failing. WHO names the subscriber. */
static json_t *build_pattern(synth_bus *bus, const char *who, const synth_bus_subscribe_opts *o)
{
	json_t *pat = json_object();
	if (!pat) {
		synth_construct_failf(bus->c, SYNTH_ENOMEM, "out of memory");
		return NULL;
	}
	json_t *a;
	if (o->sources && o->sources[0]) {
		if (!(a = string_list(bus, who, "source", o->sources)))
			goto fail;
		json_object_set_new(pat, "source", a);
	}
	if (o->detail_types && o->detail_types[0]) {
		if (!(a = string_list(bus, who, "detail-type", o->detail_types)))
			goto fail;
		json_object_set_new(pat, "detail-type", a);
	}
	if (o->detail) {
		json_error_t err;
		json_t *d = json_loads(o->detail, JSON_REJECT_DUPLICATES, &err);
		if (!json_is_object(d) || !json_object_size(d)) {
			synth_construct_failf(bus->c, SYNTH_EINVALID,
					      "the detail pattern of %s is not a non-empty JSON "
					      "object: %s", who,
					      !d ? err.text : json_is_object(d) ? "it is empty"
									: "wrong type");
			json_decref(d);
			goto fail;
		}
		bool oom = false;
		char *bad = bad_leaf(d, "detail", &oom);
		if (bad || oom) {
			if (bad)
				synth_construct_failf(bus->c, SYNTH_EINVALID,
						      "the detail pattern of %s: %s must be a "
						      "non-empty array of values or an object "
						      "(\"{\\\"kind\\\": [\\\"order\\\"]}\")", who, bad);
			else
				synth_construct_failf(bus->c, SYNTH_ENOMEM, "out of memory");
			free(bad);
			json_decref(d);
			goto fail;
		}
		json_object_set_new(pat, "detail", d);
	}
	/* No constraint: every event on the bus (EventBridge wants one field). */
	if (!json_object_size(pat))
		json_object_set_new(pat, "source", json_pack("[{s:s}]", "prefix", ""));
	return pat;
fail:
	json_decref(pat);
	return NULL;
}

/* The InputTransformer of O into TARGET. 0, or a code after failing. */
static int build_transformer(synth_bus *bus, const char *who, const synth_bus_subscribe_opts *o,
			     json_t *target)
{
	bool paths = o->input_paths && o->input_paths[0].name;
	if (!paths && !o->input_template)
		return 0;
	if (!o->input_template || !*o->input_template)
		return synth_construct_failf(bus->c, SYNTH_EINVALID,
					     "the input transformer of %s has input paths but "
					     "no template", who);
	if (strlen(o->input_template) > MAX_INPUT_TEMPLATE)
		return synth_construct_failf(bus->c, SYNTH_EINVALID,
					     "the input template of %s is longer than %d "
					     "characters", who, MAX_INPUT_TEMPLATE);
	json_t *map = json_object();
	size_t n = 0;
	for (const synth_bus_input_path *e = o->input_paths; map && e && e->name; e++, n++) {
		bool name_ok = *e->name != '\0';
		for (const char *c = e->name; *c; c++)
			name_ok &= isalnum((unsigned char)*c) || *c == '_';
		const char *why = !name_ok ? "is not letters, digits and '_'"
				  : n >= MAX_INPUT_PATHS ? "is one too many (at most 100)"
				  : !e->path || e->path[0] != '$' ? "has no path starting with '$'"
				  : json_object_get(map, e->name) ? "is given twice"
								 : NULL;
		if (why) {
			json_decref(map);
			return synth_construct_failf(bus->c, SYNTH_EINVALID,
						     "the input transformer of %s: input path "
						     "'%s' %s", who, e->name, why);
		}
		json_object_set_new(map, e->name, json_string(e->path));
	}
	json_t *tr = map ? json_pack("{s:s}", "InputTemplate", o->input_template) : NULL;
	if (tr && n)
		json_object_set(tr, "InputPathsMap", map);
	json_decref(map);
	if (!tr)
		return synth_construct_failf(bus->c, SYNTH_ENOMEM, "out of memory");
	json_object_set_new(target, "InputTransformer", tr);
	return 0;
}

/* RetryPolicy, the dead-letter queue and the FIFO message group of O into
 * TARGET. 0, or a code after failing. */
static int build_delivery(synth_bus *bus, const char *who, const synth_bus_subscribe_opts *o,
			  synth_queue *queue, json_t *target)
{
	if (o->retry_attempts != 0 && o->retry_attempts != SYNTH_BUS_NO_RETRIES &&
	    (o->retry_attempts < 1 || o->retry_attempts > 185))
		return synth_construct_failf(bus->c, SYNTH_EINVALID,
					     "%s: retry attempts %d is not 1..185 "
					     "(SYNTH_BUS_NO_RETRIES for none)", who,
					     o->retry_attempts);
	if (o->max_event_age_s && (o->max_event_age_s < 60 || o->max_event_age_s > 86400))
		return synth_construct_failf(bus->c, SYNTH_EINVALID,
					     "%s: maximum event age %d s is not 60..86400", who,
					     o->max_event_age_s);
	if (o->retry_attempts || o->max_event_age_s) {
		json_t *rp = json_object();
		if (rp && o->retry_attempts)
			json_object_set_new(rp, "MaximumRetryAttempts",
					    json_integer(o->retry_attempts < 0 ? 0 : o->retry_attempts));
		if (rp && o->max_event_age_s)
			json_object_set_new(rp, "MaximumEventAgeInSeconds",
					    json_integer(o->max_event_age_s));
		if (!rp || json_object_set_new(target, "RetryPolicy", rp) < 0)
			return synth_construct_failf(bus->c, SYNTH_ENOMEM, "out of memory");
	}
	if (o->dlq && synth_queue_is_fifo(o->dlq))
		return synth_construct_failf(bus->c, SYNTH_EINVALID,
					     "%s: dead-letter queue %s is a FIFO queue; "
					     "EventBridge takes standard queues only", who,
					     synth_construct_name(synth_queue_construct(o->dlq)));
	bool fifo = queue && synth_queue_is_fifo(queue);
	if (fifo && (!o->message_group_id || !*o->message_group_id ||
		     strlen(o->message_group_id) > 100))
		return synth_construct_failf(bus->c, SYNTH_EINVALID,
					     "%s is a FIFO queue: give a message_group_id of 1 to "
					     "100 characters", who);
	if (!fifo && o->message_group_id)
		return synth_construct_failf(bus->c, SYNTH_EINVALID,
					     "%s: a message_group_id is for FIFO queues only", who);
	if (fifo && json_object_set_new(target, "SqsParameters",
					json_pack("{s:s}", "MessageGroupId",
						  o->message_group_id)) < 0)
		return synth_construct_failf(bus->c, SYNTH_ENOMEM, "out of memory");
	return 0;
}

/*
 * A checked subscription of target TNAME (a function or queue name; KIND
 * "function" or "queue") to BUS, or NULL after failing. Its label is the
 * bus's name (function targets) or the queue's, then /<opts.name>.
 */
static subscription *new_subscription(synth_bus *bus, const char *kind, const char *tname,
				      synth_queue *queue, const synth_bus_subscribe_opts *o)
{
	char *who = synth_asprintf("%s %s", kind, tname);
	if (!who) {
		synth_construct_failf(bus->c, SYNTH_ENOMEM, "out of memory");
		return NULL;
	}
	subscription *s = calloc(1, sizeof *s);
	char *key = NULL;
	if (o->name && !synth_name_valid(o->name, 64)) {
		synth_construct_failf(bus->c, SYNTH_EINVALID,
				      "the subscription of %s: name '%s' is not 1 to 64 letters, "
				      "digits, '-' or '_'", who, o->name);
		goto fail;
	}
	const char *base = queue ? tname : synth_construct_name(bus->c);
	if (!s || !(s->target = json_pack("{s:s}", "Id", "Target0")) ||
	    !(s->label = o->name ? synth_asprintf("%s/%s", base, o->name) : strdup(base)) ||
	    !(key = synth_asprintf("%s:%s/%s", kind, tname, o->name ? o->name : ""))) {
		synth_construct_failf(bus->c, SYNTH_ENOMEM, "out of memory");
		goto fail;
	}
	s->bus = bus;
	s->queue = queue;
	s->dlq = o->dlq;
	if (!(s->pattern = build_pattern(bus, who, o)) ||
	    build_transformer(bus, who, o, s->target) < 0 ||
	    build_delivery(bus, who, o, queue, s->target) < 0)
		goto fail;
	if (json_object_get(bus->keys, key)) {
		synth_construct_failf(bus->c, SYNTH_EINVALID,
				      "%s subscribes twice%s%s%s: give each subscription its own "
				      "name", who, o->name ? " as '" : "", o->name ? o->name : "",
				      o->name ? "'" : "");
		goto fail;
	}
	if (json_object_set_new(bus->keys, key, json_true()) < 0) {
		synth_construct_failf(bus->c, SYNTH_ENOMEM, "out of memory");
		goto fail;
	}
	free(key);
	free(who);
	return s;
fail:
	subscription_free(s);
	free(key);
	free(who);
	return NULL;
}

int synth_bus_subscribe(synth_bus *bus, synth_function *fn, const synth_bus_subscribe_opts *opts)
{
	static const synth_bus_subscribe_opts none = {0};
	/* A failed define already recorded its error on the backend. */
	if (!bus)
		return synth_error_setf(SYNTH_EINVALID,
					"synth_bus_subscribe: no bus (its definition failed)");
	if (!fn)
		return synth_construct_failf(bus->c, SYNTH_EINVALID,
					     "subscribe: no function (its definition failed?)");
	synth_construct *fc = synth_function_construct(fn);
	if (synth_construct_backend(fc) != synth_construct_backend(bus->c))
		return synth_construct_failf(bus->c, SYNTH_EINVALID,
					     "cannot subscribe function %s: it belongs to "
					     "another backend", synth_construct_name(fc));
	const synth_bus_subscribe_opts *o = opts ? opts : &none;
	if (o->message_group_id)
		return synth_construct_failf(bus->c, SYNTH_EINVALID,
					     "function %s: a message_group_id is for FIFO queue "
					     "targets only", synth_construct_name(fc));
	subscription *s = new_subscription(bus, "function", synth_construct_name(fc), NULL, o);
	if (!s)
		return synth_error_last()->code;
	/* S is FN's from here on, even on failure. */
	return synth_function_add_event_source(fn, &bus_source, s);
}

int synth_bus_subscribe_queue(synth_bus *bus, synth_queue *q,
			      const synth_bus_subscribe_opts *opts)
{
	static const synth_bus_subscribe_opts none = {0};
	if (!bus)
		return synth_error_setf(SYNTH_EINVALID,
					"synth_bus_subscribe_queue: no bus (its definition failed)");
	if (!q)
		return synth_construct_failf(bus->c, SYNTH_EINVALID,
					     "subscribe: no queue (its definition failed?)");
	synth_construct *qc = synth_queue_construct(q);
	if (synth_construct_backend(qc) != synth_construct_backend(bus->c))
		return synth_construct_failf(bus->c, SYNTH_EINVALID,
					     "cannot subscribe queue %s: it belongs to another "
					     "backend", synth_construct_name(qc));
	subscription *s = new_subscription(bus, "queue", synth_construct_name(qc), q,
					   opts ? opts : &none);
	if (!s)
		return synth_error_last()->code;
	if (synth_array_grow((void **)&bus->queue_subs, &bus->nqueue_subs, &bus->cap_queue_subs,
			     sizeof *bus->queue_subs) < 0) {
		subscription_free(s);
		return synth_construct_failf(bus->c, SYNTH_ENOMEM, "out of memory");
	}
	bus->queue_subs[bus->nqueue_subs++] = s;
	return 0;
}
