/*
 * zipbench: the zip + hash throughput benchmark (bench/run.sh drives it).
 *
 *   zipbench gen DIR MIB FILES SEED
 *       Writes FILES files totalling MIB MiB into DIR, deterministically
 *       from SEED: JS-like source text, JSON data, base64 blobs and random
 *       bytes, sizes spread log-uniformly, in a small directory tree.
 *
 *   zipbench zip DIR OUT RUNS
 *       Runs synth__zip_dir(DIR -> OUT) once to warm up, then RUNS times,
 *       and prints per-run wall times (ms). Then times synth__sha256_file
 *       on the result alone (the hash share), and a bare zlib baseline:
 *       every file of DIR, in the same order, deflated raw at level 6
 *       with its own z_stream as a zip entry needs (no libzip, no output
 *       file), to show how much of the time is zlib itself.
 *
 * Output: key=value lines, for bench/run.sh to parse.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <zlib.h>
#include "internal.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void die(const char *what)
{
	fprintf(stderr, "zipbench: %s: %s\n", what, errno ? strerror(errno) : "failed");
	exit(1);
}

/* --- deterministic data ------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void) /* splitmix64 */
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double rnd01(void)
{
	return (double)(rnd() >> 11) / (double)(1ULL << 53);
}

/* A skewed pick in [0, n): small indexes are much more frequent, as the
 * words of real source are. */
static size_t pick(size_t n)
{
	double u = rnd01();
	return (size_t)(u * u * u * (double)n) % n;
}

typedef struct obuf {
	unsigned char *p;
	size_t len, cap;
} obuf;

static void put(obuf *b, const void *s, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		unsigned char *p = realloc(b->p, cap);
		if (!p)
			die("out of memory");
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void puts_(obuf *b, const char *s)
{
	put(b, s, strlen(s));
}

#define NIDENT 600
static char idents[NIDENT][24];

static void make_idents(void)
{
	static const char *const parts[] = {
		"get", "set", "user", "item", "list", "map", "value", "config", "handler",
		"request", "response", "event", "table", "cache", "key", "index", "node",
		"parse", "render", "update", "count", "token", "session", "buffer", "stream",
		"queue", "result", "error", "options", "state", "props", "data", "id"};
	size_t np = sizeof parts / sizeof *parts;
	for (int i = 0; i < NIDENT; i++) {
		const char *a = parts[rnd() % np], *c = parts[rnd() % np];
		snprintf(idents[i], sizeof idents[i], "%s%c%s%s", a,
			 (char)(c[0] - 'a' + 'A'), c + 1, i % 7 == 0 ? "2" : "");
	}
}

static void gen_js(obuf *b, size_t size)
{
	static const char *const kw[] = {"const", "let", "return", "if", "await", "export"};
	char line[512];
	int depth = 0;
	while (b->len < size) {
		const char *x = idents[pick(NIDENT)], *y = idents[pick(NIDENT)],
			   *z = idents[pick(NIDENT)];
		int n = 0;
		for (int i = 0; i < depth && i < 6; i++)
			n += snprintf(line + n, sizeof line - (size_t)n, "  ");
		switch (rnd() % 9) {
		case 0:
			snprintf(line + n, sizeof line - (size_t)n,
				 "export async function %s(%s, %s) {\n", x, y, z);
			depth++;
			break;
		case 1:
			snprintf(line + n, sizeof line - (size_t)n, "if (%s.%s === %s) {\n", x,
				 y, z);
			depth++;
			break;
		case 2:
			if (depth) {
				snprintf(line + n - 2, sizeof line - (size_t)n + 2, "}\n");
				depth--;
			} else {
				snprintf(line + n, sizeof line - (size_t)n, "%s.%s();\n", x, y);
			}
			break;
		case 3:
			snprintf(line + n, sizeof line - (size_t)n,
				 "// %s: %s the %s before %s.\n", x, y, z, idents[pick(NIDENT)]);
			break;
		case 4:
			snprintf(line + n, sizeof line - (size_t)n,
				 "const %s = \"%s-%llu\";\n", x, y,
				 (unsigned long long)(rnd() % 100000));
			break;
		default:
			snprintf(line + n, sizeof line - (size_t)n, "%s %s = %s(%s.%s, %d);\n",
				 kw[rnd() % 6], x, y, z, x, (int)(rnd() % 1000));
			break;
		}
		puts_(b, line);
	}
	b->len = size;
}

static void gen_json(obuf *b, size_t size)
{
	char rec[512];
	puts_(b, "[\n");
	for (unsigned long i = 0; b->len < size; i++) {
		snprintf(rec, sizeof rec,
			 "  {\"id\": %lu, \"%s\": \"%s\", \"score\": %.4f, \"tags\": "
			 "[\"%s\", \"%s\"], \"active\": %s},\n",
			 i, idents[pick(NIDENT)], idents[pick(NIDENT)], rnd01() * 1000,
			 idents[pick(NIDENT)], idents[pick(NIDENT)],
			 rnd() % 2 ? "true" : "false");
		puts_(b, rec);
	}
	b->len = size;
}

static void gen_random(obuf *b, size_t size)
{
	while (b->len < size) {
		uint64_t v = rnd();
		put(b, &v, sizeof v);
	}
	b->len = size;
}

static void gen_base64(obuf *b, size_t size)
{
	static const char al[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char line[78];
	while (b->len < size) {
		for (int i = 0; i < 76; i++)
			line[i] = al[rnd() & 63];
		line[76] = '\n';
		put(b, line, 77);
	}
	b->len = size;
}

static void write_all(const char *path, const obuf *b)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(b->p, 1, b->len, f) != b->len || fclose(f) != 0)
		die(path);
}

static int cmd_gen(const char *dir, double mib, int files, uint64_t seed)
{
	rng_state = seed;
	make_idents();
	/* Sizes spread log-uniformly between 256 B and 4 MiB, then scaled so
	 * that they add up to the total. */
	double *raw = malloc((size_t)files * sizeof *raw), sum = 0;
	if (!raw)
		die("out of memory");
	for (int i = 0; i < files; i++) {
		raw[i] = 256.0 * exp(rnd01() * 14.0 * log(2.0));
		sum += raw[i];
	}
	size_t total = (size_t)(mib * 1024 * 1024), done = 0;
	size_t kind_bytes[4] = {0};
	static const char *const kind_name[4] = {"js", "json", "base64", "random"};
	static const char *const kind_ext[4] = {"mjs", "json", "b64", "bin"};
	obuf b = {0};
	for (int i = 0; i < files; i++) {
		size_t size = i == files - 1 ? total - done : (size_t)(raw[i] * (double)total / sum);
		if (size < 16)
			size = 16;
		if (done + size > total)
			size = total > done ? total - done : 16;
		/* By count: 60% JS, 10% JSON, 10% base64, 20% random bytes. */
		int r = i % 10, kind = r < 6 ? 0 : r == 6 ? 1 : r == 7 ? 2 : 3;
		char sub[64], path[4096];
		if (i % 4 == 0)
			snprintf(sub, sizeof sub, "src");
		else
			snprintf(sub, sizeof sub, "node_modules/pkg%02d/%s", i % 37,
				 i % 3 ? "lib" : "dist");
		snprintf(path, sizeof path, "%s/%s", dir, sub);
		char *slash = path + strlen(dir);
		while ((slash = strchr(slash + 1, '/'))) { /* mkdir -p */
			*slash = '\0';
			mkdir(path, 0755);
			*slash = '/';
		}
		mkdir(path, 0755);
		snprintf(path, sizeof path, "%s/%s/f%04d.%s", dir, sub, i, kind_ext[kind]);
		b.len = 0;
		switch (kind) {
		case 0: gen_js(&b, size); break;
		case 1: gen_json(&b, size); break;
		case 2: gen_base64(&b, size); break;
		default: gen_random(&b, size); break;
		}
		write_all(path, &b);
		done += size;
		kind_bytes[kind] += size;
	}
	free(b.p);
	free(raw);
	printf("gen_files=%d gen_bytes=%zu", files, done);
	for (int k = 0; k < 4; k++)
		printf(" gen_%s_bytes=%zu", kind_name[k], kind_bytes[k]);
	putchar('\n');
	return 0;
}

/* --- zip benchmark ------------------------------------------------------ */

typedef struct flist {
	char **v;
	size_t n, cap;
} flist;

static void list_files(flist *l, const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		die(dir);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *p = NULL;
		if (asprintf(&p, "%s/%s", dir, de->d_name) < 0)
			die("out of memory");
		struct stat st;
		if (lstat(p, &st) < 0)
			die(p);
		if (S_ISDIR(st.st_mode)) {
			list_files(l, p);
			free(p);
		} else if (S_ISREG(st.st_mode)) {
			if (l->n == l->cap) {
				l->cap = l->cap ? l->cap * 2 : 256;
				l->v = realloc(l->v, l->cap * sizeof *l->v);
				if (!l->v)
					die("out of memory");
			}
			l->v[l->n++] = p;
		} else {
			free(p);
		}
	}
	closedir(d);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Raw deflate of each file at level 6 with its own stream (as a zip entry
 * is); returns the compressed bytes, adds the input bytes to *in. */
static uint64_t zlib_pass(const flist *l, uint64_t *in)
{
	static unsigned char ibuf[1 << 16], obuf_[1 << 16];
	uint64_t out = 0;
	*in = 0;
	for (size_t i = 0; i < l->n; i++) {
		FILE *f = fopen(l->v[i], "rb");
		if (!f)
			die(l->v[i]);
		z_stream z = {0};
		if (deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			die("deflateInit2");
		uLong crc = crc32(0, NULL, 0);
		int flush = Z_NO_FLUSH;
		do {
			size_t n = fread(ibuf, 1, sizeof ibuf, f);
			*in += n;
			crc = crc32(crc, ibuf, (uInt)n);
			flush = n < sizeof ibuf ? Z_FINISH : Z_NO_FLUSH;
			z.next_in = ibuf;
			z.avail_in = (uInt)n;
			do {
				z.next_out = obuf_;
				z.avail_out = sizeof obuf_;
				deflate(&z, flush);
				out += sizeof obuf_ - z.avail_out;
			} while (z.avail_out == 0);
		} while (flush != Z_FINISH);
		deflateEnd(&z);
		fclose(f);
		(void)crc;
	}
	return out;
}

static void print_series(const char *key, const double *v, int n)
{
	printf("%s=", key);
	for (int i = 0; i < n; i++)
		printf("%s%.3f", i ? "," : "", v[i]);
	putchar('\n');
}

static int cmd_zip(const char *dir, const char *out, int runs)
{
	synth_zip_result zr;
	double *t = calloc((size_t)runs, sizeof *t);
	if (!t)
		die("out of memory");
	/* Warm-up: page cache, allocator, OpenSSL's first fetch. */
	if (synth__zip_dir(dir, NULL, out, "zipbench", &zr) < 0) {
		fprintf(stderr, "zipbench: %s\n", synth_error_last()->message);
		return 1;
	}
	for (int i = 0; i < runs; i++) {
		double t0 = now_ms();
		if (synth__zip_dir(dir, NULL, out, "zipbench", &zr) < 0) {
			fprintf(stderr, "zipbench: %s\n", synth_error_last()->message);
			return 1;
		}
		t[i] = now_ms() - t0;
	}
	printf("zip_files=%zu zip_size=%llu zip_hash=%s\n", zr.files,
	       (unsigned long long)zr.size, zr.hash);
	print_series("zip_ms", t, runs);

	char hex[65];
	for (int i = 0; i < runs; i++) {
		double t0 = now_ms();
		if (synth__sha256_file(out, hex) < 0)
			return 1;
		t[i] = now_ms() - t0;
	}
	print_series("sha_ms", t, runs);

	flist l = {0};
	list_files(&l, dir);
	qsort(l.v, l.n, sizeof *l.v, cmp_str);
	uint64_t in = 0, zout = 0;
	zlib_pass(&l, &in); /* warm-up */
	for (int i = 0; i < runs; i++) {
		double t0 = now_ms();
		zout = zlib_pass(&l, &in);
		t[i] = now_ms() - t0;
	}
	printf("zlib_in=%llu zlib_out=%llu\n", (unsigned long long)in,
	       (unsigned long long)zout);
	print_series("zlib_ms", t, runs);
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i]);
	free(l.v);
	free(t);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && !strcmp(argv[1], "gen"))
		return cmd_gen(argv[2], atof(argv[3]), atoi(argv[4]),
			       strtoull(argv[5], NULL, 0));
	if (argc == 5 && !strcmp(argv[1], "zip"))
		return cmd_zip(argv[2], argv[3], atoi(argv[4]));
	fprintf(stderr, "usage: zipbench gen DIR MIB FILES SEED\n"
			"       zipbench zip DIR OUT RUNS\n");
	return 2;
}
