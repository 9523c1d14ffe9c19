/*
 * define_topic: an SNS topic (SST's SnsTopic) and its subscriptions:
 * functions (an event source: the subscription and the permission are the
 * function's resources), queues (the subscription is the topic's, the
 * queue's policy allows exactly this topic), email addresses and HTTPS
 * endpoints; each with an optional filter policy.
 *
 * Resources, by construct path (NAME is the topic's name): see
 * include/synth/topic.h. Written against the public construct API only,
 * on the model of constructs/queue.c.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <synth.h>
#include <synth/sys/construct.h>
#include <synth/queue.h>
#include <synth/topic.h>

enum { DISPLAY_NAME_MAX = 100, TOPIC_NAME_MAX = 256, ENDPOINT_MAX = 2048 };

struct synth_topic {
	synth_construct *c;
	bool fifo, content_dedup;
	char *display_name;
	/* Subscriptions in the topic's construct, in call order: objects with
	 * "protocol" (email, https, sqs), "endpoint" (text, or the queue's
	 * name for sqs) and the optional "filter", "body", "raw". */
	json_t *subs;
	json_t *statements;   /* the topic policy's (allow_publish) */
	json_t *functions;    /* subscribed function names -> true */
	synth_resource *topic;
	synth_resource *policy;
};

/* A function's subscription: what the event source carries to bind(). */
typedef struct subscription {
	synth_topic *t; /* borrowed */
	json_t *filter; /* a JSON object, or NULL */
	bool body;
} subscription;

static void topic_free(void *state)
{
	synth_topic *t = state;
	if (!t)
		return;
	free(t->display_name);
	json_decref(t->subs);
	json_decref(t->statements);
	json_decref(t->functions);
	free(t);
}

/* A token of the topic: its Ref (the ARN) or an attribute. */
static json_t *topic_token(const synth_topic *t, const char *attr)
{
	char *p = synth_asprintf("%s/Topic", synth_construct_name(t->c));
	json_t *r = p ? (attr ? synth_getatt(p, attr) : synth_ref(p)) : NULL;
	free(p);
	return r;
}

/* A FIFO topic's name: CloudFormation fails to create a FIFO topic it has
 * to name (aws-cdk #12386), so "<NAME>-<hash>.fifo", the hash of the
 * backend's stack name and NAME keeping branches in one account apart. */
static char *fifo_name(const synth_topic *t)
{
	const char *name = synth_construct_name(t->c);
	char *key = synth_asprintf("%s/%s/Topic",
				   synth_backend_stack_name(synth_construct_backend(t->c)), name);
	char hex[65];
	int rc = key ? synth_sha256_hex(key, strlen(key), hex) : SYNTH_ENOMEM;
	free(key);
	if (rc < 0)
		return NULL;
	return synth_asprintf("%.*s-%.10s.fifo", TOPIC_NAME_MAX - 16, name, hex);
}

/* Adds the filter policy (and its scope) of SUB to PROPS. */
static void set_filter(json_t *props, json_t *filter, bool body)
{
	if (!filter)
		return;
	json_object_set_new(props, "FilterPolicy", json_deep_copy(filter));
	if (body)
		json_object_set_new(props, "FilterPolicyScope", json_string("MessageBody"));
}

static int ensure_policy(synth_topic *t)
{
	if (t->policy || !t->topic)
		return 0;
	json_t *props = json_pack("{s:[o],s:{s:s,s:O}}", "Topics", topic_token(t, NULL),
				  "PolicyDocument", "Version", "2012-10-17", "Statement",
				  t->statements);
	if (!props)
		return synth_error_oom();
	return synth_resource_new(&t->policy, t->c, "Policy", "AWS::SNS::TopicPolicy", props);
}

/* A queue subscription: after the queue's policy lets the topic send. */
static int queue_subscription(synth_construct *self, synth_topic *t, json_t *sub)
{
	synth_backend *b = synth_construct_backend(self);
	const char *qname = json_string_value(json_object_get(sub, "endpoint"));
	synth_construct *qc = synth_backend_construct(b, qname);
	int rc = synth_construct_require(self, qc);
	if (rc < 0)
		return rc;
	char *qarn = synth_asprintf("%s/Queue", qname), *pol = synth_asprintf("%s/Policy", qname);
	char *id = synth_asprintf("%sSubscription", qname);
	json_t *props = qarn ? json_pack("{s:s,s:o,s:o}", "Protocol", "sqs", "Endpoint",
					 synth_getatt(qarn, "Arn"), "TopicArn",
					 topic_token(t, NULL))
			     : NULL;
	synth_resource *r = NULL;
	if (props && json_is_true(json_object_get(sub, "raw")))
		json_object_set_new(props, "RawMessageDelivery", json_true());
	if (props)
		set_filter(props, json_object_get(sub, "filter"),
			   json_is_true(json_object_get(sub, "body")));
	rc = props && id && pol ? synth_resource_new(&r, self, id, "AWS::SNS::Subscription", props)
				: (json_decref(props), synth_error_oom());
	synth_resource *qp = rc == 0 ? synth_backend_resource(b, pol) : NULL;
	if (rc == 0 && qp)
		rc = synth_resource_add_dependency(r, qp);
	free(qarn);
	free(pol);
	free(id);
	return rc;
}

static int topic_generate(synth_construct *self, void *state)
{
	synth_topic *t = state;
	json_t *props = json_object();
	int rc = props ? 0 : synth_error_oom();
	if (rc == 0 && t->display_name)
		json_object_set_new(props, "DisplayName", json_string(t->display_name));
	if (rc == 0 && t->fifo) {
		char *n = fifo_name(t);
		json_object_set_new(props, "FifoTopic", json_true());
		json_object_set_new(props, "TopicName", json_string(n));
		if (t->content_dedup)
			json_object_set_new(props, "ContentBasedDeduplication", json_true());
		rc = n ? 0 : synth_error_oom();
		free(n);
	}
	rc = rc == 0 ? synth_resource_new(&t->topic, self, "Topic", "AWS::SNS::Topic", props)
		     : (json_decref(props), rc);
	int nemail = 0, nhttps = 0;
	size_t i;
	json_t *sub;
	json_array_foreach(t->subs, i, sub) {
		if (rc < 0)
			break;
		const char *proto = json_string_value(json_object_get(sub, "protocol"));
		if (!strcmp(proto, "sqs")) {
			rc = queue_subscription(self, t, sub);
			continue;
		}
		bool email = !strcmp(proto, "email");
		char id[32];
		snprintf(id, sizeof id, "%s%d", email ? "Email" : "Https",
			 email ? ++nemail : ++nhttps);
		json_t *sp = json_pack("{s:s,s:O,s:o}", "Protocol", proto, "Endpoint",
				       json_object_get(sub, "endpoint"), "TopicArn",
				       topic_token(t, NULL));
		if (sp && json_is_true(json_object_get(sub, "raw")))
			json_object_set_new(sp, "RawMessageDelivery", json_true());
		if (sp)
			set_filter(sp, json_object_get(sub, "filter"),
				   json_is_true(json_object_get(sub, "body")));
		rc = sp ? synth_resource_new(NULL, self, id, "AWS::SNS::Subscription", sp)
			: synth_error_oom();
	}
	if (rc == 0 && json_array_size(t->statements))
		rc = ensure_policy(t);
	if (rc < 0)
		return synth_construct_failf(self, rc, "%s", synth_error_last()->message);
	return 0;
}

/* synth_function_link(fn, synth_topic_construct(t), "publish"): sns:Publish
 * on exactly this topic, its ARN as SYNTH_<NAME>_ARN. */
static int topic_link(synth_construct *self, void *state, synth_function *fn,
		      const char *access)
{
	synth_topic *t = state;
	char *list = strdup(access), *save = NULL;
	int rc = list ? 0 : synth_error_oom(), n = 0;
	for (char *a = list ? strtok_r(list, ", ", &save) : NULL; rc == 0 && a;
	     a = strtok_r(NULL, ", ", &save), n++)
		if (strcmp(a, "publish"))
			rc = synth_construct_failf(
				self, SYNTH_EINVALID,
				"link of %s: access '%s' is not publish (the only level a topic has)",
				synth_construct_name(synth_function_construct(fn)), a);
	free(list);
	if (rc < 0)
		return rc;
	if (!n)
		return synth_construct_failf(self, SYNTH_EINVALID,
					     "link of %s: no access level (publish)",
					     synth_construct_name(synth_function_construct(fn)));
	static const char *const actions[] = {"sns:Publish", NULL};
	rc = synth_function_grant(fn, actions, topic_token(t, NULL));
	return rc ? rc : synth_function_link_env(fn, self, "ARN", topic_token(t, NULL));
}

static const synth_construct_class topic_class = {
	.version = SYNTH_CONSTRUCT_CLASS_VERSION,
	.kind = "topic",
	.generate = topic_generate,
	.free = topic_free,
	.link = topic_link,
};

synth_topic *synth_define_topic(synth_backend *b, const char *name,
				const synth_topic_props *props)
{
	SYNTH_CHECK_HANDLE(b);
	static const synth_topic_props none = {0};
	const synth_topic_props *p = props ? props : &none;
	const char *nm = name ? name : "";
	synth_error_clear();
	if (p->display_name && (!*p->display_name || strlen(p->display_name) > DISPLAY_NAME_MAX)) {
		synth_backend_failf(b, SYNTH_EINVALID,
				    "%s: display name must have 1 to %d characters", nm,
				    DISPLAY_NAME_MAX);
		return NULL;
	}
	if (p->content_dedup && !p->fifo) {
		synth_backend_failf(b, SYNTH_EINVALID,
				    "%s: content-based deduplication needs a FIFO topic (set .fifo)",
				    nm);
		return NULL;
	}
	synth_topic *t = calloc(1, sizeof *t);
	if (!t || (p->display_name && !(t->display_name = strdup(p->display_name))) ||
	    !(t->subs = json_array()) || !(t->statements = json_array()) ||
	    !(t->functions = json_object())) {
		topic_free(t);
		synth_backend_failf(b, SYNTH_ENOMEM, "%s: out of memory", nm);
		return NULL;
	}
	t->fifo = p->fifo;
	t->content_dedup = p->content_dedup;
	if (synth_construct_new(&t->c, b, name, &topic_class, t) < 0)
		return NULL;
	return t;
}

/* A failed define's NULL gives NULL (false): its error is recorded. */
json_t *synth_topic_arn(const synth_topic *t) { return t ? topic_token(t, NULL) : NULL; }
json_t *synth_topic_name(const synth_topic *t) { return t ? topic_token(t, "TopicName") : NULL; }
bool synth_topic_is_fifo(const synth_topic *t) { return t && t->fifo; }
synth_construct *synth_topic_construct(synth_topic *t) { return t ? t->c : NULL; }

/* --- subscriptions ------------------------------------------------------ */

/* The filter policy of OPTS, checked: *out a JSON object or NULL. WHAT
 * names the subscriber in messages. */
static int parse_filter(json_t **out, synth_topic *t, const char *what,
			const synth_topic_subscribe_opts *o, bool raw_ok)
{
	*out = NULL;
	if (o->raw_delivery && !raw_ok)
		return synth_construct_failf(t->c, SYNTH_EINVALID,
					     "raw delivery to %s: only queues and HTTPS endpoints "
					     "take raw messages", what);
	if (!o->filter_policy) {
		if (o->filter_on_body)
			return synth_construct_failf(t->c, SYNTH_EINVALID,
						     "the subscription of %s filters on the body "
						     "but has no filter policy", what);
		return 0;
	}
	json_error_t err;
	json_t *f = json_loads(o->filter_policy, JSON_REJECT_DUPLICATES, &err);
	if (!json_is_object(f) || !json_object_size(f)) {
		int rc = synth_construct_failf(t->c, SYNTH_EINVALID,
					       "the filter policy of %s's subscription is not a "
					       "non-empty JSON object: %s", what,
					       !f ? err.text : "wrong type or empty");
		json_decref(f);
		return rc;
	}
	*out = f;
	return 0;
}

static void function_subscription_free(void *data)
{
	subscription *s = data;
	if (!s)
		return;
	json_decref(s->filter);
	free(s);
}

/* In FN's construct: the subscription, and the permission that lets SNS
 * invoke FN from this topic only. */
static int function_subscription_bind(synth_function *fn, void *data)
{
	subscription *s = data;
	synth_construct *scope = synth_function_construct(fn);
	const char *tname = synth_construct_name(s->t->c);
	int rc = synth_construct_require(scope, s->t->c);
	if (rc < 0)
		return rc;
	char *id_sub = synth_asprintf("%sSubscription", tname);
	char *id_perm = synth_asprintf("%sPermission", tname);
	json_t *props = json_pack("{s:s,s:o,s:o}", "Protocol", "lambda", "Endpoint",
				  synth_function_arn(fn), "TopicArn", topic_token(s->t, NULL));
	if (props)
		set_filter(props, s->filter, s->body);
	rc = props && id_sub && id_perm
		     ? synth_resource_new(NULL, scope, id_sub, "AWS::SNS::Subscription", props)
		     : (json_decref(props), synth_error_oom());
	if (rc == 0)
		rc = synth_resource_new(
			NULL, scope, id_perm, "AWS::Lambda::Permission",
			json_pack("{s:s,s:o,s:s,s:o}", "Action", "lambda:InvokeFunction",
				  "FunctionName", synth_function_arn(fn), "Principal",
				  "sns.amazonaws.com", "SourceArn", topic_token(s->t, NULL)));
	free(id_sub);
	free(id_perm);
	if (rc < 0)
		return synth_construct_failf(scope, rc, "subscription to topic %s: %s", tname,
					     synth_error_last()->message);
	return 0;
}

static const synth_event_source function_subscription_source = {
	.version = SYNTH_EVENT_SOURCE_VERSION,
	.kind = "topic",
	.bind = function_subscription_bind,
	.free = function_subscription_free,
};

int synth_topic_subscribe(synth_topic *t, synth_function *fn,
			  const synth_topic_subscribe_opts *opts)
{
	if (!t || !fn)
		return synth_error_setf(SYNTH_EINVALID,
					"synth_topic_subscribe: no %s (its definition failed)",
					!t ? "topic" : "function");
	static const synth_topic_subscribe_opts none = {0};
	const synth_topic_subscribe_opts *o = opts ? opts : &none;
	const char *fname = synth_construct_name(synth_function_construct(fn));
	if (t->fifo)
		return synth_construct_failf(t->c, SYNTH_EINVALID,
					     "a FIFO topic cannot invoke function %s: SNS FIFO "
					     "topics deliver to SQS FIFO queues only", fname);
	if (json_object_get(t->functions, fname))
		return synth_construct_failf(t->c, SYNTH_EEXISTS,
					     "function %s is subscribed already", fname);
	json_t *filter = NULL;
	if (parse_filter(&filter, t, fname, o, false) < 0)
		return SYNTH_EINVALID;
	subscription *s = calloc(1, sizeof *s);
	if (!s || json_object_set_new(t->functions, fname, json_true()) < 0) {
		free(s);
		json_decref(filter);
		return synth_construct_failf(t->c, SYNTH_ENOMEM, "out of memory");
	}
	*s = (subscription){.t = t, .filter = filter, .body = o->filter_on_body};
	return synth_function_add_event_source(fn, &function_subscription_source, s);
}

/* Records a subscription made in the topic's construct. */
static int add_sub(synth_topic *t, const char *protocol, const char *endpoint,
		   const char *what, const synth_topic_subscribe_opts *opts, bool raw_ok)
{
	static const synth_topic_subscribe_opts none = {0};
	const synth_topic_subscribe_opts *o = opts ? opts : &none;
	json_t *filter = NULL;
	if (parse_filter(&filter, t, what, o, raw_ok) < 0)
		return SYNTH_EINVALID;
	json_t *sub = json_pack("{s:s,s:s}", "protocol", protocol, "endpoint", endpoint);
	if (sub && filter)
		json_object_set_new(sub, "filter", filter);
	else
		json_decref(filter);
	if (sub && o->filter_on_body)
		json_object_set_new(sub, "body", json_true());
	if (sub && o->raw_delivery)
		json_object_set_new(sub, "raw", json_true());
	if (!sub || json_array_append_new(t->subs, sub) < 0)
		return synth_construct_failf(t->c, SYNTH_ENOMEM, "out of memory");
	return 0;
}

int synth_topic_subscribe_queue(synth_topic *t, synth_queue *q,
				const synth_topic_subscribe_opts *opts)
{
	if (!t || !q)
		return synth_error_setf(SYNTH_EINVALID,
					"synth_topic_subscribe_queue: no %s (its definition failed)",
					!t ? "topic" : "queue");
	const char *tname = synth_construct_name(t->c);
	const char *qname = synth_construct_name(synth_queue_construct(q));
	if (t->fifo != synth_queue_is_fifo(q))
		return synth_construct_failf(
			t->c, SYNTH_EINVALID, "%s topic %s cannot deliver to %s queue %s: %s",
			t->fifo ? "FIFO" : "standard", tname, t->fifo ? "standard" : "FIFO", qname,
			t->fifo ? "a FIFO topic delivers to FIFO queues only"
				: "a FIFO queue takes messages from FIFO topics only");
	size_t i;
	json_t *sub;
	json_array_foreach(t->subs, i, sub)
		if (!strcmp(json_string_value(json_object_get(sub, "protocol")), "sqs") &&
		    !strcmp(json_string_value(json_object_get(sub, "endpoint")), qname))
			return synth_construct_failf(t->c, SYNTH_EEXISTS,
						     "queue %s is subscribed already", qname);
	char *sid = synth_asprintf("FromTopic%s", tname);
	int rc = sid ? synth_queue_allow_send(q, sid, "sns.amazonaws.com", topic_token(t, NULL))
		     : synth_construct_failf(t->c, SYNTH_ENOMEM, "out of memory");
	free(sid);
	return rc < 0 ? rc : add_sub(t, "sqs", qname, qname, opts, true);
}

/* An address SNS will take: one '@', a local part, a dotted domain, no
 * spaces or controls. */
static bool email_ok(const char *a)
{
	const char *at = a ? strchr(a, '@') : NULL;
	if (!at || at == a || strchr(at + 1, '@') || strlen(a) > 254)
		return false;
	const char *dot = strrchr(at + 1, '.');
	if (!dot || dot == at + 1 || !dot[1])
		return false;
	for (const char *p = a; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f || strchr("<>(),;:\\\"[]", *p))
			return false;
	return true;
}

static bool https_ok(const char *u)
{
	if (!u || strncmp(u, "https://", 8) || strlen(u) > ENDPOINT_MAX)
		return false;
	const char *host = u + 8;
	if (!*host || *host == '/' || *host == ':' || *host == '.')
		return false;
	for (const char *p = u; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

int synth_topic_subscribe_email(synth_topic *t, const char *address,
				const synth_topic_subscribe_opts *opts)
{
	SYNTH_CHECK_HANDLE(t);
	if (!email_ok(address))
		return synth_construct_failf(t->c, SYNTH_EINVALID,
					     "'%s' is not an email address (name@domain.tld)",
					     address ? address : "");
	return add_sub(t, "email", address, address, opts, false);
}

int synth_topic_subscribe_https(synth_topic *t, const char *url,
				const synth_topic_subscribe_opts *opts)
{
	SYNTH_CHECK_HANDLE(t);
	if (!https_ok(url))
		return synth_construct_failf(t->c, SYNTH_EINVALID,
					     "'%s' is not an https:// URL with a host",
					     url ? url : "");
	return add_sub(t, "https", url, url, opts, true);
}

/* --- the topic policy --------------------------------------------------- */

int synth_topic_allow_publish(synth_topic *t, const char *id, const char *service_principal,
			      json_t *source_arn)
{
	SYNTH_CHECK_HANDLE(t);
	int rc = synth_policy_allow_service(t->c, t->statements, id, service_principal,
					    "sns:Publish", topic_token(t, NULL), source_arn);
	if (rc == 0 && ensure_policy(t) < 0)
		return synth_construct_failf(t->c, SYNTH_ENOMEM, "out of memory");
	return rc;
}
