/*
 * Allocation failure at every step (after jansson's test_chaos and curl's
 * torture tests): for N = 1, 2, ..., the Nth allocation fails; synth must
 * return an error (never crash) and free everything it allocated.
 * Not built into the sanitizer run: ASan owns malloc there.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include "check.h"
#include "helpers.h"

#if defined(__SANITIZE_ADDRESS__)
int main(void) { return 0; }
#else
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static long fail_at = -1; /* the allocation number that fails; -1: none */
static long count;        /* allocations so far */
static long live;         /* allocated and not freed */
static int tracking;

/* CHAOS_TRACE=N: remember who allocated what during run N. */
#define TRACE_MAX 200000
static long trace_run = -1, cur_run = -2;
static void *trace_ptr[TRACE_MAX], *trace_site[TRACE_MAX][4];
static long ntrace;
static void trace_add(void *p, void *site)
{
	if (cur_run == trace_run && ntrace < TRACE_MAX) {
		void *bt[6];
		int n = backtrace(bt, 6);
		(void)site;
		trace_ptr[ntrace] = p;
		for (int k = 0; k < 4; k++)
			trace_site[ntrace][k] = k + 2 < n ? bt[k + 2] : NULL;
		ntrace++;
	}
}
static void trace_del(void *p)
{
	if (cur_run != trace_run)
		return;
	for (long i = ntrace - 1; i >= 0; i--)
		if (trace_ptr[i] == p) {
			trace_ptr[i] = NULL;
			return;
		}
}

static int should_fail(void)
{
	if (!tracking)
		return 0;
	/* Atomic: the asset pool allocates on its own threads while the
	 * constructs generate on this one. */
	return __atomic_add_fetch(&count, 1, __ATOMIC_RELAXED) == fail_at;
}

void *malloc(size_t n)
{
	if (should_fail())
		return NULL;
	void *p = __libc_malloc(n);
	if (p && tracking) {
		__atomic_add_fetch(&live, 1, __ATOMIC_RELAXED);
		trace_add(p, __builtin_return_address(0));
	}
	return p;
}

void *calloc(size_t a, size_t b)
{
	if (should_fail())
		return NULL;
	void *p = __libc_calloc(a, b);
	if (p && tracking) {
		__atomic_add_fetch(&live, 1, __ATOMIC_RELAXED);
		trace_add(p, __builtin_return_address(0));
	}
	return p;
}

void *realloc(void *old, size_t n)
{
	if (should_fail())
		return NULL;
	void *p = __libc_realloc(old, n);
	if (p && tracking) {
		if (!old)
			__atomic_add_fetch(&live, 1, __ATOMIC_RELAXED);
		else
			trace_del(old);
		trace_add(p, __builtin_return_address(0));
	}
	return p;
}

void free(void *p)
{
	if (p && tracking) {
		__atomic_sub_fetch(&live, 1, __ATOMIC_RELAXED);
		trace_del(p);
	}
	__libc_free(p);
}

/* Known caches in the libraries below us, not leaks of ours: glibc's time
 * zone cache (tzset re-reads TZ after an allocation inside it failed, a
 * churn of one string), and libzip's zip_close(), which keeps a buffer when
 * an allocation inside it fails (libzip 1.7.3). */
static int foreign(int k_count, void *const *frames)
{
	for (int k = 0; k < k_count && frames[k]; k++) {
		Dl_info di;
		if (dladdr(frames[k], &di) && di.dli_sname &&
		    (!strcmp(di.dli_sname, "tzset") || !strcmp(di.dli_sname, "zip_close")))
			return 1;
	}
	return 0;
}

/* One synth of a small backend; returns its result. */
static int synth_once(void)
{
	synth_backend *b = new_backend();
	if (!b)
		return SYNTH_ENOMEM;
	synth_function *f = synth_define_function(b, "fn", &(synth_function_props){
		.schedule = "every day",
		.environment = (const synth_env[]){{.name = "AA", .value = "1"},
						   {.name = "SS", .secret = "S"}, {0}}});
	synth_define_function(b, "other", &(synth_function_props){.entry = "functions/fn"});
	const char *acts[] = {"sns:Publish", NULL};
	if (f)
		synth_function_grant(f, acts, synth_ref("topic"));
	synth_backend_add_resource(b, "topic", "AWS::SNS::Topic",
				   json_pack("{s:o}", "DisplayName", synth_sub("${AWS::StackName}", NULL)));
	synth_backend_add_parameter(b, "Stage", "String", "dev", NULL);
	synth_backend_add_output(b, "custom", "topicArn", synth_ref("topic"), NULL, NULL);
	synth_backend_add_override(b, "fn/Resource", "Properties.MemorySize", json_integer(256));
	int rc = synth_backend_run(b);
	synth_backend_free(b);
	return rc;
}

int main(void)
{
	void *warm[4];
	backtrace(warm, 4); /* loads what backtrace() needs before tracking */
	char *d = tmp_cwd();
	write_text("functions/fn/index.mjs", "export const handler = async () => 1;\n");
	/* Warm up: one-time initialisation inside libraries is not a leak. */
	CHECK(synth_once() == 0, "a clean run succeeds (%s)", synth_error_last()->message);
	tracking = 1;
	count = 0;
	live = 0;
	CHECK(synth_once() == 0 && live == 0, "a tracked clean run frees everything (live %ld)", live);
	long total = count;
	CHECK(total > 100, "the run allocates (%ld allocations)", total);
	long failed_runs = 0, leaks = 0, wrong = 0, first_leak = -1;
	for (long n = 1; n <= total; n++) {
		count = 0;
		live = 0;
		fail_at = n;
		cur_run = n;
		int rc = synth_once();
		cur_run = -2;
		fail_at = -1;
		/* Failing an allocation may be absorbed (a library retrying, a
		 * cache): success is fine, but never a leak. */
		failed_runs += rc != 0;
		if (rc != 0 && rc != SYNTH_ENOMEM && rc != SYNTH_EIO && rc != SYNTH_ERROR) {
			wrong++;
			if (getenv("CHAOS_DEBUG"))
				printf("# n=%ld rc=%d %s\n", n, rc, synth_error_last()->message);
		}
		if (live > 0) {
			/* Run it again, remembering who allocated what. */
			synth__rm_rf("out");
			trace_run = cur_run = n;
			ntrace = 0;
			count = 0;
			fail_at = n;
			synth_once();
			fail_at = -1;
			cur_run = -2;
			long ours = 0;
			for (long i = 0; i < ntrace; i++)
				if (trace_ptr[i] && !foreign(4, trace_site[i])) {
					ours++;
					for (int k = 0; k < 4 && trace_site[i][k]; k++) {
						Dl_info di;
						void *a = trace_site[i][k];
						if (dladdr(a, &di) && di.dli_fname)
							printf("#   leaked from %s %s+%#lx\n", di.dli_fname,
							       di.dli_sname ? di.dli_sname : "?",
							       (unsigned long)((char *)a - (char *)(di.dli_sname ? di.dli_saddr : di.dli_fbase)));
					}
				}
			live = ours;
		}
		if (live > 0) {
			printf("# n=%ld leaked %ld (rc=%d %s)\n", n, live, rc,
			       synth_error_last()->message);
			leaks++;
			if (first_leak < 0)
				first_leak = n;
		}
		synth__rm_rf("out");
	}
	tracking = 0;
	/* Reaching this line means no run crashed. */
	CHECK(failed_runs > total / 2, "injected failures are reported: %ld of %ld runs failed cleanly",
	      failed_runs, total);
	CHECK(leaks == 0, "no leak with any allocation failing (%ld leaking runs, first at %ld)", leaks,
	      first_leak);
	CHECK(wrong == 0, "failures report out of memory or I/O (%ld others)", wrong);
	rm_tmp(d);
	return check_failed ? 1 : 0;
}
#endif
