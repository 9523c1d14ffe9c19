/*
 * The HTTP layer of the AWS client: libcurl, one easy handle per client
 * (connections are reused across requests), AWS standard-mode retries, and
 * AWS error bodies parsed with expat (XML) or jansson (JSON).
 *
 * libcurl is loaded with dlopen() by the first synth_http_new(), not linked:
 * with its two dozen libraries (TLS, Kerberos, LDAP, ...) it was half the
 * start-up of every `synth`, which makes no HTTP call. Only its header is
 * needed to build; the functions used are reached through `lc` below.
 */
#define _GNU_SOURCE
#define CURL_DISABLE_TYPECHECK /* the calls go through pointers, not macros */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <malloc.h>
#include <dlfcn.h>
#include <curl/curl.h>
#include <expat.h>
#include <openssl/crypto.h>
#include "http.h"

struct synth_http {
	CURL *easy;
	synth_http_options o;
	unsigned seed;
};

/* The libcurl functions this file calls, from the library loaded by
 * curl_init(): $SYNTH_LIBCURL when set (say libcurl-gnutls.so.4, or a
 * path), else the soname of the ABI the header describes. */
#define SYNTH_LIBCURL "libcurl.so.4"
static struct {
	CURLcode (*global_init_mem)(long, curl_malloc_callback, curl_free_callback,
				    curl_realloc_callback, curl_strdup_callback,
				    curl_calloc_callback);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *);
	void (*easy_reset)(CURL *);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
} lc;
static char lc_error[512]; /* why libcurl could not be loaded, or "" */

/* --- headers --------------------------------------------------------------- */

int synth_http_headers_add(synth_http_headers *h, const char *name, const char *value)
{
	if (synth_array_grow((void **)&h->v, &h->n, &h->cap, sizeof *h->v) < 0)
		return SYNTH_ENOMEM;
	char *n = strdup(name), *val = strdup(value ? value : "");
	if (!n || !val) {
		free(n);
		free(val);
		return synth_error_oom();
	}
	h->v[h->n++] = (synth_http_header){n, val};
	return 0;
}

int synth_http_headers_set(synth_http_headers *h, const char *name, const char *value)
{
	size_t j = 0;
	for (size_t i = 0; i < h->n; i++) {
		if (!strcasecmp(h->v[i].name, name)) {
			free(h->v[i].name);
			free(h->v[i].value);
		} else
			h->v[j++] = h->v[i];
	}
	h->n = j;
	return synth_http_headers_add(h, name, value);
}

const char *synth_http_headers_get(const synth_http_headers *h, const char *name)
{
	for (size_t i = 0; i < h->n; i++)
		if (!strcasecmp(h->v[i].name, name))
			return h->v[i].value;
	return NULL;
}

void synth_http_headers_free(synth_http_headers *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free(h->v[i].name);
		free(h->v[i].value);
	}
	free(h->v);
	h->v = NULL;
	h->n = 0;
	h->cap = 0;
}

static int headers_copy(synth_http_headers *dst, const synth_http_headers *src)
{
	for (size_t i = 0; i < src->n; i++)
		if (synth_http_headers_add(dst, src->v[i].name, src->v[i].value) < 0)
			return SYNTH_ENOMEM;
	return 0;
}

/* --- wiping --------------------------------------------------------------- */

static unsigned long wipe_grows, wipe_frees, wipe_curl;
void synth_http__wipe_stats(unsigned long *body_grows, unsigned long *body_frees,
			    unsigned long *curl_frees)
{
	if (body_grows)
		*body_grows = __atomic_load_n(&wipe_grows, __ATOMIC_RELAXED);
	if (body_frees)
		*body_frees = __atomic_load_n(&wipe_frees, __ATOMIC_RELAXED);
	if (curl_frees)
		*curl_frees = __atomic_load_n(&wipe_curl, __ATOMIC_RELAXED);
}

static void wipe_str(char *s)
{
	if (s)
		OPENSSL_cleanse(s, strlen(s));
}

/* libcurl's allocator (curl_global_init_mem): frees wipe the whole block
 * first; realloc moves through a new block so the old one is wiped too. */
static void curl_free_wiped(void *p)
{
	if (!p)
		return;
	OPENSSL_cleanse(p, malloc_usable_size(p));
	__atomic_fetch_add(&wipe_curl, 1, __ATOMIC_RELAXED);
	free(p);
}

static void *curl_realloc_wiped(void *p, size_t n)
{
	if (!p)
		return malloc(n);
	if (n == 0) {
		curl_free_wiped(p);
		return NULL;
	}
	size_t have = malloc_usable_size(p);
	if (n <= have)
		return p; /* fits where it is: nothing left behind */
	void *q = malloc(n);
	if (!q)
		return NULL;
	memcpy(q, p, have);
	curl_free_wiped(p);
	return q;
}

static char *curl_strdup(const char *s) { return strdup(s); }
static void *curl_malloc(size_t n) { return malloc(n); }
static void *curl_calloc(size_t a, size_t b) { return calloc(a, b); }

/* Appends N bytes to a sensitive body: a bigger block is allocated, the
 * bytes copied, and the old block wiped before it is freed (realloc would
 * leave the old bytes in freed memory). Frees and marks oom on failure. */
static void sensitive_put(synth_buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->cap - b->len <= n || !b->ptr) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap - b->len <= n) {
			if (cap > SIZE_MAX / 2) {
				cap = 0;
				break;
			}
			cap *= 2;
		}
		char *p = cap ? malloc(cap) : NULL;
		if (p && b->ptr)
			memcpy(p, b->ptr, b->len);
		if (b->ptr) {
			OPENSSL_cleanse(b->ptr, b->cap);
			__atomic_fetch_add(&wipe_grows, 1, __ATOMIC_RELAXED);
		}
		free(b->ptr);
		b->ptr = p;
		if (!p) {
			b->len = b->cap = 0;
			b->oom = true;
			return;
		}
		b->cap = cap;
	}
	memcpy(b->ptr + b->len, s, n);
	b->len += n;
	b->ptr[b->len] = '\0';
}

void synth_http_response_free(synth_http_response *r)
{
	if (r->sensitive) {
		if (r->body.ptr) {
			OPENSSL_cleanse(r->body.ptr, r->body.cap);
			__atomic_fetch_add(&wipe_frees, 1, __ATOMIC_RELAXED);
		}
		wipe_str(r->aws_message);
		wipe_str(r->aws_code);
	}
	synth_http_headers_free(&r->headers);
	synth_buf_free(&r->body);
	free(r->request_id);
	free(r->aws_code);
	free(r->aws_message);
	memset(r, 0, sizeof *r);
}

/* --- AWS error bodies ------------------------------------------------------- */

typedef struct xml_err {
	int depth;
	char *want;          /* the element being captured */
	synth_buf text;
	char *code, *message, *request_id;
} xml_err;

static void xml_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	(void)attrs;
	xml_err *x = ud;
	/* Local name: namespaces are not expanded, so "Code" is "Code". */
	const char *local = strchr(name, ':') ? strchr(name, ':') + 1 : name;
	if ((!strcmp(local, "Code") && !x->code) || (!strcmp(local, "Message") && !x->message) ||
	    ((!strcmp(local, "RequestId") || !strcmp(local, "RequestID")) && !x->request_id)) {
		free(x->want);
		x->want = strdup(local);
		synth_buf_free(&x->text);
	}
}

static void xml_text(void *ud, const XML_Char *s, int len)
{
	xml_err *x = ud;
	if (x->want)
		synth_buf_put(&x->text, s, (size_t)len);
}

static void xml_end(void *ud, const XML_Char *name)
{
	xml_err *x = ud;
	const char *local = strchr(name, ':') ? strchr(name, ':') + 1 : name;
	if (!x->want || strcmp(local, x->want))
		return;
	char *t = synth_buf_detach(&x->text);
	char **slot = !strcmp(local, "Code") ? &x->code
		      : !strcmp(local, "Message") ? &x->message : &x->request_id;
	if (!*slot)
		*slot = t;
	else
		free(t);
	free(x->want);
	x->want = NULL;
}

int synth_aws_error_parse(const char *body, size_t len, char **code, char **message,
			  char **request_id)
{
	*code = *message = *request_id = NULL;
	size_t i = 0;
	while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
		i++;
	if (i < len && body[i] == '{') {
		/* JSON protocol (SSM): {"__type": "ns#Code", "message": "..."}. */
		json_t *j = json_loadb(body + i, len - i, 0, NULL);
		const char *t = json_string_value(json_object_get(j, "__type"));
		const char *m = json_string_value(json_object_get(j, "message"));
		if (!m)
			m = json_string_value(json_object_get(j, "Message"));
		if (t) {
			const char *hash = strrchr(t, '#');
			*code = strdup(hash ? hash + 1 : t);
		}
		if (m)
			*message = strdup(m);
		json_decref(j);
		return *code ? 0 : -1;
	}
	if (i >= len || body[i] != '<')
		return -1;
	XML_Parser p = XML_ParserCreate(NULL);
	if (!p)
		return synth_error_oom();
	xml_err x = {0};
	XML_SetUserData(p, &x);
	XML_SetElementHandler(p, xml_start, xml_end);
	XML_SetCharacterDataHandler(p, xml_text);
	XML_Parse(p, body, (int)len, 1); /* take what parsed, even if truncated */
	XML_ParserFree(p);
	free(x.want);
	synth_buf_free(&x.text);
	*code = x.code;
	*message = x.message;
	*request_id = x.request_id;
	return *code ? 0 : -1;
}

static bool starts_ci(const char *s, const char *end, const char *prefix)
{
	size_t n = strlen(prefix);
	return (size_t)(end - s) >= n && strncasecmp(s, prefix, n) == 0;
}

/* The body, white space at its start skipped. */
static const char *body_start(const synth_http_response *r, const char **end)
{
	const char *b = r->body.ptr ? r->body.ptr : "";
	*end = b + r->body.len;
	while (b < *end && (*b == ' ' || *b == '\n' || *b == '\r' || *b == '\t'))
		b++;
	return b;
}

bool synth_http_body_is_html(const synth_http_response *r)
{
	const char *end, *b = body_start(r, &end);
	const char *ct = synth_http_headers_get(&r->headers, "Content-Type");
	return (ct && strncasecmp(ct, "text/html", 9) == 0) || starts_ci(b, end, "<!doctype html") ||
	       starts_ci(b, end, "<html");
}

char *synth_http_body_note(const synth_http_response *r)
{
	const char *end, *b = body_start(r, &end);
	const char *ct = synth_http_headers_get(&r->headers, "Content-Type");
	if (!synth_http_body_is_html(r))
		return b == end ? strdup("no error code (the answer had no body)")
				: synth_asprintf("no error code (the answer, %zu bytes%s%s, is not "
						 "an AWS error document)",
						 r->body.len, ct ? " of " : "", ct ? ct : "");
	/* The page's title says what answered ("502 Bad Gateway"): printable
	 * ASCII, white space collapsed, 80 characters at most; never from
	 * the answer to a sensitive call. */
	char title[81];
	size_t tn = 0;
	const char *t = r->sensitive ? NULL : strcasestr(b, "<title");
	t = t ? strchr(t, '>') : NULL;
	for (t = t ? t + 1 : NULL; t && t < end && *t != '<' && tn < sizeof title - 1; t++) {
		char c = *t == '\n' || *t == '\r' || *t == '\t' ? ' ' : *t;
		if (c < ' ' || c > '~' || (c == ' ' && (tn == 0 || title[tn - 1] == ' ')))
			continue;
		title[tn++] = c;
	}
	while (tn && title[tn - 1] == ' ')
		tn--;
	title[tn] = '\0';
	return synth_asprintf("an HTML page%s%s%s, not an AWS error: a proxy, load balancer "
			      "or captive portal answered",
			      tn ? " (\"" : "", title, tn ? "\")" : "");
}

/* --- retries ------------------------------------------------------------------ */

bool synth_http_retryable(long status, const char *code)
{
	static const char *const throttles[] = {
		"Throttling", "ThrottlingException", "ThrottledException",
		"RequestThrottledException", "TooManyRequestsException",
		"ProvisionedThroughputExceededException", "TransactionInProgressException",
		"RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException",
		"RequestThrottled", "SlowDown", "PriorRequestNotComplete",
		"EC2ThrottledException", NULL};
	static const char *const transient[] = {
		"RequestTimeout", "RequestTimeoutException", "InternalError",
		"InternalFailure", "ServiceUnavailable", "IDPCommunicationError", NULL};
	for (size_t i = 0; code && throttles[i]; i++)
		if (!strcmp(code, throttles[i]))
			return true;
	for (size_t i = 0; code && transient[i]; i++)
		if (!strcmp(code, transient[i]))
			return true;
	return status == 429 || status == 500 || status == 502 || status == 503 ||
	       status == 504;
}

static bool curl_retryable(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
		return true;
	default:
		return false;
	}
}

static void backoff(synth_http *c, int attempt)
{
	long cap = c->o.backoff_base_ms;
	for (int i = 0; i < attempt && cap < c->o.backoff_max_ms; i++)
		cap *= 2;
	if (cap > c->o.backoff_max_ms)
		cap = c->o.backoff_max_ms;
	long ms = cap > 0 ? (long)(rand_r(&c->seed) % (cap + 1)) : 0; /* full jitter */
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* --- transfer callbacks ----------------------------------------------------- */

typedef struct body_src {
	const char *mem;
	size_t len, pos;
	int fd;
	uint64_t off, flen, fpos;
} body_src;

static size_t read_body(char *buf, size_t size, size_t n, void *ud)
{
	body_src *b = ud;
	size_t want = size * n;
	if (b->fd >= 0) {
		uint64_t left = b->flen - b->fpos;
		if (want > left)
			want = (size_t)left;
		if (want == 0)
			return 0;
		ssize_t got = pread(b->fd, buf, want, (off_t)(b->off + b->fpos));
		if (got <= 0)
			return CURL_READFUNC_ABORT;
		b->fpos += (uint64_t)got;
		return (size_t)got;
	}
	size_t left = b->len - b->pos;
	if (want > left)
		want = left;
	memcpy(buf, b->mem + b->pos, want);
	b->pos += want;
	return want;
}

static int seek_body(void *ud, curl_off_t off, int origin)
{
	body_src *b = ud;
	if (origin != SEEK_SET || off < 0)
		return CURL_SEEKFUNC_CANTSEEK;
	if (b->fd >= 0)
		b->fpos = (uint64_t)off;
	else
		b->pos = (size_t)off;
	return CURL_SEEKFUNC_OK;
}

static size_t write_body(char *data, size_t size, size_t n, void *ud)
{
	synth_buf *b = ud;
	synth_buf_put(b, data, size * n);
	return b->oom ? 0 : size * n;
}

static size_t write_body_sensitive(char *data, size_t size, size_t n, void *ud)
{
	synth_buf *b = ud;
	sensitive_put(b, data, size * n);
	return b->oom ? 0 : size * n;
}

static size_t write_header(char *data, size_t size, size_t n, void *ud)
{
	synth_http_headers *h = ud;
	size_t len = size * n;
	const char *colon = memchr(data, ':', len);
	if (!strncmp(data, "HTTP/", 5)) {
		synth_http_headers_free(h); /* a new response (after 100, or a retry) */
		return len;
	}
	if (!colon)
		return len;
	char *name = strndup(data, (size_t)(colon - data));
	const char *v = colon + 1, *end = data + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	char *value = strndup(v, (size_t)(end - v));
	int rc = name && value ? synth_http_headers_add(h, name, value) : -1;
	free(name);
	free(value);
	return rc < 0 ? 0 : len;
}

/* --- the client ------------------------------------------------------------- */

/* Loads libcurl (once per process; never unloaded) and initialises it.
 * On failure lc_error says why and every synth_http_new() fails with it. */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void)
{
	const char *lib = getenv("SYNTH_LIBCURL");
	if (!lib || !*lib)
		lib = SYNTH_LIBCURL;
	void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();
		snprintf(lc_error, sizeof lc_error, "cannot load libcurl: %s; the AWS client "
			 "needs it (Debian: apt-get install libcurl4; SYNTH_LIBCURL names "
			 "another one)", e ? e : lib);
		return;
	}
	static const struct {
		const char *name;
		void **fn;
	} syms[] = {
		{"curl_global_init_mem", (void **)&lc.global_init_mem},
		{"curl_easy_init", (void **)&lc.easy_init},
		{"curl_easy_cleanup", (void **)&lc.easy_cleanup},
		{"curl_easy_reset", (void **)&lc.easy_reset},
		{"curl_easy_setopt", (void **)&lc.easy_setopt},
		{"curl_easy_perform", (void **)&lc.easy_perform},
		{"curl_easy_getinfo", (void **)&lc.easy_getinfo},
		{"curl_easy_strerror", (void **)&lc.easy_strerror},
		{"curl_slist_append", (void **)&lc.slist_append},
		{"curl_slist_free_all", (void **)&lc.slist_free_all},
	};
	for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
		/* POSIX: a function pointer travels through dlsym's void *. */
		if (!(*syms[i].fn = dlsym(h, syms[i].name))) {
			snprintf(lc_error, sizeof lc_error, "%s has no %s: not a libcurl, or "
				 "too old a one", lib, syms[i].name);
			return;
		}
	}
	CURLcode rc = lc.global_init_mem(CURL_GLOBAL_DEFAULT, curl_malloc, curl_free_wiped,
					 curl_realloc_wiped, curl_strdup, curl_calloc);
	if (rc != CURLE_OK)
		snprintf(lc_error, sizeof lc_error, "cannot initialise libcurl: %s",
			 lc.easy_strerror(rc));
}

int synth_http_new(synth_http **out, const synth_http_options *opts)
{
	*out = NULL;
	pthread_once(&curl_once, curl_init);
	if (lc_error[0])
		return synth_error_setf(SYNTH_EIO, "%s", lc_error);
	synth_http *c = calloc(1, sizeof *c);
	if (!c)
		return synth_error_oom();
	if (opts)
		c->o = *opts;
	if (!c->o.connect_timeout_ms)
		c->o.connect_timeout_ms = 5000;
	if (!c->o.timeout_ms)
		c->o.timeout_ms = 300000;
	if (!c->o.low_speed_secs)
		c->o.low_speed_secs = 30;
	if (!c->o.max_attempts)
		c->o.max_attempts = 3;
	if (!c->o.backoff_base_ms)
		c->o.backoff_base_ms = 1000;
	if (!c->o.backoff_max_ms)
		c->o.backoff_max_ms = 20000;
	c->seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	if (!(c->easy = lc.easy_init())) {
		free(c);
		return synth_error_setf(SYNTH_ENOMEM, "cannot start libcurl");
	}
	*out = c;
	return 0;
}

void synth_http_free(synth_http *c)
{
	if (!c)
		return;
	lc.easy_cleanup(c->easy);
	free(c);
}

/* One attempt. Returns the curl code; fills RESP. */
static CURLcode attempt(synth_http *c, const synth_http_request *req,
			const synth_http_headers *hdrs, synth_http_response *resp, int fd,
			char *errbuf)
{
	CURL *e = c->easy;
	lc.easy_reset(e); /* keeps the connection cache */
	body_src src = {.mem = req->body, .len = req->body_len, .fd = fd,
			.off = req->file_offset, .flen = req->file_length};
	struct curl_slist *sl = NULL;
	for (size_t i = 0; i < hdrs->n; i++) {
		char *line = synth_asprintf("%s: %s", hdrs->v[i].name, hdrs->v[i].value);
		struct curl_slist *n = line ? lc.slist_append(sl, line) : NULL;
		free(line);
		if (!n) {
			lc.slist_free_all(sl);
			return CURLE_OUT_OF_MEMORY;
		}
		sl = n;
	}
	/* No "Expect: 100-continue" round trip; the body is signed anyway. */
	struct curl_slist *n = lc.slist_append(sl, "Expect:");
	if (n)
		sl = n;
	uint64_t blen = fd >= 0 ? req->file_length : req->body_len;
	bool has_body = fd >= 0 || req->body;
	lc.easy_setopt(e, CURLOPT_URL, req->url);
	lc.easy_setopt(e, CURLOPT_HTTPHEADER, sl);
	lc.easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	lc.easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	lc.easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->o.connect_timeout_ms);
	lc.easy_setopt(e, CURLOPT_TIMEOUT_MS, c->o.timeout_ms);
	lc.easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	lc.easy_setopt(e, CURLOPT_LOW_SPEED_TIME, c->o.low_speed_secs);
	lc.easy_setopt(e, CURLOPT_WRITEFUNCTION,
			 resp->sensitive ? write_body_sensitive : write_body);
	lc.easy_setopt(e, CURLOPT_WRITEDATA, &resp->body);
	lc.easy_setopt(e, CURLOPT_HEADERFUNCTION, write_header);
	lc.easy_setopt(e, CURLOPT_HEADERDATA, &resp->headers);
	lc.easy_setopt(e, CURLOPT_VERBOSE, c->o.verbose ? 1L : 0L);
	if (!strcmp(req->method, "HEAD"))
		lc.easy_setopt(e, CURLOPT_NOBODY, 1L);
	else if (!strcmp(req->method, "GET"))
		lc.easy_setopt(e, CURLOPT_HTTPGET, 1L);
	else if (has_body || !strcmp(req->method, "PUT")) {
		lc.easy_setopt(e, CURLOPT_UPLOAD, 1L);
		lc.easy_setopt(e, CURLOPT_READFUNCTION, read_body);
		lc.easy_setopt(e, CURLOPT_READDATA, &src);
		lc.easy_setopt(e, CURLOPT_SEEKFUNCTION, seek_body);
		lc.easy_setopt(e, CURLOPT_SEEKDATA, &src);
		lc.easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)blen);
		if (fd >= 0)
			lc.easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, 256L * 1024);
		if (strcmp(req->method, "PUT"))
			lc.easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
	} else
		lc.easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
	CURLcode rc = lc.easy_perform(e);
	lc.easy_getinfo(e, CURLINFO_RESPONSE_CODE, &resp->status);
	lc.easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
	lc.slist_free_all(sl);
	return rc;
}

int synth_http_send(synth_http *c, const synth_http_request *req, synth_http_response *resp)
{
	memset(resp, 0, sizeof *resp);
	resp->sensitive = req->sensitive;
	const char *what = req->what ? req->what : req->url;
	int fd = -1;
	if (req->body_file && (fd = open(req->body_file, O_RDONLY | O_CLOEXEC)) < 0)
		return synth_error_setf(SYNTH_EIO, "%s: cannot read %s: %s", what, req->body_file,
					strerror(errno));
	int rc = 0;
	bool sensitive = req->sensitive;
	for (int n = 0;; n++) {
		resp->sensitive = sensitive;
		synth_http_response_free(resp); /* a retry's earlier answer: wiped too */
		resp->sensitive = sensitive;
		resp->attempts = n + 1;
		synth_http_headers hdrs = {0};
		rc = headers_copy(&hdrs, &req->headers);
		if (rc == 0 && req->sign)
			rc = req->sign(req->sign_ctx, req, &hdrs);
		if (rc < 0) {
			synth_http_headers_free(&hdrs);
			break;
		}
		char errbuf[CURL_ERROR_SIZE] = "";
		CURLcode cc = attempt(c, req, &hdrs, resp, fd, errbuf);
		synth_http_headers_free(&hdrs);
		bool last = n + 1 >= c->o.max_attempts;
		if (cc != CURLE_OK) {
			if (curl_retryable(cc) && !last) {
				backoff(c, n);
				continue;
			}
			rc = synth_error_setf(cc == CURLE_OUT_OF_MEMORY ? SYNTH_ENOMEM : SYNTH_EIO,
					      "%s: %s (after %d attempt%s)", what,
					      *errbuf ? errbuf : lc.easy_strerror(cc), n + 1,
					      n ? "s" : "");
			break;
		}
		const char *rid = synth_http_headers_get(&resp->headers, "x-amz-request-id");
		if (!rid)
			rid = synth_http_headers_get(&resp->headers, "x-amzn-RequestId");
		if (rid)
			resp->request_id = strdup(rid);
		if (resp->status < 400) {
			rc = 0;
			break;
		}
		char *rid2 = NULL;
		synth_aws_error_parse(resp->body.ptr ? resp->body.ptr : "", resp->body.len,
				      &resp->aws_code, &resp->aws_message, &rid2);
		if (!resp->request_id)
			resp->request_id = rid2;
		else
			free(rid2);
		if (synth_http_retryable(resp->status, resp->aws_code) && !last) {
			backoff(c, n);
			continue;
		}
		int code = resp->status == 404 ? SYNTH_ENOTFOUND : SYNTH_ERROR;
		char *note = resp->aws_code ? NULL : synth_http_body_note(resp);
		rc = synth_error_setf(code, "%s: %s%s%s (HTTP %ld%s%s%s)", what,
				      resp->aws_code ? resp->aws_code
				      : note	     ? note
						     : "no error code",
				      resp->aws_message ? ": " : "",
				      resp->aws_message ? resp->aws_message : "", resp->status,
				      resp->request_id ? ", request id " : "",
				      resp->request_id ? resp->request_id : "",
				      n ? ", after retries" : "");
		free(note);
		break;
	}
	if (fd >= 0)
		close(fd);
	return rc;
}
