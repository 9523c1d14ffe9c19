/*
 * libsynth internal: the HTTP layer of the AWS client. libcurl with one
 * reused connection per client, connect and transfer timeouts, and the AWS
 * "standard" retry mode: bounded attempts, exponential backoff with full
 * jitter, retries on throttling codes, 5xx, timeouts and dropped
 * connections, never on a 4xx that will not change.
 *
 * A request is signed again before every attempt (SigV4 signatures carry
 * the time), through the sign callback.
 */
#ifndef SYNTH_HTTP_H
#define SYNTH_HTTP_H

#include <stdbool.h>
#include <stdint.h>
#include "../util/util.h"

typedef struct synth_http synth_http;

typedef struct synth_http_header {
	char *name;
	char *value;
} synth_http_header;

typedef struct synth_http_headers {
	synth_http_header *v;
	size_t n, cap;
} synth_http_headers;

int synth_http_headers_add(synth_http_headers *h, const char *name, const char *value);
/* Replaces every header NAME (case-insensitive) with one VALUE. */
int synth_http_headers_set(synth_http_headers *h, const char *name, const char *value);
const char *synth_http_headers_get(const synth_http_headers *h, const char *name);
void synth_http_headers_free(synth_http_headers *h);

typedef struct synth_http_request synth_http_request;

/* Called before every attempt: adds the signature headers to OUT (which
 * starts as a copy of the request's headers). Returns 0 or an error. */
typedef int (*synth_http_sign_fn)(void *ctx, const synth_http_request *req,
				  synth_http_headers *out);

struct synth_http_request {
	const char *method;         /* "GET", "PUT", "POST", "HEAD", ... */
	const char *url;            /* full URL, already encoded */
	synth_http_headers headers; /* borrowed by send */
	/* The body: bytes in memory, or LENGTH bytes of FILE at OFFSET. */
	const void *body;
	size_t body_len;
	const char *body_file;
	uint64_t file_offset, file_length;
	synth_http_sign_fn sign;
	void *sign_ctx;
	const char *what;           /* for messages: "PutObject s3://b/k" */
	/* The request or its answer carries secret bytes (SSM GetParameter
	 * with decryption, PutParameter): the response body's buffer is
	 * wiped (OPENSSL_cleanse) every time it grows, before the old block
	 * is freed, and when the response is freed (with the AWS error
	 * message, which may quote the body). The request body stays the
	 * caller's to wipe; libcurl's own copies of both bodies are wiped
	 * when libcurl frees them (see synth_http_new). */
	bool sensitive;
};

typedef struct synth_http_response {
	bool sensitive;             /* set by send from the request: wiped when freed */
	long status;                /* HTTP status, 0 if none came */
	synth_http_headers headers;
	synth_buf body;
	char *request_id;           /* x-amz-request-id / x-amzn-RequestId / <RequestId> */
	char *aws_code;             /* the AWS error code, for errors */
	char *aws_message;
	int attempts;               /* how many were made */
} synth_http_response;

/* Frees what R holds and zeroes it; a sensitive response's body (its
 * whole capacity) and AWS message are wiped first. */
void synth_http_response_free(synth_http_response *r);

typedef struct synth_http_options {
	long connect_timeout_ms;    /* default 5000 */
	long timeout_ms;            /* whole transfer, default 300000 */
	long low_speed_secs;        /* abort below 1 byte/s for this long, default 30 */
	int max_attempts;           /* default 3 (AWS standard mode) */
	long backoff_base_ms;       /* default 1000; attempt n waits rand(0, base*2^n) */
	long backoff_max_ms;        /* default 20000 */
	bool verbose;               /* curl's trace on stderr (no bodies) */
} synth_http_options;

/* *out: caller frees with synth_http_free. The first client of the
 * process initialises libcurl with a wiping allocator: every block libcurl
 * frees (its receive and upload buffers hold the bytes of bodies) is
 * wiped first, so secret bytes do not outlive the request in freed
 * memory. libcurl keeps some buffers with the handle until
 * synth_http_free. */
int synth_http_new(synth_http **out, const synth_http_options *opts);
void synth_http_free(synth_http *c);

/*
 * Sends REQ with retries. Returns 0 when a response with status < 400
 * arrived; otherwise a negative code with synth_error_last() naming
 * req->what, the AWS error code and message and the request id. RESP is
 * always filled as far as it got (free it with synth_http_response_free).
 */
int synth_http_send(synth_http *c, const synth_http_request *req,
		    synth_http_response *resp);

/* For tests: how often the sensitive paths wiped a response body (on
 * growth, on free), and how many blocks the libcurl allocator wiped.
 * Process-wide counters; any pointer may be NULL. */
void synth_http__wipe_stats(unsigned long *body_grows, unsigned long *body_frees,
			    unsigned long *curl_frees);

/* Whether an AWS error code / status is retried (exposed for tests). */
bool synth_http_retryable(long status, const char *aws_code);

/* Whether R's body is an HTML page (by its Content-Type, or its start:
 * "<!DOCTYPE html" or "<html", any case). */
bool synth_http_body_is_html(const synth_http_response *r);

/* What R's body is when it holds no AWS error, for messages: "no error
 * code (the answer had no body)", "an HTML page ("502 Bad Gateway"), not
 * an AWS error: ..." (a proxy's error page, a captive portal; the title
 * is left out when R is sensitive), or "no error code (the answer, N bytes
 * of TYPE, is not an AWS error document)". Caller frees; NULL on
 * allocation failure. */
char *synth_http_body_note(const synth_http_response *r);

/* The AWS error code and message from an XML (Query, S3) or JSON error
 * body; strings are caller-owned. Returns 0 if one was found. */
int synth_aws_error_parse(const char *body, size_t len, char **code, char **message,
			  char **request_id);

#endif
