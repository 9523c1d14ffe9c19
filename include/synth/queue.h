/*
 * libsynth: an SQS queue (SST's Queue), its dead-letter queue, and
 * functions subscribed to it through event source mappings.
 *
 * Resources, by construct path (NAME is the queue's name):
 *   NAME/Queue                 AWS::SQS::Queue
 *   NAME/DeadLetterQueue       AWS::SQS::Queue (when .dlq_max_receives > 0)
 *   NAME/Policy                AWS::SQS::QueuePolicy (synth_queue_allow_send)
 *   <fn>/<NAME>EventSource     AWS::Lambda::EventSourceMapping (per subscriber,
 *                              in the function's construct; after its policy)
 * A FIFO queue is named "<NAME>-<hash>.fifo" (the dead-letter queue
 * "<NAME>-dlq-<hash>.fifo"): the hash of the backend's stack name and the
 * path keeps branches apart, and the name within SQS's 80 characters.
 * A subscriber is granted sqs:ReceiveMessage, sqs:DeleteMessage and
 * sqs:GetQueueAttributes on the queue (what Lambda's poller uses).
 * Linking (synth_function_link(fn, synth_queue_construct(q), ACCESS)):
 *   "send"     sqs:SendMessage, sqs:GetQueueAttributes, sqs:GetQueueUrl
 *   "receive"  sqs:ReceiveMessage, sqs:DeleteMessage, sqs:ChangeMessageVisibility,
 *              sqs:GetQueueAttributes, sqs:GetQueueUrl
 *   (+ kms:GenerateDataKey / kms:Decrypt on the key for a KMS-encrypted queue)
 *   environment: SYNTH_<NAME>_URL, SYNTH_<NAME>_ARN
 */
#ifndef SYNTH_QUEUE_H
#define SYNTH_QUEUE_H

#include <stdbool.h>
#include <jansson.h>
#include "common.h"
#include "backend.h"
#include "construct.h"
#include "function.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct synth_queue synth_queue;

/* Props: zero (or NULL) means the default for every field. */
typedef struct synth_queue_props {
	bool fifo;                 /* a FIFO queue (name ends in .fifo) */
	bool content_dedup;        /* FIFO only: content-based deduplication */
	int delay_s;               /* 0..900, default 0 */
	int visibility_timeout_s;  /* 0..43200, default 30 (SQS's) */
	int retention_s;           /* 60..1209600, default 345600 (4 days) */
	/* "sqs" (SSE-SQS, the default), "kms" (the AWS managed key), or
	 * "none". */
	const char *encryption;
	/* A dead-letter queue: messages received this many times (1..1000)
	 * move to NAME/DeadLetterQueue (FIFO when the queue is). 0: none. */
	int dlq_max_receives;
} synth_queue_props;

/* Defines a queue named NAME (unique in the backend). Returns a handle
 * borrowed from the backend, or NULL on error (the message names NAME). */
SYNTH_EXPORT synth_queue *synth_define_queue(synth_backend *b, const char *name,
					     const synth_queue_props *props);

/* How a subscriber consumes: zero means the default for every field. */
typedef struct synth_queue_subscribe_opts {
	int batch_size;          /* 1..10000 (1..10 for FIFO), default 10 */
	int batching_window_s;   /* 0..300, default 0 */
	bool partial_responses;  /* ReportBatchItemFailures */
	/* JSON array of Lambda event filter patterns, each an object, as text:
	 * "[{\"body\": {\"kind\": [\"order\"]}}]". NULL: none. */
	const char *filters;
	int max_concurrency;     /* 2..1000, default none */
} synth_queue_subscribe_opts;

/*
 * FN consumes the queue: an event source mapping (in FN's construct,
 * created after FN's role policy) and the receive grants it needs. The
 * queue's visibility timeout must be at least FN's timeout (AWS
 * recommends 6x: a shorter one is refused naming both, a shorter than 6x
 * one is accepted). OPTS may be NULL.
 */
SYNTH_EXPORT int synth_queue_subscribe(synth_queue *q, synth_function *fn,
				       const synth_queue_subscribe_opts *opts);

/* Tokens (new references): the queue's URL (Ref), ARN and name. */
SYNTH_EXPORT json_t *synth_queue_url(const synth_queue *q);
SYNTH_EXPORT json_t *synth_queue_arn(const synth_queue *q);
SYNTH_EXPORT json_t *synth_queue_name(const synth_queue *q);
SYNTH_EXPORT bool synth_queue_is_fifo(const synth_queue *q);
/* The queue's construct (borrowed), for synth_function_link(). */
SYNTH_EXPORT synth_construct *synth_queue_construct(synth_queue *q);

/*
 * For other constructs that deliver to the queue (a topic, a bus rule, a
 * bucket notification): allows SERVICE_PRINCIPAL ("sns.amazonaws.com")
 * to sqs:SendMessage to the queue from exactly SOURCE_ARN (a token;
 * stolen), in the queue's one AWS::SQS::QueuePolicy (NAME/Policy), created
 * on the first call. ID names the statement (its letters and digits;
 * unique per queue). Refused for a queue encrypted with "kms": the AWS
 * managed key's policy cannot let a service use it (use "sqs").
 */
SYNTH_EXPORT int synth_queue_allow_send(synth_queue *q, const char *id,
					const char *service_principal, json_t *source_arn);

#ifdef __cplusplus
}
#endif
#endif
