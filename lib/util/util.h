/*
 * libsynth's utility layer, shared by every other layer (core, AWS client,
 * deployer, CLI). Not installed. What constructs may use too is public, in
 * <synth/sys/util.h>; this adds what only the library needs.
 * Names: synth__<module>_<verb> (file = module = prefix), see
 * ARCHITECTURE.md "Conventions".
 */
#ifndef SYNTH_UTIL_H
#define SYNTH_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "synth/common.h"
#include "synth/sys/util.h"

/* --- small helpers (util.c) -------------------------------------------- */

/* Lowercase hex of N bytes into OUT (2N+1 bytes). */
void synth__hex(const unsigned char *in, size_t n, char *out);
/* The SHA-256 method for EVP/HMAC calls, fetched once per process (an
 * opaque EVP_MD; evp.c). */
const struct evp_md_st *synth__sha256_md(void);

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
/* 0 when an assembly may replace DIR: DIR is missing, empty, or a cloud
 * assembly (its manifest.json has a "version" and "artifacts"). Otherwise
 * an error naming DIR and why (a file, a directory synth did not write). */
int synth__assembly_replaceable(const char *dir);
/* Replaces the assembly DST with the directory SRC atomically where the
 * system allows (renameat2 RENAME_EXCHANGE), then removes the old one.
 * Refuses, touching nothing, a DST synth__assembly_replaceable() refuses. */
int synth__replace_dir(const char *src, const char *dst);

#endif
