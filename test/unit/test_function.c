/* define_function, schedules, runtimes, and zip determinism. */
#include <sys/stat.h>
#include <time.h>
#include <utime.h>
#include "check.h"
#include "helpers.h"

static void test_schedules(void)
{
	static const struct { const char *in, *out; } ok[] = {
		{"every day", "rate(1 day)"},
		{"every hour", "rate(1 hour)"},
		{"every week", "rate(7 days)"},
		{"every 5m", "rate(5 minutes)"},
		{"every 2h", "rate(2 hours)"},
		{"every 1 minute", "rate(1 minute)"},
		{"every 3 days", "rate(3 days)"},
		{"rate(5 minutes)", "rate(5 minutes)"},
		{"rate(1 hour)", "rate(1 hour)"},
		{"cron(0 12 * * ? *)", "cron(0 12 * * ? *)"},
		{"cron(15 10 ? * MON-FRI *)", "cron(15 10 ? * MON-FRI *)"},
		{"cron(0/15 * ? * 6L 2030)", "cron(0/15 * ? * 6L 2030)"},
		{"0 9 * * 1", "cron(0 9 ? * 2 *)"},
		{"*/10 * * * *", "cron(*/10 * * * ? *)"},
		{"0 0 1 * *", "cron(0 0 1 * ? *)"},
	};
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
		char *out = NULL;
		int rc = synth_schedule_parse(&out, ok[i].in);
		CHECK(rc == 0 && out && !strcmp(out, ok[i].out), "schedule '%s' -> %s (got %s: %s)",
		      ok[i].in, ok[i].out, out ? out : "-", rc ? synth_error_last()->message : "");
		free(out);
	}
	static const struct { const char *in, *msg; } bad[] = {
		{"every fortnight", "does not parse"},
		{"rate(5 minute)", "rate(1 minute) or rate(N minutes)"},
		{"rate(1 minutes)", "rate(1 minute)"},
		{"rate(0 days)", "positive"},
		{"rate(5 weeks)", "minutes, hours or days"},
		{"cron(0 12 * * * *)", "exactly one of day-of-month and day-of-week"},
		{"cron(61 12 * * ? *)", "field 1 (minutes) '61'"},
		{"cron(0 12 * *)", "has 6 fields"},
		{"0 9 1 * 1", "cannot combine"},
		{"", "empty"},
		{"hello", "does not parse"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char *out = NULL;
		CHECK(synth_schedule_parse(&out, bad[i].in) == SYNTH_EINVALID && !out,
		      "schedule '%s' refused", bad[i].in);
		CHECK_HAS(synth_error_last()->message, bad[i].msg, "message for '%s'", bad[i].in);
	}
}

static void test_runtimes(void)
{
	const char *good[] = {"nodejs24.x", "nodejs22.x", "python3.12", "python3.13",
			      "python3.14", "provided.al2023", NULL};
	for (int i = 0; good[i]; i++)
		CHECK(synth_runtime_check(good[i]) == 0, "runtime %s accepted", good[i]);
	CHECK(synth_runtime_check("nodejs20.x") == SYNTH_EINVALID, "nodejs20.x refused");
	CHECK_HAS(synth_error_last()->message, "use nodejs24.x", "names its successor");
	CHECK(synth_runtime_check("python3.9") == SYNTH_EINVALID, "python3.9 refused");
	CHECK_HAS(synth_error_last()->message, "use python3.14", "names its successor");
	CHECK(synth_runtime_check("go1.x") == SYNTH_EINVALID, "go1.x refused");
	CHECK_HAS(synth_error_last()->message, "provided.al2023", "names its successor");
	CHECK(synth_runtime_check("cobol85") == SYNTH_EINVALID, "unknown runtime refused");
	CHECK_HAS(synth_error_last()->message, "unknown runtime 'cobol85'", "says unknown");
}

static void test_define(void)
{
	char *d = tmp_cwd();
	write_text("functions/a/index.mjs", "export const handler = async () => 1;\n");
	synth_backend *b = new_backend();
	synth_function *fa = synth_define_function(b, "a", &(synth_function_props){
		.schedule = "every 5m", .memory_mb = 1024, .timeout_s = 30,
		.environment = (const synth_env[]){{.name = "MODE", .value = "1"},
						   {.name = "TOKEN", .secret = "TOKEN"}, {0}}});
	/* b shares a's code directory: one asset. */
	synth_function *fb = synth_define_function(b, "b", &(synth_function_props){
		.entry = "functions/a", .runtime = "nodejs22.x", .architecture = "arm64"});
	CHECK(fa && fb, "functions defined (%s)", synth_error_last()->message);
	const char *acts[] = {"lambda:InvokeFunction", NULL};
	CHECK(synth_function_grant(fb, acts, synth_function_arn(fa)) == 0, "grant before run");
	synth_function_add_environment(fb, "A_NAME", synth_function_name_ref(fa));
	CHECK(synth_backend_run(b) == 0, "run (%s)", synth_error_last()->message);
	json_t *t = root_template();
	json_t *fn = by_path(t, "a/Resource"), *role = by_path(t, "a/ServiceRole");
	json_t *rule = by_path(t, "a/Schedule"), *perm = by_path(t, "a/SchedulePermission");
	json_t *log = by_path(t, "a/LogGroup"), *pol = by_path(t, "b/ServiceRole/DefaultPolicy");
	CHECK(fn && role && rule && perm && log, "function, role, log group, rule, permission");
	CHECK(pol != NULL, "a grant creates the DefaultPolicy");
	CHECK(by_path(t, "a/ServiceRole/DefaultPolicy") != NULL,
	      "a secret grants ssm:GetParameters through the DefaultPolicy");
	char *fs = json_dumps(fn, JSON_COMPACT);
	CHECK_HAS(fs, "\"Runtime\":\"nodejs24.x\"", "default runtime nodejs24.x");
	CHECK_HAS(fs, "\"MemorySize\":1024", "memory");
	CHECK_HAS(fs, "\"Timeout\":30", "timeout");
	CHECK_HAS(fs, "\"Handler\":\"index.handler\"", "default handler");
	CHECK_HAS(fs, "SYNTH_SSM_ENV_CONFIG", "secret paths in the environment");
	CHECK_HAS(fs, "/synth/app/branch/main/TOKEN", "the backend's secret path");
	CHECK(!strstr(fs, "\"TOKEN\":"), "no TOKEN variable with a value");
	char *rs = json_dumps(role, JSON_COMPACT);
	CHECK_HAS(rs, "\"Action\":[\"logs:CreateLogStream\",\"logs:PutLogEvents\"]",
		  "role may write logs");
	CHECK(!strstr(rs, "logs:CreateLogGroup") && !strstr(rs, "\"Resource\":\"*\""),
	      "least privilege: only its own log group");
	char *ru = json_dumps(rule, JSON_COMPACT);
	CHECK_HAS(ru, "\"ScheduleExpression\":\"rate(5 minutes)\"", "schedule expression");
	char *bs = json_dumps(by_path(t, "b/Resource"), JSON_COMPACT);
	CHECK_HAS(bs, "\"Architectures\":[\"arm64\"]", "architecture");
	CHECK_HAS(bs, "\"A_NAME\":{\"Ref\":", "token environment resolved");
	json_t *assets = load_glob("out/*.assets.json");
	size_t zips = 0;
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(assets, "files"), k, v)
		zips += strstr(json_string_value(json_object_get(json_object_get(v, "source"), "path")),
			       ".zip") != NULL;
	CHECK(zips == 1, "the same directory is zipped once (%zu zips)", zips);
	free(fs), free(rs), free(ru), free(bs);
	json_decref(assets);
	json_decref(t);
	synth_backend_free(b);

	/* Bad props: each refused at define time, naming the construct. */
	b = new_backend();
	CHECK(!synth_define_function(b, "old", &(synth_function_props){.runtime = "nodejs20.x"}),
	      "deprecated runtime refused");
	CHECK_HAS(synth_error_last()->message, "old: runtime nodejs20.x can no longer be created",
		  "names the construct and the runtime");
	CHECK(!synth_define_function(b, "s", &(synth_function_props){.schedule = "every blue moon"}),
	      "bad schedule refused");
	CHECK_HAS(synth_error_last()->message, "s: schedule 'every blue moon' does not parse", "message");
	CHECK(!synth_define_function(b, "m", &(synth_function_props){.memory_mb = 64}), "memory");
	CHECK(!synth_define_function(b, "r", &(synth_function_props){.log_retention_days = 4}),
	      "retention");
	CHECK(!synth_define_function(b, "e", &(synth_function_props){
		      .environment = (const synth_env[]){{.name = "A", .value = "1", .secret = "S"}, {0}}}),
	      "env with both value and secret refused");
	CHECK(synth_backend_run(b) < 0, "run fails after a bad define");
	CHECK_HAS(synth_error_last()->message, "old: runtime", "run reports the first error");
	synth_backend_free(b);

	b = new_backend();
	synth_define_function(b, "missing", &(synth_function_props){.entry = "functions/nope"});
	CHECK(synth_backend_run(b) == SYNTH_ENOTFOUND, "missing code directory");
	CHECK_HAS(synth_error_last()->message, "missing: code directory 'functions/nope' does not exist",
		  "names construct and directory");
	synth_backend_free(b);
	rm_tmp(d);
}

static void test_zip_determinism(void)
{
	char *d = tmp_cwd();
	write_text("src/b.txt", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n");
	write_text("src/a/x.js", "console.log(1)\n");
	write_text("src/.git/HEAD", "ref: main\n");
	write_text("src/bootstrap", "#!/bin/sh\n");
	chmod("src/bootstrap", 0700);
	write_text("outside.txt", "secret\n");
	symlink("../outside.txt", "src/leak.txt");
	symlink("b.txt", "src/alias.txt");
	synth_zip_result r1, r2;
	CHECK(synth__zip_dir("src", NULL, "one.zip", "t", &r1) == 0, "zip");
	/* Different mtimes, permissions and time zone: same bytes. */
	struct utimbuf ut = {1000000000, 1000000000};
	utime("src/b.txt", &ut);
	chmod("src/b.txt", 0600);
	setenv("TZ", "Asia/Tokyo", 1);
	tzset();
	CHECK(synth__zip_dir("src", NULL, "two.zip", "t", &r2) == 0, "zip again");
	unsetenv("TZ");
	tzset();
	CHECK_STR(r1.hash, r2.hash, "byte-identical zips");
	CHECK(r1.files == 4, "entries: a/x.js, alias.txt, b.txt, bootstrap, and not .git or leak (%zu)",
	      r1.files);
	FILE *p = popen("unzip -Z -l one.zip 2>&1", "r");
	char buf[4096] = "";
	size_t n = p ? fread(buf, 1, sizeof buf - 1, p) : 0;
	buf[n] = '\0';
	if (p)
		pclose(p);
	CHECK(!strstr(buf, "leak.txt"), "a symlink outside the directory is not followed");
	CHECK(!strstr(buf, ".git"), ".git excluded by default");
	CHECK_HAS(buf, "-rwxr-xr-x", "executable bit kept as 0755");
	CHECK_HAS(buf, "-rw-r--r--", "others 0644");
	CHECK_HAS(buf, "80-Jan-01 00:00", "fixed 1980 timestamps");
	char *ax = strstr(buf, "a/x.js"), *al = strstr(buf, "alias.txt"), *bt = strstr(buf, "b.txt");
	CHECK(ax && al && bt && ax < al && al < bt, "entries sorted by path");
	const char *ex[] = {"*.txt", NULL};
	synth_zip_result r3;
	CHECK(synth__zip_dir("src", ex, "three.zip", "t", &r3) == 0 && r3.files == 2,
	      "custom excludes add to the .git default (%zu files)", r3.files);
	CHECK(synth__zip_dir("nope", NULL, "x.zip", "fn", &r3) == SYNTH_ENOTFOUND, "missing dir");
	CHECK(access("x.zip", F_OK) != 0, "no partial zip left");
	rm_tmp(d);
}

static ino_t inode_of(const char *pattern)
{
	glob_t g;
	ino_t ino = 0;
	struct stat st;
	if (glob(pattern, 0, NULL, &g) == 0) {
		if (g.gl_pathc == 1 && stat(g.gl_pathv[0], &st) == 0)
			ino = st.st_ino;
		globfree(&g);
	}
	return ino;
}

static int synth_dir(const char *entry)
{
	synth_backend *b = new_backend();
	synth_define_function(b, "f", &(synth_function_props){.entry = entry});
	int rc = synth_backend_run(b);
	synth_backend_free(b);
	return rc;
}

/* Unchanged code is not zipped again: the zip is taken from the previous
 * assembly (same file, hard-linked) by its content fingerprint. */
static void test_asset_reuse(void)
{
	char *d = tmp_cwd();
	write_text("functions/f/index.mjs", "export const handler = async () => 1;\n");
	CHECK(synth_dir("functions/f") == 0, "first synth");
	ino_t first = inode_of("out/asset.*.zip");
	char *idx1 = NULL;
	synth_file_read("out/synth-assets.json", &idx1, NULL);
	CHECK(first != 0 && idx1 && strstr(idx1, "\"hash\""), "one zip and a fingerprint index");
	CHECK(synth_dir("functions/f") == 0, "second synth");
	CHECK(inode_of("out/asset.*.zip") == first, "unchanged code: the previous zip is reused");
	char *idx2 = NULL;
	synth_file_read("out/synth-assets.json", &idx2, NULL);
	CHECK(idx1 && idx2 && !strcmp(idx1, idx2), "the index is the same");
	write_text("functions/f/index.mjs", "export const handler = async () => 2;\n");
	CHECK(synth_dir("functions/f") == 0, "third synth after a change");
	ino_t third = inode_of("out/asset.*.zip");
	CHECK(third != 0 && third != first, "changed code: a new zip");
	/* An index naming a file that is gone, or garbage: rebuilt, not trusted. */
	glob_t g;
	glob("out/asset.*.zip", 0, NULL, &g);
	if (g.gl_pathc == 1)
		unlink(g.gl_pathv[0]);
	globfree(&g);
	CHECK(synth_dir("functions/f") == 0 && inode_of("out/asset.*.zip") != 0,
	      "a missing previous zip is rebuilt");
	write_text("out/synth-assets.json", "{not json");
	CHECK(synth_dir("functions/f") == 0 && inode_of("out/asset.*.zip") != 0,
	      "a damaged index is ignored");
	free(idx1);
	free(idx2);
	rm_tmp(d);
}

int main(void)
{
	test_asset_reuse();
	test_schedules();
	test_runtimes();
	test_define();
	test_zip_determinism();
	return check_failed ? 1 : 0;
}
