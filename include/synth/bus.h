/*
 * libsynth: an EventBridge event bus (SST's Bus), its subscribers
 * (functions and queues, each through its own rule) and linking for
 * publishers.
 *
 * Resources, by construct path (NAME is the bus's name):
 *   NAME/Bus                        AWS::Events::EventBus (not with .use_default)
 *   <fn>/NAME/Rule                  AWS::Events::Rule      (synth_bus_subscribe: an
 *   <fn>/NAME/Permission            AWS::Lambda::Permission  event source of FN, in
 *                                   FN's construct; with .name N: <fn>/NAME/N/...)
 *   NAME/<queue>/Rule               AWS::Events::Rule      (synth_bus_subscribe_queue;
 *                                   with .name N: NAME/<queue>/N/Rule)
 * plus, in the queue's AWS::SQS::QueuePolicy (synth_queue_allow_send), a
 * statement letting events.amazonaws.com send from exactly that rule, for
 * a queue target and for a dead-letter queue.
 *
 * Linking (synth_function_link(fn, synth_bus_construct(bus), ACCESS)):
 *   "put"   events:PutEvents on exactly this bus's ARN
 *   environment: SYNTH_<NAME>_NAME (the bus name, "default" for the
 *   account's default bus) and SYNTH_<NAME>_ARN
 */
#ifndef SYNTH_BUS_H
#define SYNTH_BUS_H

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

typedef struct synth_bus synth_bus;

/* Props: zero (or NULL) means the default for every field. */
typedef struct synth_bus_props {
	/* Use the account's default bus ("default") instead of creating one:
	 * nothing is created, subscriptions and links refer to it. Default:
	 * a custom bus named "${AWS::StackName}-NAME" (unique per stack). */
	bool use_default;
} synth_bus_props;

/* Defines a bus named NAME (unique in the backend). Returns a handle
 * borrowed from the backend, or NULL on error (the message names NAME). */
SYNTH_EXPORT synth_bus *synth_define_bus(synth_backend *b, const char *name,
					 const synth_bus_props *props);

/* One entry of an input transformer's paths map: NAME (letters, digits,
 * '_') takes the value at PATH, a JSON path into the event ("$.detail.id").
 * Arrays end with {0}. */
typedef struct synth_bus_input_path {
	const char *name;
	const char *path;
} synth_bus_input_path;

/* opts.retry_attempts for no retry at all (0 means EventBridge's default). */
#define SYNTH_BUS_NO_RETRIES (-1)

/* What a subscriber receives and how: zero means the default for every
 * field. All strings and arrays are copied. */
typedef struct synth_bus_subscribe_opts {
	/* Distinguishes several subscriptions of one target to one bus
	 * (letters, digits, '-', '_'); it becomes part of the construct paths.
	 * Default: none (one subscription per target and bus). */
	const char *name;
	/* The event pattern: events whose source is one of SOURCES, whose
	 * detail-type is one of DETAIL_TYPES (both NULL-terminated) and whose
	 * detail matches DETAIL, an EventBridge pattern as JSON text (an
	 * object whose leaves are arrays: "{\"kind\": [\"order\"]}"). With
	 * none of the three, every event on the bus. */
	const char *const *sources;
	const char *const *detail_types;
	const char *detail;
	/* An input transformer: INPUT_PATHS (at most 100, ends with {0})
	 * feed INPUT_TEMPLATE ("{\"id\": <id>}"). A template without paths
	 * is accepted; paths without a template are refused. Default: the
	 * whole event. */
	const synth_bus_input_path *input_paths;
	const char *input_template;
	/* Retries of a failed delivery: 1..185 attempts (SYNTH_BUS_NO_RETRIES:
	 * none) and a maximum event age of 60..86400 seconds. Default:
	 * EventBridge's (185 attempts, 24 hours). */
	int retry_attempts;
	int max_event_age_s;
	/* A dead-letter queue for events that could not be delivered: a
	 * standard queue (EventBridge refuses FIFO ones). Default: none. */
	synth_queue *dlq;
	/* Queue targets only: the message group of a FIFO queue (1..100
	 * characters; required for a FIFO queue, refused for a standard one). */
	const char *message_group_id;
} synth_bus_subscribe_opts;

/*
 * FN receives the events of BUS that match OPTS (NULL: every event): a
 * rule on the bus targeting FN and the Lambda permission for exactly that
 * rule, both in FN's construct (an event source of FN, like its schedule:
 * they stay in FN's stack). 0, or SYNTH_EINVALID with a message naming the
 * bus and FN.
 */
SYNTH_EXPORT int synth_bus_subscribe(synth_bus *bus, synth_function *fn,
				     const synth_bus_subscribe_opts *opts);

/*
 * Q receives the events of BUS that match OPTS: a rule in the bus's
 * construct targeting Q, and a statement in Q's policy allowing
 * events.amazonaws.com to send from exactly that rule. A FIFO queue needs
 * opts.message_group_id.
 */
SYNTH_EXPORT int synth_bus_subscribe_queue(synth_bus *bus, synth_queue *q,
					   const synth_bus_subscribe_opts *opts);

/* Tokens (new references): the bus's name and ARN. */
SYNTH_EXPORT json_t *synth_bus_name(const synth_bus *bus);
SYNTH_EXPORT json_t *synth_bus_arn(const synth_bus *bus);
/* The bus's construct (borrowed), for synth_function_link(). */
SYNTH_EXPORT synth_construct *synth_bus_construct(synth_bus *bus);

#ifdef __cplusplus
}
#endif
#endif
