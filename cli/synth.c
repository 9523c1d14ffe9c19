/*
 * synth: the command-line driver.
 *
 *   synth [synth] [options]   build and run ./backend.c (or --app CMD),
 *                             write the cloud assembly, print a summary
 *
 * The backend program is compiled with the system C compiler against
 * libsynth found through pkg-config (libsynth-uninstalled.pc beside this
 * binary when run from the build tree), cached in .synth/ and rebuilt only
 * when a source, a header it includes, the compile command or the library
 * changed. It runs with CDK_OUTDIR pointing at a staging directory and
 * CDK_CONTEXT_JSON holding the context; the staging directory replaces
 * the previous assembly only if the program succeeded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
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

typedef struct opts {
	const char *out;
	const char *app;
	const char *branch;
	const char *sandbox;
	const char *ns;
	bool json, quiet, no_cache, no_validate;
	json_t *context;
} opts;

static void usage(FILE *f)
{
	fputs("usage: synth [synth] [options]\n"
	      "       synth publish [--out DIR] [--profile P] [--region R] [--endpoint-url URL]\n"
	      "       synth bootstrap [--profile P] [--region R] [--endpoint-url URL]\n"
	      "       synth outputs --outputs-file FILE | --branch NAME | --sandbox [ID] [--file PATH]\n"
	      "       synth deploy [--branch NAME] [--outputs PATH] ...   (synth deploy --help)\n"
	      "       synth sandbox [--once] [--identifier ID] | sandbox delete [--yes]\n"
	      "       synth destroy --branch NAME [--yes]\n"
	      "       synth diff [--branch NAME]\n"
	      "       synth secret set|get|list|remove NAME [--branch NAME | --sandbox [ID]]\n"
	      "\n"
	      "Builds ./backend.c against libsynth, runs it, writes the cloud assembly\n"
	      "and prints a summary.\n"
	      "\n"
	      "  --out DIR           assembly directory (default cdk.out)\n"
	      "  --json              print the summary as JSON\n"
	      "  --app CMD           run CMD (through /bin/sh) instead of building backend.c\n"
	      "  --branch NAME       a branch backend named NAME\n"
	      "  --sandbox [ID]      a sandbox backend (default: the OS user name)\n"
	      "  --namespace NS      the app's namespace (default: the directory name)\n"
	      "  -c, --context K=V   extra context for the backend (repeatable)\n"
	      "  --no-cache          rebuild backend.c even if unchanged\n"
	      "  --no-validate       skip the check against the CloudFormation specification\n"
	      "  -q, --quiet         no summary\n"
	      "  -h, --help          this text;  --version  the version\n"
	      "\n"
	      "Exit status: 0 ok, 1 synth error (reported by the backend), 2 usage,\n"
	      "3 backend.c did not compile, 4 the backend crashed or wrote no assembly,\n"
	      "5 I/O error.\n",
	      f);
}

static int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int code, const char *fmt, ...)
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

/* Splits pkg-config output into words (it prints no quoted spaces for
 * our paths). */
static int split_words(const char *s, char ***words, size_t *n)
{
	char *copy = strdup(s), *save = NULL;
	if (!copy)
		return -1;
	for (char *w = strtok_r(copy, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
		char **v = realloc(*words, (*n + 2) * sizeof *v);
		if (!v) {
			free(copy);
			return -1;
		}
		*words = v;
		v[(*n)++] = strdup(w);
		v[*n] = NULL;
	}
	free(copy);
	return 0;
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

static int compile_backend(const opts *o, char **bin_out)
{
	*bin_out = NULL;
	char *flags = pkg_config_flags();
	if (!flags)
		return fail(EXIT_COMPILE,
			    "pkg-config cannot find libsynth (run `make` or `make install`, or "
			    "set PKG_CONFIG_PATH)");
	if (synth__mkdir_p(".synth") < 0) {
		free(flags);
		return fail(EXIT_IO, "%s", synth_error_last()->message);
	}
	const char *cc = getenv("CC");
	if (!cc || !*cc)
		cc = "cc";
	char **argv = NULL;
	size_t n = 0;
	split_words(cc, &argv, &n);
	const char *fixed[] = {"-std=c11", "-O1", "-g", "-Wall", "-MMD", "-MF",
			       ".synth/backend.d", "-o", ".synth/backend.tmp", "backend.c"};
	for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) {
		char **v = realloc(argv, (n + 2) * sizeof *v);
		argv = v;
		argv[n++] = strdup(fixed[i]);
		argv[n] = NULL;
	}
	/* The folder convention: auth/resource.c, storage/resource.c, ... */
	glob_t g;
	if (glob("*/resource.c", 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			char **v = realloc(argv, (n + 2) * sizeof *v);
			argv = v;
			argv[n++] = strdup(g.gl_pathv[i]);
			argv[n] = NULL;
		}
		globfree(&g);
	}
	split_words(flags, &argv, &n);
	split_words("-Wl,--as-needed", &argv, &n);
	synth_buf cmd = SYNTH_BUF_INIT;
	for (size_t i = 0; i < n; i++)
		synth_buf_printf(&cmd, "%s%s", i ? " " : "", argv[i]);
	synth_buf_printf(&cmd, "\n%s", lib_identity(flags));
	char *cmdline = synth_buf_detach(&cmd);
	free(flags);

	int rc = 0;
	char *old = NULL;
	char *stamp = NULL;
	struct stat st;
	if (!o->no_cache && stat(".synth/backend", &st) == 0 &&
	    synth_file_read(".synth/backend.stamp", &old, NULL) == 0 &&
	    (stamp = build_stamp(cmdline, ".synth/backend.d")) && !strcmp(old, stamp)) {
		if (!o->quiet && !o->json)
			fprintf(stderr, "synth: backend.c unchanged, not recompiled\n");
	} else {
		if (!o->quiet && !o->json)
			fprintf(stderr, "synth: compiling backend.c\n");
		int ws = run(argv, NULL, NULL);
		if (ws < 0)
			rc = fail(EXIT_COMPILE, "cannot run the C compiler '%s': %s", cc,
				  strerror(errno));
		else if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
			rc = fail(EXIT_COMPILE, "backend.c did not compile (the compiler's "
						"messages are above)");
		else if (rename(".synth/backend.tmp", ".synth/backend") < 0)
			rc = fail(EXIT_IO, "cannot rename .synth/backend.tmp: %s", strerror(errno));
		free(stamp);
		stamp = rc == 0 ? build_stamp(cmdline, ".synth/backend.d") : NULL;
		if (stamp)
			synth__write_file_atomic(".synth/backend.stamp", stamp, strlen(stamp));
	}
	free(old);
	free(stamp);
	free(cmdline);
	for (size_t i = 0; i < n; i++)
		free(argv[i]);
	free(argv);
	if (rc == 0)
		*bin_out = strdup("./.synth/backend");
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

static char *default_user(void)
{
	const char *u = getenv("USER");
	if (u && *u)
		return strdup(u);
	struct passwd *pw = getpwuid(getuid());
	return strdup(pw ? pw->pw_name : "sandbox");
}

static int synth_main(int argc, char **argv, opts *op)
{
	opts o = *op;
	char *user = NULL;
	int i = 1;
	if (i < argc && !strcmp(argv[i], "synth"))
		i++;
	for (; i < argc; i++) {
		const char *a = argv[i];
		const char *next = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_ARG()                                                                     \
	do {                                                                           \
		if (!next)                                                             \
			return fail(EXIT_USAGE, "%s needs a value (see synth --help)", a); \
		i++;                                                                   \
	} while (0)
		if (!strcmp(a, "-h") || !strcmp(a, "--help") || !strcmp(a, "help")) {
			usage(stdout);
			return EXIT_OK;
		} else if (!strcmp(a, "--version")) {
			printf("synth %s\n", synth_version());
			return EXIT_OK;
		} else if (!strcmp(a, "--out")) {
			NEED_ARG(); /* read (and cleaned) by main() */
			if (!*next)
				return fail(EXIT_USAGE, "--out is empty");
		} else if (!strcmp(a, "--app")) {
			NEED_ARG();
			o.app = next;
		} else if (!strcmp(a, "--branch")) {
			NEED_ARG();
			o.branch = next;
		} else if (!strcmp(a, "--sandbox")) {
			o.sandbox = "";
			if (next && next[0] != '-') {
				o.sandbox = next;
				i++;
			}
		} else if (!strcmp(a, "--namespace")) {
			NEED_ARG();
			o.ns = next;
		} else if (!strcmp(a, "-c") || !strcmp(a, "--context")) {
			NEED_ARG();
			const char *eq = strchr(next, '=');
			if (!eq)
				return fail(EXIT_USAGE, "%s %s: expected KEY=VALUE", a, next);
			char *k = strndup(next, (size_t)(eq - next));
			json_object_set_new(o.context, k, json_string(eq + 1));
			free(k);
		} else if (!strcmp(a, "--json")) {
			o.json = true;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			o.quiet = true;
		} else if (!strcmp(a, "--no-cache")) {
			o.no_cache = true;
		} else if (!strcmp(a, "--no-validate")) {
			o.no_validate = true;
		} else {
			fprintf(stderr, "synth: error: unknown argument '%s'\n", a);
			usage(stderr);
			return EXIT_USAGE;
		}
#undef NEED_ARG
	}
	if (o.branch && o.sandbox)
		return fail(EXIT_USAGE, "--branch and --sandbox exclude each other");
	if (o.branch) {
		if (!*o.branch)
			return fail(EXIT_USAGE, "--branch: the branch name is empty");
		json_object_set_new(o.context, "synth:type", json_string("branch"));
		json_object_set_new(o.context, "synth:name", json_string(o.branch));
	} else {
		json_object_set_new(o.context, "synth:type", json_string("sandbox"));
		user = o.sandbox && *o.sandbox ? strdup(o.sandbox) : default_user();
		json_object_set_new(o.context, "synth:name", json_string(user ? user : ""));
		free(user);
		user = NULL;
	}
	if (o.ns) {
		if (!*o.ns)
			return fail(EXIT_USAGE, "--namespace is empty");
		json_object_set_new(o.context, "synth:namespace", json_string(o.ns));
	}
	/* Refuse a bad identifier before building anything. */
	{
		char cwd[PATH_MAX], *sn = NULL;
		const char *ns = o.ns;
		if (!ns && getcwd(cwd, sizeof cwd))
			ns = strrchr(cwd, '/') ? strrchr(cwd, '/') + 1 : cwd;
		if (synth_stack_name(&sn, ns, json_string_value(json_object_get(o.context, "synth:name")),
				     o.branch ? SYNTH_BACKEND_BRANCH : SYNTH_BACKEND_SANDBOX) < 0)
			return fail(EXIT_USAGE, "%s", synth_error_last()->message);
		free(sn);
	}
	free(user);

	double t0 = now_ms();
	char *bin = NULL;
	int rc = EXIT_OK;
	if (!o.app) {
		struct stat st;
		if (stat("backend.c", &st) < 0) {
			char cwd[PATH_MAX];
			return fail(EXIT_USAGE,
				    "no backend.c in %s (run synth in a backend's directory, or "
				    "use --app CMD)", getcwd(cwd, sizeof cwd) ? cwd : ".");
		}
		if ((rc = compile_backend(&o, &bin)) != 0)
			return rc;
	}
	double t1 = now_ms();

	/* Stage: the program writes into a fresh directory, swapped in only on
	 * success. */
	char *staging = synth_asprintf("%s.stage.%ld", o.out, (long)getpid());
	char *ctx = synth_json_dumps(o.context, JSON_COMPACT | JSON_SORT_KEYS);
	synth__rm_rf(staging);
	setenv("CDK_OUTDIR", staging, 1);
	/* Zips whose inputs did not change are taken from the last assembly. */
	setenv("SYNTH_PREVIOUS_ASSEMBLY", o.out, 1);
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
	free(ctx);
	int ws;
	if (o.app) {
		char *sh[] = {"/bin/sh", "-c", (char *)o.app, NULL};
		ws = run(sh, NULL, NULL);
	} else {
		char *av[] = {bin, NULL};
		ws = run(av, NULL, NULL);
	}
	double t2 = now_ms();
	const char *what = o.app ? o.app : "backend.c";
	struct stat st;
	char *man = synth_asprintf("%s/manifest.json", staging);
	if (ws < 0)
		rc = fail(EXIT_CRASH, "cannot run %s: %s", what, strerror(errno));
	else if (WIFSIGNALED(ws))
		rc = fail(EXIT_CRASH, "%s was killed by signal %d (%s); %s kept as it was", what,
			  WTERMSIG(ws), strsignal(WTERMSIG(ws)), o.out);
	else if (WEXITSTATUS(ws) != 0)
		rc = fail(EXIT_SYNTH, "%s exited with status %d; %s kept as it was", what,
			  WEXITSTATUS(ws), o.out);
	else if (stat(man, &st) < 0)
		rc = fail(EXIT_CRASH, "%s exited successfully but wrote no assembly "
				      "(no manifest.json in CDK_OUTDIR)", what);
	else if (!o.no_validate && validate(staging) > 0)
		rc = fail(EXIT_SYNTH, "the templates do not match the CloudFormation "
				      "specification (above); %s kept as it was (--no-validate "
				      "skips this check)", o.out);
	else if (synth__replace_dir(staging, o.out) < 0)
		rc = fail(EXIT_IO, "%s", synth_error_last()->message);
	free(man);
	if (rc != EXIT_OK) {
		synth__rm_rf(staging);
		/* A backend killed mid-synthesis leaves its own staging directory
		 * (<CDK_OUTDIR>.tmp.<pid>) beside ours. */
		char *pat = synth_asprintf("%s.tmp.*", staging);
		glob_t g;
		if (pat && glob(pat, 0, NULL, &g) == 0) {
			for (size_t k = 0; k < g.gl_pathc; k++)
				synth__rm_rf(g.gl_pathv[k]);
			globfree(&g);
		}
		free(pat);
	}
	free(staging);
	free(bin);
	if (rc != EXIT_OK || o.quiet)
		return rc;

	json_t *sum = cli_summary(o.out);
	if (!sum)
		return EXIT_IO;
	if (o.json) {
		json_dumpf(sum, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	} else {
		printf("synth: %s -> %s (build %.0f ms, synth %.0f ms)\n", what, o.out, t1 - t0,
		       t2 - t1);
		cli_summary_print(sum, stdout);
	}
	json_decref(sum);
	return EXIT_OK;
}

/* Strips trailing slashes ("out/" -> "out"), so staging directories land
 * beside the output directory, not inside it. */
static char *clean_dir(const char *d)
{
	char *c = strdup(d);
	size_t n = c ? strlen(c) : 0;
	while (n > 1 && c[n - 1] == '/')
		c[--n] = '\0';
	return c;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{"publish", cli_publish}, {"bootstrap", cli_bootstrap}, {"outputs", cli_outputs},
		{"deploy", cli_deploy},   {"destroy", cli_destroy},     {"diff", cli_diff},
		{"sandbox", cli_sandbox}, {"secret", cli_secret},
	};
	for (size_t k = 0; argc > 1 && k < sizeof cmds / sizeof cmds[0]; k++)
		if (!strcmp(argv[1], cmds[k].name))
			return cmds[k].fn(argc - 1, argv + 1);
	return cli_synth(argc, argv);
}

int cli_synth(int argc, char **argv)
{
	opts o = {.out = "cdk.out", .context = json_object()};
	char *out = NULL;
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--out"))
			o.out = argv[++i];
	if (!o.context || !(out = clean_dir(o.out))) {
		json_decref(o.context);
		return fail(EXIT_IO, "out of memory");
	}
	o.out = out;
	int rc = synth_main(argc, argv, &o);
	json_decref(o.context);
	free(out);
	return rc;
}
