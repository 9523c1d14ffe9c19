/*
 * libsynth: a DynamoDB table (SST's Dynamo), its secondary indexes, its
 * stream, and functions subscribed to the stream through event source
 * mappings.
 *
 * Resources, by construct path (NAME is the table's name):
 *   NAME/Table                 AWS::DynamoDB::Table (DeletionPolicy and
 *                              UpdateReplacePolicy Retain on a branch,
 *                              Delete in a sandbox, as data's tables)
 *   <fn>/<NAME>EventSource     AWS::Lambda::EventSourceMapping (per
 *                              subscriber, in the function's construct;
 *                              after its policy)
 * Linking (synth_function_link(fn, synth_table_construct(t), ACCESS)):
 *   "read"   dynamodb:GetItem, BatchGetItem, Query, Scan, ConditionCheckItem,
 *            DescribeTable on the table and its indexes (ARN/index/\*)
 *   "write"  dynamodb:PutItem, UpdateItem, DeleteItem, BatchWriteItem,
 *            DescribeTable on the table
 *   ("read,write" takes both), environment: SYNTH_<NAME>_NAME, SYNTH_<NAME>_ARN
 */
#ifndef SYNTH_TABLE_H
#define SYNTH_TABLE_H

#include <stdbool.h>
#include <jansson.h>
#include "common.h"
#include "backend.h"
#include "construct.h"
#include "function.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct synth_table synth_table;

/* A key attribute: NAME and TYPE "S" (string), "N" (number) or "B"
 * (binary). Every field must be used by a key of the table or of an index
 * (DynamoDB refuses attribute definitions no key uses); the other
 * attributes of an item need no declaration. Arrays end with {0}. */
typedef struct synth_table_field {
	const char *name;
	const char *type;
} synth_table_field;

/* A global secondary index: its own partition (HASH_KEY) and optional
 * sort (RANGE_KEY) key, both declared fields. PROJECTION is "all" (the
 * default), "keys-only" or "include" (then INCLUDE, NULL-terminated, names
 * the non-key attributes copied into the index). Arrays end with {0}. */
typedef struct synth_table_global_index {
	const char *name;
	const char *hash_key;
	const char *range_key;
	const char *projection;
	const char *const *include;
} synth_table_global_index;

/* A local secondary index: the table's partition key with another sort
 * key (RANGE_KEY, a declared field); the table must have a sort key.
 * PROJECTION and INCLUDE as for a global index. Arrays end with {0}. */
typedef struct synth_table_local_index {
	const char *name;
	const char *range_key;
	const char *projection;
	const char *const *include;
} synth_table_local_index;

/* Props: zero (or NULL) means the default for every field. All strings
 * and arrays are copied. */
typedef struct synth_table_props {
	const synth_table_field *fields;           /* ends with {0} */
	const char *hash_key;                      /* required: a field */
	const char *range_key;                     /* optional: a field */
	const synth_table_global_index *global_indexes; /* at most 20; ends with {0} */
	const synth_table_local_index *local_indexes;   /* at most 5; ends with {0} */
	/* The attribute holding an item's expiry (epoch seconds). NULL: no TTL. */
	const char *ttl;
	bool point_in_time_recovery;
	bool deletion_protection;
	/* On demand (the default), or provisioned with READ_CAPACITY and
	 * WRITE_CAPACITY units (each at least 1; the global indexes get the
	 * same). */
	bool provisioned;
	int read_capacity;
	int write_capacity;
	/* The stream: "keys-only", "new-image", "old-image" or
	 * "new-and-old-images". NULL: no stream (then nothing can subscribe). */
	const char *stream;
} synth_table_props;

/* Defines a table named NAME (unique in the backend). Returns a handle
 * borrowed from the backend, or NULL on error (the message names NAME). */
SYNTH_EXPORT synth_table *synth_define_table(synth_backend *b, const char *name,
					     const synth_table_props *props);

/* How a subscriber reads the stream: zero means the default for every
 * field. */
typedef struct synth_table_subscribe_opts {
	/* "latest" (the default) or "trim-horizon" (every record the stream
	 * still holds, up to 24 hours). */
	const char *starting_position;
	int batch_size;          /* 1..10000, default 100 */
	int batching_window_s;   /* 0..300, default 0 */
	/* JSON array of Lambda event filter patterns, each an object, as text:
	 * "[{\"eventName\": [\"INSERT\"]}]" (at most 5). NULL: none. */
	const char *filters;
	bool partial_responses;  /* ReportBatchItemFailures */
	/* Retries of a failed batch, 1..10000. 0: Lambda's default (retry
	 * until the record expires); no_retry: none at all. */
	int retry_attempts;
	bool no_retry;
	bool bisect_on_error;    /* split a failed batch in two and retry */
} synth_table_subscribe_opts;

/*
 * FN consumes the table's stream: an event source mapping (in FN's
 * construct, created after FN's role policy) and the grants it needs
 * (dynamodb:DescribeStream, GetRecords, GetShardIterator, ListStreams on
 * exactly the stream). The table needs a stream; a function subscribes
 * once. OPTS may be NULL.
 */
SYNTH_EXPORT int synth_table_subscribe(synth_table *t, synth_function *fn,
				       const synth_table_subscribe_opts *opts);

/* Tokens (new references): the table's name (Ref), ARN and stream ARN
 * (NULL, with the error set, for a table without a stream). */
SYNTH_EXPORT json_t *synth_table_name(const synth_table *t);
SYNTH_EXPORT json_t *synth_table_arn(const synth_table *t);
SYNTH_EXPORT json_t *synth_table_stream_arn(const synth_table *t);
/* The table's construct (borrowed), for synth_function_link(). */
SYNTH_EXPORT synth_construct *synth_table_construct(synth_table *t);

#ifdef __cplusplus
}
#endif
#endif
