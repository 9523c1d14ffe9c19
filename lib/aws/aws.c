/*
 * The AWS client: endpoints, signing every attempt with SigV4, REST calls
 * (S3) and Query-protocol calls (CloudFormation, STS).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <openssl/crypto.h>
#include "aws.h"

struct synth_aws {
	char *region, *akid, *secret, *token;
	char *ep_s3, *ep_cfn, *ep_sts, *ep_ssm;
	synth_http_options http_opts;
	synth_http *http;
};

static char *dup_or_default(const char *v, const char *fmt, const char *region)
{
	if (v && *v) {
		char *d = strdup(v);
		size_t n = d ? strlen(d) : 0;
		while (n > 0 && d[n - 1] == '/')
			d[--n] = '\0'; /* "http://host/" -> "http://host" */
		return d;
	}
	return synth_asprintf(fmt, region);
}

int synth_aws_new(synth_aws **out, const synth_aws_config *cfg)
{
	*out = NULL;
	if (!cfg->region || !*cfg->region)
		return synth_error_setf(SYNTH_EINVALID, "no AWS region (set AWS_REGION, or "
					"region in the profile, or --region)");
	if (!cfg->access_key_id || !*cfg->access_key_id || !cfg->secret_access_key ||
	    !*cfg->secret_access_key)
		return synth_error_setf(SYNTH_EINVALID, "no AWS credentials");
	synth_aws *a = calloc(1, sizeof *a);
	if (!a)
		return synth_error_oom();
	a->region = strdup(cfg->region);
	a->akid = strdup(cfg->access_key_id);
	a->secret = strdup(cfg->secret_access_key);
	a->token = cfg->session_token && *cfg->session_token ? strdup(cfg->session_token) : NULL;
	a->ep_s3 = dup_or_default(cfg->endpoint_s3, "https://s3.%s.amazonaws.com", cfg->region);
	a->ep_cfn = dup_or_default(cfg->endpoint_cloudformation,
				   "https://cloudformation.%s.amazonaws.com", cfg->region);
	a->ep_sts = dup_or_default(cfg->endpoint_sts, "https://sts.%s.amazonaws.com", cfg->region);
	a->ep_ssm = dup_or_default(cfg->endpoint_ssm, "https://ssm.%s.amazonaws.com", cfg->region);
	int rc = 0;
	if (!a->region || !a->akid || !a->secret || (cfg->session_token && *cfg->session_token &&
						     !a->token) ||
	    !a->ep_s3 || !a->ep_cfn || !a->ep_sts || !a->ep_ssm)
		rc = synth_error_oom();
	a->http_opts = cfg->http;
	if (rc == 0)
		rc = synth_http_new(&a->http, &cfg->http);
	if (rc < 0) {
		synth_aws_free(a);
		return rc;
	}
	*out = a;
	return 0;
}

static void wipe_free(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

void synth_aws_free(synth_aws *a)
{
	if (!a)
		return;
	free(a->region);
	free(a->akid);
	wipe_free(a->secret);
	wipe_free(a->token);
	free(a->ep_s3);
	free(a->ep_cfn);
	free(a->ep_sts);
	free(a->ep_ssm);
	synth_http_free(a->http);
	free(a);
}

const char *synth_aws_region(const synth_aws *a) { return a->region; }

const char *synth_aws_endpoint(const synth_aws *a, const char *service)
{
	if (!strcmp(service, "s3"))
		return a->ep_s3;
	if (!strcmp(service, "cloudformation"))
		return a->ep_cfn;
	if (!strcmp(service, "sts"))
		return a->ep_sts;
	if (!strcmp(service, "ssm"))
		return a->ep_ssm;
	return NULL;
}

/* "http://host:port/base" -> host:port (for the Host header). */
static char *endpoint_host(const char *ep)
{
	const char *p = strstr(ep, "://");
	p = p ? p + 3 : ep;
	size_t n = strcspn(p, "/");
	return strndup(p, n);
}

typedef struct sign_ctx {
	synth_aws *a;
	const synth_aws_call *call;
	const char *path;
	char payload_hash[65];
	bool have_hash;
} sign_ctx;

static int sign_attempt(void *ud, const synth_http_request *req, synth_http_headers *out)
{
	sign_ctx *sc = ud;
	synth_aws *a = sc->a;
	(void)req;
	char stamp[17];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
	synth_sigv4_pair *h = calloc(out->n ? out->n : 1, sizeof *h);
	if (!h)
		return synth_error_oom();
	for (size_t i = 0; i < out->n; i++)
		h[i] = (synth_sigv4_pair){out->v[i].name, out->v[i].value};
	bool s3 = !strcmp(sc->call->service, "s3");
	synth_sigv4_request sr = {
		.method = sc->call->method, .path = sc->path, .query = sc->call->query,
		.nquery = sc->call->nquery, .headers = h, .nheaders = out->n,
		.payload = sc->call->body, .payload_len = sc->call->body_len,
		.payload_hash = sc->have_hash ? sc->payload_hash : NULL,
		.service = sc->call->service, .region = a->region, .timestamp = stamp,
		.credentials = {a->akid, a->secret, a->token}};
	synth_sigv4_options o = SYNTH_SIGV4_OPTIONS_INIT;
	synth_sigv4_options o3 = SYNTH_SIGV4_OPTIONS_S3_INIT;
	synth_sigv4_result res;
	int rc = synth__sigv4_sign(&res, &sr, s3 ? &o3 : &o);
	free(h);
	if (rc < 0)
		return rc;
	for (size_t i = 0; rc == 0 && i < res.nheaders; i++)
		rc = synth_http_headers_set(out, res.headers[i].name, res.headers[i].value);
	synth__sigv4_result_free(&res);
	return rc;
}

int synth_aws_request(synth_aws *a, const synth_aws_call *call, synth_http_response *resp)
{
	memset(resp, 0, sizeof *resp);
	const char *ep = synth_aws_endpoint(a, call->service);
	if (!ep)
		return synth_error_setf(SYNTH_EINVALID, "unknown AWS service '%s'", call->service);
	sign_ctx sc = {.a = a, .call = call, .path = call->path && *call->path ? call->path : "/"};
	if (call->payload_hash) {
		snprintf(sc.payload_hash, sizeof sc.payload_hash, "%s", call->payload_hash);
		sc.have_hash = true;
	} else if (call->body_file) {
		return synth_error_setf(SYNTH_EINVALID, "%s: a file body needs its SHA-256",
					call->what ? call->what : "request");
	}
	/* The URL: endpoint + path + the canonical (sorted, encoded) query. */
	char *query = NULL;
	if (call->nquery && synth__sigv4_canonical_query(&query, call->query, call->nquery) < 0)
		return SYNTH_ENOMEM;
	/* An endpoint may carry a base path ("http://host/prefix"). */
	char *url = synth_asprintf("%s%s%s%s", ep, sc.path, query ? "?" : "", query ? query : "");
	free(query);
	char *host = endpoint_host(ep);
	synth_http_request req = {.method = call->method, .url = url, .body = call->body,
				  .body_len = call->body_len, .body_file = call->body_file,
				  .file_offset = call->file_offset,
				  .file_length = call->file_length, .sign = sign_attempt,
				  .sign_ctx = &sc, .what = call->what,
				  .sensitive = call->sensitive};
	int rc = url && host ? 0 : synth_error_oom();
	/* The path the signer sees must be what is sent: without a base path
	 * in the endpoint. */
	const char *base = strstr(ep, "://");
	base = base ? strchr(base + 3, '/') : NULL;
	char *full = NULL;
	if (rc == 0 && base) {
		full = synth_asprintf("%s%s", base, sc.path);
		sc.path = full;
	}
	if (rc == 0)
		rc = synth_http_headers_add(&req.headers, "Host", host);
	for (size_t i = 0; rc == 0 && i < call->headers.n; i++)
		rc = synth_http_headers_add(&req.headers, call->headers.v[i].name,
					    call->headers.v[i].value);
	if (rc == 0)
		rc = synth_http_send(a->http, &req, resp);
	synth_http_headers_free(&req.headers);
	free(url);
	free(host);
	free(full);
	return rc;
}

char *synth_aws_s3_path(const char *bucket, const char *key)
{
	synth_buf b = SYNTH_BUF_INIT;
	synth_buf_putc(&b, '/');
	synth__sigv4_encode(&b, bucket, strlen(bucket), false);
	if (key) {
		synth_buf_putc(&b, '/');
		synth__sigv4_encode(&b, key, strlen(key), true);
	}
	return synth_buf_detach(&b);
}

static const char *api_version(const char *service)
{
	if (!strcmp(service, "cloudformation"))
		return "2010-05-15";
	if (!strcmp(service, "sts"))
		return "2011-06-15";
	return NULL;
}

int synth_aws_query(synth_aws *a, const char *service, const char *action,
		    const synth_sigv4_pair *params, size_t nparams, json_t **result)
{
	*result = NULL;
	const char *version = api_version(service);
	if (!version)
		return synth_error_setf(SYNTH_EINVALID, "%s does not speak the Query protocol",
					service);
	synth_buf body = SYNTH_BUF_INIT;
	synth_buf_puts(&body, "Action=");
	synth__sigv4_encode(&body, action, strlen(action), false);
	synth_buf_printf(&body, "&Version=%s", version);
	for (size_t i = 0; i < nparams; i++) {
		synth_buf_putc(&body, '&');
		synth__sigv4_encode(&body, params[i].name, strlen(params[i].name), false);
		synth_buf_putc(&body, '=');
		const char *v = params[i].value ? params[i].value : "";
		synth__sigv4_encode(&body, v, strlen(v), false);
	}
	if (body.oom)
		return synth_error_oom();
	char *what = synth_asprintf("%s %s", service, action);
	synth_aws_call call = {.service = service, .method = "POST", .path = "/",
			       .body = body.ptr ? body.ptr : "", .body_len = body.len,
			       .what = what ? what : action};
	synth_http_headers_add(&call.headers, "Content-Type",
			       "application/x-www-form-urlencoded; charset=utf-8");
	synth_http_response resp;
	int rc = synth_aws_request(a, &call, &resp);
	synth_http_headers_free(&call.headers);
	synth_buf_free(&body);
	if (rc == 0) {
		json_t *doc = synth_xml_to_json(resp.body.ptr ? resp.body.ptr : "", resp.body.len);
		char *key = synth_asprintf("%sResult", action);
		json_t *r = key ? json_object_get(doc, key) : NULL;
		if (!doc && synth_http_body_is_html(&resp)) {
			/* A captive portal or a proxy's page, with a 2xx status. */
			char *note = synth_http_body_note(&resp);
			rc = note ? synth_error_setf(SYNTH_ERROR, "%s: %s (HTTP %ld)",
						     what ? what : action, note, resp.status)
				  : synth_error_oom();
			free(note);
		} else if (!doc) {
			rc = synth_error_setf(SYNTH_ERROR, "%s: the response is not XML (HTTP %ld)",
					      what ? what : action, resp.status);
		} else
			*result = r ? json_incref(r) : json_object(); /* some results are empty */
		free(key);
		json_decref(doc);
	}
	synth_http_response_free(&resp);
	free(what);
	return rc;
}

int synth_aws_account_id(synth_aws *a, char **out)
{
	*out = NULL;
	json_t *r = NULL;
	int rc = synth_aws_query(a, "sts", "GetCallerIdentity", NULL, 0, &r);
	const char *acct = rc == 0 ? json_string_value(json_object_get(r, "Account")) : NULL;
	if (rc == 0 && (!acct || !*acct))
		rc = synth_error_setf(SYNTH_ERROR, "sts GetCallerIdentity: no Account in the answer");
	if (rc == 0 && !(*out = strdup(acct)))
		rc = synth_error_oom();
	json_decref(r);
	return rc;
}

int synth_aws_clone(synth_aws **out, const synth_aws *a)
{
	synth_aws_config cfg = {.region = a->region, .access_key_id = a->akid,
				.secret_access_key = a->secret, .session_token = a->token,
				.endpoint_s3 = a->ep_s3, .endpoint_cloudformation = a->ep_cfn,
				.endpoint_sts = a->ep_sts, .endpoint_ssm = a->ep_ssm,
				.http = a->http_opts};
	return synth_aws_new(out, &cfg);
}
