/*
 * libsynth: define_storage, Amplify's storage category: an S3 bucket
 * (public access blocked, encrypted, TLS only, CORS for browser uploads,
 * optional versioning) with access rules by path prefix, turned into IAM
 * policies on the roles of the auth category (found through the "auth"
 * token) and of functions, and triggers on upload and delete.
 */
#ifndef SYNTH_STORAGE_H
#define SYNTH_STORAGE_H

#include <stdbool.h>
#include "common.h"
#include "backend.h"
#include "function.h"
#include "queue.h"
#include "topic.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct synth_storage synth_storage;

/*
 * One access rule. PATH is a prefix ending in "/\*" ("media/\*"); the
 * placeholder {entity_id} stands for the signed-in identity
 * ("private/{entity_id}/\*"). WHO is "guest", "authenticated",
 * "group:<name>", "owner" (the identity of {entity_id}), or "function"
 * (then FN). ACTIONS is a comma-separated list of read, get, list, write,
 * delete ("read" is get + list). Arrays end with {0}.
 */
typedef struct synth_storage_access {
	const char *path;
	const char *who;
	const char *actions;
	synth_function *fn;
} synth_storage_access;

typedef struct synth_storage_props {
	bool is_default;              /* required when there are several buckets */
	bool versioned;
	const synth_storage_access *access;
	/* s3:ObjectCreated:* / s3:ObjectRemoved:*. A trigger's function
	 * linked to this bucket is a circular dependency (its environment
	 * names the bucket, the bucket waits for its permission): use
	 * synth_storage_notify_function() for that, which names the bucket. */
	synth_function *on_upload;    /* s3:ObjectCreated:* */
	synth_function *on_delete;    /* s3:ObjectRemoved:* */
} synth_storage_props;

/* Defines a bucket named NAME (the friendly name clients use). Returns a
 * handle borrowed from the backend, or NULL on error. */
SYNTH_EXPORT synth_storage *synth_define_storage(synth_backend *b, const char *name,
						 const synth_storage_props *props);

/* Tokens: the bucket's name and ARN (new references). */
SYNTH_EXPORT json_t *synth_storage_bucket_name(const synth_storage *s);
SYNTH_EXPORT json_t *synth_storage_bucket_arn(const synth_storage *s);

/* The storage's construct (borrowed), e.g. to link a function to the
 * bucket: synth_function_link(fn, synth_storage_construct(s), "read").
 * Levels (comma lists allowed), on every key of this bucket only:
 *   "read"    s3:GetObject on ARN/\*, s3:ListBucket on the bucket
 *   "get"     s3:GetObject;  "list"  s3:ListBucket
 *   "write"   s3:PutObject;  "delete"  s3:DeleteObject
 * and SYNTH_<NAME>_NAME, SYNTH_<NAME>_ARN in the environment. */
SYNTH_EXPORT synth_construct *synth_storage_construct(synth_storage *s);

/*
 * Bucket events (SST's bucket.notify): FN is invoked, Q or T receives a
 * message, when one of EVENTS (comma-separated S3 event types,
 * "s3:ObjectCreated:*", "s3:ObjectRemoved:Delete", ...; NULL:
 * "s3:ObjectCreated:*") happens to a key starting with PREFIX and ending
 * with SUFFIX (NULL or "": any). Two notifications whose events and keys
 * overlap are refused (S3 refuses them). S3 delivers to standard queues and
 * topics only, and not to a queue encrypted with the AWS managed key.
 *
 * S3 checks each destination's permission when the bucket is configured,
 * so the bucket is created after the Lambda permission and the queue or
 * topic policy; those name the bucket by ARN, which they cannot take from
 * the bucket (a circular dependency). So a bucket with notifications gets
 * a name: "<name>-<hash>-<account>-<region>" (at most 63 characters; the
 * hash is of the backend's stack name and NAME), and its ARN is built from
 * it. Adding the first notification to a deployed bucket therefore
 * replaces the bucket. Functions linked to such a bucket get its name and
 * ARN from the same text, so a function that both handles and reads the
 * bucket's events is no cycle either.
 *
 * Resources: NAME/<fn>NotificationPermission (AWS::Lambda::Permission,
 * SourceArn the bucket, SourceAccount the account); a statement
 * FromBucket<NAME> in the queue's NAME/Policy or the topic's NAME/Policy.
 * The on_upload / on_delete triggers of the props also get SourceArn once
 * the bucket is named.
 */
SYNTH_EXPORT int synth_storage_notify_function(synth_storage *s, synth_function *fn,
					       const char *events, const char *prefix,
					       const char *suffix);
SYNTH_EXPORT int synth_storage_notify_queue(synth_storage *s, synth_queue *q,
					    const char *events, const char *prefix,
					    const char *suffix);
SYNTH_EXPORT int synth_storage_notify_topic(synth_storage *s, synth_topic *t,
					    const char *events, const char *prefix,
					    const char *suffix);

#ifdef __cplusplus
}
#endif
#endif
