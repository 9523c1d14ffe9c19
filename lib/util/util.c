/* Strings, buffers, hashing and a small hash map. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* SHA256_Init/Update/Final are deprecated in OpenSSL 3 but kept: unlike
 * EVP, they hash without loading OpenSSL's provider machinery (a fetch
 * cost more than the rest of a small synth), and they link statically
 * without pulling the rest of libcrypto in (ARCHITECTURE.md, "Linking"). */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include "util.h"

static void buf_fail(synth_buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = b->cap = 0;
	b->oom = true;
}

static bool buf_grow(synth_buf *b, size_t extra)
{
	if (b->oom)
		return false;
	if (b->len + extra + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1) {
		if (cap > SIZE_MAX / 2) {
			buf_fail(b);
			return false;
		}
		cap *= 2;
	}
	char *p = realloc(b->ptr, cap);
	if (!p) {
		buf_fail(b);
		return false;
	}
	b->ptr = p;
	b->cap = cap;
	return true;
}

void synth_buf_put(synth_buf *b, const char *s, size_t n)
{
	if (!buf_grow(b, n))
		return;
	memcpy(b->ptr + b->len, s, n);
	b->len += n;
	b->ptr[b->len] = '\0';
}

void synth_buf_puts(synth_buf *b, const char *s)
{
	synth_buf_put(b, s, strlen(s));
}

void synth_buf_putc(synth_buf *b, char c)
{
	synth_buf_put(b, &c, 1);
}

void synth_buf_printf(synth_buf *b, const char *fmt, ...)
{
	va_list ap;
	if (b->oom)
		return;
	/* Try the spare capacity first; measure and grow only if it is short. */
	size_t room = b->cap > b->len ? b->cap - b->len : 0;
	va_start(ap, fmt);
	int n = vsnprintf(room ? b->ptr + b->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < room) {
		b->len += (size_t)n;
		return;
	}
	if (!buf_grow(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *synth_buf_detach(synth_buf *b)
{
	char *p = b->oom ? NULL : b->ptr;
	if (p == NULL && !b->oom)
		p = synth_strdup("");
	b->ptr = NULL;
	b->len = b->cap = 0;
	b->oom = false;
	return p;
}

void synth_buf_free(synth_buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = b->cap = 0;
	b->oom = false;
}

char *synth_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

char *synth_asprintf(const char *fmt, ...)
{
	/* Formatted once into the stack when it fits (most paths and names
	 * do): formatting is the cost, not the copy. */
	char small[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	char *p = malloc((size_t)n + 1);
	if (!p)
		return NULL;
	if ((size_t)n < sizeof small) {
		memcpy(p, small, (size_t)n + 1);
		return p;
	}
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

int synth_hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void synth__hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int synth_sha256_hex(const void *data, size_t len, char hex[65])
{
	/* Not SHA256(): in OpenSSL 3 that one-shot goes through EVP. */
	SHA256_CTX ctx;
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256_Init(&ctx);
	SHA256_Update(&ctx, data, len);
	SHA256_Final(md, &ctx);
	synth__hex(md, sizeof md, hex);
	return 0;
}

bool synth_name_valid(const char *s, size_t max)
{
	size_t n = 0;
	if (!s || !*s)
		return false;
	for (; s[n]; n++) {
		char c = s[n];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return n <= max;
}

size_t synth_strv_len(const char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

int synth_strv_dup(char ***out, const char *const *v)
{
	*out = NULL;
	if (!v)
		return 0;
	size_t n = synth_strv_len(v);
	char **r = calloc(n + 1, sizeof *r);
	if (!r)
		return synth_error_oom();
	for (size_t i = 0; i < n; i++) {
		if (!(r[i] = strdup(v[i]))) {
			synth_strv_free(r);
			return synth_error_oom();
		}
	}
	*out = r;
	return 0;
}

void synth_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* FNV-1a; the map is open addressing with linear probing. */
static size_t map_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

void *synth__map_get(const synth_map *m, const char *key)
{
	if (!m->cap)
		return NULL;
	for (size_t i = map_hash(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (!m->keys[i])
			return NULL;
		if (strcmp(m->keys[i], key) == 0)
			return m->vals[i];
	}
}

static int map_insert(synth_map *m, char *key, void *val)
{
	size_t i = map_hash(key) & (m->cap - 1);
	while (m->keys[i]) {
		if (strcmp(m->keys[i], key) == 0) {
			free(key);
			m->vals[i] = val;
			return 0;
		}
		i = (i + 1) & (m->cap - 1);
	}
	m->keys[i] = key;
	m->vals[i] = val;
	m->len++;
	return 0;
}

int synth__map_put(synth_map *m, const char *key, void *val)
{
	if ((m->len + 1) * 2 > m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 16;
		synth_map n = {calloc(ncap, sizeof(char *)),
			       calloc(ncap, sizeof(void *)), ncap, 0};
		if (!n.keys || !n.vals) {
			free(n.keys);
			free(n.vals);
			return synth_error_oom();
		}
		for (size_t i = 0; i < m->cap; i++)
			if (m->keys[i])
				map_insert(&n, m->keys[i], m->vals[i]);
		free(m->keys);
		free(m->vals);
		*m = n;
	}
	char *k = strdup(key);
	if (!k)
		return synth_error_oom();
	return map_insert(m, k, val);
}

void synth__map_free(synth_map *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof *m);
}

static int dump_to_buf(const char *data, size_t size, void *ctx)
{
	synth_buf *b = ctx;
	synth_buf_put(b, data, size);
	return b->oom ? -1 : 0;
}

/* --- JSON text ----------------------------------------------------------
 * json_dump_callback()'s output, byte for byte, written straight into a
 * buffer: jansson decodes every character of every string through its
 * UTF-8 iterator and hands the text over in pieces of a few bytes, which
 * made dumping a third of a large synth (2,000 functions, 8 MB of JSON).
 * Strings held by jansson are valid UTF-8 (checked when they were made),
 * so only the characters JSON escapes need looking at. What this does not
 * produce itself (reals, and the flags ENSURE_ASCII, ESCAPE_SLASH, EMBED
 * and a real precision) it leaves to jansson. */

/* The flags the fast path handles: indentation, compact, sorted keys,
 * ENCODE_ANY (and PRESERVE_ORDER, which jansson 2.14 always does). */
#define DUMP_OWN_FLAGS (JSON_MAX_INDENT | JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY | \
			JSON_PRESERVE_ORDER)
/* As deep as jansson's parser goes; deeper is a cycle or a mistake. */
#define DUMP_MAX_DEPTH 2048

typedef struct dumper {
	synth_buf *b;
	size_t flags, indent;
} dumper;

/* Room for N more bytes (and the NUL after them) at the end of D's buffer
 * (NULL when out of memory); the caller writes them, the NUL, and advances
 * len. */
static char *dump_room(dumper *d, size_t n)
{
	return buf_grow(d->b, n) ? d->b->ptr + d->b->len : NULL;
}

static int dump_str(dumper *d, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	/* Worst case: every byte a \u00XX escape. */
	if (n > (SIZE_MAX - 2) / 6)
		return -1;
	char *o = dump_room(d, 6 * n + 2), *start = o;
	if (!o)
		return -1;
	*o++ = '"';
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	while (p < end) {
		const unsigned char *run = p;
		while (p < end && *p >= 0x20 && *p != '"' && *p != '\\')
			p++;
		memcpy(o, run, (size_t)(p - run));
		o += p - run;
		if (p == end)
			break;
		unsigned char c = *p++;
		*o++ = '\\';
		switch (c) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '\b': *o++ = 'b'; break;
		case '\f': *o++ = 'f'; break;
		case '\n': *o++ = 'n'; break;
		case '\r': *o++ = 'r'; break;
		case '\t': *o++ = 't'; break;
		default:
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o++ = '"';
	*o = '\0';
	d->b->len += (size_t)(o - start);
	return 0;
}

/* A newline and DEPTH levels of indentation; or, unindented, a space
 * after a comma when not compact (SPACE). */
static int dump_nl(dumper *d, size_t depth, bool space)
{
	if (d->indent) {
		size_t n = depth * d->indent;
		char *o = dump_room(d, n + 1);
		if (!o)
			return -1;
		*o = '\n';
		memset(o + 1, ' ', n);
		o[n + 1] = '\0';
		d->b->len += n + 1;
	} else if (space && !(d->flags & JSON_COMPACT)) {
		synth_buf_putc(d->b, ' ');
	}
	return d->b->oom ? -1 : 0;
}

typedef struct dump_key {
	const char *key;
	size_t len;
	json_t *val;
} dump_key;

static int cmp_dump_key(const void *a, const void *b)
{
	const dump_key *x = a, *y = b;
	int c = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

static int dump_value(dumper *d, const json_t *j, size_t depth);

static int dump_object(dumper *d, const json_t *j, size_t depth)
{
	size_t n = json_object_size(j);
	if (n == 0) {
		synth_buf_put(d->b, "{}", 2);
		return d->b->oom ? -1 : 0;
	}
	dump_key one[16], *keys = n <= 16 ? one : malloc(n * sizeof *keys);
	if (!keys)
		return -1;
	size_t i = 0;
	for (void *it = json_object_iter((json_t *)j); it && i < n;
	     it = json_object_iter_next((json_t *)j, it), i++) {
		keys[i].key = json_object_iter_key(it);
#if JANSSON_VERSION_HEX >= 0x020e00
		keys[i].len = json_object_iter_key_len(it);
#else
		keys[i].len = strlen(keys[i].key);
#endif
		keys[i].val = json_object_iter_value(it);
	}
	if (d->flags & JSON_SORT_KEYS)
		qsort(keys, i, sizeof *keys, cmp_dump_key);
	const char *sep = d->flags & JSON_COMPACT ? ":" : ": ";
	size_t seplen = d->flags & JSON_COMPACT ? 1 : 2;
	synth_buf_putc(d->b, '{');
	int rc = i == n && !d->b->oom ? dump_nl(d, depth + 1, false) : -1;
	for (size_t k = 0; rc == 0 && k < n; k++) {
		rc = dump_str(d, keys[k].key, keys[k].len);
		if (rc == 0) {
			synth_buf_put(d->b, sep, seplen);
			rc = dump_value(d, keys[k].val, depth + 1);
		}
		if (rc == 0 && k + 1 < n) {
			synth_buf_putc(d->b, ',');
			rc = dump_nl(d, depth + 1, true);
		} else if (rc == 0) {
			rc = dump_nl(d, depth, false);
		}
	}
	if (keys != one)
		free(keys);
	synth_buf_putc(d->b, '}');
	return rc == 0 && !d->b->oom ? 0 : -1;
}

static int dump_array(dumper *d, const json_t *j, size_t depth)
{
	size_t n = json_array_size(j);
	if (n == 0) {
		synth_buf_put(d->b, "[]", 2);
		return d->b->oom ? -1 : 0;
	}
	synth_buf_putc(d->b, '[');
	int rc = dump_nl(d, depth + 1, false);
	for (size_t k = 0; rc == 0 && k < n; k++) {
		rc = dump_value(d, json_array_get(j, k), depth + 1);
		if (rc == 0 && k + 1 < n) {
			synth_buf_putc(d->b, ',');
			rc = dump_nl(d, depth + 1, true);
		} else if (rc == 0) {
			rc = dump_nl(d, depth, false);
		}
	}
	synth_buf_putc(d->b, ']');
	return rc == 0 && !d->b->oom ? 0 : -1;
}

static int dump_value(dumper *d, const json_t *j, size_t depth)
{
	if (!j || depth > DUMP_MAX_DEPTH)
		return -1;
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return dump_object(d, j, depth);
	case JSON_ARRAY:
		return dump_array(d, j, depth);
	case JSON_STRING:
		return dump_str(d, json_string_value(j), json_string_length(j));
	case JSON_INTEGER:
		synth_buf_printf(d->b, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
		break;
	case JSON_TRUE:
		synth_buf_put(d->b, "true", 4);
		break;
	case JSON_FALSE:
		synth_buf_put(d->b, "false", 5);
		break;
	case JSON_NULL:
		synth_buf_put(d->b, "null", 4);
		break;
	default: /* a real: jansson's own formatting */
		if (json_dump_callback(j, dump_to_buf, d->b, d->flags | JSON_ENCODE_ANY))
			return -1;
	}
	return d->b->oom ? -1 : 0;
}

int synth__json_dump_buf(synth_buf *b, const json_t *json, size_t flags)
{
	if (!json)
		return -1;
	if (flags & ~(size_t)DUMP_OWN_FLAGS)
		return json_dump_callback(json, dump_to_buf, b, flags);
	if (!(flags & JSON_ENCODE_ANY) && !json_is_object(json) && !json_is_array(json))
		return -1;
	dumper d = {b, flags, flags & JSON_MAX_INDENT};
	return dump_value(&d, json, 0);
}

char *synth_json_dumps(const json_t *json, size_t flags)
{
	synth_buf b = SYNTH_BUF_INIT;
	if (synth__json_dump_buf(&b, json, flags) < 0) {
		synth_buf_free(&b);
		synth_error_oom();
		return NULL;
	}
	char *s = synth_buf_detach(&b);
	if (!s)
		synth_error_oom();
	return s;
}

char *synth_json_join(const json_t *list, const char *sep)
{
	synth_buf b = SYNTH_BUF_INIT;
	synth_buf_puts(&b, "");
	for (size_t i = 0; i < json_array_size(list); i++) {
		if (i)
			synth_buf_puts(&b, sep);
		const char *s = json_string_value(json_array_get(list, i));
		synth_buf_puts(&b, s ? s : "");
	}
	return synth_buf_detach(&b);
}

int synth_array_grow(void **ptr, const size_t *len, size_t *cap, size_t size)
{
	if (*len < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 8;
	if (ncap < *cap || (size && ncap > SIZE_MAX / size))
		return synth_error_oom();
	void *p = realloc(*ptr, ncap * size);
	if (!p)
		return synth_error_oom();
	*ptr = p;
	*cap = ncap;
	return 0;
}
