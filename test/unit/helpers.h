/* Shared helpers for unit tests: temp dirs, code dirs, loading templates. */
#ifndef HELPERS_H
#define HELPERS_H
#define _GNU_SOURCE
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include "synth.h"
#include "internal.h"

/* A fresh temp directory, made the working directory. */
static __attribute__((unused)) char *tmp_cwd(void)
{
	char tmpl[] = "/tmp/synth-unit-XXXXXX";
	char *d = mkdtemp(tmpl);
	if (!d || chdir(d) < 0)
		abort();
	return strdup(d);
}

static __attribute__((unused)) void rm_tmp(char *d)
{
	if (chdir("/") == 0)
		synth__rm_rf(d);
	free(d);
}

static __attribute__((unused)) void write_text(const char *path, const char *text)
{
	char *dir = strdup(path);
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		synth__mkdir_p(dir);
	}
	free(dir);
	synth__write_file(path, text, strlen(text));
}

/* A branch backend "app"/"main" writing to ./out. */
static __attribute__((unused)) synth_backend *new_backend(void)
{
	synth_backend *b = NULL;
	char *argv[] = {"t", "-c", "synth:namespace=app", "-c", "synth:type=branch",
			"-c", "synth:name=main", "--out", "out", NULL};
	unsetenv("CDK_CONTEXT_JSON");
	unsetenv("CDK_OUTDIR");
	if (synth_backend_new(&b, 9, argv) < 0)
		return NULL;
	return b;
}

/* Loads the one file matching PATTERN under ./out. */
static __attribute__((unused)) json_t *load_glob(const char *pattern)
{
	glob_t g;
	json_t *j = NULL;
	if (glob(pattern, 0, NULL, &g) == 0) {
		if (g.gl_pathc >= 1)
			j = json_load_file(g.gl_pathv[0], 0, NULL);
		globfree(&g);
	}
	return j;
}

/* The root template, found through manifest.json. */
static __attribute__((unused)) json_t *root_template(void)
{
	json_t *m = json_load_file("out/manifest.json", 0, NULL), *t = NULL;
	const char *k;
	json_t *a;
	json_object_foreach(json_object_get(m, "artifacts"), k, a) {
		const char *f = json_string_value(
			json_object_get(json_object_get(a, "properties"), "templateFile"));
		if (f) {
			char *p = synth_asprintf("out/%s", f);
			t = json_load_file(p, 0, NULL);
			free(p);
		}
	}
	json_decref(m);
	return t;
}

/* The resource whose Metadata synth:path is PATH, in template T. */
static __attribute__((unused)) json_t *by_path(json_t *t, const char *path)
{
	const char *k;
	json_t *r;
	json_object_foreach(json_object_get(t, "Resources"), k, r) {
		const char *p = json_string_value(
			json_object_get(json_object_get(r, "Metadata"), "synth:path"));
		if (p && !strcmp(p, path))
			return r;
	}
	return NULL;
}

static __attribute__((unused)) size_t count_files(const char *pattern)
{
	glob_t g;
	size_t n = 0;
	if (glob(pattern, 0, NULL, &g) == 0) {
		n = g.gl_pathc;
		globfree(&g);
	}
	return n;
}

#endif
