/*
 * libsynth for extenders: the small helpers every construct needs (a
 * growable string buffer, formatted strings, errors, checked JSON text).
 * The built-in constructs use these, and so may yours. Not part of the
 * consumer API in <synth.h>: include <synth/sys/construct.h>.
 */
#ifndef SYNTH_SYS_UTIL_H
#define SYNTH_SYS_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "../common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- errors ------------------------------------------------------------ */

/* Sets the calling thread's last error to the formatted message and
 * returns CODE (a negative SYNTH_E* code). Records nothing on a backend:
 * see synth_backend_failf() for that. */
SYNTH_EXPORT int synth_error_setf(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
SYNTH_EXPORT int synth_error_setv(int code, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Out of memory: sets SYNTH_ENOMEM ("out of memory") and returns it. */
SYNTH_EXPORT int synth_error_oom(void);

/* --- programming errors ----------------------------------------------- */

/*
 * A NULL handle where none is allowed (<synth/common.h>): prints
 * "libsynth: FUNC: ARG is NULL" and the thread's last error on stderr, then
 * aborts. Always on, NDEBUG or not: the alternative is a segfault later,
 * far from the cause. Every public function that takes a handle starts with
 * SYNTH_CHECK_HANDLE(arg) for each handle it requires (test_api_edges
 * checks every one the headers declare); a construct of yours may use it
 * too.
 */
SYNTH_EXPORT SYNTH_NORETURN void synth_null_handle(const char *func, const char *arg);
#define SYNTH_CHECK_HANDLE(p) ((p) ? (void)0 : synth_null_handle(__func__, #p))

/* --- a growable string buffer ------------------------------------------ */

/* Its init cannot fail; on allocation failure it frees itself and stays
 * in an error state (oom), so appends can be chained and checked once,
 * at synth_buf_detach(). */
typedef struct synth_buf {
	char *ptr;
	size_t len, cap;
	bool oom;
} synth_buf;

#define SYNTH_BUF_INIT {NULL, 0, 0, false}
SYNTH_EXPORT void synth_buf_put(synth_buf *b, const char *s, size_t n);
SYNTH_EXPORT void synth_buf_puts(synth_buf *b, const char *s);
SYNTH_EXPORT void synth_buf_putc(synth_buf *b, char c);
SYNTH_EXPORT void synth_buf_printf(synth_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The string (caller frees), or NULL if the buffer ran out of memory; the
 * buffer is reset either way. */
SYNTH_EXPORT char *synth_buf_detach(synth_buf *b);
SYNTH_EXPORT void synth_buf_free(synth_buf *b);

/* --- a growable array -------------------------------------------------- */

/*
 * Makes room for one more element in the array *PTR of *LEN elements of
 * SIZE bytes with capacity *CAP (doubling, at least 8). 0, or SYNTH_ENOMEM
 * (error set) with the array untouched. The one growth rule of the library:
 *   if (synth_array_grow((void **)&v, &n, &cap, sizeof *v) < 0) ...
 *   v[n++] = x;
 */
SYNTH_EXPORT int synth_array_grow(void **ptr, const size_t *len, size_t *cap, size_t size);

/* --- strings ----------------------------------------------------------- */

/* Caller frees; NULL when out of memory (error not set). */
SYNTH_EXPORT char *synth_asprintf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
SYNTH_EXPORT char *synth_strdup(const char *s); /* NULL-safe */
/* Names made of letters, digits, '-' and '_' only, 1..MAX characters. */
SYNTH_EXPORT bool synth_name_valid(const char *s, size_t max);
/* Copies a NULL-terminated string array (caller frees with
 * synth_strv_free); NULL in gives NULL out (0). */
SYNTH_EXPORT int synth_strv_dup(char ***out, const char *const *v);
SYNTH_EXPORT void synth_strv_free(char **v);
SYNTH_EXPORT size_t synth_strv_len(const char *const *v);
/* The value of hex digit C (either case), or -1. */
SYNTH_EXPORT int synth_hex_value(int c);
/* Lowercase hex SHA-256 of DATA into HEX (65 bytes); SYNTH_ENOMEM when
 * the crypto library cannot allocate. */
SYNTH_EXPORT int synth_sha256_hex(const void *data, size_t len, char hex[65]);

/* --- JSON and files ---------------------------------------------------- */

/* json_dumps, checked: NULL (SYNTH_ENOMEM set) if any step fails (jansson
 * 2.14's json_dumps can drop an object member when an allocation inside it
 * fails). Caller frees. */
SYNTH_EXPORT char *synth_json_dumps(const json_t *json, size_t flags);
/* The strings of the array LIST joined by SEP ("" for an empty list);
 * non-strings count as empty. Caller frees; NULL when out of memory. */
SYNTH_EXPORT char *synth_json_join(const json_t *list, const char *sep);
/* Reads a whole file; *out (caller frees) is NUL-terminated. */
SYNTH_EXPORT int synth_file_read(const char *path, char **out, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
