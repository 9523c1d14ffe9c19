/*
 * API edges (issue #10 part 5): NULL handles, environment lists, variables
 * set twice, the asset exclusion default, secret names, and the code
 * directory walk (links, loops, FIFOs).
 *
 * The NULL-handle test is generated from the headers: every parameter of a
 * public function whose type is a libsynth handle must have a row in
 * HANDLE_ROWS, which says what a NULL there does: abort with a message
 * naming the function and the argument (DIES), return NULL, false or an
 * error without touching anything (SOFT, the sticky-error cases of
 * <synth/common.h>), or nothing at all (NULLOK, documented no-ops). Each
 * row is run in a child process.
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include "check.h"
#include "helpers.h"
#include "synth/sys/construct.h"

/* The fixture the rows call with: real handles where a SOFT row goes on
 * past its check, so it must not crash on the others. */
static synth_backend *B;
static synth_construct *C, *cout;
static synth_resource *R;
static synth_function *FN;
static synth_queue *Q;
static synth_topic *T;
static synth_bus *BUS;
static synth_table *TB;
static synth_storage *ST;
static synth_data *DATA;
static synth_api *API;
static synth_cron *CRON;
static synth_secret *SEC;
static size_t sz;
static char *str;

static int gen_nothing(synth_construct *self, void *state)
{
	(void)self;
	(void)state;
	return 0;
}
static const synth_construct_class CLS = {SYNTH_CONSTRUCT_CLASS_VERSION, "edge", NULL,
					  gen_nothing, NULL, NULL};
static int bind_nothing(synth_function *fn, void *data)
{
	(void)fn;
	(void)data;
	return 0;
}
static const synth_event_source SRC = {SYNTH_EVENT_SOURCE_VERSION, "edge", bind_nothing, NULL};

#define HANDLE_ROWS(X) \
	X(synth_define_api, b, DIES, synth_define_api(NULL, "x", NULL)) \
	X(synth_api_route, api, SOFT, synth_api_route(NULL, "x", FN, NULL)) \
	X(synth_api_route, fn, SOFT, synth_api_route(API, "x", NULL, NULL)) \
	X(synth_api_id, api, SOFT, synth_api_id(NULL)) \
	X(synth_api_url, api, SOFT, synth_api_url(NULL)) \
	X(synth_api_construct, api, SOFT, synth_api_construct(NULL)) \
	X(synth_define_auth, b, DIES, synth_define_auth(NULL, NULL)) \
	X(synth_backend_free, b, NULLOK, (synth_backend_free(NULL), 0)) \
	X(synth_backend_set_context, b, DIES, synth_backend_set_context(NULL, "x", "x")) \
	X(synth_backend_context, b, DIES, synth_backend_context(NULL, "x")) \
	X(synth_backend_set_outdir, b, DIES, synth_backend_set_outdir(NULL, "x")) \
	X(synth_backend_run, b, DIES, synth_backend_run(NULL)) \
	X(synth_backend_main, b, NULLOK, synth_backend_main(NULL)) \
	X(synth_backend_fail, b, NULLOK, synth_backend_fail(NULL)) \
	X(synth_backend_namespace, b, DIES, synth_backend_namespace(NULL)) \
	X(synth_backend_name, b, DIES, synth_backend_name(NULL)) \
	X(synth_backend_type_of, b, DIES, synth_backend_type_of(NULL)) \
	X(synth_backend_stack_name, b, DIES, synth_backend_stack_name(NULL)) \
	X(synth_backend_add_parameter, b, DIES, synth_backend_add_parameter(NULL, "x", "x", "x", "x")) \
	X(synth_backend_add_condition, b, DIES, synth_backend_add_condition(NULL, "x", NULL)) \
	X(synth_backend_add_output, b, DIES, synth_backend_add_output(NULL, "x", "x", NULL, "x", "x")) \
	X(synth_secret_path, b, DIES, synth_secret_path(&str, NULL, "x")) \
	X(synth_secret_shared_path, b, DIES, synth_secret_shared_path(&str, NULL, "x")) \
	X(synth_backend_add_resource, b, DIES, synth_backend_add_resource(NULL, "x", "x", NULL)) \
	X(synth_backend_add_override, b, DIES, synth_backend_add_override(NULL, "x", "x", NULL)) \
	X(synth_define_bus, b, DIES, synth_define_bus(NULL, "x", NULL)) \
	X(synth_bus_subscribe, bus, SOFT, synth_bus_subscribe(NULL, FN, NULL)) \
	X(synth_bus_subscribe, fn, SOFT, synth_bus_subscribe(BUS, NULL, NULL)) \
	X(synth_bus_subscribe_queue, bus, SOFT, synth_bus_subscribe_queue(NULL, Q, NULL)) \
	X(synth_bus_subscribe_queue, q, SOFT, synth_bus_subscribe_queue(BUS, NULL, NULL)) \
	X(synth_bus_name, bus, SOFT, synth_bus_name(NULL)) \
	X(synth_bus_arn, bus, SOFT, synth_bus_arn(NULL)) \
	X(synth_bus_construct, bus, SOFT, synth_bus_construct(NULL)) \
	X(synth_construct_new, b, DIES, synth_construct_new(&cout, NULL, "x", &CLS, NULL)) \
	X(synth_construct_new, cls, SOFT, synth_construct_new(&cout, B, "x", NULL, NULL)) \
	X(synth_construct_name, c, DIES, synth_construct_name(NULL)) \
	X(synth_construct_kind, c, DIES, synth_construct_kind(NULL)) \
	X(synth_construct_state, c, DIES, synth_construct_state(NULL)) \
	X(synth_construct_backend, c, DIES, synth_construct_backend(NULL)) \
	X(synth_construct_index, c, DIES, synth_construct_index(NULL)) \
	X(synth_construct_lookup, self, DIES, synth_construct_lookup(&cout, NULL, "x")) \
	X(synth_construct_require, self, DIES, synth_construct_require(NULL, C)) \
	X(synth_construct_require, dep, DIES, synth_construct_require(C, NULL)) \
	X(synth_resource_new, scope, DIES, synth_resource_new(NULL, NULL, "x", "x", NULL)) \
	X(synth_resource_ref, r, DIES, synth_resource_ref(NULL)) \
	X(synth_resource_getatt, r, DIES, synth_resource_getatt(NULL, "x")) \
	X(synth_resource_path, r, DIES, synth_resource_path(NULL)) \
	X(synth_resource_logical_id, r, DIES, synth_resource_logical_id(NULL)) \
	X(synth_resource_type, r, DIES, synth_resource_type(NULL)) \
	X(synth_resource_properties, r, DIES, synth_resource_properties(NULL)) \
	X(synth_resource_add_dependency, r, DIES, synth_resource_add_dependency(NULL, R)) \
	X(synth_resource_add_dependency, dep, DIES, synth_resource_add_dependency(R, NULL)) \
	X(synth_resource_set_condition, r, DIES, synth_resource_set_condition(NULL, "x")) \
	X(synth_resource_set_deletion_policy, r, DIES, synth_resource_set_deletion_policy(NULL, "x")) \
	X(synth_resource_add_metadata, r, DIES, synth_resource_add_metadata(NULL, "x", NULL)) \
	X(synth_backend_resource, b, DIES, synth_backend_resource(NULL, "x")) \
	X(synth_define_cron, b, DIES, synth_define_cron(NULL, "x", NULL)) \
	X(synth_cron_construct, cron, SOFT, synth_cron_construct(NULL)) \
	X(synth_define_data, b, DIES, synth_define_data(NULL, NULL)) \
	X(synth_data_grant, d, SOFT, synth_data_grant(NULL, FN, "x")) \
	X(synth_data_grant, fn, SOFT, synth_data_grant(DATA, NULL, "x")) \
	X(synth_data_construct, d, SOFT, synth_data_construct(NULL)) \
	X(synth_define_function, b, DIES, synth_define_function(NULL, "x", NULL)) \
	X(synth_function_construct, fn, SOFT, synth_function_construct(NULL)) \
	X(synth_function_arn, fn, SOFT, synth_function_arn(NULL)) \
	X(synth_function_name_ref, fn, SOFT, synth_function_name_ref(NULL)) \
	X(synth_function_role_arn, fn, SOFT, synth_function_role_arn(NULL)) \
	X(synth_function_role_name, fn, SOFT, synth_function_role_name(NULL)) \
	X(synth_function_grant, fn, DIES, synth_function_grant(NULL, NULL, NULL)) \
	X(synth_function_add_secret, fn, DIES, synth_function_add_secret(NULL, "x", "x")) \
	X(synth_function_add_environment, fn, DIES, synth_function_add_environment(NULL, "x", NULL)) \
	X(synth_function_add_schedule, fn, DIES, synth_function_add_schedule(NULL, "x")) \
	X(synth_function_link, fn, SOFT, synth_function_link(NULL, C, "x")) \
	X(synth_function_link, target, SOFT, synth_function_link(FN, NULL, "x")) \
	X(synth_function_timeout, fn, DIES, synth_function_timeout(NULL)) \
	X(synth_define_queue, b, DIES, synth_define_queue(NULL, "x", NULL)) \
	X(synth_queue_subscribe, q, SOFT, synth_queue_subscribe(NULL, FN, NULL)) \
	X(synth_queue_subscribe, fn, SOFT, synth_queue_subscribe(Q, NULL, NULL)) \
	X(synth_queue_url, q, SOFT, synth_queue_url(NULL)) \
	X(synth_queue_arn, q, SOFT, synth_queue_arn(NULL)) \
	X(synth_queue_name, q, SOFT, synth_queue_name(NULL)) \
	X(synth_queue_is_fifo, q, SOFT, synth_queue_is_fifo(NULL)) \
	X(synth_queue_construct, q, SOFT, synth_queue_construct(NULL)) \
	X(synth_queue_allow_send, q, DIES, synth_queue_allow_send(NULL, "x", "x", NULL)) \
	X(synth_define_secret, b, DIES, synth_define_secret(NULL, "x")) \
	X(synth_secret_construct, s, SOFT, synth_secret_construct(NULL)) \
	X(synth_define_storage, b, DIES, synth_define_storage(NULL, "x", NULL)) \
	X(synth_storage_bucket_name, s, SOFT, synth_storage_bucket_name(NULL)) \
	X(synth_storage_bucket_arn, s, SOFT, synth_storage_bucket_arn(NULL)) \
	X(synth_storage_construct, s, SOFT, synth_storage_construct(NULL)) \
	X(synth_storage_notify_function, s, SOFT, synth_storage_notify_function(NULL, FN, "x", "x", "x")) \
	X(synth_storage_notify_function, fn, SOFT, synth_storage_notify_function(ST, NULL, "x", "x", "x")) \
	X(synth_storage_notify_queue, s, SOFT, synth_storage_notify_queue(NULL, Q, "x", "x", "x")) \
	X(synth_storage_notify_queue, q, SOFT, synth_storage_notify_queue(ST, NULL, "x", "x", "x")) \
	X(synth_storage_notify_topic, s, SOFT, synth_storage_notify_topic(NULL, T, "x", "x", "x")) \
	X(synth_storage_notify_topic, t, SOFT, synth_storage_notify_topic(ST, NULL, "x", "x", "x")) \
	X(synth_define_table, b, DIES, synth_define_table(NULL, "x", NULL)) \
	X(synth_table_subscribe, t, SOFT, synth_table_subscribe(NULL, FN, NULL)) \
	X(synth_table_subscribe, fn, SOFT, synth_table_subscribe(TB, NULL, NULL)) \
	X(synth_table_name, t, SOFT, synth_table_name(NULL)) \
	X(synth_table_arn, t, SOFT, synth_table_arn(NULL)) \
	X(synth_table_stream_arn, t, SOFT, synth_table_stream_arn(NULL)) \
	X(synth_table_construct, t, SOFT, synth_table_construct(NULL)) \
	X(synth_define_topic, b, DIES, synth_define_topic(NULL, "x", NULL)) \
	X(synth_topic_subscribe, t, SOFT, synth_topic_subscribe(NULL, FN, NULL)) \
	X(synth_topic_subscribe, fn, SOFT, synth_topic_subscribe(T, NULL, NULL)) \
	X(synth_topic_subscribe_queue, t, SOFT, synth_topic_subscribe_queue(NULL, Q, NULL)) \
	X(synth_topic_subscribe_queue, q, SOFT, synth_topic_subscribe_queue(T, NULL, NULL)) \
	X(synth_topic_subscribe_email, t, DIES, synth_topic_subscribe_email(NULL, "x", NULL)) \
	X(synth_topic_subscribe_https, t, DIES, synth_topic_subscribe_https(NULL, "x", NULL)) \
	X(synth_topic_arn, t, SOFT, synth_topic_arn(NULL)) \
	X(synth_topic_name, t, SOFT, synth_topic_name(NULL)) \
	X(synth_topic_is_fifo, t, SOFT, synth_topic_is_fifo(NULL)) \
	X(synth_topic_construct, t, SOFT, synth_topic_construct(NULL)) \
	X(synth_topic_allow_publish, t, DIES, synth_topic_allow_publish(NULL, "x", "x", NULL)) \
	X(synth_backend_failf, b, DIES, synth_backend_failf(NULL, 0, "x")) \
	X(synth_construct_failf, c, DIES, synth_construct_failf(NULL, 0, "x")) \
	X(synth_construct_find, self, DIES, synth_construct_find(&cout, NULL, "x")) \
	X(synth_backend_provides, b, DIES, synth_backend_provides(NULL, "x")) \
	X(synth_backend_construct, b, DIES, synth_backend_construct(NULL, "x")) \
	X(synth_backend_next, b, DIES, synth_backend_next(NULL, &CLS, C)) \
	X(synth_backend_next, cls, NULLOK, synth_backend_next(B, NULL, C)) \
	X(synth_backend_next, prev, NULLOK, synth_backend_next(B, &CLS, NULL)) \
	X(synth_construct_class_of, c, DIES, synth_construct_class_of(NULL)) \
	X(synth_construct_state_as, c, NULLOK, synth_construct_state_as(NULL, &CLS)) \
	X(synth_construct_state_as, cls, NULLOK, synth_construct_state_as(C, NULL)) \
	X(synth_construct_set_layout_group, self, DIES, synth_construct_set_layout_group(NULL, "x")) \
	X(synth_construct_add_dir_asset, self, DIES, synth_construct_add_dir_asset(&sz, NULL, "x", NULL)) \
	X(synth_construct_add_dirs_asset, self, DIES, synth_construct_add_dirs_asset(&sz, NULL, NULL, NULL)) \
	X(synth_construct_add_file_asset, self, DIES, synth_construct_add_file_asset(&sz, NULL, NULL, 0, "x", "x")) \
	X(synth_policy_allow_service, self, DIES, synth_policy_allow_service(NULL, NULL, "x", "x", "x", NULL, NULL)) \
	X(synth_function_link_env, fn, DIES, synth_function_link_env(NULL, C, "x", NULL)) \
	X(synth_function_link_env, target, DIES, synth_function_link_env(FN, NULL, "x", NULL)) \
	X(synth_function_from_construct, c, NULLOK, synth_function_from_construct(NULL)) \
	X(synth_function_add_statement, fn, DIES, synth_function_add_statement(NULL, NULL)) \
	X(synth_function_depend_on_policy, fn, DIES, synth_function_depend_on_policy(NULL, R)) \
	X(synth_function_depend_on_policy, r, DIES, synth_function_depend_on_policy(FN, NULL)) \
	X(synth_function_add_event_source, fn, DIES, synth_function_add_event_source(NULL, &SRC, NULL)) \
	X(synth_function_add_event_source, src, SOFT, synth_function_add_event_source(FN, NULL, NULL)) \
	/* end */

enum { DIES, SOFT, NULLOK };

#define DEF(fn, arg, kind, call)                                               \
	static intptr_t call_##fn##_##arg(void) { return (intptr_t)(call); }
HANDLE_ROWS(DEF)

typedef struct row {
	const char *fn, *arg;
	int kind;
	intptr_t (*call)(void);
} row;
#define ROW(fn, arg, kind, call) {#fn, #arg, kind, call_##fn##_##arg},
static const row rows[] = {HANDLE_ROWS(ROW)};
#define NROWS (sizeof rows / sizeof rows[0])

/* --- the headers' handle parameters -------------------------------------- */

static char root_dir[4096] = ".";

static char *root_file(const char *rel)
{
	const char *root = getenv("SYNTH_ROOT") ? getenv("SYNTH_ROOT") : root_dir;
	char *p = synth_asprintf("%s/%s", root && *root ? root : ".", rel);
	char *text = NULL;
	if (p)
		synth_file_read(p, &text, NULL);
	free(p);
	return text;
}

/* TEXT without its comments (replaced by spaces). */
static void strip_comments(char *s)
{
	for (char *p = s; *p; p++)
		if (p[0] == '/' && p[1] == '*') {
			char *e = strstr(p + 2, "*/");
			char *end = e ? e + 2 : p + strlen(p);
			memset(p, ' ', (size_t)(end - p));
			p = end - 1;
		} else if (p[0] == '/' && p[1] == '/') {
			while (*p && *p != '\n')
				*p++ = ' ';
			p--;
		}
}

/* Handle types: every opaque "typedef struct synth_x synth_x;" of the
 * headers, and the two structs a caller passes by pointer that may not be
 * NULL-dereferenced either. */
static char handles[64][64];
static size_t nhandles;

static void add_handle(const char *name, size_t n)
{
	for (size_t i = 0; i < nhandles; i++)
		if (strlen(handles[i]) == n && !strncmp(handles[i], name, n))
			return;
	if (nhandles < 64 && n < 64) {
		memcpy(handles[nhandles], name, n);
		handles[nhandles++][n] = '\0';
	}
}

static void find_handles(const char *s)
{
	for (const char *p = s; (p = strstr(p, "typedef struct ")); p++) {
		const char *a = p + 15, *ae = a;
		while (isalnum((unsigned char)*ae) || *ae == '_')
			ae++;
		const char *b = ae;
		while (*b == ' ')
			b++;
		if (ae > a && !strncmp(b, a, (size_t)(ae - a)) && b[ae - a] == ';')
			add_handle(a, (size_t)(ae - a));
	}
}

static bool is_handle(const char *type)
{
	for (size_t i = 0; i < nhandles; i++) {
		const char *h = strstr(type, handles[i]);
		size_t n = strlen(handles[i]);
		if (h && !(isalnum((unsigned char)h[n]) || h[n] == '_'))
			return true;
	}
	return false;
}

static const row *find_row(const char *fn, const char *arg)
{
	for (size_t i = 0; i < NROWS; i++)
		if (!strcmp(rows[i].fn, fn) && !strcmp(rows[i].arg, arg))
			return &rows[i];
	return NULL;
}

/* Every SYNTH_EXPORT prototype of S: each parameter of a handle type (a
 * single pointer to one) must have a row. Returns how many it found. */
static size_t check_prototypes(const char *file, const char *s, size_t *missing)
{
	size_t found = 0;
	for (const char *p = s; (p = strstr(p, "SYNTH_EXPORT")); p += 12) {
		const char *semi = strchr(p, ';'), *open = strchr(p, '(');
		if (!semi || !open || open > semi)
			continue;
		/* The name: the identifier before '('. */
		const char *ne = open;
		while (ne > p && ne[-1] == ' ')
			ne--;
		const char *nb = ne;
		while (nb > p && (isalnum((unsigned char)nb[-1]) || nb[-1] == '_'))
			nb--;
		char fn[128];
		snprintf(fn, sizeof fn, "%.*s", (int)(ne - nb), nb);
		const char *close = strchr(open, ')');
		if (!close || close > semi)
			continue;
		for (const char *a = open + 1; a < close;) {
			const char *e = a;
			while (e < close && *e != ',')
				e++;
			char param[256];
			snprintf(param, sizeof param, "%.*s", (int)(e - a), a);
			/* The argument's name: the last identifier. */
			char *end = param + strlen(param);
			while (end > param && isspace((unsigned char)end[-1]))
				*--end = '\0';
			char *an = end;
			while (an > param && (isalnum((unsigned char)an[-1]) || an[-1] == '_'))
				an--;
			char *star = strchr(param, '*');
			if (star && star == strrchr(param, '*') && an > star && is_handle(param)) {
				found++;
				if (!find_row(fn, an)) {
					(*missing)++;
					printf("#   %s: %s(%s): no row in HANDLE_ROWS\n", file, fn, an);
				}
			}
			a = e + 1;
		}
	}
	return found;
}

static void test_rows_cover_headers(void)
{
	static const char *const files[] = {
		"include/synth.h", "include/synth/api.h", "include/synth/auth.h",
		"include/synth/backend.h", "include/synth/bus.h", "include/synth/common.h",
		"include/synth/construct.h", "include/synth/cron.h", "include/synth/data.h",
		"include/synth/function.h", "include/synth/lambda.h", "include/synth/queue.h",
		"include/synth/secret.h",
		"include/synth/storage.h", "include/synth/table.h", "include/synth/topic.h",
		"include/synth/value.h", "include/synth/sys/construct.h",
		"include/synth/sys/contract.h", "include/synth/sys/util.h", NULL};
	/* Every header is listed: a new one must be added here. */
	glob_t g;
	size_t listed = 0;
	const char *root = getenv("SYNTH_ROOT") ? getenv("SYNTH_ROOT") : root_dir;
	char *pat = synth_asprintf("%s/include/synth/{,sys/}*.h", root && *root ? root : ".");
	if (pat && glob(pat, GLOB_BRACE, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			bool known = false;
			for (size_t j = 0; files[j]; j++)
				if (strstr(g.gl_pathv[i], files[j]) &&
				    !strcmp(strstr(g.gl_pathv[i], files[j]), files[j]))
					known = true;
			if (!known)
				printf("#   header %s is not read by this test\n", g.gl_pathv[i]);
			listed += known;
		}
		CHECK(listed == g.gl_pathc, "every header under include/synth is read (%zu)",
		      g.gl_pathc);
		globfree(&g);
	}
	free(pat);
	char *text[32] = {0};
	for (size_t i = 0; files[i]; i++) {
		text[i] = root_file(files[i]);
		if (text[i]) {
			strip_comments(text[i]);
			find_handles(text[i]);
		}
	}
	add_handle("synth_construct_class", 21);
	add_handle("synth_event_source", 18);
	CHECK(nhandles >= 16, "the headers declare the handle types (%zu)", nhandles);
	size_t found = 0, missing = 0;
	bool all_read = true;
	for (size_t i = 0; files[i]; i++) {
		all_read = all_read && text[i];
		if (text[i])
			found += check_prototypes(files[i], text[i], &missing);
		free(text[i]);
	}
	CHECK(all_read, "the headers are read (SYNTH_ROOT=%s)", getenv("SYNTH_ROOT"));
	CHECK(found == NROWS && missing == 0,
	      "every handle parameter of a public function has a NULL row (%zu in the headers, "
	      "%zu rows, %zu missing)", found, NROWS, missing);
}

/* --- each row, in a child ---------------------------------------------- */

static void setup_fixture(void)
{
	write_text("functions/f/index.mjs", "export const handler = async () => 1;\n");
	write_text("data/schema.graphql", "type Todo @model { id: ID! name: String }\n");
	B = new_backend();
	static const synth_table_field f[] = {{"id", "S"}, {0}};
	FN = synth_define_function(B, "f", NULL);
	Q = synth_define_queue(B, "q", NULL);
	T = synth_define_topic(B, "t", NULL);
	BUS = synth_define_bus(B, "bus", NULL);
	TB = synth_define_table(B, "tb", &(synth_table_props){.fields = f, .hash_key = "id",
							       .stream = "new-and-old-images"});
	ST = synth_define_storage(B, "st", NULL);
	DATA = synth_define_data(B, NULL);
	API = synth_define_api(B, "api", NULL);
	CRON = synth_define_cron(B, "cron", &(synth_cron_props){.schedule = "every day",
								  .function = FN});
	SEC = synth_define_secret(B, "sec");
	synth_construct_new(&C, B, "c", &CLS, NULL);
	synth_resource_new(&R, C, "Res", "AWS::SNS::Topic", NULL);
	CHECK(FN && Q && T && BUS && TB && ST && DATA && API && CRON && SEC && C && R,
	      "the fixture: one construct of each kind (%s)", synth_error_last()->message);
}

static void test_null_rows(void)
{
	setup_fixture();
	size_t bad = 0;
	for (size_t i = 0; i < NROWS; i++) {
		const row *r = &rows[i];
		int fd[2];
		if (pipe(fd) < 0)
			abort();
		fflush(stdout);
		fflush(stderr);
		pid_t pid = fork();
		if (pid == 0) {
			dup2(fd[1], 2);
			close(fd[0]);
			close(fd[1]);
			synth_error_clear();
			intptr_t v = r->call();
			/* SOFT: NULL, false or a negative code, nothing else. */
			_exit(r->kind == SOFT && v > 0 ? 3 : 0);
		}
		close(fd[1]);
		char err[4096];
		size_t n = 0;
		ssize_t k;
		while (n < sizeof err - 1 && (k = read(fd[0], err + n, sizeof err - 1 - n)) > 0)
			n += (size_t)k;
		err[n] = '\0';
		close(fd[0]);
		int st = 0;
		waitpid(pid, &st, 0);
		char want[256];
		snprintf(want, sizeof want, "libsynth: %s: %s is NULL", r->fn, r->arg);
		bool ok;
		if (r->kind == DIES)
			ok = WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT && strstr(err, want);
		else
			ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
		if (!ok) {
			bad++;
			printf("#   %s(%s = NULL): expected %s; %s %d; stderr: %.200s\n", r->fn,
			       r->arg, r->kind == DIES ? "SIGABRT and the message" :
			       r->kind == SOFT ? "NULL, false or an error" : "a normal return",
			       WIFSIGNALED(st) ? "signal" : "exit",
			       WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), err);
		}
	}
	size_t dies = 0;
	for (size_t i = 0; i < NROWS; i++)
		dies += rows[i].kind == DIES;
	CHECK(bad == 0, "each NULL handle does what its row says (%zu rows, %zu abort with "
	      "\"libsynth: FUNC: ARG is NULL\")", NROWS, dies);
	synth_backend_free(B);
}

/* The abort names the cause when a define failed before. */
static void test_null_after_failed_define(void)
{
	fflush(stdout);
	int fd[2];
	if (pipe(fd) < 0)
		abort();
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fd[1], 2);
		synth_backend *b = new_backend();
		synth_function *fn = synth_define_function(b, "bad name", NULL);
		synth_function_add_environment(fn, "MODE", json_string("1"));
		_exit(0);
	}
	close(fd[1]);
	char err[4096];
	ssize_t n = read(fd[0], err, sizeof err - 1);
	err[n > 0 ? n : 0] = '\0';
	close(fd[0]);
	int st = 0;
	waitpid(pid, &st, 0);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT, "a NULL function from a failed define aborts");
	CHECK_HAS(err, "libsynth: synth_function_add_environment: fn is NULL", "names function and argument");
	CHECK_HAS(err, "construct name 'bad name' is not valid", "and the define's error, the cause");
}

/* --- environment lists and variables ------------------------------------ */

static void test_environment(void)
{
	char *d = tmp_cwd();
	write_text("functions/f/index.mjs", "export const handler = async () => 1;\n");
	synth_backend *b = new_backend();
	/* A NULL name with a value in the middle: an error naming the
	 * construct and the index, not the end of the list. */
	CHECK(!synth_define_function(b, "f", &(synth_function_props){
		      .environment = (const synth_env[]){{.name = "AA", .value = "1"},
							 {.value = "lost"},
							 {.name = "CC", .value = "3"}, {0}}}),
	      "an entry with a value and no name is refused");
	CHECK_HAS(synth_error_last()->message, "f: environment entry 1 has a value but no name",
		  "the message names the construct and the index");
	CHECK(!synth_define_function(b, "g", &(synth_function_props){
		      .environment = (const synth_env[]){{.secret = "S"}, {0}}}),
	      "an entry with a secret and no name is refused");
	CHECK_HAS(synth_error_last()->message, "g: environment entry 0 has a secret but no name",
		  "names the index");
	synth_backend_free(b);

	b = new_backend();
	synth_function *f = synth_define_function(b, "f", &(synth_function_props){
		.environment = (const synth_env[]){{.name = "AA", .value = "1"},
						   {.name = "KEY", .secret = "KEY"}, {0}}});
	CHECK(f != NULL, "a list ended by {0} is fine (%s)", synth_error_last()->message);
	CHECK(synth_function_add_environment(f, "BB", json_string("2")) == 0, "a new variable");
	CHECK(synth_function_add_environment(f, "BB", json_string("2")) == 0,
	      "the same variable with the same value again is accepted");
	CHECK(synth_function_add_environment(f, "AA", json_string("other")) == SYNTH_EEXISTS,
	      "a variable of the props set again to another value is refused");
	CHECK_HAS(synth_error_last()->message, "f: environment variable AA is set already",
		  "naming the construct and the variable");
	CHECK(synth_function_add_environment(f, "KEY", json_string("v")) == SYNTH_EEXISTS,
	      "a variable that holds a secret cannot be set to a value");
	CHECK_HAS(synth_error_last()->message, "KEY is set already (to a secret)", "says so");
	CHECK(synth_function_add_secret(f, "BB", "OTHER") == SYNTH_EINVALID,
	      "nor can a value variable become a secret");
	CHECK(synth_backend_run(b) < 0, "the refused variable is a sticky error of the backend");
	CHECK_HAS(synth_error_last()->message, "environment variable AA is set already",
		  "run reports the first one");
	synth_backend_free(b);

	/* Linking one target twice sets its variables twice, to the same
	 * value: fine. */
	b = new_backend();
	f = synth_define_function(b, "f", NULL);
	synth_queue *q = synth_define_queue(b, "jobs", NULL);
	CHECK(synth_function_link(f, synth_queue_construct(q), "send") == 0 &&
	      synth_function_link(f, synth_queue_construct(q), "receive") == 0,
	      "a queue linked twice (%s)", synth_error_last()->message);
	CHECK(synth_backend_run(b) == 0, "runs (%s)", synth_error_last()->message);
	/* After generation, a variable of the emitted function is checked too. */
	CHECK(synth_function_add_environment(f, "SYNTH_JOBS_URL", json_string("x")) ==
	      SYNTH_EEXISTS, "a generated variable cannot be replaced");
	synth_backend_free(b);
	rm_tmp(d);
}

/* --- secret names -------------------------------------------------------- */

static void test_secret_names(void)
{
	char *d = tmp_cwd();
	write_text("functions/f/index.mjs", "export const handler = async () => 1;\n");
	const char *allowed = "1 to 128 letters, digits, '-' or '_'";
	synth_backend *b = new_backend();
	CHECK(!synth_define_function(b, "f", &(synth_function_props){
		      .environment = (const synth_env[]){{.name = "KEY", .secret = "a/b"}, {0}}}),
	      "a props secret with '/' is refused");
	CHECK_HAS(synth_error_last()->message, allowed, "saying which characters are allowed");
	CHECK_HAS(synth_error_last()->message, "f: ", "and naming the function");
	synth_function *f = synth_define_function(b, "g", NULL);
	CHECK(synth_function_add_secret(f, "KEY", "has space") == SYNTH_EINVALID,
	      "synth_function_add_secret refuses the name");
	CHECK_HAS(synth_error_last()->message, allowed, "saying which characters are allowed");
	CHECK(!synth_define_secret(b, "a.b"), "synth_define_secret refuses 'a.b'");
	CHECK_HAS(synth_error_last()->message, allowed, "saying which characters are allowed");
	char *p = NULL;
	CHECK(synth_secret_path(&p, b, "") == SYNTH_EINVALID && !p, "an empty name has no path");
	CHECK_HAS(synth_error_last()->message, allowed, "saying which characters are allowed");
	synth_backend_free(b);
	rm_tmp(d);
}

/* --- the code directory: exclusions and the walk ------------------------ */

static char *zip_listing(const char *zip)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "unzip -Z1 %s 2>&1", zip);
	FILE *p = popen(cmd, "r");
	static char buf[8192];
	size_t n = p ? fread(buf, 1, sizeof buf - 1, p) : 0;
	buf[n] = '\0';
	if (p)
		pclose(p);
	return buf;
}

static void test_exclude(void)
{
	char *d = tmp_cwd();
	write_text("src/a.txt", "a\n");
	write_text("src/index.js", "1\n");
	write_text("src/.git/HEAD", "ref: main\n");
	synth_zip_result r;
	const char *txt[] = {"*.txt", NULL};
	CHECK(synth__zip_dir("src", txt, "one.zip", "t", &r) == 0 && r.files == 1,
	      "a custom list keeps the .git default (%zu files)", r.files);
	CHECK_STR(zip_listing("one.zip"), "index.js\n", "only index.js: neither *.txt nor .git");
	const char *keep_git[] = {"*.txt", "!.git", NULL};
	CHECK(synth__zip_dir("src", keep_git, "two.zip", "t", &r) == 0 && r.files == 2,
	      "'!.git' drops the default (%zu files)", r.files);
	CHECK_STR(zip_listing("two.zip"), ".git/HEAD\nindex.js\n", ".git/HEAD is zipped then");
	const char *bad[] = {"!*.txt", NULL};
	CHECK(synth__zip_dir("src", bad, "three.zip", "t", &r) == SYNTH_EINVALID,
	      "'!' before anything but a default is refused");
	CHECK_HAS(synth_error_last()->message, "t: exclude pattern '!*.txt' drops a default "
		  "exclusion, and the only one is '.git'", "naming the pattern and the defaults");
	/* Through the function props. */
	write_text("functions/f/index.mjs", "export const handler = async () => 1;\n");
	write_text("functions/f/.git/HEAD", "ref: main\n");
	write_text("functions/f/notes.md", "x\n");
	synth_backend *b = new_backend();
	const char *md[] = {"*.md", NULL};
	synth_define_function(b, "f", &(synth_function_props){.exclude = md});
	CHECK(synth_backend_run(b) == 0, "runs (%s)", synth_error_last()->message);
	synth_backend_free(b);
	glob_t g;
	bool one = glob("out/asset.*.zip", 0, NULL, &g) == 0 && g.gl_pathc == 1;
	CHECK(one && !strcmp(zip_listing(g.gl_pathv[0]), "index.mjs\n"),
	      "props .exclude = {\"*.md\"}: the zip holds index.mjs only, no .git");
	if (one)
		globfree(&g);
	rm_tmp(d);
}

/* Runs a backend with function "f" on ENTRY; its stderr into *ERR. */
static int synth_capture(const char *entry, char **err)
{
	fflush(stderr);
	int saved = dup(2);
	FILE *f = fopen("stderr.txt", "w+");
	dup2(fileno(f), 2);
	synth_backend *b = new_backend();
	synth_define_function(b, "f", &(synth_function_props){.entry = entry});
	int rc = synth_backend_run(b);
	synth_backend_free(b);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	fclose(f);
	*err = NULL;
	synth_file_read("stderr.txt", err, NULL);
	unlink("stderr.txt");
	return rc;
}

static void test_walk(void)
{
	char *d = tmp_cwd();
	write_text("outside.txt", "not for the zip\n");
	write_text("code/index.mjs", "export const handler = async () => 1;\n");
	write_text("code/real/a.js", "a\n");
	write_text("code/real/deep/b.js", "b\n");
	CHECK(symlink("real", "code/lib") == 0, "a link to a directory inside");
	symlink("..", "code/real/back");          /* the code directory: a loop */
	symlink(".", "code/self");                /* itself: a loop */
	symlink("../..", "code/real/deep/up");    /* an ancestor again */
	symlink("loop2", "code/loop1");           /* a loop of links */
	symlink("loop1", "code/loop2");
	symlink("nope", "code/dangling");
	symlink("../outside.txt", "code/out.txt"); /* out of the directory */
	symlink("..", "code/parent");             /* the directory's parent */
	CHECK(mkfifo("code/pipe", 0644) == 0, "a FIFO");
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "code/sock");
	CHECK(s >= 0 && bind(s, (struct sockaddr *)&sa, sizeof sa) == 0, "a socket");
	char *err = NULL;
	CHECK(synth_capture("code", &err) == 0, "the synth ends, the FIFO unread (%s)",
	      synth_error_last()->message);
	static const char *const warned[] = {
		"f: skipped code/dangling: a symbolic link to nothing",
		"f: skipped code/lib/back: a symbolic link to a directory that contains it",
		"f: skipped code/lib/deep/up: a symbolic link to a directory that contains it",
		"f: skipped code/loop1: a symbolic link loop",
		"f: skipped code/loop2: a symbolic link loop",
		"f: skipped code/out.txt: a symbolic link out of the code directory, to /",
		"f: skipped code/parent: a symbolic link out of the code directory",
		"f: skipped code/pipe: a FIFO (only files are zipped)",
		"f: skipped code/real/back: a symbolic link to a directory that contains it",
		"f: skipped code/real/deep/up: a symbolic link to a directory that contains it",
		"f: skipped code/self: a symbolic link to a directory that contains it",
		"f: skipped code/sock: a socket (only files are zipped)", NULL};
	const char *prev = err;
	bool ordered = true;
	for (size_t i = 0; warned[i]; i++) {
		char line[256];
		snprintf(line, sizeof line, "synth: warning: %s", warned[i]);
		CHECK_HAS(err, line, "warned: %s", warned[i]);
		const char *at = err ? strstr(err, line) : NULL;
		ordered = ordered && at && at >= prev;
		prev = at ? at : prev;
	}
	CHECK(ordered, "the warnings come sorted by path");
	size_t lines = 0;
	for (const char *p = err; p && (p = strstr(p, "synth: warning:")); p++)
		lines++;
	CHECK(lines == 12, "each skipped path once, though the tree is walked twice (%zu)",
	      lines);
	free(err);
	glob_t g;
	bool one = glob("out/asset.*.zip", 0, NULL, &g) == 0 && g.gl_pathc == 1;
	char *first = one ? strdup(g.gl_pathv[0]) : NULL;
	if (one)
		globfree(&g);
	CHECK_STR(first ? zip_listing(first) : NULL,
		  "index.mjs\nlib/a.js\nlib/deep/b.js\nreal/a.js\nreal/deep/b.js\n",
		  "the linked directory's files are zipped under the link's path");
	/* Deterministic: the same zip from a fresh synth, nothing reused. */
	synth__rm_rf("out");
	CHECK(synth_capture("code", &err) == 0, "again");
	free(err);
	one = glob("out/asset.*.zip", 0, NULL, &g) == 0 && g.gl_pathc == 1;
	CHECK(one && first && !strcmp(strrchr(first, '/'), strrchr(g.gl_pathv[0], '/')),
	      "the same asset hash twice");
	if (one)
		globfree(&g);
	synth_zip_result r1, r2;
	CHECK(synth__zip_dir("code", NULL, "z1.zip", "t", &r1) == 0 &&
	      synth__zip_dir("code", NULL, "z2.zip", "t", &r2) == 0 &&
	      !strcmp(r1.hash, r2.hash) && r1.files == 5, "byte-identical zips, 5 files");
	free(first);
	close(s);
	rm_tmp(d);
}

int main(void)
{
	alarm(300); /* a FIFO read would block: fail rather than hang */
	if (!getcwd(root_dir, sizeof root_dir))
		return 1;
	char *d = tmp_cwd();
	test_rows_cover_headers();
	test_null_rows();
	rm_tmp(d);
	test_null_after_failed_define();
	test_environment();
	test_secret_names();
	test_exclude();
	test_walk();
	return check_failed ? 1 : 0;
}
