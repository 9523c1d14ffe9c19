/*
 * define_table: the table's properties for each option, Retain on a branch
 * and Delete in a sandbox, every refusal, the stream subscription (the
 * mapping, its exact grants, DependsOn the policy), linking (read, write:
 * exact actions and resources, environment), the data category's link,
 * and cfn-lint on a synthesized backend with tables.
 */
#define _GNU_SOURCE
#include "check.h"
#include "helpers.h"
#include "synth/sys/construct.h"
#include "synth/table.h"

#include "failmalloc.h"

/* --- helpers ------------------------------------------------------------- */

static synth_backend *new_sandbox(void)
{
	synth_backend *b = NULL;
	char *argv[] = {"t", "-c", "synth:namespace=app", "-c", "synth:type=sandbox",
			"-c", "synth:name=me", "--out", "out", NULL};
	unsetenv("CDK_CONTEXT_JSON");
	unsetenv("CDK_OUTDIR");
	if (synth_backend_new(&b, 9, argv) < 0)
		return NULL;
	return b;
}

static const char *lid_of(json_t *t, const char *path)
{
	const char *k;
	json_t *r;
	json_object_foreach(json_object_get(t, "Resources"), k, r) {
		const char *p = json_string_value(
			json_object_get(json_object_get(r, "Metadata"), "synth:path"));
		if (p && !strcmp(p, path))
			return k;
	}
	return NULL;
}

static json_t *props_of(json_t *t, const char *path)
{
	return json_object_get(by_path(t, path), "Properties");
}

/* JSON text of J (compact, sorted keys) compared to EXPECT, the same way. */
static bool json_is(json_t *j, const char *expect)
{
	json_t *e = json_loads(expect, 0, NULL);
	bool same = e && json_equal(j, e);
	if (!same) {
		char *got = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		printf("#   got:      %s\n#   expected: %s\n", got ? got : "(null)", expect);
		free(got);
	}
	json_decref(e);
	return same;
}

/* The statements of function FN's DefaultPolicy. */
static json_t *statements(json_t *t, const char *fn)
{
	char p[128];
	snprintf(p, sizeof p, "%s/ServiceRole/DefaultPolicy", fn);
	return json_object_get(json_object_get(props_of(t, p), "PolicyDocument"), "Statement");
}

/* The statement of STS whose actions include ACTION. */
static json_t *statement_with(json_t *sts, const char *action)
{
	size_t i, k;
	json_t *st, *a;
	json_array_foreach(sts, i, st) {
		json_t *acts = json_object_get(st, "Action");
		if (json_is_string(acts) && !strcmp(json_string_value(acts), action))
			return st;
		json_array_foreach(acts, k, a)
			if (!strcmp(json_string_value(a), action))
				return st;
	}
	return NULL;
}

/* Whether any statement of STS has an action starting with PREFIX. */
static size_t count_prefixed(json_t *sts, const char *prefix)
{
	size_t i, k, n = 0;
	json_t *st, *a;
	json_array_foreach(sts, i, st) {
		json_t *acts = json_object_get(st, "Action");
		if (json_is_string(acts))
			n += !strncmp(json_string_value(acts), prefix, strlen(prefix));
		json_array_foreach(acts, k, a)
			n += !strncmp(json_string_value(a), prefix, strlen(prefix));
	}
	return n;
}

static json_t *env_of(json_t *t, const char *fn)
{
	char p[128];
	snprintf(p, sizeof p, "%s/Resource", fn);
	return json_object_get(json_object_get(props_of(t, p), "Environment"), "Variables");
}

static const synth_table_field id_sk[] = {{"id", "S"}, {"sk", "N"}, {0}};

/* --- the table ------------------------------------------------------------ */

static void test_minimal(void)
{
	synth_backend *b = new_backend();
	synth_table *tb = synth_define_table(b, "orders", &(synth_table_props){
		.fields = id_sk, .hash_key = "id", .range_key = "sk"});
	CHECK(tb != NULL, "a table with a partition and a sort key is defined");
	CHECK(synth_backend_run(b) == 0, "it runs (%s)", synth_error_last()->message);
	json_t *t = root_template();
	json_t *r = by_path(t, "orders/Table"), *p = json_object_get(r, "Properties");
	CHECK_STR(json_string_value(json_object_get(r, "Type")), "AWS::DynamoDB::Table",
		  "orders/Table is an AWS::DynamoDB::Table");
	CHECK(json_is(json_object_get(p, "KeySchema"),
		      "[{\"AttributeName\":\"id\",\"KeyType\":\"HASH\"},"
		      "{\"AttributeName\":\"sk\",\"KeyType\":\"RANGE\"}]"),
	      "KeySchema: id HASH, sk RANGE");
	CHECK(json_is(json_object_get(p, "AttributeDefinitions"),
		      "[{\"AttributeName\":\"id\",\"AttributeType\":\"S\"},"
		      "{\"AttributeName\":\"sk\",\"AttributeType\":\"N\"}]"),
	      "AttributeDefinitions: exactly the two key fields");
	CHECK_STR(json_string_value(json_object_get(p, "BillingMode")), "PAY_PER_REQUEST",
		  "on demand by default");
	CHECK(json_object_size(p) == 3, "nothing else by default (%zu properties)",
	      json_object_size(p));
	CHECK_STR(json_string_value(json_object_get(r, "DeletionPolicy")), "Retain",
		  "a branch retains the table");
	CHECK_STR(json_string_value(json_object_get(r, "UpdateReplacePolicy")), "Retain",
		  "and on replacement too");
	json_decref(t);
	synth_backend_free(b);
	synth__rm_rf("out");

	b = new_sandbox();
	synth_define_table(b, "orders", &(synth_table_props){.fields = id_sk, .hash_key = "id",
							      .range_key = "sk"});
	CHECK(synth_backend_run(b) == 0, "a sandbox runs");
	t = root_template();
	r = by_path(t, "orders/Table");
	CHECK_STR(json_string_value(json_object_get(r, "DeletionPolicy")), "Delete",
		  "a sandbox deletes the table");
	CHECK_STR(json_string_value(json_object_get(r, "UpdateReplacePolicy")), "Delete",
		  "and on replacement too");
	json_decref(t);
	synth_backend_free(b);
	synth__rm_rf("out");
}

static const synth_table_field all_fields[] = {
	{"pk", "S"}, {"sk", "S"}, {"email", "S"}, {"score", "N"}, {"blob", "B"},
	{"created", "N"}, {0}};
static const char *const gsi_include[] = {"title", "tags", NULL};
static const synth_table_global_index all_gsis[] = {
	{.name = "byEmail", .hash_key = "email"},
	{.name = "byScore", .hash_key = "score", .range_key = "pk", .projection = "keys-only"},
	{.name = "byBlob", .hash_key = "blob", .projection = "include", .include = gsi_include},
	{0}};
static const synth_table_local_index all_lsis[] = {
	{.name = "byCreated", .range_key = "created", .projection = "keys-only"}, {0}};

static const synth_table_props all_props = {
	.fields = all_fields, .hash_key = "pk", .range_key = "sk",
	.global_indexes = all_gsis, .local_indexes = all_lsis, .ttl = "expires",
	.point_in_time_recovery = true, .deletion_protection = true, .provisioned = true,
	.read_capacity = 5, .write_capacity = 3, .stream = "new-and-old-images"};

static void test_options(void)
{
	synth_backend *b = new_backend();
	CHECK(synth_define_table(b, "everything", &all_props) != NULL, "every option at once");
	CHECK(synth_backend_run(b) == 0, "it runs (%s)", synth_error_last()->message);
	json_t *t = root_template();
	json_t *p = props_of(t, "everything/Table");
	CHECK(json_is(json_object_get(p, "AttributeDefinitions"),
		      "[{\"AttributeName\":\"pk\",\"AttributeType\":\"S\"},"
		      "{\"AttributeName\":\"sk\",\"AttributeType\":\"S\"},"
		      "{\"AttributeName\":\"email\",\"AttributeType\":\"S\"},"
		      "{\"AttributeName\":\"score\",\"AttributeType\":\"N\"},"
		      "{\"AttributeName\":\"blob\",\"AttributeType\":\"B\"},"
		      "{\"AttributeName\":\"created\",\"AttributeType\":\"N\"}]"),
	      "AttributeDefinitions: the six key fields, types S, N, B, none added");
	CHECK(json_is(json_object_get(p, "GlobalSecondaryIndexes"),
		      "[{\"IndexName\":\"byEmail\",\"KeySchema\":[{\"AttributeName\":\"email\","
		      "\"KeyType\":\"HASH\"}],\"Projection\":{\"ProjectionType\":\"ALL\"},"
		      "\"ProvisionedThroughput\":{\"ReadCapacityUnits\":5,\"WriteCapacityUnits\":3}},"
		      "{\"IndexName\":\"byScore\",\"KeySchema\":[{\"AttributeName\":\"score\","
		      "\"KeyType\":\"HASH\"},{\"AttributeName\":\"pk\",\"KeyType\":\"RANGE\"}],"
		      "\"Projection\":{\"ProjectionType\":\"KEYS_ONLY\"},"
		      "\"ProvisionedThroughput\":{\"ReadCapacityUnits\":5,\"WriteCapacityUnits\":3}},"
		      "{\"IndexName\":\"byBlob\",\"KeySchema\":[{\"AttributeName\":\"blob\","
		      "\"KeyType\":\"HASH\"}],\"Projection\":{\"ProjectionType\":\"INCLUDE\","
		      "\"NonKeyAttributes\":[\"title\",\"tags\"]},"
		      "\"ProvisionedThroughput\":{\"ReadCapacityUnits\":5,\"WriteCapacityUnits\":3}}]"),
	      "GlobalSecondaryIndexes: ALL (default), KEYS_ONLY, INCLUDE with its attributes, "
	      "each with the table's throughput");
	CHECK(json_is(json_object_get(p, "LocalSecondaryIndexes"),
		      "[{\"IndexName\":\"byCreated\",\"KeySchema\":[{\"AttributeName\":\"pk\","
		      "\"KeyType\":\"HASH\"},{\"AttributeName\":\"created\",\"KeyType\":\"RANGE\"}],"
		      "\"Projection\":{\"ProjectionType\":\"KEYS_ONLY\"}}]"),
	      "LocalSecondaryIndexes: the table's partition key and the index's sort key");
	CHECK(json_is(json_object_get(p, "TimeToLiveSpecification"),
		      "{\"AttributeName\":\"expires\",\"Enabled\":true}"),
	      "TimeToLiveSpecification");
	CHECK(json_is(json_object_get(p, "PointInTimeRecoverySpecification"),
		      "{\"PointInTimeRecoveryEnabled\":true}"),
	      "PointInTimeRecoverySpecification");
	CHECK(json_is_true(json_object_get(p, "DeletionProtectionEnabled")),
	      "DeletionProtectionEnabled");
	CHECK_STR(json_string_value(json_object_get(p, "BillingMode")), "PROVISIONED",
		  "BillingMode PROVISIONED");
	CHECK(json_is(json_object_get(p, "ProvisionedThroughput"),
		      "{\"ReadCapacityUnits\":5,\"WriteCapacityUnits\":3}"),
	      "ProvisionedThroughput");
	CHECK(json_is(json_object_get(p, "StreamSpecification"),
		      "{\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"}"),
	      "StreamSpecification NEW_AND_OLD_IMAGES");
	json_decref(t);
	synth_backend_free(b);
	synth__rm_rf("out");

	/* Every stream view. */
	static const char *const views[][2] = {{"keys-only", "KEYS_ONLY"},
					       {"new-image", "NEW_IMAGE"},
					       {"old-image", "OLD_IMAGE"}};
	for (size_t i = 0; i < 3; i++) {
		b = new_backend();
		synth_define_table(b, "s", &(synth_table_props){.fields = id_sk, .hash_key = "id",
								.range_key = "sk",
								.stream = views[i][0]});
		int rc = synth_backend_run(b);
		t = root_template();
		CHECK(rc == 0 && !strcmp(json_string_value(json_object_get(json_object_get(
						 props_of(t, "s/Table"), "StreamSpecification"),
									    "StreamViewType")) ?: "",
					 views[i][1]),
		      "stream %s is StreamViewType %s", views[i][0], views[i][1]);
		json_decref(t);
		synth_backend_free(b);
		synth__rm_rf("out");
	}
}

/* One refusal: PROPS are refused at define time with a message holding
 * NEEDLE and the table's name; the run fails with it too. */
static void refused(const synth_table_props *props, const char *needle, const char *what)
{
	synth_backend *b = new_backend();
	synth_table *t = synth_define_table(b, "bad-table", props);
	CHECK(t == NULL && synth_error_last()->code == SYNTH_EINVALID, "refused: %s", what);
	CHECK_HAS(synth_error_last()->message, "bad-table: ", "  the message names the table");
	CHECK_HAS(synth_error_last()->message, needle, "  and says what is wrong");
	CHECK(synth_backend_run(b) == SYNTH_EINVALID, "  the backend's run fails with it");
	synth_backend_free(b);
}

static void test_refusals(void)
{
	static const synth_table_field one[] = {{"id", "S"}, {0}};
	static const synth_table_field bad_type[] = {{"id", "S"}, {"n", "X"}, {0}};
	static const synth_table_field twice[] = {{"id", "S"}, {"id", "N"}, {0}};
	static const synth_table_field unused[] = {{"id", "S"}, {"extra", "S"}, {0}};
	refused(&(synth_table_props){.fields = one}, "the partition key of the table is missing",
		"no partition key");
	refused(NULL, "the partition key of the table is missing", "NULL props");
	refused(&(synth_table_props){.fields = one, .hash_key = "nope"},
		"the partition key of the table 'nope' is not a declared field (fields: id)",
		"an unknown partition key");
	refused(&(synth_table_props){.fields = one, .hash_key = "id", .range_key = "when"},
		"the sort key of the table 'when' is not a declared field", "an unknown sort key");
	refused(&(synth_table_props){.fields = one, .hash_key = "id", .range_key = "id"},
		"'id' is both the partition and the sort key", "the same key twice");
	refused(&(synth_table_props){.fields = bad_type, .hash_key = "id", .range_key = "n"},
		"field 'n' has type 'X': a key attribute is S (string), N (number) or B (binary)",
		"a bad type");
	refused(&(synth_table_props){.fields = twice, .hash_key = "id"},
		"field 'id' is declared twice", "a field declared twice");
	refused(&(synth_table_props){.fields = unused, .hash_key = "id"},
		"field 'extra' is not a key of the table or of an index",
		"a field no key uses");
	refused(&(synth_table_props){.fields = one, .hash_key = "id",
				     .global_indexes = (synth_table_global_index[]){
					     {.name = "byX", .hash_key = "x"}, {0}}},
		"the partition key of index byX 'x' is not a declared field",
		"an unknown index key");
	refused(&(synth_table_props){.fields = one, .hash_key = "id",
				     .global_indexes = (synth_table_global_index[]){
					     {.name = "byX"}, {0}}},
		"the partition key of index byX is missing", "an index without partition key");
	refused(&(synth_table_props){.fields = id_sk, .hash_key = "id",
				     .global_indexes = (synth_table_global_index[]){
					     {.name = "dup", .hash_key = "sk"},
					     {.name = "dup", .hash_key = "sk"}, {0}}},
		"index name 'dup' is used twice", "duplicate global index names");
	refused(&(synth_table_props){.fields = id_sk, .hash_key = "id", .range_key = "sk",
				     .global_indexes = (synth_table_global_index[]){
					     {.name = "dup", .hash_key = "sk"}, {0}},
				     .local_indexes = (synth_table_local_index[]){
					     {.name = "dup", .range_key = "sk"}, {0}}},
		"index name 'dup' is used twice", "a global and a local index of one name");
	refused(&(synth_table_props){.fields = one, .hash_key = "id",
				     .global_indexes = (synth_table_global_index[]){
					     {.name = "ab", .hash_key = "id"}, {0}}},
		"global index name 'ab' must have 3 to 255", "a short index name");
	synth_table_global_index many[22] = {{0}};
	char names[21][16];
	for (int i = 0; i < 21; i++) {
		snprintf(names[i], sizeof names[i], "gsi%d", i);
		many[i] = (synth_table_global_index){.name = names[i], .hash_key = "sk"};
	}
	refused(&(synth_table_props){.fields = id_sk, .hash_key = "id", .global_indexes = many},
		"21 global indexes, DynamoDB allows at most 20", "21 global indexes");
	many[20] = (synth_table_global_index){0};
	synth_backend *b = new_backend();
	CHECK(synth_define_table(b, "twenty", &(synth_table_props){
		      .fields = id_sk, .hash_key = "id", .global_indexes = many}) != NULL,
	      "20 global indexes are accepted");
	synth_backend_free(b);
	synth_table_local_index lsis[7] = {{0}};
	for (int i = 0; i < 6; i++)
		lsis[i] = (synth_table_local_index){.name = names[i], .range_key = "sk"};
	refused(&(synth_table_props){.fields = id_sk, .hash_key = "id", .range_key = "sk",
				     .local_indexes = lsis},
		"6 local indexes, DynamoDB allows at most 5", "6 local indexes");
	refused(&(synth_table_props){.fields = id_sk, .hash_key = "id",
				     .local_indexes = (synth_table_local_index[]){
					     {.name = "bySk", .range_key = "sk"}, {0}}},
		"local index bySk needs a sort key on the table", "a local index, no table sort key");
	refused(&(synth_table_props){.fields = id_sk, .hash_key = "id", .range_key = "sk",
				     .local_indexes = (synth_table_local_index[]){
					     {.name = "byNone", .range_key = "none"}, {0}}},
		"the sort key of index byNone 'none' is not a declared field",
		"an unknown local index key");
	refused(&(synth_table_props){.fields = id_sk, .hash_key = "id",
				     .global_indexes = (synth_table_global_index[]){
					     {.name = "bySk", .hash_key = "sk", .projection = "some"},
					     {0}}},
		"the projection 'some' of index bySk is not all, keys-only or include",
		"an unknown projection");
	refused(&(synth_table_props){.fields = id_sk, .hash_key = "id",
				     .global_indexes = (synth_table_global_index[]){
					     {.name = "bySk", .hash_key = "sk", .projection = "include"},
					     {0}}},
		"is include but lists no attribute", "include without attributes");
	refused(&(synth_table_props){.fields = id_sk, .hash_key = "id",
				     .global_indexes = (synth_table_global_index[]){
					     {.name = "bySk", .hash_key = "sk",
					      .include = gsi_include},
					     {0}}},
		"lists attributes: make it include", "attributes without include");
	refused(&(synth_table_props){.fields = one, .hash_key = "id", .stream = "everything"},
		"stream 'everything' is not keys-only, new-image, old-image or new-and-old-images",
		"an unknown stream view");
	refused(&(synth_table_props){.fields = one, .hash_key = "id", .provisioned = true,
				     .read_capacity = 1},
		"provisioned billing needs read_capacity and write_capacity of at least 1",
		"provisioned without write capacity");
	refused(&(synth_table_props){.fields = one, .hash_key = "id", .read_capacity = 5},
		"are for provisioned billing", "capacity on demand");
	refused(&(synth_table_props){.fields = one, .hash_key = "id", .ttl = ""},
		"the TTL attribute name must have 1 to 255 bytes", "an empty TTL attribute");
	b = new_backend();
	synth_define_table(b, "same", &(synth_table_props){.fields = one, .hash_key = "id"});
	CHECK(synth_define_table(b, "same", &(synth_table_props){.fields = one,
								  .hash_key = "id"}) == NULL,
	      "a second table of one name is refused");
	CHECK_HAS(synth_error_last()->message, "same", "  naming it");
	synth_backend_free(b);
}

/* --- the stream subscription ---------------------------------------------- */

static void test_subscribe(void)
{
	write_text("functions/f/index.mjs", "export const handler = async () => 1;\n");
	write_text("functions/g/index.mjs", "export const handler = async () => 1;\n");
	synth_backend *b = new_backend();
	synth_function *f = synth_define_function(b, "f", NULL);
	synth_function *g = synth_define_function(b, "g", NULL);
	synth_table *tb = synth_define_table(b, "orders", &(synth_table_props){
		.fields = id_sk, .hash_key = "id", .range_key = "sk", .stream = "new-image"});
	CHECK(synth_table_subscribe(tb, f, &(synth_table_subscribe_opts){
		      .starting_position = "trim-horizon", .batch_size = 50,
		      .batching_window_s = 5, .filters = "[{\"eventName\": [\"INSERT\"]}]",
		      .partial_responses = true, .retry_attempts = 3,
		      .bisect_on_error = true}) == 0,
	      "f subscribes with every option");
	CHECK(synth_table_subscribe(tb, g, NULL) == 0, "g subscribes with the defaults");
	CHECK(synth_backend_run(b) == 0, "it runs (%s)", synth_error_last()->message);
	json_t *t = root_template();
	const char *tl = lid_of(t, "orders/Table"), *fl = lid_of(t, "f/Resource");
	const char *pl = lid_of(t, "f/ServiceRole/DefaultPolicy");
	json_t *esm = by_path(t, "f/ordersEventSource");
	CHECK_STR(json_string_value(json_object_get(esm, "Type")),
		  "AWS::Lambda::EventSourceMapping", "f/ordersEventSource is a mapping");
	char want[2048];
	snprintf(want, sizeof want,
		 "{\"EventSourceArn\":{\"Fn::GetAtt\":[\"%s\",\"StreamArn\"]},"
		 "\"FunctionName\":{\"Ref\":\"%s\"},\"StartingPosition\":\"TRIM_HORIZON\","
		 "\"BatchSize\":50,\"MaximumBatchingWindowInSeconds\":5,"
		 "\"FunctionResponseTypes\":[\"ReportBatchItemFailures\"],"
		 "\"MaximumRetryAttempts\":3,\"BisectBatchOnFunctionError\":true,"
		 "\"FilterCriteria\":{\"Filters\":[{\"Pattern\":\"{\\\"eventName\\\":[\\\"INSERT\\\"]}\"}]}}",
		 tl ? tl : "?", fl ? fl : "?");
	CHECK(json_is(json_object_get(esm, "Properties"), want),
	      "the mapping: stream ARN, function, position, batch, window, partial responses, "
	      "retries, bisect, filter");
	json_t *dep = json_object_get(esm, "DependsOn");
	bool on_policy = false;
	size_t i;
	json_t *x;
	if (json_is_string(dep))
		on_policy = pl && !strcmp(json_string_value(dep), pl);
	json_array_foreach(dep, i, x)
		on_policy |= pl && !strcmp(json_string_value(x), pl);
	CHECK(on_policy, "the mapping DependsOn f's policy");
	json_t *sts = statements(t, "f");
	snprintf(want, sizeof want,
		 "{\"Effect\":\"Allow\",\"Action\":[\"dynamodb:DescribeStream\","
		 "\"dynamodb:GetRecords\",\"dynamodb:GetShardIterator\",\"dynamodb:ListStreams\"],"
		 "\"Resource\":{\"Fn::GetAtt\":[\"%s\",\"StreamArn\"]}}", tl ? tl : "?");
	CHECK(json_is(statement_with(sts, "dynamodb:GetRecords"), want),
	      "f may read exactly the stream");
	CHECK(count_prefixed(sts, "dynamodb:") == 4, "and nothing else of DynamoDB");
	snprintf(want, sizeof want,
		 "{\"EventSourceArn\":{\"Fn::GetAtt\":[\"%s\",\"StreamArn\"]},"
		 "\"FunctionName\":{\"Ref\":\"%s\"},\"StartingPosition\":\"LATEST\","
		 "\"BatchSize\":100}", tl ? tl : "?", lid_of(t, "g/Resource") ?: "?");
	CHECK(json_is(props_of(t, "g/ordersEventSource"), want),
	      "defaults: LATEST, a batch of 100, nothing else");
	CHECK(json_object_get(props_of(t, "orders/Table"), "StreamSpecification") != NULL,
	      "the table has its stream");
	json_decref(t);
	synth_backend_free(b);
	synth__rm_rf("out");

	b = new_backend();
	f = synth_define_function(b, "f", NULL);
	tb = synth_define_table(b, "orders", &(synth_table_props){
		.fields = (synth_table_field[]){{"id", "S"}, {0}}, .hash_key = "id",
		.stream = "keys-only"});
	CHECK(synth_table_subscribe(tb, f, &(synth_table_subscribe_opts){.no_retry = true}) == 0,
	      "no_retry");
	CHECK(synth_backend_run(b) == 0, "runs");
	t = root_template();
	CHECK(json_integer_value(json_object_get(props_of(t, "f/ordersEventSource"),
						 "MaximumRetryAttempts")) == 0 &&
		      json_object_get(props_of(t, "f/ordersEventSource"), "MaximumRetryAttempts"),
	      "no_retry is MaximumRetryAttempts 0");
	json_t *tok = synth_table_stream_arn(tb), *want_tok = synth_getatt("orders/Table", "StreamArn");
	CHECK(tok && json_equal(tok, want_tok), "synth_table_stream_arn: the table's StreamArn");
	json_decref(tok);
	json_decref(want_tok);
	json_decref(t);
	synth_backend_free(b);
	synth__rm_rf("out");
}

/* OPTS (or a second subscription when TWICE) are refused naming the table,
 * the function and NEEDLE. */
static void sub_refused(const char *stream, const synth_table_subscribe_opts *opts, bool twice,
			const char *needle, const char *what)
{
	synth_backend *b = new_backend();
	synth_function *f = synth_define_function(b, "f", NULL);
	synth_table *tb = synth_define_table(b, "orders", &(synth_table_props){
		.fields = (synth_table_field[]){{"id", "S"}, {0}}, .hash_key = "id",
		.stream = stream});
	if (twice)
		synth_table_subscribe(tb, f, NULL);
	int rc = synth_table_subscribe(tb, f, opts);
	CHECK(rc < 0, "refused: %s", what);
	CHECK_HAS(synth_error_last()->message, "orders: ", "  naming the table");
	CHECK_HAS(synth_error_last()->message, "function f", "  and the function");
	CHECK_HAS(synth_error_last()->message, needle, "  and what is wrong");
	CHECK(synth_backend_run(b) < 0, "  the run fails");
	synth_backend_free(b);
}

static void test_subscribe_refusals(void)
{
	sub_refused(NULL, NULL, false, "the table has no stream", "a table without a stream");
	sub_refused("new-image", NULL, true, "subscribes twice", "a second subscription");
	sub_refused("new-image", &(synth_table_subscribe_opts){.starting_position = "at"}, false,
		    "the starting position is not latest or trim-horizon", "a bad position");
	sub_refused("new-image", &(synth_table_subscribe_opts){.batch_size = 10001}, false,
		    "the batch size is not 1 to 10000", "a batch too big");
	sub_refused("new-image", &(synth_table_subscribe_opts){.batching_window_s = 301}, false,
		    "the batching window is not 0 to 300 seconds", "a window too long");
	sub_refused("new-image", &(synth_table_subscribe_opts){.retry_attempts = 10001}, false,
		    "retry_attempts is not 1 to 10000", "too many retries");
	sub_refused("new-image",
		    &(synth_table_subscribe_opts){.retry_attempts = 2, .no_retry = true}, false,
		    "no_retry and retry_attempts contradict", "no_retry with retries");
	sub_refused("new-image", &(synth_table_subscribe_opts){.filters = "[{"}, false,
		    "the filters of function f's subscription", "filters that do not parse");
	sub_refused("new-image", &(synth_table_subscribe_opts){.filters = "{\"a\":[1]}"}, false,
		    "it is not a JSON array", "filters not an array");
	sub_refused("new-image", &(synth_table_subscribe_opts){.filters = "[]"}, false,
		    "it is empty", "no filter");
	sub_refused("new-image", &(synth_table_subscribe_opts){.filters = "[\"x\"]"}, false,
		    "each filter must be a non-empty JSON object", "a filter not an object");
	sub_refused("new-image",
		    &(synth_table_subscribe_opts){.filters = "[{\"a\":[1]},{\"a\":[2]},{\"a\":[3]},"
							     "{\"a\":[4]},{\"a\":[5]},{\"a\":[6]}]"},
		    false, "more than 5", "six filters");
	synth_backend *b = new_backend();
	synth_table *tb = synth_define_table(b, "plain", &(synth_table_props){
		.fields = (synth_table_field[]){{"id", "S"}, {0}}, .hash_key = "id"});
	CHECK(synth_table_stream_arn(tb) == NULL, "no stream ARN without a stream");
	CHECK_HAS(synth_error_last()->message, "plain: the table has no stream", "  saying so");
	synth_backend_free(b);
}

/* --- linking ----------------------------------------------------------------- */

static const char *const read_actions =
	"[\"dynamodb:GetItem\",\"dynamodb:BatchGetItem\",\"dynamodb:Query\",\"dynamodb:Scan\","
	"\"dynamodb:ConditionCheckItem\",\"dynamodb:DescribeTable\"]";

static void test_link(void)
{
	write_text("functions/r/index.mjs", "export const handler = async () => 1;\n");
	write_text("functions/w/index.mjs", "export const handler = async () => 1;\n");
	write_text("functions/rw/index.mjs", "export const handler = async () => 1;\n");
	synth_backend *b = new_backend();
	synth_function *r = synth_define_function(b, "r", NULL);
	synth_function *w = synth_define_function(b, "w", NULL);
	synth_function *rw = synth_define_function(b, "rw", NULL);
	synth_table *tb = synth_define_table(b, "user-events", &(synth_table_props){
		.fields = id_sk, .hash_key = "id", .range_key = "sk"});
	synth_construct *tc = synth_table_construct(tb);
	CHECK(synth_function_link(r, tc, "read") == 0, "r links read");
	CHECK(synth_function_link(w, tc, "write") == 0, "w links write");
	CHECK(synth_function_link(rw, tc, "read, write") == 0, "rw links read, write");
	CHECK(synth_function_link(r, tc, "admin") == SYNTH_EINVALID, "an unknown level is refused");
	CHECK_HAS(synth_error_last()->message,
		  "user-events: link of r: access 'admin' is not read or write",
		  "  naming the table, the function, the level and the known ones");
	CHECK(synth_function_link(r, tc, ",") == SYNTH_EINVALID, "an empty list is refused");
	CHECK_HAS(synth_error_last()->message, "lists no access (read, write)", "  saying so");
	/* The refusals are sticky: a fresh backend for the template. */
	synth_backend_free(b);
	b = new_backend();
	r = synth_define_function(b, "r", NULL);
	w = synth_define_function(b, "w", NULL);
	rw = synth_define_function(b, "rw", NULL);
	tb = synth_define_table(b, "user-events", &(synth_table_props){
		.fields = id_sk, .hash_key = "id", .range_key = "sk"});
	tc = synth_table_construct(tb);
	synth_function_link(r, tc, "read");
	synth_function_link(w, tc, "write");
	synth_function_link(rw, tc, "read,write");
	CHECK(synth_backend_run(b) == 0, "the linked backend runs (%s)",
	      synth_error_last()->message);
	json_t *t = root_template();
	const char *tl = lid_of(t, "user-events/Table");
	char want[2048];
	snprintf(want, sizeof want,
		 "{\"Effect\":\"Allow\",\"Action\":%s,\"Resource\":[{\"Fn::GetAtt\":[\"%s\",\"Arn\"]},"
		 "{\"Fn::Join\":[\"\",[{\"Fn::GetAtt\":[\"%s\",\"Arn\"]},\"/index/*\"]]}]}",
		 read_actions, tl ?: "?", tl ?: "?");
	json_t *sts = statements(t, "r");
	CHECK(json_is(statement_with(sts, "dynamodb:GetItem"), want),
	      "read: exactly the six read actions on the table and its indexes");
	CHECK(count_prefixed(sts, "dynamodb:") == 6, "r has no other DynamoDB action");
	sts = statements(t, "w");
	snprintf(want, sizeof want,
		 "{\"Effect\":\"Allow\",\"Action\":[\"dynamodb:PutItem\",\"dynamodb:UpdateItem\","
		 "\"dynamodb:DeleteItem\",\"dynamodb:BatchWriteItem\",\"dynamodb:DescribeTable\"],"
		 "\"Resource\":{\"Fn::GetAtt\":[\"%s\",\"Arn\"]}}", tl ?: "?");
	CHECK(json_is(statement_with(sts, "dynamodb:PutItem"), want),
	      "write: exactly the five write actions on the table only");
	CHECK(count_prefixed(sts, "dynamodb:") == 5 && !statement_with(sts, "dynamodb:GetItem"),
	      "w cannot read");
	sts = statements(t, "rw");
	snprintf(want, sizeof want,
		 "{\"Effect\":\"Allow\",\"Action\":[\"dynamodb:PutItem\",\"dynamodb:UpdateItem\","
		 "\"dynamodb:DeleteItem\",\"dynamodb:BatchWriteItem\"],"
		 "\"Resource\":{\"Fn::GetAtt\":[\"%s\",\"Arn\"]}}", tl ?: "?");
	CHECK(json_is(statement_with(sts, "dynamodb:PutItem"), want) &&
		      statement_with(sts, "dynamodb:GetItem") &&
		      count_prefixed(sts, "dynamodb:") == 10,
	      "read,write: both statements, DescribeTable once");
	char *sts_text = json_dumps(sts, 0);
	CHECK(count_prefixed(sts, "dynamodb:*") == 0 && sts_text && !strstr(sts_text, "\"*\""),
	      "never dynamodb:* nor Resource \"*\"");
	free(sts_text);
	json_t *env = env_of(t, "rw");
	snprintf(want, sizeof want, "{\"Ref\":\"%s\"}", tl ?: "?");
	CHECK(json_is(json_object_get(env, "SYNTH_USER_EVENTS_NAME"), want),
	      "SYNTH_USER_EVENTS_NAME is the table's name");
	snprintf(want, sizeof want, "{\"Fn::GetAtt\":[\"%s\",\"Arn\"]}", tl ?: "?");
	CHECK(json_is(json_object_get(env, "SYNTH_USER_EVENTS_ARN"), want),
	      "SYNTH_USER_EVENTS_ARN is its ARN");
	CHECK(json_object_get(env_of(t, "r"), "SYNTH_USER_EVENTS_NAME") &&
		      json_object_get(env_of(t, "w"), "SYNTH_USER_EVENTS_ARN"),
	      "every linked function gets them");
	json_decref(t);
	json_t *tok = synth_table_name(tb), *want_tok = synth_ref("user-events/Table");
	CHECK(tok && json_equal(tok, want_tok), "synth_table_name: a Ref of the table");
	json_decref(tok);
	json_decref(want_tok);
	tok = synth_table_arn(tb);
	want_tok = synth_getatt("user-events/Table", "Arn");
	CHECK(tok && json_equal(tok, want_tok), "synth_table_arn: its Arn");
	json_decref(tok);
	json_decref(want_tok);
	CHECK(synth_construct_name(tc) && !strcmp(synth_construct_name(tc), "user-events") &&
		      !strcmp(synth_construct_kind(tc), "table"),
	      "synth_table_construct: the table's construct, kind table");
	synth_backend_free(b);
	synth__rm_rf("out");
}

/* --- the data category's link ------------------------------------------------ */

static const char *const note_schema =
	"type Note @model @auth(rules: [{ allow: public }]) {\n"
	"  text: String\n"
	"}\n";

/* The policy and environment of function "f" granted ACCESS on data,
 * through synth_data_grant (LINK false) or synth_function_link. */
static json_t *data_access(bool link, const char *access)
{
	synth_backend *b = new_backend();
	synth_function *f = synth_define_function(b, "f", NULL);
	synth_data *d = synth_define_data(b, &(synth_data_props){.schema = note_schema});
	int rc = link ? synth_function_link(f, synth_data_construct(d), access)
		      : synth_data_grant(d, f, access);
	if (rc == 0)
		rc = synth_backend_run(b);
	synth_backend_free(b);
	json_t *t = rc == 0 ? root_template() : NULL;
	json_t *out = t ? json_pack("{s:O,s:O,s:O}", "statements", statements(t, "f"), "env",
				    env_of(t, "f"), "api",
				    json_object_get(props_of(t, "data/GraphQLApi"),
						    "EnvironmentVariables"))
			: NULL;
	if (out)
		json_object_set_new(out, "apiLid", json_string(lid_of(t, "data/GraphQLApi")));
	json_decref(t);
	synth__rm_rf("out");
	return out;
}

static void test_data_link(void)
{
	write_text("functions/f/index.mjs", "export const handler = async () => 1;\n");
	json_t *granted = data_access(false, "query,mutate,subscribe");
	json_t *linked = data_access(true, "query,mutate,subscribe");
	CHECK(granted && linked, "data: grant and link both run (%s)", synth_error_last()->message);
	CHECK(json_equal(json_object_get(granted, "statements"),
			 json_object_get(linked, "statements")),
	      "the link grants exactly what synth_data_grant grants");
	CHECK(json_equal(json_object_get(granted, "api"), json_object_get(linked, "api")),
	      "and names the role to the resolvers the same way");
	json_t *env = json_object_get(linked, "env");
	char want[256];
	snprintf(want, sizeof want, "{\"Fn::GetAtt\":[\"%s\",\"GraphQLUrl\"]}",
		 json_string_value(json_object_get(linked, "apiLid")) ?: "?");
	CHECK(json_is(json_object_get(env, "SYNTH_DATA_URL"), want),
	      "SYNTH_DATA_URL is the GraphQL URL");
	CHECK(json_equal(json_object_get(env, "AMPLIFY_DATA_GRAPHQL_ENDPOINT"),
			 json_object_get(env, "SYNTH_DATA_URL")),
	      "besides AMPLIFY_DATA_GRAPHQL_ENDPOINT, as the grant sets");
	json_t *sts = json_object_get(linked, "statements");
	json_t *st = statement_with(sts, "appsync:GraphQL");
	char *text = st ? json_dumps(st, JSON_COMPACT) : NULL;
	CHECK(text && strstr(text, "/types/Query/*") && strstr(text, "/types/Mutation/*") &&
		      strstr(text, "/types/Subscription/*"),
	      "appsync:GraphQL on Query, Mutation and Subscription");
	free(text);
	json_decref(granted);
	json_decref(linked);
	json_t *q = data_access(true, "query");
	st = statement_with(json_object_get(q, "statements"), "appsync:GraphQL");
	text = st ? json_dumps(st, JSON_COMPACT) : NULL;
	CHECK(text && strstr(text, "/types/Query/*") && !strstr(text, "/types/Mutation/*"),
	      "a query link: Query only");
	free(text);
	json_decref(q);

	synth_backend *b = new_backend();
	synth_function *f = synth_define_function(b, "f", NULL);
	synth_data *d = synth_define_data(b, &(synth_data_props){.schema = note_schema});
	CHECK(synth_data_construct(d) == synth_backend_construct(b, "data"),
	      "synth_data_construct is the data's construct");
	CHECK(synth_function_link(f, synth_data_construct(d), "query,drop") == SYNTH_EINVALID,
	      "an unknown data access is refused");
	CHECK_HAS(synth_error_last()->message,
		  "data: grant to f: 'drop' is not query, mutate or subscribe",
		  "  naming data, the function and the known levels");
	CHECK(synth_backend_run(b) == SYNTH_EINVALID, "  the run fails with it");
	synth_backend_free(b);
}

/* --- cfn-lint ------------------------------------------------------------------ */

static void test_cfn_lint(void)
{
	if (system("cfn-lint --version >/dev/null 2>&1") != 0) {
		printf("ok - # SKIP cfn-lint is not installed\n");
		return;
	}
	write_text("functions/f/index.mjs", "export const handler = async () => 1;\n");
	write_text("functions/g/index.mjs", "export const handler = async () => 1;\n");
	synth_backend *b = new_backend();
	synth_function *f = synth_define_function(b, "f", NULL);
	synth_function *g = synth_define_function(b, "g", NULL);
	synth_table *all = synth_define_table(b, "everything", &all_props);
	synth_table *plain = synth_define_table(b, "plain", &(synth_table_props){
		.fields = id_sk, .hash_key = "id", .range_key = "sk", .ttl = "expires",
		.stream = "keys-only"});
	synth_table_subscribe(all, f, &(synth_table_subscribe_opts){
		.starting_position = "trim-horizon", .batch_size = 50, .batching_window_s = 5,
		.filters = "[{\"eventName\": [\"INSERT\"]}]", .partial_responses = true,
		.retry_attempts = 3, .bisect_on_error = true});
	synth_table_subscribe(plain, g, &(synth_table_subscribe_opts){.no_retry = true});
	synth_function_link(f, synth_table_construct(plain), "read,write");
	synth_function_link(g, synth_table_construct(all), "read");
	CHECK(synth_backend_run(b) == 0, "a backend with two tables runs (%s)",
	      synth_error_last()->message);
	synth_backend_free(b);
	size_t n = count_files("out/*.template.json");
	int rc = system("cfn-lint --format parseable -- out/*.template.json > out/lint.txt 2>&1");
	char *text = NULL;
	size_t len = 0;
	synth_file_read("out/lint.txt", &text, &len);
	CHECK(n >= 1 && rc == 0 && len == 0, "cfn-lint: no finding on %zu template(s)", n);
	if (len)
		printf("# %.2000s\n", text);
	free(text);
	synth__rm_rf("out");
}

/* --- allocation failure ------------------------------------------------------ */

#if CHAOS
static int chaos_once(void)
{
	synth_backend *b = new_backend();
	if (!b)
		return SYNTH_ENOMEM;
	synth_function *f = synth_define_function(b, "f", NULL);
	synth_table *all = synth_define_table(b, "everything", &all_props);
	if (f && all) {
		synth_table_subscribe(all, f, &(synth_table_subscribe_opts){
			.filters = "[{\"eventName\": [\"INSERT\"]}]", .retry_attempts = 2});
		synth_function_link(f, synth_table_construct(all), "read,write");
	}
	int rc = synth_backend_run(b);
	synth_backend_free(b);
	synth__rm_rf("out");
	return rc;
}

static void test_chaos(void)
{
	write_text("functions/f/index.mjs", "export const handler = async () => 1;\n");
	CHECK(chaos_once() == 0, "chaos: a clean run succeeds (%s)", synth_error_last()->message);
	tracking = 1;
	count = live = 0;
	int rc = chaos_once();
	long total = count;
	CHECK(rc == 0 && live == 0, "chaos: a tracked run frees everything (live %ld)", live);
	long leaks = 0, failed = 0, wrong = 0, first = -1;
	for (long n = 1; n <= total; n++) {
		count = live = 0;
		fail_at = n;
		rc = chaos_once();
		fail_at = -1;
		failed += rc != 0;
		/* jansson 2.14 reports some of its failures as parse errors. */
		if (rc != 0 && rc != SYNTH_ENOMEM && rc != SYNTH_EIO && rc != SYNTH_ERROR &&
		    !failed_in_jansson) {
			wrong++;
			if (getenv("CHAOS_DEBUG"))
				printf("# n=%ld rc=%d %s\n", n, rc, synth_error_last()->message);
		}
		/* libzip's zip_close() keeps a buffer when an allocation inside
		 * it fails (a known cache, see test_chaos.c): not ours. */
		bool zip = rc == SYNTH_EIO && strstr(synth_error_last()->message, "cannot zip");
		if (live > 0 && !zip && first < 0)
			first = n;
		if (live > 0 && getenv("CHAOS_DEBUG"))
			printf("# leak n=%ld rc=%d %s\n", n, rc, synth_error_last()->message);
		leaks += live > 0 && !zip;
	}
	tracking = 0;
	CHECK(failed > total / 2, "chaos: %ld of %ld runs failed cleanly", failed, total);
	CHECK(leaks == 0, "chaos: no leak with any allocation failing (%ld runs leak, first at %ld)",
	      leaks, first);
	CHECK(wrong == 0, "chaos: failures report out of memory or I/O (%ld others)", wrong);
}
#endif

int main(void)
{
	char *d = tmp_cwd();
	test_minimal();
	test_options();
	test_refusals();
	test_subscribe();
	test_subscribe_refusals();
	test_link();
	test_data_link();
	test_cfn_lint();
#if CHAOS
	test_chaos();
#endif
	rm_tmp(d);
	return check_failed ? 1 : 0;
}
