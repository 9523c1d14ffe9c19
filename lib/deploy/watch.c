/*
 * The sandbox's file watcher (Linux inotify) and its single-instance lock.
 *
 * Watches: one inotify watch per directory of each tree (added as new
 * directories appear), and for a path that is a file, a watch on its
 * parent directory that only reports that file (editors replace files by
 * rename, which a watch on the file itself would lose). A queue overflow
 * counts as a change and rescans the trees for directories it missed.
 *
 * The loop: run once; then wait for changes, at most 100 ms per poll so
 * the stop flag is seen; once DEBOUNCE_MS passed since the last change,
 * run again. Changes made while a run is in progress are queued by the
 * kernel and read when it returns: they all count as one change, so they
 * cause exactly one more run.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "../util/util.h"
#include "watch.h"

#define DIR_MASK                                                                          \
	(IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_MOVED_FROM | \
	 IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW |      \
	 IN_EXCL_UNLINK)

/* Trees deeper than this are not followed (a guard against pathological
 * nesting; no source tree comes close). */
#define MAX_DEPTH 64

typedef struct wentry {
	int wd;
	char *path;      /* the directory, as reached from its root */
	size_t rel;      /* offset of the part below the root in PATH (0: none) */
	bool files_only; /* watched for FILES only, not as a tree */
} wentry;

struct synth_watch {
	int fd;
	char **roots;  /* as given */
	char **files;  /* roots that are files: their paths */
	int *file_wd;  /* for each, the watch on its directory (-1: none) */
	char **ignore;
	wentry *w;
	size_t n, cap;
	char *first;   /* the first changed path since the last run */
};

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* Whether REL (a path below a root, '/'-separated) has a component
 * matching an ignore pattern (fnmatch), or starts with an ignore entry
 * that holds a '/' ("build/out"). */
static bool ignored(const synth_watch *w, const char *rel)
{
	if (!w->ignore || !rel || !*rel)
		return false;
	for (char **ig = w->ignore; *ig; ig++) {
		if (strchr(*ig, '/')) {
			size_t l = strlen(*ig);
			while (l > 0 && (*ig)[l - 1] == '/')
				l--;
			if (l && !strncmp(rel, *ig, l) && (rel[l] == '\0' || rel[l] == '/'))
				return true;
			continue;
		}
		const char *p = rel;
		while (*p) {
			size_t l = strcspn(p, "/");
			char comp[NAME_MAX + 1];
			if (l > 0 && l <= NAME_MAX) {
				memcpy(comp, p, l);
				comp[l] = '\0';
				if (fnmatch(*ig, comp, 0) == 0)
					return true;
			}
			p += l;
			while (*p == '/')
				p++;
		}
	}
	return false;
}

static wentry *find_wd(synth_watch *w, int wd)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->w[i].wd == wd)
			return &w->w[i];
	return NULL;
}

/* Adds (or upgrades) the watch on directory PATH. */
static int add_dir_watch(synth_watch *w, const char *path, size_t rel, bool files_only,
			 int *wd_out)
{
	int wd = inotify_add_watch(w->fd, path, DIR_MASK);
	if (wd_out)
		*wd_out = wd;
	if (wd < 0) {
		if (errno == ENOENT || errno == ENOTDIR || errno == EACCES)
			return 0; /* gone already, or not ours to read: nothing to watch */
		if (errno == ENOSPC)
			return synth_error_setf(SYNTH_ELIMIT,
						"watch %s: the inotify watch limit is reached "
						"(raise fs.inotify.max_user_watches, or ignore "
						"more directories)", path);
		return synth_error_setf(SYNTH_EIO, "watch %s: %s", path, strerror(errno));
	}
	wentry *e = find_wd(w, wd);
	if (e) {
		if (!files_only && e->files_only) {
			/* The same directory reached as a tree now: report all. */
			char *p = strdup(path);
			if (!p)
				return synth_error_oom();
			free(e->path);
			e->path = p;
			e->rel = rel;
			e->files_only = false;
		}
		return 0;
	}
	if (synth_array_grow((void **)&w->w, &w->n, &w->cap, sizeof *w->w) < 0)
		return SYNTH_ENOMEM;
	char *p = strdup(path);
	if (!p)
		return synth_error_oom();
	w->w[w->n++] = (wentry){wd, p, rel, files_only};
	return 0;
}

/* Watches directory PATH and every directory below it that is not
 * ignored. Symbolic links are not followed. */
static int add_tree(synth_watch *w, const char *path, size_t rel, int depth)
{
	if (depth > MAX_DEPTH)
		return 0;
	int rc = add_dir_watch(w, path, rel, false, NULL);
	if (rc < 0)
		return rc;
	DIR *d = opendir(path);
	if (!d)
		return 0; /* vanished or unreadable: its watch (if any) is enough */
	struct dirent *de;
	while (rc == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		bool dir = de->d_type == DT_DIR;
		if (de->d_type == DT_UNKNOWN) {
			struct stat st;
			dir = fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			      S_ISDIR(st.st_mode);
		}
		if (!dir)
			continue;
		char *sub = synth_asprintf("%s/%s", path, de->d_name);
		if (!sub) {
			rc = synth_error_oom();
			break;
		}
		size_t r = rel ? rel : strlen(path) + 1;
		if (!ignored(w, sub + r))
			rc = add_tree(w, sub, r, depth + 1);
		free(sub);
	}
	closedir(d);
	return rc;
}

/* Watches every root (again, after an overflow: existing watches are
 * kept, missing ones added). */
static int add_roots(synth_watch *w)
{
	for (size_t i = 0; w->roots[i]; i++) {
		const char *r = w->roots[i];
		struct stat st;
		if (stat(r, &st) < 0)
			return synth_error_setf(SYNTH_ENOTFOUND, "watch %s: %s", r, strerror(errno));
		int rc;
		size_t fi = 0;
		if (S_ISDIR(st.st_mode)) {
			rc = add_tree(w, r, 0, 0);
		} else {
			/* A file: its directory, reporting that file only. */
			char *dir = strdup(r);
			if (!dir)
				return synth_error_oom();
			char *slash = strrchr(dir, '/');
			if (slash == dir)
				dir[1] = '\0';
			else if (slash)
				*slash = '\0';
			else
				strcpy(dir, ".");
			while (w->files[fi] && strcmp(w->files[fi], r))
				fi++;
			rc = add_dir_watch(w, dir, 0, true, &w->file_wd[fi]);
			free(dir);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

int synth_watch_new(synth_watch **out, const char *const *paths, const char *const *ignore)
{
	*out = NULL;
	if (!paths || !paths[0])
		return synth_error_setf(SYNTH_EINVALID, "watch: no path to watch");
	synth_watch *w = calloc(1, sizeof *w);
	if (!w)
		return synth_error_oom();
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	int rc = 0;
	if (w->fd < 0)
		rc = synth_error_setf(errno == EMFILE ? SYNTH_ELIMIT : SYNTH_EIO,
				      "watch: inotify_init1: %s", strerror(errno));
	if (rc == 0 && (synth_strv_dup(&w->roots, paths) < 0 ||
			(ignore && synth_strv_dup(&w->ignore, ignore) < 0)))
		rc = synth_error_oom();
	/* Trailing slashes off ("src/" -> "src"), so joined paths read well. */
	for (size_t i = 0; rc == 0 && w->roots[i]; i++) {
		size_t l = strlen(w->roots[i]);
		if (l == 0)
			rc = synth_error_setf(SYNTH_EINVALID, "watch: an empty path");
		while (l > 1 && w->roots[i][l - 1] == '/')
			w->roots[i][--l] = '\0';
	}
	/* The roots that are files. */
	size_t nf = 0;
	if (rc == 0 && (!(w->files = calloc(synth_strv_len(paths) + 1, sizeof *w->files)) ||
			!(w->file_wd = calloc(synth_strv_len(paths) + 1, sizeof *w->file_wd))))
		rc = synth_error_oom();
	for (size_t i = 0; rc == 0 && w->roots[i]; i++) {
		struct stat st;
		if (stat(w->roots[i], &st) == 0 && !S_ISDIR(st.st_mode) &&
		    !(w->files[nf++] = strdup(w->roots[i])))
			rc = synth_error_oom();
	}
	if (rc == 0)
		rc = add_roots(w);
	if (rc < 0) {
		synth_watch_free(w);
		return rc;
	}
	*out = w;
	return 0;
}

void synth_watch_free(synth_watch *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	for (size_t i = 0; i < w->n; i++)
		free(w->w[i].path);
	free(w->w);
	synth_strv_free(w->roots);
	synth_strv_free(w->files);
	free(w->file_wd);
	synth_strv_free(w->ignore);
	free(w->first);
	free(w);
}

/* Whether NAME in the directory watched by WD is one of the file roots. */
static bool is_watched_file(const synth_watch *w, int wd, const char *name)
{
	for (size_t i = 0; w->files && w->files[i]; i++) {
		const char *base = strrchr(w->files[i], '/');
		base = base ? base + 1 : w->files[i];
		if (w->file_wd[i] == wd && !strcmp(base, name))
			return true;
	}
	return false;
}

static void forget_wd(synth_watch *w, int wd)
{
	for (size_t i = 0; i < w->n; i++) {
		if (w->w[i].wd == wd) {
			free(w->w[i].path);
			w->w[i] = w->w[--w->n];
			return;
		}
	}
}

/* Records PATH as the first change if none is recorded yet. */
static void note_change(synth_watch *w, const char *path)
{
	if (!w->first)
		w->first = strdup(path); /* on failure the message just names nothing */
}

/*
 * Reads every queued event. *CHANGED is set when one of them is a change
 * that counts. Returns 0 or a negative code (a failed read, a failed
 * watch on a new directory).
 */
static int drain(synth_watch *w, bool *changed)
{
	/* Aligned as inotify_event requires. */
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	for (;;) {
		ssize_t n = read(w->fd, buf, sizeof buf);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			return synth_error_setf(SYNTH_EIO, "watch: read: %s", strerror(errno));
		}
		if (n == 0)
			return 0;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			p += sizeof *ev + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				/* Events were lost: count it as a change, and add any
				 * directory that appeared meanwhile. */
				*changed = true;
				note_change(w, w->roots[0]);
				int rc = add_roots(w);
				if (rc < 0)
					return rc;
				continue;
			}
			wentry *e = find_wd(w, ev->wd);
			if (!e)
				continue; /* a watch removed meanwhile */
			if (ev->mask & IN_IGNORED) {
				forget_wd(w, ev->wd);
				continue;
			}
			char *full = ev->len && ev->name[0]
					     ? synth_asprintf("%s/%s", e->path, ev->name)
					     : strdup(e->path);
			if (!full)
				return synth_error_oom();
			bool counts;
			if (e->files_only)
				counts = ev->len && is_watched_file(w, ev->wd, ev->name);
			else
				counts = !(e->rel && ignored(w, full + e->rel)) &&
					 !(ev->len && !e->rel && ignored(w, ev->name));
			if (counts) {
				*changed = true;
				note_change(w, full);
				if ((ev->mask & (IN_CREATE | IN_MOVED_TO)) && (ev->mask & IN_ISDIR)) {
					size_t rel = e->rel ? e->rel : strlen(e->path) + 1;
					int rc = add_tree(w, full, rel, 1);
					if (rc < 0) {
						free(full);
						return rc;
					}
				}
			}
			free(full);
		}
	}
}

int synth_watch_loop(synth_watch *w, int debounce_ms, int (*run)(void *ctx), void *ctx,
		     void (*changed)(void *ctx, const char *path), volatile bool *stop)
{
	if (debounce_ms < 0)
		debounce_ms = 0;
	bool pending = false;
	double last = 0;
	bool dummy = false;
	/* Changes before the first run are part of it. */
	int rc = drain(w, &dummy);
	free(w->first);
	w->first = NULL;
	if (rc < 0)
		return rc;
	if (stop && *stop)
		return 0;
	if ((rc = run(ctx)) < 0)
		return rc;
	for (;;) {
		if (stop && *stop)
			return 0;
		/* Whatever happened during the run (or since the last poll). */
		bool ch = false;
		if ((rc = drain(w, &ch)) < 0)
			return rc;
		double t = now_ms();
		if (ch) {
			pending = true;
			last = t;
		}
		if (pending && t - last >= debounce_ms) {
			if (changed)
				changed(ctx, w->first ? w->first : w->roots[0]);
			free(w->first);
			w->first = NULL;
			pending = false;
			if ((rc = run(ctx)) < 0)
				return rc;
			continue; /* drain what the run saw change, then wait */
		}
		int timeout = 100;
		if (pending) {
			double left = last + debounce_ms - t;
			timeout = left < 0 ? 0 : left > 100 ? 100 : (int)left + 1;
		}
		struct pollfd pfd = {.fd = w->fd, .events = POLLIN};
		if (poll(&pfd, 1, timeout) < 0 && errno != EINTR)
			return synth_error_setf(SYNTH_EIO, "watch: poll: %s", strerror(errno));
	}
}

/* --- the single-instance lock ------------------------------------------- */

int synth_watch_lock(int *fd_out, const char *dir, const char *identifier)
{
	*fd_out = -1;
	if (!identifier || !*identifier || strchr(identifier, '/') || !strcmp(identifier, ".") ||
	    !strcmp(identifier, ".."))
		return synth_error_setf(SYNTH_EINVALID, "lock: '%s' is not a valid identifier",
					identifier ? identifier : "");
	int rc = synth__mkdir_p(dir);
	if (rc < 0)
		return rc;
	char *path = synth_asprintf("%s/%s.lock", dir, identifier);
	if (!path)
		return synth_error_oom();
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		rc = synth_error_setf(SYNTH_EIO, "lock %s: %s", path, strerror(errno));
		free(path);
		return rc;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK) {
			rc = synth_error_setf(SYNTH_EIO, "lock %s: %s", path, strerror(errno));
			break;
		}
		/* Held: name the holder. It writes its pid right after taking
		 * the lock, so an empty file is read again a few times. */
		long pid = 0;
		for (int tries = 0; tries < 20 && pid <= 0; tries++) {
			char b[32] = "";
			ssize_t n = pread(fd, b, sizeof b - 1, 0);
			if (n > 0) {
				b[n] = '\0';
				pid = strtol(b, NULL, 10);
			}
			if (pid <= 0)
				usleep(10000);
		}
		if (pid > 0)
			rc = synth_error_setf(SYNTH_EEXISTS, "'%s' is already running (pid %ld "
							     "holds %s)", identifier, pid, path);
		else
			rc = synth_error_setf(SYNTH_EEXISTS, "'%s' is already running (another "
							     "process holds %s)", identifier, path);
		break;
	}
	if (rc == 0) {
		char b[32];
		int n = snprintf(b, sizeof b, "%ld\n", (long)getpid());
		if (ftruncate(fd, 0) < 0 || pwrite(fd, b, (size_t)n, 0) != n)
			rc = synth_error_setf(SYNTH_EIO, "lock %s: cannot write the pid: %s", path,
					      strerror(errno));
	}
	free(path);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	*fd_out = fd;
	return 0;
}
