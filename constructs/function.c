/*
 * define_function: an AWS::Lambda::Function with its execution role (it
 * may write to its own log group only, plus what other constructs grant
 * it), its log group with a retention, its code as a zip asset, and an
 * optional EventBridge schedule.
 *
 * Resources, by construct path:
 *   <name>/ServiceRole                 AWS::IAM::Role
 *   <name>/ServiceRole/DefaultPolicy   AWS::IAM::Policy (only with grants)
 *   <name>/LogGroup                    AWS::Logs::LogGroup
 *   <name>/Resource                    AWS::Lambda::Function
 * and whatever its event sources add (synth_function_add_event_source):
 * the schedule source (schedule.c) adds
 *   <name>/Schedule                    AWS::Events::Rule
 *   <name>/SchedulePermission          AWS::Lambda::Permission
 * Written against the public construct API only, as a user's own
 * construct would be.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <synth.h>
#include <synth/sys/construct.h>

extern char **environ;

struct synth_function {
	synth_construct *c;
	char *entry, *runtime, *handler, *arch, *description;
	int memory, timeout, retention;
	json_t *env;        /* name -> value (string or token) */
	json_t *secrets;    /* env name -> secret name */
	json_t *statements; /* IAM statements granted by others */
	char **exclude;
	synth_resource *policy;
	synth_resource *fn;
	/* Resources that wait for the policy (synth_function_depend_on_policy). */
	synth_resource **policy_deps;
	size_t npolicy_deps, cap_policy_deps;
	/* Event sources, bound at the end of generation. */
	struct bound_source {
		const synth_event_source *src;
		void *data;
	} *sources;
	size_t nsources, cap_sources;
};

static const int retention_days[] = {1,   3,   5,   7,    14,   30,   60,   90,
				     120, 150, 180, 365,  400,  545,  731,  1096,
				     1827, 2192, 2557, 2922, 3288, 3653, 0};

/* Names Lambda keeps for itself. */
static const char *const reserved_env[] = {
	"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION",
	"AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
	"AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE",
	"AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY",
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", NULL};

/* Lambda's rule for environment variable names: [a-zA-Z][a-zA-Z0-9_]+,
 * and not reserved. Returns NULL if NAME is fine, else why not. */
static const char *env_name_problem(const char *name)
{
	if (!name || !*name)
		return "is empty";
	if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z')))
		return "must start with a letter";
	if (strlen(name) < 2)
		return "must have at least 2 characters";
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_'))
			return "may contain only letters, digits and '_'";
	for (size_t i = 0; reserved_env[i]; i++)
		if (!strcmp(name, reserved_env[i]))
			return "is reserved by Lambda";
	if (!strcmp(name, SYNTH_ENV_SSM_CONFIG))
		return "is reserved by libsynth (secret paths)";
	return NULL;
}

/* Lambda refuses an environment over 4 KB as it measures it (compact
 * JSON; cfn-lint's E3697 counts names plus values, which is never more).
 * NM names the function; LAST is the variable just added, if any. Sets
 * the error and returns SYNTH_ELIMIT when VARS is too large. */
static int check_env_size(const char *nm, const json_t *vars, const char *last)
{
	size_t size = synth_lambda_environment_size(vars);
	if (size <= SYNTH_LAMBDA_ENV_MAX)
		return 0;
	return synth_error_setf(SYNTH_ELIMIT,
				"%s: environment is %zu bytes as Lambda measures it (the "
				"variables as compact JSON), over Lambda's %d%s%s%s; keep large "
				"values in a file of the code or in a secret", nm, size,
				SYNTH_LAMBDA_ENV_MAX, last ? " (with " : "", last ? last : "",
				last ? ")" : "");
}

static void fn_free(void *state)
{
	synth_function *f = state;
	if (!f)
		return;
	free(f->entry);
	free(f->runtime);
	free(f->handler);
	free(f->arch);
	free(f->description);
	json_decref(f->env);
	json_decref(f->secrets);
	json_decref(f->statements);
	synth_strv_free(f->exclude);
	free(f->policy_deps);
	for (size_t i = 0; i < f->nsources; i++)
		if (f->sources[i].src->free)
			f->sources[i].src->free(f->sources[i].data);
	free(f->sources);
	free(f);
}

static json_t *policy_doc(json_t *statements)
{
	return json_pack("{s:s,s:O}", "Version", "2012-10-17", "Statement", statements);
}

/* The DefaultPolicy holding what other constructs grant. The function does
 * not wait for it (no DependsOn): a grant on a bucket whose notifications
 * invoke the function would otherwise be a cycle (function -> policy ->
 * bucket -> function). IAM is eventually consistent anyway. */
static int ensure_policy(synth_function *f)
{
	if (f->policy || !f->fn)
		return 0;
	const char *name = synth_construct_name(f->c);
	char *pname = synth_asprintf("%sDefaultPolicy", name);
	char *rp = synth_asprintf("%s/ServiceRole", name);
	json_t *props = pname && rp ? json_pack("{s:s,s:o,s:[o]}", "PolicyName", pname,
						"PolicyDocument", policy_doc(f->statements),
						"Roles", synth_ref(rp))
				    : NULL;
	free(pname);
	free(rp);
	if (!props)
		return synth_error_oom();
	int rc = synth_resource_new(&f->policy, f->c, "ServiceRole/DefaultPolicy",
				    "AWS::IAM::Policy", props);
	for (size_t i = 0; rc == 0 && i < f->npolicy_deps; i++)
		rc = synth_resource_add_dependency(f->policy_deps[i], f->policy);
	return rc;
}

/* Log group, then the role that may write to it and nothing else. */
static int log_group_and_role(synth_construct *self, const synth_function *f,
			      const char *p_role, const char *p_log)
{
	synth_resource *log = NULL;
	int rc = synth_resource_new(&log, self, "LogGroup", "AWS::Logs::LogGroup",
				    json_pack("{s:i}", "RetentionInDays", f->retention));
	if (rc == 0)
		rc = synth_resource_set_deletion_policy(log, "Delete");
	(void)p_role;
	if (rc == 0)
		rc = synth_resource_new(
			NULL, self, "ServiceRole", "AWS::IAM::Role",
			json_pack("{s:{s:s,s:[{s:s,s:s,s:{s:s}}]},s:[{s:s,s:{s:s,s:[{s:s,s:[s,s],s:o}]}}]}",
				  "AssumeRolePolicyDocument", "Version", "2012-10-17",
				  "Statement", "Effect", "Allow", "Action", "sts:AssumeRole",
				  "Principal", "Service", "lambda.amazonaws.com", "Policies",
				  "PolicyName", "logs", "PolicyDocument", "Version", "2012-10-17",
				  "Statement", "Effect", "Allow", "Action", "logs:CreateLogStream",
				  "logs:PutLogEvents", "Resource", synth_getatt(p_log, "Arn")));
	return rc;
}

/* Secrets: the function learns the parameter paths (into ENV), never the
 * values, and may read exactly those parameters. */
static int secret_config(synth_construct *self, synth_function *f, json_t *env)
{
	synth_backend *b = synth_construct_backend(self);
	json_t *cfg = json_object(), *arns = json_array();
	int rc = cfg && arns ? 0 : synth_error_oom();
	const char *var;
	json_t *sec;
	json_object_foreach(f->secrets, var, sec) {
		if (rc < 0)
			break;
		char *path = NULL, *shared = NULL;
		const char *sn = json_string_value(sec);
		if ((rc = synth_secret_path(&path, b, sn)) < 0 ||
		    (rc = synth_secret_shared_path(&shared, b, sn)) < 0) {
			free(path);
			break;
		}
		json_object_set_new(cfg, var, json_pack("{s:s,s:s}", "path", path,
							 "sharedPath", shared));
		const char *fmt = "arn:${AWS::Partition}:ssm:${AWS::Region}:"
				  "${AWS::AccountId}:parameter%s";
		char *a1 = synth_asprintf(fmt, path), *a2 = synth_asprintf(fmt, shared);
		json_array_append_new(arns, synth_sub(a1, NULL));
		json_array_append_new(arns, synth_sub(a2, NULL));
		free(a1);
		free(a2);
		free(path);
		free(shared);
	}
	char *text = rc == 0 ? synth_json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (rc == 0 && (!text || json_object_set_new(env, SYNTH_ENV_SSM_CONFIG,
						     json_string(text)) < 0))
		rc = synth_error_oom();
	free(text);
	json_decref(cfg);
	if (rc == 0)
		json_array_append_new(f->statements,
				      json_pack("{s:s,s:[s],s:o}", "Effect", "Allow", "Action",
						"ssm:GetParameters", "Resource", arns));
	else
		json_decref(arns);
	return rc;
}

static json_t *function_props(const synth_function *f, size_t asset, const char *p_role,
			      const char *p_log, json_t *env)
{
	json_t *props = json_pack(
		"{s:{s:o,s:o},s:s,s:s,s:o,s:i,s:i,s:[s],s:{s:o}}", "Code", "S3Bucket",
		synth_asset_bucket(), "S3Key", synth_asset_key(asset), "Runtime", f->runtime,
		"Handler", f->handler, "Role", synth_getatt(p_role, "Arn"), "MemorySize",
		f->memory, "Timeout", f->timeout, "Architectures", f->arch, "LoggingConfig",
		"LogGroup", synth_ref(p_log));
	if (props && f->description)
		json_object_set_new(props, "Description", json_string(f->description));
	if (props && json_object_size(env))
		json_object_set_new(props, "Environment", json_pack("{s:O}", "Variables", env));
	return props;
}


/* --- Python ------------------------------------------------------------
 *
 * A python3.x function's handler is "module.function" (the module may be
 * dotted: "api.users.handler" is <entry>/api/users.py, or the package
 * <entry>/api/users/__init__.py), checked at define time. A requirements.txt
 * in the code directory is installed by pip, for the function's platform
 * and Python version, into a cache directory
 *   .synth/pip/<sha256 of "synth-pip-1", platform, version, requirements>
 * (relative to the backend's directory, beside the CLI's build cache), and
 * the zip holds the code directory and that directory merged
 * (synth_construct_add_dirs_asset: a path in both is refused). An unchanged
 * requirements.txt reuses the cache without running pip; pip's own version
 * is not part of the key (delete .synth/pip to reinstall after upgrading
 * it), nor are files requirements.txt includes with -r / -c.
 */

static bool is_python(const char *runtime) { return !strncmp(runtime, "python", 6); }

/* Never in a Python zip: bytecode of the machine that ran it, and pip's
 * RECORD (hashes of files, some of which are left out). */
static const char *const python_exclude[] = {"__pycache__", "*.pyc", "*.dist-info/RECORD",
					     NULL};

static bool py_ident(const char *s, size_t n)
{
	if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return false;
	return true;
}

/* Checks that HANDLER is "module.function" with dotted identifiers; the
 * module's relative path without ".py" ("a/b") into *path. NULL if fine,
 * else why not (*path NULL). */
static const char *python_handler_path(const char *handler, char **path)
{
	*path = NULL;
	const char *dot = strrchr(handler, '.');
	if (!dot)
		return "is not of the form module.function";
	if (!py_ident(dot + 1, strlen(dot + 1)))
		return "does not end with a Python function name";
	for (const char *p = handler;; ) {
		const char *e = memchr(p, '.', (size_t)(dot - p));
		if (!e)
			e = dot;
		if (!py_ident(p, (size_t)(e - p)))
			return "does not name a Python module (dotted identifiers)";
		if (e == dot)
			break;
		p = e + 1;
	}
	char *m = strndup(handler, (size_t)(dot - handler));
	if (!m)
		return "cannot be checked (out of memory)";
	for (char *c = m; *c; c++)
		if (*c == '.')
			*c = '/';
	*path = m;
	return NULL;
}

static bool is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Define time: the handler's shape, and its module in ENTRY (when ENTRY
 * exists: a missing code directory is reported when the asset is
 * registered, as for any runtime). */
static int python_check_handler(synth_backend *b, const char *nm, const char *entry,
				const char *handler)
{
	char *path = NULL;
	const char *why = python_handler_path(handler, &path);
	if (why)
		return synth_backend_failf(b, SYNTH_EINVALID, "%s: Python handler '%s' %s", nm,
					   handler, why);
	struct stat st;
	int rc = 0;
	if (stat(entry, &st) == 0 && S_ISDIR(st.st_mode)) {
		char *py = synth_asprintf("%s/%s.py", entry, path);
		char *pkg = synth_asprintf("%s/%s/__init__.py", entry, path);
		if (!py || !pkg)
			rc = synth_backend_failf(b, SYNTH_ENOMEM, "out of memory");
		else if (!is_file(py) && !is_file(pkg))
			rc = synth_backend_failf(
				b, SYNTH_ENOTFOUND,
				"%s: handler '%s' names module '%.*s', but there is no %s.py "
				"(nor %s/__init__.py) in the code directory '%s'", nm, handler,
				(int)(strrchr(handler, '.') - handler), handler, path, path, entry);
		free(py);
		free(pkg);
	}
	free(path);
	return rc;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(p) < 0 && errno != ENOENT ? -1 : 0;
}

/* Removes DIR and everything below it (no error if it is not there). */
static void rm_tree(const char *dir) { nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

/* The password of the URL in environment variable VAR ("scheme://user:
 * PASSWORD@host/..."), or NULL: pip masks it, but never trust a tool to. */
static char *url_password(const char *var)
{
	const char *u = getenv(var), *s = u ? strstr(u, "://") : NULL;
	if (!s)
		return NULL;
	s += 3;
	const char *at = strchr(s, '@'), *slash = strchr(s, '/');
	if (!at || (slash && slash < at))
		return NULL;
	const char *colon = memchr(s, ':', (size_t)(at - s));
	return colon && at > colon + 1 ? strndup(colon + 1, (size_t)(at - colon - 1)) : NULL;
}

/* TEXT (freed) with every index password replaced by "****". */
static char *redact(char *text)
{
	static const char *const vars[] = {"PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", NULL};
	for (size_t v = 0; text && vars[v]; v++) {
		char *pw = url_password(vars[v]);
		if (!pw)
			continue;
		synth_buf out = SYNTH_BUF_INIT;
		const char *p = text, *hit;
		while ((hit = strstr(p, pw))) {
			synth_buf_put(&out, p, (size_t)(hit - p));
			synth_buf_puts(&out, "****");
			p = hit + strlen(pw);
		}
		synth_buf_puts(&out, p);
		free(pw);
		free(text);
		text = synth_buf_detach(&out);
	}
	return text;
}

/* Runs ARGV (argv[0] looked up in PATH, no shell), stdin /dev/null,
 * stdout and stderr into *out (caller frees). *status is the wait
 * status. Returns 0, or the errno of a spawn that failed (ENOENT: not
 * found). */
static int run_captured(char *const *argv, char **out, int *status)
{
	*out = NULL;
	*status = -1;
	int fd[2];
	if (pipe2(fd, O_CLOEXEC) < 0)
		return errno;
	size_t n = 0;
	while (environ[n])
		n++;
	char **envp = calloc(n + 3, sizeof *envp);
	if (!envp) {
		close(fd[0]);
		close(fd[1]);
		return ENOMEM;
	}
	/* First: Python keeps the first of duplicated names. */
	envp[0] = "PIP_DISABLE_PIP_VERSION_CHECK=1";
	envp[1] = "PYTHONDONTWRITEBYTECODE=1";
	memcpy(envp + 2, environ, n * sizeof *envp);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fd[1], 2);
	pid_t pid;
	int err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	free(envp);
	close(fd[1]);
	if (err) {
		close(fd[0]);
		return err;
	}
	synth_buf buf = SYNTH_BUF_INIT;
	char chunk[4096];
	ssize_t r;
	while ((r = read(fd[0], chunk, sizeof chunk)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		synth_buf_put(&buf, chunk, (size_t)r);
	}
	close(fd[0]);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	*out = synth_buf_detach(&buf);
	return 0;
}

/* The last lines of pip's OUTPUT, at most about 2,000 bytes of it. */
static const char *tail_of(const char *output)
{
	size_t len = strlen(output);
	while (len && (output[len - 1] == '\n' || output[len - 1] == ' '))
		len--;
	const char *t = output;
	if (len > 2000) {
		t = output + len - 2000;
		const char *nl = strchr(t, '\n');
		t = nl ? nl + 1 : t;
	}
	return t;
}

/* Runs pip for F into TMP; a failure names the function and shows pip's
 * message (passwords of index URLs masked). */
static int pip_run(synth_construct *self, const synth_function *f, const char *req,
		   const char *tmp)
{
	const char *plat = strcmp(f->arch, "arm64") ? "manylinux2014_x86_64"
						    : "manylinux2014_aarch64";
	char *const argv[] = {"python3", "-m", "pip", "install", "--quiet", "-r", (char *)req,
			      "--target", (char *)tmp, "--platform", (char *)plat,
			      "--only-binary=:all:", "--python-version", f->runtime + 6,
			      "--implementation", "cp", "--no-compile", NULL};
	char *out = NULL;
	int status;
	int err = run_captured(argv, &out, &status);
	if (err == ENOENT)
		return synth_construct_failf(self, SYNTH_ENOTFOUND,
					     "python3 is not on PATH; it runs pip to install %s "
					     "(Debian: apt-get install python3 python3-pip)", req);
	if (err)
		return synth_construct_failf(self, SYNTH_EIO, "cannot run python3 -m pip: %s",
					     strerror(err));
	out = redact(out);
	int rc = 0;
	if (!out)
		rc = synth_construct_failf(self, SYNTH_ENOMEM, "out of memory reading pip's output");
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		rc = 0;
	else if (strstr(out, "No module named pip"))
		rc = synth_construct_failf(self, SYNTH_ENOTFOUND,
					   "pip is not installed for python3; it is needed to "
					   "install %s (Debian: apt-get install python3-pip; "
					   "elsewhere: python3 -m ensurepip)", req);
	else
		rc = synth_construct_failf(self, SYNTH_EIO,
					   "pip could not install %s for %s %s (%s %d):\n%s", req,
					   f->runtime, plat,
					   WIFEXITED(status) ? "exit status" : "signal",
					   WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
					   tail_of(out));
	free(out);
	return rc;
}

/* The cache directory for F's requirements REQ (caller frees), installing
 * into it first unless it exists: pip writes into a temporary directory
 * that becomes the cache only when complete (removed on failure). */
static int pip_install(synth_construct *self, const synth_function *f, const char *req,
		       char **dir)
{
	*dir = NULL;
	char *text = NULL;
	size_t len = 0;
	if (synth_file_read(req, &text, &len) < 0)
		return synth_construct_failf(self, SYNTH_EIO, "cannot read %s", req);
	synth_buf key = SYNTH_BUF_INIT;
	synth_buf_printf(&key, "synth-pip-1\n%s\n%s\n", f->runtime, f->arch);
	synth_buf_put(&key, text, len);
	free(text);
	char *k = synth_buf_detach(&key), hex[65];
	if (!k || synth_sha256_hex(k, strlen(k), hex) < 0) {
		free(k);
		return synth_construct_failf(self, SYNTH_ENOMEM, "out of memory");
	}
	free(k);
	char *final = synth_asprintf(".synth/pip/%s", hex);
	char *tmp = synth_asprintf(".synth/pip/.tmp.%s.%ld", hex, (long)getpid());
	char *bin = synth_asprintf("%s/bin", tmp);
	struct stat st;
	int rc = final && tmp && bin ? 0 : synth_construct_failf(self, SYNTH_ENOMEM, "out of memory");
	if (rc == 0 && stat(final, &st) == 0 && S_ISDIR(st.st_mode)) {
		*dir = final; /* installed before: no pip run */
		final = NULL;
	} else if (rc == 0) {
		if ((mkdir(".synth", 0755) < 0 && errno != EEXIST) ||
		    (mkdir(".synth/pip", 0755) < 0 && errno != EEXIST))
			rc = synth_construct_failf(self, SYNTH_EIO, "cannot create .synth/pip: %s",
						   strerror(errno));
		rm_tree(tmp); /* left by a synth that was killed */
		if (rc == 0 && mkdir(tmp, 0755) < 0)
			rc = synth_construct_failf(self, SYNTH_EIO, "cannot create %s: %s", tmp,
						   strerror(errno));
		if (rc == 0)
			rc = pip_run(self, f, req, tmp);
		/* Console scripts name this machine's python on their first line:
		 * not reproducible, and Lambda does not run them. */
		rm_tree(bin);
		if (rc == 0 && rename(tmp, final) < 0 && errno != EEXIST && errno != ENOTEMPTY)
			rc = synth_construct_failf(self, SYNTH_EIO, "cannot rename %s: %s", tmp,
						   strerror(errno));
		rm_tree(tmp); /* a failure, or another synth that finished first */
		if (rc == 0) {
			*dir = final;
			final = NULL;
		}
	}
	free(final);
	free(tmp);
	free(bin);
	return rc;
}

/* The code asset of a Python function: the code directory, merged with
 * the packages of its requirements.txt when there is one. */
static int python_asset(synth_construct *self, const synth_function *f, size_t *asset)
{
	char *req = synth_asprintf("%s/requirements.txt", f->entry);
	if (!req)
		return synth_construct_failf(self, SYNTH_ENOMEM, "out of memory");
	int rc;
	if (!is_file(req)) {
		rc = synth_construct_add_dir_asset(asset, self, f->entry,
						   (const char *const *)f->exclude);
	} else {
		char *pkgs = NULL;
		rc = pip_install(self, f, req, &pkgs);
		const char *const dirs[] = {f->entry, pkgs, NULL};
		if (rc == 0)
			rc = synth_construct_add_dirs_asset(asset, self, dirs,
							    (const char *const *)f->exclude);
		free(pkgs);
	}
	free(req);
	return rc;
}

/* F's excludes (from PROPS, else ".git") plus those of every Python zip. */
static int python_excludes(synth_function *f, const char *const *props)
{
	static const char *const def[] = {".git", NULL};
	const char *const *user = props ? props : def;
	size_t nu = synth_strv_len(user), np = synth_strv_len(python_exclude);
	const char **all = calloc(nu + np + 1, sizeof *all);
	if (!all)
		return synth_error_oom();
	memcpy(all, user, nu * sizeof *all);
	memcpy(all + nu, python_exclude, np * sizeof *all);
	int rc = synth_strv_dup(&f->exclude, all);
	free(all);
	return rc;
}

static int fn_generate(synth_construct *self, void *state)
{
	synth_function *f = state;
	const char *name = synth_construct_name(self);

	/* The code asset: registered now, zipped before the templates are
	 * written; tokens stand for its S3 key and file until then. */
	size_t asset;
	int rc = is_python(f->runtime)
			 ? python_asset(self, f, &asset)
			 : synth_construct_add_dir_asset(&asset, self, f->entry,
							 (const char *const *)f->exclude);
	if (rc < 0)
		return rc;
	char *p_role = synth_asprintf("%s/ServiceRole", name);
	char *p_log = synth_asprintf("%s/LogGroup", name);
	json_t *env = json_deep_copy(f->env);
	rc = p_role && p_log && env ? log_group_and_role(self, f, p_role, p_log)
				    : synth_error_oom();
	if (rc == 0 && json_object_size(f->secrets))
		rc = secret_config(self, f, env);
	if (rc == 0)
		rc = check_env_size(name, env, json_object_size(f->secrets) ? SYNTH_ENV_SSM_CONFIG
									      : NULL);
	json_t *props = NULL;
	if (rc == 0 && !(props = function_props(f, asset, p_role, p_log, env)))
		rc = synth_error_oom();
	json_decref(env);
	free(p_role);
	free(p_log);
	if (rc == 0)
		rc = synth_resource_new(&f->fn, self, "Resource", "AWS::Lambda::Function", props);
	/* Where the code came from, for tools that read the assembly. */
	if (rc == 0)
		rc = synth_resource_add_metadata(f->fn, SYNTH_MD_ASSET_PATH, synth_asset_file(asset));
	if (rc == 0)
		rc = synth_resource_add_metadata(f->fn, SYNTH_MD_ASSET_PROPERTY,
						 json_string("Code"));
	if (rc == 0 && (json_array_size(f->statements) || f->npolicy_deps))
		rc = ensure_policy(f);
	/* The event sources connect themselves (resources, grants). */
	for (size_t i = 0; rc == 0 && i < f->nsources; i++)
		rc = f->sources[i].src->bind(f, f->sources[i].data);
	return rc;
}

static const synth_construct_class function_class = {
	SYNTH_CONSTRUCT_CLASS_VERSION, "function", NULL, fn_generate, fn_free};

/* --- runtime and environment size --------------------------------------
 *
 * What Lambda itself refuses, checked where the function is defined so the
 * message names it: a runtime outside Lambda's list or no longer creatable
 * (cfn-lint's E3030, E2531, E2533; a deprecated one is a warning with its
 * dates, as cfn-lint's W2531), and an environment over Lambda's 4 KB
 * (E3697), measured as Lambda measures it (synth_lambda_environment_size).
 */

static int check_runtime(synth_backend *b, const char *nm, const char *runtime)
{
	if (synth_runtime_check(runtime) < 0)
		return synth_backend_failf(b, synth_error_last()->code, "%s: %s", nm,
					   synth_error_last()->message);
	const synth_lambda_runtime *rt = synth_lambda_runtime_info(runtime);
	if (synth_lambda_runtime_state(rt, NULL) == SYNTH_RUNTIME_DEPRECATED)
		fprintf(stderr, "synth: warning: %s: runtime %s is deprecated since %s; AWS stops "
				"creating functions with it on %s and updating them on %s%s%s%s\n",
			nm, runtime, rt->deprecated, rt->create_block, rt->update_block,
			rt->successor ? " (use " : "", rt->successor ? rt->successor : "",
			rt->successor ? ")" : "");
	return 0;
}

/* Props checks; the message names the function. 0 or SYNTH_EINVALID. */
static int check_props(synth_backend *b, const char *nm, const synth_function_props *p,
		       const char *runtime, int retention)
{
	if (check_runtime(b, nm, runtime) < 0)
		return SYNTH_EINVALID;
	if (p->memory_mb && (p->memory_mb < 128 || p->memory_mb > 10240))
		return synth_backend_failf(b, SYNTH_EINVALID,
					   "%s: memory %d MB is outside 128..10240", nm, p->memory_mb);
	if (p->timeout_s && (p->timeout_s < 1 || p->timeout_s > 900))
		return synth_backend_failf(b, SYNTH_EINVALID, "%s: timeout %d s is outside 1..900",
					   nm, p->timeout_s);
	if (p->architecture && strcmp(p->architecture, "x86_64") &&
	    strcmp(p->architecture, "arm64"))
		return synth_backend_failf(b, SYNTH_EINVALID,
					   "%s: architecture '%s' is neither x86_64 nor arm64", nm,
					   p->architecture);
	if (p->description && strlen(p->description) > 256)
		return synth_backend_failf(b, SYNTH_EINVALID,
					   "%s: description is longer than Lambda's 256 characters",
					   nm);
	if (p->handler && (!*p->handler || strlen(p->handler) > 128))
		return synth_backend_failf(b, SYNTH_EINVALID,
					   "%s: handler '%s' must have 1 to 128 characters", nm,
					   p->handler);
	bool ok = false;
	for (const int *d = retention_days; *d; d++)
		ok |= *d == retention;
	if (!ok)
		return synth_backend_failf(b, SYNTH_EINVALID,
					   "%s: log retention of %d days is not a CloudWatch Logs "
					   "value (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)", nm, retention);
	return 0;
}

/* The environment of the props into F (names checked). The list ends at
 * the first entry with neither name, value nor secret ({0}); one with a
 * value or a secret but no name is an error naming its index, not the end
 * of the list (what follows it would be silently dropped). */
static int add_props_environment(synth_backend *b, synth_function *f, const char *nm,
				 const synth_env *e)
{
	for (size_t i = 0; e && (e->name || e->value || e->secret); e++, i++) {
		if (!e->name)
			return synth_error_setf(SYNTH_EINVALID,
						"%s: environment entry %zu has a %s but no name "
						"(the list ends with an entry that is all NULL, {0})",
						nm, i, e->value ? "value" : "secret");
		const char *why = env_name_problem(e->name);
		if (why)
			return synth_error_setf(SYNTH_EINVALID,
						"%s: environment variable name '%s' %s", nm,
						e->name, why);
		if (!!e->value == !!e->secret)
			return synth_error_setf(SYNTH_EINVALID,
						"%s: environment variable %s needs exactly one of "
						"value and secret", nm, e->name);
		if (json_object_get(f->env, e->name) || json_object_get(f->secrets, e->name))
			return synth_error_setf(SYNTH_EINVALID,
						"%s: environment variable %s is set twice", nm,
						e->name);
		/* The resolver's own message, which says what a name may hold. */
		char *path = NULL;
		if (e->secret && !synth_name_valid(e->secret, 128)) {
			int rc = synth_secret_path(&path, b, e->secret);
			free(path);
			return synth_error_setf(rc < 0 ? rc : SYNTH_EINVALID,
						"%s: environment variable %s: %s", nm, e->name,
						synth_error_last()->message);
		}
		if (json_object_set_new(e->value ? f->env : f->secrets, e->name,
					json_string(e->value ? e->value : e->secret)) < 0)
			return synth_error_oom();
	}
	return 0;
}

synth_function *synth_define_function(synth_backend *b, const char *name,
				      const synth_function_props *props)
{
	SYNTH_CHECK_HANDLE(b);
	static const synth_function_props none = {0};
	const synth_function_props *p = props ? props : &none;
	const char *nm = name ? name : "";
	synth_error_clear();

	/* Validate first: nothing is registered for bad props. */
	const char *runtime = p->runtime ? p->runtime : "nodejs24.x";
	int retention = p->log_retention_days ? p->log_retention_days : 14;
	if (check_props(b, nm, p, runtime, retention) < 0)
		return NULL;
	char *sched = NULL;
	if (p->schedule && synth_schedule_parse(&sched, p->schedule) < 0) {
		synth_backend_failf(b, synth_error_last()->code, "%s: %s", nm,
				    synth_error_last()->message);
		return NULL;
	}
	free(sched);

	synth_function *f = calloc(1, sizeof *f);
	if (!f) {
		synth_backend_failf(b, SYNTH_ENOMEM, "out of memory");
		return NULL;
	}
	f->entry = p->entry ? strdup(p->entry) : synth_asprintf("functions/%s", nm);
	f->runtime = strdup(runtime);
	f->handler = strdup(p->handler ? p->handler
				       : !strncmp(runtime, "provided", 8) ? "bootstrap"
									  : "index.handler");
	f->arch = strdup(p->architecture ? p->architecture : "x86_64");
	f->description = synth_strdup(p->description);
	f->memory = p->memory_mb ? p->memory_mb : 512;
	f->timeout = p->timeout_s ? p->timeout_s : 3;
	f->retention = retention;
	f->env = json_object();
	f->secrets = json_object();
	f->statements = json_array();
	int rc = (!f->entry || !f->runtime || !f->handler || !f->arch ||
		  (p->description && !f->description) || !f->env || !f->secrets ||
		  !f->statements)
			 ? synth_error_oom()
		 : is_python(runtime) ? python_excludes(f, p->exclude)
					: synth_strv_dup(&f->exclude, p->exclude);
	if (rc == 0)
		rc = add_props_environment(b, f, nm, p->environment);
	if (rc == 0)
		rc = check_env_size(nm, f->env, NULL);
	if (rc < 0) {
		fn_free(f);
		synth_backend_failf(b, rc, "%s", synth_error_last()->message);
		return NULL;
	}
	if (is_python(runtime) && python_check_handler(b, nm, f->entry, f->handler) < 0) {
		fn_free(f);
		return NULL;
	}
	if (synth_construct_new(&f->c, b, name, &function_class, f) < 0)
		return NULL; /* f was freed by synth_construct_new */
	if (p->schedule && synth_function_add_schedule(f, p->schedule) < 0)
		return NULL;
	return f;
}

synth_construct *synth_function_construct(synth_function *fn) { return fn ? fn->c : NULL; }

synth_function *synth_function_from_construct(const synth_construct *c)
{
	return synth_construct_state_as(c, &function_class);
}

static json_t *token(const synth_function *fn, const char *res, const char *attr)
{
	if (!fn)
		return NULL;
	char *p = synth_asprintf("%s/%s", synth_construct_name(fn->c), res);
	json_t *t = p ? (attr ? synth_getatt(p, attr) : synth_ref(p)) : NULL;
	free(p);
	return t;
}

json_t *synth_function_arn(const synth_function *fn) { return token(fn, "Resource", "Arn"); }
json_t *synth_function_name_ref(const synth_function *fn) { return token(fn, "Resource", NULL); }
json_t *synth_function_role_arn(const synth_function *fn)
{
	return token(fn, "ServiceRole", "Arn");
}
json_t *synth_function_role_name(const synth_function *fn) { return token(fn, "ServiceRole", NULL); }

/* Fails FN's backend with the last error (already set). */
static int fn_fail(synth_function *fn, int rc)
{
	return synth_backend_failf(synth_construct_backend(fn->c), rc, "%s",
				   synth_error_last()->message);
}

int synth_function_add_statement(synth_function *fn, json_t *statement)
{
	SYNTH_CHECK_HANDLE(fn);
	if (!json_is_object(statement)) {
		json_decref(statement);
		return synth_construct_failf(fn->c, statement ? SYNTH_EINVALID : SYNTH_ENOMEM,
					     "a policy statement must be an object%s",
					     statement ? "" : " (NULL: did a builder run out of memory?)");
	}
	if (json_array_append_new(fn->statements, statement) < 0)
		return fn_fail(fn, synth_error_oom());
	/* Granted after generation: the policy resource appears now. */
	int rc = fn->fn ? ensure_policy(fn) : 0;
	return rc < 0 ? fn_fail(fn, rc) : 0;
}

int synth_function_grant(synth_function *fn, const char *const *actions, json_t *resources)
{
	SYNTH_CHECK_HANDLE(fn);
	if (!actions || !actions[0] || !resources) {
		json_decref(resources);
		if (!resources)
			return synth_construct_failf(fn->c, SYNTH_ENOMEM,
						     "a grant has no resources (NULL: did a value "
						     "builder run out of memory?)");
		return synth_construct_failf(fn->c, SYNTH_EINVALID, "a grant needs actions");
	}
	json_t *acts = json_array();
	for (size_t i = 0; acts && actions[i]; i++)
		json_array_append_new(acts, json_string(actions[i]));
	json_t *st = json_pack("{s:s,s:o,s:o}", "Effect", "Allow", "Action", acts,
			       "Resource", resources);
	if (!st)
		return fn_fail(fn, synth_error_oom());
	return synth_function_add_statement(fn, st);
}

int synth_function_depend_on_policy(synth_function *fn, synth_resource *r)
{
	SYNTH_CHECK_HANDLE(fn);
	SYNTH_CHECK_HANDLE(r);
	if (fn->policy)
		return synth_resource_add_dependency(r, fn->policy) < 0 ? fn_fail(fn, SYNTH_ENOMEM)
									 : 0;
	if (synth_array_grow((void **)&fn->policy_deps, &fn->npolicy_deps,
			     &fn->cap_policy_deps, sizeof *fn->policy_deps) < 0)
		return fn_fail(fn, SYNTH_ENOMEM);
	fn->policy_deps[fn->npolicy_deps++] = r;
	int rc = fn->fn ? ensure_policy(fn) : 0;
	return rc < 0 ? fn_fail(fn, rc) : 0;
}

int synth_function_add_event_source(synth_function *fn, const synth_event_source *src,
				    void *data)
{
	SYNTH_CHECK_HANDLE(fn);
	if (!src || src->version != SYNTH_EVENT_SOURCE_VERSION || !src->bind) {
		if (src && src->version == SYNTH_EVENT_SOURCE_VERSION && src->free)
			src->free(data);
		if (src && src->version != SYNTH_EVENT_SOURCE_VERSION)
			return synth_construct_failf(
				fn->c, SYNTH_EINVALID,
				"event source '%s' has version %d, but libsynth %s supports "
				"version %d: rebuild it against this libsynth's headers",
				src->kind ? src->kind : "?", src->version, SYNTH_VERSION,
				SYNTH_EVENT_SOURCE_VERSION);
		return synth_construct_failf(fn->c, SYNTH_EINVALID,
					     "an event source needs a bind function");
	}
	if (fn->fn) /* generated already: bind at once */ {
		int rc = src->bind(fn, data);
		if (src->free)
			src->free(data);
		return rc < 0 ? fn_fail(fn, rc) : 0;
	}
	if (synth_array_grow((void **)&fn->sources, &fn->nsources, &fn->cap_sources,
			     sizeof *fn->sources) < 0) {
		if (src->free)
			src->free(data);
		return fn_fail(fn, SYNTH_ENOMEM);
	}
	fn->sources[fn->nsources++] = (struct bound_source){src, data};
	return 0;
}

int synth_function_link(synth_function *fn, synth_construct *target, const char *access)
{
	/* A failed define already recorded its error on the backend. */
	if (!fn)
		return synth_error_setf(SYNTH_EINVALID,
					"synth_function_link: no function (its definition failed)");
	if (!target)
		return synth_construct_failf(fn->c, SYNTH_EINVALID,
					     "a link needs a target (did its define fail?)");
	const synth_construct_class *cls = synth_construct_class_of(target);
	if (synth_construct_backend(target) != synth_construct_backend(fn->c))
		return synth_construct_failf(fn->c, SYNTH_EINVALID,
					     "cannot link to %s: it belongs to another backend",
					     synth_construct_name(target));
	if (cls->version < 2 || !cls->link)
		return synth_construct_failf(fn->c, SYNTH_EINVALID,
					     "cannot link to %s: a %s cannot be linked",
					     synth_construct_name(target), cls->kind);
	if (!access || !*access)
		return synth_construct_failf(fn->c, SYNTH_EINVALID,
					     "the link to %s needs an access level",
					     synth_construct_name(target));
	int rc = cls->link(target, synth_construct_state(target), fn, access);
	return rc < 0 ? fn_fail(fn, rc) : 0;
}

static int env_add(synth_function *fn, const char *name, json_t *value, bool once);

int synth_function_link_env(synth_function *fn, const synth_construct *target, const char *prop,
			    json_t *value)
{
	SYNTH_CHECK_HANDLE(fn);
	SYNTH_CHECK_HANDLE(target);
	synth_buf name = SYNTH_BUF_INIT;
	synth_buf_puts(&name, "SYNTH_");
	for (const char *p = synth_construct_name(target); *p; p++)
		synth_buf_putc(&name, *p == '-' ? '_' : (char)toupper((unsigned char)*p));
	synth_buf_putc(&name, '_');
	synth_buf_puts(&name, prop);
	char *n = synth_buf_detach(&name);
	if (!n) {
		json_decref(value);
		return fn_fail(fn, synth_error_oom());
	}
	int rc = env_add(fn, n, value, false);
	free(n);
	return rc;
}

int synth_function_add_secret(synth_function *fn, const char *name, const char *secret)
{
	SYNTH_CHECK_HANDLE(fn);
	if (fn->fn)
		return synth_construct_failf(fn->c, SYNTH_EINVALID,
					     "secret %s: added after the function was generated "
					     "(add secrets before the backend runs)", name ? name : "");
	synth_env e[2] = {{.name = name, .secret = secret}, {0}};
	if (!name || !secret)
		return synth_construct_failf(fn->c, SYNTH_EINVALID,
					     "a secret needs an environment name and a secret name");
	int rc = add_props_environment(synth_construct_backend(fn->c), fn,
				       synth_construct_name(fn->c), e);
	return rc < 0 ? fn_fail(fn, rc) : 0;
}

/*
 * A variable is set once, as in props: NAME already set (a value or a
 * secret) to anything else is an error naming FN and NAME. The same value
 * again is accepted and does nothing (linking one target twice with
 * different access levels sets its variables twice). Returns 1 when NAME is
 * new, 0 when it holds VALUE already (VALUE released), or a negative code
 * (VALUE released, the error set).
 */
static int env_set_once(synth_function *fn, const char *name, json_t *value)
{
	json_t *old = json_object_get(fn->env, name);
	if (!old && fn->fn) {
		json_t *props = synth_resource_properties(fn->fn);
		old = json_object_get(json_object_get(json_object_get(props, "Environment"),
						      "Variables"), name);
	}
	if (!old && !json_object_get(fn->secrets, name))
		return 1;
	int same = old && json_equal(old, value);
	json_decref(value);
	if (same)
		return 0;
	return synth_construct_failf(fn->c, SYNTH_EEXISTS,
				     "environment variable %s is set already (to %s); a "
				     "variable is set once", name,
				     old ? "another value" : "a secret");
}

int synth_function_add_environment(synth_function *fn, const char *name, json_t *value)
{
	SYNTH_CHECK_HANDLE(fn);
	return env_add(fn, name, value, true);
}

/* Sets NAME to VALUE (stolen) in FN's environment, before or after FN
 * generated; ONCE: as synth_function_add_environment (set once), else it
 * may replace a value (the link variables a target rewrites). */
static int env_add(synth_function *fn, const char *name, json_t *value, bool once)
{
	const char *why = env_name_problem(name);
	if (why || !value) {
		json_decref(value);
		if (why)
			return synth_construct_failf(fn->c, SYNTH_EINVALID,
						     "environment variable name '%s' %s",
						     name ? name : "", why);
		return synth_construct_failf(fn->c, SYNTH_ENOMEM,
					     "environment variable %s has no value", name);
	}
	int rc = once ? env_set_once(fn, name, value) : 1;
	if (rc <= 0)
		return rc; /* construct_failf recorded it */
	json_t *vars = fn->env;
	if (fn->fn) {
		/* Already generated: edit the emitted property tree. */
		json_t *props = synth_resource_properties(fn->fn);
		json_t *envo = json_object_get(props, "Environment");
		if (!envo) {
			envo = json_pack("{s:{}}", "Variables");
			json_object_set_new(props, "Environment", envo);
		}
		vars = json_object_get(envo, "Variables");
	}
	if (json_object_set_new(vars, name, value) < 0)
		return fn_fail(fn, synth_error_oom());
	return check_env_size(synth_construct_name(fn->c), vars, name) < 0
		       ? fn_fail(fn, SYNTH_ELIMIT)
		       : 0;
}

int synth_function_timeout(const synth_function *fn)
{
	SYNTH_CHECK_HANDLE(fn);
	return fn->timeout;
}
