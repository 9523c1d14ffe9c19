/*
 * An external construct (issue #9): an SNS topic and a Lambda subscriber,
 * written outside the repository against the installed headers only
 * (<synth.h> and <synth/sys/construct.h>) and linked with
 * `pkg-config --libs libsynth`.
 *
 * Resources, by construct path:
 *   <topic>/Topic                        AWS::SNS::Topic
 * and, for each subscribed function, in the function's construct (so they
 * stay in the function's stack):
 *   <fn>/<topic>Subscription             AWS::SNS::Subscription
 *   <fn>/<topic>Permission               AWS::Lambda::Permission
 */
#ifndef EXT_TOPIC_H
#define EXT_TOPIC_H

#include <stdbool.h>
#include <synth.h>

typedef struct ext_topic ext_topic;

typedef struct ext_topic_props {
	/* A FIFO topic (TopicName "<stack>-<name>.fifo"). SNS FIFO topics
	 * deliver to SQS FIFO queues only: subscribing a function fails. */
	bool fifo;
	/* DisplayName, at most 100 characters; NULL for none. */
	const char *display_name;
} ext_topic_props;

/* Defines a topic named NAME. NULL on error (the backend keeps it). */
ext_topic *ext_define_topic(synth_backend *b, const char *name,
			      const ext_topic_props *props);

/*
 * Invokes FN for every message published to T; FILTER_POLICY_JSON (may be
 * NULL) is the subscription's filter policy, a JSON object. 0, or a
 * negative code with the error recorded on the backend, naming the topic.
 */
/* The topic's construct, to link a function that publishes to it:
 * synth_function_link(fn, ext_topic_construct(t), "publish"). */
synth_construct *ext_topic_construct(ext_topic *t);

int ext_topic_subscribe(ext_topic *t, synth_function *fn,
			const char *filter_policy_json);

#endif
