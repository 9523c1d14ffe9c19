/*
 * libsynth: an SNS topic (SST's SnsTopic) and its subscriptions: functions,
 * queues, email addresses and HTTPS endpoints, each with a filter policy.
 *
 * Resources, by construct path (NAME is the topic's name):
 *   NAME/Topic                       AWS::SNS::Topic
 *   <fn>/<NAME>Subscription          AWS::SNS::Subscription (protocol lambda)
 *   <fn>/<NAME>Permission            AWS::Lambda::Permission (from this topic only)
 *   NAME/<queue>Subscription         AWS::SNS::Subscription (protocol sqs), and the
 *                                    queue's policy allows exactly this topic
 *   NAME/Email<n>, NAME/Https<n>     AWS::SNS::Subscription (n from 1)
 *   NAME/Policy                      AWS::SNS::TopicPolicy (synth_topic_allow_publish)
 * Linking: "publish" (sns:Publish on the topic); SYNTH_<NAME>_ARN.
 * A FIFO topic is named "<NAME>-<hash>.fifo" (the hash of the backend's
 * stack name and NAME: CloudFormation does not name FIFO topics itself).
 */
#ifndef SYNTH_TOPIC_H
#define SYNTH_TOPIC_H

#include <stdbool.h>
#include <jansson.h>
#include "common.h"
#include "backend.h"
#include "construct.h"
#include "function.h"
#include "queue.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct synth_topic synth_topic;

typedef struct synth_topic_props {
	bool fifo;            /* FIFO topic (name ends in .fifo) */
	bool content_dedup;   /* FIFO only */
	const char *display_name;
} synth_topic_props;

SYNTH_EXPORT synth_topic *synth_define_topic(synth_backend *b, const char *name,
					     const synth_topic_props *props);

/* A subscription's filter policy: zero means none. */
typedef struct synth_topic_subscribe_opts {
	/* A JSON object as text, e.g. "{\"kind\": [\"welcome\"]}". */
	const char *filter_policy;
	/* Match the message body instead of its attributes. */
	bool filter_on_body;
	/* Queues: deliver the raw message, not the SNS envelope. */
	bool raw_delivery;
} synth_topic_subscribe_opts;

/* FN receives the topic's messages (a FIFO topic cannot deliver to Lambda:
 * refused). OPTS may be NULL. */
SYNTH_EXPORT int synth_topic_subscribe(synth_topic *t, synth_function *fn,
				       const synth_topic_subscribe_opts *opts);
/* Q receives them (a standard topic cannot deliver to a FIFO queue, a
 * FIFO topic only to a FIFO queue: refused naming both). */
SYNTH_EXPORT int synth_topic_subscribe_queue(synth_topic *t, synth_queue *q,
					     const synth_topic_subscribe_opts *opts);
/* An email address or an https:// URL (checked) receives them. */
SYNTH_EXPORT int synth_topic_subscribe_email(synth_topic *t, const char *address,
					     const synth_topic_subscribe_opts *opts);
SYNTH_EXPORT int synth_topic_subscribe_https(synth_topic *t, const char *url,
					     const synth_topic_subscribe_opts *opts);

/* Tokens (new references): the topic's ARN (Ref) and name. */
SYNTH_EXPORT json_t *synth_topic_arn(const synth_topic *t);
SYNTH_EXPORT json_t *synth_topic_name(const synth_topic *t);
SYNTH_EXPORT bool synth_topic_is_fifo(const synth_topic *t);
SYNTH_EXPORT synth_construct *synth_topic_construct(synth_topic *t);

/*
 * For other constructs that publish to the topic (a bucket notification):
 * allows SERVICE_PRINCIPAL ("s3.amazonaws.com") to sns:Publish to the
 * topic from exactly SOURCE_ARN (a token; stolen), in the topic's one
 * AWS::SNS::TopicPolicy (NAME/Policy). ID names the statement (its letters
 * and digits; unique per topic).
 */
SYNTH_EXPORT int synth_topic_allow_publish(synth_topic *t, const char *id,
					   const char *service_principal, json_t *source_arn);

#ifdef __cplusplus
}
#endif
#endif
