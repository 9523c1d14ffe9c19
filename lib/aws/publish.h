/*
 * libsynth internal: publishing an assembly's assets to S3 (the asset step
 * of deploy, and `synth publish`). Reads the asset manifests, skips what
 * the bucket already has (HEAD), uploads the rest in parallel (bounded),
 * multipart for large files with each part retried on its own, integrity
 * checked by S3 with the signed SHA-256 payload hash (and, for single
 * uploads, x-amz-checksum-sha256, which S3 also keeps with the object).
 */
#ifndef SYNTH_PUBLISH_H
#define SYNTH_PUBLISH_H

#include <stdio.h>
#include "aws.h"

typedef struct synth_publish_options {
	int parallel;                 /* concurrent requests, default 10 */
	uint64_t multipart_threshold; /* default 16 MiB */
	uint64_t part_size;           /* default 8 MiB (S3's minimum is 5 MiB) */
	const char *account_id;       /* for ${AWS::AccountId}; NULL: asked of STS */
	FILE *log;                    /* progress and results; NULL: stderr */
	bool tty;                     /* a live progress line instead of plain lines */
} synth_publish_options;

/* ASSETS counts objects: an asset that several manifests (stacks) list for
 * the same bucket and key is uploaded, and counted, once. UPLOADED +
 * SKIPPED + FAILED is ASSETS; all are 0 when the publish failed before any
 * upload (a missing asset file, a broken manifest, no account id). */
typedef struct synth_publish_result {
	size_t assets, uploaded, skipped, failed;
	uint64_t bytes_uploaded;
} synth_publish_result;

/* Publishes every file asset of the assembly in DIR. */
int synth_publish_assets(synth_aws *a, const char *dir, const synth_publish_options *opts,
			 synth_publish_result *res);

/* Creates BUCKET unless it exists (the bootstrap bucket, until the
 * CDKToolkit stack can be deployed). *created tells which. */
int synth_s3_ensure_bucket(synth_aws *a, const char *bucket, bool *created);

/* Replaces ${AWS::AccountId}, ${AWS::Region}, ${AWS::Partition} in S.
 * Caller frees. */
char *synth_aws_placeholders(const char *s, const char *account, const char *region);

#endif
