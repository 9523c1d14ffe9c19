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
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
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

/* Appends the words of S split as the shell splits a plain word list
 * (blanks separate, '...' and "..." quote, a backslash escapes), with
 * nothing expanded: CC="ccache gcc", CFLAGS='-DNAME="a b"'. -1 when out of
 * memory, -2 on an unbalanced quote. */
static int words_split(words *w, const char *s)
{
	synth_buf b = SYNTH_BUF_INIT;
	int rc = 0;
	bool in = false;
	char q = 0;
	for (const char *p = s; rc == 0; p++) {
		char c = *p;
		if (!c || (!q && strchr(" \t\n", c))) {
			if (in)
				rc = words_add(w, b.ptr ? b.ptr : "");
			b.len = 0;
			if (b.ptr)
				b.ptr[0] = '\0';
			in = false;
			if (!c)
				break;
			continue;
		}
		in = true;
		if (q && c == q)
			q = 0;
		else if (q == '\'' || (q == '"' && !(c == '\\' && p[1] && strchr("\"\\$`", p[1]))))
			synth_buf_put(&b, &c, 1);
		else if (!q && (c == '\'' || c == '"'))
			q = c;
		else if (c == '\\' && p[1])
			synth_buf_put(&b, ++p, 1);
		else
			synth_buf_put(&b, &c, 1);
		if (b.oom)
			rc = -1;
	}
	synth_buf_free(&b);
	return rc == 0 && q ? -2 : rc;
}

static void words_free(words *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i]);
	free(w->v);
	*w = (words){0};
}

static char *exe_path(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}

static char *exe_dir(void)
{
	char *p = exe_path();
	char *slash = p ? strrchr(p, '/') : NULL;
	if (slash)
		*slash = '\0';
	return p;
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
	char *argv[] = {"pkg-config", "--cflags", "--libs", "libsynth", NULL};
	char *envp_path = synth_asprintf("PKG_CONFIG_PATH=%s", path);
	free(path);
	if (!envp_path)
		return NULL;
	/* Only pkg-config sees the longer path: the backend inherits the
	 * user's environment as it was. */
	words env = {0};
	int rc = words_add(&env, envp_path);
	for (char **e = environ; rc == 0 && *e; e++)
		if (strncmp(*e, "PKG_CONFIG_PATH=", 16))
			rc = words_add(&env, *e);
	free(envp_path);
	synth_buf out = SYNTH_BUF_INIT;
	int st = rc == 0 ? run(argv, env.v, &out) : -1;
	words_free(&env);
	if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		synth_buf_free(&out);
		return NULL;
	}
	return synth_buf_detach(&out);
}

/*
 * The build cache. .synth/backend.stamp records what the last build used:
 *
 *   synth-build 2
 *   env NAME=...   what is known without running anything, one per line
 *                  (not hashed: the first SHA-256 of a process costs
 *                  OpenSSL's initialisation): $CC, $CFLAGS, $CPPFLAGS,
 *                  $LDFLAGS, $LDLIBS, the pkg-config variables, this synth
 *                  binary's and the compiler's identity, the sources
 *   cmd HEX        SHA-256 of the compile and link commands (with
 *                  pkg-config's flags) and libsynth.so's identity
 *   lib ID PATH    libsynth.so
 *   bin ID         .synth/backend
 *   time NS        when the files below were looked at
 *   dep ID HEX PATH  every file the compiler read, with its SHA-256
 *
 * where ID is "size mtime_ns ctime_ns inode". A warm synth takes the fast
 * path, like make or ccache's direct mode: same env, and every file stats
 * as recorded. Then neither pkg-config runs nor is anything hashed. A file
 * whose times are within RACY_NS of the stamp's time is never trusted on
 * its stat alone ("racy git": an edit in the same timestamp tick as the
 * stat keeps the mtime), nor is anything on a mismatch: the full check
 * then runs pkg-config and compares the hashes, and rewrites the stamp
 * when nothing changed.
 */
#define STAMP_MAGIC "synth-build 2"
/* An mtime this close to the stamp's time is not trusted: covers file
 * systems with whole-second (and FAT's two-second) times. A ctime is
 * checked only against the clock tick (an edit with the mtime put back,
 * touch -r, in the tick of the stat): `touch -d` on old files must not
 * make every synth of the next two seconds a full one. */
#define RACY_NS 2000000000LL
#define RACY_CTIME_NS 100000000LL

typedef struct file_id {
	long long size, mtime, ctime, ino;
} file_id;

static int file_id_of(const char *path, file_id *id)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return -1;
	*id = (file_id){(long long)st.st_size,
			st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec,
			st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec, (long long)st.st_ino};
	return 0;
}

static bool file_id_eq(const file_id *a, const file_id *b)
{
	return a->size == b->size && a->mtime == b->mtime && a->ctime == b->ctime &&
	       a->ino == b->ino;
}

/* The file system's clock: file times come from the coarse clock. */
static long long fs_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Appends "NAME path size mtime inode" for the program NAME runs (found on
 * $PATH unless it has a '/'), so an upgraded compiler or synth rebuilds. */
static void put_program_id(synth_buf *b, const char *what, const char *name)
{
	char *found = NULL;
	if (strchr(name, '/'))
		found = strdup(name);
	else {
		const char *path = getenv("PATH");
		for (const char *p = path ? path : "/usr/bin:/bin"; *p && !found;) {
			size_t n = strcspn(p, ":");
			char *c = synth_asprintf("%.*s/%s", (int)n, n ? p : ".", name);
			if (c && access(c, X_OK) == 0)
				found = c;
			else
				free(c);
			p += n + (p[n] == ':');
		}
	}
	file_id id = {0};
	if (found)
		file_id_of(found, &id);
	synth_buf_printf(b, "env %s=%s %lld %lld %lld\n", what, found ? found : name, id.size,
			 id.mtime, id.ino);
	free(found);
}

/* What a build depends on besides files and pkg-config. */
typedef struct build {
	words cc;      /* $CC, split */
	words cflags;  /* $CPPFLAGS then $CFLAGS */
	words ldflags; /* $LDFLAGS */
	words ldlibs;  /* $LDLIBS */
	words srcs;    /* backend.c and the folder convention's DIR/resource.c */
	char *env;     /* the stamp's "env ..." lines */
} build;

static void build_free(build *b)
{
	words_free(&b->cc);
	words_free(&b->cflags);
	words_free(&b->ldflags);
	words_free(&b->ldlibs);
	words_free(&b->srcs);
	free(b->env);
}

/* Appends "env NAME=VALUE\n", VALUE's newlines and backslashes escaped. */
static void put_env(synth_buf *key, const char *name, const char *value)
{
	synth_buf_printf(key, "env %s=", name);
	for (const char *p = value ? value : ""; *p; p++)
		if (*p == '\n' || *p == '\\')
			synth_buf_puts(key, *p == '\n' ? "\\n" : "\\\\");
		else
			synth_buf_putc(key, *p);
	synth_buf_putc(key, '\n');
}

/* The compiler flags from the environment, as make's implicit rules use
 * them: $CPPFLAGS and $CFLAGS on each compile, $CFLAGS and $LDFLAGS on the
 * link, $LDLIBS after the libraries. */
static const char *const build_vars[] = {"CC", "CPPFLAGS", "CFLAGS", "LDFLAGS", "LDLIBS"};

static int build_init(build *b)
{
	*b = (build){0};
	synth_buf key = SYNTH_BUF_INIT;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof build_vars / sizeof *build_vars; i++) {
		const char *v = getenv(build_vars[i]);
		if (i == 0 && (!v || !*v))
			v = "cc";
		words *w = i == 0 ? &b->cc : i < 3 ? &b->cflags : i == 3 ? &b->ldflags : &b->ldlibs;
		rc = words_split(w, v ? v : "");
		if (rc == -2)
			rc = cli_fail(EXIT_USAGE, "$%s has an unbalanced quote: %s", build_vars[i], v);
		else if (rc < 0)
			rc = cli_fail(EXIT_IO, "out of memory");
		put_env(&key, build_vars[i], v);
	}
	if (rc == 0 && b->cc.n == 0)
		rc = cli_fail(EXIT_USAGE, "$CC names no compiler");
	/* What pkg-config answers depends on these. */
	static const char *const pc[] = {"PKG_CONFIG_PATH", "PKG_CONFIG_LIBDIR",
					 "PKG_CONFIG_SYSROOT_DIR"};
	for (size_t i = 0; i < sizeof pc / sizeof *pc; i++) {
		const char *v = getenv(pc[i]);
		put_env(&key, pc[i], v);
	}
	char *self = exe_path();
	put_program_id(&key, "synth", self ? self : "synth");
	free(self);
	if (rc == 0)
		put_program_id(&key, "compiler", b->cc.v[0]);
	if (rc == 0)
		rc = words_add(&b->srcs, "backend.c");
	/* The folder convention: auth/resource.c, storage/resource.c, ... */
	glob_t g;
	if (rc == 0 && glob("*/resource.c", 0, NULL, &g) == 0) {
		for (size_t i = 0; rc == 0 && i < g.gl_pathc; i++)
			rc = words_add(&b->srcs, g.gl_pathv[i]);
		globfree(&g);
	}
	for (size_t i = 0; rc == 0 && i < b->srcs.n; i++)
		put_env(&key, "src", b->srcs.v[i]);
	if (rc == 0 && key.oom)
		rc = cli_fail(EXIT_IO, "out of memory");
	b->env = rc == 0 ? synth_buf_detach(&key) : NULL;
	synth_buf_free(&key);
	if (rc)
		build_free(b);
	return rc;
}

/* Splits pkg-config's answer: -L, -l, -Wl, and library files for the
 * link, the rest for the compiles (-pthread for both). */
static int split_pkg_flags(const char *flags, words *cflags, words *libs)
{
	words all = {0};
	int rc = words_split(&all, flags);
	for (size_t i = 0; rc == 0 && i < all.n; i++) {
		const char *f = all.v[i];
		size_t fl = strlen(f);
		/* A library named by its file (libsynth.pc lists libsynth.a
		 * and static archives of its dependencies) goes to the link. */
		bool file = f[0] != '-' && ((fl > 2 && !strcmp(f + fl - 2, ".a")) ||
					    (fl > 3 && !strcmp(f + fl - 3, ".so")) ||
					    strstr(f, ".so."));
		bool lib = file || !strncmp(f, "-L", 2) || !strncmp(f, "-l", 2) ||
			   !strncmp(f, "-Wl,", 4);
		if (lib || !strcmp(f, "-pthread"))
			rc = words_add(libs, f);
		if (!lib && rc == 0)
			rc = words_add(cflags, f);
	}
	words_free(&all);
	return rc;
}

static int add_all(words *w, const words *from)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < from->n; i++)
		rc = words_add(w, from->v[i]);
	return rc;
}

/* The command compiling source I into DIR/I.o (with DIR/I.d). */
static int compile_argv(words *argv, const build *b, const words *pkg_cflags, size_t i,
			const char *dir)
{
	static const char *const fixed[] = {"-std=c11", "-O1", "-g", "-Wall"};
	char *d = synth_asprintf("%s/%zu.d", dir, i);
	char *o = synth_asprintf("%s/%zu.o", dir, i);
	int rc = d && o ? add_all(argv, &b->cc) : -1;
	for (size_t k = 0; rc == 0 && k < sizeof fixed / sizeof *fixed; k++)
		rc = words_add(argv, fixed[k]);
	/* The user's flags after ours (a later -O wins) and before
	 * libsynth's (a user's -I is searched first). */
	if (rc == 0)
		rc = add_all(argv, &b->cflags);
	if (rc == 0)
		rc = add_all(argv, pkg_cflags);
	const char *const tail[] = {"-MMD", "-MF", d, "-c", b->srcs.v[i], "-o", o};
	for (size_t k = 0; rc == 0 && k < sizeof tail / sizeof *tail; k++)
		rc = words_add(argv, tail[k]);
	free(d);
	free(o);
	return rc;
}

/* The command linking DIR/0.o ... into OUT. */
static int link_argv(words *argv, const build *b, const words *pkg_cflags,
		     const words *pkg_libs, const char *dir, const char *out)
{
	/* The compile flags on the link too: -fsanitize=..., -flto. */
	int rc = add_all(argv, &b->cc);
	if (rc == 0)
		rc = add_all(argv, &b->cflags);
	if (rc == 0)
		rc = add_all(argv, pkg_cflags);
	if (rc == 0)
		rc = add_all(argv, &b->ldflags);
	const char *const o[] = {"-o", out};
	for (size_t k = 0; rc == 0 && k < 2; k++)
		rc = words_add(argv, o[k]);
	for (size_t i = 0; rc == 0 && i < b->srcs.n; i++) {
		char *obj = synth_asprintf("%s/%zu.o", dir, i);
		rc = obj ? words_add(argv, obj) : -1;
		free(obj);
	}
	if (rc == 0)
		rc = words_add(argv, "-Wl,--as-needed");
	if (rc == 0)
		rc = add_all(argv, pkg_libs);
	if (rc == 0)
		rc = add_all(argv, &b->ldlibs);
	return rc;
}

/* "size mtime ctime inode PATH" of the libsynth.a pkg-config names, else
 * of the libsynth.so in the directory its -L names, or "0 0 0 0 -". */
static void put_lib_id(synth_buf *s, const words *pkg_libs)
{
	/* The static libsynth.a the backend links, when pkg-config names it. */
	for (size_t i = 0; i < pkg_libs->n; i++) {
		const char *w = pkg_libs->v[i];
		size_t wl = strlen(w);
		file_id id;
		if (wl >= 11 && !strcmp(w + wl - 11, "/libsynth.a") && file_id_of(w, &id) == 0) {
			synth_buf_printf(s, "%lld %lld %lld %lld %s", id.size, id.mtime, id.ctime,
					 id.ino, w);
			return;
		}
	}
	for (size_t i = 0; i < pkg_libs->n; i++) {
		if (strncmp(pkg_libs->v[i], "-L", 2))
			continue;
		char *so = synth_asprintf("%s/libsynth.so", pkg_libs->v[i] + 2);
		file_id id;
		if (so && file_id_of(so, &id) == 0) {
			synth_buf_printf(s, "%lld %lld %lld %lld %s", id.size, id.mtime, id.ctime,
					 id.ino, so);
			free(so);
			return;
		}
		free(so);
	}
	synth_buf_puts(s, "0 0 0 0 -");
}

/* The commands of a build into ARGVS (ARGVS[N-1] links), and the hash of
 * what they say (with DIR as ".synth/build") and of the library into
 * CMD_HEX; LIB gets the library's stamp line. */
typedef struct commands {
	words *argv;
	size_t n;
	char hex[65];
	char *lib; /* "lib ..." without the newline */
} commands;

static void commands_free(commands *c)
{
	for (size_t i = 0; c->argv && i < c->n; i++)
		words_free(&c->argv[i]);
	free(c->argv);
	free(c->lib);
	*c = (commands){0};
}

static int commands_make(commands *c, const build *b, const char *flags, const char *dir,
			 const char *out)
{
	*c = (commands){0};
	words pc = {0}, pl = {0}, key_argv = {0};
	synth_buf key = SYNTH_BUF_INIT, lib = SYNTH_BUF_INIT;
	c->n = b->srcs.n + 1;
	c->argv = calloc(c->n, sizeof *c->argv);
	int rc = c->argv ? split_pkg_flags(flags, &pc, &pl) : -1;
	for (size_t i = 0; rc == 0 && i < c->n; i++) {
		rc = i + 1 < c->n ? compile_argv(&c->argv[i], b, &pc, i, dir)
				  : link_argv(&c->argv[i], b, &pc, &pl, dir, out);
		/* The key: the same command with the fixed names. */
		words_free(&key_argv);
		if (rc == 0)
			rc = i + 1 < c->n ? compile_argv(&key_argv, b, &pc, i, ".synth/build")
					  : link_argv(&key_argv, b, &pc, &pl, ".synth/build",
							      ".synth/backend");
		for (size_t k = 0; rc == 0 && k < key_argv.n; k++)
			synth_buf_printf(&key, "%s%c", key_argv.v[k], k + 1 < key_argv.n ? ' ' : '\n');
	}
	synth_buf_puts(&lib, "lib ");
	put_lib_id(&lib, &pl);
	synth_buf_printf(&key, "%s\n", lib.ptr ? lib.ptr : "");
	if (rc == 0 && (key.oom || lib.oom || synth_sha256_hex(key.ptr, key.len, c->hex) < 0))
		rc = -1;
	c->lib = rc == 0 ? synth_buf_detach(&lib) : NULL;
	synth_buf_free(&lib);
	synth_buf_free(&key);
	words_free(&key_argv);
	words_free(&pc);
	words_free(&pl);
	if (rc)
		commands_free(c);
	return rc;
}

/* A stamp, read back. */
typedef struct stamp {
	char *text;
	char *env;        /* the "env ..." lines */
	char cmd[65];
	char *lib_line;   /* "lib ..." in TEXT */
	file_id lib, bin;
	char lib_path[PATH_MAX];
	long long time;
	char **dep_lines; /* into TEXT, "dep ..." lines */
	size_t ndeps;
} stamp;

static void stamp_free(stamp *s)
{
	free(s->text);
	free(s->dep_lines);
	free(s->env);
	*s = (stamp){0};
}

/* Reads .synth/backend.stamp; -1 when missing or not of this format. */
static int stamp_read(stamp *s)
{
	*s = (stamp){0};
	if (synth_file_read(".synth/backend.stamp", &s->text, NULL) < 0)
		return -1;
	size_t cap = 0;
	int seen = 0;
	char *save = NULL;
	synth_buf env = SYNTH_BUF_INIT;
	for (char *l = strtok_r(s->text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (!seen && !strcmp(l, STAMP_MAGIC))
			seen |= 1;
		else if (!strncmp(l, "env ", 4)) {
			synth_buf_printf(&env, "%s\n", l);
			seen |= 2;
		}
		else if (sscanf(l, "cmd %64[0-9a-f]", s->cmd) == 1)
			seen |= 4;
		else if (!strncmp(l, "lib ", 4) &&
			 sscanf(l, "lib %lld %lld %lld %lld %4095s", &s->lib.size, &s->lib.mtime,
				&s->lib.ctime, &s->lib.ino, s->lib_path) == 5) {
			s->lib_line = l;
			seen |= 8;
		} else if (sscanf(l, "bin %lld %lld %lld %lld", &s->bin.size, &s->bin.mtime,
				  &s->bin.ctime, &s->bin.ino) == 4)
			seen |= 16;
		else if (sscanf(l, "time %lld", &s->time) == 1)
			seen |= 32;
		else if (!strncmp(l, "dep ", 4)) {
			size_t len = s->ndeps + 1;
			if (synth_array_grow((void **)&s->dep_lines, &len, &cap,
					     sizeof *s->dep_lines) < 0)
				break;
			s->dep_lines[s->ndeps++] = l;
		}
	}
	s->env = synth_buf_detach(&env);
	synth_buf_free(&env);
	if (seen != 63 || !s->env) {
		stamp_free(s);
		return -1;
	}
	return 0;
}

/* A "dep size mtime ctime inode HEX PATH" line. */
static bool dep_parse(const char *l, file_id *id, char hex[65], const char **path)
{
	int off = 0;
	if (sscanf(l, "dep %lld %lld %lld %lld %64s %n", &id->size, &id->mtime, &id->ctime,
		   &id->ino, hex, &off) != 5 || !off || !l[off])
		return false;
	*path = l + off;
	return true;
}

/* The fast path: same env, and every file (library, binary, each
 * dependency) stats as recorded, none of them racy. */
static bool stamp_fresh_by_stat(const stamp *s, const build *b)
{
	if (strcmp(s->env, b->env))
		return false;
	file_id id;
	if (file_id_of(".synth/backend", &id) < 0 || !file_id_eq(&id, &s->bin))
		return false;
	if (strcmp(s->lib_path, "-") &&
	    (file_id_of(s->lib_path, &id) < 0 || !file_id_eq(&id, &s->lib)))
		return false;
	for (size_t i = 0; i < s->ndeps; i++) {
		file_id rec;
		char hex[65];
		const char *path;
		if (!dep_parse(s->dep_lines[i], &rec, hex, &path) || file_id_of(path, &id) < 0 ||
		    !file_id_eq(&id, &rec) || rec.mtime >= s->time - RACY_NS ||
		    rec.ctime >= s->time - RACY_CTIME_NS)
			return false;
	}
	return s->ndeps > 0;
}

/* The full check: same env and commands, and every dependency has the
 * recorded content. */
static bool stamp_fresh_by_content(const stamp *s, const build *b, const commands *c)
{
	struct stat st;
	if (strcmp(s->env, b->env) || strcmp(s->cmd, c->hex) || strcmp(s->lib_line, c->lib) ||
	    stat(".synth/backend", &st) < 0 || s->ndeps == 0)
		return false;
	for (size_t i = 0; i < s->ndeps; i++) {
		file_id rec;
		char want[65], hex[65];
		const char *path;
		if (!dep_parse(s->dep_lines[i], &rec, want, &path) ||
		    synth__sha256_file(path, hex) < 0 || strcmp(hex, want))
			return false;
	}
	return true;
}

/* Adds the files depfile D names (make syntax: "target: a.c b\ c.h \"
 * ...: a backslash-newline is a blank, "\ " a space in a name) to DEPS,
 * each once. */
static int deps_add_depfile(words *deps, synth_map *seen, const char *d)
{
	char *text = NULL;
	if (synth_file_read(d, &text, NULL) < 0)
		return -1;
	char *p = strchr(text, ':');
	synth_buf w = SYNTH_BUF_INIT;
	int rc = 0;
	for (p = p ? p + 1 : NULL; p && rc == 0; p++) {
		char c = *p;
		if (c == '\\' && (p[1] == ' ' || p[1] == '#')) {
			synth_buf_put(&w, ++p, 1);
			continue;
		}
		if (c && !strchr(" \t\n\\", c)) {
			synth_buf_put(&w, &c, 1);
			continue;
		}
		/* A word ends; "name:" is a phony target from -MP. */
		if (w.len && w.ptr[w.len - 1] != ':' && !synth__map_get(seen, w.ptr))
			rc = w.oom || synth__map_put(seen, w.ptr, seen) < 0 ? -1
									 : words_add(deps, w.ptr);
		w.len = 0;
		if (w.ptr)
			w.ptr[0] = '\0';
		if (!c)
			break;
	}
	synth_buf_free(&w);
	free(text);
	return rc;
}

/* Writes the stamp for DEPS. A file that changed since SINCE (when the
 * compile, or the check that found nothing changed, began), or while it
 * was hashed, may not be what the program was built from: it gets no
 * hash, so the next synth compiles again. (A file dated in the future is
 * never trusted by its stat alone, but its hash is.) */
static int stamp_write(const build *b, const commands *c, const words *deps, long long since)
{
	long long now = fs_now_ns();
	synth_buf s = SYNTH_BUF_INIT;
	file_id id = {0};
	file_id_of(".synth/backend", &id);
	synth_buf_printf(&s, STAMP_MAGIC "\n%scmd %s\n%s\nbin %lld %lld %lld %lld\ntime %lld\n",
			 b->env, c->hex, c->lib, id.size, id.mtime, id.ctime, id.ino, now);
	file_id *ids = calloc(deps->n + 1, sizeof *ids);
	char (*hex)[65] = calloc(deps->n + 1, sizeof *hex);
	int rc = ids && hex ? 0 : -1;
	for (size_t i = 0; rc == 0 && i < deps->n; i++) {
		file_id after;
		if (file_id_of(deps->v[i], &ids[i]) < 0 || synth__sha256_file(deps->v[i], hex[i]) < 0 ||
		    file_id_of(deps->v[i], &after) < 0)
			rc = -1;
		else if (!file_id_eq(&ids[i], &after))
			strcpy(hex[i], "-");
	}
	long long end = fs_now_ns();
	for (size_t i = 0; rc == 0 && i < deps->n; i++) {
		file_id *f = &ids[i];
		if ((f->mtime >= since && f->mtime <= end) || (f->ctime >= since && f->ctime <= end))
			strcpy(hex[i], "-");
		synth_buf_printf(&s, "dep %lld %lld %lld %lld %s %s\n", f->size, f->mtime, f->ctime,
				 f->ino, hex[i], deps->v[i]);
	}
	if (rc == 0)
		rc = s.oom ? -1 : synth__write_file_atomic(".synth/backend.stamp", s.ptr, s.len);
	free(ids);
	free(hex);
	synth_buf_free(&s);
	return rc;
}

/* Compiles each source into a private directory, links, and renames the
 * program into .synth/backend; DEPS gets every file the compiler read. */
static int compile_all(const build *b, const commands *c, const char *dir, const char *out,
		       words *deps)
{
	if (mkdir(dir, 0755) < 0)
		return cli_fail(EXIT_IO, "cannot create %s: %s", dir, strerror(errno));
	synth_map seen = {0};
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < c->n; i++) {
		int ws = run(c->argv[i].v, NULL, NULL);
		if (ws < 0)
			rc = cli_fail(EXIT_COMPILE, "cannot run the C compiler '%s': %s",
				      b->cc.v[0], strerror(errno));
		else if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
			rc = cli_fail(EXIT_COMPILE, "%s did not %s (the compiler's messages are "
						    "above)", i + 1 < c->n ? b->srcs.v[i] : "backend",
				      i + 1 < c->n ? "compile" : "link");
		else if (i + 1 < c->n) {
			char *d = synth_asprintf("%s/%zu.d", dir, i);
			/* The source itself first, whatever the depfile says. */
			if (!d || (!synth__map_get(&seen, b->srcs.v[i]) &&
				   (synth__map_put(&seen, b->srcs.v[i], &seen) < 0 ||
				    words_add(deps, b->srcs.v[i]) < 0)) ||
			    deps_add_depfile(deps, &seen, d) < 0)
				rc = cli_fail(EXIT_IO, "cannot read the dependencies the compiler "
						       "wrote (%s)", d ? d : "out of memory");
			free(d);
		}
	}
	synth__map_free(&seen);
	if (rc == 0 && rename(out, ".synth/backend") < 0)
		rc = cli_fail(EXIT_IO, "cannot rename %s to .synth/backend: %s", out,
			      strerror(errno));
	unlink(out);
	synth__rm_rf(dir);
	return rc;
}

/* Compiles backend.c (and DIR/resource.c) into .synth/backend unless the
 * cache stamp says nothing changed. */
static int compile_backend(const cli_synth_run *r)
{
	if (synth__mkdir_p(".synth") < 0)
		return cli_fail(EXIT_IO, "%s", synth_error_last()->message);
	build b;
	int rc = build_init(&b);
	if (rc)
		return rc;
	stamp s = {0};
	bool have = !r->no_cache && stamp_read(&s) == 0;
	if (have && stamp_fresh_by_stat(&s, &b)) {
		if (r->verbose)
			fprintf(stderr, "synth: backend.c unchanged, not recompiled\n");
		stamp_free(&s);
		build_free(&b);
		return 0;
	}
	char *flags = pkg_config_flags();
	if (!flags) {
		stamp_free(&s);
		build_free(&b);
		return cli_fail(EXIT_COMPILE,
				"pkg-config cannot find libsynth (run `make` or `make install`, "
				"or set PKG_CONFIG_PATH)");
	}
	/* Private names: a concurrent run (without the lock: another
	 * directory's --out, a file system without flock) uses its own. */
	char *dir = synth_asprintf(".synth/build.%ld", (long)getpid());
	char *out = synth_asprintf(".synth/backend.tmp.%ld", (long)getpid());
	commands c;
	long long since = 0;
	if (!dir || !out || commands_make(&c, &b, flags, dir, out) < 0) {
		rc = cli_fail(EXIT_IO, "out of memory");
	} else if ((since = fs_now_ns()) && have && stamp_fresh_by_content(&s, &b, &c)) {
		if (r->verbose)
			fprintf(stderr, "synth: backend.c unchanged, not recompiled\n");
		/* Fresh stats, so that the next synth takes the fast path. */
		words deps = {0};
		for (size_t i = 0; i < s.ndeps; i++) {
			file_id id;
			char hex[65];
			const char *path;
			if (dep_parse(s.dep_lines[i], &id, hex, &path))
				words_add(&deps, path);
		}
		stamp_write(&b, &c, &deps, since);
		words_free(&deps);
		commands_free(&c);
	} else {
		if (r->verbose)
			fprintf(stderr, "synth: compiling backend.c\n");
		unlink(".synth/backend.stamp");
		words deps = {0};
		since = fs_now_ns();
		rc = compile_all(&b, &c, dir, out, &deps);
		if (rc == 0)
			stamp_write(&b, &c, &deps, since);
		words_free(&deps);
		commands_free(&c);
	}
	free(dir);
	free(out);
	free(flags);
	stamp_free(&s);
	build_free(&b);
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

/* Checks every template of the assembly in DIR; returns the problems, or
 * -1 when there is no specification to check against (nothing read). */
static int validate(const char *dir)
{
	char *path = spec_path();
	cli_spec *spec = path ? cli_spec_load(path) : NULL;
	if (!spec) {
		fprintf(stderr, "synth: warning: no CloudFormation specification found%s%s; "
				"templates not checked\n", path ? " at " : "", path ? path : "");
		free(path);
		return -1;
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

/* Why FILE (relative to the assembly DIR) cannot be what WHAT names, or
 * NULL. With DOC, FILE must hold a JSON object, returned in *DOC (the
 * caller's); with OBJECT, it must at least start like one (a template: the
 * specification check parses it). */
static char *file_problem(const char *dir, const char *file, const char *what, json_t **doc,
			  bool object)
{
	if (!file)
		return synth_asprintf("%s names no file", what);
	char *p = file[0] == '/' ? strdup(file) : synth_asprintf("%s/%s", dir, file);
	struct stat st;
	char *why = NULL;
	if (!p)
		why = strdup("out of memory");
	else if (stat(p, &st) < 0)
		why = synth_asprintf("%s names %s, which is not in the assembly", what, file);
	else if (doc) {
		/* Read whole: json_load_file reads a byte at a time. */
		char *text = NULL;
		size_t len = 0;
		json_error_t je;
		*doc = synth_file_read(p, &text, &len) == 0 ? json_loadb(text, len, 0, &je) : NULL;
		free(text);
		if (!*doc)
			why = text ? synth_asprintf("%s is not JSON (line %d: %s)", file, je.line,
						    je.text)
				   : synth_asprintf("cannot read %s", file);
		else if (!json_is_object(*doc))
			why = synth_asprintf("%s is not a JSON object", file);
		if (why) {
			json_decref(*doc);
			*doc = NULL;
		}
	} else if (object) {
		char head[256];
		FILE *f = fopen(p, "rb");
		size_t n = f ? fread(head, 1, sizeof head, f) : 0, i = 0;
		if (f)
			fclose(f);
		while (i < n && strchr(" \t\r\n", head[i]))
			i++;
		if (i == n || head[i] != '{')
			why = synth_asprintf("%s is not a JSON object", file);
	}
	free(p);
	return why;
}

/* Why the asset manifest F (artifact WHAT) is broken: not JSON, or a file
 * asset it names is missing. */
static char *asset_manifest_problem(const char *dir, const char *f, const char *what)
{
	json_t *am = NULL;
	char *why = file_problem(dir, f, what, &am, true);
	const char *h;
	json_t *asset;
	json_object_foreach(json_object_get(am, "files"), h, asset) {
		if (why)
			break;
		char *aw = synth_asprintf("%s: file asset %s", f, h);
		why = file_problem(dir,
				   json_string_value(json_object_get(json_object_get(asset, "source"),
								     "path")),
				   aw ? aw : f, NULL, false);
		free(aw);
	}
	json_decref(am);
	return why;
}

/* Why the assembly in DIR is broken or incomplete, or NULL (caller
 * frees): manifest.json must be a cloud assembly manifest naming at least
 * one stack, and every template, asset manifest and file asset it names
 * must be there, the manifests JSON. The templates are parsed only with
 * PARSE_TEMPLATES (the specification check parses them anyway). */
static char *assembly_problem(const char *dir, bool parse_templates)
{
	char *p = synth_asprintf("%s/manifest.json", dir);
	struct stat st;
	if (!p || stat(p, &st) < 0) {
		free(p);
		return strdup("no manifest.json in CDK_OUTDIR");
	}
	free(p);
	json_t *m = NULL;
	char *why = file_problem(dir, "manifest.json", "CDK_OUTDIR", &m, true);
	if (why)
		return why;
	json_t *arts = json_object_get(m, "artifacts");
	if (!json_is_string(json_object_get(m, "version")) || !json_is_object(arts)) {
		json_decref(m);
		return strdup("manifest.json is not a cloud assembly manifest (it needs a "
			      "\"version\" string and an \"artifacts\" object)");
	}
	size_t stacks = 0;
	const char *name;
	json_t *a;
	json_object_foreach(arts, name, a) {
		const char *type = json_string_value(json_object_get(a, "type"));
		json_t *props = json_object_get(a, "properties");
		char *what = synth_asprintf("manifest.json: artifact %s", name);
		if (!what)
			why = strdup("out of memory");
		else if (!type)
			why = synth_asprintf("%s has no type", what);
		else if (!strcmp(type, "aws:cloudformation:stack")) {
			stacks++;
			const char *t = json_string_value(json_object_get(props, "templateFile"));
			size_t tl = t ? strlen(t) : 0;
			bool checked = tl > 14 && !strcmp(t + tl - 14, ".template.json");
			json_t *doc = NULL;
			why = file_problem(dir, t, what, parse_templates || !checked ? &doc : NULL,
					   true);
			json_decref(doc);
		} else if (!strcmp(type, "cdk:asset-manifest"))
			why = asset_manifest_problem(
				dir, json_string_value(json_object_get(props, "file")), what);
		else if (!strcmp(type, "cdk:tree") && json_object_get(props, "file"))
			why = file_problem(dir, json_string_value(json_object_get(props, "file")),
					   what, NULL, false);
		free(what);
		if (why)
			break;
	}
	json_decref(m);
	if (!why && !stacks)
		why = strdup("manifest.json names no stack");
	return why;
}

/* What assembly_problem() says of what R's program wrote into STAGING.
 * libsynth's backend renames its own staging directory in only once the
 * whole assembly is written (lib/core/backend.c), so from backend.c a
 * manifest.json means a complete assembly, and the check's parse (about
 * half a millisecond of a warm synth) is kept for --app programs. */
static char *written_problem(const cli_synth_run *r, const char *staging)
{
	if (r->app)
		return assembly_problem(staging, r->no_validate);
	char *p = synth_asprintf("%s/manifest.json", staging);
	struct stat st;
	bool ok = p && stat(p, &st) == 0;
	free(p);
	return ok ? NULL : strdup("no manifest.json in CDK_OUTDIR");
}

/* Judges the run (wait status WS) and swaps STAGING in for R->out when
 * it succeeded, wrote a complete assembly and passed the check. */
static int swap_assembly(const cli_synth_run *r, int ws, const char *staging)
{
	int err = errno;
	const char *what = r->app ? r->app : "backend.c";
	char *why = NULL;
	int rc = EXIT_OK, problems;
	if (ws < 0)
		rc = cli_fail(EXIT_CRASH, "cannot run %s: %s", what, strerror(err));
	else if (WIFSIGNALED(ws))
		rc = cli_fail(EXIT_CRASH, "%s was killed by signal %d (%s); %s kept as it was", what,
			      WTERMSIG(ws), strsignal(WTERMSIG(ws)), r->out);
	else if (WEXITSTATUS(ws) != 0)
		rc = cli_fail(EXIT_SYNTH, "%s exited with status %d; %s kept as it was", what,
			      WEXITSTATUS(ws), r->out);
	else if ((why = written_problem(r, staging)))
		rc = cli_fail(EXIT_CRASH, "%s exited successfully but wrote %s assembly: %s; %s "
					  "kept as it was", what,
			      strstr(why, "no manifest.json") ? "no" : "a broken", why, r->out);
	else if ((problems = r->no_validate ? 0 : validate(staging)) != 0 &&
		 (why = assembly_problem(staging, true)))
		/* A template that is not JSON: the program's fault, not the spec's. */
		rc = cli_fail(EXIT_CRASH, "%s exited successfully but wrote a broken assembly: "
					  "%s; %s kept as it was", what, why, r->out);
	else if (problems > 0)
		rc = cli_fail(EXIT_SYNTH, "the templates do not match the CloudFormation "
					  "specification (above); %s kept as it was (--no-validate "
					  "skips this check)", r->out);
	else if (synth__replace_dir(staging, r->out) < 0)
		rc = cli_fail(EXIT_IO, "%s", synth_error_last()->message);
	free(why);
	return rc;
}

/* After a failure: the staging directory goes, and so does the one a
 * backend killed mid-synthesis leaves beside it (<CDK_OUTDIR>.tmp.<pid>). */
static void remove_staging(const char *staging)
{
	synth__rm_rf(staging);
	char *pat = synth_asprintf("%s.tmp.*", staging);
	glob_t g;
	if (pat && glob(pat, GLOB_NOESCAPE, NULL, &g) == 0) {
		for (size_t k = 0; k < g.gl_pathc; k++)
			synth__rm_rf(g.gl_pathv[k]);
		globfree(&g);
	}
	free(pat);
}

/* Whether process PID is gone (not this one, not a live one). */
static bool pid_gone(const char *s, const char **end)
{
	char *e;
	if (*s < '0' || *s > '9')
		return false;
	long pid = strtol(s, &e, 10);
	*end = e;
	return pid > 0 && pid != (long)getpid() && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

/*
 * Removes, in directory DIR, what runs killed before they could clean up
 * left: entries named PREFIX<pid> or PREFIX<pid>.tmp.<pid> whose processes
 * are all gone, owned by this user. When RESTORE names a missing output
 * directory, a PREFIX<pid> directory is renamed back to it instead (the
 * previous assembly, moved aside by a two-rename swap that was killed).
 */
static void clean_stale(const char *dir, const char *prefix, const char *restore)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	size_t pl = strlen(prefix);
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *rest;
		if (strncmp(e->d_name, prefix, pl) || !pid_gone(e->d_name + pl, &rest))
			continue;
		if (*rest && (strncmp(rest, ".tmp.", 5) || !pid_gone(rest + 5, &rest) || *rest))
			continue;
		char *p = synth_asprintf("%s/%s", dir, e->d_name);
		struct stat st;
		if (p && lstat(p, &st) == 0 && st.st_uid == geteuid() &&
		    (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode))) {
			struct stat o;
			if (!(restore && S_ISDIR(st.st_mode) && lstat(restore, &o) < 0 &&
			      errno == ENOENT && rename(p, restore) == 0))
				synth__rm_rf(p);
		}
		free(p);
	}
	closedir(d);
}

/* Cleans what killed runs left beside OUT and in .synth/. */
static void clean_stale_runs(const char *out)
{
	char *copy = strdup(out);
	if (!copy)
		return;
	char *slash = strrchr(copy, '/');
	const char *dir = slash ? (slash == copy ? "/" : copy) : ".";
	const char *base = slash ? slash + 1 : copy;
	if (slash)
		*slash = '\0';
	static const char *const kinds[] = {".old.", ".stage.", ".tmp."};
	for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
		char *prefix = synth_asprintf("%s%s", base, kinds[i]);
		if (prefix)
			clean_stale(dir, prefix, i == 0 ? out : NULL);
		free(prefix);
	}
	free(copy);
	static const char *const mine[] = {"build.", "backend.tmp.", "backend.stamp.tmp."};
	for (size_t i = 0; i < sizeof mine / sizeof *mine; i++)
		clean_stale(".synth", mine[i], NULL);
}

/* PATH with symbolic links and ".." resolved, also when its last part
 * does not exist yet; NULL when its parent does not exist either. */
static char *resolve(const char *path)
{
	char *r = realpath(path, NULL);
	if (r || errno != ENOENT)
		return r;
	char *copy = strdup(path);
	char *slash = copy ? strrchr(copy, '/') : NULL;
	char *parent = NULL;
	if (copy) {
		if (slash)
			*slash = '\0';
		parent = realpath(slash ? (slash == copy ? "/" : copy) : ".", NULL);
	}
	r = parent ? synth_asprintf("%s%s%s", parent, strcmp(parent, "/") ? "/" : "",
				    slash ? slash + 1 : copy)
		   : NULL;
	free(parent);
	free(copy);
	return r;
}

/* Whether directory A is B or one of B's parents. */
static bool is_ancestor(const char *a, const char *b)
{
	size_t n = strlen(a);
	return !strcmp(a, "/") || (!strncmp(a, b, n) && (b[n] == '\0' || b[n] == '/'));
}

/* Refuses, before anything is written, an output directory synth must not
 * replace: /, $HOME, the backend's directory or one above it, a file, a
 * directory that is not an assembly; and one it cannot write. */
static int check_out(const char *out)
{
	char *res = resolve(out);
	char *cwd = realpath(".", NULL);
	const char *h = getenv("HOME");
	char *home = h && *h ? realpath(h, NULL) : NULL;
	int rc = EXIT_OK;
	if (res && !strcmp(res, "/"))
		rc = cli_fail(EXIT_USAGE, "--out %s is the root directory; synth replaces its "
					  "output directory as a whole (use a directory of its own, "
					  "such as cdk.out)", out);
	else if (res && home && !strcmp(res, home))
		rc = cli_fail(EXIT_USAGE, "--out %s is your home directory; synth replaces its "
					  "output directory as a whole (use a directory of its own, "
					  "such as cdk.out)", out);
	else if (res && cwd && is_ancestor(res, cwd))
		rc = cli_fail(EXIT_USAGE, "--out %s is the backend's directory%s; synth replaces "
					  "its output directory as a whole (use a directory of its "
					  "own, such as cdk.out)", out,
			      strcmp(res, cwd) ? " or one above it" : "");
	else if (synth__assembly_replaceable(out) < 0)
		rc = cli_fail(synth_error_last()->code == SYNTH_EIO ? EXIT_IO : EXIT_USAGE, "%s",
			      synth_error_last()->message);
	free(res);
	free(cwd);
	free(home);
	if (rc)
		return rc;
	/* The new assembly is staged beside OUT, and the old one removed. */
	char *parent = strdup(out);
	char *slash = parent ? strrchr(parent, '/') : NULL;
	if (slash)
		slash[slash == parent] = '\0';
	const char *pdir = slash ? parent : ".";
	struct stat st;
	if (!parent)
		rc = cli_fail(EXIT_IO, "out of memory");
	else if (stat(pdir, &st) == 0 && access(pdir, W_OK) < 0)
		rc = cli_fail(EXIT_IO, "cannot write in %s, where %s is staged: %s", pdir, out,
			      strerror(errno));
	else if (stat(out, &st) == 0 && access(out, W_OK) < 0)
		rc = cli_fail(EXIT_IO, "cannot write %s: %s; kept as it was", out, strerror(errno));
	free(parent);
	return rc;
}

/* Serializes the synth runs of one directory (they share .synth/ and
 * usually the output directory): an exclusive flock on .synth/lock, held
 * until the descriptor is closed. -1 when there is no lock to take (a
 * directory one cannot write; with --app, a directory without .synth/):
 * the private names still keep concurrent runs apart. */
static int lock_dir(const cli_synth_run *r)
{
	/* An --app program's directory is the user's: no .synth/ is made
	 * there (the private names suffice); one that exists is used. */
	struct stat st;
	if (r->app ? stat(".synth", &st) < 0 : synth__mkdir_p(".synth") < 0)
		return -1;
	int fd = open(".synth/lock", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	if (errno == EWOULDBLOCK && r->verbose)
		fprintf(stderr, "synth: waiting for another synth in this directory\n");
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	return fd;
}

int cli_synthesize(cli_synth_run *r)
{
	double t0 = now_ms();
	int rc = EXIT_OK;
	struct stat st;
	if (!r->app && stat("backend.c", &st) < 0) {
		char cwd[PATH_MAX];
		return cli_fail(EXIT_USAGE,
				"no backend.c in %s (run synth in a backend's directory, "
				"or use --app CMD)", getcwd(cwd, sizeof cwd) ? cwd : ".");
	}
	if ((rc = check_out(r->out)) != 0)
		return rc;
	int lock = lock_dir(r);
	clean_stale_runs(r->out);
	if (!r->app && (rc = compile_backend(r)) != 0) {
		if (lock >= 0)
			close(lock);
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
		if (lock >= 0)
			close(lock);
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
	if (lock >= 0)
		close(lock);
	return rc;
}
