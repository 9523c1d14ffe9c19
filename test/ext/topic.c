/*
 * An external construct: an SNS topic whose subscribers are Lambda
 * functions, written against the extension API only (<synth.h>,
 * <synth/sys/construct.h>) as a construct outside libsynth would be. The
 * subscription is an event source of the function (the model is
 * libsynth's schedule, constructs/schedule.c): the function binds it
 * while it generates, so the subscription and the permission are the
 * function's resources and stay in its stack.
 */
#include <stdlib.h>
#include <string.h>
#include <synth.h>
#include <synth/sys/construct.h>
#include "topic.h"

struct ext_topic {
	synth_construct *c;
	bool fifo;
	char *display_name;
};

/* One subscription: what the event source carries to bind(). */
typedef struct subscription {
	ext_topic *topic; /* borrowed: the topic's state lives as long as the backend */
	json_t *filter;     /* a JSON object, or NULL */
} subscription;

static void topic_free(void *state)
{
	ext_topic *t = state;
	if (!t)
		return;
	free(t->display_name);
	free(t);
}

static int topic_generate(synth_construct *self, void *state)
{
	ext_topic *t = state;
	json_t *props = json_object();
	if (!props)
		return synth_error_oom();
	if (t->display_name)
		json_object_set_new(props, "DisplayName", json_string(t->display_name));
	if (t->fifo) {
		/* CloudFormation wants a name for a FIFO topic, ending in
		 * ".fifo"; the stack's name keeps it unique per backend. */
		char *fmt = synth_asprintf("${AWS::StackName}-%s.fifo", synth_construct_name(self));
		if (!fmt) {
			json_decref(props);
			return synth_error_oom();
		}
		json_object_set_new(props, "FifoTopic", json_true());
		json_object_set_new(props, "TopicName", synth_sub(fmt, NULL));
		free(fmt);
	}
	int rc = synth_resource_new(NULL, self, "Topic", "AWS::SNS::Topic", props);
	if (rc < 0)
		return synth_construct_failf(self, rc, "%s", synth_error_last()->message);
	return 0;
}

/* Ref of the topic (its ARN). */
static json_t *topic_ref(const synth_construct *self)
{
	char *p = synth_asprintf("%s/Topic", synth_construct_name(self));
	json_t *r = p ? synth_ref(p) : NULL;
	free(p);
	return r;
}

/* synth_function_link(fn, ext_topic_construct(t), "publish"): sns:Publish
 * on exactly this topic, its ARN as SYNTH_<NAME>_ARN. */
static int topic_link(synth_construct *self, void *state, synth_function *fn,
		      const char *access)
{
	(void)state;
	if (strcmp(access, "publish"))
		return synth_construct_failf(self, SYNTH_EINVALID,
					     "access '%s' is not publish (the only level a "
					     "topic has)", access);
	const char *const actions[] = {"sns:Publish", NULL};
	int rc = synth_function_grant(fn, actions, topic_ref(self));
	return rc ? rc : synth_function_link_env(fn, self, "ARN", topic_ref(self));
}

/* Designated initializers: a class written this way still compiles when a
 * later libsynth appends a member to synth_construct_class. */
static const synth_construct_class topic_class = {
	.version = SYNTH_CONSTRUCT_CLASS_VERSION,
	.kind = "topic",
	.generate = topic_generate,
	.free = topic_free,
	.link = topic_link,
};

ext_topic *ext_define_topic(synth_backend *b, const char *name, const ext_topic_props *props)
{
	static const ext_topic_props none = {0};
	const ext_topic_props *p = props ? props : &none;
	const char *nm = name ? name : "";
	if (p->display_name && (!*p->display_name || strlen(p->display_name) > 100)) {
		synth_backend_failf(b, SYNTH_EINVALID,
				    "%s: display name must have 1 to 100 characters", nm);
		return NULL;
	}
	ext_topic *t = calloc(1, sizeof *t);
	if (!t || (p->display_name && !(t->display_name = synth_strdup(p->display_name)))) {
		free(t);
		synth_backend_failf(b, SYNTH_ENOMEM, "%s: out of memory", nm);
		return NULL;
	}
	t->fifo = p->fifo;
	/* On failure T is freed and the error (naming NAME) is recorded. */
	if (synth_construct_new(&t->c, b, name, &topic_class, t) < 0)
		return NULL;
	return t;
}

/* --- the subscription, an event source of the function ------------------ */

static void subscription_free(void *data)
{
	subscription *s = data;
	if (!s)
		return;
	json_decref(s->filter);
	free(s);
}

/* In FN's construct: the subscription, and the permission that lets SNS
 * invoke FN from this topic only. */
static int subscription_bind(synth_function *fn, void *data)
{
	subscription *s = data;
	synth_construct *scope = synth_function_construct(fn);
	const char *tname = synth_construct_name(s->topic->c);
	/* The topic's resource exists before the function refers to it. */
	int rc = synth_construct_require(scope, s->topic->c);
	if (rc < 0)
		return rc;
	char *p_topic = synth_asprintf("%s/Topic", tname);
	char *id_sub = synth_asprintf("%sSubscription", tname);
	char *id_perm = synth_asprintf("%sPermission", tname);
	json_t *props = p_topic ? json_pack("{s:s,s:o,s:o}", "Protocol", "lambda", "Endpoint",
					    synth_function_arn(fn), "TopicArn",
					    synth_ref(p_topic))
				: NULL;
	if (props && s->filter)
		json_object_set_new(props, "FilterPolicy", json_deep_copy(s->filter));
	rc = props && id_sub && id_perm ? 0 : synth_error_oom();
	if (rc == 0)
		rc = synth_resource_new(NULL, scope, id_sub, "AWS::SNS::Subscription", props);
	else
		json_decref(props);
	if (rc == 0)
		rc = synth_resource_new(
			NULL, scope, id_perm, "AWS::Lambda::Permission",
			json_pack("{s:s,s:o,s:s,s:o}", "Action", "lambda:InvokeFunction",
				  "FunctionName", synth_function_arn(fn), "Principal",
				  "sns.amazonaws.com", "SourceArn", synth_ref(p_topic)));
	free(p_topic);
	free(id_sub);
	free(id_perm);
	if (rc < 0)
		return synth_construct_failf(scope, rc, "subscription to topic %s: %s", tname,
					     synth_error_last()->message);
	return 0;
}

static const synth_event_source subscription_source = {
	SYNTH_EVENT_SOURCE_VERSION, "topic", subscription_bind, subscription_free};

synth_construct *ext_topic_construct(ext_topic *t) { return t ? t->c : NULL; }

int ext_topic_subscribe(ext_topic *t, synth_function *fn, const char *filter_policy_json)
{
	/* A failed define already recorded its error on the backend. */
	if (!t || !fn)
		return synth_error_setf(SYNTH_EINVALID,
					"ext_topic_subscribe: no %s (its definition failed)",
					!t ? "topic" : "function");
	const char *fname = synth_construct_name(synth_function_construct(fn));
	if (t->fifo)
		return synth_construct_failf(t->c, SYNTH_EINVALID,
					     "a FIFO topic cannot invoke function %s: SNS FIFO "
					     "topics deliver to SQS FIFO queues only",
					     fname);
	json_t *filter = NULL;
	if (filter_policy_json) {
		json_error_t err;
		filter = json_loads(filter_policy_json, JSON_REJECT_DUPLICATES, &err);
		if (!json_is_object(filter)) {
			int rc = synth_construct_failf(
				t->c, SYNTH_EINVALID,
				"the filter policy of function %s's subscription is not a "
				"JSON object: %s", fname,
				filter ? "wrong type" : err.text);
			json_decref(filter);
			return rc;
		}
	}
	subscription *s = calloc(1, sizeof *s);
	if (!s) {
		json_decref(filter);
		return synth_construct_failf(t->c, SYNTH_ENOMEM, "out of memory");
	}
	s->topic = t;
	s->filter = filter;
	/* S is FN's from here on, even on failure. */
	return synth_function_add_event_source(fn, &subscription_source, s);
}
