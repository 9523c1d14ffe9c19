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
#include <stdlib.h>
#include <string.h>
#include <synth.h>
#include <synth/sys/construct.h>

struct synth_storage {
	synth_construct *c;
	bool is_default, versioned;
	json_t *rules;      /* [{path, who, actions: [..], fn: construct name}] */
	char *on_upload, *on_delete;
};

static const synth_construct_class storage_class;

static void storage_free(void *state)
{
	synth_storage *s = state;
	if (!s)
		return;
	json_decref(s->rules);
	free(s->on_upload);
	free(s->on_delete);
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

/* The bucket (private, encrypted, CORS for browsers), its triggers and
 * its TLS-only policy. */
static int bucket_resources(synth_construct *self, synth_storage *s, const char *bpath)
{
	synth_backend *b = synth_construct_backend(self);
	const char *name = synth_construct_name(self);
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
	/* Triggers: S3 checks the permission when the bucket is configured,
	 * so the bucket depends on it; the permission names the account, not
	 * the bucket (which would be a cycle). */
	json_t *lambdas = json_array();
	const char *trig[2][3] = {{s->on_upload, "s3:ObjectCreated:*", "OnUploadPermission"},
				  {s->on_delete, "s3:ObjectRemoved:*", "OnDeletePermission"}};
	for (int k = 0; k < 2; k++) {
		if (!trig[k][0])
			continue;
		char *fp = synth_asprintf("%s/Resource", trig[k][0]);
		json_array_append_new(lambdas, json_pack("{s:s,s:o}", "Event", trig[k][1], "Function",
							 synth_getatt(fp, "Arn")));
		if (rc == 0)
			rc = synth_resource_new(
				NULL, self, trig[k][2], "AWS::Lambda::Permission",
				json_pack("{s:s,s:o,s:s,s:o}", "Action", "lambda:InvokeFunction",
					  "FunctionName", synth_getatt(fp, "Arn"), "Principal",
					  "s3.amazonaws.com", "SourceAccount",
					  synth_pseudo("AWS::AccountId")));
		free(fp);
	}
	if (json_array_size(lambdas))
		json_object_set_new(props, "NotificationConfiguration",
				    json_pack("{s:O}", "LambdaConfigurations", lambdas));
	json_decref(lambdas);
	synth_resource *bucket = NULL;
	if (rc == 0)
		rc = synth_resource_new(&bucket, self, "Bucket", "AWS::S3::Bucket", props);
	else
		json_decref(props);
	for (int k = 0; rc == 0 && k < 2; k++) {
		if (!trig[k][0])
			continue;
		char *pp = synth_asprintf("%s/%s", name, trig[k][2]);
		synth_resource *perm = pp ? synth_backend_resource(b, pp) : NULL;
		free(pp);
		rc = perm ? synth_resource_add_dependency(bucket, perm) : synth_error_oom();
	}
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
	if (rc == 0)
		rc = access_policies(self, s, bpath);
	if (rc == 0 && is_default)
		rc = default_outputs(b, bpath);
	free(bpath);
	return rc;
}

/* synth_function_link: "read" (get and list), "get", "list", "write",
 * "delete", comma-separated, on every key of the bucket; the bucket's name
 * and ARN as SYNTH_<NAME>_NAME and SYNTH_<NAME>_ARN. */
static int storage_link(synth_construct *self, void *state, synth_function *fn,
			const char *access)
{
	(void)state;
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
	json_array_foreach(st, i, x)
		if (rc == 0)
			rc = synth_function_add_statement(fn, json_incref(x));
	if (rc == 0)
		rc = synth_function_link_env(fn, self, "NAME", synth_ref(bpath));
	if (rc == 0)
		rc = synth_function_link_env(fn, self, "ARN", synth_getatt(bpath, "Arn"));
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

synth_construct *synth_storage_construct(synth_storage *s) { return s->c; }

json_t *synth_storage_bucket_name(const synth_storage *s)
{
	char *p = synth_asprintf("%s/Bucket", synth_construct_name(s->c));
	json_t *t = p ? synth_ref(p) : NULL;
	free(p);
	return t;
}

json_t *synth_storage_bucket_arn(const synth_storage *s)
{
	char *p = synth_asprintf("%s/Bucket", synth_construct_name(s->c));
	json_t *t = p ? synth_getatt(p, "Arn") : NULL;
	free(p);
	return t;
}
