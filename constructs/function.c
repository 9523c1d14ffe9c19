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
 *   <name>/Schedule                    AWS::Events::Rule (with a schedule)
 *   <name>/SchedulePermission          AWS::Lambda::Permission
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include "synth.h"
#include "../lib/core/internal.h"

struct synth_function {
	synth_construct *c;
	char *entry, *runtime, *handler, *arch, *description, *schedule;
	int memory, timeout, retention;
	json_t *env;        /* name -> value (string or token) */
	json_t *secrets;    /* env name -> secret name */
	json_t *statements; /* IAM statements granted by others */
	char **exclude;
	synth_resource *policy;
	synth_resource *fn;
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
	if (!strcmp(name, "SYNTH_SSM_ENV_CONFIG"))
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
	free(f->schedule);
	json_decref(f->env);
	json_decref(f->secrets);
	json_decref(f->statements);
	synth_strv_free(f->exclude);
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
	char *pname = synth_asprintf("%sDefaultPolicy", f->c->name);
	char *rp = synth_asprintf("%s/ServiceRole", f->c->name);
	json_t *props = pname && rp ? json_pack("{s:s,s:o,s:[o]}", "PolicyName", pname,
						"PolicyDocument", policy_doc(f->statements),
						"Roles", synth_ref(rp))
				    : NULL;
	free(pname);
	free(rp);
	if (!props)
		return synth_error_oom();
	return synth_resource_new(&f->policy, f->c, "ServiceRole/DefaultPolicy",
				  "AWS::IAM::Policy", props);
}

static int fn_generate(synth_construct *self, void *state)
{
	synth_function *f = state;
	synth_backend *b = self->b;
	const char *name = self->name;
	int rc;

	/* The code asset: registered now, zipped before the templates are
	 * written; tokens stand for its S3 key and file until then. */
	size_t asset;
	rc = synth__backend_asset(&asset, b, f->entry, (const char *const *)f->exclude, name);
	if (rc < 0)
		return synth__backend_fail(b);
	char *p_role = synth_asprintf("%s/ServiceRole", name);
	char *p_log = synth_asprintf("%s/LogGroup", name);
	char *p_fn = synth_asprintf("%s/Resource", name);
	char *p_rule = synth_asprintf("%s/Schedule", name);
	if (!p_role || !p_log || !p_fn || !p_rule) {
		rc = synth_error_oom();
		goto out;
	}

	/* Log group, then the role that may write to it and nothing else. */
	rc = synth_resource_new(NULL, self, "LogGroup", "AWS::Logs::LogGroup",
				json_pack("{s:i}", "RetentionInDays", f->retention));
	if (rc == 0)
		rc = synth_resource_set_deletion_policy(synth_backend_resource(b, p_log),
							"Delete");
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

	/* Secrets: the function learns the parameter paths, never the values,
	 * and may read exactly those parameters. */
	json_t *env = json_deep_copy(f->env);
	if (rc == 0 && !env)
		rc = synth_error_oom();
	if (rc == 0 && json_object_size(f->secrets)) {
		json_t *cfg = json_object(), *arns = json_array();
		const char *var;
		json_t *sec;
		json_object_foreach(f->secrets, var, sec) {
			char *path = NULL, *shared = NULL;
			const char *sn = json_string_value(sec);
			if (synth_secret_path(&path, b, sn) < 0 ||
			    synth_secret_shared_path(&shared, b, sn) < 0) {
				free(path);
				rc = synth__backend_fail(b);
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
		char *text = synth_json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS);
		if (rc == 0 && text)
			json_object_set_new(env, "SYNTH_SSM_ENV_CONFIG", json_string(text));
		free(text);
		json_decref(cfg);
		if (rc == 0)
			json_array_append_new(f->statements,
					      json_pack("{s:s,s:[s],s:o}", "Effect", "Allow",
							"Action", "ssm:GetParameters",
							"Resource", arns));
		else
			json_decref(arns);
	}

	json_t *props = NULL;
	if (rc == 0) {
		props = json_pack(
			"{s:{s:{s:s},s:o},s:s,s:s,s:o,s:i,s:i,s:[s],s:{s:o}}", "Code",
			"S3Bucket", "Fn::Sub", "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}",
			"S3Key", synth__asset_token(asset, "key"), "Runtime", f->runtime, "Handler", f->handler, "Role",
			synth_getatt(p_role, "Arn"), "MemorySize", f->memory, "Timeout",
			f->timeout, "Architectures", f->arch, "LoggingConfig", "LogGroup",
			synth_ref(p_log));
		if (props && f->description)
			json_object_set_new(props, "Description", json_string(f->description));
		if (props && json_object_size(env))
			json_object_set_new(props, "Environment",
					    json_pack("{s:O}", "Variables", env));
		if (!props)
			rc = synth_error_oom();
	}
	json_decref(env);
	if (rc == 0)
		rc = synth_resource_new(&f->fn, self, "Resource", "AWS::Lambda::Function", props);
	/* Where the code came from, for tools that read the assembly. */
	if (rc == 0)
		rc = synth_resource_add_metadata(f->fn, "aws:asset:path",
						 synth__asset_token(asset, "file"));
	if (rc == 0)
		rc = synth_resource_add_metadata(f->fn, "aws:asset:property",
						 json_string("Code"));
	if (rc == 0 && json_array_size(f->statements))
		rc = ensure_policy(f);

	if (rc == 0 && f->schedule) {
		rc = synth_resource_new(
			NULL, self, "Schedule", "AWS::Events::Rule",
			json_pack("{s:s,s:s,s:[{s:o,s:s}]}", "ScheduleExpression", f->schedule,
				  "State", "ENABLED", "Targets", "Arn",
				  synth_getatt(p_fn, "Arn"), "Id", "Target0"));
		if (rc == 0)
			rc = synth_resource_new(
				NULL, self, "SchedulePermission", "AWS::Lambda::Permission",
				json_pack("{s:s,s:o,s:s,s:o}", "Action", "lambda:InvokeFunction",
					  "FunctionName", synth_getatt(p_fn, "Arn"), "Principal",
					  "events.amazonaws.com", "SourceArn",
					  synth_getatt(p_rule, "Arn")));
	}
out:
	free(p_role);
	free(p_log);
	free(p_fn);
	free(p_rule);
	return rc < 0 ? synth__backend_fail(b) : 0;
}

static const synth_construct_class function_class = {
	SYNTH_CONSTRUCT_CLASS_VERSION, "function", NULL, fn_generate, fn_free};

static int bad(synth_backend *b, const char *name, const char *fmt, const char *v)
{
	char msg[512];
	snprintf(msg, sizeof msg, fmt, v);
	synth_error_setf(SYNTH_EINVALID, "%s: %s", name, msg);
	return synth__backend_fail(b);
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
	if (synth_runtime_check(runtime) < 0) {
		synth_error_setf(synth_error_last()->code, "%s: %s", nm,
				 synth_error_last()->message);
		synth__backend_fail(b);
		return NULL;
	}
	if (p->memory_mb && (p->memory_mb < 128 || p->memory_mb > 10240)) {
		char v[32];
		snprintf(v, sizeof v, "%d", p->memory_mb);
		bad(b, nm, "memory %s MB is outside 128..10240", v);
		return NULL;
	}
	if (p->timeout_s && (p->timeout_s < 1 || p->timeout_s > 900)) {
		char v[32];
		snprintf(v, sizeof v, "%d", p->timeout_s);
		bad(b, nm, "timeout %s s is outside 1..900", v);
		return NULL;
	}
	if (p->architecture && strcmp(p->architecture, "x86_64") &&
	    strcmp(p->architecture, "arm64")) {
		bad(b, nm, "architecture '%s' is neither x86_64 nor arm64", p->architecture);
		return NULL;
	}
	if (p->description && strlen(p->description) > 256) {
		bad(b, nm, "description is longer than Lambda's 256 characters%s", "");
		return NULL;
	}
	if (p->handler && (!*p->handler || strlen(p->handler) > 128)) {
		bad(b, nm, "handler '%s' must have 1 to 128 characters", p->handler);
		return NULL;
	}
	int retention = p->log_retention_days ? p->log_retention_days : 14;
	bool ok = false;
	for (const int *d = retention_days; *d; d++)
		ok |= *d == retention;
	if (!ok) {
		char v[32];
		snprintf(v, sizeof v, "%d", retention);
		bad(b, nm, "log retention of %s days is not a CloudWatch Logs value "
			   "(1, 3, 5, 7, 14, 30, 60, 90, ... 3653)", v);
		return NULL;
	}
	char *sched = NULL;
	if (p->schedule && synth_schedule_parse(&sched, p->schedule) < 0) {
		synth_error_setf(synth_error_last()->code, "%s: %s", nm,
				 synth_error_last()->message);
		synth__backend_fail(b);
		return NULL;
	}

	synth_function *f = calloc(1, sizeof *f);
	if (!f) {
		free(sched);
		synth_error_oom();
		synth__backend_fail(b);
		return NULL;
	}
	f->schedule = sched;
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
	for (const synth_env *e = p->environment; rc == 0 && e && e->name; e++) {
		const char *why = env_name_problem(e->name);
		if (why)
			rc = synth_error_setf(SYNTH_EINVALID,
					      "%s: environment variable name '%s' %s", nm, e->name,
					      why);
		else if (!!e->value == !!e->secret)
			rc = synth_error_setf(SYNTH_EINVALID,
					      "%s: environment variable %s needs exactly one of "
					      "value and secret", nm, e->name);
		else if (json_object_get(f->env, e->name) || json_object_get(f->secrets, e->name))
			rc = synth_error_setf(SYNTH_EINVALID,
					      "%s: environment variable %s is set twice", nm,
					      e->name);
		else if (e->secret && !synth_name_valid(e->secret, 128))
			rc = synth_error_setf(SYNTH_EINVALID,
					      "%s: secret name '%s' is not valid", nm, e->secret);
		else
			json_object_set_new(e->value ? f->env : f->secrets, e->name,
					    json_string(e->value ? e->value : e->secret));
	}
	if (rc < 0) {
		fn_free(f);
		synth__backend_fail(b);
		return NULL;
	}
	if (synth_construct_new(&f->c, b, name, &function_class, f) < 0)
		return NULL; /* f was freed by synth_construct_new */
	return f;
}

synth_construct *synth_function_construct(synth_function *fn) { return fn->c; }

static json_t *token(const synth_function *fn, const char *res, const char *attr)
{
	if (!fn)
		return NULL;
	char *p = synth_asprintf("%s/%s", fn->c->name, res);
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

int synth_function_grant(synth_function *fn, const char *const *actions,
			 json_t *resources)
{
	if (!fn || !actions || !actions[0] || !resources) {
		json_decref(resources);
		if (!resources)
			synth_error_setf(SYNTH_ENOMEM, "%s: a grant has no resources (NULL: did "
					 "a value builder run out of memory?)",
					 fn ? fn->c->name : "(no function)");
		else
			synth_error_setf(SYNTH_EINVALID, "%s: a grant needs actions",
					 fn ? fn->c->name : "(no function)");
		return fn ? synth__backend_fail(fn->c->b) : SYNTH_EINVALID;
	}
	json_t *acts = json_array();
	for (size_t i = 0; actions[i]; i++)
		json_array_append_new(acts, json_string(actions[i]));
	json_t *st = json_pack("{s:s,s:o,s:o}", "Effect", "Allow", "Action", acts,
			       "Resource", resources);
	if (!st || json_array_append_new(fn->statements, st) < 0) {
		synth_error_oom();
		return synth__backend_fail(fn->c->b);
	}
	/* Granted after generation: the policy resource appears now. */
	int rc = fn->fn ? ensure_policy(fn) : 0;
	return rc < 0 ? synth__backend_fail(fn->c->b) : 0;
}

int synth_function_add_environment(synth_function *fn, const char *name, json_t *value)
{
	const char *why = env_name_problem(name);
	if (!fn || why || !value) {
		json_decref(value);
		if (why)
			synth_error_setf(SYNTH_EINVALID, "%s: environment variable name '%s' %s",
					 fn ? fn->c->name : "(no function)", name ? name : "", why);
		else
			synth_error_setf(value ? SYNTH_EINVALID : SYNTH_ENOMEM,
					 "%s: environment variable %s has no value",
					 fn ? fn->c->name : "(no function)", name);
		return fn ? synth__backend_fail(fn->c->b) : SYNTH_EINVALID;
	}
	if (fn->fn) {
		/* Already generated: edit the emitted property tree. */
		json_t *props = synth_resource_properties(fn->fn);
		json_t *envo = json_object_get(props, "Environment");
		if (!envo) {
			envo = json_pack("{s:{}}", "Variables");
			json_object_set_new(props, "Environment", envo);
		}
		if (json_object_set_new(json_object_get(envo, "Variables"), name, value) < 0) {
			synth_error_oom();
			return synth__backend_fail(fn->c->b);
		}
		return 0;
	}
	if (json_object_set_new(fn->env, name, value) < 0) {
		synth_error_oom();
		return synth__backend_fail(fn->c->b);
	}
	return 0;
}
