/*
 * Deterministic zip assets.
 *
 * The same directory gives byte-identical zips on any machine: entries
 * are sorted by path (bytewise), timestamps fixed at 1980-01-01 00:00 (the
 * zip epoch), permissions normalised to 0644 or 0755, no directory
 * entries, deflate at level 6. The asset id is the SHA-256 of the zip.
 *
 * libzip is loaded (dlopen) the first time a zip must be built: a synth
 * whose zips all come from the previous assembly never maps libzip and
 * the libcrypto, libz and libbz2 it needs (about 1 ms of loading and
 * relocation; ARCHITECTURE.md, "Linking").
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <pthread.h>
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
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Init: see lib/util/util.c */
#include <openssl/sha.h>
#include "internal.h"
#include "synth/sys/construct.h"

/* --- libzip, loaded on first use --------------------------------------- */

/* The library the Makefile found (its directory and soname); the soname
 * alone when it could not say. */
#ifndef SYNTH_LIBZIP_PATH
#define SYNTH_LIBZIP_PATH "libzip.so"
#endif

#define ZIP_FUNCS(X)                                                                     \
	X(zip_close) X(zip_discard) X(zip_error_fini) X(zip_error_init)                  \
	X(zip_error_strerror) X(zip_file_add) X(zip_file_set_dostime)                    \
	X(zip_file_set_external_attributes) X(zip_open_from_source)                      \
	X(zip_set_file_compression) X(zip_source_buffer_create) X(zip_source_close)      \
	X(zip_source_error) X(zip_source_file) X(zip_source_free) X(zip_source_keep)     \
	X(zip_source_open) X(zip_source_read) X(zip_source_stat) X(zip_stat_init)        \
	X(zip_strerror)

static struct libzip {
#define ZIP_FIELD(f) __typeof__(f) *f;
	ZIP_FUNCS(ZIP_FIELD)
#undef ZIP_FIELD
} zf;
static bool zf_loaded;
static pthread_mutex_t zf_lock = PTHREAD_MUTEX_INITIALIZER;

/* Loads libzip into ZF once (a failure is retried by the next call). */
static int libzip_load(const char *context)
{
	pthread_mutex_lock(&zf_lock);
	int rc = 0;
	if (!zf_loaded) {
		const char *path = SYNTH_LIBZIP_PATH;
		void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		if (!h && strchr(path, '/'))
			h = dlopen(strrchr(path, '/') + 1, RTLD_NOW | RTLD_LOCAL);
		const char *miss = NULL;
		struct libzip l;
#define ZIP_SYM(f)                                                                       \
	if (h && !miss && !(*(void **)&l.f = dlsym(h, #f)))                              \
		miss = #f;
		ZIP_FUNCS(ZIP_SYM)
#undef ZIP_SYM
		if (!h || miss) {
			const char *why = dlerror();
			rc = synth_error_setf(SYNTH_EIO, "%s: cannot load libzip (%s) to build the "
					      "zip: %s", context, path,
					      why ? why : miss ? miss : "unknown error");
			if (h)
				dlclose(h);
		} else {
			zf = l;
			zf_loaded = true;
		}
	}
	pthread_mutex_unlock(&zf_lock);
	return rc;
}

typedef struct entry {
	char *rel;   /* path inside the zip */
	char *abs;   /* file to read */
	bool exec;
	size_t dir;  /* which of the asset's directories it comes from */
} entry;

typedef struct walk {
	const char *root_real;  /* realpath of the directory being walked */
	size_t root_len;
	const char *const *exclude;
	const char *context;
	entry *v;
	size_t n, cap;
	int rc;
	size_t dir;             /* index of that directory */
	const char *dir_name;   /* that directory as given, for warnings */
	bool warn;              /* print what is skipped (one walk per asset) */
	char **warnings;        /* "PATH: why", sorted and printed by collect() */
	size_t nwarn, cap_warn;
} walk;

/* The default exclusions; "!PATTERN" in a custom list drops one. */
static const char *const default_exclude[] = {".git", NULL};

static bool matches(const char *pat, const char *rel, const char *name)
{
	return fnmatch(pat, rel, FNM_PATHNAME) == 0 || fnmatch(pat, name, 0) == 0;
}

static bool dropped(const char *const *ex, const char *def)
{
	for (size_t i = 0; ex && ex[i]; i++)
		if (ex[i][0] == '!' && !strcmp(ex[i] + 1, def))
			return true;
	return false;
}

/* A custom list adds to the defaults (a code directory's .git is never
 * meant for Lambda) unless it drops one with "!.git". */
static bool excluded(const walk *w, const char *rel, const char *name)
{
	for (size_t i = 0; default_exclude[i]; i++)
		if (!dropped(w->exclude, default_exclude[i]) &&
		    matches(default_exclude[i], rel, name))
			return true;
	for (size_t i = 0; w->exclude && w->exclude[i]; i++)
		if (w->exclude[i][0] != '!' && matches(w->exclude[i], rel, name))
			return true;
	return false;
}

/* NULL when EXCLUDE is usable, else why not: a "!" entry names a default
 * to drop, nothing else (it is not a negation of the other patterns). */
static const char *exclude_problem(const char *const *exclude, const char **which)
{
	for (size_t i = 0; exclude && exclude[i]; i++) {
		bool known = false;
		for (size_t j = 0; exclude[i][0] == '!' && default_exclude[j]; j++)
			known = known || !strcmp(exclude[i] + 1, default_exclude[j]);
		*which = exclude[i];
		if (!exclude[i][0])
			return "is empty";
		if (exclude[i][0] == '!' && !known)
			return "drops a default exclusion, and the only one is '.git' ('!.git')";
	}
	return NULL;
}

static bool inside_root(const walk *w, const char *real)
{
	return strncmp(real, w->root_real, w->root_len) == 0 &&
	       (real[w->root_len] == '/' || real[w->root_len] == '\0');
}

static int add_entry(walk *w, const char *rel, const char *abs, bool exec)
{
	if (synth_array_grow((void **)&w->v, &w->n, &w->cap, sizeof *w->v) < 0)
		return SYNTH_ENOMEM;
	entry e = {strdup(rel), strdup(abs), exec, w->dir};
	if (!e.rel || !e.abs) {
		free(e.rel);
		free(e.abs);
		return synth_error_oom();
	}
	w->v[w->n++] = e;
	return 0;
}

/* Records that REL was skipped, and why (printed by collect()). */
static int skip(walk *w, const char *rel, const char *why, const char *detail)
{
	if (!w->warn)
		return 0;
	char *line = synth_asprintf("%s/%s: %s%s", w->dir_name, rel, why, detail ? detail : "");
	if (!line || synth_array_grow((void **)&w->warnings, &w->nwarn, &w->cap_warn,
				      sizeof *w->warnings) < 0) {
		free(line);
		return synth_error_oom();
	}
	w->warnings[w->nwarn++] = line;
	return 0;
}

static const char *kind_of(mode_t m)
{
	return S_ISFIFO(m) ? "a FIFO" : S_ISSOCK(m) ? "a socket" : S_ISCHR(m) ? "a character device"
	       : S_ISBLK(m) ? "a block device" : "not a regular file";
}

/* The directories from the root down to the one being walked, by identity,
 * so a link to any of them (a loop) is not followed. */
typedef struct ancestor {
	dev_t dev;
	ino_t ino;
	const struct ancestor *up;
} ancestor;

static bool is_ancestor(const ancestor *a, const struct stat *st)
{
	for (; a; a = a->up)
		if (a->dev == st->st_dev && a->ino == st->st_ino)
			return true;
	return false;
}

static int walk_dir(walk *w, const char *abs, const char *rel, const struct stat *st,
		    const ancestor *up);

/*
 * A symbolic link at REL (CABS on disk). Followed when it resolves inside
 * the code directory: a file is zipped under the link's path, a directory
 * walked under it (its files at REL/...). Skipped with a warning: a link
 * that does not resolve (missing target, a loop of links), one to a
 * directory that contains it (the walk would never end), one that leaves
 * the code directory (Lambda would not have its target, and the zip would
 * take files from elsewhere on this machine), and one to anything but a
 * file or a directory.
 */
static int walk_link(walk *w, const char *cabs, const char *rel, const ancestor *up)
{
	char real[PATH_MAX];
	struct stat tst;
	if (!realpath(cabs, real))
		return skip(w, rel, errno == ELOOP ? "a symbolic link loop" :
			    errno == ENOENT ? "a symbolic link to nothing" :
			    "a symbolic link that does not resolve: ", errno == ELOOP ||
			    errno == ENOENT ? NULL : strerror(errno));
	if (!inside_root(w, real))
		return skip(w, rel, "a symbolic link out of the code directory, to ", real);
	if (stat(real, &tst) < 0)
		return skip(w, rel, "a symbolic link that does not resolve: ", strerror(errno));
	if (S_ISREG(tst.st_mode))
		return add_entry(w, rel, real, (tst.st_mode & 0111) != 0);
	if (!S_ISDIR(tst.st_mode))
		return skip(w, rel, "a symbolic link to ", kind_of(tst.st_mode));
	if (is_ancestor(up, &tst))
		return skip(w, rel, "a symbolic link to a directory that contains it (a loop)",
			    NULL);
	return walk_dir(w, real, rel, &tst, up);
}

/* Walks directory ABS (REL inside the zip, DST its stat), UP being its
 * parents' identities. */
static int walk_dir(walk *w, const char *abs, const char *rel, const struct stat *dst,
		    const ancestor *up)
{
	ancestor self = {dst->st_dev, dst->st_ino, up};
	DIR *d = opendir(abs);
	if (!d)
		return synth_error_setf(SYNTH_EIO, "%s: cannot read directory %s: %s",
					w->context, abs, strerror(errno));
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(d))) {
		const char *name = de->d_name;
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		char *crel = *rel ? synth_asprintf("%s/%s", rel, name) : strdup(name);
		char *cabs = synth_asprintf("%s/%s", abs, name);
		struct stat st;
		if (!crel || !cabs) {
			rc = synth_error_oom();
		} else if (excluded(w, crel, name)) {
			/* skipped */
		} else if (lstat(cabs, &st) < 0) {
			rc = synth_error_setf(SYNTH_EIO, "%s: cannot stat %s: %s", w->context,
					      cabs, strerror(errno));
		} else if (S_ISLNK(st.st_mode)) {
			rc = walk_link(w, cabs, crel, &self);
		} else if (S_ISDIR(st.st_mode)) {
			rc = walk_dir(w, cabs, crel, &st, &self);
		} else if (S_ISREG(st.st_mode)) {
			rc = add_entry(w, crel, cabs, (st.st_mode & 0111) != 0);
		} else {
			/* Reading a FIFO would block the synth; a socket or a
			 * device has no content to ship. */
			rc = skip(w, crel, kind_of(st.st_mode), " (only files are zipped)");
		}
		free(crel);
		free(cabs);
	}
	closedir(d);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Prints the skipped paths, sorted (the order of readdir is not stable),
 * and forgets them. */
static void report_skipped(walk *w)
{
	if (w->nwarn > 1)
		qsort(w->warnings, w->nwarn, sizeof *w->warnings, cmp_str);
	for (size_t i = 0; i < w->nwarn; i++) {
		fprintf(stderr, "synth: warning: %s: skipped %s\n", w->context, w->warnings[i]);
		free(w->warnings[i]);
	}
	free(w->warnings);
	w->warnings = NULL;
	w->nwarn = w->cap_warn = 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const entry *x = a, *y = b;
	int c = strcmp(x->rel, y->rel);
	return c ? c : (x->dir > y->dir) - (x->dir < y->dir);
}

static void free_entries(walk *w)
{
	for (size_t i = 0; i < w->n; i++) {
		free(w->v[i].rel);
		free(w->v[i].abs);
	}
	free(w->v);
	w->v = NULL;
	w->n = w->cap = 0;
	for (size_t i = 0; i < w->nwarn; i++)
		free(w->warnings[i]);
	free(w->warnings);
	w->warnings = NULL;
	w->nwarn = w->cap_warn = 0;
}

/* Walks the NDIRS directories DIRS into W (exclude and context set by the
 * caller), merged and sorted by path. REAL, when not NULL, holds their
 * real paths, checked and resolved when the asset was registered (the
 * same process, moments earlier): not resolving them again saves a stat
 * and a readlink per path component for each of thousands of functions.
 * A path found in two directories is an error naming it and both: one zip
 * holds each path once, and neither copy silently wins. */
static int collect(walk *w, const char *const *dirs, size_t ndirs, const char *const *real)
{
	const char *bad_ex = NULL, *why = exclude_problem(w->exclude, &bad_ex);
	if (why)
		return synth_error_setf(SYNTH_EINVALID, "%s: exclude pattern '%s' %s", w->context,
					bad_ex, why);
	int rc = 0;
	for (size_t d = 0; rc == 0 && d < ndirs; d++) {
		char root[PATH_MAX];
		struct stat st;
		if (real && strlen(real[d]) < sizeof root) {
			/* One stat of the resolved root: the walk's loop check
			 * needs its device and inode. */
			strcpy(root, real[d]);
			if (stat(root, &st) < 0 || !S_ISDIR(st.st_mode))
				return synth_error_setf(SYNTH_ENOTFOUND,
							"%s: code directory '%s' is gone",
							w->context, dirs[d]);
		} else {
			if (stat(dirs[d], &st) < 0)
				return synth_error_setf(SYNTH_ENOTFOUND,
							"%s: code directory '%s' does not exist",
							w->context, dirs[d]);
			if (!S_ISDIR(st.st_mode))
				return synth_error_setf(SYNTH_EINVALID,
							"%s: code path '%s' is not a directory",
							w->context, dirs[d]);
			if (!realpath(dirs[d], root))
				return synth_error_setf(SYNTH_EIO, "%s: cannot resolve %s: %s",
							w->context, dirs[d], strerror(errno));
		}
		w->root_real = root;
		w->root_len = strlen(root);
		w->dir = d;
		w->dir_name = dirs[d];
		rc = walk_dir(w, root, "", &st, NULL);
		w->root_real = NULL;
	}
	report_skipped(w);
	if (rc == 0 && w->n > 1)
		qsort(w->v, w->n, sizeof *w->v, cmp_entry);
	for (size_t i = 1; rc == 0 && i < w->n; i++)
		if (!strcmp(w->v[i - 1].rel, w->v[i].rel))
			rc = synth_error_setf(SYNTH_EINVALID,
					      "%s: '%s' is both in '%s' and in '%s': the zip "
					      "merges the directories and may hold a path once",
					      w->context, w->v[i].rel, dirs[w->v[i - 1].dir],
					      dirs[w->v[i].dir]);
	return rc;
}

int synth__sha256_file(const char *path, char hex[65])
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return synth_error_setf(SYNTH_EIO, "cannot read %s: %s", path,
					strerror(errno));
	SHA256_CTX ctx;
	/* On the stack: a large heap buffer per file makes glibc's malloc
	 * consolidate its free lists on every call. */
	unsigned char buf[16384];
	SHA256_Init(&ctx);
	setvbuf(f, NULL, _IONBF, 0); /* we read in large blocks ourselves */
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		SHA256_Update(&ctx, buf, n);
	int err = ferror(f);
	fclose(f);
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256_Final(md, &ctx);
	if (err)
		return synth_error_setf(SYNTH_EIO, "cannot read %s", path);
	synth__hex(md, sizeof md, hex);
	return 0;
}

/* Reads the whole content of a libzip buffer source kept after close. */
static int source_bytes(zip_source_t *src, unsigned char **out, size_t *len,
			const char *context)
{
	*out = NULL;
	*len = 0;
	zip_stat_t zs;
	zf.zip_stat_init(&zs);
	if (zf.zip_source_stat(src, &zs) < 0 || !(zs.valid & ZIP_STAT_SIZE) ||
	    zf.zip_source_open(src) < 0)
		return synth_error_setf(SYNTH_ENOMEM, "%s: cannot read the zip back: %s",
					context, zf.zip_error_strerror(zf.zip_source_error(src)));
	unsigned char *buf = malloc(zs.size ? zs.size : 1);
	zip_int64_t n = buf ? zf.zip_source_read(src, buf, zs.size) : -1;
	zf.zip_source_close(src);
	if (n < 0 || (zip_uint64_t)n != zs.size) {
		free(buf);
		return synth_error_setf(SYNTH_ENOMEM, "%s: cannot read the zip back", context);
	}
	*out = buf;
	*len = (size_t)zs.size;
	return 0;
}

/* The zip of the NDIRS directories DIRS (merged, see collect()) into
 * memory. */
static int zip_dirs_mem(const char *const *dirs, size_t ndirs, const char *const *real,
			const char *const *exclude, const char *context, synth_zip_result *res,
			unsigned char **data, size_t *len)
{
	memset(res, 0, sizeof *res);
	*data = NULL;
	*len = 0;
	walk w = {NULL, 0, exclude, context, NULL, 0, 0, 0, 0};
	int rc = collect(&w, dirs, ndirs, real);
	if (rc == 0 && w.n == 0)
		rc = synth_error_setf(SYNTH_EINVALID,
				      "%s: code directory '%s' has no files to deploy",
				      context, dirs[0]);
	if (rc == 0)
		rc = libzip_load(context);

	/* The archive is built in memory (no temporary file), then hashed and
	 * written once under its final name by the caller. */
	zip_t *z = NULL;
	zip_source_t *mem = NULL;
	if (rc == 0) {
		zip_error_t ze;
		zf.zip_error_init(&ze);
		mem = zf.zip_source_buffer_create(NULL, 0, 0, &ze);
		if (mem && (z = zf.zip_open_from_source(mem, ZIP_TRUNCATE, &ze)))
			zf.zip_source_keep(mem); /* still ours after zip_close() */
		if (!z)
			rc = synth_error_setf(SYNTH_ENOMEM, "%s: cannot start a zip: %s", context,
					      zf.zip_error_strerror(&ze));
		zf.zip_error_fini(&ze);
	}
	/* 1980-01-01 00:00:00 set directly in DOS format: no time zone. */
	const zip_uint16_t dos_time = 0, dos_date = (0 << 9) | (1 << 5) | 1;
	for (size_t i = 0; rc == 0 && i < w.n; i++) {
		zip_source_t *src = zf.zip_source_file(z, w.v[i].abs, 0, -1);
		zip_int64_t idx = src ? zf.zip_file_add(z, w.v[i].rel, src, ZIP_FL_ENC_UTF_8) : -1;
		if (idx < 0) {
			if (src)
				zf.zip_source_free(src);
			rc = synth_error_setf(SYNTH_EIO, "%s: cannot add %s to the zip: %s",
					      context, w.v[i].rel, zf.zip_strerror(z));
			break;
		}
		mode_t mode = w.v[i].exec ? 0100755 : 0100644;
		if (zf.zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_DEFLATE, 6) < 0 ||
		    zf.zip_file_set_dostime(z, (zip_uint64_t)idx, dos_time, dos_date, 0) < 0 ||
		    zf.zip_file_set_external_attributes(z, (zip_uint64_t)idx, 0,
						     ZIP_OPSYS_UNIX,
						     (zip_uint32_t)mode << 16) < 0)
			rc = synth_error_setf(SYNTH_EIO, "%s: zip attributes of %s: %s",
					      context, w.v[i].rel, zf.zip_strerror(z));
	}
	if (z) {
		if (rc == 0 && zf.zip_close(z) < 0) {
			rc = synth_error_setf(SYNTH_EIO, "%s: cannot zip %s: %s", context, dirs[0],
					      zf.zip_strerror(z));
			zf.zip_discard(z);
		} else if (rc < 0)
			zf.zip_discard(z);
	}
	if (rc == 0)
		rc = source_bytes(mem, data, len, context);
	if (mem)
		zf.zip_source_free(mem);
	if (rc == 0 && synth_sha256_hex(*data, *len, res->hash) < 0)
		rc = SYNTH_ENOMEM;
	if (rc == 0) {
		res->size = *len;
		res->files = w.n;
	} else {
		free(*data);
		*data = NULL;
		*len = 0;
	}
	free_entries(&w);
	return rc;
}

int synth__zip_dir_mem(const char *dir, const char *const *exclude, const char *context,
		       synth_zip_result *res, unsigned char **data, size_t *len)
{
	return zip_dirs_mem(&dir, 1, NULL, exclude, context, res, data, len);
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

/* The dedupe key of DIRS + EXCLUDE (every directory resolved), and in
 * *REAL the directories' real paths (NULL-terminated). */
static int asset_key_of(char **key, char ***real, const char *const *dirs,
			const char *const *exclude, const char *context)
{
	*key = NULL;
	*real = NULL;
	size_t n = 0;
	while (dirs && dirs[n])
		n++;
	if (n == 0 || n > SYNTH_ASSET_MAX_DIRS)
		return synth_error_setf(SYNTH_EINVALID,
					"%s: an asset takes 1 to %d directories, not %zu", context,
					SYNTH_ASSET_MAX_DIRS, n);
	synth_buf k = SYNTH_BUF_INIT;
	char **rv = calloc(n + 1, sizeof *rv);
	if (!rv)
		return synth_error_oom();
	for (size_t i = 0; i < n; i++) {
		char real_[PATH_MAX];
		struct stat st;
		int rc = 0;
		if (stat(dirs[i], &st) < 0 || !realpath(dirs[i], real_))
			rc = synth_error_setf(SYNTH_ENOTFOUND, "%s: code directory '%s' does not "
					      "exist", context, dirs[i]);
		else if (!S_ISDIR(st.st_mode))
			rc = synth_error_setf(SYNTH_EINVALID, "%s: code path '%s' is not a "
					      "directory", context, dirs[i]);
		else if (!(rv[i] = strdup(real_)))
			rc = synth_error_oom();
		if (rc < 0) {
			synth_buf_free(&k);
			synth_strv_free(rv);
			return rc;
		}
		synth_buf_printf(&k, "%s%s", i ? "\n+" : "", real_);
	}
	for (size_t i = 0; exclude && exclude[i]; i++) {
		synth_buf_putc(&k, '\n');
		synth_buf_puts(&k, exclude[i]);
	}
	if (!exclude)
		synth_buf_puts(&k, "\n.git");
	*key = synth_buf_detach(&k);
	if (!*key) {
		synth_strv_free(rv);
		return synth_error_oom();
	}
	*real = rv;
	return 0;
}

/* Whether an asset of key KEY exists (its index into *OUT): a map, not a
 * scan, so that N functions cost N look-ups, not N^2/2 comparisons. */
static bool asset_find(const synth_backend *b, const char *key, size_t *out)
{
	uintptr_t v = (uintptr_t)synth__map_get(&b->asset_by_key, key);
	if (v)
		*out = (size_t)(v - 1);
	return v != 0;
}

/* Indexes KEY as the asset about to be added (b->nassets). */
static int asset_index(synth_backend *b, const char *key)
{
	return synth__map_put(&b->asset_by_key, key, (void *)(uintptr_t)(b->nassets + 1));
}

int synth__backend_asset_dirs(size_t *out, synth_backend *b, const char *const *dirs,
			      const char *const *exclude, const char *context)
{
	*out = 0;
	char *k, **real;
	int rc = asset_key_of(&k, &real, dirs, exclude, context);
	if (rc < 0)
		return rc;
	/* The same directories with the same excludes are zipped once. */
	if (asset_find(b, k, out)) {
		free(k);
		synth_strv_free(real);
		return 0;
	}
	if (synth_array_grow((void **)&b->assets, &b->nassets, &b->cap_assets,
			     sizeof *b->assets) < 0) {
		free(k);
		synth_strv_free(real);
		return SYNTH_ENOMEM;
	}
	synth_asset a = {0};
	a.key = k;
	a.real = real;
	a.source = strdup(dirs[0]);
	a.display = strdup(context);
	rc = a.source && a.display ? synth_strv_dup(&a.dirs, dirs) : synth_error_oom();
	if (rc == 0)
		rc = synth_strv_dup(&a.exclude, exclude);
	if (rc == 0)
		rc = asset_index(b, k);
	if (rc < 0) {
		synth_strv_free(a.real);
		synth_strv_free(a.exclude);
		free(a.key);
		free(a.source);
		free(a.display);
		synth_strv_free(a.dirs);
		return rc;
	}
	*out = b->nassets;
	b->assets[b->nassets++] = a;
	return 0;
}

int synth__backend_asset(size_t *out, synth_backend *b, const char *dir,
			 const char *const *exclude, const char *context)
{
	const char *const dirs[] = {dir, NULL};
	return synth__backend_asset_dirs(out, b, dirs, exclude, context);
}

static int put_file(const char *dir, const char *file, const void *data, size_t len,
		    size_t job);

int synth__backend_asset_bytes(size_t *out, synth_backend *b, const void *data, size_t len,
			       const char *ext, const char *context)
{
	*out = 0;
	if (!b->staging)
		return synth_error_setf(SYNTH_ERROR, "%s: a file asset can only be added while "
					"the backend runs", context);
	char hex[65];
	if (synth_sha256_hex(data, len, hex) < 0)
		return SYNTH_ENOMEM;
	char *file = synth_asprintf("asset.%s.%s", hex, ext);
	char *key = synth_asprintf("bytes:%s.%s", hex, ext);
	int rc = file && key ? 0 : synth_error_oom();
	/* The same bytes are one asset. */
	if (rc == 0 && asset_find(b, key, out)) {
		free(file);
		free(key);
		return 0;
	}
	if (rc == 0)
		rc = synth_array_grow((void **)&b->assets, &b->nassets, &b->cap_assets,
				      sizeof *b->assets);
	synth_asset a = {0};
	if (rc == 0) {
		a.source = strdup(context);
		a.display = strdup(context);
		if (!a.source || !a.display)
			rc = synth_error_oom();
	}
	if (rc == 0)
		rc = put_file(b->staging, file, data, len, b->nassets);
	if (rc == 0)
		rc = asset_index(b, key);
	if (rc < 0) {
		free(file);
		free(key);
		free(a.source);
		free(a.display);
		return rc;
	}
	a.key = key;
	a.file = file;
	a.bytes = true;
	a.size = len;
	memcpy(a.hash, hex, sizeof a.hash);
	memcpy(a.fingerprint, hex, sizeof a.fingerprint);
	*out = b->nassets;
	b->assets[b->nassets++] = a;
	return 0;
}

json_t *synth__asset_token(size_t index, const char *what)
{
	return json_pack("{s:[I,s]}", SYNTH_TOKEN_ASSET, (json_int_t)index, what);
}

/* --- the extender API (synth/sys/construct.h) -------------------------- */

int synth_construct_add_dir_asset(size_t *out, synth_construct *self, const char *dir,
				  const char *const *exclude)
{
	SYNTH_CHECK_HANDLE(self);
	int rc = synth__backend_asset(out, self->b, dir, exclude, self->name);
	return rc < 0 ? synth__backend_fail(self->b) : 0;
}

int synth_construct_add_file_asset(size_t *out, synth_construct *self, const void *data,
				   size_t len, const char *ext, const char *display)
{
	SYNTH_CHECK_HANDLE(self);
	int rc = synth__backend_asset_bytes(out, self->b, data, len, ext,
					    display ? display : self->name);
	return rc < 0 ? synth__backend_fail(self->b) : 0;
}

int synth_construct_add_dirs_asset(size_t *out, synth_construct *self, const char *const *dirs,
				   const char *const *exclude)
{
	SYNTH_CHECK_HANDLE(self);
	int rc = synth__backend_asset_dirs(out, self->b, dirs, exclude, self->name);
	return rc < 0 ? synth__backend_fail(self->b) : 0;
}

json_t *synth_asset_key(size_t asset) { return synth__asset_token(asset, "key"); }
json_t *synth_asset_file(size_t asset) { return synth__asset_token(asset, "file"); }
json_t *synth_asset_bucket(void) { return synth_sub(SYNTH_ASSET_BUCKET_SUB, NULL); }

json_t *synth_asset_s3_uri(size_t asset)
{
	return synth_join("", json_pack("[s,o,s,o,s,o]", "s3://" SYNTH_BOOTSTRAP_PREFIX "assets-",
					synth_pseudo("AWS::AccountId"), "-",
					synth_pseudo("AWS::Region"), "/", synth_asset_key(asset)));
}

/* --- building assets ---------------------------------------------------- */

/* What goes into a zip, hashed: format version, libzip version, and for
 * each entry (sorted) its name, mode and content hash. Equal fingerprints
 * give byte-identical zips, so a previous zip can be reused. */
static int fingerprint(const char *const *dirs, size_t ndirs, const char *const *real,
		       const char *const *exclude, const char *context, char out[65])
{
	walk w = {NULL, 0, exclude, context, NULL, 0, 0, 0, 0};
	w.warn = true; /* every build walks here first, and once */
	int rc = collect(&w, dirs, ndirs, real);
	synth_buf fp = SYNTH_BUF_INIT;
	/* The version libsynth was compiled against: asking the library would
	 * load it (see the top of this file). */
	synth_buf_printf(&fp, "synth-zip-1 deflate-6 libzip-%s\n", LIBZIP_VERSION);
	for (size_t i = 0; rc == 0 && i < w.n; i++) {
		char hex[65];
		rc = synth__sha256_file(w.v[i].abs, hex);
		synth_buf_printf(&fp, "%s%c%o%c%s\n", w.v[i].rel, 0, w.v[i].exec ? 0755 : 0644,
				  0, hex);
	}
	if (rc == 0 && fp.oom)
		rc = synth_error_oom();
	if (rc == 0)
		rc = synth_sha256_hex(fp.ptr ? fp.ptr : "", fp.len, out);
	synth_buf_free(&fp);
	free_entries(&w);
	return rc;
}

typedef struct finish {
	synth_backend *b;
	json_t *previous;     /* fingerprint -> {"hash", "file"} of the last assembly */
	const char *prev_dir;
	size_t next;          /* next job, taken under the lock */
	pthread_mutex_t lock;
} finish;

/* Writes DATA to DIR/FILE through a name only this job uses. */
static int put_file(const char *dir, const char *file, const void *data, size_t len,
		    size_t job)
{
	char *path = synth_asprintf("%s/%s", dir, file);
	char *tmp = synth_asprintf("%s/.%s.%zu.part", dir, file, job);
	int rc = path && tmp ? synth__write_file(tmp, data, len) : synth_error_oom();
	if (rc == 0 && rename(tmp, path) < 0)
		rc = synth_error_setf(SYNTH_EIO, "cannot rename %s: %s", tmp, strerror(errno));
	if (rc < 0 && tmp)
		unlink(tmp);
	free(path);
	free(tmp);
	return rc;
}

/* Links (or copies) the previous assembly's zip into the staging dir. */
static int reuse(finish *f, synth_asset *a, size_t job, const char *file)
{
	char *src = synth_asprintf("%s/%s", f->prev_dir, file);
	char *dst = synth_asprintf("%s/%s", f->b->staging, file);
	int rc = src && dst ? 0 : synth_error_oom();
	struct stat st;
	if (rc == 0 && (stat(src, &st) < 0 || !S_ISREG(st.st_mode)))
		rc = SYNTH_ENOTFOUND; /* not there after all: build it */
	/* Trust the bytes, not the index: the file must hash to its name. */
	char hex[65], *want = NULL;
	if (rc == 0 && (synth__sha256_file(src, hex) < 0 ||
			!(want = synth_asprintf("asset.%s.zip", hex)) || strcmp(want, file)))
		rc = SYNTH_ENOTFOUND;
	free(want);
	if (rc == 0 && link(src, dst) < 0 && errno != EEXIST) {
		char *data = NULL;
		size_t len = 0;
		rc = synth_file_read(src, &data, &len);
		if (rc == 0)
			rc = put_file(f->b->staging, file, data, len, job);
		free(data);
	}
	if (rc == 0)
		a->size = (uint64_t)st.st_size;
	free(src);
	free(dst);
	return rc;
}

static int build_one(finish *f, size_t job)
{
	synth_asset *a = &f->b->assets[job];
	if (a->bytes)
		return 0; /* written when registered */
	const char *const *ex = (const char *const *)a->exclude;
	const char *const *dirs = (const char *const *)a->dirs;
	size_t ndirs = synth_strv_len(dirs);
	const char *const *real = (const char *const *)a->real;
	int rc = fingerprint(dirs, ndirs, real, ex, a->display, a->fingerprint);
	if (rc < 0)
		return rc;
	json_t *prev = json_object_get(f->previous, a->fingerprint);
	const char *ph = json_string_value(json_object_get(prev, "hash"));
	const char *pf = json_string_value(json_object_get(prev, "file"));
	if (ph && pf && strlen(ph) == 64 && strlen(pf) == 74 && !strncmp(pf + 6, ph, 64) &&
	    reuse(f, a, job, pf) == 0) {
		memcpy(a->hash, ph, 65);
		a->file = strdup(pf);
		a->reused = true;
		return a->file ? 0 : synth_error_oom();
	}
	synth_zip_result zr;
	unsigned char *data = NULL;
	size_t len = 0;
	rc = zip_dirs_mem(dirs, ndirs, real, ex, a->display, &zr, &data, &len);
	if (rc == 0) {
		memcpy(a->hash, zr.hash, sizeof a->hash);
		a->size = zr.size;
		a->file = synth_asprintf("asset.%s.zip", zr.hash);
		rc = a->file ? put_file(f->b->staging, a->file, data, len, job) : synth_error_oom();
	}
	free(data);
	return rc;
}

static void *worker(void *arg)
{
	finish *f = arg;
	for (;;) {
		pthread_mutex_lock(&f->lock);
		size_t job = f->next++;
		pthread_mutex_unlock(&f->lock);
		if (job >= f->b->nassets)
			return NULL;
		synth_asset *a = &f->b->assets[job];
		synth_error_clear();
		int rc = build_one(f, job);
		if (rc < 0) {
			const synth_error *e = synth_error_last();
			a->error_code = rc;
			a->error = strdup(*e->message ? e->message : "cannot build the asset");
		}
	}
}

int synth__assets_finish(synth_backend *b)
{
	if (b->nassets == 0)
		return 0;
	finish f = {.b = b, .next = 0};
	pthread_mutex_init(&f.lock, NULL);
	/* The previous assembly, for zips whose inputs did not change. */
	const char *prev = getenv("SYNTH_PREVIOUS_ASSEMBLY");
	f.prev_dir = prev && *prev ? prev : b->outdir;
	char *idx = synth_asprintf("%s/%s", f.prev_dir, SYNTH_ASSET_INDEX);
	f.previous = idx ? json_load_file(idx, 0, NULL) : NULL;
	free(idx);
	if (!json_is_object(f.previous)) {
		json_decref(f.previous);
		f.previous = json_object();
	}
	/* Workers: one per core (at most 8), the calling thread among them. */
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nthreads = cores > 1 ? (size_t)(cores > 8 ? 8 : cores) : 1;
	if (nthreads > b->nassets)
		nthreads = b->nassets;
	pthread_t tids[8];
	size_t started = 0;
	for (size_t i = 1; i < nthreads; i++)
		if (pthread_create(&tids[started], NULL, worker, &f) == 0)
			started++;
	worker(&f);
	for (size_t i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	pthread_mutex_destroy(&f.lock);
	json_decref(f.previous);
	/* The first failure in definition order, so the message is stable. */
	for (size_t i = 0; i < b->nassets; i++)
		if (b->assets[i].error_code < 0) {
			synth_error_setf(b->assets[i].error_code, "%s", b->assets[i].error);
			return synth__backend_fail(b);
		}
	return 0;
}

int synth__assets_write_index(synth_backend *b, const char *dir)
{
	json_t *idx = json_object();
	for (size_t i = 0; idx && i < b->nassets; i++) {
		synth_asset *a = &b->assets[i];
		if (a->bytes)
			continue; /* nothing to reuse: written from memory */
		if (json_object_set_new(idx, a->fingerprint,
					json_pack("{s:s,s:s}", "hash", a->hash, "file", a->file)) < 0) {
			json_decref(idx);
			idx = NULL;
		}
	}
	char *text = idx ? synth_json_dumps(idx, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
	char *path = synth_asprintf("%s/%s", dir, SYNTH_ASSET_INDEX);
	int rc = text && path ? synth__write_file(path, text, strlen(text)) : synth_error_oom();
	free(text);
	free(path);
	json_decref(idx);
	return rc;
}
