/*
 * libsynth: common definitions (error codes, last-error detail, version).
 *
 * Conventions used by every libsynth header:
 *  - Everything exported is prefixed `synth_` / `SYNTH_`.
 *  - A function that can fail returns `int`: 0 on success, a negative
 *    SYNTH_E* code on failure. The detail is in synth_error_last().
 *  - "borrowed": the returned pointer is owned by its parent object and
 *    lives as long as that parent. "caller owns": free it with the named
 *    function. "steals": the function takes ownership of the argument
 *    (jansson reference), even when it fails.
 *  - Programming errors (NULL handles where none is allowed) are asserts:
 *    the process aborts with "libsynth: <function>: <argument> is NULL"
 *    on stderr (plus the thread's last error, usually why a synth_define_*
 *    returned NULL), NDEBUG or not. A handle is a pointer to one of
 *    libsynth's opaque types (synth_backend, synth_construct,
 *    synth_resource, synth_function, synth_queue, ...). NULL is allowed
 *    where the header says so: synth_backend_free/_main/_fail, the
 *    iteration arguments of synth_backend_next, the checked casts
 *    synth_construct_state_as and synth_function_from_construct (NULL in,
 *    NULL out), a class or an event source (an error, as for a bad one);
 *    and, for the sticky errors of backend.h, the handle a failed
 *    synth_define_* returned, in the calls that read a token or the
 *    construct of it (they return NULL, or false) or connect it to another
 *    construct (subscribe, route, notify, link, data grant: they return
 *    SYNTH_EINVALID), since that define's error is already recorded.
 */
#ifndef SYNTH_COMMON_H
#define SYNTH_COMMON_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SYNTH_VERSION_MAJOR 0
#define SYNTH_VERSION_MINOR 1
#define SYNTH_VERSION_PATCH 0
#define SYNTH_VERSION "0.1.0"

#if defined(__GNUC__)
#define SYNTH_EXPORT __attribute__((visibility("default")))
#define SYNTH_SENTINEL __attribute__((sentinel))
#define SYNTH_NORETURN __attribute__((noreturn))
#else
#define SYNTH_EXPORT
#define SYNTH_SENTINEL
#define SYNTH_NORETURN
#endif

/* Error codes. Only failures a caller can act on get their own code. */
typedef enum synth_error_code {
	SYNTH_OK = 0,
	SYNTH_ERROR = -1,     /* generic failure */
	SYNTH_EINVALID = -2,  /* bad props or input; the message says which */
	SYNTH_EEXISTS = -3,   /* a name, token or logical ID already taken */
	SYNTH_ENOTFOUND = -4, /* a path, token or file that does not exist */
	SYNTH_ECYCLE = -5,    /* a dependency cycle; the message names each step */
	SYNTH_ELIMIT = -6,    /* a CloudFormation limit that cannot be met */
	SYNTH_EIO = -7,       /* reading or writing files */
	SYNTH_ENOMEM = -8     /* out of memory */
} synth_error_code;

/* The last error raised on the calling thread. */
typedef struct synth_error {
	int code;            /* a synth_error_code, SYNTH_OK if none yet */
	const char *message; /* one line, never NULL; "" when no error */
} synth_error;

/*
 * The calling thread's last error. Never NULL; borrowed, valid until the
 * next libsynth call on the same thread.
 */
SYNTH_EXPORT const synth_error *synth_error_last(void);

/* Clears the calling thread's last error. */
SYNTH_EXPORT void synth_error_clear(void);

/* The library's version string, e.g. "0.1.0". Static storage. */
SYNTH_EXPORT const char *synth_version(void);

#ifdef __cplusplus
}
#endif
#endif
