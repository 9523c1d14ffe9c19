/*
 * libsynth internal: the AWS client. Ties together the HTTP layer
 * (http.c), the SigV4 signer (sigv4.c) and the service conventions: REST
 * calls (S3) and Query-protocol calls (CloudFormation, STS) whose XML
 * results come back as JSON trees.
 */
#ifndef SYNTH_AWS_H
#define SYNTH_AWS_H

#include "http.h"
#include "sigv4.h"

typedef struct synth_aws synth_aws;

typedef struct synth_aws_config {
	const char *region;              /* required */
	const char *access_key_id;       /* required */
	const char *secret_access_key;   /* required; never printed */
	const char *session_token;       /* optional */
	/* Endpoints ("http://127.0.0.1:4569"); NULL: the AWS default. */
	const char *endpoint_s3, *endpoint_cloudformation, *endpoint_sts, *endpoint_ssm;
	synth_http_options http;
} synth_aws_config;

/* Copies CFG. *out: caller frees with synth_aws_free (wipes the secret). */
int synth_aws_new(synth_aws **out, const synth_aws_config *cfg);
void synth_aws_free(synth_aws *a);
/* Another client with the same settings and its own connection (one per
 * thread: a client is not shared between threads). */
int synth_aws_clone(synth_aws **out, const synth_aws *a);
const char *synth_aws_region(const synth_aws *a);
/* The endpoint used for SERVICE ("s3", "cloudformation", "sts", "ssm");
 * borrowed. */
const char *synth_aws_endpoint(const synth_aws *a, const char *service);

/* A REST request. PATH is already URI-encoded (see synth_aws_s3_path). */
typedef struct synth_aws_call {
	const char *service;
	const char *method;
	const char *path;
	const synth_sigv4_pair *query;  /* un-encoded */
	size_t nquery;
	synth_http_headers headers;     /* extra headers, borrowed */
	const void *body;
	size_t body_len;
	const char *body_file;          /* or LENGTH bytes of a file at OFFSET */
	uint64_t file_offset, file_length;
	const char *payload_hash;       /* hex SHA-256 of a file body, or NULL */
	const char *what;               /* for messages */
	bool sensitive;                 /* a secret in the body or the answer: the
	                                 * HTTP layer wipes them (synth_http_request) */
} synth_aws_call;

int synth_aws_request(synth_aws *a, const synth_aws_call *call, synth_http_response *resp);

/* "/bucket/key" for path-style S3 addressing, each segment URI-encoded.
 * Caller frees. */
char *synth_aws_s3_path(const char *bucket, const char *key);

/*
 * A Query-protocol call: POST Action=ACTION&Version=...&PARAMS. On success
 * *RESULT (caller owns) is the <ACTIONResult> element as JSON: elements
 * with children are objects, text is a string, <member> lists are arrays.
 */
int synth_aws_query(synth_aws *a, const char *service, const char *action,
		    const synth_sigv4_pair *params, size_t nparams, json_t **result);

/* STS GetCallerIdentity's account id. Caller frees. */
int synth_aws_account_id(synth_aws *a, char **out);

/* XML to JSON as above; the root element's value. NULL if not XML. */
json_t *synth_xml_to_json(const char *xml, size_t len);

#endif
