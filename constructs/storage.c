/*
 * define_storage: an S3 bucket with path-based access rules and triggers.
 *
 * Resources, by construct path (NAME is the storage's name):
 *   NAME/Bucket                 AWS::S3::Bucket
 *   NAME/BucketPolicy           AWS::S3::BucketPolicy (deny requests without TLS)
 *   NAME/<Who>Policy            AWS::IAM::Policy on an auth role (guest,
 *                               authenticated, owner, group roles)
 *   NAME/OnUploadPermission, NAME/OnDeletePermission   AWS::Lambda::Permission
 * Functions get their statements through synth_function_grant().
 * Outputs (category "storage", Amplify's names): storageRegion and
 * bucketName for the default bucket; buckets (JSON: every bucket with its
 * paths and access) from the default one.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <synth.h>
#include <synth/sys/construct.h>

struct synth_storage {
	synth_construct *c;
	bool is_default, versioned;
	json_t *rules;      /* [{path, who, actions: [..], fn: construct name}] */
	char *on_upload, *on_delete;
	/* Bucket events (synth_storage_notify_*), in call order. */
	struct notification *notes;
	size_t nnotes, cap_notes;
	/* The bucket's name as Fn::Sub text, once it has notifications. */
	char *bucket_name;
	/* Functions linked to the bucket (their env names it). */
	synth_function **linked;
	size_t nlinked, cap_linked;
};

/* One bucket event destination. */
typedef struct notification {
	char kind;    /* 'f' function, 'q' queue, 't' topic */
	void *target; /* synth_function, synth_queue or synth_topic (borrowed) */
	char *event, *prefix, *suffix;
} notification;

static const synth_construct_class storage_class;
static int link_env(synth_construct *self, synth_storage *s, synth_function *fn);

static void storage_free(void *state)
{
	synth_storage *s = state;
	if (!s)
		return;
	json_decref(s->rules);
	free(s->on_upload);
	free(s->on_delete);
	for (size_t i = 0; i < s->nnotes; i++) {
		free(s->notes[i].event);
		free(s->notes[i].prefix);
		free(s->notes[i].suffix);
	}
	free(s->notes);
	free(s->bucket_name);
	free(s->linked);
	free(s);
}

/* "private/{entity_id}/\*" -> "private/${cognito-identity.amazonaws.com:sub}/\*" */
static char *iam_path(const char *path)
{
	synth_buf b = SYNTH_BUF_INIT;
	const char *p = path;
	const char *ph;
	while ((ph = strstr(p, "{entity_id}"))) {
		synth_buf_put(&b, p, (size_t)(ph - p));
		synth_buf_puts(&b, "${cognito-identity.amazonaws.com:sub}");
		p = ph + strlen("{entity_id}");
	}
	synth_buf_puts(&b, p);
	return synth_buf_detach(&b);
}

/* IAM statements granting ACTIONS on PATH of the bucket. */
static int statements(json_t *out, const char *bucket_path, const char *path, json_t *actions)
{
	char *ip = iam_path(path);
	if (!ip)
		return synth_error_oom();
	char *prefix = strndup(ip, strlen(ip) - 1); /* "media/\*" -> "media/" */
	json_t *objects = json_array();
	bool list = false;
	size_t i;
	json_t *a;
	json_array_foreach(actions, i, a) {
		const char *s = json_string_value(a);
		if (!strcmp(s, "get") || !strcmp(s, "read"))
			json_array_append_new(objects, json_string("s3:GetObject"));
		if (!strcmp(s, "list") || !strcmp(s, "read"))
			list = true;
		if (!strcmp(s, "write"))
			json_array_append_new(objects, json_string("s3:PutObject"));
		if (!strcmp(s, "delete"))
			json_array_append_new(objects, json_string("s3:DeleteObject"));
	}
	if (json_array_size(objects))
		json_array_append_new(
			out, json_pack("{s:s,s:o,s:o}", "Effect", "Allow", "Action", objects, "Resource",
				       synth_join("", json_pack("[o,s,s]", synth_getatt(bucket_path, "Arn"),
								"/", ip))));
	else
		json_decref(objects);
	if (list)
		json_array_append_new(
			out, json_pack("{s:s,s:s,s:o,s:{s:{s:[s,s]}}}", "Effect", "Allow", "Action",
				       "s3:ListBucket", "Resource", synth_getatt(bucket_path, "Arn"),
				       "Condition", "StringLike", "s3:prefix", prefix ? prefix : "", ip));
	free(prefix);
	free(ip);
	return 0;
}

/* --- bucket events ------------------------------------------------------ */

/* The bucket's ARN from its name (no reference to the bucket). */
static json_t *named_arn(const synth_storage *s)
{
	char *fmt = synth_asprintf("arn:${AWS::Partition}:s3:::%s", s->bucket_name);
	json_t *t = fmt ? synth_sub(fmt, NULL) : NULL;
	free(fmt);
	return t;
}

/* Adds R to the bucket's dependencies once. */
static int add_dep(synth_resource ***deps, size_t *n, size_t *cap, synth_resource *r)
{
	for (size_t i = 0; i < *n; i++)
		if ((*deps)[i] == r)
			return 0;
	if (synth_array_grow((void **)deps, n, cap, sizeof **deps) < 0)
		return SYNTH_ENOMEM;
	(*deps)[(*n)++] = r;
	return 0;
}

/* {Event, <KEY>: TARGET (stolen), Filter} for one notification. */
static json_t *note_entry(const notification *n, const char *key, json_t *target)
{
	json_t *e = json_pack("{s:s,s:o}", "Event", n->event, key, target);
	json_t *rules = json_array();
	if (e && rules && *n->prefix)
		json_array_append_new(rules, json_pack("{s:s,s:s}", "Name", "prefix", "Value",
						       n->prefix));
	if (e && rules && *n->suffix)
		json_array_append_new(rules, json_pack("{s:s,s:s}", "Name", "suffix", "Value",
						       n->suffix));
	if (e && json_array_size(rules))
		json_object_set_new(e, "Filter", json_pack("{s:{s:O}}", "S3Key", "Rules", rules));
	json_decref(rules);
	return e;
}

/* The Lambda permission of a trigger or notification: S3 may invoke FN
 * from this account, and, once the bucket is named, from this bucket. */
static int lambda_permission(synth_resource **out, synth_construct *self,
			     const synth_storage *s, const char *id, json_t *fn_arn)
{
	json_t *props = json_pack("{s:s,s:o,s:s,s:o}", "Action", "lambda:InvokeFunction",
				  "FunctionName", fn_arn, "Principal", "s3.amazonaws.com",
				  "SourceAccount", synth_pseudo("AWS::AccountId"));
	if (props && s->bucket_name)
		json_object_set_new(props, "SourceArn", named_arn(s));
	int rc = synth_resource_new(NULL, self, id, "AWS::Lambda::Permission", props);
	if (rc == 0) {
		char *p = synth_asprintf("%s/%s", synth_construct_name(self), id);
		*out = p ? synth_backend_resource(synth_construct_backend(self), p) : NULL;
		free(p);
		rc = *out ? 0 : synth_error_oom();
	}
	return rc;
}

/* One notification into LAMBDAS / QUEUES / TOPICS, with the permission
 * or policy the bucket waits for. */
static int notification_entry(synth_construct *self, const synth_storage *s,
			      const notification *n, json_t *conf[3], synth_resource **dep)
{
	synth_backend *b = synth_construct_backend(self);
	*dep = NULL;
	if (n->kind == 'f') {
		synth_function *fn = n->target;
		const char *fname = synth_construct_name(synth_function_construct(fn));
		char *id = synth_asprintf("%sNotificationPermission", fname);
		char *path = id ? synth_asprintf("%s/%s", synth_construct_name(self), id) : NULL;
		int rc = path ? 0 : synth_error_oom();
		*dep = path ? synth_backend_resource(b, path) : NULL;
		if (rc == 0 && !*dep)
			rc = lambda_permission(dep, self, s, id, synth_function_arn(fn));
		free(id);
		free(path);
		json_t *e = rc == 0 ? note_entry(n, "Function", synth_function_arn(fn)) : NULL;
		return rc < 0 ? rc : json_array_append_new(conf[0], e) < 0 ? synth_error_oom() : 0;
	}
	synth_construct *c = n->kind == 'q' ? synth_queue_construct(n->target)
					    : synth_topic_construct(n->target);
	int rc = synth_construct_require(self, c);
	if (rc < 0)
		return rc;
	char *path = synth_asprintf("%s/Policy", synth_construct_name(c));
	*dep = path ? synth_backend_resource(b, path) : NULL;
	free(path);
	json_t *e = n->kind == 'q' ? note_entry(n, "Queue", synth_queue_arn(n->target))
				   : note_entry(n, "Topic", synth_topic_arn(n->target));
	if (!*dep || !e) {
		json_decref(e);
		return synth_error_oom();
	}
	return json_array_append_new(conf[n->kind == 'q' ? 1 : 2], e) < 0 ? synth_error_oom() : 0;
}

/* The bucket's NotificationConfiguration into PROPS: the props' triggers
 * (unchanged for a bucket without notifications), then the
 * notifications; *deps what the bucket must be created after. */
static int notifications(synth_construct *self, synth_storage *s, json_t *props,
			 synth_resource ***deps, size_t *ndeps, size_t *cap)
{
	json_t *conf[3] = {json_array(), json_array(), json_array()};
	static const char *const keys[3] = {"LambdaConfigurations", "QueueConfigurations",
					    "TopicConfigurations"};
	int rc = conf[0] && conf[1] && conf[2] ? 0 : synth_error_oom();
	const char *trig[2][3] = {{s->on_upload, "s3:ObjectCreated:*", "OnUploadPermission"},
				  {s->on_delete, "s3:ObjectRemoved:*", "OnDeletePermission"}};
	for (int k = 0; rc == 0 && k < 2; k++) {
		if (!trig[k][0])
			continue;
		char *fp = synth_asprintf("%s/Resource", trig[k][0]);
		synth_resource *perm = NULL;
		json_array_append_new(conf[0], json_pack("{s:s,s:o}", "Event", trig[k][1],
							 "Function", synth_getatt(fp, "Arn")));
		rc = lambda_permission(&perm, self, s, trig[k][2], synth_getatt(fp, "Arn"));
		if (rc == 0)
			rc = add_dep(deps, ndeps, cap, perm);
		free(fp);
	}
	for (size_t i = 0; rc == 0 && i < s->nnotes; i++) {
		synth_resource *dep = NULL;
		rc = notification_entry(self, s, &s->notes[i], conf, &dep);
		if (rc == 0)
			rc = add_dep(deps, ndeps, cap, dep);
	}
	json_t *nc = json_object();
	for (int k = 0; rc == 0 && k < 3; k++)
		if (json_array_size(conf[k]))
			json_object_set(nc, keys[k], conf[k]);
	if (rc == 0 && json_object_size(nc))
		json_object_set(props, "NotificationConfiguration", nc);
	json_decref(nc);
	for (int k = 0; k < 3; k++)
		json_decref(conf[k]);
	return rc;
}


/* The bucket (private, encrypted, CORS for browsers), its triggers and
 * its TLS-only policy. */
static int bucket_resources(synth_construct *self, synth_storage *s, const char *bpath)
{
	int rc = 0;
	json_t *props = json_pack(
		"{s:{s:b,s:b,s:b,s:b},s:{s:[{s:{s:s}}]},s:{s:[{s:s}]},s:{s:[{s:[s],s:[s,s,s,s,s],s:[s],s:[s,s,s,s],s:i}]}}",
		"PublicAccessBlockConfiguration", "BlockPublicAcls", 1, "BlockPublicPolicy", 1,
		"IgnorePublicAcls", 1, "RestrictPublicBuckets", 1, "BucketEncryption",
		"ServerSideEncryptionConfiguration", "ServerSideEncryptionByDefault", "SSEAlgorithm",
		"AES256", "OwnershipControls", "Rules", "ObjectOwnership", "BucketOwnerEnforced",
		"CorsConfiguration", "CorsRules", "AllowedHeaders", "*", "AllowedMethods", "GET",
		"HEAD", "PUT", "POST", "DELETE", "AllowedOrigins", "*", "ExposedHeaders",
		"x-amz-server-side-encryption", "x-amz-request-id", "x-amz-id-2", "ETag", "MaxAge",
		3000);
	if (s->versioned)
		json_object_set_new(props, "VersioningConfiguration",
				    json_pack("{s:s}", "Status", "Enabled"));
	/* Triggers and notifications: S3 checks each destination's permission
	 * when the bucket is configured, so the bucket depends on them. */
	synth_resource **deps = NULL;
	size_t ndeps = 0, cap = 0;
	if (rc == 0)
		rc = notifications(self, s, props, &deps, &ndeps, &cap);
	if (rc == 0 && s->bucket_name)
		json_object_set_new(props, "BucketName", synth_sub(s->bucket_name, NULL));
	synth_resource *bucket = NULL;
	if (rc == 0)
		rc = synth_resource_new(&bucket, self, "Bucket", "AWS::S3::Bucket", props);
	else
		json_decref(props);
	for (size_t k = 0; rc == 0 && k < ndeps; k++)
		rc = synth_resource_add_dependency(bucket, deps[k]);
	free(deps);
	/* TLS only. */
	if (rc == 0)
		rc = synth_resource_new(
			NULL, self, "BucketPolicy", "AWS::S3::BucketPolicy",
			json_pack("{s:o,s:{s:s,s:[{s:s,s:s,s:s,s:[o,o],s:{s:{s:s}}}]}}", "Bucket",
				  synth_ref(bpath), "PolicyDocument", "Version", "2012-10-17",
				  "Statement", "Effect", "Deny", "Principal", "*", "Action", "s3:*",
				  "Resource", synth_getatt(bpath, "Arn"),
				  synth_join("", json_pack("[o,s]", synth_getatt(bpath, "Arn"), "/*")),
				  "Condition", "Bool", "aws:SecureTransport", "false"));

	return rc;
}

/* Access rules: IAM policies on the auth roles, grants to functions. */
static int access_policies(synth_construct *self, synth_storage *s, const char *bpath)
{
	synth_backend *b = synth_construct_backend(self);
	const char *name = synth_construct_name(self);
	int rc = 0;
	size_t i;
	json_t *r;
	/* Access rules: statements per role. */
	json_t *by_role = json_object(); /* role resource path -> statements */
	json_array_foreach(s->rules, i, r) {
		if (rc < 0)
			break;
		const char *who = json_string_value(json_object_get(r, "who"));
		const char *path = json_string_value(json_object_get(r, "path"));
		json_t *acts = json_object_get(r, "actions");
		if (!strcmp(who, "function")) {
			json_t *st = json_array();
			rc = statements(st, bpath, path, acts);
			synth_function *fn = synth_function_from_construct(synth_backend_construct(
				b, json_string_value(json_object_get(r, "fn"))));
			size_t k;
			json_t *x;
			json_array_foreach(st, k, x) {
				json_t *a = json_object_get(x, "Action");
				json_t *list = json_is_array(a) ? a : json_pack("[O]", a);
				size_t n = json_array_size(list);
				const char **names = calloc(n + 1, sizeof *names);
				for (size_t m = 0; names && m < n; m++)
					names[m] = json_string_value(json_array_get(list, m));
				if (rc == 0 && fn && names)
					rc = synth_function_grant(fn, names,
								  json_incref(json_object_get(x, "Resource")));
				free(names);
				if (list != a)
					json_decref(list);
			}
			json_decref(st);
			continue;
		}
		char rp[128];
		if (!strcmp(who, "guest"))
			snprintf(rp, sizeof rp, "auth/UnauthenticatedRole");
		else if (!strcmp(who, "authenticated") || !strcmp(who, "owner"))
			snprintf(rp, sizeof rp, "auth/AuthenticatedRole");
		else
			snprintf(rp, sizeof rp, "auth/Group%sRole", who + 6);
		if (!synth_backend_resource(b, rp)) {
			rc = synth_error_setf(SYNTH_ENOTFOUND, "%s: access for '%s': auth has no such "
					      "group", name, who);
			break;
		}
		json_t *st = json_object_get(by_role, rp);
		if (!st) {
			st = json_array();
			json_object_set_new(by_role, rp, st);
		}
		rc = statements(st, bpath, path, acts);
	}
	const char *rp;
	json_t *st;
	json_object_foreach(by_role, rp, st) {
		if (rc < 0)
			break;
		char id[160];
		const char *role = strchr(rp, '/') + 1;
		snprintf(id, sizeof id, "%sPolicy", role);
		rc = synth_resource_new(
			NULL, self, id, "AWS::IAM::Policy",
			json_pack("{s:s,s:{s:s,s:O},s:[o]}", "PolicyName", id, "PolicyDocument",
				  "Version", "2012-10-17", "Statement", st, "Roles", synth_ref(rp)));
	}
	json_decref(by_role);

	return rc;
}

/* Outputs from the default bucket: its name, and every bucket. */
static int default_outputs(synth_backend *b, const char *bpath)
{
	int rc = 0;
	/* Outputs from the default bucket: its name, and every bucket. */
	{
		rc = synth_backend_add_output(b, "storage", "storageRegion",
					      synth_pseudo("AWS::Region"), NULL, NULL);
		if (rc == 0)
			rc = synth_backend_add_output(b, "storage", "bucketName", synth_ref(bpath),
						      NULL, NULL);
		/* buckets: a JSON string whose bucket names are resolved by
		 * CloudFormation (Fn::Sub variables). */
		json_t *vars = json_object(), *list = json_array();
		for (synth_construct *c = synth_backend_next(b, &storage_class, NULL); rc == 0 && c;
		     c = synth_backend_next(b, &storage_class, c)) {
			synth_storage *o = synth_construct_state(c);
			char var[32];
			snprintf(var, sizeof var, "B%zu", synth_construct_index(c));
			char *obp = synth_asprintf("%s/Bucket", synth_construct_name(c));
			json_object_set_new(vars, var, synth_ref(obp));
			free(obp);
			json_t *paths = json_object();
			size_t m;
			json_t *rule;
			json_array_foreach(o->rules, m, rule) {
				const char *pth = json_string_value(json_object_get(rule, "path"));
				const char *w = json_string_value(json_object_get(rule, "who"));
				json_t *pe = json_object_get(paths, pth);
				if (!pe) {
					pe = json_object();
					json_object_set_new(paths, pth, pe);
				}
				char key[96];
				if (!strcmp(w, "function"))
					snprintf(key, sizeof key, "%s",
						 json_string_value(json_object_get(rule, "fn")));
				else if (!strncmp(w, "group:", 6))
					snprintf(key, sizeof key, "groups%s", w + 6);
				else if (!strcmp(w, "owner"))
					snprintf(key, sizeof key, "entityidentity");
				else
					snprintf(key, sizeof key, "%s", w);
				json_object_set(pe, key, json_object_get(rule, "actions"));
			}
			char ref[40];
			snprintf(ref, sizeof ref, "${%s}", var);
			json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:o}", "name", synth_construct_name(c),
							      "bucketName", ref, "storageRegion",
							      "${AWS::Region}", "paths", paths));
		}
		char *text = synth_json_dumps(list, JSON_COMPACT);
		json_t *sub = text ? json_pack("{s:[s,O]}", "Fn::Sub", text, vars) : NULL;
		if (rc == 0)
			rc = synth_backend_add_output(b, "storage", "buckets", sub, NULL, NULL);
		else
			json_decref(sub);
		free(text);
		json_decref(vars);
		json_decref(list);
	}
	return rc;
}

static int storage_generate(synth_construct *self, void *state)
{
	synth_storage *s = state;
	synth_backend *b = synth_construct_backend(self);
	const char *name = synth_construct_name(self);
	/* One default bucket: the only one, or the one marked among several. */
	size_t nstorage = 0, nmarked = 0;
	for (synth_construct *c = synth_backend_next(b, &storage_class, NULL); c;
	     c = synth_backend_next(b, &storage_class, c)) {
		nstorage++;
		nmarked += ((synth_storage *)synth_construct_state(c))->is_default;
	}
	if (nstorage > 1 && nmarked != 1)
		return synth_construct_failf(self, SYNTH_EINVALID,
					     "%zu buckets and %zu marked is_default: mark exactly "
					     "one as the default", nstorage, nmarked);
	bool is_default = nstorage == 1 || s->is_default;
	char *bpath = synth_asprintf("%s/Bucket", name);
	if (!bpath)
		return synth_error_oom();

	/* Rules for auth roles need the auth category, through its token. */
	bool need_auth = false;
	size_t i;
	json_t *r;
	json_array_foreach(s->rules, i, r)
		need_auth |= strcmp(json_string_value(json_object_get(r, "who")), "function") != 0;
	synth_construct *auth = NULL;
	if (need_auth && synth_construct_find(&auth, self, "auth") < 0) {
		free(bpath);
		return SYNTH_ERROR;
	}
	if (need_auth && !auth) {
		free(bpath);
		return synth_construct_failf(self, SYNTH_ENOTFOUND,
					     "access rules for guests, users, groups or owners "
					     "need auth: call synth_define_auth in this backend");
	}

	int rc = bucket_resources(self, s, bpath);
	/* Links made before the first notification named the bucket. */
	for (size_t k = 0; rc == 0 && s->bucket_name && k < s->nlinked; k++)
		rc = link_env(self, s, s->linked[k]);
	if (rc == 0)
		rc = access_policies(self, s, bpath);
	if (rc == 0 && is_default)
		rc = default_outputs(b, bpath);
	free(bpath);
	return rc;
}

/* A linked function's SYNTH_<NAME>_NAME and _ARN: references to the
 * bucket, or, for a bucket with notifications, its name and ARN as text
 * (a function that handles the bucket's events and reads it would
 * otherwise be a cycle: function -> bucket -> permission -> function). */
static int link_env(synth_construct *self, synth_storage *s, synth_function *fn)
{
	char *bpath = synth_asprintf("%s/Bucket", synth_construct_name(self));
	if (!bpath)
		return synth_error_oom();
	int rc = synth_function_link_env(fn, self, "NAME",
					 s->bucket_name ? synth_sub(s->bucket_name, NULL)
							: synth_ref(bpath));
	if (rc == 0)
		rc = synth_function_link_env(fn, self, "ARN",
					     s->bucket_name ? named_arn(s)
							    : synth_getatt(bpath, "Arn"));
	free(bpath);
	return rc;
}

/* synth_function_link: "read" (get and list), "get", "list", "write",
 * "delete", comma-separated, on every key of the bucket; the bucket's name
 * and ARN as SYNTH_<NAME>_NAME and SYNTH_<NAME>_ARN. */
static int storage_link(synth_construct *self, void *state, synth_function *fn,
			const char *access)
{
	synth_storage *s = state;
	json_t *acts = json_array();
	char *list = strdup(access), *save = NULL;
	int rc = acts && list ? 0 : synth_error_oom();
	for (char *t = list ? strtok_r(list, ", ", &save) : NULL; rc == 0 && t;
	     t = strtok_r(NULL, ", ", &save)) {
		if (strcmp(t, "read") && strcmp(t, "get") && strcmp(t, "list") &&
		    strcmp(t, "write") && strcmp(t, "delete"))
			rc = synth_construct_failf(self, SYNTH_EINVALID,
						   "link of %s: access '%s' is not read, get, list, "
						   "write or delete",
						   synth_construct_name(synth_function_construct(fn)), t);
		else
			json_array_append_new(acts, json_string(t));
	}
	free(list);
	char *bpath = rc == 0 ? synth_asprintf("%s/Bucket", synth_construct_name(self)) : NULL;
	json_t *st = json_array();
	if (rc == 0 && (!bpath || !st))
		rc = synth_error_oom();
	if (rc == 0)
		rc = statements(st, bpath, "*", acts);
	size_t i;
	json_t *x;
	json_array_foreach(st, i, x) {
		/* The whole bucket: listing needs no prefix condition (a request
		 * without a prefix carries no s3:prefix key and would fail it). */
		if (json_object_get(x, "Condition"))
			json_object_del(x, "Condition");
		if (rc == 0)
			rc = synth_function_add_statement(fn, json_incref(x));
	}
	if (rc == 0)
		rc = link_env(self, state, fn);
	if (rc == 0 && synth_array_grow((void **)&s->linked, &s->nlinked, &s->cap_linked,
					sizeof *s->linked) < 0)
		rc = synth_error_oom();
	if (rc == 0)
		s->linked[s->nlinked++] = fn;
	json_decref(st);
	json_decref(acts);
	free(bpath);
	return rc;
}

static const synth_construct_class storage_class = {
	SYNTH_CONSTRUCT_CLASS_VERSION, "storage", NULL, storage_generate, storage_free,
	storage_link};

/* One access rule of the props, checked, into S->rules. 0, or
 * SYNTH_EINVALID after synth_backend_failf() naming the storage NM. */
static int add_rule(synth_backend *b, synth_storage *s, const char *nm,
		    const synth_storage_access *a)
{
	size_t pl = strlen(a->path);
	if (pl < 2 || strcmp(a->path + pl - 2, "/*") || a->path[0] == '/' ||
	    strstr(a->path, "//"))
		return synth_backend_failf(b, SYNTH_EINVALID,
					   "%s: access path '%s' must be a prefix ending in \"/*\" "
					   "(\"media/*\", \"private/{entity_id}/*\")", nm, a->path);
	const char *w = a->who ? a->who : "";
	bool group = !strncmp(w, "group:", 6) && w[6];
	if (strcmp(w, "guest") && strcmp(w, "authenticated") && strcmp(w, "owner") &&
	    strcmp(w, "function") && !group)
		return synth_backend_failf(b, SYNTH_EINVALID,
					   "%s: access 'who' '%s' is not guest, authenticated, "
					   "group:<name>, owner or function", nm, w);
	if (!strcmp(w, "owner") && !strstr(a->path, "{entity_id}"))
		return synth_backend_failf(b, SYNTH_EINVALID,
					   "%s: owner access on '%s' needs {entity_id} in the path",
					   nm, a->path);
	if (!strcmp(w, "function") && !a->fn)
		return synth_backend_failf(b, SYNTH_EINVALID,
					   "%s: function access on '%s' has no function", nm, a->path);
	json_t *acts = json_array();
	char *list = strdup(a->actions ? a->actions : ""), *save = NULL;
	if (!acts || !list) {
		json_decref(acts);
		free(list);
		return synth_backend_failf(b, SYNTH_ENOMEM, "out of memory");
	}
	for (char *t = strtok_r(list, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
		if (strcmp(t, "read") && strcmp(t, "get") && strcmp(t, "list") &&
		    strcmp(t, "write") && strcmp(t, "delete")) {
			json_decref(acts);
			int rc = synth_backend_failf(b, SYNTH_EINVALID,
						     "%s: access action '%s' is not read, get, list, "
						     "write or delete", nm, t);
			free(list);
			return rc;
		}
		json_array_append_new(acts, json_string(t));
	}
	free(list);
	if (!json_array_size(acts)) {
		json_decref(acts);
		return synth_backend_failf(b, SYNTH_EINVALID, "%s: access on '%s' lists no actions",
					   nm, a->path);
	}
	json_t *rule = json_pack("{s:s,s:s,s:o}", "path", a->path, "who", w, "actions", acts);
	if (rule && a->fn &&
	    json_object_set_new(rule, "fn", json_string(synth_construct_name(
						    synth_function_construct(a->fn)))) < 0) {
		json_decref(rule);
		rule = NULL;
	}
	if (!rule || json_array_append_new(s->rules, rule) < 0)
		return synth_backend_failf(b, SYNTH_ENOMEM, "out of memory");
	return 0;
}

synth_storage *synth_define_storage(synth_backend *b, const char *name,
				    const synth_storage_props *props)
{
	SYNTH_CHECK_HANDLE(b);
	static const synth_storage_props none = {0};
	const synth_storage_props *p = props ? props : &none;
	const char *nm = name ? name : "storage";
	synth_error_clear();
	synth_storage *s = calloc(1, sizeof *s);
	if (!s || !(s->rules = json_array())) {
		free(s);
		synth_backend_failf(b, SYNTH_ENOMEM, "out of memory");
		return NULL;
	}
	s->versioned = p->versioned;
	s->is_default = p->is_default;
	for (const synth_storage_access *a = p->access; a && a->path; a++)
		if (add_rule(b, s, nm, a) < 0) {
			storage_free(s);
			return NULL;
		}
	if (p->on_upload)
		s->on_upload = strdup(synth_construct_name(synth_function_construct(p->on_upload)));
	if (p->on_delete)
		s->on_delete = strdup(synth_construct_name(synth_function_construct(p->on_delete)));
	if (synth_construct_new(&s->c, b, name, &storage_class, s) < 0)
		return NULL;
	return s;
}

synth_construct *synth_storage_construct(synth_storage *s) { return s ? s->c : NULL; }

json_t *synth_storage_bucket_name(const synth_storage *s)
{
	if (!s)
		return NULL; /* a failed define: its error is recorded */
	char *p = synth_asprintf("%s/Bucket", synth_construct_name(s->c));
	json_t *t = p ? synth_ref(p) : NULL;
	free(p);
	return t;
}

json_t *synth_storage_bucket_arn(const synth_storage *s)
{
	if (!s)
		return NULL; /* a failed define: its error is recorded */
	char *p = synth_asprintf("%s/Bucket", synth_construct_name(s->c));
	json_t *t = p ? synth_getatt(p, "Arn") : NULL;
	free(p);
	return t;
}

/* --- bucket events: the API ---------------------------------------------- */

/* The event types S3 notifications take. */
static const char *const s3_events[] = {
	"s3:ObjectCreated:*", "s3:ObjectCreated:Put", "s3:ObjectCreated:Post",
	"s3:ObjectCreated:Copy", "s3:ObjectCreated:CompleteMultipartUpload",
	"s3:ObjectRemoved:*", "s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated",
	"s3:ObjectRestore:*", "s3:ObjectRestore:Post", "s3:ObjectRestore:Completed",
	"s3:ObjectRestore:Delete", "s3:ReducedRedundancyLostObject", "s3:Replication:*",
	"s3:Replication:OperationFailedReplication", "s3:Replication:OperationNotTracked",
	"s3:Replication:OperationMissedThreshold",
	"s3:Replication:OperationReplicatedAfterThreshold", "s3:LifecycleExpiration:*",
	"s3:LifecycleExpiration:Delete", "s3:LifecycleExpiration:DeleteMarkerCreated",
	"s3:LifecycleTransition", "s3:IntelligentTiering", "s3:ObjectTagging:*",
	"s3:ObjectTagging:Put", "s3:ObjectTagging:Delete", "s3:ObjectAcl:Put", NULL};

/* Whether event types A and B match a common event ("s3:ObjectCreated:*"
 * and "s3:ObjectCreated:Put" do). */
static bool events_overlap(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (!strcmp(a, b))
		return true;
	if (la && a[la - 1] == '*' && !strncmp(a, b, la - 1))
		return true;
	return lb && b[lb - 1] == '*' && !strncmp(a, b, lb - 1);
}

/* Whether key filters overlap: some key matches both. */
static bool keys_overlap(const char *p1, const char *s1, const char *p2, const char *s2)
{
	size_t l1 = strlen(s1), l2 = strlen(s2), m = l1 < l2 ? l1 : l2;
	bool prefixes = !strncmp(p1, p2, strlen(p1) < strlen(p2) ? strlen(p1) : strlen(p2));
	bool suffixes = !strcmp(s1 + l1 - m, s2 + l2 - m);
	return prefixes && suffixes;
}

/* The one of S's triggers and notifications that overlaps (EVENT,
 * PREFIX, SUFFIX), as a description in BUF, or NULL. */
static const char *overlapping(const synth_storage *s, const char *event, const char *prefix,
			       const char *suffix, char *buf, size_t size)
{
	const char *trig[2][2] = {{s->on_upload, "s3:ObjectCreated:*"},
				  {s->on_delete, "s3:ObjectRemoved:*"}};
	for (int k = 0; k < 2; k++)
		if (trig[k][0] && events_overlap(event, trig[k][1]) &&
		    keys_overlap(prefix, suffix, "", "")) {
			snprintf(buf, size, "the %s trigger of %s", k ? "on_delete" : "on_upload",
				 trig[k][0]);
			return buf;
		}
	for (size_t i = 0; i < s->nnotes; i++) {
		const notification *n = &s->notes[i];
		if (!events_overlap(event, n->event) ||
		    !keys_overlap(prefix, suffix, n->prefix, n->suffix))
			continue;
		synth_construct *c = n->kind == 'f' ? synth_function_construct(n->target)
				     : n->kind == 'q' ? synth_queue_construct(n->target)
						      : synth_topic_construct(n->target);
		snprintf(buf, size, "the notification of %s (%s, prefix '%s', suffix '%s')",
			 synth_construct_name(c), n->event, n->prefix, n->suffix);
		return buf;
	}
	return NULL;
}

/* Names the bucket (see storage.h): "<name>-<hash>-<account>-<region>",
 * lower case, at most 20 + 1 + 10 + 1 + 12 + 1 + 14 (the longest region
 * names) = 59 characters. */
static int name_bucket(synth_storage *s)
{
	if (s->bucket_name)
		return 0;
	synth_backend *b = synth_construct_backend(s->c);
	const char *name = synth_construct_name(s->c);
	char label[21];
	size_t n = 0;
	for (const char *p = name; *p && n < sizeof label - 1; p++) {
		char ch = (char)tolower((unsigned char)*p);
		if (isalnum((unsigned char)ch))
			label[n++] = ch;
		else if (n && label[n - 1] != '-')
			label[n++] = '-';
	}
	while (n && label[n - 1] == '-')
		n--;
	label[n] = '\0';
	char *key = synth_asprintf("%s/%s/Bucket", synth_backend_stack_name(b), name);
	char hex[65];
	int rc = key ? synth_sha256_hex(key, strlen(key), hex) : SYNTH_ENOMEM;
	free(key);
	if (rc == 0)
		s->bucket_name = synth_asprintf("%s%s%.10s-${AWS::AccountId}-${AWS::Region}",
						label, n ? "-" : "b-", hex);
	return s->bucket_name ? 0 : synth_error_oom();
}

/* Checks and records a notification of S to TARGET (its construct C). */
static int notify(synth_storage *s, char kind, void *target, synth_construct *c,
		  const char *events, const char *prefix, const char *suffix)
{
	const char *tname = synth_construct_name(c);
	const char *pre = prefix ? prefix : "", *suf = suffix ? suffix : "";
	if (strlen(pre) > 1024 || strlen(suf) > 1024)
		return synth_construct_failf(s->c, SYNTH_EINVALID,
					     "notification of %s: prefix or suffix longer than "
					     "1024 characters", tname);
	char *list = strdup(events ? events : "s3:ObjectCreated:*"), *save = NULL;
	if (!list)
		return synth_construct_failf(s->c, SYNTH_ENOMEM, "out of memory");
	int rc = 0, count = 0;
	for (char *e = strtok_r(list, ", ", &save); rc == 0 && e; e = strtok_r(NULL, ", ", &save)) {
		bool known = false;
		for (const char *const *k = s3_events; *k; k++)
			known |= !strcmp(*k, e);
		char other[256];
		const char *clash = known ? overlapping(s, e, pre, suf, other, sizeof other) : NULL;
		if (!known)
			rc = synth_construct_failf(s->c, SYNTH_EINVALID,
						   "notification of %s: '%s' is not an S3 event "
						   "type (s3:ObjectCreated:*, s3:ObjectRemoved:*, ...)",
						   tname, e);
		else if (clash)
			rc = synth_construct_failf(s->c, SYNTH_EINVALID,
						   "notification of %s (%s, prefix '%s', suffix "
						   "'%s') overlaps %s: S3 refuses overlapping "
						   "notifications", tname, e, pre, suf, clash);
		else if (synth_array_grow((void **)&s->notes, &s->nnotes, &s->cap_notes,
					  sizeof *s->notes) < 0)
			rc = synth_construct_failf(s->c, SYNTH_ENOMEM, "out of memory");
		else {
			notification *n = &s->notes[s->nnotes++];
			*n = (notification){kind, target, strdup(e), strdup(pre), strdup(suf)};
			count++;
			if (!n->event || !n->prefix || !n->suffix)
				rc = synth_construct_failf(s->c, SYNTH_ENOMEM, "out of memory");
		}
	}
	free(list);
	if (rc == 0 && !count)
		rc = synth_construct_failf(s->c, SYNTH_EINVALID,
					   "notification of %s lists no events", tname);
	if (rc == 0 && name_bucket(s) < 0)
		rc = synth_construct_failf(s->c, SYNTH_ENOMEM, "out of memory");
	return rc;
}

int synth_storage_notify_function(synth_storage *s, synth_function *fn, const char *events,
				  const char *prefix, const char *suffix)
{
	if (!s || !fn)
		return synth_error_setf(SYNTH_EINVALID,
					"synth_storage_notify_function: no %s (its definition "
					"failed)", !s ? "storage" : "function");
	return notify(s, 'f', fn, synth_function_construct(fn), events, prefix, suffix);
}

/* A queue or topic: S3 delivers to standard ones only, and the policy
 * lets exactly this bucket send. */
static int notify_service(synth_storage *s, char kind, void *target, synth_construct *c,
			  bool fifo, const char *events, const char *prefix, const char *suffix)
{
	const char *what = kind == 'q' ? "queue" : "topic";
	if (fifo)
		return synth_construct_failf(s->c, SYNTH_EINVALID,
					     "cannot notify FIFO %s %s: S3 delivers to standard "
					     "%ss only", what, synth_construct_name(c), what);
	size_t before = s->nnotes;
	int rc = notify(s, kind, target, c, events, prefix, suffix);
	char *sid = rc == 0 ? synth_asprintf("FromBucket%s", synth_construct_name(s->c)) : NULL;
	if (rc < 0)
		return rc;
	if (!sid)
		return synth_construct_failf(s->c, SYNTH_ENOMEM, "out of memory");
	/* One statement per bucket: a second notification of the same
	 * destination is already allowed. */
	for (size_t i = 0; i < before; i++)
		if (s->notes[i].target == target) {
			free(sid);
			return 0;
		}
	rc = kind == 'q' ? synth_queue_allow_send(target, sid, "s3.amazonaws.com", named_arn(s))
			 : synth_topic_allow_publish(target, sid, "s3.amazonaws.com", named_arn(s));
	free(sid);
	return rc;
}

int synth_storage_notify_queue(synth_storage *s, synth_queue *q, const char *events,
			       const char *prefix, const char *suffix)
{
	if (!s || !q)
		return synth_error_setf(SYNTH_EINVALID,
					"synth_storage_notify_queue: no %s (its definition failed)",
					!s ? "storage" : "queue");
	return notify_service(s, 'q', q, synth_queue_construct(q), synth_queue_is_fifo(q), events,
			      prefix, suffix);
}

int synth_storage_notify_topic(synth_storage *s, synth_topic *t, const char *events,
			       const char *prefix, const char *suffix)
{
	if (!s || !t)
		return synth_error_setf(SYNTH_EINVALID,
					"synth_storage_notify_topic: no %s (its definition failed)",
					!s ? "storage" : "topic");
	return notify_service(s, 't', t, synth_topic_construct(t), synth_topic_is_fifo(t), events,
			      prefix, suffix);
}
