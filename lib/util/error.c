/* The thread-local last error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"

#define MSG_MAX 2048

static _Thread_local struct {
	int code;
	char msg[MSG_MAX];
} last;

static _Thread_local synth_error view;

const synth_error *synth_error_last(void)
{
	view.code = last.code;
	view.message = last.msg;
	return &view;
}

void synth_error_clear(void)
{
	last.code = SYNTH_OK;
	last.msg[0] = '\0';
}

int synth_error_setv(int code, const char *fmt, va_list ap)
{
	char tmp[MSG_MAX];
	/* fmt may use the current message as an argument: format first. */
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	memcpy(last.msg, tmp, sizeof tmp);
	last.code = code;
	return code;
}

int synth_error_setf(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	synth_error_setv(code, fmt, ap);
	va_end(ap);
	return code;
}

int synth_error_oom(void)
{
	return synth_error_setf(SYNTH_ENOMEM, "out of memory");
}

const char *synth_version(void)
{
	return SYNTH_VERSION;
}

void synth_null_handle(const char *func, const char *arg)
{
	/* One write, so the line stays whole when threads share stderr. */
	char line[MSG_MAX + 256];
	snprintf(line, sizeof line, "libsynth: %s: %s is NULL (a programming error: %s "
		 "may not be NULL)%s%s\n", func, arg, arg,
		 last.code ? "; the last error, often why a define returned NULL: " : "",
		 last.code ? last.msg : "");
	fputs(line, stderr);
	fflush(stderr);
	abort();
}
