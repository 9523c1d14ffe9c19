/*
 * The SigV4 signer (lib/sigv4.c):
 *  - every case of the official AWS SigV4 test suite (shared/testdata/sigv4):
 *    canonical request, string to sign, signature and the signed request,
 *    for header signing and query signing;
 *  - botocore's vectors for requests shaped like ours
 *    (shared/testdata/sigv4-botocore);
 *  - the steps on their own (URI, query, headers, signing key);
 *  - the secret key never appears in an output or an error message;
 *  - a few hundred generated requests with awkward paths, queries and
 *    headers, signed by botocore too (test/sigv4/botocore_sign.py) and
 *    compared step by step.
 * Runs from the repository root (SYNTH_ROOT); the test data is found at
 * $SYNTH_ROOT/../shared/testdata or ../shared/testdata.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <jansson.h>
#include "check.h"
#include "internal.h"
#include "sigv4.h"

#define FUZZ_CASES 400

/* --- small helpers ----------------------------------------------------- */

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		fprintf(stderr, "out of memory\n");
		abort();
	}
	return p;
}

static char *xstrndup(const char *s, size_t n)
{
	char *d = xmalloc(n + 1);
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

static char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

static char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *p = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

/* The whole file, NUL-terminated; NULL if it cannot be read. */
static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = xmalloc(cap);
	size_t got;
	while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (cap - n - 1 == 0) {
			cap *= 2;
			char *p = realloc(buf, cap);
			if (!p)
				abort();
			buf = p;
		}
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

static char *read_in(const char *dir, const char *file)
{
	char *path = xprintf("%s/%s", dir, file);
	char *s = read_all(path, NULL);
	free(path);
	return s;
}

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void rtrim(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		s[--n] = '\0';
}

static bool ieq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a, y = *b;
		if (x >= 'A' && x <= 'Z')
			x = (char)(x + 32);
		if (y >= 'A' && y <= 'Z')
			y = (char)(y + 32);
		if (x != y)
			return false;
	}
	return *a == *b;
}

static int hexv(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static char *pct_decode(const char *s, size_t n)
{
	char *d = xmalloc(n + 1), *w = d;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexv(s[i + 1]) >= 0 && hexv(s[i + 2]) >= 0) {
			*w++ = (char)(hexv(s[i + 1]) * 16 + hexv(s[i + 2]));
			i += 2;
		} else {
			*w++ = s[i];
		}
	}
	*w = '\0';
	return d;
}

/* The test's own encoder (independent of the library's): everything but
 * unreserved bytes (and '/' when KEEP_SLASH) as %XX. */
static char *encode(const char *s, bool keep_slash)
{
	size_t n = strlen(s);
	char *d = xmalloc(3 * n + 1), *w = d;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/'))
			*w++ = (char)c;
		else
			w += sprintf(w, "%%%02X", c);
	}
	*w = '\0';
	return d;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* --- owned name/value lists -------------------------------------------- */

typedef struct plist {
	synth_sigv4_pair *v;
	size_t n, cap;
} plist;

static void plist_add(plist *p, const char *name, size_t nlen, const char *value, size_t vlen)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 8;
		synth_sigv4_pair *v = realloc(p->v, p->cap * sizeof *v);
		if (!v)
			abort();
		p->v = v;
	}
	p->v[p->n].name = xstrndup(name, nlen);
	p->v[p->n].value = xstrndup(value, vlen);
	p->n++;
}

static void plist_adds(plist *p, const char *name, const char *value)
{
	plist_add(p, name, strlen(name), value, strlen(value));
}

static void plist_free(plist *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free((char *)p->v[i].name);
		free((char *)p->v[i].value);
	}
	free(p->v);
	memset(p, 0, sizeof *p);
}

/* Splits an encoded query string into decoded parameters. */
static void parse_query(plist *q, const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		size_t j = i;
		while (j < n && s[j] != '&')
			j++;
		if (j > i) {
			const char *eq = memchr(s + i, '=', j - i);
			size_t nl = eq ? (size_t)(eq - (s + i)) : j - i;
			char *name = pct_decode(s + i, nl);
			char *value = eq ? pct_decode(eq + 1, (size_t)(s + j - eq - 1)) : xstrdup("");
			plist_adds(q, name, value);
			free(name);
			free(value);
		}
		i = j + 1;
	}
}

/* A query string as a set: each parameter decoded and encoded again (so
 * "%E1%88%B4" and the raw UTF-8 name compare equal), sorted, joined. */
static char *sorted_params(const char *q)
{
	plist p = {0};
	parse_query(&p, q, strlen(q));
	char **parts = xmalloc((p.n ? p.n : 1) * sizeof *parts);
	for (size_t i = 0; i < p.n; i++) {
		char *n = encode(p.v[i].name, false), *v = encode(p.v[i].value, false);
		parts[i] = xprintf("%s=%s", n, v);
		free(n);
		free(v);
	}
	qsort(parts, p.n, sizeof *parts, cmp_str);
	synth_buf b = SYNTH_BUF_INIT;
	for (size_t i = 0; i < p.n; i++) {
		if (i)
			synth_buf_putc(&b, '&');
		synth_buf_puts(&b, parts[i]);
		free(parts[i]);
	}
	free(parts);
	plist_free(&p);
	return synth_buf_detach(&b);
}

/* --- raw HTTP requests (request.txt) ------------------------------------ */

typedef struct http_req {
	char *method, *target, *path, *query; /* query: raw, after '?' */
	plist params, headers;
	char *body;
	size_t body_len;
} http_req;

static void http_free(http_req *r)
{
	free(r->method);
	free(r->target);
	free(r->path);
	free(r->query);
	plist_free(&r->params);
	plist_free(&r->headers);
	free(r->body);
	memset(r, 0, sizeof *r);
}

/* The request line (METHOD SP target SP version: the target may hold
 * spaces), headers (a line starting with white space continues the one
 * above, kept with its line break: folding is the signer's to undo), an
 * empty line, the body. */
static bool http_parse(http_req *r, const char *text, size_t len)
{
	memset(r, 0, sizeof *r);
	const char *end = text + len, *p = text;
	const char *eol = memchr(p, '\n', (size_t)(end - p));
	if (!eol)
		eol = end;
	size_t ll = (size_t)(eol - p);
	if (ll && p[ll - 1] == '\r')
		ll--;
	const char *sp1 = memchr(p, ' ', ll), *sp2 = p + ll;
	while (sp2 > p && sp2[-1] != ' ')
		sp2--;
	if (!sp1 || sp2 - 1 <= sp1) {
		http_free(r);
		return false;
	}
	r->method = xstrndup(p, (size_t)(sp1 - p));
	r->target = xstrndup(sp1 + 1, (size_t)(sp2 - 1 - (sp1 + 1)));
	char *qm = strchr(r->target, '?');
	r->path = qm ? xstrndup(r->target, (size_t)(qm - r->target)) : xstrdup(r->target);
	r->query = xstrdup(qm ? qm + 1 : "");
	parse_query(&r->params, r->query, strlen(r->query));
	p = eol < end ? eol + 1 : end;
	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		ll = (size_t)(eol - p);
		if (ll && p[ll - 1] == '\r')
			ll--;
		const char *next = eol < end ? eol + 1 : end;
		if (ll == 0) {
			p = next;
			break;
		}
		if ((p[0] == ' ' || p[0] == '\t') && r->headers.n) {
			synth_sigv4_pair *h = &r->headers.v[r->headers.n - 1];
			char *v = xprintf("%s\n%.*s", h->value, (int)ll, p);
			free((char *)h->value);
			h->value = v;
		} else {
			const char *colon = memchr(p, ':', ll);
			if (!colon) {
				http_free(r);
				return false;
			}
			plist_add(&r->headers, p, (size_t)(colon - p), colon + 1,
				  (size_t)(p + ll - colon - 1));
		}
		p = next;
	}
	r->body_len = (size_t)(end - p);
	r->body = xstrndup(p, r->body_len);
	return true;
}

static const char *http_header(const http_req *r, const char *name)
{
	for (size_t i = 0; i < r->headers.n; i++)
		if (ieq(r->headers.v[i].name, name))
			return r->headers.v[i].value;
	return NULL;
}

/* --- finding the test data ---------------------------------------------- */

static char *find_testdata(void)
{
	const char *root = getenv("SYNTH_ROOT");
	char *c[2] = {root ? xprintf("%s/../shared/testdata", root) : NULL,
		      xstrdup("../shared/testdata")};
	char *found = NULL;
	for (int i = 0; i < 2; i++) {
		if (!found && c[i]) {
			char *probe = xprintf("%s/sigv4", c[i]);
			if (is_dir(probe))
				found = xstrdup(c[i]);
			free(probe);
		}
		free(c[i]);
	}
	return found;
}

/* Subdirectories of DIR, sorted. */
static char **list_dirs(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	*n = 0;
	if (!d)
		return NULL;
	size_t cap = 64;
	char **v = xmalloc(cap * sizeof *v);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char *full = xprintf("%s/%s", dir, e->d_name);
		if (is_dir(full)) {
			if (*n == cap) {
				cap *= 2;
				char **nv = realloc(v, cap * sizeof *v);
				if (!nv)
					abort();
				v = nv;
			}
			v[(*n)++] = xstrdup(e->d_name);
		}
		free(full);
	}
	closedir(d);
	qsort(v, *n, sizeof *v, cmp_str);
	return v;
}

/* --- the official suite ------------------------------------------------- */

static void check_file(const char *dir, const char *file, const char *got, const char *what,
		       const char *name)
{
	char *want = read_in(dir, file);
	if (want && strstr(file, "signature"))
		rtrim(want);
	CHECK_STR(got, want ? want : "(missing file)", "sigv4/%s: %s", name, what);
	free(want);
}

static void run_case(const char *suite, const char *name)
{
	char *dir = xprintf("%s/%s", suite, name);
	char *ctx_path = xprintf("%s/context.json", dir);
	json_t *ctx = json_load_file(ctx_path, 0, NULL);
	size_t raw_len = 0;
	char *raw_path = xprintf("%s/request.txt", dir);
	char *raw = read_all(raw_path, &raw_len);
	http_req hr;
	bool parsed = raw && http_parse(&hr, raw, raw_len);
	CHECK(ctx && parsed, "sigv4/%s: context.json and request.txt read", name);
	if (!ctx || !parsed)
		goto out;

	json_t *cred = json_object_get(ctx, "credentials");
	char ts[17] = "";
	const char *iso = json_string_value(json_object_get(ctx, "timestamp"));
	size_t k = 0;
	for (const char *p = iso ? iso : ""; *p && k < 16; p++)
		if (*p != '-' && *p != ':')
			ts[k++] = *p;
	ts[k] = '\0';
	synth_sigv4_request req = {
		.method = hr.method,
		.path = hr.path,
		.query = hr.params.v,
		.nquery = hr.params.n,
		.headers = hr.headers.v,
		.nheaders = hr.headers.n,
		.payload = hr.body,
		.payload_len = hr.body_len,
		.service = json_string_value(json_object_get(ctx, "service")),
		.region = json_string_value(json_object_get(ctx, "region")),
		.timestamp = ts,
		.credentials = {
			.access_key_id = json_string_value(json_object_get(cred, "access_key_id")),
			.secret_access_key =
				json_string_value(json_object_get(cred, "secret_access_key")),
			.session_token = json_string_value(json_object_get(cred, "token")),
		},
	};
	synth_sigv4_options opts = {
		.normalize_path = json_is_true(json_object_get(ctx, "normalize")),
		.double_encode_path = true,
		.content_sha256_header = json_is_true(json_object_get(ctx, "sign_body")),
		.token_unsigned = json_is_true(json_object_get(ctx, "omit_session_token")),
	};

	/* Header signing. */
	synth_sigv4_result r;
	int rc = synth__sigv4_sign(&r, &req, &opts);
	CHECK(rc == 0, "sigv4/%s: header signing%s%s", name, rc ? ": " : "",
	      rc ? synth_error_last()->message : "");
	if (rc == 0) {
		check_file(dir, "header-canonical-request.txt", r.canonical_request,
			   "header canonical request", name);
		check_file(dir, "header-string-to-sign.txt", r.string_to_sign,
			   "header string to sign", name);
		check_file(dir, "header-signature.txt", r.signature, "header signature", name);
		/* The signed request: Authorization and every header we add. */
		size_t slen = 0;
		char *spath = xprintf("%s/header-signed-request.txt", dir);
		char *stext = read_all(spath, &slen);
		http_req sr;
		bool ok = stext && http_parse(&sr, stext, slen);
		if (ok) {
			for (size_t i = 0; i < r.nheaders; i++) {
				const char *v = http_header(&sr, r.headers[i].name);
				if (!v || strcmp(v, r.headers[i].value)) {
					printf("#   %s: %s\n#   expected: %s\n", r.headers[i].name,
					       r.headers[i].value, v ? v : "(absent)");
					ok = false;
				}
			}
			/* ... and nothing more than the request had, plus ours. */
			ok = ok && sr.headers.n == hr.headers.n + r.nheaders;
			http_free(&sr);
		}
		CHECK(ok, "sigv4/%s: header signed request (Authorization, X-Amz-*)", name);
		free(stext);
		free(spath);
		synth__sigv4_result_free(&r);
	}

	/* Query signing, where the suite has it. */
	char *qcanon = read_in(dir, "query-canonical-request.txt");
	if (qcanon) {
		json_int_t exp = json_integer_value(json_object_get(ctx, "expiration_in_seconds"));
		rc = synth__sigv4_presign(&r, &req, &opts, (unsigned long)exp);
		CHECK(rc == 0, "sigv4/%s: query signing%s%s", name, rc ? ": " : "",
		      rc ? synth_error_last()->message : "");
		if (rc == 0) {
			CHECK_STR(r.canonical_request, qcanon, "sigv4/%s: query canonical request",
				  name);
			check_file(dir, "query-string-to-sign.txt", r.string_to_sign,
				   "query string to sign", name);
			check_file(dir, "query-signature.txt", r.signature, "query signature", name);
			size_t slen = 0;
			char *spath = xprintf("%s/query-signed-request.txt", dir);
			char *stext = read_all(spath, &slen);
			http_req sr;
			if (stext && http_parse(&sr, stext, slen)) {
				char *want = sorted_params(sr.query), *got = sorted_params(r.query);
				CHECK_STR(got, want, "sigv4/%s: query signed request parameters",
					  name);
				CHECK(r.nheaders == 0 && sr.headers.n == hr.headers.n,
				      "sigv4/%s: query signed request adds no header", name);
				free(want);
				free(got);
				http_free(&sr);
			} else {
				CHECK(0, "sigv4/%s: query-signed-request.txt read", name);
			}
			free(stext);
			free(spath);
			synth__sigv4_result_free(&r);
		}
		free(qcanon);
	}
out:
	if (parsed)
		http_free(&hr);
	json_decref(ctx);
	free(raw);
	free(raw_path);
	free(ctx_path);
	free(dir);
}

static size_t test_suite(const char *testdata)
{
	char *suite = xprintf("%s/sigv4", testdata);
	size_t n = 0;
	char **cases = list_dirs(suite, &n);
	CHECK(n >= 30, "sigv4 suite: %zu cases in %s", n, suite);
	for (size_t i = 0; i < n; i++) {
		run_case(suite, cases[i]);
		free(cases[i]);
	}
	free(cases);
	free(suite);
	return n;
}

/* --- URLs ---------------------------------------------------------------- */

typedef struct url_parts {
	char *scheme, *host, *path, *query; /* host as the Host header has it */
} url_parts;

static bool url_parse(url_parts *u, const char *url)
{
	memset(u, 0, sizeof *u);
	const char *sep = strstr(url, "://");
	if (!sep)
		return false;
	u->scheme = xstrndup(url, (size_t)(sep - url));
	const char *h = sep + 3, *e = h + strcspn(h, "/?");
	u->host = xstrndup(h, (size_t)(e - h));
	/* botocore leaves the default port out of Host */
	char *colon = strrchr(u->host, ':');
	if (colon && ((!strcmp(u->scheme, "https") && !strcmp(colon, ":443")) ||
		      (!strcmp(u->scheme, "http") && !strcmp(colon, ":80"))))
		*colon = '\0';
	const char *q = strchr(e, '?');
	u->path = q ? xstrndup(e, (size_t)(q - e)) : xstrdup(e);
	if (!*u->path) {
		free(u->path);
		u->path = xstrdup("/");
	}
	u->query = xstrdup(q ? q + 1 : "");
	return true;
}

static void url_free(url_parts *u)
{
	free(u->scheme);
	free(u->host);
	free(u->path);
	free(u->query);
}

/* --- botocore's vectors --------------------------------------------------- */

static unsigned char *hex_decode(const char *hex, size_t *len)
{
	size_t n = strlen(hex) / 2;
	unsigned char *d = xmalloc(n);
	for (size_t i = 0; i < n; i++)
		d[i] = (unsigned char)(hexv(hex[2 * i]) * 16 + hexv(hex[2 * i + 1]));
	*len = n;
	return d;
}

/* Every header we add is in botocore's final header list, same value. */
static bool headers_in(const synth_sigv4_result *r, json_t *list)
{
	for (size_t i = 0; i < r->nheaders; i++) {
		bool found = false;
		size_t k;
		json_t *h;
		json_array_foreach(list, k, h)
		{
			const char *n = json_string_value(json_array_get(h, 0));
			const char *v = json_string_value(json_array_get(h, 1));
			if (n && v && ieq(n, r->headers[i].name) && !strcmp(v, r->headers[i].value))
				found = true;
		}
		if (!found) {
			printf("#   header %s: %s not in botocore's\n", r->headers[i].name,
			       r->headers[i].value);
			return false;
		}
	}
	return true;
}

static void run_botocore_vector(json_t *v)
{
	const char *name = json_string_value(json_object_get(v, "name"));
	json_t *argv = json_object_get(v, "argv");
	const char *method = NULL, *url = NULL, *body = NULL, *region = NULL, *service = NULL,
		   *akid = NULL, *secret = NULL, *ts = NULL, *token = NULL;
	bool unsigned_payload = false;
	plist headers = {0}, params = {0};
	url_parts u;
	for (size_t i = 0; i < json_array_size(argv); i++) {
		const char *a = json_string_value(json_array_get(argv, i));
		const char *next = json_string_value(json_array_get(argv, i + 1));
		if (!a)
			continue;
		if (!strcmp(a, "--unsigned-payload")) {
			unsigned_payload = true;
			continue;
		}
		if (!strcmp(a, "--keep-date-header"))
			continue;
		if (!next)
			break;
		i++;
		if (!strcmp(a, "--method"))
			method = next;
		else if (!strcmp(a, "--url"))
			url = next;
		else if (!strcmp(a, "--body"))
			body = next;
		else if (!strcmp(a, "--region"))
			region = next;
		else if (!strcmp(a, "--service"))
			service = next;
		else if (!strcmp(a, "--access-key"))
			akid = next;
		else if (!strcmp(a, "--secret-key"))
			secret = next;
		else if (!strcmp(a, "--timestamp"))
			ts = next;
		else if (!strcmp(a, "--session-token"))
			token = next;
		else if (!strcmp(a, "-H")) {
			const char *colon = strchr(next, ':');
			const char *val = colon ? colon + 1 : "";
			while (*val == ' ')
				val++;
			plist_add(&headers, next, colon ? (size_t)(colon - next) : strlen(next), val,
				  strlen(val));
		}
	}
	if (!url || !url_parse(&u, url)) {
		CHECK(0, "botocore/%s: request read", name ? name : "?");
		plist_free(&headers);
		return;
	}
	plist_adds(&headers, "Host", u.host);
	parse_query(&params, u.query, strlen(u.query));
	unsigned char *payload = NULL;
	size_t payload_len = 0;
	const char *body_hex = json_string_value(json_object_get(v, "body_hex"));
	if (body_hex)
		payload = hex_decode(body_hex, &payload_len);
	else if (body) {
		payload = (unsigned char *)xstrdup(body);
		payload_len = strlen(body);
	}
	bool s3 = !strcmp(json_string_value(json_object_get(v, "signer")), "S3SigV4Auth");
	synth_sigv4_options opts = SYNTH_SIGV4_OPTIONS_INIT, s3opts = SYNTH_SIGV4_OPTIONS_S3_INIT;
	synth_sigv4_request req = {
		.method = method,
		.path = u.path,
		.query = params.v,
		.nquery = params.n,
		.headers = headers.v,
		.nheaders = headers.n,
		.payload = payload,
		.payload_len = payload_len,
		.payload_hash = unsigned_payload ? SYNTH_SIGV4_UNSIGNED_PAYLOAD : NULL,
		.service = service,
		.region = region,
		.timestamp = ts,
		.credentials = {akid, secret, token},
	};
	synth_sigv4_result r;
	int rc = synth__sigv4_sign(&r, &req, s3 ? &s3opts : &opts);
	CHECK(rc == 0, "botocore/%s: signed%s%s", name, rc ? ": " : "",
	      rc ? synth_error_last()->message : "");
	if (rc == 0) {
		CHECK_STR(r.canonical_request,
			  json_string_value(json_object_get(v, "canonical_request")),
			  "botocore/%s: canonical request", name);
		CHECK_STR(r.string_to_sign, json_string_value(json_object_get(v, "string_to_sign")),
			  "botocore/%s: string to sign", name);
		CHECK_STR(r.signature, json_string_value(json_object_get(v, "signature")),
			  "botocore/%s: signature", name);
		CHECK_STR(r.authorization, json_string_value(json_object_get(v, "authorization")),
			  "botocore/%s: Authorization", name);
		CHECK(headers_in(&r, json_object_get(v, "headers")),
		      "botocore/%s: added headers are botocore's", name);
		const char *doc = json_string_value(json_object_get(v, "doc_signature"));
		if (doc)
			CHECK_STR(r.signature, doc, "botocore/%s: signature published by AWS", name);
		synth__sigv4_result_free(&r);
	}
	free(payload);
	plist_free(&headers);
	plist_free(&params);
	url_free(&u);
}

static size_t test_botocore_vectors(const char *testdata)
{
	char *path = xprintf("%s/sigv4-botocore/botocore-vectors.jsonl", testdata);
	char *text = read_all(path, NULL);
	size_t n = 0;
	CHECK(text != NULL, "botocore vectors: %s read", path);
	for (char *save = NULL, *line = text ? strtok_r(text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		json_error_t err;
		json_t *v = json_loads(line, 0, &err);
		CHECK(v != NULL, "botocore vectors: line %zu parses", n + 1);
		if (v)
			run_botocore_vector(v);
		json_decref(v);
		n++;
	}
	CHECK(n >= 10, "botocore vectors: %zu requests", n);
	free(text);
	free(path);
	return n;
}

/* --- the steps on their own ---------------------------------------------- */

static void test_steps(void)
{
	static const struct {
		const char *path, *normal, *s3;
	} uris[] = {
		{"", "/", "/"},
		{"/", "/", "/"},
		{"/a/b/..", "/a", "/a/b/.."},
		{"/a/b/../", "/a/", "/a/b/../"},
		{"/a/./b//c/", "/a/b/c/", "/a/./b//c/"},
		{"/..", "/", "/.."},
		{"/../../a", "/a", "/../../a"},
		{"//", "/", "//"},
		{"/a b/c+d", "/a%20b/c%2Bd", "/a%20b/c%2Bd"},
		{"/a%20b/%2b", "/a%2520b/%252b", "/a%20b/%2B"},
		{"/100%/x%2", "/100%25/x%252", "/100%25/x%252"},
		{"/\xe1\x88\xb4", "/%E1%88%B4", "/%E1%88%B4"},
		{"/-._~!$&'()*,;=:@", "/-._~%21%24%26%27%28%29%2A%2C%3B%3D%3A%40",
		 "/-._~%21%24%26%27%28%29%2A%2C%3B%3D%3A%40"},
	};
	synth_sigv4_options normal = SYNTH_SIGV4_OPTIONS_INIT, s3 = SYNTH_SIGV4_OPTIONS_S3_INIT;
	for (size_t i = 0; i < sizeof uris / sizeof uris[0]; i++) {
		char *a = NULL, *b = NULL;
		int ra = synth__sigv4_canonical_uri(&a, uris[i].path, &normal);
		int rb = synth__sigv4_canonical_uri(&b, uris[i].path, &s3);
		CHECK(ra == 0 && rb == 0, "canonical URI of \"%s\" builds", uris[i].path);
		CHECK_STR(a, uris[i].normal, "canonical URI of \"%s\", normalized", uris[i].path);
		CHECK_STR(b, uris[i].s3, "canonical URI of \"%s\", S3", uris[i].path);
		free(a);
		free(b);
	}
	char *s = NULL;
	CHECK(synth__sigv4_canonical_uri(&s, "relative", NULL) == SYNTH_EINVALID && !s,
	      "canonical URI: a path without a leading '/' is refused");
	CHECK(synth__sigv4_canonical_uri(&s, "/a?b=c", NULL) == SYNTH_EINVALID && !s,
	      "canonical URI: a path holding '?' is refused");

	synth_sigv4_pair q[] = {
		{"b", "2"},	{"a", "z"},	{"a", "y"},	  {"a-b", "1"},
		{"x y", "1+2"}, {"k=v", "&/"},	{"empty", ""},	  {"null", NULL},
		{"~ok", "-_."}, {"A", "\xc3\xa9"},
	};
	CHECK(synth__sigv4_canonical_query(&s, q, sizeof q / sizeof q[0]) == 0,
	      "canonical query builds");
	CHECK_STR(s,
		  "A=%C3%A9&a=y&a=z&a-b=1&b=2&empty=&k%3Dv=%26%2F&null=&x%20y=1%2B2&~ok=-_.",
		  "canonical query: encoded, sorted by name then value");
	free(s);
	CHECK(synth__sigv4_canonical_query(&s, NULL, 0) == 0 && s && !*s,
	      "canonical query of nothing is \"\"");
	free(s);

	synth_sigv4_pair h[] = {
		{"Host", "example.com"},   {"X-B", "  two   words  "}, {"x-a", "1"},
		{"User-Agent", "curl/8"},  {"X-A", "\t2 \n 3"},       {"Expect", "100-continue"},
		{"X-Amzn-Trace-Id", "t"},  {"X-Empty", ""},
	};
	char *sh = NULL;
	CHECK(synth__sigv4_canonical_headers(&s, &sh, h, sizeof h / sizeof h[0]) == 0,
	      "canonical headers build");
	CHECK_STR(s, "host:example.com\nx-a:1,2 3\nx-b:two words\nx-empty:\n",
		  "canonical headers: lowercase, trimmed, joined, sorted, skipped");
	CHECK_STR(sh, "host;x-a;x-b;x-empty", "signed headers");
	free(s);
	free(sh);
	synth_sigv4_pair bad[] = {{"Bad Name", "v"}};
	CHECK(synth__sigv4_canonical_headers(&s, &sh, bad, 1) == SYNTH_EINVALID && !s && !sh,
	      "canonical headers: a name with a space is refused");

	/* AWS's documented example of a derived signing key. */
	unsigned char key[32];
	char hex[65];
	CHECK(synth__sigv4_signing_key(key, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215",
				       "us-east-1", "iam") == 0,
	      "signing key derives");
	synth__hex(key, 32, hex);
	CHECK_STR(hex, "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d",
		  "signing key: AWS's documented example");
}

/* --- whole requests: options, payload forms, errors, secrets ----------- */

static synth_sigv4_request base_request(const synth_sigv4_pair *headers, size_t nheaders)
{
	return (synth_sigv4_request){
		.method = "PUT",
		.path = "/bucket/key with space",
		.headers = headers,
		.nheaders = nheaders,
		.payload = "hello",
		.payload_len = 5,
		.service = "s3",
		.region = "eu-west-1",
		.timestamp = "20240315T101112Z",
		.credentials = {"AKIDEXAMPLE", "SECRETSECRET", "TOKENTOKEN"},
	};
}

static bool leaks(const char *s, const char *secret)
{
	return s && strstr(s, secret);
}

static bool result_leaks(const synth_sigv4_result *r, const char *secret)
{
	bool bad = leaks(r->canonical_request, secret) || leaks(r->string_to_sign, secret) ||
		   leaks(r->credential_scope, secret) || leaks(r->signed_headers, secret) ||
		   leaks(r->payload_hash, secret) || leaks(r->signature, secret) ||
		   leaks(r->authorization, secret) || leaks(r->query, secret) ||
		   leaks(r->amz_date, secret);
	for (size_t i = 0; i < r->nheaders; i++)
		bad = bad || leaks(r->headers[i].name, secret) || leaks(r->headers[i].value, secret);
	return bad;
}

static void test_requests(void)
{
	synth_sigv4_pair hdr[] = {{"Host", "bucket.s3.amazonaws.com"}, {"Content-Type", "text/plain"}};
	synth_sigv4_request req = base_request(hdr, 2);
	synth_sigv4_options s3 = SYNTH_SIGV4_OPTIONS_S3_INIT;
	synth_sigv4_result a, b;

	/* A payload and its precomputed hash sign alike. */
	CHECK(synth__sigv4_sign(&a, &req, &s3) == 0, "S3 PUT signs");
	char hash[65];
	synth_sha256_hex("hello", 5, hash);
	synth_sigv4_request req2 = req;
	req2.payload = NULL;
	req2.payload_len = 0;
	req2.payload_hash = hash;
	CHECK(synth__sigv4_sign(&b, &req2, &s3) == 0, "S3 PUT with a payload hash signs");
	CHECK_STR(a.signature, b.signature, "payload and payload hash give one signature");
	CHECK(a.nheaders == 4 && !strcmp(a.headers[0].name, "X-Amz-Date") &&
		      !strcmp(a.headers[1].name, "X-Amz-Security-Token") &&
		      !strcmp(a.headers[2].name, "X-Amz-Content-Sha256") &&
		      !strcmp(a.headers[2].value, hash) &&
		      !strcmp(a.headers[3].name, "Authorization") &&
		      a.headers[3].value == a.authorization,
	      "S3 header signing adds X-Amz-Date, -Security-Token, -Content-Sha256, "
	      "Authorization");
	CHECK_HAS(a.canonical_request, "\n/bucket/key%20with%20space\n",
		  "S3 path: a raw space is encoded once");
	CHECK(result_leaks(&a, "SECRETSECRET") == false, "header signing: no secret in outputs");
	synth__sigv4_result_free(&a);
	synth__sigv4_result_free(&b);

	/* UNSIGNED-PAYLOAD. */
	req2.payload_hash = SYNTH_SIGV4_UNSIGNED_PAYLOAD;
	CHECK(synth__sigv4_sign(&a, &req2, &s3) == 0, "UNSIGNED-PAYLOAD signs");
	CHECK(a.canonical_request && !strcmp(a.payload_hash, "UNSIGNED-PAYLOAD") &&
		      strstr(a.canonical_request, "x-amz-content-sha256:UNSIGNED-PAYLOAD\n") &&
		      !strcmp(a.canonical_request + strlen(a.canonical_request) - 17,
			      "\nUNSIGNED-PAYLOAD"),
	      "UNSIGNED-PAYLOAD is the payload line and X-Amz-Content-Sha256");
	synth__sigv4_result_free(&a);

	/* Presigned S3 GET with a token: signed in the query, no headers. */
	synth_sigv4_pair q[] = {{"response-content-type", "text/plain; charset=utf-8"}};
	req2.method = "GET";
	req2.query = q;
	req2.nquery = 1;
	CHECK(synth__sigv4_presign(&a, &req2, &s3, 900) == 0, "S3 presign signs");
	CHECK(a.nheaders == 0 && a.authorization == NULL, "presign adds no header");
	CHECK_HAS(a.query, "&X-Amz-Security-Token=TOKENTOKEN&",
		  "presign: the token is a signed query parameter");
	CHECK(a.query && strstr(a.query, "X-Amz-Expires=900&") &&
		      strstr(a.query, "response-content-type=text%2Fplain%3B%20charset%3Dutf-8") &&
		      !strncmp(strstr(a.query, "&X-Amz-Signature="), "&X-Amz-Signature=", 17) &&
		      !strcmp(strstr(a.query, "&X-Amz-Signature=") + 17, a.signature),
	      "presign: expiry, encoded parameters, signature last");
	CHECK(!strstr(a.canonical_request, "x-amz-content-sha256"),
	      "presign: no X-Amz-Content-Sha256 header is signed");
	CHECK(result_leaks(&a, "SECRETSECRET") == false, "presign: no secret in outputs");
	synth__sigv4_result_free(&a);

	/* The token added after signing. */
	synth_sigv4_options late = s3;
	late.token_unsigned = true;
	CHECK(synth__sigv4_presign(&a, &req2, &late, 900) == 0 &&
		      !strstr(a.canonical_request, "TOKENTOKEN") &&
		      strstr(a.query, "&X-Amz-Security-Token=TOKENTOKEN&X-Amz-Signature="),
	      "presign, token unsigned: in the URL, not in the canonical request");
	synth__sigv4_result_free(&a);
	CHECK(synth__sigv4_sign(&a, &req2, &late) == 0 && !strstr(a.canonical_request, "TOKEN") &&
		      a.nheaders == 4 && !strcmp(a.headers[1].value, "TOKENTOKEN"),
	      "header signing, token unsigned: added, not signed");
	synth__sigv4_result_free(&a);

	/* Errors: each refused, the result zeroed, no secret or token in the
	 * message. */
	struct {
		const char *what;
		synth_sigv4_request r;
		unsigned long expires; /* 0: header signing */
	} bad[24];
	size_t nb = 0;
	synth_sigv4_pair with_date[] = {{"Host", "h"}, {"X-Amz-Date", "20240315T101112Z"}};
	synth_sigv4_pair with_auth[] = {{"Host", "h"}, {"authorization", "x"}};
	synth_sigv4_pair with_sha[] = {{"Host", "h"}, {"x-amz-content-sha256", "x"}};
	synth_sigv4_pair with_tok[] = {{"Host", "h"}, {"X-Amz-Security-Token", "x"}};
	synth_sigv4_pair two_hosts[] = {{"Host", "h"}, {"host", "i"}};
	synth_sigv4_pair no_host[] = {{"X-A", "SECRETSECRET"}};
	synth_sigv4_pair q_sig[] = {{"X-Amz-Signature", "x"}};
#define BAD(w, e, ...)                                                                 \
	do {                                                                           \
		bad[nb].what = w;                                                      \
		bad[nb].r = base_request(hdr, 2);                                      \
		__VA_ARGS__;                                                           \
		bad[nb++].expires = e;                                                 \
	} while (0)
	BAD("bad timestamp", 0, bad[nb].r.timestamp = "2024-03-15T10:11:12Z");
	BAD("bad month", 0, bad[nb].r.timestamp = "20241315T101112Z");
	BAD("no region", 0, bad[nb].r.region = "");
	BAD("slash in service", 0, bad[nb].r.service = "s3/x");
	BAD("no access key", 0, bad[nb].r.credentials.access_key_id = NULL);
	BAD("no secret", 0, bad[nb].r.credentials.secret_access_key = "");
	BAD("bad method", 0, bad[nb].r.method = "GET /");
	BAD("bad payload hash", 0, bad[nb].r.payload_hash = "SECRETSECRET");
	BAD("X-Amz-Date given", 0, bad[nb].r.headers = with_date);
	BAD("Authorization given", 0, bad[nb].r.headers = with_auth);
	BAD("X-Amz-Content-Sha256 given (S3)", 0, bad[nb].r.headers = with_sha);
	BAD("X-Amz-Security-Token given", 0, bad[nb].r.headers = with_tok);
	BAD("two Host headers", 0, bad[nb].r.headers = two_hosts);
	BAD("no Host header", 0, bad[nb].r.headers = no_host; bad[nb].r.nheaders = 1);
	BAD("expiry too long", SYNTH_SIGV4_MAX_EXPIRES + 1, (void)0);
	BAD("X-Amz-Signature in the query", 60, bad[nb].r.query = q_sig; bad[nb].r.nquery = 1);
#undef BAD
	for (size_t i = 0; i < nb; i++) {
		synth_error_clear();
		memset(&a, 0x5a, sizeof a);
		int rc = bad[i].expires ? synth__sigv4_presign(&a, &bad[i].r, &s3, bad[i].expires)
					: synth__sigv4_sign(&a, &bad[i].r, &s3);
		const char *msg = synth_error_last()->message;
		synth_sigv4_result zero;
		memset(&zero, 0, sizeof zero);
		CHECK(rc == SYNTH_EINVALID && !memcmp(&a, &zero, sizeof a) && *msg &&
			      !strstr(msg, "SECRETSECRET") && !strstr(msg, "TOKENTOKEN"),
		      "refused: %s (%s)", bad[i].what, msg);
	}
	synth__sigv4_result_free(NULL);
}

/* --- generated requests, cross-checked with botocore ------------------- */

static uint64_t rng = 0x5eed5167a4b3c2d1ULL;

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1DULL;
}

static size_t pick(size_t n)
{
	return (size_t)(rnd() % n);
}

#define PICK(arr) (arr[pick(sizeof arr / sizeof arr[0])])

static const char *const PATH_ATOMS[] = {
	"a",  "Z",   "0",   "key",	"-",  "_",  ".",  "~",	 " ",  "+",  "%",  "%20",
	"%2F", "%41", "%zz", "\xc3\xa9", "\xe2\x98\x83", "\xe6\x97\xa5\xe6\x9c\xac", "!",
	"$",  "&",   "'",   "(",	")",  "*",  ",",  ";",	 "=",  ":",  "@",  "..",
};
static const char *const QUERY_ATOMS[] = {
	"a", "B", "1", "-", "_", ".", "~", " ", "+", "%", "%41", "=", "&", "/", "?", "#",
	":", "@", "!", "'", "*", ";", ",", "$", "\xc3\xa9", "\xe2\x98\x83", "[", "]",
};
static const char *const VALUE_ATOMS[] = {
	"a", "b c", "  ", "\t", " x ", "1", "=", "/", "\"q\"", ",", ";", "::", "A  B", "-",
};
static const char *const HEADER_NAMES[] = {
	"X-Custom", "x-custom", "X-CUSTOM", "Content-Type", "My-Header1", "X-Amz-Meta-Tag",
	"X-Amz-Storage-Class", "User-Agent", "Expect", "X-Amzn-Trace-Id", "Accept",
	"Cache-Control", "If-None-Match", "a", "Z-Last",
};

static char *gen_text(const char *const *atoms, size_t natoms, size_t min, size_t max)
{
	synth_buf b = SYNTH_BUF_INIT;
	size_t n = min + pick(max - min + 1);
	for (size_t i = 0; i < n; i++)
		synth_buf_puts(&b, atoms[pick(natoms)]);
	return synth_buf_detach(&b);
}

/* A raw path: segments that may be empty, "." or "..". */
static char *gen_path(void)
{
	synth_buf b = SYNTH_BUF_INIT;
	size_t n = pick(6);
	for (size_t i = 0; i < n; i++) {
		synth_buf_putc(&b, '/');
		size_t k = pick(10);
		if (k == 0)
			continue;
		if (k == 1)
			synth_buf_putc(&b, '.');
		else if (k == 2)
			synth_buf_puts(&b, "..");
		else {
			char *t = gen_text(PATH_ATOMS, sizeof PATH_ATOMS / sizeof *PATH_ATOMS, 1, 4);
			synth_buf_puts(&b, t);
			free(t);
		}
	}
	if (n == 0 || pick(3) == 0)
		synth_buf_putc(&b, '/');
	return synth_buf_detach(&b);
}

typedef struct fuzz_case {
	const char *signer;
	bool s3, presign, unsigned_payload;
	unsigned long expires;
	char *method, *path, *url, *token, *secret, *akid, *ts;
	const char *region, *service;
	plist query, headers;
	unsigned char *body;
	size_t body_len;
	json_t *json;
} fuzz_case;

static void gen_case(fuzz_case *c, int id)
{
	static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"};
	static const char *const regions[] = {"us-east-1", "eu-west-1", "ap-southeast-2",
					      "cn-north-1", "local"};
	static const char *const services[] = {"cloudformation", "sts", "execute-api", "lambda",
					       "service"};
	memset(c, 0, sizeof *c);
	c->s3 = pick(5) < 2;
	c->presign = pick(4) == 0;
	c->signer = c->presign ? (c->s3 ? "S3SigV4QueryAuth" : "SigV4QueryAuth")
			       : (c->s3 ? "S3SigV4Auth" : "SigV4Auth");
	c->method = xstrdup(PICK(methods));
	c->region = PICK(regions);
	c->service = c->s3 ? "s3" : PICK(services);
	bool https = pick(3) != 0;
	const char *host = c->s3 ? (https ? "bucket.s3.amazonaws.com" : "127.0.0.1:4569")
				 : (https ? "svc.us-east-1.amazonaws.com" : "localhost:4566");
	/* The path as sent: raw for the other services (the signer encodes
	 * it twice), encoded by the client for S3 (signed as sent). */
	char *raw = gen_path();
	c->path = c->s3 ? encode(raw, true) : xstrdup(raw);
	free(raw);
	c->url = xprintf("%s://%s%s", https ? "https" : "http", host, c->path);

	size_t nq = pick(5);
	for (size_t i = 0; i < nq; i++) {
		char *name;
		if (i && !c->presign && pick(4) == 0)
			name = xstrdup(c->query.v[pick(c->query.n)].name); /* repeated key */
		else if (pick(8) == 0)
			name = xstrdup(pick(2) ? "" : "uploads");
		else
			name = gen_text(QUERY_ATOMS, sizeof QUERY_ATOMS / sizeof *QUERY_ATOMS, 1, 4);
		bool dup = false;
		for (size_t k = 0; c->presign && k < c->query.n; k++)
			dup = dup || !strcmp(c->query.v[k].name, name);
		char *value = pick(5) == 0 ? xstrdup("")
					   : gen_text(QUERY_ATOMS,
						      sizeof QUERY_ATOMS / sizeof *QUERY_ATOMS, 1, 5);
		if (!dup)
			plist_adds(&c->query, name, value);
		free(name);
		free(value);
	}

	static const char *const host_names[] = {"Host", "host", "HOST"};
	plist_adds(&c->headers, PICK(host_names), host);
	size_t nh = pick(5);
	for (size_t i = 0; i < nh; i++) {
		char *value = pick(6) == 0 ? xstrdup("")
					   : gen_text(VALUE_ATOMS,
						      sizeof VALUE_ATOMS / sizeof *VALUE_ATOMS, 1, 4);
		plist_adds(&c->headers, PICK(HEADER_NAMES), value);
		free(value);
	}

	if (!c->presign && pick(2)) {
		c->body_len = 1 + pick(64);
		c->body = xmalloc(c->body_len);
		for (size_t i = 0; i < c->body_len; i++)
			c->body[i] = (unsigned char)rnd();
	}
	c->unsigned_payload = c->presign ? c->s3 : (c->s3 && https && pick(4) == 0);
	c->expires = 1 + pick(SYNTH_SIGV4_MAX_EXPIRES);

	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	c->secret = xmalloc(41);
	for (int i = 0; i < 40; i++)
		c->secret[i] = b64[pick(64)];
	c->secret[40] = '\0';
	c->akid = xmalloc(21);
	memcpy(c->akid, "AKID", 4);
	for (int i = 4; i < 20; i++)
		c->akid[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[pick(32)];
	c->akid[20] = '\0';
	if (pick(10) < 3) {
		size_t n = 20 + pick(40);
		c->token = xmalloc(n + 3);
		for (size_t i = 0; i < n; i++)
			c->token[i] = b64[pick(64)];
		memcpy(c->token + n, "==", 3);
	}
	c->ts = xprintf("%04d%02d%02dT%02d%02d%02dZ", 2000 + (int)pick(38), 1 + (int)pick(12),
			1 + (int)pick(28), (int)pick(24), (int)pick(60), (int)pick(60));

	json_t *params = json_array(), *headers = json_array();
	for (size_t i = 0; i < c->query.n; i++)
		json_array_append_new(params, json_pack("[ss]", c->query.v[i].name,
							c->query.v[i].value));
	for (size_t i = 0; i < c->headers.n; i++)
		json_array_append_new(headers, json_pack("[ss]", c->headers.v[i].name,
							 c->headers.v[i].value));
	char *hex = xmalloc(2 * c->body_len + 1);
	synth__hex(c->body ? c->body : (const unsigned char *)"", c->body_len, hex);
	c->json = json_pack("{si ss ss ss so so ss ss ss ss ss so ss sb sI}", "id", id, "signer",
			    c->signer, "method", c->method, "url", c->url, "params", params,
			    "headers", headers, "body_hex", hex, "region", c->region, "service",
			    c->service, "access_key", c->akid, "secret_key", c->secret, "token",
			    c->token ? json_string(c->token) : json_null(), "timestamp", c->ts,
			    "unsigned_payload", c->unsigned_payload, "expires",
			    (json_int_t)c->expires);
	free(hex);
}

static void free_case(fuzz_case *c)
{
	free(c->method);
	free(c->path);
	free(c->url);
	free(c->token);
	free(c->secret);
	free(c->akid);
	free(c->ts);
	plist_free(&c->query);
	plist_free(&c->headers);
	free(c->body);
	json_decref(c->json);
}

/* Compares our result for C with botocore's OUT; returns the artifacts
 * that differ as bits: 1 canonical request, 2 string to sign, 4
 * signature, 8 Authorization or signed URL; 16: the secret is in one of
 * our outputs. */
static int compare_case(fuzz_case *c, json_t *out, char **why)
{
	synth_sigv4_options opts = SYNTH_SIGV4_OPTIONS_INIT, s3 = SYNTH_SIGV4_OPTIONS_S3_INIT;
	synth_sigv4_request req = {
		.method = c->method,
		.path = c->path,
		.query = c->query.v,
		.nquery = c->query.n,
		.headers = c->headers.v,
		.nheaders = c->headers.n,
		.payload = c->body,
		.payload_len = c->body_len,
		.payload_hash = c->unsigned_payload ? SYNTH_SIGV4_UNSIGNED_PAYLOAD : NULL,
		.service = c->service,
		.region = c->region,
		.timestamp = c->ts,
		.credentials = {c->akid, c->secret, c->token},
	};
	synth_sigv4_result r;
	int rc = c->presign ? synth__sigv4_presign(&r, &req, c->s3 ? &s3 : &opts, c->expires)
			    : synth__sigv4_sign(&r, &req, c->s3 ? &s3 : &opts);
	if (rc < 0) {
		*why = xprintf("libsynth: %s", synth_error_last()->message);
		return 31;
	}
	const char *err = json_string_value(json_object_get(out, "error"));
	if (err) {
		*why = xprintf("botocore: %s", err);
		synth__sigv4_result_free(&r);
		return 31;
	}
	const char *cr = json_string_value(json_object_get(out, "canonical_request"));
	const char *sts = json_string_value(json_object_get(out, "string_to_sign"));
	const char *sig = json_string_value(json_object_get(out, "signature"));
	int diff = 0;
	diff |= (!cr || strcmp(cr, r.canonical_request)) ? 1 : 0;
	diff |= (!sts || strcmp(sts, r.string_to_sign)) ? 2 : 0;
	diff |= (!sig || strcmp(sig, r.signature)) ? 4 : 0;
	if (c->presign) {
		const char *url = json_string_value(json_object_get(out, "url"));
		const char *q = url ? strchr(url, '?') : NULL;
		char *want = sorted_params(q ? q + 1 : ""), *got = sorted_params(r.query);
		diff |= strcmp(want, got) ? 8 : 0;
		free(want);
		free(got);
	} else {
		const char *auth = json_string_value(json_object_get(out, "authorization"));
		diff |= (!auth || strcmp(auth, r.authorization)) ? 8 : 0;
	}
	if (result_leaks(&r, c->secret))
		diff |= 16;
	if (diff)
		*why = xprintf("ours:\n%s\n--- botocore's:\n%s", r.canonical_request,
			       cr ? cr : "(none)");
	synth__sigv4_result_free(&r);
	return diff;
}

static void test_botocore_fuzz(void)
{
	const char *root = getenv("SYNTH_ROOT");
	char *script = root ? xprintf("%s/test/sigv4/botocore_sign.py", root)
			    : xstrdup("test/sigv4/botocore_sign.py");
	char in_path[] = "/tmp/sigv4-fuzz-in-XXXXXX", err_path[] = "/tmp/sigv4-fuzz-err-XXXXXX";
	int in_fd = mkstemp(in_path), err_fd = mkstemp(err_path);
	fuzz_case *cases = xmalloc(FUZZ_CASES * sizeof *cases);
	FILE *in = in_fd >= 0 ? fdopen(in_fd, "w") : NULL;
	if (err_fd >= 0)
		close(err_fd);
	for (int i = 0; i < FUZZ_CASES; i++) {
		gen_case(&cases[i], i);
		char *line = json_dumps(cases[i].json, JSON_COMPACT);
		if (in && line)
			fprintf(in, "%s\n", line);
		free(line);
	}
	if (in)
		fclose(in);

	json_t **outs = calloc(FUZZ_CASES, sizeof *outs);
	char *cmd = xprintf("/usr/bin/python3 '%s' < '%s' 2> '%s'", script, in_path, err_path);
	FILE *p = popen(cmd, "r");
	size_t got = 0;
	if (p && outs) {
		char *line = NULL;
		size_t cap = 0;
		while (getline(&line, &cap, p) > 0) {
			json_t *o = json_loads(line, 0, NULL);
			json_int_t id = o ? json_integer_value(json_object_get(o, "id")) : -1;
			if (id >= 0 && id < FUZZ_CASES && !outs[id]) {
				outs[id] = o;
				got++;
			} else {
				json_decref(o);
			}
		}
		free(line);
	}
	int status = p ? pclose(p) : -1;
	bool ran = status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
		   got == FUZZ_CASES;
	if (!ran) {
		char *err = read_all(err_path, NULL);
		if (err)
			rtrim(err);
		CHECK(0, "botocore cross-check ran (%zu of %d answers; python3 exit %d): %s%s", got,
		      FUZZ_CASES, status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1,
		      err && *err ? err : "no message",
		      status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 3
			      ? " (apt-get install python3-botocore)"
			      : "");
		free(err);
	} else {
		CHECK(1, "botocore cross-check ran: %d generated requests", FUZZ_CASES);
		int bad[5] = {0}, shown = 0, kinds[4] = {0};
		for (int i = 0; i < FUZZ_CASES; i++) {
			char *why = NULL;
			int diff = compare_case(&cases[i], outs[i], &why);
			kinds[(cases[i].s3 ? 1 : 0) + (cases[i].presign ? 2 : 0)]++;
			for (int k = 0; k < 5; k++)
				bad[k] += (diff >> k) & 1;
			if (diff && shown++ < 3) {
				char *req = json_dumps(cases[i].json, JSON_COMPACT);
				printf("# case %d differs (%d): %s\n# %s\n", i, diff, req ? req : "",
				       why ? why : "");
				free(req);
			}
			free(why);
		}
		printf("# %d SigV4Auth, %d S3SigV4Auth, %d SigV4QueryAuth, %d S3SigV4QueryAuth\n",
		       kinds[0], kinds[1], kinds[2], kinds[3]);
		static const char *const what[] = {"canonical requests", "strings to sign",
						   "signatures",
						   "Authorization headers / presigned queries"};
		for (int k = 0; k < 4; k++)
			CHECK(bad[k] == 0, "botocore cross-check: %d/%d %s agree", FUZZ_CASES - bad[k],
			      FUZZ_CASES, what[k]);
		CHECK(bad[4] == 0, "botocore cross-check: no secret in any of our %d results",
		      FUZZ_CASES);
	}
	for (int i = 0; i < FUZZ_CASES; i++) {
		free_case(&cases[i]);
		if (outs)
			json_decref(outs[i]);
	}
	free(outs);
	free(cases);
	free(cmd);
	free(script);
	unlink(in_path);
	unlink(err_path);
}

int main(void)
{
	char *testdata = find_testdata();
	CHECK(testdata != NULL,
	      "test data found ($SYNTH_ROOT/../shared/testdata or ../shared/testdata)");
	if (testdata) {
		size_t n = test_suite(testdata);
		size_t m = test_botocore_vectors(testdata);
		printf("# %zu AWS suite cases, %zu botocore vectors\n", n, m);
	}
	free(testdata);
	test_steps();
	test_requests();
	test_botocore_fuzz();
	return check_failed ? 1 : 0;
}
