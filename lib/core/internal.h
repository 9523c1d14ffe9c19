/*
 * libsynth's core internals (the backend model, assets, layout), shared by
 * the files of lib/core/. Not installed.
 * Names with a double underscore (synth__x) are internal but shared.
 */
#ifndef SYNTH_INTERNAL_H
#define SYNTH_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "../util/util.h"
#include "synth/value.h"
#include "synth/backend.h"
#include "synth/construct.h"

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
#define SYNTH_ASSET_MAX_DIRS 16
typedef struct synth_asset {
	/* The first directory as given (relative), which names the asset in
	 * the manifest; for a file asset, its construct path. */
	char *source;
	/* A directory asset's directories as given (NULL-terminated; more
	 * than one for synth_construct_add_dirs_asset); NULL for a file asset. */
	char **dirs;
	char **real;       /* the directories' real paths (as dirs); NULL for a
			    * file asset */
	char *key;         /* dedupe key: realpaths + excludes */
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
	/* Layout groups (synth_construct_set_layout_group): name -> unit + 1
	 * (0 until the group's first resource numbers it); the current one. */
	synth_map groups;
	char *group;             /* current group's name; NULL: the construct's */
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
	size_t ndeps, cap_deps;
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
	json_t *context;     /* every context key -> value (strings), or NULL */

	synth_construct **constructs;
	size_t nconstructs, cap_constructs;
	synth_map construct_by_name;
	synth_map token_providers; /* token -> synth_construct* */

	synth_resource **resources;
	size_t nresources, cap_resources;
	synth_map resource_by_path;
	synth_map resource_by_lid;

	synth_parameter *params;
	size_t nparams, cap_params;
	json_t *conditions;  /* object */
	synth_output *outputs;
	size_t noutputs, cap_outputs;
	synth_override *overrides;
	size_t noverrides, cap_overrides;

	synth_asset *assets;
	size_t nassets, cap_assets;
	synth_map asset_by_key; /* asset key -> index + 1 (asset.c) */
	char *staging;       /* assembly temp dir while running */

	synth_construct *generating; /* top of the generation chain */
	char *error;         /* first sticky error message */
	int error_code;
	bool ran;
};

/* Records the current last error as the backend's sticky error (if it is
 * the first) and returns its code (fail.c). */
int synth__backend_fail(synth_backend *b);
/* Registers the zip asset of DIR (once per directory and excludes) and
 * returns its index, for the tokens synth__asset_token() makes. The zip is
 * built later, by synth__assets_finish(). */
int synth__backend_asset(size_t *out, synth_backend *b, const char *dir,
			 const char *const *exclude, const char *context);
/* The same for the directories DIRS (NULL-terminated, 1 to
 * SYNTH_ASSET_MAX_DIRS), zipped as one tree: a path in two of them is an
 * error when the zip is built. */
int synth__backend_asset_dirs(size_t *out, synth_backend *b, const char *const *dirs,
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
