/* lib/ssm.c against the local SSM peer (test/peers, started here with its
 * own PEERS_DIR): put/get/delete and their "not found" answers, list over
 * several pages (a throttled page retried), missing over several batches
 * of 10, local refusals (empty, too long, not UTF-8), AWS errors that name
 * the action and parameter but never the value. */
#include <sys/wait.h>
#include "check.h"
#include "helpers.h"
#include "ssm.h"

static char admin[128];

/* Runs a shell command; its stdout (caller frees). */
static char *sh(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	synth_buf b = SYNTH_BUF_INIT;
	char line[4096];
	while (p && fgets(line, sizeof line, p))
		synth_buf_puts(&b, line);
	if (p)
		pclose(p);
	char *s = synth_buf_detach(&b);
	return s ? s : strdup("");
}

/* Starts the peers; exports their env. */
static int start_peers(const char *root, const char *dir)
{
	char *cmd = synth_asprintf("PEERS_DIR='%s' bash '%s/test/peers/peers.sh' start 2>/dev/null",
				    dir, root);
	char *out = sh(cmd);
	free(cmd);
	int n = 0;
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, "export ", 7))
			continue;
		char *eq = strchr(line + 7, '=');
		if (!eq)
			continue;
		*eq = '\0';
		setenv(line + 7, eq + 1, 1);
		n++;
	}
	free(out);
	const char *a = getenv("PEERS_ADMIN_CFN");
	snprintf(admin, sizeof admin, "%s", a ? a : "");
	return n > 5 && a ? 0 : -1;
}

static synth_aws *client(const char *secret)
{
	synth_aws_config cfg = {.region = "us-east-1",
				.access_key_id = getenv("AWS_ACCESS_KEY_ID"),
				.secret_access_key = secret ? secret : getenv("AWS_SECRET_ACCESS_KEY"),
				.endpoint_ssm = getenv("AWS_ENDPOINT_URL_CLOUDFORMATION"),
				.http = {.backoff_base_ms = 5, .backoff_max_ms = 20}};
	synth_aws *a = NULL;
	return synth_aws_new(&a, &cfg) == 0 ? a : NULL;
}

static int calls_of(const char *action)
{
	char *cmd = synth_asprintf("curl -s '%s/calls' | python3 -c 'import json,sys; "
				    "print(sum(1 for c in json.load(sys.stdin)[\"calls\"] "
				    "if c.get(\"action\")==\"%s\"))'", admin, action);
	char *out = sh(cmd);
	int n = atoi(out);
	free(cmd);
	free(out);
	return n;
}

static void admin_post(const char *what, const char *json)
{
	char *cmd = synth_asprintf("curl -s -X POST '%s/%s' -d '%s' >/dev/null", admin, what,
				    json);
	free(sh(cmd));
	free(cmd);
}

static void admin_delete(const char *what)
{
	char *cmd = synth_asprintf("curl -s -X DELETE '%s/%s' >/dev/null", admin, what);
	free(sh(cmd));
	free(cmd);
}

int main(void)
{
	/* The repository: SYNTH_ROOT (test/run.sh sets it), else the working
	 * directory, read before the test moves to its temp directory. */
	char cwd[4096];
	const char *root = getenv("SYNTH_ROOT");
	if (!root)
		root = getcwd(cwd, sizeof cwd) ? cwd : ".";
	char *setup = synth_asprintf("bash '%s/test/peers/setup.sh' >/dev/null 2>&1", root);
	free(sh(setup)); /* idempotent: s3rver and botocore for the peers */
	free(setup);
	char *tmp = tmp_cwd();
	char *peers = synth_asprintf("%s/peers", tmp);
	if (start_peers(root, peers) < 0) {
		CHECK(0, "the peers start (from %s)", root);
		rm_tmp(tmp);
		return 1;
	}
	CHECK(1, "the peers start");
	synth_aws *a = client(NULL);
	CHECK(a != NULL, "client");

	/* put / get / delete */
	const char *val = "v@lue \"with\" \\ escapes \xc3\xbc";
	CHECK(synth_ssm_put(a, "/synth/app/branch/main/K1", val) == 0, "put");
	char *v = NULL;
	bool found = false;
	CHECK(synth_ssm_get(a, "/synth/app/branch/main/K1", &v, &found) == 0 && found,
	      "get: found");
	CHECK_STR(v, val, "get: the value, decrypted, escapes intact");
	synth_ssm_free_value(v);
	CHECK(synth_ssm_put(a, "/synth/app/branch/main/K1", "second") == 0, "put again "
									   "(overwrite)");
	CHECK(synth_ssm_get(a, "/synth/app/branch/main/K1", &v, &found) == 0 && found, "get");
	CHECK_STR(v, "second", "the new value");
	synth_ssm_free_value(v);
	v = (char *)"sentinel";
	CHECK(synth_ssm_get(a, "/synth/app/branch/main/NOPE", &v, &found) == 0 && !found && !v,
	      "get a missing parameter: 0, not found, no value");
	CHECK(synth_ssm_delete(a, "/synth/app/branch/main/K1", &found) == 0 && found, "delete");
	CHECK(synth_ssm_delete(a, "/synth/app/branch/main/K1", &found) == 0 && !found,
	      "delete again: 0, not found");

	/* Local refusals: no call made. */
	admin_delete("calls");
	CHECK(synth_ssm_put(a, "/x/EMPTY", "") == SYNTH_EINVALID, "an empty value: EINVALID");
	char big[4098];
	memset(big, 'a', 4097);
	big[4097] = '\0';
	CHECK(synth_ssm_put(a, "/x/BIG", big) == SYNTH_EINVALID, "4097 bytes: EINVALID");
	CHECK_HAS(synth_error_last()->message, "4096", "naming the limit");
	CHECK(synth_ssm_put(a, "/x/BIN", "\xff\xfe") == SYNTH_EINVALID, "not UTF-8: EINVALID");
	CHECK(synth_ssm_get(a, "", &v, &found) == SYNTH_EINVALID, "an empty name: EINVALID");
	json_t *names = NULL;
	CHECK(synth_ssm_list(a, "synth/app", &names) == SYNTH_EINVALID && !names,
	      "a path without '/': EINVALID");
	CHECK(calls_of("PutParameter") == 0, "none of these reached SSM");
	big[4096] = '\0';
	CHECK(synth_ssm_put(a, "/x/BIG", big) == 0, "4096 bytes: accepted");

	/* AWS errors: named, value masked. */
	CHECK(synth_ssm_put(a, "bad name", "the-secret-value-91") < 0, "an invalid name: an error");
	const char *m = synth_error_last()->message;
	CHECK_HAS(m, "ssm PutParameter bad name", "the message names the action and parameter");
	CHECK_HAS(m, "ValidationException", "and the AWS error code");
	CHECK(!strstr(m, "the-secret-value-91"), "but not the value");
	synth_aws *bad = client("wrong-secret");
	CHECK(synth_ssm_put(bad, "/x/K", "the-secret-value-92") < 0, "a wrong secret key: an error");
	m = synth_error_last()->message;
	CHECK_HAS(m, "Signature", "a signature error");
	CHECK(!strstr(m, "the-secret-value-92") && !strstr(m, "wrong-secret"),
	      "naming neither the value nor the key");
	synth_aws_free(bad);

	/* list: 25 under one path, more elsewhere; pages of 10, a throttled
	 * page retried. */
	for (int i = 25; i >= 1; i--) {
		char nm[64];
		snprintf(nm, sizeof nm, "/synth/app/sandbox/me/S%02d", i);
		synth_ssm_put(a, nm, "x");
	}
	synth_ssm_put(a, "/synth/app/sandbox/me/deeper/D1", "x");
	synth_ssm_put(a, "/synth/app/sandbox/mee/OTHER", "x");
	admin_delete("calls");
	admin_post("fault", "{\"kind\": \"throttle\", \"count\": 1, \"skip\": 1, "
			    "\"match\": \"ssm:GetParametersByPath \"}");
	CHECK(synth_ssm_list(a, "/synth/app/sandbox/me", &names) == 0, "list");
	CHECK(json_array_size(names) == 26, "every page: 25 + 1 deeper (%zu)",
	      json_array_size(names));
	CHECK_STR(json_string_value(json_array_get(names, 0)), "/synth/app/sandbox/me/S01",
		  "sorted: first");
	CHECK_STR(json_string_value(json_array_get(names, 24)), "/synth/app/sandbox/me/S25",
		  "sorted: 25th");
	CHECK_STR(json_string_value(json_array_get(names, 25)),
		  "/synth/app/sandbox/me/deeper/D1", "recursive: the deeper one last");
	int pages = calls_of("GetParametersByPath");
	CHECK(pages >= 4, "paged, and the throttled page asked again (%d calls)", pages);
	json_decref(names);
	CHECK(synth_ssm_list(a, "/synth/none", &names) == 0 && json_array_size(names) == 0,
	      "an empty path: an empty list");
	json_decref(names);

	/* missing: 23 names, every other one set; 3 batches. */
	json_t *want = json_array();
	for (int i = 1; i <= 23; i++) {
		char nm[64];
		snprintf(nm, sizeof nm, "/synth/app/sandbox/me/%s%02d", i % 2 ? "S" : "M", i);
		json_array_append_new(want, json_string(nm));
	}
	admin_delete("calls");
	json_t *miss = NULL;
	CHECK(synth_ssm_missing(a, want, &miss) == 0, "missing");
	CHECK(json_array_size(miss) == 11, "the 11 unset names (%zu)", json_array_size(miss));
	CHECK_STR(json_string_value(json_array_get(miss, 0)), "/synth/app/sandbox/me/M02",
		  "the first");
	CHECK_STR(json_string_value(json_array_get(miss, 10)), "/synth/app/sandbox/me/M22",
		  "the last");
	CHECK(calls_of("GetParameters") == 3, "in 3 batches of at most 10 (%d)",
	      calls_of("GetParameters"));
	json_decref(miss);
	json_t *none = json_array();
	CHECK(synth_ssm_missing(a, none, &miss) == 0 && json_array_size(miss) == 0,
	      "no names: nothing missing");
	json_decref(miss);
	json_decref(none);
	json_array_append_new(want, json_integer(3));
	CHECK(synth_ssm_missing(a, want, &miss) == SYNTH_EINVALID && !miss,
	      "a name that is not a string: EINVALID");
	json_decref(want);

	/* No value in the peer's call log. */
	char *cmd = synth_asprintf("curl -s '%s/calls'", admin);
	char *log = sh(cmd);
	free(cmd);
	CHECK(!strstr(log, "the-secret-value") && !strstr(log, "escapes"),
	      "no value in the peer's call log");
	free(log);

	synth_aws_free(a);
	cmd = synth_asprintf("PEERS_DIR='%s' bash '%s/test/peers/peers.sh' stop >/dev/null 2>&1",
			      peers, root);
	free(sh(cmd));
	free(cmd);
	free(peers);
	rm_tmp(tmp);
	return check_failed ? 1 : 0;
}
