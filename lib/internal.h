/*
 * libsynth internals shared between the library's files. Not installed.
 * Names with a double underscore (synth__x) are internal but shared.
 */
#ifndef SYNTH_INTERNAL_H
#define SYNTH_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "synth.h"

/* --- errors (error.c) -------------------------------------------------- */

int synth__error_set(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int synth__error_setv(int code, const char *fmt, va_list ap);
/* Out of memory: sets SYNTH_ENOMEM and returns it. */
int synth__oom(void);

/* --- growable string buffer (util.c) ----------------------------------- */

/* A buffer whose init cannot fail; on allocation failure it frees itself
 * and remains in an error state (buf->oom), so appends can be chained and
 * checked once. */
typedef struct synth_buf {
	char *ptr;
	size_t len, cap;
	bool oom;
} synth_buf;

#define SYNTH_BUF_INIT {NULL, 0, 0, false}
void synth__buf_put(synth_buf *b, const char *s, size_t n);
void synth__buf_puts(synth_buf *b, const char *s);
void synth__buf_putc(synth_buf *b, char c);
void synth__buf_printf(synth_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Returns the string (caller owns) or NULL if the buffer ran out of
 * memory; the buffer is reset either way. */
char *synth__buf_detach(synth_buf *b);
void synth__buf_free(synth_buf *b);

/* --- small helpers (util.c) -------------------------------------------- */

/* json_dumps, checked: the text through our buffer, NULL (SYNTH_ENOMEM
 * set) if any step fails. jansson 2.14's json_dumps can return text with an
 * object member missing when an allocation inside it fails. Caller frees. */
char *synth__json_dumps(const json_t *json, size_t flags);
/* The strings of the array LIST joined by SEP ("" for an empty list);
 * non-strings count as empty. Caller frees; NULL when out of memory. */
char *synth__join_strings(const json_t *list, const char *sep);

char *synth__strdup(const char *s); /* NULL-safe; NULL on OOM */
char *synth__asprintf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
/* Lowercase hex SHA-256 of DATA into HEX (65 bytes); SYNTH_ENOMEM when
 * OpenSSL cannot allocate. */
int synth__sha256_hex(const void *data, size_t len, char hex[65]);
/* The value of hex digit C (either case), or -1. */
int synth__hex_value(int c);
/* Lowercase hex of N bytes into OUT (2N+1 bytes). */
void synth__hex(const unsigned char *in, size_t n, char *out);
/* The SHA-256 method, fetched once per process (an opaque EVP_MD). */
const struct evp_md_st *synth__sha256_md(void);
/* Names made of letters, digits, '-' and '_' only, 1..MAX characters. */
bool synth__valid_name(const char *s, size_t max);
/* Copies a NULL-terminated string array; NULL in gives NULL out (ok). */
int synth__strv_dup(char ***out, const char *const *v);
void synth__strv_free(char **v);
size_t synth__strv_len(const char *const *v);

/* A string -> pointer hash map (keys copied, values borrowed). */
typedef struct synth_map {
	char **keys;
	void **vals;
	size_t cap, len;
} synth_map;
void *synth__map_get(const synth_map *m, const char *key);
int synth__map_put(synth_map *m, const char *key, void *val);
void synth__map_free(synth_map *m);

/* --- files (fs.c) ------------------------------------------------------ */

int synth__mkdir_p(const char *path);
int synth__rm_rf(const char *path);
/* Writes DATA to PATH through a temporary file in the same directory and
 * a rename, so PATH is either the old or the new content. */
int synth__write_file_atomic(const char *path, const void *data, size_t len);
int synth__write_file(const char *path, const void *data, size_t len);
/* Reads a whole file; *out caller-owned, NUL-terminated. */
int synth__read_file(const char *path, char **out, size_t *len);
/* Replaces directory DST with directory SRC atomically where the system
 * allows (renameat2 RENAME_EXCHANGE), then removes the old one. */
int synth__replace_dir(const char *src, const char *dst);

/* --- assets (asset.c) -------------------------------------------------- */

typedef struct synth_zip_result {
	char hash[65];   /* SHA-256 of the zip bytes, lowercase hex */
	uint64_t size;   /* bytes of the zip */
	size_t files;    /* entries written */
} synth_zip_result;

/*
 * Zips directory DIR deterministically into the file OUT_PATH: entries
 * sorted by path, fixed timestamps (1980-01-01 00:00), permissions 0644 or
 * 0755 (executable bit kept), deflate level 6, no directory entries.
 * Files matching EXCLUDE (fnmatch on the relative path or any component)
 * are left out. Symlinks to files inside DIR are followed; symlinks that
 * point outside DIR, and symlinks to directories, are not followed.
 * CONTEXT names the construct in messages.
 */
int synth__zip_dir(const char *dir, const char *const *exclude,
		   const char *out_path, const char *context,
		   synth_zip_result *res);
/* The same, into memory: *data (caller frees) holds the zip. */
int synth__zip_dir_mem(const char *dir, const char *const *exclude, const char *context,
		       synth_zip_result *res, unsigned char **data, size_t *len);
/* SHA-256 of a file's content. */
int synth__sha256_file(const char *path, char hex[65]);

/* --- the backend and its model (backend.c, template.c) ----------------- */

typedef struct synth_override {
	char *resource_path;
	char *path;
	json_t *value; /* NULL: delete */
} synth_override;

typedef struct synth_output {
	char *category;
	char *name;
	json_t *value;
	char *description;
	char *export_name;
} synth_output;

typedef struct synth_parameter {
	char *name;
	json_t *decl; /* {"Type":..., "Default":..., "Description":...} */
} synth_parameter;

/* A zip asset. Registered during generation (synth__backend_asset), built
 * by synth__assets_finish() before emission, in parallel, or taken from the
 * previous assembly when its content fingerprint matches. */
typedef struct synth_asset {
	char *source;      /* the directory as given (relative) */
	char *key;         /* dedupe key: realpath + excludes */
	char **exclude;    /* copied; NULL for the default */
	char hash[65];     /* SHA-256 of the zip (after finish) */
	char fingerprint[65]; /* SHA-256 of what goes in: names, modes, contents */
	uint64_t size;
	char *file;        /* "asset.<hash>.zip", relative to the assembly */
	char *display;     /* construct path of the first user */
	bool reused;       /* taken from the previous assembly */
	int error_code;    /* a failed build: code and message */
	char *error;
	bool bytes;        /* a file asset from bytes (synth__backend_asset_bytes):
			    * written at registration, nothing to build */
} synth_asset;

enum construct_state { CONSTRUCT_IDLE, CONSTRUCT_GENERATING, CONSTRUCT_DONE,
		       CONSTRUCT_FAILED };

struct synth_construct {
	synth_backend *b;
	char *name;
	const synth_construct_class *cls;
	void *state;
	enum construct_state gen;
	size_t index;            /* definition order */
	synth_construct *parent_gen; /* who asked for us (cycle reporting) */
};

struct synth_resource {
	synth_construct *owner; /* NULL for raw resources */
	size_t unit;             /* layout unit: owner index or own */
	char *path;
	char *logical_id;
	char *type;
	json_t *props;       /* object */
	json_t *metadata;    /* object or NULL */
	char *condition;
	char *deletion_policy;
	struct synth_resource **deps; /* explicit DependsOn */
	size_t ndeps;
	size_t index;        /* creation order */
	/* layout scratch */
	size_t stack;        /* index into the layout's stacks */
};

struct synth_backend {
	char *ns, *name;
	synth_backend_type type;
	char *stack_name;
	char *outdir;
	char *workdir;       /* where relative entries resolve ("." default) */

	synth_construct **constructs;
	size_t nconstructs;
	synth_map construct_by_name;
	synth_map token_providers; /* token -> synth_construct* */

	synth_resource **resources;
	size_t nresources;
	synth_map resource_by_path;
	synth_map resource_by_lid;

	synth_parameter *params;
	size_t nparams;
	json_t *conditions;  /* object */
	synth_output *outputs;
	size_t noutputs;
	synth_override *overrides;
	size_t noverrides;

	synth_asset *assets;
	size_t nassets;
	char *staging;       /* assembly temp dir while running */

	synth_construct *generating; /* top of the generation chain */
	char *error;         /* first sticky error message */
	int error_code;
	bool ran;
};

/* Records the current last error as the backend's sticky error (if it is
 * the first) and returns its code. */
int synth__backend_fail(synth_backend *b);
/* Registers the zip asset of DIR (once per directory and excludes) and
 * returns its index, for the tokens synth__asset_token() makes. The zip is
 * built later, by synth__assets_finish(). */
int synth__backend_asset(size_t *out, synth_backend *b, const char *dir,
			 const char *const *exclude, const char *context);
/*
 * Registers a file asset holding LEN bytes of DATA (a JSON document, a
 * schema: anything served as a file) and writes it at once into the
 * staging directory as "asset.<sha256>.<EXT>", so it is only valid while
 * the backend runs (from a construct's generate()). The same bytes with the
 * same EXT register once. *out is the index for synth__asset_token();
 * CONTEXT (a construct path) names it in the asset manifest and in
 * messages. Nothing is built later; the fingerprint index skips it.
 */
int synth__backend_asset_bytes(size_t *out, synth_backend *b, const void *data, size_t len,
			       const char *ext, const char *context);
/* {"Synth::Asset": [INDEX, WHAT]}: WHAT "key" becomes "<hash>.zip" (the S3
 * key), "file" the assembly file name. Resolved at emit time. */
json_t *synth__asset_token(size_t index, const char *what);
/* Builds every registered asset (parallel; reusing the previous
 * assembly's zips by fingerprint). */
int synth__assets_finish(synth_backend *b);
/* Writes the fingerprint index of this assembly into DIR. */
int synth__assets_write_index(synth_backend *b, const char *dir);

/* Logical ID from a construct path: readable prefix + 8 hex digits. */
char *synth__logical_id(const char *path);

/* Generation pass (container.c). */
int synth__container_run(synth_backend *b);

/* Layout + emission (template.c): writes templates and manifests into the
 * staging directory. */
int synth__emit_assembly(synth_backend *b, const char *dir);

/* Token recognition (value.c). */
#define SYNTH_TOKEN_REF "Synth::Ref"
#define SYNTH_TOKEN_GETATT "Synth::GetAtt"
#define SYNTH_TOKEN_PARAM "Synth::Param"
#define SYNTH_TOKEN_ASSET "Synth::Asset"
#define SYNTH_ASSET_INDEX "synth-assets.json"

#endif
