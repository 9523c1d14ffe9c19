/*
 * Deterministic zip assets.
 *
 * The same directory gives byte-identical zips on any machine: entries
 * are sorted by path (bytewise), timestamps fixed at 1980-01-01 00:00 (the
 * zip epoch), permissions normalised to 0644 or 0755, no directory
 * entries, deflate at level 6. The asset id is the SHA-256 of the zip.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zip.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include "internal.h"

typedef struct entry {
	char *rel;   /* path inside the zip */
	char *abs;   /* file to read */
	bool exec;
} entry;

typedef struct walk {
	const char *root_real;  /* realpath of the directory */
	size_t root_len;
	const char *const *exclude;
	const char *context;
	entry *v;
	size_t n, cap;
	int rc;
} walk;

static bool excluded(const walk *w, const char *rel, const char *name)
{
	const char *const def[] = {".git", NULL};
	const char *const *ex = w->exclude ? w->exclude : def;
	for (size_t i = 0; ex[i]; i++) {
		if (fnmatch(ex[i], rel, FNM_PATHNAME) == 0 || fnmatch(ex[i], name, 0) == 0)
			return true;
	}
	return false;
}

static bool inside_root(const walk *w, const char *real)
{
	return strncmp(real, w->root_real, w->root_len) == 0 &&
	       (real[w->root_len] == '/' || real[w->root_len] == '\0');
}

static int add_entry(walk *w, const char *rel, const char *abs, bool exec)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		entry *v = realloc(w->v, cap * sizeof *v);
		if (!v)
			return synth__oom();
		w->v = v;
		w->cap = cap;
	}
	entry e = {strdup(rel), strdup(abs), exec};
	if (!e.rel || !e.abs) {
		free(e.rel);
		free(e.abs);
		return synth__oom();
	}
	w->v[w->n++] = e;
	return 0;
}

static int walk_dir(walk *w, const char *abs, const char *rel)
{
	DIR *d = opendir(abs);
	if (!d)
		return synth__error_set(SYNTH_EIO, "%s: cannot read directory %s: %s",
					w->context, abs, strerror(errno));
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(d))) {
		const char *name = de->d_name;
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		char *crel = *rel ? synth__asprintf("%s/%s", rel, name) : strdup(name);
		char *cabs = synth__asprintf("%s/%s", abs, name);
		struct stat st;
		if (!crel || !cabs) {
			rc = synth__oom();
		} else if (excluded(w, crel, name)) {
			/* skipped */
		} else if (lstat(cabs, &st) < 0) {
			rc = synth__error_set(SYNTH_EIO, "%s: cannot stat %s: %s", w->context,
					      cabs, strerror(errno));
		} else if (S_ISLNK(st.st_mode)) {
			char real[PATH_MAX];
			struct stat tst;
			/* Follow only links to files inside the directory. */
			if (realpath(cabs, real) && inside_root(w, real) &&
			    stat(real, &tst) == 0 && S_ISREG(tst.st_mode))
				rc = add_entry(w, crel, real, (tst.st_mode & 0111) != 0);
		} else if (S_ISDIR(st.st_mode)) {
			rc = walk_dir(w, cabs, crel);
		} else if (S_ISREG(st.st_mode)) {
			rc = add_entry(w, crel, cabs, (st.st_mode & 0111) != 0);
		}
		free(crel);
		free(cabs);
	}
	closedir(d);
	return rc;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const entry *)a)->rel, ((const entry *)b)->rel);
}

int synth__sha256_file(const char *path, char hex[65])
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return synth__error_set(SYNTH_EIO, "cannot read %s: %s", path,
					strerror(errno));
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *buf = malloc(1 << 16);
	if (!ctx || !buf || !EVP_DigestInit_ex(ctx, synth__sha256_md(), NULL)) {
		ERR_clear_error();
		EVP_MD_CTX_free(ctx);
		free(buf);
		fclose(f);
		return synth__oom();
	}
	size_t n;
	int ok = 1;
	while ((n = fread(buf, 1, 1 << 16, f)) > 0)
		ok &= EVP_DigestUpdate(ctx, buf, n);
	int err = ferror(f);
	fclose(f);
	free(buf);
	unsigned char md[32];
	unsigned mdlen = 0;
	ok &= EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	if (err)
		return synth__error_set(SYNTH_EIO, "cannot read %s", path);
	if (!ok) {
		ERR_clear_error();
		return synth__oom();
	}
	synth__hex(md, 32, hex);
	return 0;
}

/* Reads the whole content of a libzip buffer source kept after close. */
static int source_bytes(zip_source_t *src, unsigned char **out, size_t *len,
			const char *context)
{
	*out = NULL;
	*len = 0;
	zip_stat_t zs;
	zip_stat_init(&zs);
	if (zip_source_stat(src, &zs) < 0 || !(zs.valid & ZIP_STAT_SIZE) ||
	    zip_source_open(src) < 0)
		return synth__error_set(SYNTH_ENOMEM, "%s: cannot read the zip back: %s",
					context, zip_error_strerror(zip_source_error(src)));
	unsigned char *buf = malloc(zs.size ? zs.size : 1);
	zip_int64_t n = buf ? zip_source_read(src, buf, zs.size) : -1;
	zip_source_close(src);
	if (n < 0 || (zip_uint64_t)n != zs.size) {
		free(buf);
		return synth__error_set(SYNTH_ENOMEM, "%s: cannot read the zip back", context);
	}
	*out = buf;
	*len = (size_t)zs.size;
	return 0;
}

int synth__zip_dir_mem(const char *dir, const char *const *exclude, const char *context,
		       synth_zip_result *res, unsigned char **data, size_t *len)
{
	memset(res, 0, sizeof *res);
	*data = NULL;
	*len = 0;
	char root[PATH_MAX];
	struct stat st;
	if (stat(dir, &st) < 0)
		return synth__error_set(SYNTH_ENOTFOUND,
					"%s: code directory '%s' does not exist", context, dir);
	if (!S_ISDIR(st.st_mode))
		return synth__error_set(SYNTH_EINVALID,
					"%s: code path '%s' is not a directory", context, dir);
	if (!realpath(dir, root))
		return synth__error_set(SYNTH_EIO, "%s: cannot resolve %s: %s", context,
					dir, strerror(errno));
	walk w = {root, strlen(root), exclude, context, NULL, 0, 0, 0};
	int rc = walk_dir(&w, root, "");
	if (rc == 0 && w.n == 0)
		rc = synth__error_set(SYNTH_EINVALID,
				      "%s: code directory '%s' has no files to deploy",
				      context, dir);
	if (rc == 0)
		qsort(w.v, w.n, sizeof *w.v, cmp_entry);

	/* The archive is built in memory (no temporary file), then hashed and
	 * written once under its final name by the caller. */
	zip_t *z = NULL;
	zip_source_t *mem = NULL;
	if (rc == 0) {
		zip_error_t ze;
		zip_error_init(&ze);
		mem = zip_source_buffer_create(NULL, 0, 0, &ze);
		if (mem && (z = zip_open_from_source(mem, ZIP_TRUNCATE, &ze)))
			zip_source_keep(mem); /* still ours after zip_close() */
		if (!z)
			rc = synth__error_set(SYNTH_ENOMEM, "%s: cannot start a zip: %s", context,
					      zip_error_strerror(&ze));
		zip_error_fini(&ze);
	}
	/* 1980-01-01 00:00:00 set directly in DOS format: no time zone. */
	const zip_uint16_t dos_time = 0, dos_date = (0 << 9) | (1 << 5) | 1;
	for (size_t i = 0; rc == 0 && i < w.n; i++) {
		zip_source_t *src = zip_source_file(z, w.v[i].abs, 0, -1);
		zip_int64_t idx = src ? zip_file_add(z, w.v[i].rel, src, ZIP_FL_ENC_UTF_8) : -1;
		if (idx < 0) {
			if (src)
				zip_source_free(src);
			rc = synth__error_set(SYNTH_EIO, "%s: cannot add %s to the zip: %s",
					      context, w.v[i].rel, zip_strerror(z));
			break;
		}
		mode_t mode = w.v[i].exec ? 0100755 : 0100644;
		if (zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_DEFLATE, 6) < 0 ||
		    zip_file_set_dostime(z, (zip_uint64_t)idx, dos_time, dos_date, 0) < 0 ||
		    zip_file_set_external_attributes(z, (zip_uint64_t)idx, 0,
						     ZIP_OPSYS_UNIX,
						     (zip_uint32_t)mode << 16) < 0)
			rc = synth__error_set(SYNTH_EIO, "%s: zip attributes of %s: %s",
					      context, w.v[i].rel, zip_strerror(z));
	}
	if (z) {
		if (rc == 0 && zip_close(z) < 0) {
			rc = synth__error_set(SYNTH_EIO, "%s: cannot zip %s: %s", context, dir,
					      zip_strerror(z));
			zip_discard(z);
		} else if (rc < 0)
			zip_discard(z);
	}
	if (rc == 0)
		rc = source_bytes(mem, data, len, context);
	if (mem)
		zip_source_free(mem);
	if (rc == 0 && synth__sha256_hex(*data, *len, res->hash) < 0)
		rc = SYNTH_ENOMEM;
	if (rc == 0) {
		res->size = *len;
		res->files = w.n;
	} else {
		free(*data);
		*data = NULL;
		*len = 0;
	}
	for (size_t i = 0; i < w.n; i++) {
		free(w.v[i].rel);
		free(w.v[i].abs);
	}
	free(w.v);
	return rc;
}

int synth__zip_dir(const char *dir, const char *const *exclude, const char *out_path,
		   const char *context, synth_zip_result *res)
{
	unsigned char *data;
	size_t len;
	int rc = synth__zip_dir_mem(dir, exclude, context, res, &data, &len);
	if (rc == 0)
		rc = synth__write_file(out_path, data, len);
	free(data);
	return rc;
}

int synth__backend_asset(const synth_asset **out, synth_backend *b, const char *dir,
			 const char *const *exclude, const char *context)
{
	*out = NULL;
	char real[PATH_MAX];
	if (!realpath(dir, real))
		return synth__error_set(SYNTH_ENOTFOUND,
					"%s: code directory '%s' does not exist", context, dir);
	synth_buf key = SYNTH_BUF_INIT;
	synth__buf_puts(&key, real);
	for (size_t i = 0; exclude && exclude[i]; i++) {
		synth__buf_putc(&key, '\n');
		synth__buf_puts(&key, exclude[i]);
	}
	if (!exclude)
		synth__buf_puts(&key, "\n.git");
	char *k = synth__buf_detach(&key);
	if (!k)
		return synth__oom();
	/* The same directory with the same excludes is zipped once. */
	for (size_t i = 0; i < b->nassets; i++)
		if (!strcmp(b->assets[i].key, k)) {
			free(k);
			*out = &b->assets[i];
			return 0;
		}
	synth_zip_result zr;
	unsigned char *data = NULL;
	size_t len = 0;
	int rc = synth__zip_dir_mem(dir, exclude, context, &zr, &data, &len);
	synth_asset a = {0};
	if (rc == 0) {
		a.source = strdup(dir);
		a.key = k;
		k = NULL;
		memcpy(a.hash, zr.hash, sizeof a.hash);
		a.size = zr.size;
		a.file = synth__asprintf("asset.%s.zip", zr.hash);
		a.display = strdup(context);
		char *dst = a.file ? synth__asprintf("%s/%s", b->staging, a.file) : NULL;
		synth_asset *arr = realloc(b->assets, (b->nassets + 1) * sizeof *arr);
		if (arr)
			b->assets = arr;
		if (!a.source || !a.file || !a.display || !dst || !arr)
			rc = synth__oom();
		else
			rc = synth__write_file(dst, data, len);
		free(dst);
		if (rc == 0) {
			b->assets[b->nassets] = a;
			*out = &b->assets[b->nassets++];
		} else {
			free(a.source);
			free(a.key);
			free(a.file);
			free(a.display);
		}
	}
	free(data);
	free(k);
	return rc;
}
