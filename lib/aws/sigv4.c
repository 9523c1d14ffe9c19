/*
 * AWS Signature Version 4: canonical request, string to sign, signing key
 * and signature, for header signing and query signing (presigned URLs).
 * The rules are in sigv4.h; the steps follow AWS's "Create a signed AWS API
 * request" in order:
 *   1. canonical request: method, URI, query, headers, signed headers,
 *      payload hash, one per line;
 *   2. string to sign: algorithm, timestamp, scope, SHA-256 of 1;
 *   3. signing key: HMAC chain from "AWS4" + secret over date, region,
 *      service and "aws4_request";
 *   4. signature: HMAC of 2 with 3, in hex.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "../util/util.h"
#include "sigv4.h"

#define TERMINATOR "aws4_request"

/* --- characters ---------------------------------------------------------- */

static bool is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '~';
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* RFC 9110 token characters: header names and methods. */
static bool is_tchar(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_token(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!is_tchar((unsigned char)*s))
			return false;
	return true;
}

static const char HEX_UPPER[] = "0123456789ABCDEF";

static void put_escape(synth_buf *b, unsigned char c)
{
	char e[3] = {'%', HEX_UPPER[c >> 4], HEX_UPPER[c & 15]};
	synth_buf_put(b, e, 3);
}

void synth__sigv4_encode(synth_buf *b, const char *s, size_t n, bool keep_slash)
{
	size_t run = 0; /* bytes kept as they are, written in one go */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (is_unreserved(c) || (keep_slash && c == '/')) {
			run++;
			continue;
		}
		synth_buf_put(b, s + i - run, run);
		run = 0;
		put_escape(b, c);
	}
	synth_buf_put(b, s + n - run, run);
}

/* S3: the path as the client encoded it. Valid %XX escapes stay (hex
 * uppercased); any other byte but '/' and unreserved ones is encoded. */
static void encode_path_once(synth_buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%' && i + 2 < n && synth_hex_value(s[i + 1]) >= 0 &&
		    synth_hex_value(s[i + 2]) >= 0) {
			char e[3] = {'%', HEX_UPPER[synth_hex_value(s[i + 1])],
				     HEX_UPPER[synth_hex_value(s[i + 2])]};
			synth_buf_put(b, e, 3);
			i += 2;
		} else if (is_unreserved(c) || c == '/') {
			synth_buf_putc(b, (char)c);
		} else {
			put_escape(b, c);
		}
	}
}

/* Case-insensitive ASCII comparison (strcasecmp depends on the locale). */
static bool name_is(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a, y = *b;
		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return *a == *b;
}

/* --- canonical URI ------------------------------------------------------- */

/*
 * Removes "." and ".." segments and empty ones, like botocore's
 * remove_dot_segments: segments are pushed on a stack, ".." pops one (none
 * left: ignored); the result starts with '/' and ends with '/' when PATH
 * does and something is left. PATH starts with '/'.
 */
static int normalize_path(synth_buf *out, const char *path)
{
	size_t n = strlen(path), nseg = 1;
	for (size_t i = 0; i < n; i++)
		nseg += path[i] == '/';
	struct seg {
		size_t off, len;
	} *st = malloc(nseg * sizeof *st);
	if (!st)
		return synth_error_oom();
	size_t depth = 0;
	for (size_t i = 0; i <= n;) {
		size_t j = i;
		while (j < n && path[j] != '/')
			j++;
		size_t len = j - i;
		if (len == 0 || (len == 1 && path[i] == '.')) {
			/* empty or "." */
		} else if (len == 2 && path[i] == '.' && path[i + 1] == '.') {
			if (depth)
				depth--;
		} else {
			st[depth].off = i;
			st[depth].len = len;
			depth++;
		}
		i = j + 1;
	}
	synth_buf_putc(out, '/');
	for (size_t k = 0; k < depth; k++) {
		if (k)
			synth_buf_putc(out, '/');
		synth_buf_put(out, path + st[k].off, st[k].len);
	}
	if (depth && path[n - 1] == '/')
		synth_buf_putc(out, '/');
	free(st);
	return 0;
}

int synth__sigv4_canonical_uri(char **out, const char *path, const synth_sigv4_options *opts)
{
	static const synth_sigv4_options defaults = SYNTH_SIGV4_OPTIONS_INIT;
	const synth_sigv4_options *o = opts ? opts : &defaults;
	*out = NULL;
	if (!path || !*path)
		path = "/";
	if (path[0] != '/')
		return synth_error_setf(SYNTH_EINVALID, "sigv4: the path must start with '/'");
	if (strpbrk(path, "?#"))
		return synth_error_setf(SYNTH_EINVALID,
					"sigv4: the path holds '?' or '#' (give the query as "
					"parameters)");
	synth_buf norm = SYNTH_BUF_INIT, b = SYNTH_BUF_INIT;
	const char *p = path;
	if (o->normalize_path) {
		int rc = normalize_path(&norm, path);
		if (rc < 0)
			return rc;
		if (norm.oom)
			return synth_error_oom();
		p = norm.ptr;
	}
	if (o->double_encode_path)
		synth__sigv4_encode(&b, p, strlen(p), true);
	else
		encode_path_once(&b, p, strlen(p));
	synth_buf_free(&norm);
	if (!(*out = synth_buf_detach(&b)))
		return synth_error_oom();
	return 0;
}

/* --- canonical query ----------------------------------------------------- */

typedef struct query_entry {
	char *text;  /* "name=value", encoded */
	size_t nlen; /* length of the encoded name */
} query_entry;

static int query_cmp(const void *pa, const void *pb)
{
	const query_entry *a = pa, *b = pb;
	size_t n = a->nlen < b->nlen ? a->nlen : b->nlen;
	int c = memcmp(a->text, b->text, n);
	if (c)
		return c;
	if (a->nlen != b->nlen)
		return a->nlen < b->nlen ? -1 : 1;
	return strcmp(a->text + a->nlen + 1, b->text + b->nlen + 1);
}

int synth__sigv4_canonical_query(char **out, const synth_sigv4_pair *q, size_t n)
{
	*out = NULL;
	query_entry *e = n ? calloc(n, sizeof *e) : NULL;
	if (n && !e)
		return synth_error_oom();
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		if (!q[i].name) {
			rc = synth_error_setf(SYNTH_EINVALID, "sigv4: query parameter %zu has no name",
					      i + 1);
			goto done;
		}
		synth_buf b = SYNTH_BUF_INIT;
		const char *v = q[i].value ? q[i].value : "";
		synth__sigv4_encode(&b, q[i].name, strlen(q[i].name), false);
		e[i].nlen = b.len;
		synth_buf_putc(&b, '=');
		synth__sigv4_encode(&b, v, strlen(v), false);
		if (!(e[i].text = synth_buf_detach(&b))) {
			rc = synth_error_oom();
			goto done;
		}
	}
	if (n > 1)
		qsort(e, n, sizeof *e, query_cmp);
	synth_buf b = SYNTH_BUF_INIT;
	for (size_t i = 0; i < n; i++) {
		if (i)
			synth_buf_putc(&b, '&');
		synth_buf_puts(&b, e[i].text);
	}
	if (!(*out = synth_buf_detach(&b)))
		rc = synth_error_oom();
done:
	for (size_t i = 0; i < n; i++)
		free(e[i].text);
	free(e);
	return rc;
}

/* --- canonical headers --------------------------------------------------- */

/* Headers never signed: a proxy or the HTTP stack may change them. */
static bool header_skipped(const char *lname)
{
	return !strcmp(lname, "user-agent") || !strcmp(lname, "expect") ||
	       !strcmp(lname, "x-amzn-trace-id");
}

typedef struct header_entry {
	char *name;  /* lowercase */
	char *value; /* trimmed, inner white space runs as one space */
	size_t index;
} header_entry;

static int header_cmp(const void *pa, const void *pb)
{
	const header_entry *a = pa, *b = pb;
	int c = strcmp(a->name, b->name);
	if (c)
		return c;
	return a->index < b->index ? -1 : a->index > b->index;
}

static char *lower_dup(const char *s)
{
	char *d = strdup(s);
	for (char *p = d; p && *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return d;
}

/* Trims V and turns each run of white space inside it into one space. */
static char *trim_all(const char *v)
{
	char *d = malloc(strlen(v) + 1), *w = d;
	if (!d)
		return NULL;
	bool space = false;
	while (is_space(*v))
		v++;
	for (; *v; v++) {
		if (is_space(*v)) {
			space = true;
			continue;
		}
		if (space)
			*w++ = ' ';
		space = false;
		*w++ = *v;
	}
	*w = '\0';
	return d;
}

int synth__sigv4_canonical_headers(char **canonical, char **signed_headers,
				   const synth_sigv4_pair *h, size_t n)
{
	*canonical = *signed_headers = NULL;
	header_entry *e = n ? calloc(n, sizeof *e) : NULL;
	if (n && !e)
		return synth_error_oom();
	int rc = 0;
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_token(h[i].name)) {
			rc = synth_error_setf(SYNTH_EINVALID, "sigv4: bad header name \"%.64s\"",
					      h[i].name ? h[i].name : "(null)");
			goto done;
		}
		char *lname = lower_dup(h[i].name);
		if (!lname) {
			rc = synth_error_oom();
			goto done;
		}
		if (header_skipped(lname)) {
			free(lname);
			continue;
		}
		e[m].name = lname;
		e[m].index = i;
		if (!(e[m++].value = trim_all(h[i].value ? h[i].value : ""))) {
			rc = synth_error_oom();
			goto done;
		}
	}
	if (m > 1)
		qsort(e, m, sizeof *e, header_cmp);
	synth_buf c = SYNTH_BUF_INIT, s = SYNTH_BUF_INIT;
	for (size_t i = 0; i < m; i++) {
		bool same = i && !strcmp(e[i].name, e[i - 1].name);
		if (same) {
			synth_buf_putc(&c, ',');
		} else {
			if (i) {
				synth_buf_putc(&c, '\n');
				synth_buf_putc(&s, ';');
			}
			synth_buf_puts(&c, e[i].name);
			synth_buf_putc(&c, ':');
			synth_buf_puts(&s, e[i].name);
		}
		synth_buf_puts(&c, e[i].value);
	}
	if (m)
		synth_buf_putc(&c, '\n');
	*canonical = synth_buf_detach(&c);
	*signed_headers = synth_buf_detach(&s);
	if (!*canonical || !*signed_headers) {
		free(*canonical);
		free(*signed_headers);
		*canonical = *signed_headers = NULL;
		rc = synth_error_oom();
	}
done:
	for (size_t i = 0; i < m; i++) {
		free(e[i].name);
		free(e[i].value);
	}
	free(e);
	return rc;
}

/* --- string to sign, key, signature -------------------------------------- */

int synth__sigv4_string_to_sign(char **out, const char *timestamp, const char *scope,
				const char *canonical_request)
{
	char hash[65];
	*out = NULL;
	int rc = synth_sha256_hex(canonical_request, strlen(canonical_request), hash);
	if (rc < 0)
		return rc;
	if (!(*out = synth_asprintf(SYNTH_SIGV4_ALGORITHM "\n%s\n%s\n%s", timestamp, scope,
				     hash)))
		return synth_error_oom();
	return 0;
}

static bool hmac256(const void *key, size_t klen, const char *msg, size_t mlen,
		    unsigned char out[32])
{
	unsigned int len = 0;
	if (klen > 0x7fffffff)
		return false;
	if (!HMAC(synth__sha256_md(), key, (int)klen, (const unsigned char *)msg, mlen, out,
		  &len) ||
	    len != 32) {
		ERR_clear_error();
		return false;
	}
	return true;
}

int synth__sigv4_signing_key(unsigned char key[32], const char *secret, const char *date,
			     const char *region, const char *service)
{
	size_t slen = strlen(secret);
	unsigned char *k = malloc(slen + 4);
	unsigned char a[32], b[32];
	if (!k)
		return synth_error_oom();
	memcpy(k, "AWS4", 4);
	memcpy(k + 4, secret, slen);
	bool ok = hmac256(k, slen + 4, date, strlen(date), a);
	OPENSSL_cleanse(k, slen + 4);
	free(k);
	ok = ok && hmac256(a, 32, region, strlen(region), b) &&
	     hmac256(b, 32, service, strlen(service), a) &&
	     hmac256(a, 32, TERMINATOR, strlen(TERMINATOR), key);
	OPENSSL_cleanse(a, sizeof a);
	OPENSSL_cleanse(b, sizeof b);
	if (!ok) {
		OPENSSL_cleanse(key, 32);
		return synth_error_setf(SYNTH_ENOMEM, "sigv4: HMAC-SHA256 failed");
	}
	return 0;
}

int synth__sigv4_signature(char hex[65], const unsigned char key[32], const char *string_to_sign)
{
	unsigned char mac[32];
	hex[0] = '\0';
	if (!hmac256(key, 32, string_to_sign, strlen(string_to_sign), mac))
		return synth_error_setf(SYNTH_ENOMEM, "sigv4: HMAC-SHA256 failed");
	synth__hex(mac, 32, hex);
	OPENSSL_cleanse(mac, sizeof mac);
	return 0;
}

/* --- validation ---------------------------------------------------------- */

static bool digits(const char *s, size_t n, int lo, int hi)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	return v >= lo && v <= hi;
}

/* "YYYYMMDDTHHMMSSZ" */
static bool valid_timestamp(const char *t)
{
	return t && strlen(t) == 16 && t[8] == 'T' && t[15] == 'Z' && digits(t, 4, 0, 9999) &&
	       digits(t + 4, 2, 1, 12) && digits(t + 6, 2, 1, 31) && digits(t + 9, 2, 0, 23) &&
	       digits(t + 11, 2, 0, 59) && digits(t + 13, 2, 0, 60);
}

/* A part of the credential scope: no '/', ',' '=', white space or
 * control characters (they would break the scope or the header). */
static bool valid_scope_part(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= 0x20 || c == 0x7f || c == '/' || c == ',' || c == '=')
			return false;
	}
	return true;
}

static bool valid_payload_hash(const char *h)
{
	size_t n = strlen(h);
	if (n == 64) {
		for (size_t i = 0; i < 64; i++)
			if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
				return false;
		return true;
	}
	if (!strcmp(h, SYNTH_SIGV4_UNSIGNED_PAYLOAD))
		return true;
	if (strncmp(h, "STREAMING-", 10) || n == 10)
		return false;
	for (size_t i = 10; i < n; i++)
		if (!((h[i] >= 'A' && h[i] <= 'Z') || (h[i] >= '0' && h[i] <= '9') || h[i] == '-'))
			return false;
	return true;
}

static const char *const PRESIGN_PARAMS[] = {
	"X-Amz-Algorithm", "X-Amz-Credential",    "X-Amz-Date",      "X-Amz-Expires",
	"X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token", NULL};

/* Checks everything but the path (canonical_uri does). Messages name the
 * field, never a credential. */
static int validate(const synth_sigv4_request *req, const synth_sigv4_options *o,
		    const char *token, bool presign)
{
	if (!is_token(req->method))
		return synth_error_setf(SYNTH_EINVALID, "sigv4: bad method \"%.32s\"",
					req->method ? req->method : "(null)");
	if (!valid_timestamp(req->timestamp))
		return synth_error_setf(SYNTH_EINVALID,
					"sigv4: bad timestamp \"%.32s\" (want YYYYMMDDTHHMMSSZ, UTC)",
					req->timestamp ? req->timestamp : "(null)");
	if (!valid_scope_part(req->region))
		return synth_error_setf(SYNTH_EINVALID, "sigv4: bad region \"%.64s\"",
					req->region ? req->region : "(null)");
	if (!valid_scope_part(req->service))
		return synth_error_setf(SYNTH_EINVALID, "sigv4: bad service name \"%.64s\"",
					req->service ? req->service : "(null)");
	if (!valid_scope_part(req->credentials.access_key_id))
		return synth_error_setf(SYNTH_EINVALID, "sigv4: missing or malformed access key id");
	if (!req->credentials.secret_access_key || !*req->credentials.secret_access_key)
		return synth_error_setf(SYNTH_EINVALID, "sigv4: missing secret access key");
	if (token && strpbrk(token, "\r\n"))
		return synth_error_setf(SYNTH_EINVALID, "sigv4: malformed session token");
	if (req->payload_hash && !valid_payload_hash(req->payload_hash))
		return synth_error_setf(SYNTH_EINVALID, "sigv4: bad payload hash");
	if (!req->payload_hash && !req->payload && req->payload_len)
		return synth_error_setf(SYNTH_EINVALID, "sigv4: a payload length without a payload");
	size_t hosts = 0;
	for (size_t i = 0; i < req->nheaders; i++) {
		const char *name = req->headers[i].name;
		if (!name)
			return synth_error_setf(SYNTH_EINVALID, "sigv4: header %zu has no name",
						i + 1);
		if (name_is(name, "host"))
			hosts++;
		if (name_is(name, "authorization") || name_is(name, "x-amz-date") ||
		    (token && name_is(name, "x-amz-security-token")) ||
		    (!presign && o->content_sha256_header &&
		     name_is(name, "x-amz-content-sha256")))
			return synth_error_setf(SYNTH_EINVALID,
						"sigv4: header %.64s is the signer's to add", name);
	}
	if (hosts != 1)
		return synth_error_setf(SYNTH_EINVALID, "sigv4: %s Host header",
					hosts ? "more than one" : "no");
	for (size_t i = 0; presign && i < req->nquery; i++)
		for (size_t k = 0; req->query[i].name && PRESIGN_PARAMS[k]; k++)
			if (name_is(req->query[i].name, PRESIGN_PARAMS[k]))
				return synth_error_setf(SYNTH_EINVALID,
							"sigv4: query parameter %s is the "
							"signer's to add",
							PRESIGN_PARAMS[k]);
	return 0;
}

/* --- signing ------------------------------------------------------------- */

void synth__sigv4_result_free(synth_sigv4_result *r)
{
	if (!r)
		return;
	free(r->canonical_request);
	free(r->string_to_sign);
	free(r->credential_scope);
	free(r->signed_headers);
	free(r->payload_hash);
	free(r->authorization);
	free(r->query);
	free(r->session_token);
	memset(r, 0, sizeof *r);
}

/* The signed request's result: the presigned query string, or the
 * Authorization header and the headers to send with it. *cquery (the
 * canonical query) may be taken. */
static int sign_output(synth_sigv4_result *r, const synth_sigv4_request *req,
		       const synth_sigv4_options *o, const char *token, bool token_signed,
		       bool presign, char **cquery)
{
	if (presign) {
		synth_buf b = SYNTH_BUF_INIT;
		synth_buf_puts(&b, *cquery);
		if (token && !token_signed) {
			synth_buf_puts(&b, "&X-Amz-Security-Token=");
			synth__sigv4_encode(&b, token, strlen(token), false);
		}
		synth_buf_printf(&b, "&X-Amz-Signature=%s", r->signature);
		if (!(r->query = synth_buf_detach(&b))) {
			synth_buf_free(&b);
			return synth_error_oom();
		}
		return 0;
	}
	if (!(r->authorization = synth_asprintf(
		      SYNTH_SIGV4_ALGORITHM " Credential=%s/%s, SignedHeaders=%s, "
					    "Signature=%s",
		      req->credentials.access_key_id, r->credential_scope,
		      r->signed_headers, r->signature)))
		return synth_error_oom();
	r->query = *cquery;
	*cquery = NULL;
	size_t k = 0;
	r->headers[k++] = (synth_sigv4_pair){"X-Amz-Date", r->amz_date};
	if (token)
		r->headers[k++] = (synth_sigv4_pair){"X-Amz-Security-Token", r->session_token};
	if (o->content_sha256_header)
		r->headers[k++] = (synth_sigv4_pair){"X-Amz-Content-Sha256", r->payload_hash};
	r->headers[k++] = (synth_sigv4_pair){"Authorization", r->authorization};
	r->nheaders = k;
	return 0;
}

static int sign(synth_sigv4_result *r, const synth_sigv4_request *req,
		const synth_sigv4_options *opts, bool presign, unsigned long expires)
{
	static const synth_sigv4_options defaults = SYNTH_SIGV4_OPTIONS_INIT;
	const synth_sigv4_options *o = opts ? opts : &defaults;
	const char *token = req->credentials.session_token;
	if (token && !*token)
		token = NULL;
	bool token_signed = token && !o->token_unsigned;

	memset(r, 0, sizeof *r);
	if (presign && (expires < 1 || expires > SYNTH_SIGV4_MAX_EXPIRES))
		return synth_error_setf(SYNTH_EINVALID,
					"sigv4: expiry of %lu s is out of 1 .. %lu s", expires,
					SYNTH_SIGV4_MAX_EXPIRES);
	int rc = validate(req, o, token, presign);
	if (rc < 0)
		return rc;

	char *uri = NULL, *cquery = NULL, *cheaders = NULL;
	synth_sigv4_pair *headers = NULL, *query = NULL;
	size_t nh = req->nheaders, nq = req->nquery;
	char expires_s[24], date[9];
	unsigned char key[32];
	synth_buf b = SYNTH_BUF_INIT;

	memcpy(r->amz_date, req->timestamp, 16);
	r->amz_date[16] = '\0';
	memcpy(date, req->timestamp, 8);
	date[8] = '\0';
	if (token && !(r->session_token = strdup(token)))
		goto oom;
	if (req->payload_hash) {
		if (!(r->payload_hash = strdup(req->payload_hash)))
			goto oom;
	} else {
		char hex[65];
		if ((rc = synth_sha256_hex(req->payload ? req->payload : "", req->payload_len,
					    hex)) < 0)
			goto fail;
		if (!(r->payload_hash = strdup(hex)))
			goto oom;
	}
	if (!(r->credential_scope = synth_asprintf("%s/%s/%s/" TERMINATOR, date, req->region,
						    req->service)))
		goto oom;
	if ((rc = synth__sigv4_canonical_uri(&uri, req->path, o)) < 0)
		goto fail;

	/* Headers: the caller's, then what header signing adds. */
	headers = malloc((req->nheaders + 3) * sizeof *headers);
	if (!headers)
		goto oom;
	if (nh)
		memcpy(headers, req->headers, nh * sizeof *headers);
	if (!presign) {
		headers[nh++] = (synth_sigv4_pair){"X-Amz-Date", r->amz_date};
		if (token_signed)
			headers[nh++] = (synth_sigv4_pair){"X-Amz-Security-Token", token};
		if (o->content_sha256_header)
			headers[nh++] = (synth_sigv4_pair){"X-Amz-Content-Sha256", r->payload_hash};
	}
	if ((rc = synth__sigv4_canonical_headers(&cheaders, &r->signed_headers, headers, nh)) < 0)
		goto fail;

	/* Query: the caller's, then what query signing adds. */
	query = malloc((req->nquery + 6) * sizeof *query);
	if (!query)
		goto oom;
	if (nq)
		memcpy(query, req->query, nq * sizeof *query);
	if (presign) {
		char *credential = synth_asprintf("%s/%s", req->credentials.access_key_id,
						   r->credential_scope);
		if (!credential)
			goto oom;
		snprintf(expires_s, sizeof expires_s, "%lu", expires);
		query[nq++] = (synth_sigv4_pair){"X-Amz-Algorithm", SYNTH_SIGV4_ALGORITHM};
		query[nq++] = (synth_sigv4_pair){"X-Amz-Credential", credential};
		query[nq++] = (synth_sigv4_pair){"X-Amz-Date", r->amz_date};
		query[nq++] = (synth_sigv4_pair){"X-Amz-Expires", expires_s};
		query[nq++] = (synth_sigv4_pair){"X-Amz-SignedHeaders", r->signed_headers};
		if (token_signed)
			query[nq++] = (synth_sigv4_pair){"X-Amz-Security-Token", token};
		rc = synth__sigv4_canonical_query(&cquery, query, nq);
		free(credential);
	} else {
		rc = synth__sigv4_canonical_query(&cquery, query, nq);
	}
	if (rc < 0)
		goto fail;

	synth_buf_printf(&b, "%s\n%s\n%s\n%s\n%s\n%s", req->method, uri, cquery, cheaders,
			  r->signed_headers, r->payload_hash);
	if (!(r->canonical_request = synth_buf_detach(&b)))
		goto oom;
	if ((rc = synth__sigv4_string_to_sign(&r->string_to_sign, r->amz_date,
					      r->credential_scope, r->canonical_request)) < 0)
		goto fail;
	rc = synth__sigv4_signing_key(key, req->credentials.secret_access_key, date, req->region,
				      req->service);
	if (rc < 0)
		goto fail;
	rc = synth__sigv4_signature(r->signature, key, r->string_to_sign);
	OPENSSL_cleanse(key, sizeof key);
	if (rc < 0)
		goto fail;

	if ((rc = sign_output(r, req, o, token, token_signed, presign, &cquery)) < 0)
		goto fail;
	rc = 0;
	goto done;
oom:
	rc = synth_error_oom();
fail:
	synth__sigv4_result_free(r);
done:
	synth_buf_free(&b);
	free(uri);
	free(cquery);
	free(cheaders);
	free(headers);
	free(query);
	return rc;
}

int synth__sigv4_sign(synth_sigv4_result *out, const synth_sigv4_request *req,
		      const synth_sigv4_options *opts)
{
	return sign(out, req, opts, false, 0);
}

int synth__sigv4_presign(synth_sigv4_result *out, const synth_sigv4_request *req,
			 const synth_sigv4_options *opts, unsigned long expires)
{
	return sign(out, req, opts, true, expires);
}
