/*
 * define_data: an AppSync GraphQL API over DynamoDB tables, generated from
 * a schema in Amplify's GraphQL SDL dialect (lib/graphql.h parses it,
 * lib/gqlgen.h writes the client schema and the model introspection,
 * lib/gqlresolvers.h the resolvers).
 *
 * Resources, by construct path (M is a model's name):
 *   data/GraphQLApi            AWS::AppSync::GraphQLApi (default mode +
 *                              every other mode the @auth rules use)
 *   data/GraphQLSchema         AWS::AppSync::GraphQLSchema (inline up to
 *                              SCHEMA_INLINE_MAX bytes, else from S3: a file
 *                              asset "asset.<sha256>.graphql")
 *   data/ApiKey                AWS::AppSync::ApiKey (API key mode only)
 *   data/NoneDataSource        AWS::AppSync::DataSource NONE (when a
 *                              resolver has no table, e.g. subscriptions)
 *   data/AuthenticatedRolePolicy, data/UnauthenticatedRolePolicy
 *                              AWS::IAM::Policy on auth's identity pool
 *                              roles: appsync:GraphQL for iam rules
 *                              (private -> authenticated, public -> guests)
 *   (GraphQLApi's EnvironmentVariables, with synth_data_grant: the granted
 *   functions' role names per access, which the resolvers check)
 *   data/M/Table               AWS::DynamoDB::Table
 *   data/M/DataSourceRole      AWS::IAM::Role (appsync.amazonaws.com; only
 *                              the actions M's resolvers need)
 *   data/M/DataSource          AWS::AppSync::DataSource AMAZON_DYNAMODB
 *   data/M/<Type>/<field>      AWS::AppSync::Resolver (UNIT, APPSYNC_JS; its
 *                              code from S3: CodeS3Location names the file
 *                              asset "asset.<sha256>.js" of its module, one
 *                              per model as lib/gqlresolvers.h groups them,
 *                              shared by the model's resolvers; no template
 *                              carries resolver code)
 *
 * Layout: each model's resources (and the resolvers reading its table)
 * form a layout unit of their own, so a schema of hundreds of models is
 * cut between models when it has to split into nested stacks.
 *
 * Tables: keyed as the model's primary key says (several sort key fields
 * make one attribute "a#b", a string, as Amplify does, which the
 * resolvers write); one GSI per @index and one per relation
 * index the resolvers query ("gsi-<Model>.<field>", Amplify's name, keyed
 * as their "indexKeys" say; a resolver naming an index the table lacks is
 * an internal error, never a broken API); on demand, encrypted. Deletion
 * policy: Delete in a sandbox, Retain on a branch (a deleted branch stack
 * keeps its data; Amplify deletes tables with the stack unless deletion
 * protection is set by hand).
 *
 * Outputs (category "graphQL", so the root template's Metadata key is
 * AWS::Amplify::GraphQL, as Amplify's): awsAppsyncApiId,
 * awsAppsyncApiEndpoint, awsAppsyncAuthenticationType, awsAppsyncRegion,
 * awsAppsyncAdditionalAuthenticationTypes (when there are any),
 * awsAppsyncApiKey (API key mode), amplifyApiModelSchemaS3Uri (the model
 * introspection schema, a file asset "asset.<sha256>.json").
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <synth.h>
#include <synth/sys/construct.h>
#include "graphql.h"
#include "gqlgen.h"
#include "gqlresolvers.h"

#define SCHEMA_INLINE_MAX (128u * 1024) /* bytes of SDL kept in the template */
#define IAM_ARNS_MAX 100                 /* field ARNs per role policy, then wildcards */
#define DEFAULT_SCHEMA_FILE "data/schema.graphql"

struct synth_data {
	synth_construct *c;
	synth_data_auth_mode default_auth;
	int api_key_days;
	bool streams, pitr;
	bool iam_grants;   /* a function calls the API with IAM */
	json_t *grant_roles; /* "query" | "mutate" | "subscribe" -> [role name tokens]
			      * of the functions granted it (synth_data_grant) */
	json_t *model;     /* the parser's model */
};

static void data_free(void *state)
{
	synth_data *d = state;
	if (!d)
		return;
	json_decref(d->model);
	json_decref(d->grant_roles);
	free(d);
}

/* --- small helpers ------------------------------------------------------ */

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static const char *mode_name(synth_data_auth_mode m)
{
	switch (m) {
	case SYNTH_DATA_AUTH_USER_POOL: return SYNTH_GQL_AUTH_USER_POOLS;
	case SYNTH_DATA_AUTH_API_KEY: return SYNTH_GQL_AUTH_API_KEY;
	case SYNTH_DATA_AUTH_IAM: return SYNTH_GQL_AUTH_IAM;
	default: return NULL;
	}
}

/* The authorization mode of an @auth provider. */
static synth_data_auth_mode provider_mode(const char *provider)
{
	if (!strcmp(provider, "userPools"))
		return SYNTH_DATA_AUTH_USER_POOL;
	if (!strcmp(provider, "apiKey"))
		return SYNTH_DATA_AUTH_API_KEY;
	if (!strcmp(provider, "iam") || !strcmp(provider, "identityPool"))
		return SYNTH_DATA_AUTH_IAM;
	return SYNTH_DATA_AUTH_DEFAULT; /* oidc: not supported */
}

/* DynamoDB's attribute type for a GraphQL type: numbers are N, the rest
 * (ID, String, enums, dates, ...) S. */
static const char *ddb_type(const char *gql)
{
	return gql && (!strcmp(gql, "Int") || !strcmp(gql, "Float") ||
		       !strcmp(gql, "AWSTimestamp"))
		       ? "N"
		       : "S";
}

static const char *field_type(json_t *model, const char *field)
{
	return str(json_object_get(json_object_get(model, "fields"), field), "type");
}

/* A key element: NAME of TYPE, added to the attribute definitions once. */
static void key_attr(json_t *attrs, const char *name, const char *type)
{
	size_t i;
	json_t *a;
	json_array_foreach(attrs, i, a)
		if (!strcmp(str(a, "AttributeName"), name))
			return;
	json_array_append_new(attrs, json_pack("{s:s,s:s}", "AttributeName", name,
					       "AttributeType", type));
}

/*
 * The key schema of HASH (type HTYPE) + the sort key of SORT (field names
 * of MODEL; several make one "a#b" string attribute, as Amplify joins
 * them). SORT_TYPES, when not NULL, gives the types instead of MODEL.
 */
static json_t *key_schema(json_t *attrs, json_t *model, const char *hash, const char *htype,
			  json_t *sort, json_t *sort_types)
{
	json_t *ks = json_pack("[{s:s,s:s}]", "AttributeName", hash, "KeyType", "HASH");
	key_attr(attrs, hash, htype);
	size_t n = json_array_size(sort);
	if (n == 1) {
		const char *f = json_string_value(json_array_get(sort, 0));
		const char *t = sort_types ? json_string_value(json_array_get(sort_types, 0))
					   : ddb_type(field_type(model, f));
		key_attr(attrs, f, t);
		json_array_append_new(ks, json_pack("{s:s,s:s}", "AttributeName", f, "KeyType",
						    "RANGE"));
	} else if (n > 1) {
		synth_buf b = SYNTH_BUF_INIT;
		for (size_t i = 0; i < n; i++) {
			if (i)
				synth_buf_putc(&b, '#');
			synth_buf_puts(&b, json_string_value(json_array_get(sort, i)));
		}
		char *joined = synth_buf_detach(&b);
		if (joined) {
			key_attr(attrs, joined, "S");
			json_array_append_new(ks, json_pack("{s:s,s:s}", "AttributeName", joined,
							    "KeyType", "RANGE"));
		}
		free(joined);
	}
	return ks;
}

/* The projection of an @index as written ({type, nonKeyAttributes}). */
static json_t *projection(json_t *p)
{
	const char *type = str(p, "type");
	if (!type)
		return json_pack("{s:s}", "ProjectionType", "ALL");
	json_t *o = json_pack("{s:s}", "ProjectionType", type);
	json_t *nk = json_object_get(p, "nonKeyAttributes");
	if (nk && !strcmp(type, "INCLUDE"))
		json_object_set(o, "NonKeyAttributes", nk);
	return o;
}

/* --- the table of a model ---------------------------------------------- */

static bool has_gsi(json_t *gsis, const char *name)
{
	size_t i;
	json_t *g;
	json_array_foreach(gsis, i, g)
		if (!strcmp(str(g, "IndexName"), name))
			return true;
	return false;
}

/* The properties of model NAME's table. */
static json_t *table_props(synth_data *d, json_t *m, json_t *readers)
{
	json_t *attrs = json_array(), *gsis = json_array();
	json_t *pk = json_object_get(m, "primaryKey");
	const char *hash = str(pk, "field");
	json_t *ks = key_schema(attrs, m, hash, ddb_type(field_type(m, hash)), json_object_get(pk, "sortKeyFields"), NULL);
	size_t i;
	json_t *ix;
	json_array_foreach(json_object_get(m, "indexes"), i, ix) {
		const char *f = str(ix, "field");
		json_array_append_new(
			gsis, json_pack("{s:s,s:o,s:o}", "IndexName", str(ix, "name"), "KeySchema",
					key_schema(attrs, m, f, ddb_type(field_type(m, f)),
						   json_object_get(ix, "sortKeyFields"), NULL),
					"Projection", projection(json_object_get(ix, "projection"))));
	}
	/* The GSIs the resolvers query for relations (lib/gqlresolvers.h:
	 * every "index" with "indexKeys" that is not an @index), e.g.
	 * Amplify's "gsi-Todo.comments" keyed by todoCommentsId. */
	json_t *r;
	json_array_foreach(readers, i, r) {
		const char *ixn = str(r, "index");
		json_t *keys = json_object_get(r, "indexKeys");
		const char *h = str(keys, "partitionKey"), *sk = str(keys, "sortKey");
		if (!ixn || !h || has_gsi(gsis, ixn))
			continue;
		json_t *sort = sk ? json_pack("[s]", sk) : json_array();
		json_t *st = sk ? json_pack("[s]", ddb_type(field_type(m, sk))) : NULL;
		json_array_append_new(
			gsis, json_pack("{s:s,s:o,s:{s:s}}", "IndexName", ixn, "KeySchema",
					key_schema(attrs, m, h, ddb_type(field_type(m, h)), sort, st),
					"Projection", "ProjectionType", "ALL"));
		json_decref(sort);
		json_decref(st);
	}
	json_t *p = json_pack("{s:o,s:o,s:s,s:{s:b}}", "KeySchema", ks, "AttributeDefinitions",
			      attrs, "BillingMode", "PAY_PER_REQUEST", "SSESpecification",
			      "SSEEnabled", 1);
	if (p && json_array_size(gsis))
		json_object_set(p, "GlobalSecondaryIndexes", gsis);
	json_decref(gsis);
	if (p && d->streams)
		json_object_set_new(p, "StreamSpecification",
				    json_pack("{s:s}", "StreamViewType", "NEW_AND_OLD_IMAGES"));
	if (p && d->pitr)
		json_object_set_new(p, "PointInTimeRecoverySpecification",
				    json_pack("{s:b}", "PointInTimeRecoveryEnabled", 1));
	return p;
}

/* --- rules -------------------------------------------------------------- */

typedef struct rule_ref {
	const char *model;
	const char *field; /* NULL: type-level */
	json_t *rule;
} rule_ref;

/* Every @auth rule of the schema in schema order (each model's type-level
 * rules, then its fields'); F returns non-zero to stop, and that is
 * returned. */
static int each_rule(json_t *model, int (*f)(const rule_ref *r, void *arg), void *arg)
{
	const char *mn, *fname;
	json_t *m, *fld, *rule;
	size_t i;
	json_object_foreach(json_object_get(model, "models"), mn, m) {
		json_array_foreach(json_object_get(m, "auth"), i, rule) {
			rule_ref r = {mn, NULL, rule};
			int rc = f(&r, arg);
			if (rc)
				return rc;
		}
		json_object_foreach(json_object_get(m, "fields"), fname, fld) {
			json_array_foreach(json_object_get(fld, "auth"), i, rule) {
				rule_ref r = {mn, fname, rule};
				int rc = f(&r, arg);
				if (rc)
					return rc;
			}
		}
	}
	return 0;
}

typedef struct needs {
	const char *file;
	synth_construct *self;
	bool has_auth;
	unsigned modes; /* 1 << synth_data_auth_mode */
} needs;

static int check_rule(const rule_ref *r, void *arg)
{
	needs *n = arg;
	const char *prov = str(r->rule, "provider");
	const char *allow = str(r->rule, "allow");
	long line = (long)json_integer_value(json_object_get(r->rule, "line"));
	long col = (long)json_integer_value(json_object_get(r->rule, "column"));
	synth_data_auth_mode m = provider_mode(prov);
	if (m == SYNTH_DATA_AUTH_DEFAULT)
		return synth_construct_failf(n->self, SYNTH_EINVALID,
					    "%s:%ld:%ld: @auth rule '%s' uses provider '%s', which "
					    "define_data does not support (use userPools, apiKey, "
					    "iam or identityPool)", n->file, line, col, allow, prov);
	if (!n->has_auth && m == SYNTH_DATA_AUTH_USER_POOL)
		return synth_construct_failf(n->self, SYNTH_ENOTFOUND,
					    "%s:%ld:%ld: @auth rule '%s' needs the user pool: call "
					    "synth_define_auth in this backend", n->file, line, col,
					    allow);
	if (!n->has_auth && m == SYNTH_DATA_AUTH_IAM)
		return synth_construct_failf(n->self, SYNTH_ENOTFOUND,
					    "%s:%ld:%ld: @auth rule '%s' with provider '%s' needs the "
					    "identity pool: call synth_define_auth in this backend",
					    n->file, line, col, allow, prov);
	n->modes |= 1u << m;
	return 0;
}

/* --- IAM access for the identity pool roles ------------------------------ */

typedef struct iam_acc {
	json_t *by_model;  /* model -> its resolvers (operations and relations) */
	json_t *by_role; /* role path -> {"<type>/fields/<field>" | "<type>/STAR": true} */
} iam_acc;

/* Whether rule operation names cover resolver operation OP. */
static bool rule_allows(json_t *ops, const char *op)
{
	const char *want = !strcmp(op, "index") ? "list" : !strcmp(op, "subscribe") ? "listen" : op;
	size_t i;
	json_t *o;
	json_array_foreach(ops, i, o)
		if (!strcmp(json_string_value(o), want))
			return true;
	return false;
}

static int iam_rule(const rule_ref *r, void *arg)
{
	iam_acc *a = arg;
	if (provider_mode(str(r->rule, "provider")) != SYNTH_DATA_AUTH_IAM)
		return 0;
	const char *allow = str(r->rule, "allow");
	const char *role = !strcmp(allow, "public") ? "auth/UnauthenticatedRole"
						    : "auth/AuthenticatedRole";
	json_t *set = json_object_get(a->by_role, role);
	if (!set) {
		set = json_object();
		if (json_object_set_new(a->by_role, role, set) < 0)
			return synth_error_oom();
	}
	char key[600];
	snprintf(key, sizeof key, "%s/*", r->model);
	json_object_set_new(set, key, json_true());
	if (r->field)
		return 0;
	json_t *ops = json_object_get(r->rule, "operations");
	size_t i;
	json_t *res;
	/* The model's own resolvers only: a walk over every resolver for
	 * every rule would be quadratic in a schema of hundreds of models. */
	json_array_foreach(json_object_get(a->by_model, r->model), i, res) {
		const char *tn = str(res, "typeName");
		if (strcmp(str(res, "operation"), "relation") == 0)
			continue;
		if (!rule_allows(ops, str(res, "operation")))
			continue;
		snprintf(key, sizeof key, "%s/fields/%s", tn, str(res, "fieldName"));
		json_object_set_new(set, key, json_true());
	}
	return 0;
}

static json_t *api_arn_join(const char *suffix)
{
	return synth_join("", json_pack("[o,s]", synth_getatt("data/GraphQLApi", "Arn"), suffix));
}

/* One policy per identity pool role that iam rules reach. */
static int iam_policies(synth_construct *self, json_t *by_model)
{
	synth_data *d = synth_construct_state(self);
	iam_acc a = {by_model, json_object()};
	int rc = a.by_role ? each_rule(d->model, iam_rule, &a) : synth_error_oom();
	const char *role;
	json_t *set;
	json_object_foreach(a.by_role, role, set) {
		if (rc < 0)
			break;
		json_t *arns = json_array();
		const char *k;
		json_t *v;
		if (json_object_size(set) > IAM_ARNS_MAX) {
			/* AppSync still checks @aws_iam on every field and the
			 * resolvers check the rules: the wildcard keeps the
			 * policy within IAM's size limit. */
			json_array_append_new(arns, api_arn_join("/types/*"));
		} else {
			json_object_foreach(set, k, v) {
				char *suffix = synth_asprintf("/types/%s", k);
				json_array_append_new(arns, suffix ? api_arn_join(suffix) : NULL);
				free(suffix);
			}
		}
		char id[64];
		snprintf(id, sizeof id, "%sPolicy", strchr(role, '/') + 1);
		rc = synth_resource_new(
			NULL, self, id, "AWS::IAM::Policy",
			json_pack("{s:s,s:{s:s,s:[{s:s,s:s,s:o}]},s:[o]}", "PolicyName", id,
				  "PolicyDocument", "Version", "2012-10-17", "Statement", "Effect",
				  "Allow", "Action", "appsync:GraphQL", "Resource", arns, "Roles",
				  synth_ref(role)));
	}
	json_decref(a.by_role);
	return rc < 0 ? rc : 0;
}

/* --- functions calling the API with IAM ---------------------------------- */

/* AppSync's limits on an API's environment: values of 512 characters;
 * an IAM role name has at most 64. */
#define ENV_VALUE_MAX 512
#define ROLE_NAME_MAX 64

/*
 * The API's EnvironmentVariables for the functions granted access
 * (synth_data_grant), which the resolvers read as ctx.env
 * (lib/gqlresolvers.c, grantedRole): SYNTH_IAM_ACCOUNT, the account whose
 * roles they are, and per access granted SYNTH_IAM_QUERY / _MUTATE /
 * _SUBSCRIBE, the role names joined by ','. Role names are not secrets.
 * Set on API (borrowed).
 */
static int grant_environment(synth_construct *self, synth_data *d, json_t *api)
{
	static const char *const access[][2] = {
		{"query", "SYNTH_IAM_QUERY"}, {"mutate", "SYNTH_IAM_MUTATE"}, {"subscribe", "SYNTH_IAM_SUBSCRIBE"}};
	json_t *env = json_pack("{s:o}", "SYNTH_IAM_ACCOUNT", synth_pseudo("AWS::AccountId"));
	if (!env || json_object_set_new(api, "EnvironmentVariables", env) < 0)
		return synth_error_oom();
	for (size_t i = 0; i < 3; i++) {
		json_t *roles = json_object_get(d->grant_roles, access[i][0]);
		size_t n = json_array_size(roles);
		if (!n)
			continue;
		if (n * (ROLE_NAME_MAX + 1) > ENV_VALUE_MAX + 1)
			return synth_construct_failf(self, SYNTH_EINVALID,
						    "%zu functions are granted '%s': AppSync's environment "
						    "value holds the names of at most %d roles",
						    n, access[i][0], (ENV_VALUE_MAX + 1) / (ROLE_NAME_MAX + 1));
		json_t *v = n == 1 ? json_incref(json_array_get(roles, 0)) : synth_join(",", json_incref(roles));
		if (!v || json_object_set_new(env, access[i][1], v) < 0)
			return synth_error_oom();
	}
	return 0;
}

/* --- the generator ------------------------------------------------------ */

static int add_output(synth_backend *b, const char *name, json_t *v)
{
	return synth_backend_add_output(b, "graphQL", name, v, NULL, NULL);
}

/* s3://<asset bucket>/<asset key> for asset INDEX. */

/* The API key's expiry (epoch seconds): the end of the UTC day DAYS days
 * from today, at most 365 days ahead (AppSync wants 1..365 days). Stable
 * for a whole day; SOURCE_DATE_EPOCH, when set, stands for the clock. */
static long long api_key_expiry(int days)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	long long now = sde && *sde ? strtoll(sde, NULL, 10) : (long long)time(NULL);
	long long day = now - now % 86400;
	int n = days + 1 > 365 ? 365 : days + 1;
	return day + (long long)n * 86400;
}


/* The resolvers' data source names: "<Model>Table" (Amplify's), NONE_DS. */
/* RESOLVERS: those of model NAME (placed in its unit); READERS: those whose
 * data source is its table. */
static int model_resources(synth_construct *self, synth_data *d, const char *name, json_t *m,
			   json_t *resolvers, json_t *readers, const size_t *code_assets, bool retain)
{
	char id[400], path[460];
	synth_resource *table = NULL;
	/* One layout group per model, so a large schema spreads over nested
	 * stacks; the construct's own group holds the API and the schema. */
	if (synth_construct_set_layout_group(self, name) < 0)
		return SYNTH_ERROR;
	snprintf(id, sizeof id, "%s/Table", name);
	snprintf(path, sizeof path, "data/%s/Table", name);
	json_t *tp = table_props(d, m, readers);
	int rc = tp ? synth_resource_new(&table, self, id, "AWS::DynamoDB::Table", tp) : synth_error_oom();
	if (rc == 0)
		rc = synth_resource_set_deletion_policy(table, retain ? "Retain" : "Delete");
	/* What this table's resolvers do: the data source role's actions. */
	json_t *acts = json_array();
	bool index = false;
	size_t i;
	json_t *r;
	json_array_foreach(readers, i, r) {
		const char *ixn = str(r, "index");
		if (ixn) {
			json_t *gsis = table ? json_object_get(synth_resource_properties(table),
							       "GlobalSecondaryIndexes")
					     : NULL;
			if (rc == 0 && !has_gsi(gsis, ixn))
				rc = synth_construct_failf(self, SYNTH_ERROR,
							  "internal error: resolver %s.%s queries index "
							  "'%s', which table %s does not have",
							  str(r, "typeName"), str(r, "fieldName"), ixn, name);
			index = true;
		}
		size_t k;
		json_t *a;
		json_array_foreach(json_object_get(r, "actions"), k, a) {
			bool dup = false;
			size_t q;
			json_t *x;
			json_array_foreach(acts, q, x)
				dup |= json_equal(a, x);
			if (!dup)
				json_array_append(acts, a);
		}
	}
	char rpath[460], dspath[460];
	snprintf(rpath, sizeof rpath, "data/%s/DataSourceRole", name);
	snprintf(dspath, sizeof dspath, "data/%s/DataSource", name);
	json_t *role = json_pack("{s:{s:s,s:[{s:s,s:{s:s},s:s}]}}", "AssumeRolePolicyDocument",
				 "Version", "2012-10-17", "Statement", "Effect", "Allow",
				 "Principal", "Service", "appsync.amazonaws.com", "Action",
				 "sts:AssumeRole");
	if (role && json_array_size(acts)) {
		json_t *res = json_pack("[o]", synth_getatt(path, "Arn"));
		if (index)
			json_array_append_new(res, synth_join("", json_pack("[o,s]", synth_getatt(path, "Arn"), "/index/*")));
		json_object_set_new(role, "Policies",
				    json_pack("[{s:s,s:{s:s,s:[{s:s,s:O,s:o}]}}]", "PolicyName",
					      "DynamoDBAccess", "PolicyDocument", "Version",
					      "2012-10-17", "Statement", "Effect", "Allow", "Action",
					      acts, "Resource", res));
	}
	json_decref(acts);
	snprintf(id, sizeof id, "%s/DataSourceRole", name);
	if (rc == 0)
		rc = role ? synth_resource_new(NULL, self, id, "AWS::IAM::Role", role) : synth_error_oom();
	else
		json_decref(role);
	char dsname[300];
	snprintf(dsname, sizeof dsname, "%sTable", name);
	snprintf(id, sizeof id, "%s/DataSource", name);
	if (rc == 0)
		rc = synth_resource_new(
			NULL, self, id, "AWS::AppSync::DataSource",
			json_pack("{s:o,s:s,s:s,s:{s:o,s:o},s:o}", "ApiId",
				  synth_getatt("data/GraphQLApi", "ApiId"), "Name", dsname, "Type",
				  "AMAZON_DYNAMODB", "DynamoDBConfig", "TableName", synth_ref(path),
				  "AwsRegion", synth_pseudo("AWS::Region"), "ServiceRoleArn",
				  synth_getatt(rpath, "Arn")));
	/* The resolvers of this model's operations and relations. */
	synth_resource *schema = synth_backend_resource(synth_construct_backend(self), "data/GraphQLSchema");
	json_array_foreach(resolvers, i, r) {
		if (rc < 0)
			break;
		const char *ds = str(r, "dataSource");
		char dsp[460];
		snprintf(dsp, sizeof dsp, ds ? "data/%s/DataSource" : "data/NoneDataSource", ds);
		snprintf(id, sizeof id, "%s/%s/%s", name, str(r, "typeName"), str(r, "fieldName"));
		synth_resource *res = NULL;
		size_t module = (size_t)json_integer_value(json_object_get(r, "module"));
		rc = synth_resource_new(
			&res, self, id, "AWS::AppSync::Resolver",
			json_pack("{s:o,s:s,s:s,s:s,s:o,s:{s:s,s:s},s:o}", "ApiId",
				  synth_getatt("data/GraphQLApi", "ApiId"), "TypeName",
				  str(r, "typeName"), "FieldName", str(r, "fieldName"), "Kind", "UNIT",
				  "DataSourceName", synth_getatt(dsp, "Name"), "Runtime", "Name",
				  "APPSYNC_JS", "RuntimeVersion", "1.0.0", "CodeS3Location",
				  synth_asset_s3_uri(code_assets[module])));
		if (rc == 0 && schema)
			rc = synth_resource_add_dependency(res, schema);
	}
	int back = synth_construct_set_layout_group(self, NULL);
	return rc < 0 ? rc : back;
}

/* The API: its default authorization mode DEF, the other modes the rules
 * use (MODES); *EXTRA_LIST (caller frees) names those others, for the
 * client. */
static int api_resource(synth_construct *self, synth_data *d, synth_data_auth_mode def,
			unsigned modes, char **extra_list)
{
	synth_backend *b = synth_construct_backend(self);
	const char *defname = mode_name(def);
	int rc = 0;
	json_t *api = json_pack("{s:s,s:s,s:b}", "Name", synth_backend_stack_name(b), "AuthenticationType",
				defname, "XrayEnabled", 0);
	if (api && def == SYNTH_DATA_AUTH_USER_POOL)
		json_object_set_new(api, "UserPoolConfig",
				    json_pack("{s:o,s:o,s:s}", "UserPoolId", synth_auth_user_pool_id(),
					      "AwsRegion", synth_pseudo("AWS::Region"),
					      "DefaultAction", "ALLOW"));
	json_t *extra = json_array();
	synth_buf extra_names = SYNTH_BUF_INIT;
	for (int m = SYNTH_DATA_AUTH_USER_POOL; m <= SYNTH_DATA_AUTH_IAM; m++) {
		if (m == (int)def || !(modes & (1u << m)))
			continue;
		json_t *p = json_pack("{s:s}", "AuthenticationType", mode_name(m));
		if (p && m == SYNTH_DATA_AUTH_USER_POOL)
			json_object_set_new(p, "UserPoolConfig",
					    json_pack("{s:o,s:o}", "UserPoolId",
						      synth_auth_user_pool_id(), "AwsRegion",
						      synth_pseudo("AWS::Region")));
		json_array_append_new(extra, p);
		if (extra_names.len)
			synth_buf_putc(&extra_names, ',');
		synth_buf_puts(&extra_names, mode_name(m));
	}
	if (api && json_array_size(extra))
		json_object_set(api, "AdditionalAuthenticationProviders", extra);
	if (api && d->iam_grants && (rc = grant_environment(self, d, api)) < 0) {
		json_decref(api);
		api = NULL;
	}
	json_decref(extra);
	*extra_list = synth_buf_detach(&extra_names);
	if (rc == 0)
		rc = api && *extra_list ? synth_resource_new(NULL, self, "GraphQLApi",
							    "AWS::AppSync::GraphQLApi", api)
				       : (json_decref(api), synth_error_oom());

	return rc;
}

/* The schema (inline, or from S3 when it would crowd the template) and the
 * API key when a rule needs one. */
static int schema_and_key(synth_construct *self, synth_data *d, const char *sdl, unsigned modes)
{
	synth_backend *b = synth_construct_backend(self);
	int rc = 0;
	json_t *sp = json_pack("{s:o}", "ApiId", synth_getatt("data/GraphQLApi", "ApiId"));
	size_t sdl_len = strlen(sdl);
	if (rc == 0 && sp && sdl_len <= SCHEMA_INLINE_MAX) {
		json_object_set_new(sp, "Definition", json_string(sdl));
	} else if (rc == 0 && sp) {
		size_t ai;
		rc = synth_construct_add_file_asset(&ai, self, sdl, sdl_len, "graphql", "data/GraphQLSchema");
		if (rc == 0)
			json_object_set_new(sp, "DefinitionS3Location", synth_asset_s3_uri(ai));
	}
	if (rc == 0)
		rc = sp ? synth_resource_new(NULL, self, "GraphQLSchema", "AWS::AppSync::GraphQLSchema",
					     sp)
			: synth_error_oom();
	else
		json_decref(sp);

	if (rc == 0 && (modes & (1u << SYNTH_DATA_AUTH_API_KEY))) {
		char desc[96];
		snprintf(desc, sizeof desc, "API key of %s (expires after %d days)", synth_backend_stack_name(b),
			 d->api_key_days);
		rc = synth_resource_new(NULL, self, "ApiKey", "AWS::AppSync::ApiKey",
					json_pack("{s:o,s:I,s:s}", "ApiId",
						  synth_getatt("data/GraphQLApi", "ApiId"), "Expires",
						  (json_int_t)api_key_expiry(d->api_key_days),
						  "Description", desc));
	}
	return rc;
}

static int data_generate(synth_construct *self, void *state)
{
	synth_data *d = state;
	synth_backend *b = synth_construct_backend(self);
	const char *file = str(d->model, "file");
	bool has_auth = synth_backend_provides(b, "auth");

	/* Authorization modes: the default, then what the rules use. */
	synth_data_auth_mode def = d->default_auth;
	if (def == SYNTH_DATA_AUTH_DEFAULT)
		def = has_auth ? SYNTH_DATA_AUTH_USER_POOL : SYNTH_DATA_AUTH_API_KEY;
	if (def == SYNTH_DATA_AUTH_USER_POOL && !has_auth)
		return synth_construct_failf(self, SYNTH_ENOTFOUND,
					    "default_auth is the user pool, but the backend has no "
					    "auth: call synth_define_auth in this backend");
	needs n = {file, self, has_auth, 1u << def};
	if (each_rule(d->model, check_rule, &n))
		return SYNTH_ERROR; /* check_rule failed the construct */
	if (d->iam_grants)
		n.modes |= 1u << SYNTH_DATA_AUTH_IAM;
	synth_construct *auth = NULL;
	bool need_auth = n.modes & (1u << SYNTH_DATA_AUTH_USER_POOL);
	json_t *provs = json_object_get(d->model, "authProviders");
	need_auth |= json_object_get(provs, "iam") || json_object_get(provs, "identityPool");
	if (need_auth && synth_construct_lookup(&auth, self, "auth") < 0)
		return SYNTH_ERROR;

	/* The generators. */
	const char *defname = mode_name(def);
	char *sdl = NULL;
	json_t *generated = NULL, *resolvers = NULL, *mis = NULL;
	size_t *code_assets = NULL;
	int rc = synth__gql_client_schema_ex(&sdl, d->model, defname,
					     d->iam_grants ? SYNTH_GQL_IAM_ACCESS : 0);
	if (rc == 0)
		rc = synth__gql_resolvers(&generated, d->model, defname);
	resolvers = json_object_get(generated, "resolvers");
	if (rc == 0)
		rc = synth__gql_model_introspection(&mis, d->model);
	if (rc < 0) {
		/* Their messages name the schema; say whose it is. */
		char *msg = strdup(synth_error_last()->message);
		rc = synth_construct_failf(self, rc, "%s", msg ? msg : "out of memory");
		free(msg);
		goto out;
	}

	char *extra_list = NULL;
	rc = api_resource(self, d, def, n.modes, &extra_list);
	if (rc == 0)
		rc = schema_and_key(self, d, sdl, n.modes);
	bool none_ds = false;
	size_t i;
	json_t *r;
	json_array_foreach(resolvers, i, r)
		none_ds |= json_is_null(json_object_get(r, "dataSource")) ||
			   !json_object_get(r, "dataSource");
	if (rc == 0 && none_ds)
		rc = synth_resource_new(NULL, self, "NoneDataSource", "AWS::AppSync::DataSource",
					json_pack("{s:o,s:s,s:s}", "ApiId",
						  synth_getatt("data/GraphQLApi", "ApiId"), "Name",
						  "NONE_DS", "Type", "NONE"));
	/* The resolvers grouped by model and by data source, once: a schema
	 * may have thousands. */
	json_t *by_model = json_object(), *by_ds = json_object();
	json_array_foreach(resolvers, i, r) {
		if (rc < 0)
			break;
		const char *keys[2] = {str(r, "model"), str(r, "dataSource")};
		json_t *maps[2] = {by_model, by_ds};
		for (int k = 0; k < 2 && rc == 0; k++) {
			if (!keys[k])
				continue;
			json_t *list = json_object_get(maps[k], keys[k]);
			if (!list && json_object_set_new(maps[k], keys[k], list = json_array()) < 0)
				rc = synth_error_oom();
			if (rc == 0 && json_array_append(list, r) < 0)
				rc = synth_error_oom();
		}
	}
	if (rc == 0 && auth)
		rc = iam_policies(self, by_model);

	/* The resolvers' code: a file asset per module (S3 object
	 * "<sha256>.js"), which every resolver it serves names in
	 * CodeS3Location: the templates hold references only. */
	json_t *modules = json_object_get(generated, "modules");
	if (rc == 0 && !(code_assets = calloc(json_array_size(modules) + 1, sizeof *code_assets)))
		rc = synth_error_oom();
	json_array_foreach(modules, i, r) {
		if (rc < 0)
			break;
		json_t *code = json_object_get(r, "code");
		char ctx[400];
		snprintf(ctx, sizeof ctx, "data/Resolvers/%s", str(r, "name"));
		rc = synth_construct_add_file_asset(&code_assets[i], self, json_string_value(code),
						json_string_length(code), "js", ctx);
	}

	/* The tables, data sources and resolvers, model by model. */
	const char *mn;
	json_t *m;
	json_object_foreach(json_object_get(d->model, "models"), mn, m) {
		if (rc < 0)
			break;
		rc = model_resources(self, d, mn, m, json_object_get(by_model, mn),
				     json_object_get(by_ds, mn), code_assets, synth_backend_type_of(b) == SYNTH_BACKEND_BRANCH);
	}
	json_decref(by_model);
	json_decref(by_ds);

	/* The model introspection schema, for clients, as a file in S3. */
	char *mis_text = rc == 0 ? synth_json_dumps(mis, JSON_COMPACT) : NULL;
	size_t mis_index = 0;
	if (rc == 0)
		rc = mis_text ? synth_construct_add_file_asset(&mis_index, self, mis_text, strlen(mis_text),
							   "json", "data/ModelIntrospectionSchema")
			      : synth_error_oom();
	free(mis_text);

	/* What the client needs. */
	if (rc == 0)
		rc = add_output(b, "awsAppsyncApiId", synth_getatt("data/GraphQLApi", "ApiId"));
	if (rc == 0)
		rc = add_output(b, "awsAppsyncApiEndpoint",
				synth_getatt("data/GraphQLApi", "GraphQLUrl"));
	if (rc == 0)
		rc = add_output(b, "awsAppsyncAuthenticationType", json_string(defname));
	if (rc == 0)
		rc = add_output(b, "awsAppsyncRegion", synth_pseudo("AWS::Region"));
	if (rc == 0 && extra_list && *extra_list)
		rc = add_output(b, "awsAppsyncAdditionalAuthenticationTypes",
				json_string(extra_list));
	if (rc == 0 && (n.modes & (1u << SYNTH_DATA_AUTH_API_KEY)))
		rc = add_output(b, "awsAppsyncApiKey", synth_getatt("data/ApiKey", "ApiKey"));
	if (rc == 0)
		rc = add_output(b, SYNTH_OUT_MODEL_SCHEMA_URI, synth_asset_s3_uri(mis_index));
	free(extra_list);
out:
	free(sdl);
	free(code_assets);
	json_decref(generated);
	json_decref(mis);
	return rc;
}

/* synth_function_link(fn, synth_data_construct(d), ACCESS): "query",
 * "mutate", "subscribe" (comma-separated) grant exactly what
 * synth_data_grant() grants; the GraphQL URL as SYNTH_DATA_URL. */
static int data_link(synth_construct *self, void *state, synth_function *fn, const char *access)
{
	int rc = synth_data_grant(state, fn, access);
	if (rc == 0)
		rc = synth_function_link_env(fn, self, "URL", synth_data_graphql_url());
	return rc;
}

static const synth_construct_class data_class = {
	.version = SYNTH_CONSTRUCT_CLASS_VERSION,
	.kind = "data",
	.provides = "data",
	.generate = data_generate,
	.free = data_free,
	.link = data_link,
};

/* --- definition --------------------------------------------------------- */

/* Fails B with the last error (a parser's or the file reader's), prefixed
 * with "data: " (the message is copied first: setting an error may reuse
 * the buffer it lives in), and frees D. */
static synth_data *define_fail(synth_backend *b, synth_data *d, int code)
{
	char *msg = strdup(synth_error_last()->message);
	if (msg)
		synth_backend_failf(b, code, "data: %s", msg);
	else
		synth_backend_failf(b, SYNTH_ENOMEM, "data: out of memory");
	free(msg);
	data_free(d);
	return NULL;
}

synth_data *synth_define_data(synth_backend *b, const synth_data_props *props)
{
	SYNTH_CHECK_HANDLE(b);
	static const synth_data_props none = {0};
	const synth_data_props *p = props ? props : &none;
	synth_error_clear();
	if (synth_construct_state_as(synth_backend_construct(b, "data"), &data_class)) {
		synth_backend_failf(b, SYNTH_EEXISTS,
				    "data: define_data is called twice; a backend has one data (the "
				    "second call's schema: %s)",
				    p->schema_file ? p->schema_file
				    : p->schema    ? "inline"
						   : DEFAULT_SCHEMA_FILE);
		return NULL;
	}
	if (p->schema && p->schema_file)
		synth_error_setf(SYNTH_EINVALID, "give schema_file or schema, not both");
	else if ((unsigned)p->default_auth > SYNTH_DATA_AUTH_IAM)
		synth_error_setf(SYNTH_EINVALID, "default_auth is not a synth_data_auth_mode");
	else if (p->api_key_expires_days &&
		 (p->api_key_expires_days < 1 || p->api_key_expires_days > 365))
		synth_error_setf(SYNTH_EINVALID, "api_key_expires_days is %d; AppSync allows 1 to 365",
				 p->api_key_expires_days);
	if (synth_error_last()->code)
		return define_fail(b, NULL, SYNTH_EINVALID);
	synth_data *d = calloc(1, sizeof *d);
	if (!d)
		return define_fail(b, NULL, synth_error_oom());
	d->default_auth = p->default_auth;
	d->api_key_days = p->api_key_expires_days ? p->api_key_expires_days : 7;
	d->streams = p->streams;
	d->pitr = p->point_in_time_recovery;

	/* The schema, read and checked now: errors point at the schema. */
	int rc;
	if (p->schema) {
		rc = synth__graphql_parse(&d->model, "(inline schema)", p->schema, strlen(p->schema));
	} else {
		const char *path = p->schema_file ? p->schema_file : DEFAULT_SCHEMA_FILE;
		char *text = NULL;
		size_t len = 0;
		rc = synth_file_read(path, &text, &len);
		if (rc == SYNTH_ENOTFOUND)
			synth_error_setf(rc, "schema file '%s' does not exist%s", path,
					 p->schema_file ? "" : " (the default: set schema_file or "
					 "schema)");
		if (rc < 0)
			return define_fail(b, d, rc);
		rc = synth__graphql_parse(&d->model, path, text, len);
		free(text);
	}
	if (rc < 0)
		return define_fail(b, d, rc);
	if (json_object_size(json_object_get(d->model, "models")) == 0) {
		synth_error_setf(SYNTH_EINVALID,
				 "%s: the schema has no @model type: there is nothing to store",
				 str(d->model, "file"));
		return define_fail(b, d, SYNTH_EINVALID);
	}
	if (synth_construct_new(&d->c, b, "data", &data_class, d) < 0)
		return NULL;
	return d;
}

json_t *synth_data_api_id(void) { return synth_getatt("data/GraphQLApi", "ApiId"); }
json_t *synth_data_graphql_url(void) { return synth_getatt("data/GraphQLApi", "GraphQLUrl"); }
json_t *synth_data_api_arn(void) { return synth_getatt("data/GraphQLApi", "Arn"); }

int synth_data_grant(synth_data *d, synth_function *fn, const char *access)
{
	if (!d || !fn) {
		int rc = synth_error_setf(SYNTH_EINVALID, "data: a grant needs the data and a "
					  "function (did a define fail?)");
		return d ? synth_backend_failf(synth_construct_backend(d->c), rc, "%s",
					       synth_error_last()->message)
			 : rc;
	}
	synth_backend *b = synth_construct_backend(d->c);
	const char *fname = synth_construct_name(synth_function_construct(fn));
	json_t *arns = json_array();
	char *list = strdup(access ? access : ""), *save = NULL;
	if (!arns || !list) {
		json_decref(arns);
		free(list);
		return synth_backend_failf(b, SYNTH_ENOMEM, "data: out of memory");
	}
	int rc = 0;
	json_t *kinds = json_array();
	if (!kinds)
		rc = synth_error_oom();
	for (char *t = strtok_r(list, ", ", &save); t && rc == 0; t = strtok_r(NULL, ", ", &save)) {
		const char *type = !strcmp(t, "query") ? "Query" : !strcmp(t, "mutate") ? "Mutation"
				   : !strcmp(t, "subscribe") ? "Subscription" : NULL;
		if (!type) {
			rc = synth_error_setf(SYNTH_EINVALID, "data: grant to %s: '%s' is not query, "
					      "mutate or subscribe", fname, t);
			break;
		}
		char suffix[32];
		snprintf(suffix, sizeof suffix, "/types/%s/*", type);
		json_array_append_new(arns, api_arn_join(suffix));
		if (json_array_append_new(kinds, json_string(t)) < 0)
			rc = synth_error_oom();
	}
	free(list);
	/* The role name, once per access granted. */
	if (rc == 0 && !d->grant_roles && !(d->grant_roles = json_object()))
		rc = synth_error_oom();
	size_t ki;
	json_t *kind;
	json_array_foreach(kinds, ki, kind) {
		if (rc < 0)
			break;
		const char *k = json_string_value(kind);
		json_t *names = json_object_get(d->grant_roles, k);
		if (!names && json_object_set_new(d->grant_roles, k, names = json_array()) < 0) {
			rc = synth_error_oom();
			break;
		}
		json_t *ref = synth_function_role_name(fn);
		bool dup = false;
		size_t q;
		json_t *x;
		json_array_foreach(names, q, x)
			dup |= json_equal(x, ref);
		if (!ref || (!dup && json_array_append(names, ref) < 0))
			rc = synth_error_oom();
		json_decref(ref);
	}
	json_decref(kinds);
	if (rc == 0 && !json_array_size(arns))
		rc = synth_error_setf(SYNTH_EINVALID, "data: grant to %s lists no access (query, "
				      "mutate, subscribe)", fname);
	if (rc < 0) {
		json_decref(arns);
		return synth_backend_failf(b, rc, "%s", synth_error_last()->message);
	}
	d->iam_grants = true;
	const char *const actions[] = {"appsync:GraphQL", NULL};
	rc = synth_function_grant(fn, actions, arns);
	if (rc == 0)
		rc = synth_function_add_environment(fn, "AMPLIFY_DATA_GRAPHQL_ENDPOINT",
						    synth_data_graphql_url());
	return rc;
}

synth_construct *synth_data_construct(synth_data *d) { return d ? d->c : NULL; }
