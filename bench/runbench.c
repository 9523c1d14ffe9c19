/*
 * runbench: runs a command N times and prints its wall time and peak RSS.
 *
 *   runbench [-n RUNS] [-w WARMUPS] [-C DIR] [-l LABEL] [-p PRE] -- CMD [ARGS...]
 *
 * -p PRE: a shell command run in DIR before each run, not timed (what the
 * caller of CMD does before it, e.g. the CLI emptying a backend's output
 * directory).
 *
 * Each run is fork + execvp + wait4: the wall time is CLOCK_MONOTONIC
 * around the whole child's life (so it includes exec and dynamic loading,
 * as a user sees it) and the peak RSS is the child's ru_maxrss from
 * wait4(). The child's stdout goes to /dev/null; its stderr is kept.
 * Warm-up runs are not counted. Any run that fails stops the benchmark
 * (exit 1), so a broken command never produces a figure.
 *
 * Prints one line of key=value pairs (for bench/run.sh):
 *   label=L runs=N med_ms=.. min_ms=.. max_ms=.. mean_ms=..
 *   rss_med_kb=.. rss_min_kb=.. rss_max_kb=.. all_ms=a,b,c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	double *s = malloc((size_t)n * sizeof *s);
	if (!s)
		exit(2);
	memcpy(s, v, (size_t)n * sizeof *s);
	qsort(s, (size_t)n, sizeof *s, cmp_double);
	double m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	free(s);
	return m;
}

/* Runs `sh -c PRE` in DIR (untimed); 0 when it succeeded. */
static int run_pre(const char *pre, const char *dir)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (dir && chdir(dir) < 0)
			_exit(126);
		execl("/bin/sh", "sh", "-c", pre, (char *)NULL);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "runbench: -p %s failed\n", pre);
		return -1;
	}
	return 0;
}

/* Runs the command once; returns 0 and fills *ms and *rss_kb, or -1. */
static int run_once(char **argv, const char *dir, double *ms, long *rss_kb)
{
	double t0 = now_ms();
	pid_t pid = fork();
	if (pid < 0) {
		perror("runbench: fork");
		return -1;
	}
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			dup2(fd, 1);
			close(fd);
		}
		if (dir && chdir(dir) < 0) {
			fprintf(stderr, "runbench: cd %s: %s\n", dir, strerror(errno));
			_exit(126);
		}
		execvp(argv[0], argv);
		fprintf(stderr, "runbench: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	int st;
	struct rusage ru;
	while (wait4(pid, &st, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("runbench: wait4");
			return -1;
		}
	}
	*ms = now_ms() - t0;
	*rss_kb = ru.ru_maxrss; /* Linux: kilobytes */
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		if (WIFSIGNALED(st))
			fprintf(stderr, "runbench: %s killed by signal %d\n", argv[0],
				WTERMSIG(st));
		else
			fprintf(stderr, "runbench: %s exited with status %d\n", argv[0],
				WEXITSTATUS(st));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int runs = 11, warm = 1;
	const char *dir = NULL, *label = "run", *pre = NULL;
	int opt;
	while ((opt = getopt(argc, argv, "+n:w:C:l:p:")) != -1) {
		switch (opt) {
		case 'n': runs = atoi(optarg); break;
		case 'w': warm = atoi(optarg); break;
		case 'C': dir = optarg; break;
		case 'l': label = optarg; break;
		case 'p': pre = optarg; break;
		default:
			fprintf(stderr, "usage: runbench [-n RUNS] [-w WARMUPS] [-C DIR] "
					"[-l LABEL] [-p PRE] -- CMD [ARGS...]\n");
			return 2;
		}
	}
	if (optind >= argc || runs < 1 || warm < 0) {
		fprintf(stderr, "runbench: no command (or bad -n/-w)\n");
		return 2;
	}
	char **cmd = argv + optind;
	double *ms = calloc((size_t)runs, sizeof *ms);
	double *rss = calloc((size_t)runs, sizeof *rss);
	if (!ms || !rss)
		return 2;
	for (int i = 0; i < warm; i++) {
		double t;
		long r;
		if ((pre && run_pre(pre, dir) < 0) || run_once(cmd, dir, &t, &r) < 0)
			return 1;
	}
	for (int i = 0; i < runs; i++) {
		long r;
		if ((pre && run_pre(pre, dir) < 0) || run_once(cmd, dir, &ms[i], &r) < 0)
			return 1;
		rss[i] = (double)r;
	}
	double mn = ms[0], mx = ms[0], sum = 0, rmn = rss[0], rmx = rss[0];
	for (int i = 0; i < runs; i++) {
		mn = ms[i] < mn ? ms[i] : mn;
		mx = ms[i] > mx ? ms[i] : mx;
		rmn = rss[i] < rmn ? rss[i] : rmn;
		rmx = rss[i] > rmx ? rss[i] : rmx;
		sum += ms[i];
	}
	printf("label=%s runs=%d med_ms=%.3f min_ms=%.3f max_ms=%.3f mean_ms=%.3f "
	       "rss_med_kb=%.0f rss_min_kb=%.0f rss_max_kb=%.0f all_ms=",
	       label, runs, median(ms, runs), mn, mx, sum / runs, median(rss, runs), rmn,
	       rmx);
	for (int i = 0; i < runs; i++)
		printf("%s%.3f", i ? "," : "", ms[i]);
	putchar('\n');
	free(ms);
	free(rss);
	return 0;
}
