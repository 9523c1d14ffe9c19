/*
 * Systems Manager Parameter Store, AWS JSON 1.1 protocol: POST / with
 * X-Amz-Target: AmazonSSM.<Action> and a JSON body; errors come back as
 * {"__type": "...#Code", "message": ...} (parsed by http.c).
 *
 * Secret values: never in a message (an error that quotes the value has it
 * masked), and every buffer this file fills with one (the request body, the
 * response body, the decoded JSON string) is wiped before it is freed;
 * the HTTP layer wipes the response body each time it grows too
 * (synth_aws_call.sensitive -> synth_http_request.sensitive).
 * Copies made inside libcurl's and jansson's own buffers are out of reach
 * here; a process that wants those wiped too installs a wiping allocator
 * (the CLI's `secret` command does, with json_set_alloc_funcs).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "ssm.h"

/* SSM's limits: standard-tier values hold 4 KB; names (with the path) at
 * most 2048 characters; GetParameters takes 10 names; GetParametersByPath
 * pages hold at most 10. */
#define SSM_VALUE_MAX 4096
#define SSM_NAME_MAX 2048
#define SSM_BATCH 10

static void wipe(void *p, size_t n)
{
	if (p && n)
		OPENSSL_cleanse(p, n);
}

/* Wipes the string value of KEY in OBJ (jansson's own copy). */
static void wipe_member(json_t *obj, const char *key)
{
	json_t *s = json_object_get(obj, key);
	if (json_is_string(s))
		wipe((char *)json_string_value(s), json_string_length(s));
}

/* Replaces every occurrence of SECRET in the last error's message with
 * "****" (AWS validation errors may quote the value). */
static int scrub_error(int rc, const char *secret)
{
	const char *m = synth_error_last()->message;
	size_t sl = secret ? strlen(secret) : 0;
	if (!sl || !m || !strstr(m, secret))
		return rc;
	synth_buf b = SYNTH_BUF_INIT;
	for (const char *p = m, *hit; *p; p = hit + sl) {
		hit = strstr(p, secret);
		if (!hit) {
			synth_buf_puts(&b, p);
			break;
		}
		synth_buf_put(&b, p, (size_t)(hit - p));
		synth_buf_puts(&b, "****");
	}
	if (b.oom)
		return synth_error_setf(rc, "ssm: the request failed (the message quoted the "
					    "secret value and could not be masked)");
	rc = synth_error_setf(rc, "%s", b.ptr);
	synth_buf_free(&b);
	return rc;
}

/*
 * One JSON 1.1 call: ACTION with REQ (borrowed) as the body. NAME is for
 * messages. On success *OUT (caller owns, may be NULL when not wanted) is
 * the response object. A ParameterNotFound answer is SYNTH_ENOTFOUND.
 * SECRET, if not NULL, is masked in any error message. The request and
 * response bodies are wiped before they are freed.
 */
static int ssm_call(synth_aws *a, const char *action, json_t *req, const char *name,
		    const char *secret, bool sensitive, json_t **out)
{
	if (out)
		*out = NULL;
	/* Dumped straight into one buffer of the right size (json_dumpb
	 * writes through no intermediate buffer), so the body that may hold
	 * the value exists once and is wiped. */
	size_t need = json_dumpb(req, NULL, 0, JSON_COMPACT);
	if (need == 0)
		return synth_error_oom();
	char *body = malloc(need);
	if (!body)
		return synth_error_oom();
	if (json_dumpb(req, body, need, JSON_COMPACT) != need) {
		wipe(body, need);
		free(body);
		return synth_error_oom();
	}
	char *what = synth_asprintf("ssm %s %s", action, name ? name : "");
	char *target = synth_asprintf("AmazonSSM.%s", action);
	synth_aws_call call = {.service = "ssm", .method = "POST", .path = "/", .body = body,
			       .body_len = need, .what = what ? what : action};
	int rc = what && target ? 0 : synth_error_oom();
	if (rc == 0)
		rc = synth_http_headers_add(&call.headers, "X-Amz-Target", target);
	if (rc == 0)
		rc = synth_http_headers_add(&call.headers, "Content-Type",
					    "application/x-amz-json-1.1");
	synth_http_response resp;
	memset(&resp, 0, sizeof resp);
	if (rc == 0) {
		/* The HTTP layer wipes the bodies as they grow and when freed. */
		call.sensitive = sensitive || secret;
		rc = synth_aws_request(a, &call, &resp);
		if (rc < 0 && resp.aws_code && !strcmp(resp.aws_code, "ParameterNotFound"))
			rc = synth_error_setf(SYNTH_ENOTFOUND, "%s: ParameterNotFound",
					      what ? what : action);
		else if (rc < 0)
			rc = scrub_error(rc, secret);
	}
	if (rc == 0 && out) {
		json_error_t err;
		json_t *doc = resp.body.len ? json_loadb(resp.body.ptr, resp.body.len, 0, &err)
					    : json_object(); /* an empty answer is {} */
		if (!json_is_object(doc)) {
			json_decref(doc);
			rc = synth_error_setf(SYNTH_ERROR, "%s: the response is not a JSON object",
					      what ? what : action);
		} else
			*out = doc;
	}
	wipe(body, need);
	free(body);
	wipe(resp.body.ptr, resp.body.len);
	synth_http_response_free(&resp);
	synth_http_headers_free(&call.headers);
	free(what);
	free(target);
	return rc;
}

static int check_name(const char *name)
{
	if (!name || !*name)
		return synth_error_setf(SYNTH_EINVALID, "ssm: the parameter name is empty");
	if (strlen(name) > SSM_NAME_MAX)
		return synth_error_setf(SYNTH_EINVALID,
					"ssm: the parameter name '%.40s...' is longer than %d "
					"characters", name, SSM_NAME_MAX);
	return 0;
}

int synth_ssm_put(synth_aws *a, const char *name, const char *value)
{
	int rc = check_name(name);
	if (rc < 0)
		return rc;
	size_t vl = value ? strlen(value) : 0;
	if (vl == 0)
		return synth_error_setf(SYNTH_EINVALID, "ssm PutParameter %s: the value is empty",
					name);
	if (vl > SSM_VALUE_MAX)
		return synth_error_setf(SYNTH_EINVALID,
					"ssm PutParameter %s: the value is %zu bytes; a standard "
					"parameter holds at most %d", name, vl, SSM_VALUE_MAX);
	json_t *req = json_pack("{s:s, s:s, s:s, s:b}", "Name", name, "Value", value, "Type",
				"SecureString", "Overwrite", 1);
	if (!req) {
		/* json_pack fails on invalid UTF-8 as well as on memory. */
		return synth_error_setf(SYNTH_EINVALID,
					"ssm PutParameter %s: the value is not valid UTF-8 text "
					"(or memory ran out)", name);
	}
	json_t *res = NULL;
	rc = ssm_call(a, "PutParameter", req, name, value, true, &res);
	wipe_member(req, "Value");
	json_decref(req);
	json_decref(res);
	return rc;
}

void synth_ssm_free_value(char *value)
{
	if (value) {
		wipe(value, strlen(value));
		free(value);
	}
}

int synth_ssm_get(synth_aws *a, const char *name, char **value, bool *found)
{
	*value = NULL;
	*found = false;
	int rc = check_name(name);
	if (rc < 0)
		return rc;
	json_t *req = json_pack("{s:s, s:b}", "Name", name, "WithDecryption", 1);
	if (!req)
		return synth_error_oom();
	json_t *res = NULL;
	rc = ssm_call(a, "GetParameter", req, name, NULL, true, &res);
	json_decref(req);
	if (rc == SYNTH_ENOTFOUND) {
		synth_error_clear();
		return 0;
	}
	json_t *p = json_object_get(res, "Parameter");
	json_t *v = json_object_get(p, "Value");
	if (rc == 0 && !json_is_string(v))
		rc = synth_error_setf(SYNTH_ERROR, "ssm GetParameter %s: no Parameter.Value in "
						   "the response", name);
	if (rc == 0) {
		size_t n = json_string_length(v);
		char *d = malloc(n + 1);
		if (!d)
			rc = synth_error_oom();
		else {
			memcpy(d, json_string_value(v), n);
			d[n] = '\0';
			*value = d;
			*found = true;
		}
	}
	wipe_member(p, "Value");
	json_decref(res);
	return rc;
}

int synth_ssm_delete(synth_aws *a, const char *name, bool *found)
{
	*found = false;
	int rc = check_name(name);
	if (rc < 0)
		return rc;
	json_t *req = json_pack("{s:s}", "Name", name);
	if (!req)
		return synth_error_oom();
	rc = ssm_call(a, "DeleteParameter", req, name, NULL, false, NULL);
	json_decref(req);
	if (rc == SYNTH_ENOTFOUND) {
		synth_error_clear();
		return 0;
	}
	if (rc == 0)
		*found = true;
	return rc;
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* NAMES (an array of strings) sorted in place, byte order. */
static int sort_names(json_t *names)
{
	size_t n = json_array_size(names);
	if (n < 2)
		return 0;
	const char **v = malloc(n * sizeof *v);
	json_t *copy = json_copy(names); /* keeps the strings alive */
	if (!v || !copy) {
		free(v);
		json_decref(copy);
		return synth_error_oom();
	}
	for (size_t i = 0; i < n; i++)
		v[i] = json_string_value(json_array_get(copy, i));
	qsort(v, n, sizeof *v, cmp_str);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (json_array_set_new(names, i, json_string(v[i])) < 0)
			rc = synth_error_oom();
	free(v);
	json_decref(copy);
	return rc;
}

int synth_ssm_list(synth_aws *a, const char *path, json_t **names)
{
	*names = NULL;
	int rc = check_name(path);
	if (rc < 0)
		return rc;
	if (path[0] != '/')
		return synth_error_setf(SYNTH_EINVALID,
					"ssm GetParametersByPath: the path '%s' does not start with "
					"'/'", path);
	json_t *all = json_array();
	char *token = NULL;
	if (!all)
		return synth_error_oom();
	/* A token that comes back unchanged would loop forever: cap the
	 * pages (10 000 pages of 10 is far above SSM's 10 000 parameters
	 * per account and region in the standard tier). */
	for (int page = 0; rc == 0; page++) {
		if (page >= 10000) {
			rc = synth_error_setf(SYNTH_ELIMIT, "ssm GetParametersByPath %s: more "
							    "than 10000 pages", path);
			break;
		}
		json_t *req = json_pack("{s:s, s:b, s:b, s:i}", "Path", path, "Recursive", 1,
					"WithDecryption", 0, "MaxResults", SSM_BATCH);
		if (!req || (token && json_object_set_new(req, "NextToken", json_string(token)) < 0)) {
			json_decref(req);
			rc = synth_error_oom();
			break;
		}
		json_t *res = NULL;
		rc = ssm_call(a, "GetParametersByPath", req, path, NULL, false, &res);
		json_decref(req);
		if (rc < 0)
			break;
		json_t *params = json_object_get(res, "Parameters");
		size_t i;
		json_t *p;
		if (params && !json_is_array(params))
			rc = synth_error_setf(SYNTH_ERROR, "ssm GetParametersByPath %s: Parameters "
							   "is not a list", path);
		json_array_foreach(params, i, p) {
			json_t *nm = json_object_get(p, "Name");
			wipe_member(p, "Value");
			if (rc == 0 && !json_is_string(nm))
				rc = synth_error_setf(SYNTH_ERROR, "ssm GetParametersByPath %s: a "
								   "parameter without a Name", path);
			else if (rc == 0 && json_array_append(all, nm) < 0)
				rc = synth_error_oom();
		}
		const char *next = json_string_value(json_object_get(res, "NextToken"));
		free(token);
		token = NULL;
		if (rc == 0 && next && *next && !(token = strdup(next)))
			rc = synth_error_oom();
		json_decref(res);
		if (!token)
			break;
	}
	free(token);
	if (rc == 0)
		rc = sort_names(all);
	if (rc < 0) {
		json_decref(all);
		return rc;
	}
	*names = all;
	return 0;
}

/* GetParameters for NAMES in batches of SSM_BATCH, without decryption:
 * the names SSM reported in InvalidParameters are appended to MISSING (if
 * not NULL), and each found parameter's Version is set in VERSIONS (if not
 * NULL) under its name. */
static int get_parameters(synth_aws *a, json_t *names, json_t *missing, json_t *versions)
{
	if (!json_is_array(names))
		return synth_error_setf(SYNTH_EINVALID, "ssm GetParameters: names is not a list");
	int rc = 0;
	size_t n = json_array_size(names);
	for (size_t at = 0; rc == 0 && at < n; at += SSM_BATCH) {
		json_t *batch = json_array();
		const char *first = NULL;
		for (size_t i = at; batch && rc == 0 && i < n && i < at + SSM_BATCH; i++) {
			json_t *nm = json_array_get(names, i);
			if (!json_is_string(nm))
				rc = synth_error_setf(SYNTH_EINVALID, "ssm GetParameters: name %zu "
								      "is not a string", i);
			else if ((rc = check_name(json_string_value(nm))) == 0 &&
				 json_array_append(batch, nm) < 0)
				rc = synth_error_oom();
			if (!first)
				first = json_string_value(nm);
		}
		json_t *req = batch && rc == 0
				      ? json_pack("{s:O, s:b}", "Names", batch, "WithDecryption", 0)
				      : NULL;
		if (rc == 0 && !req)
			rc = synth_error_oom();
		json_t *res = NULL;
		if (rc == 0)
			rc = ssm_call(a, "GetParameters", req, first, NULL, false, &res);
		json_t *params = json_object_get(res, "Parameters");
		size_t i;
		json_t *p;
		if (rc == 0 && params && !json_is_array(params))
			rc = synth_error_setf(SYNTH_ERROR, "ssm GetParameters: Parameters is not "
							   "a list");
		json_array_foreach(params, i, p) {
			wipe_member(p, "Value");
			const char *pn = json_string_value(json_object_get(p, "Name"));
			json_t *ver = json_object_get(p, "Version");
			if (rc < 0 || !versions)
				continue;
			if (!pn || !json_is_integer(ver))
				rc = synth_error_setf(SYNTH_ERROR, "ssm GetParameters %s: a parameter "
								   "without a Name or a Version",
						      first ? first : "");
			else if (json_object_set(versions, pn, ver) < 0)
				rc = synth_error_oom();
		}
		json_t *inv = json_object_get(res, "InvalidParameters");
		if (rc == 0 && inv && !json_is_array(inv))
			rc = synth_error_setf(SYNTH_ERROR, "ssm GetParameters: InvalidParameters "
							   "is not a list");
		json_array_foreach(inv, i, p) {
			if (rc == 0 && !json_is_string(p))
				rc = synth_error_setf(SYNTH_ERROR, "ssm GetParameters: an invalid "
								   "parameter that is not a string");
			else if (rc == 0 && missing && json_array_append(missing, p) < 0)
				rc = synth_error_oom();
		}
		json_decref(res);
		json_decref(req);
		json_decref(batch);
	}
	return rc;
}

int synth_ssm_missing(synth_aws *a, json_t *names, json_t **missing)
{
	*missing = NULL;
	json_t *out = json_array();
	if (!out)
		return synth_error_oom();
	int rc = get_parameters(a, names, out, NULL);
	if (rc < 0) {
		json_decref(out);
		return rc;
	}
	*missing = out;
	return 0;
}

int synth_ssm_versions(synth_aws *a, json_t *names, json_t **versions)
{
	*versions = NULL;
	json_t *out = json_object();
	if (!out)
		return synth_error_oom();
	int rc = get_parameters(a, names, NULL, out);
	if (rc < 0) {
		json_decref(out);
		return rc;
	}
	*versions = out;
	return 0;
}
