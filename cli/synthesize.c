/*
 * The synthesis shared by `synth` and the deploy commands: build
 * ./backend.c (or run --app CMD), run it into a staging directory, check
 * the templates against the CloudFormation specification, and swap the
 * staging directory in only if all of that succeeded.
 *
 * The backend program is compiled with the system C compiler against
 * libsynth found through pkg-config (libsynth-uninstalled.pc beside this
 * binary when run from the build tree), cached in .synth/ and rebuilt only
 * when a source, a header it includes, the compile command or the library
 * changed. It runs with CDK_OUTDIR pointing at a staging directory and
 * CDK_CONTEXT_JSON holding the context.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "../lib/core/internal.h"
#include "synth.h"
#include "cli.h"

extern char **environ;

int cli_fail(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("synth: error: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return code;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Runs ARGV with ENVP; returns the wait status, or -1 if it could not
 * start. With OUT, captures stdout into it. */
static int run(char *const argv[], char *const envp[], synth_buf *out)
{
	int fds[2] = {-1, -1};
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	if (out) {
		if (pipe(fds) < 0)
			return -1;
		posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
		posix_spawn_file_actions_addclose(&fa, fds[0]);
		posix_spawn_file_actions_addclose(&fa, fds[1]);
	}
	pid_t pid;
	int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, envp ? envp : environ);
	posix_spawn_file_actions_destroy(&fa);
	if (out) {
		close(fds[1]);
		if (rc == 0) {
			char buf[4096];
			ssize_t n;
			while ((n = read(fds[0], buf, sizeof buf)) > 0)
				synth_buf_put(out, buf, (size_t)n);
		}
		close(fds[0]);
	}
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return st;
}

/* A NULL-terminated array of strings, each owned. */
typedef struct words {
	char **v;
	size_t n, cap;
} words;

/* Appends a copy of S; -1 when out of memory. */
static int words_add(words *w, const char *s)
{
	size_t len = w->n + 1; /* room for S and the NULL after it */
	char *d = strdup(s);
	if (!d || synth_array_grow((void **)&w->v, &len, &w->cap, sizeof *w->v) < 0) {
		free(d);
		return -1;
	}
	w->v[w->n++] = d;
	w->v[w->n] = NULL;
	return 0;
}

/* Appends the words of S (pkg-config prints no quoted spaces for our
 * paths). */
static int words_split(words *w, const char *s)
{
	char *copy = strdup(s), *save = NULL;
	int rc = copy ? 0 : -1;
	for (char *t = copy ? strtok_r(copy, " \t\n", &save) : NULL; t && rc == 0;
	     t = strtok_r(NULL, " \t\n", &save))
		rc = words_add(w, t);
	free(copy);
	return rc;
}

static void words_free(words *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i]);
	free(w->v);
	*w = (words){0};
}

static char *exe_dir(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	char *slash = strrchr(buf, '/');
	if (slash)
		*slash = '\0';
	return strdup(buf);
}

/* `pkg-config --cflags --libs libsynth`, looking beside this binary first. */
static char *pkg_config_flags(void)
{
	char *dir = exe_dir();
	const char *old = getenv("PKG_CONFIG_PATH");
	char *path = synth_asprintf("%s:%s/../lib/pkgconfig%s%s", dir ? dir : ".",
				     dir ? dir : ".", old && *old ? ":" : "", old ? old : "");
	free(dir);
	if (!path)
		return NULL;
	setenv("PKG_CONFIG_PATH", path, 1);
	free(path);
	char *argv[] = {"pkg-config", "--cflags", "--libs", "libsynth", NULL};
	synth_buf out = SYNTH_BUF_INIT;
	int st = run(argv, NULL, &out);
	if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		synth_buf_free(&out);
		return NULL;
	}
	return synth_buf_detach(&out);
}

/* The cache stamp: the compile command, every file the compiler read (from
 * its dependency file) and the library's identity. */
static char *build_stamp(const char *cmd, const char *depfile)
{
	synth_buf s = SYNTH_BUF_INIT;
	synth_buf_puts(&s, cmd);
	char *deps = NULL;
	if (synth_file_read(depfile, &deps, NULL) < 0)
		return synth_buf_free(&s), NULL;
	/* "target: a.c b.h \\\n c.h" -> every word after the colon. */
	char *p = strchr(deps, ':');
	char *save = NULL;
	for (char *w = p ? strtok_r(p + 1, " \t\n\\", &save) : NULL; w;
	     w = strtok_r(NULL, " \t\n\\", &save)) {
		size_t wl = strlen(w);
		if (wl && w[wl - 1] == ':')
			continue; /* phony targets from -MP */
		char hex[65];
		if (synth__sha256_file(w, hex) < 0) {
			free(deps);
			synth_buf_free(&s);
			return NULL;
		}
		synth_buf_printf(&s, "\n%s %s", w, hex);
	}
	free(deps);
	char *text = synth_buf_detach(&s);
	if (!text)
		return NULL;
	char hex[65];
	int rc = synth_sha256_hex(text, strlen(text), hex);
	free(text);
	return rc == 0 ? strdup(hex) : NULL;
}

static const char *lib_identity(const char *flags)
{
	/* The library the backend links: its size and mtime join the stamp. */
	static char id[PATH_MAX + 64];
	const char *L = strstr(flags, "-L");
	id[0] = '\0';
	if (!L)
		return id;
	char dir[PATH_MAX];
	size_t n = strcspn(L + 2, " \t\n");
	if (n >= sizeof dir)
		return id;
	memcpy(dir, L + 2, n);
	dir[n] = '\0';
	char *so = synth_asprintf("%s/libsynth.so", dir);
	struct stat st;
	if (so && stat(so, &st) == 0)
		snprintf(id, sizeof id, "%s %lld %lld", so, (long long)st.st_size,
			 (long long)st.st_mtime);
	free(so);
	return id;
}

/* The compiler's command line: $CC, the fixed flags, backend.c and the
 * folder convention's DIR/resource.c files, libsynth's flags. */
static int compile_command(words *argv, const char *cc, const char *flags)
{
	static const char *const fixed[] = {"-std=c11", "-O1", "-g", "-Wall", "-MMD", "-MF",
					    ".synth/backend.d", "-o", ".synth/backend.tmp",
					    "backend.c"};
	int rc = words_split(argv, cc);
	for (size_t i = 0; rc == 0 && i < sizeof fixed / sizeof *fixed; i++)
		rc = words_add(argv, fixed[i]);
	/* The folder convention: auth/resource.c, storage/resource.c, ... */
	glob_t g;
	if (rc == 0 && glob("*/resource.c", 0, NULL, &g) == 0) {
		for (size_t i = 0; rc == 0 && i < g.gl_pathc; i++)
			rc = words_add(argv, g.gl_pathv[i]);
		globfree(&g);
	}
	if (rc == 0)
		rc = words_split(argv, flags);
	if (rc == 0)
		rc = words_add(argv, "-Wl,--as-needed");
	return rc;
}

/* Compiles backend.c into .synth/backend unless the cache stamp says
 * nothing changed. */
static int compile_backend(const cli_synth_run *r)
{
	char *flags = pkg_config_flags();
	if (!flags)
		return cli_fail(EXIT_COMPILE,
				"pkg-config cannot find libsynth (run `make` or `make install`, "
				"or set PKG_CONFIG_PATH)");
	if (synth__mkdir_p(".synth") < 0) {
		free(flags);
		return cli_fail(EXIT_IO, "%s", synth_error_last()->message);
	}
	const char *cc = getenv("CC");
	if (!cc || !*cc)
		cc = "cc";
	words argv = {0};
	synth_buf cmd = SYNTH_BUF_INIT;
	if (compile_command(&argv, cc, flags) == 0) {
		for (size_t i = 0; i < argv.n; i++)
			synth_buf_printf(&cmd, "%s%s", i ? " " : "", argv.v[i]);
		synth_buf_printf(&cmd, "\n%s", lib_identity(flags));
	}
	char *cmdline = synth_buf_detach(&cmd);
	free(flags);
	if (!cmdline) {
		words_free(&argv);
		return cli_fail(EXIT_IO, "out of memory");
	}

	int rc = 0;
	char *old = NULL;
	char *stamp = NULL;
	struct stat st;
	if (!r->no_cache && stat(".synth/backend", &st) == 0 &&
	    synth_file_read(".synth/backend.stamp", &old, NULL) == 0 &&
	    (stamp = build_stamp(cmdline, ".synth/backend.d")) && !strcmp(old, stamp)) {
		if (r->verbose)
			fprintf(stderr, "synth: backend.c unchanged, not recompiled\n");
	} else {
		if (r->verbose)
			fprintf(stderr, "synth: compiling backend.c\n");
		int ws = run(argv.v, NULL, NULL);
		if (ws < 0)
			rc = cli_fail(EXIT_COMPILE, "cannot run the C compiler '%s': %s", cc,
				      strerror(errno));
		else if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
			rc = cli_fail(EXIT_COMPILE, "backend.c did not compile (the compiler's "
						    "messages are above)");
		else if (rename(".synth/backend.tmp", ".synth/backend") < 0)
			rc = cli_fail(EXIT_IO, "cannot rename .synth/backend.tmp: %s",
				      strerror(errno));
		free(stamp);
		stamp = rc == 0 ? build_stamp(cmdline, ".synth/backend.d") : NULL;
		if (stamp)
			synth__write_file_atomic(".synth/backend.stamp", stamp, strlen(stamp));
	}
	free(old);
	free(stamp);
	free(cmdline);
	words_free(&argv);
	return rc;
}

/* Where the CloudFormation specification is: $SYNTH_SPEC, the install's
 * share/libsynth/, the build directory, or the source tree's spec/ beside
 * the build directory. */
static char *spec_path(void)
{
	const char *env = getenv("SYNTH_SPEC");
	if (env && *env)
		return strdup(env);
	char *dir = exe_dir();
	/* Uncompressed (mapped) where the build or the install put it; the
	 * source tree's .gz as the last resort. */
	const char *rel[] = {"../share/libsynth/cfn-spec.jsonl", "cfn-spec.jsonl",
			     "../spec/cfn-spec.jsonl.gz"};
	for (size_t i = 0; dir && i < sizeof rel / sizeof rel[0]; i++) {
		char *p = synth_asprintf("%s/%s", dir, rel[i]);
		if (p && access(p, R_OK) == 0) {
			free(dir);
			return p;
		}
		free(p);
	}
	free(dir);
	return NULL;
}

/* Checks every template of the assembly in DIR; returns the problems. */
static int validate(const char *dir)
{
	char *path = spec_path();
	cli_spec *spec = path ? cli_spec_load(path) : NULL;
	if (!spec) {
		fprintf(stderr, "synth: warning: no CloudFormation specification found%s%s; "
				"templates not checked\n", path ? " at " : "", path ? path : "");
		free(path);
		return 0;
	}
	free(path);
	char *pat = synth_asprintf("%s/*.template.json", dir);
	glob_t g;
	int problems = 0;
	if (pat && glob(pat, 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			const char *file = strrchr(g.gl_pathv[i], '/') + 1;
			problems += cli_validate_template(spec, dir, file, stderr);
		}
		globfree(&g);
	}
	free(pat);
	cli_spec_free(spec);
	return problems;
}


/* Runs the program (APP through /bin/sh, or the compiled backend) with
 * CDK_OUTDIR=STAGING and the context; returns its wait status, or -1. */
static int run_backend(const cli_synth_run *r, const char *staging, const char *ctx)
{
	synth__rm_rf(staging);
	setenv("CDK_OUTDIR", staging, 1);
	/* Zips whose inputs did not change are taken from the last assembly. */
	setenv("SYNTH_PREVIOUS_ASSEMBLY", r->out, 1);
	/* A synth allocates many small JSON nodes between large buffers (zlib
	 * state, template text): without fastbins and with a lazier heap trim,
	 * glibc's malloc stops consolidating its free lists over and over
	 * (about a third faster for 1,000 functions; see bench/). The user's
	 * own setting wins. */
	if (!getenv("GLIBC_TUNABLES"))
		setenv("GLIBC_TUNABLES",
		       "glibc.malloc.mxfast=0:glibc.malloc.trim_threshold=268435456:"
		       "glibc.malloc.top_pad=16777216", 1);
	setenv("CDK_CONTEXT_JSON", ctx, 1);
	if (r->app) {
		char *sh[] = {"/bin/sh", "-c", (char *)r->app, NULL};
		return run(sh, NULL, NULL);
	}
	char *av[] = {"./.synth/backend", NULL};
	return run(av, NULL, NULL);
}

/* Judges the run (wait status WS) and swaps STAGING in for R->out when
 * it succeeded, wrote an assembly and passed the check. */
static int swap_assembly(const cli_synth_run *r, int ws, const char *staging)
{
	int err = errno;
	const char *what = r->app ? r->app : "backend.c";
	struct stat st;
	char *man = synth_asprintf("%s/manifest.json", staging);
	int rc = EXIT_OK;
	if (ws < 0)
		rc = cli_fail(EXIT_CRASH, "cannot run %s: %s", what, strerror(err));
	else if (WIFSIGNALED(ws))
		rc = cli_fail(EXIT_CRASH, "%s was killed by signal %d (%s); %s kept as it was", what,
			      WTERMSIG(ws), strsignal(WTERMSIG(ws)), r->out);
	else if (WEXITSTATUS(ws) != 0)
		rc = cli_fail(EXIT_SYNTH, "%s exited with status %d; %s kept as it was", what,
			      WEXITSTATUS(ws), r->out);
	else if (!man)
		rc = cli_fail(EXIT_IO, "out of memory");
	else if (stat(man, &st) < 0)
		rc = cli_fail(EXIT_CRASH, "%s exited successfully but wrote no assembly "
					  "(no manifest.json in CDK_OUTDIR)", what);
	else if (!r->no_validate && validate(staging) > 0)
		rc = cli_fail(EXIT_SYNTH, "the templates do not match the CloudFormation "
					  "specification (above); %s kept as it was (--no-validate "
					  "skips this check)", r->out);
	else if (synth__replace_dir(staging, r->out) < 0)
		rc = cli_fail(EXIT_IO, "%s", synth_error_last()->message);
	free(man);
	return rc;
}

/* After a failure: the staging directory goes, and so does the one a
 * backend killed mid-synthesis leaves beside it (<CDK_OUTDIR>.tmp.<pid>). */
static void remove_staging(const char *staging)
{
	synth__rm_rf(staging);
	char *pat = synth_asprintf("%s.tmp.*", staging);
	glob_t g;
	if (pat && glob(pat, 0, NULL, &g) == 0) {
		for (size_t k = 0; k < g.gl_pathc; k++)
			synth__rm_rf(g.gl_pathv[k]);
		globfree(&g);
	}
	free(pat);
}

int cli_synthesize(cli_synth_run *r)
{
	double t0 = now_ms();
	int rc = EXIT_OK;
	if (!r->app) {
		struct stat st;
		if (stat("backend.c", &st) < 0) {
			char cwd[PATH_MAX];
			return cli_fail(EXIT_USAGE,
					"no backend.c in %s (run synth in a backend's directory, "
					"or use --app CMD)", getcwd(cwd, sizeof cwd) ? cwd : ".");
		}
		if ((rc = compile_backend(r)) != 0)
			return rc;
	}
	double t1 = now_ms();
	/* Stage: the program writes into a fresh directory, swapped in only on
	 * success. */
	char *staging = synth_asprintf("%s.stage.%ld", r->out, (long)getpid());
	char *ctx = synth_json_dumps(r->context, JSON_COMPACT | JSON_SORT_KEYS);
	if (!staging || !ctx) {
		free(staging);
		free(ctx);
		return cli_fail(EXIT_IO, "out of memory");
	}
	int ws = run_backend(r, staging, ctx);
	free(ctx);
	r->build_ms = t1 - t0;
	r->synth_ms = now_ms() - t1;
	rc = swap_assembly(r, ws, staging);
	if (rc != EXIT_OK)
		remove_staging(staging);
	free(staging);
	return rc;
}
