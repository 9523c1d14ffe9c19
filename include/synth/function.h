/*
 * libsynth: define_function, a Lambda function with its execution role,
 * its log group, and an optional schedule.
 */
#ifndef SYNTH_FUNCTION_H
#define SYNTH_FUNCTION_H

#include <jansson.h>
#include "common.h"
#include "backend.h"
#include "construct.h"
#include "lambda.h" /* synth_runtime_check */

#ifdef __cplusplus
extern "C" {
#endif

typedef struct synth_function synth_function;

/* One environment variable: a plain VALUE, or the name of a SECRET (see
 * synth_secret_path(); 1 to 128 letters, digits, '-' or '_'); exactly one
 * of the two. A list ends with an entry that is all NULL ({0}); an entry
 * with a value or a secret but no name is an error naming the function and
 * the entry's index (it is not taken for the end, which would drop what
 * follows silently). A name set twice is an error. */
typedef struct synth_env {
	const char *name;
	const char *value;
	const char *secret;
} synth_env;

/* Props: zero (or NULL) means the default for every field. All strings
 * and arrays are copied. */
typedef struct synth_function_props {
	/* Code directory, relative to the working directory; it becomes a
	 * zip asset. Default "functions/<name>". */
	const char *entry;
	/* nodejs24.x (default), nodejs22.x, python3.12 .. python3.14,
	 * provided.al2023, java21, java25, ruby3.4, ... A runtime AWS no
	 * longer lets you create is refused, naming its successor. */
	const char *runtime;
	/* Default "index.handler" ("bootstrap" for provided.*).
	 *
	 * Python (python3.12 and later): "module.function", the module
	 * dotted for subdirectories ("api.users.get": get() in
	 * <entry>/api/users.py or <entry>/api/users/__init__.py). The default
	 * is "index.handler" (<entry>/index.py), as the CDK's PythonFunction;
	 * SST has no default and takes "path/file.function" from the project
	 * root, where libsynth takes the code directory from `entry`. The
	 * shape and the module's file are checked at define time (a missing
	 * module is refused naming the function, the module and the code
	 * directory; a missing code directory is reported when it is zipped,
	 * as for any runtime).
	 *
	 * Python dependencies: a requirements.txt in the code directory is
	 * installed when the backend runs, by `python3 -m pip install -r
	 * <entry>/requirements.txt --target DIR --platform
	 * manylinux2014_x86_64 (manylinux2014_aarch64 for arm64)
	 * --only-binary=:all: --python-version 3.N --implementation cp
	 * --no-compile` (python3 from PATH, no shell; pip reads PIP_INDEX_URL,
	 * PIP_FIND_LINKS, PIP_NO_INDEX, ... from the environment: offline,
	 * PIP_FIND_LINKS=wheels PIP_NO_INDEX=1). DIR is a cache,
	 * .synth/pip/<sha256 of the runtime, architecture and requirements.txt>
	 * relative to the working directory (the CLI's own cache directory):
	 * pip installs into a temporary directory that is renamed only when
	 * complete, and an unchanged requirements.txt runs no pip at all.
	 * Delete .synth/pip to reinstall (after upgrading pip, or when a file
	 * that requirements.txt includes with -r/-c changed: neither is part
	 * of the key). A failure shows pip's message (index passwords masked)
	 * and names the function; pip missing is an error saying how to
	 * install it (Debian: python3-pip). The zip holds the code directory
	 * and the installed packages merged; a path in both (a vendored copy
	 * of an installed package) is an error naming it, rather than either
	 * copy silently winning. Console scripts (bin/) are not installed into
	 * the zip: their first line names the build machine's python. */
	const char *handler;
	int memory_mb;          /* 128..10240, default 512 */
	int timeout_s;          /* 1..900, default 3 */
	const char *architecture;  /* "x86_64" (default) or "arm64" */
	int log_retention_days; /* a CloudWatch Logs value, default 14 */
	const char *description;
	const synth_env *environment;  /* ends with {0} */
	/* "rate(5 minutes)", "cron(0 12 * * ? *)", a Unix-style 5-field cron
	 * ("0 9 * * 1"), or a shortcut: "every day", "every hour",
	 * "every week", "every month", "every year", "every 5m",
	 * "every 2h", "every 3 days". */
	const char *schedule;
	/* Glob patterns excluded from the asset (fnmatch on the relative
	 * path and on each name). NULL-terminated. They add to the default
	 * exclusion ".git" (a repository is never meant for Lambda); the
	 * entry "!.git" drops it (a "!" names a default, it negates nothing
	 * else; "!x" for another x is an error). Python functions always add
	 * "__pycache__", "*.pyc" and "*.dist-info/RECORD" (bytecode of the
	 * build machine; pip's list of what it wrote).
	 *
	 * What is zipped: regular files, with their paths in the directory.
	 * A symbolic link that resolves inside the code directory is followed:
	 * a file is zipped under the link's name, a directory's files under
	 * the link's path. Skipped, each with a warning on stderr naming the
	 * path ("synth: warning: NAME: skipped DIR/PATH: why"): links that
	 * loop or point at nothing, a link to a directory that contains it
	 * (the walk would not end), a link out of the code directory (its
	 * target would not exist on Lambda, and the zip would take files
	 * from elsewhere on this machine: the CDK's SymlinkFollowMode
	 * BLOCK_EXTERNAL refuses those too, libsynth skips them), FIFOs (a
	 * read would block the synth), sockets and devices. The zip and its
	 * hash depend only on what is zipped, so they stay deterministic. */
	const char *const *exclude;
} synth_function_props;

/*
 * Defines a function named NAME (unique in the backend). Validates the
 * props at once; the resources are produced when the backend runs.
 * Returns a handle borrowed from the backend, or NULL on error (see
 * synth_error_last(); the backend keeps the error too).
 */
SYNTH_EXPORT synth_function *synth_define_function(synth_backend *b,
						   const char *name,
						   const synth_function_props *props);

/* The function's construct (borrowed), for synth_construct_require(). */
SYNTH_EXPORT synth_construct *synth_function_construct(synth_function *fn);

/* Tokens for the function's ARN, name and role ARN (new references). */
SYNTH_EXPORT json_t *synth_function_arn(const synth_function *fn);
SYNTH_EXPORT json_t *synth_function_name_ref(const synth_function *fn);
SYNTH_EXPORT json_t *synth_function_role_arn(const synth_function *fn);
/* The role's name (a Ref of the role; new reference). */
SYNTH_EXPORT json_t *synth_function_role_name(const synth_function *fn);

/*
 * Grants the function's role ACTIONS (NULL-terminated) on RESOURCES (a
 * string, token or array; stolen). Callable before or while the backend
 * runs (construct factories call it from generate()).
 */
SYNTH_EXPORT int synth_function_grant(synth_function *fn,
				      const char *const *actions,
				      json_t *resources);

/* Gives FN the secret SECRET (a name, see synth_secret_path()) under the
 * environment name NAME, as props.environment's .secret does: its SSM paths
 * in SYNTH_SSM_ENV_CONFIG and ssm:GetParameters on exactly them. Before the
 * backend runs only. */
SYNTH_EXPORT int synth_function_add_secret(synth_function *fn, const char *name,
					   const char *secret);

/* Adds an environment variable after definition (VALUE stolen; tokens
 * allowed, e.g. a table name). A variable is set once, as in props: NAME
 * already set (to a value or a secret) is SYNTH_EEXISTS naming the function
 * and NAME, unless VALUE equals the value it holds (then nothing changes:
 * a target linked twice sets its variables twice). */
SYNTH_EXPORT int synth_function_add_environment(synth_function *fn,
						const char *name, json_t *value);

/*
 * Invokes FN on SCHEDULE (the forms listed above): an EventBridge rule and
 * the permission for it (what props.schedule does), as resources
 * "<name>/Schedule" and "<name>/SchedulePermission": one schedule per
 * function (a second one is an error naming the path).
 */
SYNTH_EXPORT int synth_function_add_schedule(synth_function *fn, const char *schedule);

/*
 * Links FN to the resource of construct TARGET with access level ACCESS
 * (the levels are the target's: "read", "write", "send", "publish", ...;
 * a comma-separated list takes several): FN may do exactly what ACCESS
 * allows on exactly that resource, and gets its properties (name, ARN,
 * URL) as environment variables named SYNTH_<TARGET>_<PROP>, TARGET being
 * the construct's name in upper case with '-' as '_' (a queue "orders":
 * SYNTH_ORDERS_URL, SYNTH_ORDERS_ARN). Handlers read them with plain
 * os.environ / process.env. TARGET must be of FN's backend and of a class
 * that can be linked (class->link).
 */
SYNTH_EXPORT int synth_function_link(synth_function *fn, synth_construct *target,
				     const char *access);

/*
 * Parses a schedule (the forms listed above) into an EventBridge
 * expression, "rate(...)" or "cron(...)". *out caller-owned (free()).
 * SYNTH_EINVALID with a message naming the problem.
 */
SYNTH_EXPORT int synth_schedule_parse(char **out, const char *schedule);

/* FN's timeout in seconds (the props' timeout_s, or the default 3): for
 * event sources that size their own timeouts by it (a queue's visibility
 * timeout must be at least its consumer's). */
SYNTH_EXPORT int synth_function_timeout(const synth_function *fn);

#ifdef __cplusplus
}
#endif
#endif
