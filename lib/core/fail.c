/*
 * Sticky errors: the first error of a backend is kept and reported by
 * synth_backend_run(); later ones only set the thread's last error. A
 * leaf of the core, so every other module may fail through it.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "synth/sys/construct.h"

int synth__backend_fail(synth_backend *b)
{
	const synth_error *e = synth_error_last();
	int code = e->code ? e->code : SYNTH_ERROR;
	if (b && !b->error) {
		b->error = strdup(e->message);
		b->error_code = code;
	}
	return code;
}


int synth_backend_failf(synth_backend *b, int code, const char *fmt, ...)
{
	SYNTH_CHECK_HANDLE(b);
	va_list ap;
	va_start(ap, fmt);
	synth_error_setv(code, fmt, ap);
	va_end(ap);
	return synth__backend_fail(b);
}

int synth_construct_failf(synth_construct *c, int code, const char *fmt, ...)
{
	SYNTH_CHECK_HANDLE(c);
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	synth_error_setf(code, "%s: %s", c->name, msg);
	return synth__backend_fail(c->b);
}
