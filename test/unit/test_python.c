/*
 * Python functions at define time (handler shape, its module in the code
 * directory, the zip's exclusions) and the core's several-directory asset
 * (synth_construct_add_dirs_asset: merged, sorted, a clash refused naming
 * both directories, once per list, a fingerprint over every directory).
 * pip itself is exercised by test/cli/python.sh.
 */
#include <zip.h>
#include "check.h"
#include "helpers.h"
#include "synth/sys/construct.h"

/* The names in ZIP, one per line, in archive order (caller frees). */
static char *zip_names(const char *path)
{
	int err = 0;
	zip_t *z = zip_open(path, ZIP_RDONLY, &err);
	if (!z)
		return NULL;
	synth_buf b = SYNTH_BUF_INIT;
	for (zip_int64_t i = 0; i < zip_get_num_entries(z, 0); i++)
		synth_buf_printf(&b, "%s\n", zip_get_name(z, (zip_uint64_t)i, 0));
	zip_discard(z);
	return synth_buf_detach(&b);
}

/* The one zip in ./out. */
static char *the_zip(void)
{
	glob_t g;
	char *p = NULL;
	if (glob("out/asset.*.zip", 0, NULL, &g) == 0 && g.gl_pathc == 1)
		p = strdup(g.gl_pathv[0]);
	globfree(&g);
	return p;
}

static void test_handlers(void)
{
	char *d = tmp_cwd();
	write_text("functions/p/index.py", "def handler(e, c):\n    return 1\n");
	write_text("functions/p/api/users.py", "def get(e, c):\n    return 2\n");
	write_text("functions/p/pkg/__init__.py", "def handler(e, c):\n    return 3\n");
	write_text("functions/p/__pycache__/index.cpython-312.pyc", "bytecode");
	write_text("functions/p/stale.pyc", "bytecode");
	write_text("functions/p/x.dist-info/RECORD", "a,b,c");
	synth_backend *b = new_backend();
	synth_function *p1 = synth_define_function(b, "p1", &(synth_function_props){
		.entry = "functions/p", .runtime = "python3.12"});
	synth_function *p2 = synth_define_function(b, "p2", &(synth_function_props){
		.entry = "functions/p", .runtime = "python3.13", .handler = "api.users.get"});
	synth_function *p3 = synth_define_function(b, "p3", &(synth_function_props){
		.entry = "functions/p", .runtime = "python3.14", .handler = "pkg.handler"});
	CHECK(p1 && p2 && p3, "default, dotted and package handlers accepted (%s)",
	      synth_error_last()->message);
	CHECK(synth_backend_run(b) == 0, "run (%s)", synth_error_last()->message);
	json_t *t = root_template();
	CHECK_STR(json_string_value(json_object_get(json_object_get(by_path(t, "p1/Resource"),
								  "Properties"), "Handler")),
		  "index.handler", "the default Python handler is index.handler");
	char *zip = the_zip();
	char *names = zip ? zip_names(zip) : NULL;
	CHECK(zip != NULL, "one zip for three functions sharing a directory");
	CHECK_STR(names, "api/users.py\nindex.py\npkg/__init__.py\n",
		  "no __pycache__, .pyc or *.dist-info/RECORD in a Python zip");
	free(zip), free(names);
	json_decref(t);
	synth_backend_free(b);

	static const struct { const char *handler, *msg; } bad[] = {
		{"index", "Python handler 'index' is not of the form module.function"},
		{"index.", "does not end with a Python function name"},
		{"index.2x", "does not end with a Python function name"},
		{".handler", "does not name a Python module"},
		{"a..b.handler", "does not name a Python module"},
		{"a..handler", "does not name a Python module"},
		{"in-dex.handler", "does not name a Python module"},
		{"api/users.get", "does not name a Python module"},
		{"nothere.handler", "q: handler 'nothere.handler' names module 'nothere', but there "
				    "is no nothere.py (nor nothere/__init__.py) in the code "
				    "directory 'functions/p'"},
		{"api.nothere.get", "names module 'api.nothere', but there is no api/nothere.py"},
		{"users.get", "names module 'users'"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		b = new_backend();
		CHECK(!synth_define_function(b, "q", &(synth_function_props){
			.entry = "functions/p", .runtime = "python3.12", .handler = bad[i].handler}),
		      "handler '%s' refused", bad[i].handler);
		CHECK_HAS(synth_error_last()->message, bad[i].msg, "message for '%s'", bad[i].handler);
		CHECK_HAS(synth_error_last()->message, "q: ", "names the function");
		synth_backend_free(b);
	}
	/* Node keeps its own handler rules: a file need not exist yet. */
	b = new_backend();
	CHECK(synth_define_function(b, "n", &(synth_function_props){
		.entry = "functions/p", .handler = "nothere.handler"}) != NULL,
	      "a Node handler is not checked against Python modules");
	synth_backend_free(b);
	rm_tmp(d);
}

/* A construct registering the directories of its state as one asset. */
typedef struct { const char *const *dirs; size_t asset, again; } dirs_state;

static int dirs_generate(synth_construct *self, void *state)
{
	dirs_state *s = state;
	if (synth_construct_add_dirs_asset(&s->asset, self, s->dirs, NULL) < 0)
		return SYNTH_EINVALID;
	if (synth_construct_add_dirs_asset(&s->again, self, s->dirs, NULL) < 0)
		return SYNTH_EINVALID;
	return synth_resource_new(NULL, self, "Doc", "AWS::S3::Bucket",
				  json_pack("{s:o}", "BucketName", synth_asset_key(s->asset)));
}

static const synth_construct_class dirs_class = {
	.version = SYNTH_CONSTRUCT_CLASS_VERSION, .kind = "bundle", .generate = dirs_generate};

/* Runs a backend with one "bundle" of DIRS; 0 or the error. */
static int run_dirs(const char *const *dirs, dirs_state *s)
{
	synth_backend *b = new_backend();
	*s = (dirs_state){dirs, 99, 98};
	int rc = synth_construct_new(NULL, b, "bundle", &dirs_class, s);
	if (rc == 0)
		rc = synth_backend_run(b);
	synth_backend_free(b);
	return rc;
}

static void test_dirs_asset(void)
{
	char *d = tmp_cwd();
	write_text("code/x.txt", "x\n");
	write_text("code/.git/HEAD", "ref\n");
	write_text("deps/y.txt", "y\n");
	write_text("deps/sub/z.txt", "z\n");
	write_text("deps2/w.txt", "w\n");
	dirs_state s;
	const char *const two[] = {"code", "deps", NULL};
	CHECK(run_dirs(two, &s) == 0, "two directories (%s)", synth_error_last()->message);
	CHECK(s.asset == s.again, "the same list registers once (%zu, %zu)", s.asset, s.again);
	char *zip = the_zip(), *names = zip ? zip_names(zip) : NULL;
	CHECK_STR(names, "sub/z.txt\nx.txt\ny.txt\n", "merged, sorted, .git excluded");
	char *idx1 = NULL;
	synth_file_read("out/synth-assets.json", &idx1, NULL);
	free(names);
	names = NULL;

	/* The fingerprint covers the second directory too. */
	write_text("deps/y.txt", "changed\n");
	CHECK(run_dirs(two, &s) == 0, "rebuilt");
	char *zip2 = the_zip(), *idx2 = NULL;
	synth_file_read("out/synth-assets.json", &idx2, NULL);
	CHECK(zip && zip2 && strcmp(zip, zip2), "a change in the second directory: a new zip");
	CHECK(idx1 && idx2 && strcmp(idx1, idx2), "... and a new fingerprint");
	free(zip), free(zip2), free(idx1), free(idx2);

	/* Three directories; then one clash. */
	const char *const three[] = {"code", "deps", "deps2", NULL};
	CHECK(run_dirs(three, &s) == 0, "three directories");
	zip = the_zip();
	names = zip ? zip_names(zip) : NULL;
	CHECK_STR(names, "sub/z.txt\nw.txt\nx.txt\ny.txt\n", "three merged");
	free(zip), free(names);
	write_text("deps2/sub/z.txt", "other z\n");
	CHECK(run_dirs(three, &s) == SYNTH_EINVALID, "a path in two directories is refused");
	CHECK_HAS(synth_error_last()->message,
		  "bundle: 'sub/z.txt' is both in 'deps' and in 'deps2'", "naming it and both");

	const char *const none[] = {NULL};
	CHECK(run_dirs(none, &s) == SYNTH_EINVALID, "no directory refused");
	CHECK_HAS(synth_error_last()->message, "bundle: an asset takes 1 to 16 directories",
		  "says how many");
	const char *const missing[] = {"code", "nope", NULL};
	CHECK(run_dirs(missing, &s) == SYNTH_ENOTFOUND, "a missing directory refused");
	CHECK_HAS(synth_error_last()->message, "bundle: code directory 'nope' does not exist",
		  "names it");
	const char *const file[] = {"code", "code/x.txt", NULL};
	CHECK(run_dirs(file, &s) == SYNTH_EINVALID, "a file is not a directory");
	CHECK_HAS(synth_error_last()->message, "'code/x.txt' is not a directory", "names it");
	rm_tmp(d);
}

int main(void)
{
	test_handlers();
	test_dirs_asset();
	return check_failed ? 1 : 0;
}
