/*
 * AWS Signature Version 4 (internal, not installed): the signer of the AWS
 * client. Pure computation: no clock, no I/O, no global state.
 *
 * Two ways to sign one request description:
 *  - synth__sigv4_sign():    the Authorization header (plus X-Amz-Date,
 *                            X-Amz-Security-Token, X-Amz-Content-Sha256);
 *  - synth__sigv4_presign(): query signing, a presigned URL (X-Amz-*
 *                            parameters, X-Amz-Signature last).
 * Both return every intermediate (canonical request, string to sign,
 * signature, ...) in a synth_sigv4_result, so tests compare each step.
 *
 * Ownership: every input is borrowed for the duration of the call and
 * nothing keeps a pointer to it. A synth_sigv4_result owns all of its
 * strings (the header values in result.headers[] point into it); release
 * it with synth__sigv4_result_free(). Strings returned through `char **out`
 * belong to the caller (free()).
 *
 * Errors: 0 or a negative SYNTH_E* code (SYNTH_EINVALID for a malformed
 * request, SYNTH_ENOMEM) with the detail in synth_error_last(). No message
 * ever contains the secret access key or the session token. Key material
 * derived from the secret is wiped (OPENSSL_cleanse) before it is freed or
 * goes out of scope.
 *
 * Canonical form (AWS SigV4 documentation and the official test suite):
 *  - URI encoding keeps A-Z a-z 0-9 - _ . ~ and writes every other byte as
 *    %XX (uppercase hex); in the query '=', '&', '+', '/' and space are
 *    encoded too (%3D %26 %2B %2F %20).
 *  - Path: see synth_sigv4_options. An empty path is "/".
 *  - Query: parameters are given un-encoded; each name and value is
 *    encoded, then they are sorted by encoded name, then encoded value
 *    (byte order); a parameter without a value is "name=".
 *  - Headers: names lowercased; values trimmed, every run of white space
 *    (space, tab, CR, LF: so folded multi-line values too) becomes one
 *    space; repeated names are joined with ',' in the order given; sorted
 *    by name. User-Agent, Expect and X-Amzn-Trace-Id are never signed (a
 *    proxy may change them; botocore leaves them out too).
 *    A Host header is required.
 */
#ifndef SYNTH_SIGV4_H
#define SYNTH_SIGV4_H

#include <stdbool.h>
#include <stddef.h>

#define SYNTH_SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
/* A payload hash that signs no body (S3 streaming uploads, presigned S3). */
#define SYNTH_SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
/* The longest a presigned URL may live (7 days), in seconds. */
#define SYNTH_SIGV4_MAX_EXPIRES 604800UL

/* A name and a value: a query parameter or a header. For a query
 * parameter both are un-encoded and a NULL value is "". */
typedef struct synth_sigv4_pair {
	const char *name;
	const char *value;
} synth_sigv4_pair;

typedef struct synth_sigv4_credentials {
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token; /* NULL or "": none */
} synth_sigv4_credentials;

/* What is signed. Every pointer is borrowed for the call. */
typedef struct synth_sigv4_request {
	const char *method;  /* "GET", "PUT", ... as sent */
	/* The path as sent on the request line, without the query: it must
	 * start with '/'; NULL or "" is "/". */
	const char *path;
	const synth_sigv4_pair *query; /* un-encoded parameters, any order */
	size_t nquery;
	/* Headers as sent: any case, repeated names allowed, Host required.
	 * Must not contain what the signer adds: Authorization, X-Amz-Date,
	 * X-Amz-Security-Token (with a session token), X-Amz-Content-Sha256
	 * (with content_sha256_header). */
	const synth_sigv4_pair *headers;
	size_t nheaders;
	/* The body, hashed with SHA-256 ... */
	const void *payload;
	size_t payload_len;
	/* ... unless this is set: a lowercase hex SHA-256 computed by the
	 * caller (a streamed file), SYNTH_SIGV4_UNSIGNED_PAYLOAD, or another
	 * literal AWS defines ("STREAMING-..."). */
	const char *payload_hash;
	const char *service;   /* signing name: "s3", "cloudformation", ... */
	const char *region;    /* "us-east-1" */
	const char *timestamp; /* ISO 8601 basic, UTC: "20150830T123600Z" */
	synth_sigv4_credentials credentials;
} synth_sigv4_request;

typedef struct synth_sigv4_options {
	/* Remove "." and ".." segments and empty segments ("//") from the
	 * path before encoding, as botocore does: a trailing '/' is kept only
	 * when the path ends with '/' and something remains ("/a/b/.." is
	 * "/a"). Every service but S3. */
	bool normalize_path;
	/* Encode the path as sent once more, '%' included ("/a%20b" is signed
	 * as "/a%2520b"): every service but S3. When false (S3, which decodes
	 * the key and encodes it once) valid %XX escapes are kept (hex
	 * uppercased) and every other byte but '/' and the unreserved ones is
	 * encoded: a path the client encoded is signed as sent. */
	bool double_encode_path;
	/* Add and sign X-Amz-Content-Sha256: the payload hash (S3). Header
	 * signing only: a presigned request carries no extra header. */
	bool content_sha256_header;
	/* Add the session token after signing (not covered by the signature;
	 * a few services want that) instead of signing it. */
	bool token_unsigned;
} synth_sigv4_options;

/* Every service but S3. */
#define SYNTH_SIGV4_OPTIONS_INIT {true, true, false, false}
/* S3. */
#define SYNTH_SIGV4_OPTIONS_S3_INIT {false, false, true, false}

/* The result of signing. Owns every string in it. */
typedef struct synth_sigv4_result {
	char *canonical_request;
	char *string_to_sign;
	char *credential_scope; /* "20150830/us-east-1/service/aws4_request" */
	char *signed_headers;   /* "host;x-amz-date" */
	char *payload_hash;     /* the last line of the canonical request */
	char signature[65];     /* lowercase hex */
	/* Header signing: the Authorization header's value. NULL when
	 * presigning. */
	char *authorization;
	/* The query string to send, without '?': header signing, the
	 * canonical query (the caller's parameters, encoded and sorted);
	 * presigning, that plus every X-Amz-* parameter, X-Amz-Signature
	 * last (an unsigned X-Amz-Security-Token just before it). */
	char *query;
	/* Headers to add to the request as it is sent, in this order:
	 * header signing X-Amz-Date, X-Amz-Security-Token, X-Amz-Content-Sha256
	 * (when they apply) and Authorization; presigning none. Names are
	 * static strings, values point into this struct. */
	synth_sigv4_pair headers[4];
	size_t nheaders;
	/* storage behind headers[] */
	char amz_date[17];
	char *session_token;
} synth_sigv4_result;

/*
 * Signs REQ with an Authorization header. OPTS NULL means
 * SYNTH_SIGV4_OPTIONS_INIT. On success *OUT holds the result (caller owns:
 * synth__sigv4_result_free); on failure *OUT is zeroed.
 */
int synth__sigv4_sign(synth_sigv4_result *out, const synth_sigv4_request *req,
		      const synth_sigv4_options *opts);

/*
 * Query signing (a presigned URL) valid for EXPIRES seconds
 * (1 .. SYNTH_SIGV4_MAX_EXPIRES). The signed query is OUT->query; the
 * request is sent with REQ's headers, unchanged. The payload hash is
 * REQ's as for synth__sigv4_sign (S3 presigned URLs use
 * SYNTH_SIGV4_UNSIGNED_PAYLOAD). REQ->query must not hold X-Amz-Algorithm,
 * -Credential, -Date, -Expires, -SignedHeaders, -Signature or
 * -Security-Token.
 */
int synth__sigv4_presign(synth_sigv4_result *out, const synth_sigv4_request *req,
			 const synth_sigv4_options *opts, unsigned long expires);

/* Frees every string of R and zeroes it. NULL and a zeroed R are fine. */
void synth__sigv4_result_free(synth_sigv4_result *r);

/* --- the steps, exposed for tests ---------------------------------------- */

struct synth_buf;

/* Appends S[0..N) URI-encoded to B: unreserved bytes as they are, every
 * other byte %XX; '/' is kept when KEEP_SLASH. */
void synth__sigv4_encode(struct synth_buf *b, const char *s, size_t n, bool keep_slash);

/* The canonical URI of PATH (see synth_sigv4_options). *OUT: caller frees. */
int synth__sigv4_canonical_uri(char **out, const char *path,
			       const synth_sigv4_options *opts);

/* The canonical query string of Q[0..N) (un-encoded). *OUT: caller frees. */
int synth__sigv4_canonical_query(char **out, const synth_sigv4_pair *q, size_t n);

/* The canonical headers of H[0..N): "name:value\n" per distinct name,
 * sorted, in *CANONICAL, and "name;name" in *SIGNED. Both: caller frees. */
int synth__sigv4_canonical_headers(char **canonical, char **signed_headers,
				   const synth_sigv4_pair *h, size_t n);

/* "AWS4-HMAC-SHA256\n<timestamp>\n<scope>\n<hex sha256(canonical)>". */
int synth__sigv4_string_to_sign(char **out, const char *timestamp, const char *scope,
				const char *canonical_request);

/* The signing key: HMAC-SHA256 chain "AWS4"+SECRET -> DATE (YYYYMMDD) ->
 * REGION -> SERVICE -> "aws4_request". The caller wipes KEY
 * (OPENSSL_cleanse) when done. */
int synth__sigv4_signing_key(unsigned char key[32], const char *secret, const char *date,
			     const char *region, const char *service);

/* Lowercase hex HMAC-SHA256(KEY, STRING_TO_SIGN) into HEX. */
int synth__sigv4_signature(char hex[65], const unsigned char key[32],
			   const char *string_to_sign);

#endif
