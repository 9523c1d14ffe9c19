/*
 * Allocation failure injection for the unit tests: malloc, calloc and
 * realloc fail at the FAIL_AT-th call made while TRACKING, and LIVE counts
 * the blocks allocated and not yet freed while tracking, so a test can run
 * an operation once to count its allocations (COUNT), then once per
 * allocation with that one failing, and check each run reports
 * SYNTH_ENOMEM and leaves LIVE at zero.
 *
 * CHAOS is 1 when the overrides are in, 0 under
 * AddressSanitizer, which owns malloc (tests then fail only jansson's
 * allocations through json_set_alloc_funcs and should_fail(), or skip).
 * FAILED_IN_JANSSON tells whether the allocation that failed was
 * jansson's (jansson 2.14 reports some of its failures as other errors).
 * The counters are updated atomically: the asset pool allocates on its own
 * threads while the constructs generate on the calling one.
 * Include it once per test program, after <stdlib.h>.
 */
#ifndef FAILMALLOC_H
#define FAILMALLOC_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <dlfcn.h>

#if defined(__SANITIZE_ADDRESS__)
#define CHAOS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CHAOS 0
#endif
#endif
#ifndef CHAOS
#define CHAOS 1
#endif

static __attribute__((unused)) int tracking;
static __attribute__((unused)) long fail_at = -1, count, live;
static __attribute__((unused)) bool failed_in_jansson;

/* Counts one allocation; true when it is the one to fail (errno ENOMEM,
 * as glibc sets it). CALLER (may be NULL) is the allocating code. */
static __attribute__((unused)) bool failmalloc_fail(void *caller)
{
	if (!tracking || __atomic_add_fetch(&count, 1, __ATOMIC_RELAXED) != fail_at)
		return false;
	Dl_info di;
	failed_in_jansson = caller && dladdr(caller, &di) && di.dli_fname &&
			    strstr(di.dli_fname, "jansson");
	errno = ENOMEM;
	return true;
}

static __attribute__((unused)) int should_fail(void)
{
	return failmalloc_fail(NULL);
}

#if CHAOS
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

void *malloc(size_t n)
{
	if (failmalloc_fail(__builtin_return_address(0)))
		return NULL;
	void *p = __libc_malloc(n);
	__atomic_add_fetch(&live, p && tracking, __ATOMIC_RELAXED);
	return p;
}

void *calloc(size_t a, size_t b)
{
	if (failmalloc_fail(__builtin_return_address(0)))
		return NULL;
	void *p = __libc_calloc(a, b);
	__atomic_add_fetch(&live, p && tracking, __ATOMIC_RELAXED);
	return p;
}

void *realloc(void *old, size_t n)
{
	if (failmalloc_fail(__builtin_return_address(0)))
		return NULL;
	void *p = __libc_realloc(old, n);
	__atomic_add_fetch(&live, p && !old && tracking, __ATOMIC_RELAXED);
	return p;
}

void free(void *p)
{
	__atomic_sub_fetch(&live, p && tracking, __ATOMIC_RELAXED);
	__libc_free(p);
}
#endif

#endif
