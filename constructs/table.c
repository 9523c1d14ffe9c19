/*
 * define_table: a DynamoDB table (SST's Dynamo) with its key fields,
 * global and local secondary indexes, TTL, point-in-time recovery,
 * deletion protection, billing mode and stream; functions subscribe to
 * the stream (an event source mapping each) and link to the table (read,
 * write).
 *
 * Resources, by construct path (NAME is the table's name):
 *   NAME/Table                 AWS::DynamoDB::Table
 *   <fn>/<NAME>EventSource     AWS::Lambda::EventSourceMapping (an event
 *                              source of the function, in its construct)
 *
 * Everything is checked at define time and the table's properties are
 * built then; generate() only adds the resource with its deletion policy:
 * Retain on a branch (a deleted branch stack keeps its data), Delete in a
 * sandbox, as data's tables.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <synth.h>
#include <synth/sys/construct.h>
#include <synth/table.h>

#define GSI_MAX 20        /* DynamoDB's limit per table */
#define LSI_MAX 5         /* DynamoDB's limit per table */
#define NONKEY_MAX 100    /* projected non-key attributes, all indexes together */
#define ATTR_NAME_MAX 255 /* bytes of a key attribute's name */

struct synth_table {
	synth_construct *c;
	json_t *props;       /* the table's Properties, built at define time */
	bool stream;
	json_t *subscribers; /* names of the subscribed functions */
};

/* One subscription: what the event source carries to bind(). */
typedef struct subscription {
	synth_table *table; /* borrowed: lives as long as the backend */
	json_t *props;      /* the mapping's Properties, but for FunctionName */
} subscription;

static void table_free(void *state)
{
	synth_table *t = state;
	if (!t)
		return;
	json_decref(t->props);
	json_decref(t->subscribers);
	free(t);
}

/* "NAME/Table": caller frees, NULL when out of memory. */
static char *table_path(const synth_construct *c)
{
	return synth_asprintf("%s/Table", synth_construct_name(c));
}

static json_t *table_token(const synth_construct *c, const char *attr)
{
	char *p = table_path(c);
	json_t *tok = p ? (attr ? synth_getatt(p, attr) : synth_ref(p)) : NULL;
	free(p);
	return tok;
}

static int table_generate(synth_construct *self, void *state)
{
	synth_table *t = state;
	synth_backend *b = synth_construct_backend(self);
	bool branch = synth_backend_type_of(b) == SYNTH_BACKEND_BRANCH;
	synth_resource *r = NULL;
	int rc = synth_resource_new(&r, self, "Table", "AWS::DynamoDB::Table",
				    json_deep_copy(t->props));
	if (rc == 0)
		rc = synth_resource_set_deletion_policy(r, branch ? "Retain" : "Delete");
	if (rc < 0)
		return synth_construct_failf(self, rc, "%s", synth_error_last()->message);
	return 0;
}

/* --- linking ------------------------------------------------------------ */

/* synth_function_link: "read" on the table and its indexes, "write" on the
 * table, comma-separated; its name and ARN as SYNTH_<NAME>_NAME and
 * SYNTH_<NAME>_ARN. */
static int table_link(synth_construct *self, void *state, synth_function *fn,
		      const char *access)
{
	(void)state;
	const char *fname = synth_construct_name(synth_function_construct(fn));
	bool read = false, write = false;
	char *list = strdup(access), *save = NULL;
	if (!list)
		return synth_construct_failf(self, SYNTH_ENOMEM, "out of memory");
	int rc = 0;
	for (char *a = strtok_r(list, ", ", &save); rc == 0 && a; a = strtok_r(NULL, ", ", &save)) {
		if (!strcmp(a, "read"))
			read = true;
		else if (!strcmp(a, "write"))
			write = true;
		else
			rc = synth_construct_failf(self, SYNTH_EINVALID,
						   "link of %s: access '%s' is not read or write",
						   fname, a);
	}
	free(list);
	if (rc == 0 && !read && !write)
		rc = synth_construct_failf(self, SYNTH_EINVALID,
					   "link of %s lists no access (read, write)", fname);
	if (rc < 0)
		return rc;
	if (read) {
		static const char *const acts[] = {
			"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query",
			"dynamodb:Scan", "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable",
			NULL};
		json_t *arn = table_token(self, "Arn");
		json_t *res = arn ? json_pack("[O,o]", arn, synth_join("", json_pack(
							"[O,s]", arn, "/index/*")))
				  : NULL;
		json_decref(arn);
		rc = synth_function_grant(fn, acts, res);
	}
	if (rc == 0 && write) {
		/* DescribeTable once: with read, the read statement has it. */
		static const char *const acts[] = {
			"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
			"dynamodb:BatchWriteItem", "dynamodb:DescribeTable", NULL};
		const char *only[6] = {acts[0], acts[1], acts[2], acts[3], read ? NULL : acts[4],
				       NULL};
		rc = synth_function_grant(fn, only, table_token(self, "Arn"));
	}
	if (rc == 0)
		rc = synth_function_link_env(fn, self, "NAME", table_token(self, NULL));
	if (rc == 0)
		rc = synth_function_link_env(fn, self, "ARN", table_token(self, "Arn"));
	return rc;
}

static const synth_construct_class table_class = {
	.version = SYNTH_CONSTRUCT_CLASS_VERSION,
	.kind = "table",
	.generate = table_generate,
	.free = table_free,
	.link = table_link,
};

/* --- definition ---------------------------------------------------------- */

/* What the checks of one definition share. */
typedef struct def_ctx {
	synth_backend *b;
	const char *nm;
	const synth_table_props *p;
	json_t *used;    /* field name -> true: the fields some key uses */
	json_t *indexes; /* index name -> true */
	size_t nonkey;   /* projected non-key attributes so far */
} def_ctx;

static const synth_table_field *find_field(const synth_table_props *p, const char *name)
{
	for (const synth_table_field *f = p->fields; f && f->name; f++)
		if (!strcmp(f->name, name))
			return f;
	return NULL;
}

/* The declared fields, "a, b, c" (or "none"); caller frees. */
static char *field_list(const synth_table_props *p)
{
	synth_buf b = SYNTH_BUF_INIT;
	for (const synth_table_field *f = p->fields; f && f->name; f++)
		synth_buf_printf(&b, "%s%s", f == p->fields ? "" : ", ", f->name);
	if (!p->fields || !p->fields->name)
		synth_buf_puts(&b, "none");
	return synth_buf_detach(&b);
}

/* The fields: names unique, 1..255 bytes, types S, N or B. */
static int check_fields(def_ctx *x)
{
	for (const synth_table_field *f = x->p->fields; f && f->name; f++) {
		if (!*f->name || strlen(f->name) > ATTR_NAME_MAX)
			return synth_backend_failf(x->b, SYNTH_EINVALID,
						   "%s: field name '%s' must have 1 to %d bytes",
						   x->nm, f->name, ATTR_NAME_MAX);
		if (!f->type || (strcmp(f->type, "S") && strcmp(f->type, "N") &&
				 strcmp(f->type, "B")))
			return synth_backend_failf(x->b, SYNTH_EINVALID,
						   "%s: field '%s' has type '%s': a key attribute is "
						   "S (string), N (number) or B (binary)",
						   x->nm, f->name, f->type ? f->type : "(none)");
		for (const synth_table_field *g = x->p->fields; g < f; g++)
			if (!strcmp(g->name, f->name))
				return synth_backend_failf(x->b, SYNTH_EINVALID,
							   "%s: field '%s' is declared twice",
							   x->nm, f->name);
	}
	return 0;
}

/* KEY (the WHAT of WHERE, e.g. "the partition key of index byDate") must
 * be a declared field; it is marked used. */
static int key_field(def_ctx *x, const char *key, const char *what, const char *where)
{
	if (!key || !*key)
		return synth_backend_failf(x->b, SYNTH_EINVALID, "%s: %s%s is missing", x->nm,
					   what, where);
	if (find_field(x->p, key))
		return json_object_set_new(x->used, key, json_true()) < 0
			       ? synth_backend_failf(x->b, SYNTH_ENOMEM, "%s: out of memory", x->nm)
			       : 0;
	char *fields = field_list(x->p);
	int rc = synth_backend_failf(x->b, SYNTH_EINVALID,
				     "%s: %s%s '%s' is not a declared field (fields: %s)", x->nm,
				     what, where, key, fields ? fields : "?");
	free(fields);
	return rc;
}

/* A key schema HASH [+ RANGE], both checked fields, different. */
static json_t *key_schema(def_ctx *x, const char *hash, const char *range, const char *where)
{
	if (key_field(x, hash, "the partition key", where) < 0 ||
	    (range && key_field(x, range, "the sort key", where) < 0))
		return NULL;
	if (range && !strcmp(hash, range)) {
		synth_backend_failf(x->b, SYNTH_EINVALID,
				    "%s: '%s' is both the partition and the sort key%s", x->nm, hash,
				    where);
		return NULL;
	}
	json_t *ks = json_pack("[{s:s,s:s}]", "AttributeName", hash, "KeyType", "HASH");
	if (ks && range &&
	    json_array_append_new(ks, json_pack("{s:s,s:s}", "AttributeName", range, "KeyType",
						"RANGE")) < 0) {
		json_decref(ks);
		ks = NULL;
	}
	if (!ks)
		synth_backend_failf(x->b, SYNTH_ENOMEM, "%s: out of memory", x->nm);
	return ks;
}

/* An index's name: 3..255 of [A-Za-z0-9_.-], unique among the table's
 * indexes, global and local. */
static int index_name(def_ctx *x, const char *name, const char *kind)
{
	size_t n = name ? strlen(name) : 0;
	bool ok = n >= 3 && n <= 255;
	for (size_t i = 0; ok && i < n; i++)
		ok = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
		     (name[i] >= '0' && name[i] <= '9') || strchr("_.-", name[i]);
	if (!ok)
		return synth_backend_failf(x->b, SYNTH_EINVALID,
					   "%s: %s index name '%s' must have 3 to 255 letters, "
					   "digits, '_', '-' or '.'", x->nm, kind, name ? name : "");
	if (json_object_get(x->indexes, name))
		return synth_backend_failf(x->b, SYNTH_EINVALID,
					   "%s: index name '%s' is used twice (global and local "
					   "indexes share their names)", x->nm, name);
	return json_object_set_new(x->indexes, name, json_true()) < 0
		       ? synth_backend_failf(x->b, SYNTH_ENOMEM, "%s: out of memory", x->nm)
		       : 0;
}

/* The Projection of index NAME. */
static json_t *projection(def_ctx *x, const char *name, const char *proj,
			  const char *const *include)
{
	const char *type = !proj || !strcmp(proj, "all") ? "ALL"
			   : !strcmp(proj, "keys-only")  ? "KEYS_ONLY"
			   : !strcmp(proj, "include")    ? "INCLUDE"
							 : NULL;
	size_t n = synth_strv_len(include);
	const char *why = !type ? "is not all, keys-only or include"
			  : !strcmp(type, "INCLUDE") && !n ? "is include but lists no attribute"
			  : strcmp(type, "INCLUDE") && n ? "lists attributes: make it include"
							 : NULL;
	if (why) {
		synth_backend_failf(x->b, SYNTH_EINVALID, "%s: the projection '%s' of index %s %s",
				    x->nm, proj, name, why);
		return NULL;
	}
	x->nonkey += n;
	if (x->nonkey > NONKEY_MAX) {
		synth_backend_failf(x->b, SYNTH_EINVALID,
				    "%s: the indexes project more than %d non-key attributes in "
				    "all (DynamoDB's limit), index %s is over", x->nm, NONKEY_MAX,
				    name);
		return NULL;
	}
	json_t *pr = json_pack("{s:s}", "ProjectionType", type);
	json_t *attrs = n ? json_array() : NULL;
	bool ok = pr && (!n || attrs);
	for (size_t i = 0; ok && i < n; i++) {
		if (!*include[i]) {
			json_decref(pr);
			json_decref(attrs);
			synth_backend_failf(x->b, SYNTH_EINVALID,
					    "%s: index %s includes an empty attribute name", x->nm,
					    name);
			return NULL;
		}
		ok = json_array_append_new(attrs, json_string(include[i])) == 0;
	}
	if (ok && attrs)
		ok = json_object_set_new(pr, "NonKeyAttributes", attrs) == 0;
	else
		json_decref(attrs);
	if (!ok) {
		json_decref(pr);
		synth_backend_failf(x->b, SYNTH_ENOMEM, "%s: out of memory", x->nm);
		return NULL;
	}
	return pr;
}

/* ProvisionedThroughput, or NULL on demand. */
static json_t *throughput(const synth_table_props *p)
{
	return p->provisioned ? json_pack("{s:i,s:i}", "ReadCapacityUnits", p->read_capacity,
					  "WriteCapacityUnits", p->write_capacity)
			      : NULL;
}

/* An index's KeySchema (*KS) and Projection (*PR), both checked. */
static int index_parts(def_ctx *x, const char *name, const char *hash, const char *range,
		       const char *proj, const char *const *include, json_t **ks, json_t **pr)
{
	char *where = synth_asprintf(" of index %s", name);
	if (!where)
		return synth_backend_failf(x->b, SYNTH_ENOMEM, "%s: out of memory", x->nm);
	*ks = key_schema(x, hash, range, where);
	free(where);
	*pr = *ks ? projection(x, name, proj, include) : NULL;
	if (*pr)
		return 0;
	json_decref(*ks);
	*ks = NULL;
	return synth_error_last()->code;
}

/* GlobalSecondaryIndexes into PROPS. */
static int global_indexes(def_ctx *x, json_t *props)
{
	size_t n = 0;
	for (const synth_table_global_index *g = x->p->global_indexes; g && g->name; g++)
		n++;
	if (n > GSI_MAX)
		return synth_backend_failf(x->b, SYNTH_EINVALID,
					   "%s: %zu global indexes, DynamoDB allows at most %d",
					   x->nm, n, GSI_MAX);
	if (!n)
		return 0;
	json_t *list = json_array();
	if (json_object_set_new(props, "GlobalSecondaryIndexes", list) < 0)
		return synth_backend_failf(x->b, SYNTH_ENOMEM, "%s: out of memory", x->nm);
	for (const synth_table_global_index *g = x->p->global_indexes; g && g->name; g++) {
		if (index_name(x, g->name, "global") < 0)
			return synth_error_last()->code;
		json_t *ks, *pr;
		if (index_parts(x, g->name, g->hash_key, g->range_key, g->projection,
				g->include, &ks, &pr) < 0)
			return synth_error_last()->code;
		json_t *gsi = json_pack("{s:s,s:o,s:o}", "IndexName", g->name, "KeySchema", ks,
					"Projection", pr);
		if (gsi && x->p->provisioned &&
		    json_object_set_new(gsi, "ProvisionedThroughput", throughput(x->p)) < 0) {
			json_decref(gsi);
			gsi = NULL;
		}
		if (!gsi || json_array_append_new(list, gsi) < 0)
			return synth_backend_failf(x->b, SYNTH_ENOMEM, "%s: out of memory", x->nm);
	}
	return 0;
}

/* LocalSecondaryIndexes into PROPS. */
static int local_indexes(def_ctx *x, json_t *props)
{
	size_t n = 0;
	for (const synth_table_local_index *l = x->p->local_indexes; l && l->name; l++)
		n++;
	if (n > LSI_MAX)
		return synth_backend_failf(x->b, SYNTH_EINVALID,
					   "%s: %zu local indexes, DynamoDB allows at most %d",
					   x->nm, n, LSI_MAX);
	if (!n)
		return 0;
	if (!x->p->range_key)
		return synth_backend_failf(x->b, SYNTH_EINVALID,
					   "%s: local index %s needs a sort key on the table "
					   "(range_key): a local index replaces it", x->nm,
					   x->p->local_indexes->name);
	json_t *list = json_array();
	if (json_object_set_new(props, "LocalSecondaryIndexes", list) < 0)
		return synth_backend_failf(x->b, SYNTH_ENOMEM, "%s: out of memory", x->nm);
	for (const synth_table_local_index *l = x->p->local_indexes; l && l->name; l++) {
		if (index_name(x, l->name, "local") < 0)
			return synth_error_last()->code;
		json_t *ks, *pr;
		if (index_parts(x, l->name, x->p->hash_key, l->range_key, l->projection,
				l->include, &ks, &pr) < 0)
			return synth_error_last()->code;
		json_t *lsi = json_pack("{s:s,s:o,s:o}", "IndexName", l->name, "KeySchema", ks,
					"Projection", pr);
		if (!lsi || json_array_append_new(list, lsi) < 0)
			return synth_backend_failf(x->b, SYNTH_ENOMEM, "%s: out of memory", x->nm);
	}
	return 0;
}

/* AttributeDefinitions: every field, each used by a key (else refused). */
static int attribute_definitions(def_ctx *x, json_t *props)
{
	json_t *defs = json_array();
	if (json_object_set_new(props, "AttributeDefinitions", defs) < 0)
		return synth_backend_failf(x->b, SYNTH_ENOMEM, "%s: out of memory", x->nm);
	for (const synth_table_field *f = x->p->fields; f && f->name; f++) {
		if (!json_object_get(x->used, f->name))
			return synth_backend_failf(
				x->b, SYNTH_EINVALID,
				"%s: field '%s' is not a key of the table or of an index: DynamoDB "
				"refuses attribute definitions no key uses (other attributes need "
				"no declaration)", x->nm, f->name);
		if (json_array_append_new(defs, json_pack("{s:s,s:s}", "AttributeName", f->name,
							  "AttributeType", f->type)) < 0)
			return synth_backend_failf(x->b, SYNTH_ENOMEM, "%s: out of memory", x->nm);
	}
	return 0;
}

/* Billing, TTL, recovery, protection, stream into PROPS. */
static int options(def_ctx *x, json_t *props)
{
	const synth_table_props *p = x->p;
	static const char *const views[][2] = {{"keys-only", "KEYS_ONLY"},
					       {"new-image", "NEW_IMAGE"},
					       {"old-image", "OLD_IMAGE"},
					       {"new-and-old-images", "NEW_AND_OLD_IMAGES"}};
	const char *view = NULL;
	for (size_t i = 0; p->stream && i < sizeof views / sizeof views[0]; i++)
		if (!strcmp(p->stream, views[i][0]))
			view = views[i][1];
	if (p->provisioned && (p->read_capacity < 1 || p->write_capacity < 1))
		return synth_backend_failf(x->b, SYNTH_EINVALID,
					   "%s: provisioned billing needs read_capacity and "
					   "write_capacity of at least 1 (they are %d and %d)",
					   x->nm, p->read_capacity, p->write_capacity);
	if (!p->provisioned && (p->read_capacity || p->write_capacity))
		return synth_backend_failf(x->b, SYNTH_EINVALID,
					   "%s: read_capacity and write_capacity are for provisioned "
					   "billing: set provisioned (the default is on demand)", x->nm);
	if (p->ttl && (!*p->ttl || strlen(p->ttl) > ATTR_NAME_MAX))
		return synth_backend_failf(x->b, SYNTH_EINVALID,
					   "%s: the TTL attribute name must have 1 to %d bytes",
					   x->nm, ATTR_NAME_MAX);
	if (p->stream && !view)
		return synth_backend_failf(x->b, SYNTH_EINVALID,
					   "%s: stream '%s' is not keys-only, new-image, old-image "
					   "or new-and-old-images", x->nm, p->stream);
	bool ok = json_object_set_new(props, "BillingMode",
				      json_string(p->provisioned ? "PROVISIONED"
								 : "PAY_PER_REQUEST")) == 0;
	if (ok && p->provisioned)
		ok = json_object_set_new(props, "ProvisionedThroughput", throughput(p)) == 0;
	if (ok && p->ttl)
		ok = json_object_set_new(props, "TimeToLiveSpecification",
					 json_pack("{s:s,s:b}", "AttributeName", p->ttl, "Enabled",
						   1)) == 0;
	if (ok && p->point_in_time_recovery)
		ok = json_object_set_new(props, "PointInTimeRecoverySpecification",
					 json_pack("{s:b}", "PointInTimeRecoveryEnabled", 1)) == 0;
	if (ok && p->deletion_protection)
		ok = json_object_set_new(props, "DeletionProtectionEnabled", json_true()) == 0;
	if (ok && view)
		ok = json_object_set_new(props, "StreamSpecification",
					 json_pack("{s:s}", "StreamViewType", view)) == 0;
	return ok ? 0 : synth_backend_failf(x->b, SYNTH_ENOMEM, "%s: out of memory", x->nm);
}

/* The table's Properties from P, checked; NULL after synth_backend_failf(). */
static json_t *table_props(synth_backend *b, const char *nm, const synth_table_props *p)
{
	def_ctx x = {.b = b, .nm = nm, .p = p, .used = json_object(), .indexes = json_object()};
	json_t *props = json_object();
	int rc = x.used && x.indexes && props
			 ? 0
			 : synth_backend_failf(b, SYNTH_ENOMEM, "%s: out of memory", nm);
	if (rc == 0)
		rc = check_fields(&x);
	json_t *ks = rc == 0 ? key_schema(&x, p->hash_key, p->range_key, " of the table") : NULL;
	if (rc == 0 && (!ks || json_object_set_new(props, "KeySchema", ks) < 0))
		rc = ks ? synth_backend_failf(b, SYNTH_ENOMEM, "%s: out of memory", nm)
			: synth_error_last()->code;
	if (rc == 0)
		rc = global_indexes(&x, props);
	if (rc == 0)
		rc = local_indexes(&x, props);
	if (rc == 0)
		rc = attribute_definitions(&x, props);
	if (rc == 0)
		rc = options(&x, props);
	json_decref(x.used);
	json_decref(x.indexes);
	if (rc < 0) {
		json_decref(props);
		return NULL;
	}
	return props;
}

synth_table *synth_define_table(synth_backend *b, const char *name, const synth_table_props *props)
{
	SYNTH_CHECK_HANDLE(b);
	static const synth_table_props none = {0};
	const synth_table_props *p = props ? props : &none;
	const char *nm = name ? name : "";
	synth_error_clear();
	json_t *tp = table_props(b, nm, p);
	if (!tp)
		return NULL;
	synth_table *t = calloc(1, sizeof *t);
	if (!t || !(t->subscribers = json_array())) {
		free(t);
		json_decref(tp);
		synth_backend_failf(b, SYNTH_ENOMEM, "%s: out of memory", nm);
		return NULL;
	}
	t->props = tp;
	t->stream = p->stream != NULL;
	/* On failure T is freed and the error (naming NAME) is recorded. */
	if (synth_construct_new(&t->c, b, name, &table_class, t) < 0)
		return NULL;
	return t;
}

/* --- the stream subscription, an event source of the function ----------- */

static void subscription_free(void *data)
{
	subscription *s = data;
	if (!s)
		return;
	json_decref(s->props);
	free(s);
}

/* In FN's construct: the event source mapping, after FN's policy, which
 * grants reading exactly this table's stream. */
static int subscription_bind(synth_function *fn, void *data)
{
	subscription *s = data;
	synth_construct *scope = synth_function_construct(fn);
	const char *tname = synth_construct_name(s->table->c);
	/* The table's resource exists before the function refers to it. */
	int rc = synth_construct_require(scope, s->table->c);
	if (rc < 0)
		return rc;
	static const char *const acts[] = {"dynamodb:DescribeStream", "dynamodb:GetRecords",
					   "dynamodb:GetShardIterator", "dynamodb:ListStreams",
					   NULL};
	rc = synth_function_grant(fn, acts, table_token(s->table->c, "StreamArn"));
	char *id = synth_asprintf("%sEventSource", tname);
	json_t *props = json_deep_copy(s->props);
	synth_resource *esm = NULL;
	if (rc == 0 && (!id || !props || json_object_set_new(props, "FunctionName",
							     synth_function_name_ref(fn)) < 0))
		rc = synth_error_oom();
	if (rc == 0) {
		rc = synth_resource_new(&esm, scope, id, "AWS::Lambda::EventSourceMapping", props);
		props = NULL;
	}
	if (rc == 0)
		rc = synth_function_depend_on_policy(fn, esm);
	json_decref(props);
	free(id);
	if (rc < 0)
		return synth_construct_failf(scope, rc, "subscription to table %s: %s", tname,
					     synth_error_last()->message);
	return 0;
}

static const synth_event_source subscription_source = {
	.version = SYNTH_EVENT_SOURCE_VERSION,
	.kind = "table",
	.bind = subscription_bind,
	.free = subscription_free,
};

/* FilterCriteria from FILTERS (a JSON array of objects, as text), or NULL
 * after synth_construct_failf(). */
static json_t *filter_criteria(synth_table *t, const char *fname, const char *filters)
{
	const char *why;
	json_t *fc = synth_event_filter_criteria(filters, &why);
	if (!fc && why)
		synth_construct_failf(t->c, SYNTH_EINVALID,
				      "the filters of function %s's subscription: %s", fname, why);
	else if (!fc)
		synth_construct_failf(t->c, SYNTH_ENOMEM, "out of memory");
	return fc;
}

/* The mapping's Properties (but FunctionName) from OPTS, checked. */
static json_t *mapping_props(synth_table *t, const char *fname, const synth_table_subscribe_opts *o)
{
	const char *sp = o->starting_position;
	const char *start = !sp || !strcmp(sp, "latest") ? "LATEST"
			    : !strcmp(sp, "trim-horizon") ? "TRIM_HORIZON"
							  : NULL;
	const char *why = !start ? "the starting position is not latest or trim-horizon"
			  : o->batch_size < 0 || o->batch_size > 10000
				  ? "the batch size is not 1 to 10000"
			  : o->batching_window_s < 0 || o->batching_window_s > 300
				  ? "the batching window is not 0 to 300 seconds"
			  : o->retry_attempts < 0 || o->retry_attempts > 10000
				  ? "retry_attempts is not 1 to 10000"
			  : o->no_retry && o->retry_attempts
				  ? "no_retry and retry_attempts contradict each other"
				  : NULL;
	if (why) {
		synth_construct_failf(t->c, SYNTH_EINVALID, "function %s's subscription: %s",
				      fname, why);
		return NULL;
	}
	json_t *p = json_pack("{s:o,s:s,s:i}", "EventSourceArn", table_token(t->c, "StreamArn"),
			      "StartingPosition", start, "BatchSize",
			      o->batch_size ? o->batch_size : 100);
	bool ok = p != NULL;
	if (ok && o->batching_window_s)
		ok = json_object_set_new(p, "MaximumBatchingWindowInSeconds",
					 json_integer(o->batching_window_s)) == 0;
	if (ok && o->partial_responses)
		ok = json_object_set_new(p, "FunctionResponseTypes",
					 json_pack("[s]", "ReportBatchItemFailures")) == 0;
	if (ok && (o->retry_attempts || o->no_retry))
		ok = json_object_set_new(p, "MaximumRetryAttempts",
					 json_integer(o->retry_attempts)) == 0;
	if (ok && o->bisect_on_error)
		ok = json_object_set_new(p, "BisectBatchOnFunctionError", json_true()) == 0;
	if (ok && o->filters) {
		json_t *fc = filter_criteria(t, fname, o->filters);
		if (!fc) {
			json_decref(p);
			return NULL;
		}
		ok = json_object_set_new(p, "FilterCriteria", fc) == 0;
	}
	if (!ok) {
		json_decref(p);
		p = NULL;
	}
	if (!p)
		synth_construct_failf(t->c, SYNTH_ENOMEM, "out of memory");
	return p;
}

int synth_table_subscribe(synth_table *t, synth_function *fn, const synth_table_subscribe_opts *opts)
{
	static const synth_table_subscribe_opts none = {0};
	/* A failed define already recorded its error on the backend. */
	if (!t || !fn)
		return synth_error_setf(SYNTH_EINVALID,
					"synth_table_subscribe: no %s (its definition failed)",
					!t ? "table" : "function");
	const char *fname = synth_construct_name(synth_function_construct(fn));
	if (synth_construct_backend(synth_function_construct(fn)) != synth_construct_backend(t->c))
		return synth_construct_failf(t->c, SYNTH_EINVALID,
					     "function %s belongs to another backend", fname);
	if (!t->stream)
		return synth_construct_failf(t->c, SYNTH_EINVALID,
					     "function %s cannot subscribe: the table has no stream "
					     "(set stream, e.g. \"new-and-old-images\")", fname);
	size_t i;
	json_t *x;
	json_array_foreach(t->subscribers, i, x)
		if (!strcmp(json_string_value(x), fname))
			return synth_construct_failf(t->c, SYNTH_EEXISTS,
						     "function %s subscribes twice", fname);
	json_t *props = mapping_props(t, fname, opts ? opts : &none);
	if (!props)
		return synth_error_last()->code;
	subscription *s = calloc(1, sizeof *s);
	if (!s || json_array_append_new(t->subscribers, json_string(fname)) < 0) {
		free(s);
		json_decref(props);
		return synth_construct_failf(t->c, SYNTH_ENOMEM, "out of memory");
	}
	s->table = t;
	s->props = props;
	/* S is FN's from here on, even on failure. */
	return synth_function_add_event_source(fn, &subscription_source, s);
}

/* --- accessors ----------------------------------------------------------- */

synth_construct *synth_table_construct(synth_table *t) { return t ? t->c : NULL; }

json_t *synth_table_name(const synth_table *t) { return t ? table_token(t->c, NULL) : NULL; }

json_t *synth_table_arn(const synth_table *t) { return t ? table_token(t->c, "Arn") : NULL; }

json_t *synth_table_stream_arn(const synth_table *t)
{
	if (!t)
		return NULL;
	if (!t->stream) {
		synth_error_setf(SYNTH_EINVALID, "%s: the table has no stream, so no stream ARN",
				 synth_construct_name(t->c));
		return NULL;
	}
	return table_token(t->c, "StreamArn");
}
