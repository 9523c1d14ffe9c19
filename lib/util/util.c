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

char *synth_json_dumps(const json_t *json, size_t flags)
{
	synth_buf b = SYNTH_BUF_INIT;
	if (!json || json_dump_callback(json, dump_to_buf, &b, flags)) {
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
