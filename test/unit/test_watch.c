/* The sandbox's file watcher and lock: runs on change after the debounce,
 * bursts coalesced, exactly one more run for changes during a run, new
 * directories followed, ignored paths and file roots, the stop flag, run
 * errors, no fd leaks; the lock against another process and in-process. */
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include "check.h"
#include "helpers.h"
#include "watch.h"

#define DEBOUNCE 100

typedef struct state {
	pthread_mutex_t mu;
	int started, done;
	char changed[512];
	int touch_in_run;    /* the run modifies this many times, once */
	int sleep_in_run_ms; /* how long each run takes */
	int block_run;       /* a run waits while set (up to 60 s): "in progress" for sure */
	int fail_on_run;     /* run N returns -7 */
} state;

static state st = {.mu = PTHREAD_MUTEX_INITIALIZER};
static volatile bool stop;
static synth_watch *W;
static int loop_rc = 12345;

static void msleep(int ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&t, &t) < 0)
		;
}

static void append(const char *path, const char *text)
{
	FILE *f = fopen(path, "a");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static int get(int *p)
{
	pthread_mutex_lock(&st.mu);
	int v = *p;
	pthread_mutex_unlock(&st.mu);
	return v;
}

static int run(void *ctx)
{
	(void)ctx;
	pthread_mutex_lock(&st.mu);
	int n = ++st.started;
	int touch = st.touch_in_run, sl = st.sleep_in_run_ms, fail = st.fail_on_run;
	st.touch_in_run = 0;
	pthread_mutex_unlock(&st.mu);
	for (int i = 0; i < touch; i++) {
		append("src/a.c", "// changed by the run\n");
		msleep(5);
	}
	if (sl)
		msleep(sl);
	for (int i = 0; i < 6000 && get(&st.block_run); i++)
		msleep(10);
	pthread_mutex_lock(&st.mu);
	st.done++;
	pthread_mutex_unlock(&st.mu);
	return n == fail ? -7 : 0;
}

static void changed(void *ctx, const char *path)
{
	(void)ctx;
	pthread_mutex_lock(&st.mu);
	snprintf(st.changed, sizeof st.changed, "%s", path);
	pthread_mutex_unlock(&st.mu);
}

static void *loop_thread(void *arg)
{
	(void)arg;
	loop_rc = synth_watch_loop(W, DEBOUNCE, run, NULL, changed, &stop);
	return NULL;
}

/* Waits until N runs are done (up to 60 s: a loaded machine may be slow to
 * schedule the loop; it returns as soon as they are); returns the count. */
static int wait_done(int n)
{
	for (int i = 0; i < 6000 && get(&st.done) < n; i++)
		msleep(10);
	return get(&st.done);
}

/* Waits long enough for any run that is coming (debounce + margin), then
 * returns the count: for "exactly" checks. */
static int settle(void)
{
	msleep(DEBOUNCE * 6);
	return get(&st.done);
}

static int count_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static void reset_state(void)
{
	pthread_mutex_lock(&st.mu);
	st.started = st.done = 0;
	st.changed[0] = '\0';
	st.touch_in_run = st.sleep_in_run_ms = st.fail_on_run = st.block_run = 0;
	pthread_mutex_unlock(&st.mu);
	stop = false;
}

static void test_loop(void)
{
	write_text("src/a.c", "int a;\n");
	write_text("src/lib/b.c", "int b;\n");
	write_text("node_modules/pkg/index.js", "x\n");
	write_text("cdk.out/manifest.json", "{}\n");
	write_text("src/build/out/x.txt", "x\n");
	const char *paths[] = {".", NULL};
	const char *ign[] = {"node_modules", "cdk.out", "*.swp", "src/build", NULL};
	int fds0 = count_fds();
	CHECK(synth_watch_new(&W, paths, ign) == 0 && W, "watch created");
	reset_state();
	pthread_t th;
	pthread_create(&th, NULL, loop_thread, NULL);

	CHECK(wait_done(1) == 1, "the first run happens at once");
	CHECK(settle() == 1, "no run without a change");

	append("src/a.c", "int x;\n");
	CHECK(wait_done(2) == 2, "a changed file: one more run");
	CHECK(settle() == 2, "exactly one run for it");
	CHECK_HAS(st.changed, "src/a.c", "the changed callback names the file (%s)", st.changed);

	for (int i = 0; i < 20; i++) {
		append("src/lib/b.c", "int y;\n");
		msleep(3);
	}
	CHECK(wait_done(3) == 3, "a burst of 20 changes: a run");
	CHECK(settle() == 3, "one run for the whole burst");

	append("node_modules/pkg/index.js", "y\n");
	write_text("cdk.out/asset.zip", "zip");
	write_text("src/.a.c.swp", "swap");
	append("src/build/out/x.txt", "y\n");
	write_text("src/build/new.txt", "n");
	CHECK(settle() == 3, "changes under ignored paths (a component, a pattern, a "
			     "relative path) run nothing");

	/* A new directory, then a file inside it. */
	mkdir("src/newdir", 0755);
	CHECK(wait_done(4) == 4, "a new directory counts as a change");
	CHECK(settle() == 4, "once");
	write_text("src/newdir/c.c", "int c;\n");
	CHECK(wait_done(5) == 5, "a file in the new directory is seen");
	CHECK_HAS(st.changed, "src/newdir/c.c", "and named (%s)", st.changed);
	CHECK(settle() == 5, "once");
	/* A nested tree created at once, then a change deep inside. */
	synth__mkdir_p("src/n1/n2/n3");
	CHECK(wait_done(6) == 6, "a nested new tree: a run");
	settle();
	int before = get(&st.done);
	write_text("src/n1/n2/n3/d.c", "int d;\n");
	CHECK(wait_done(before + 1) == before + 1, "a file three levels into a new tree is seen");
	CHECK(settle() == before + 1, "once");

	/* The run changes a file itself: exactly one more run. */
	before = get(&st.done);
	pthread_mutex_lock(&st.mu);
	st.touch_in_run = 5;
	st.sleep_in_run_ms = 150;
	pthread_mutex_unlock(&st.mu);
	append("src/a.c", "// trigger\n");
	CHECK(wait_done(before + 2) == before + 2,
	      "a run that changes files is followed by one more run");
	CHECK(settle() == before + 2, "exactly one more (got %d after %d)", get(&st.done),
	      before);

	/* Another thread changes files while a run is in progress (the run is
	 * blocked until they are made, not timed: a loaded machine may be slow
	 * to get there). */
	before = get(&st.done);
	pthread_mutex_lock(&st.mu);
	st.sleep_in_run_ms = 0;
	st.block_run = 1;
	pthread_mutex_unlock(&st.mu);
	append("src/a.c", "// trigger 2\n");
	for (int i = 0; i < 6000 && get(&st.started) <= before; i++)
		msleep(10);
	CHECK(get(&st.done) == before && get(&st.started) == before + 1, "a run is in progress");
	for (int i = 0; i < 10; i++) {
		append("src/lib/b.c", "// during\n");
		msleep(10);
	}
	pthread_mutex_lock(&st.mu);
	st.block_run = 0;
	pthread_mutex_unlock(&st.mu);
	CHECK(wait_done(before + 2) == before + 2,
	      "changes during a run: one more run after it");
	CHECK(settle() == before + 2, "exactly one more for ten changes (got %d after %d)",
	      get(&st.done), before);

	/* Replaced by rename, as editors save. */
	before = get(&st.done);
	write_text("src/a.c.tmp", "int z;\n");
	rename("src/a.c.tmp", "src/a.c");
	CHECK(wait_done(before + 1) == before + 1, "a file replaced by rename: a run");

	/* The stop flag, during the debounce wait. */
	before = settle();
	double t0;
	{
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		t0 = t.tv_sec * 1e3 + t.tv_nsec / 1e6;
	}
	stop = true;
	pthread_join(th, NULL);
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	double took = t.tv_sec * 1e3 + t.tv_nsec / 1e6 - t0;
	CHECK(loop_rc == 0, "the stop flag ends the loop with 0 (%d)", loop_rc);
	CHECK(took < 1000, "within a poll interval (%.0f ms)", took);
	CHECK(get(&st.done) == before, "no run after stop");
	synth_watch_free(W);
	W = NULL;
	CHECK(count_fds() == fds0, "no fd left open after free (%d, was %d)", count_fds(), fds0);
}

static void test_run_error_and_file_root(void)
{
	write_text("backend.c", "int main;\n");
	write_text("other.c", "int o;\n");
	const char *paths[] = {"backend.c", NULL};
	CHECK(synth_watch_new(&W, paths, NULL) == 0, "watch a single file");
	reset_state();
	st.fail_on_run = 2;
	pthread_t th;
	pthread_create(&th, NULL, loop_thread, NULL);
	CHECK(wait_done(1) == 1, "first run");
	append("other.c", "x\n");
	CHECK(settle() == 1, "a sibling of a watched file is not watched");
	append("backend.c", "x\n");
	CHECK(wait_done(2) == 2, "the watched file changed: a run");
	for (int i = 0; i < 6000 && loop_rc == 12345; i++)
		msleep(10);
	stop = true; /* in case the loop did not end */
	pthread_join(th, NULL);
	CHECK(loop_rc == -7, "a run's negative result ends the loop with it (%d)", loop_rc);
	synth_watch_free(W);
	W = NULL;

	const char *none[] = {"does-not-exist", NULL};
	CHECK(synth_watch_new(&W, none, NULL) == SYNTH_ENOTFOUND && !W, "a missing path: ENOTFOUND");
	CHECK_HAS(synth_error_last()->message, "does-not-exist", "named");
	const char *empty[] = {NULL};
	CHECK(synth_watch_new(&W, empty, NULL) == SYNTH_EINVALID, "no path: EINVALID");

	/* Stop before anything: no run at all. */
	const char *paths2[] = {".", NULL};
	CHECK(synth_watch_new(&W, paths2, NULL) == 0, "watch .");
	reset_state();
	stop = true;
	CHECK(synth_watch_loop(W, DEBOUNCE, run, NULL, NULL, &stop) == 0 && st.done == 0,
	      "stop already set: returns 0 without running");
	synth_watch_free(W);
	W = NULL;
}

static void test_lock(void)
{
	int fd = -1;
	CHECK(synth_watch_lock(&fd, "locks/sub", "synth-app-me-sandbox-1234") == 0 && fd >= 0,
	      "lock taken (directory created)");
	char *text = NULL;
	size_t len = 0;
	synth_file_read("locks/sub/synth-app-me-sandbox-1234.lock", &text, &len);
	CHECK(text && atol(text) == (long)getpid(), "the lock file holds our pid (%ld)",
	      text ? atol(text) : 0L);
	free(text);
	int fd2 = -1;
	CHECK(synth_watch_lock(&fd2, "locks/sub", "synth-app-me-sandbox-1234") == SYNTH_EEXISTS &&
		      fd2 == -1, "a second lock, even in this process: EEXISTS");
	char pid[32];
	snprintf(pid, sizeof pid, "pid %ld", (long)getpid());
	CHECK_HAS(synth_error_last()->message, pid, "the message names the holder");
	close(fd);

	/* Held by another process. */
	int up[2], down[2];
	if (pipe(up) < 0 || pipe(down) < 0)
		abort();
	pid_t child = fork();
	if (child == 0) {
		int cfd = -1;
		char c = synth_watch_lock(&cfd, "locks/sub", "synth-app-me-sandbox-1234") == 0
				 ? 'y' : 'n';
		if (write(up[1], &c, 1) != 1)
			_exit(2);
		if (read(down[0], &c, 1) < 0)
			_exit(3);
		_exit(0); /* the lock goes with the process */
	}
	char c = 0;
	CHECK(read(up[0], &c, 1) == 1 && c == 'y', "the child holds the lock");
	CHECK(synth_watch_lock(&fd2, "locks/sub", "synth-app-me-sandbox-1234") == SYNTH_EEXISTS,
	      "held by another process: EEXISTS");
	snprintf(pid, sizeof pid, "pid %ld", (long)child);
	CHECK_HAS(synth_error_last()->message, pid, "naming the child's pid");
	CHECK(synth_watch_lock(&fd2, "locks/sub", "another-id") == 0, "another identifier is "
									 "free");
	close(fd2);
	if (write(down[1], "x", 1) != 1)
		abort();
	int status = 0;
	waitpid(child, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child exited");
	fd2 = -1;
	CHECK(synth_watch_lock(&fd2, "locks/sub", "synth-app-me-sandbox-1234") == 0 && fd2 >= 0,
	      "released when the holder exits");
	close(fd2);
	close(up[0]);
	close(up[1]);
	close(down[0]);
	close(down[1]);
	CHECK(synth_watch_lock(&fd2, "locks", "../escape") == SYNTH_EINVALID, "an identifier with "
										"a slash: EINVALID");
}

int main(void)
{
	char *dir = tmp_cwd();
	test_loop();
	test_run_error_and_file_root();
	test_lock();
	rm_tmp(dir);
	return check_failed ? 1 : 0;
}
