/*
 * Lambda's rules (include/synth/lambda.h): the runtime table generated
 * from cfn-lint's data, the states of a runtime by date, and the size
 * Lambda measures for an environment.
 */
#define _GNU_SOURCE
#include <string.h>
#include <time.h>
#include "internal.h"
#include "synth/lambda.h"

static const synth_lambda_runtime runtimes[] = {
#include "lambda_runtimes.inc"
};
#define NRUNTIMES (sizeof runtimes / sizeof *runtimes)

static int cmp_name(const void *key, const void *elem)
{
	return strcmp(key, ((const synth_lambda_runtime *)elem)->name);
}

const synth_lambda_runtime *synth_lambda_runtime_info(const char *name)
{
	return name ? bsearch(name, runtimes, NRUNTIMES, sizeof *runtimes, cmp_name) : NULL;
}

const synth_lambda_runtime *synth_lambda_runtime_at(size_t i)
{
	return i < NRUNTIMES ? &runtimes[i] : NULL;
}

/* Has DAY come on TODAY? (ISO dates compare as strings.) */
static bool reached(const char *day, const char *today)
{
	return day && strcmp(today, day) >= 0;
}

synth_runtime_state synth_lambda_runtime_state(const synth_lambda_runtime *rt,
					       const char *today)
{
	char now[11];
	if (!today) {
		time_t t = time(NULL);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(now, sizeof now, "%Y-%m-%d", &tm);
		today = now;
	}
	/* cfn-lint's order: update block (E2533), create block (E2531),
	 * deprecation (W2531); some old runtimes were blocked before their
	 * deprecation date. */
	return reached(rt->update_block, today)	  ? SYNTH_RUNTIME_UPDATE_BLOCKED
	       : reached(rt->create_block, today) ? SYNTH_RUNTIME_CREATE_BLOCKED
	       : reached(rt->deprecated, today)	  ? SYNTH_RUNTIME_DEPRECATED
						  : SYNTH_RUNTIME_SUPPORTED;
}

int synth_runtime_check(const char *name)
{
	if (!name || !*name)
		return synth_error_setf(SYNTH_EINVALID, "runtime is empty");
	const synth_lambda_runtime *rt = synth_lambda_runtime_info(name);
	if (rt) {
		synth_runtime_state st = synth_lambda_runtime_state(rt, NULL);
		if (st < SYNTH_RUNTIME_CREATE_BLOCKED)
			return 0;
		return synth_error_setf(SYNTH_EINVALID,
					"runtime %s can no longer be created (AWS stopped on "
					"%s)%s%s", name, rt->create_block,
					rt->successor ? "; use " : "",
					rt->successor ? rt->successor : "");
	}
	/* Unknown: list what can be created today, from the table. */
	synth_buf ok = SYNTH_BUF_INIT;
	for (size_t i = 0; i < NRUNTIMES; i++)
		if (synth_lambda_runtime_state(&runtimes[i], NULL) < SYNTH_RUNTIME_CREATE_BLOCKED)
			synth_buf_printf(&ok, "%s%s", ok.len ? ", " : "", runtimes[i].name);
	char *list = synth_buf_detach(&ok);
	int rc = synth_error_setf(SYNTH_EINVALID, "unknown runtime '%s' (Lambda runtimes "
				  "that can be created today: %s)", name, list ? list : "?");
	free(list);
	return rc;
}

/* Bytes of S as a JSON string, quotes included, escaped the way a JSON
 * writer does (", \ and control characters; UTF-8 kept as is). */
static size_t json_string_size(const char *s, size_t n)
{
	size_t size = 2;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\' || ch == '\b' || ch == '\f' || ch == '\n' ||
		    ch == '\r' || ch == '\t')
			size += 2;
		else if (ch < 0x20)
			size += 6; /* \u00XX */
		else
			size += 1;
	}
	return size;
}

size_t synth_lambda_environment_size(const json_t *variables)
{
	size_t size = 2; /* {} */
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)variables, k, v) {
		if (size > 2)
			size++; /* , */
		size += json_string_size(k, strlen(k)) + 1; /* "K": */
		size += json_is_string(v) ? json_string_size(json_string_value(v),
							     json_string_length(v))
					  : 2;
	}
	return size;
}
