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
#include <assert.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <synth.h>
#include <synth/sys/construct.h>

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

static int fn_generate(synth_construct *self, void *state)
{
	synth_function *f = state;
	const char *name = synth_construct_name(self);

	/* The code asset: registered now, zipped before the templates are
	 * written; tokens stand for its S3 key and file until then. */
	size_t asset;
	int rc = synth_construct_add_dir_asset(&asset, self, f->entry,
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

/* Props checks; the message names the function. 0 or SYNTH_EINVALID. */
static int check_props(synth_backend *b, const char *nm, const synth_function_props *p,
		       const char *runtime, int retention)
{
	if (synth_runtime_check(runtime) < 0)
		return synth_backend_failf(b, synth_error_last()->code, "%s: %s", nm,
					   synth_error_last()->message);
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

/* The environment of the props into F (names checked). */
static int add_props_environment(synth_function *f, const char *nm, const synth_env *e)
{
	for (; e && e->name; e++) {
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
		if (e->secret && !synth_name_valid(e->secret, 128))
			return synth_error_setf(SYNTH_EINVALID, "%s: secret name '%s' is not valid",
						nm, e->secret);
		if (json_object_set_new(e->value ? f->env : f->secrets, e->name,
					json_string(e->value ? e->value : e->secret)) < 0)
			return synth_error_oom();
	}
	return 0;
}

synth_function *synth_define_function(synth_backend *b, const char *name,
				      const synth_function_props *props)
{
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
			 : synth_strv_dup(&f->exclude, p->exclude);
	if (rc == 0)
		rc = add_props_environment(f, nm, p->environment);
	if (rc < 0) {
		fn_free(f);
		synth_backend_failf(b, rc, "%s", synth_error_last()->message);
		return NULL;
	}
	if (synth_construct_new(&f->c, b, name, &function_class, f) < 0)
		return NULL; /* f was freed by synth_construct_new */
	if (p->schedule && synth_function_add_schedule(f, p->schedule) < 0)
		return NULL;
	return f;
}

synth_construct *synth_function_construct(synth_function *fn) { return fn->c; }

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
	assert(fn && "synth_function_add_statement: NULL function");
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
	assert(fn && "synth_function_grant: NULL function");
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
	assert(fn && r && "synth_function_depend_on_policy: NULL argument");
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
	assert(fn && "synth_function_add_event_source: NULL function");
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
	assert(fn && "synth_function_link: NULL function");
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

int synth_function_link_env(synth_function *fn, const synth_construct *target, const char *prop,
			    json_t *value)
{
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
	int rc = synth_function_add_environment(fn, n, value);
	free(n);
	return rc;
}

int synth_function_add_environment(synth_function *fn, const char *name, json_t *value)
{
	assert(fn && "synth_function_add_environment: NULL function");
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
	return 0;
}

int synth_function_timeout(const synth_function *fn)
{
	assert(fn && "synth_function_timeout: NULL function");
	return fn->timeout;
}
