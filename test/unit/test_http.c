/* The AWS client's HTTP layer against a local fake server: bodies, retries
 * (5xx, throttling, resets, timeouts), no retry on other 4xx, AWS error
 * parsing, error bodies that are no AWS error (a proxy's HTML page),
 * signing per attempt, connection reuse. */
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include "check.h"
#include "helpers.h"
#include "http.h"

static pid_t server;
static char base[64];

static int start_server(void)
{
	int fds[2];
	if (pipe(fds) < 0)
		return -1;
	server = fork();
	if (server == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		const char *root = getenv("SYNTH_ROOT");
		char *script = synth_asprintf("%s/test/unit/fake/http_fake.py", root ? root : ".");
		execlp("python3", "python3", script, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	/* One line: the port. */
	char buf[32] = "";
	size_t n = 0;
	while (n < sizeof buf - 1) {
		ssize_t got = read(fds[0], buf + n, 1);
		if (got <= 0 || buf[n] == '\n')
			break;
		n++;
	}
	close(fds[0]);
	if (n == 0)
		return -1;
	buf[n] = '\0';
	snprintf(base, sizeof base, "http://127.0.0.1:%d", atoi(buf));
	return 0;
}

static int signs;
static int sign(void *ctx, const synth_http_request *req, synth_http_headers *out)
{
	(void)ctx;
	(void)req;
	signs++;
	char v[32];
	snprintf(v, sizeof v, "attempt-%d", signs);
	return synth_http_headers_set(out, "X-Test-Signature", v);
}

static int get(synth_http *c, const char *method, const char *path, synth_http_response *r)
{
	char url[256];
	snprintf(url, sizeof url, "%s%s", base, path);
	synth_http_request req = {.method = method, .url = url, .what = path};
	return synth_http_send(c, &req, r);
}

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(void)
{
	CHECK(start_server() == 0, "fake server started (%s)", base);
	synth_http *c = NULL;
	synth_http_options o = {.backoff_base_ms = 5, .backoff_max_ms = 20, .timeout_ms = 2000};
	CHECK(synth_http_new(&c, &o) == 0 && c, "client");
	synth_http_response r;

	/* Bodies. */
	CHECK(get(c, "GET", "/echo", &r) == 0 && r.status == 200, "GET /echo");
	json_t *j = json_loadb(r.body.ptr, r.body.len, 0, NULL);
	CHECK_STR(json_string_value(json_object_get(j, "method")), "GET", "method sent");
	CHECK(r.request_id && !strncmp(r.request_id, "REQ-", 4), "request id read from x-amz-request-id");
	json_int_t port1 = json_integer_value(json_object_get(j, "peer"));
	json_decref(j);
	synth_http_response_free(&r);
	CHECK(get(c, "GET", "/echo", &r) == 0, "second GET");
	j = json_loadb(r.body.ptr, r.body.len, 0, NULL);
	CHECK(json_integer_value(json_object_get(j, "peer")) == port1,
	      "the connection is reused (same client port)");
	json_decref(j);
	synth_http_response_free(&r);

	const char payload[] = "hello, body";
	char url[256];
	snprintf(url, sizeof url, "%s/echo", base);
	synth_http_request put = {.method = "PUT", .url = url, .body = payload,
				  .body_len = sizeof payload - 1, .sign = sign, .what = "PUT"};
	synth_http_headers_add(&put.headers, "Content-Type", "text/plain");
	signs = 0;
	CHECK(synth_http_send(c, &put, &r) == 0, "PUT from memory");
	j = json_loadb(r.body.ptr, r.body.len, 0, NULL);
	char hex[65];
	synth_sha256_hex(payload, sizeof payload - 1, hex);
	CHECK_STR(json_string_value(json_object_get(j, "sha256")), hex, "the body arrived intact");
	json_t *hdrs = json_object_get(j, "headers");
	CHECK_STR(json_string_value(json_object_get(hdrs, "content-type")), "text/plain", "headers sent");
	CHECK_STR(json_string_value(json_object_get(hdrs, "x-test-signature")), "attempt-1",
		  "the sign callback adds its headers");
	CHECK(!json_object_get(hdrs, "expect"), "no Expect: 100-continue");
	json_decref(j);
	synth_http_response_free(&r);
	synth_http_headers_free(&put.headers);

	char *d = tmp_cwd();
	FILE *f = fopen("blob", "wb");
	for (int i = 0; i < 100000; i++)
		fputc('a' + i % 26, f);
	fclose(f);
	synth_http_request pf = {.method = "PUT", .url = url, .body_file = "blob",
				 .file_offset = 1000, .file_length = 50000, .what = "PUT file"};
	CHECK(synth_http_send(c, &pf, &r) == 0, "PUT a slice of a file");
	j = json_loadb(r.body.ptr, r.body.len, 0, NULL);
	char *all = NULL;
	size_t alen = 0;
	synth_file_read("blob", &all, &alen);
	synth_sha256_hex(all + 1000, 50000, hex);
	CHECK(json_integer_value(json_object_get(j, "length")) == 50000, "slice length");
	CHECK_STR(json_string_value(json_object_get(j, "sha256")), hex, "slice content");
	free(all);
	json_decref(j);
	synth_http_response_free(&r);
	synth_http_request missing = {.method = "PUT", .url = url, .body_file = "nope", .what = "PUT nope"};
	CHECK(synth_http_send(c, &missing, &r) == SYNTH_EIO, "a missing body file is an error");
	CHECK_HAS(synth_error_last()->message, "cannot read nope", "naming the file");
	synth_http_response_free(&r);
	rm_tmp(d);

	CHECK(get(c, "HEAD", "/echo", &r) == 0 && r.status == 200 && r.body.len == 0, "HEAD");
	synth_http_response_free(&r);

	/* Retries. */
	CHECK(get(c, "GET", "/flaky/a/503/2/ServiceUnavailable", &r) == 0 && r.attempts == 3,
	      "503 twice, then success on the third attempt (%d)", r.attempts);
	synth_http_response_free(&r);
	CHECK(get(c, "GET", "/flaky/b/400/2/Throttling", &r) == 0 && r.attempts == 3,
	      "throttling (400 Throttling) is retried (%d)", r.attempts);
	synth_http_response_free(&r);
	CHECK(get(c, "GET", "/flaky/c/503/2/SlowDown", &r) == 0, "S3 SlowDown is retried");
	synth_http_response_free(&r);
	CHECK(get(c, "GET", "/reset/d/2", &r) == 0 && r.attempts >= 2,
	      "a reset connection is retried (%d attempts; libcurl itself retries a reused "
	      "connection found dead once)", r.attempts);
	synth_http_response_free(&r);
	CHECK(get(c, "GET", "/count/reset/d", &r) == 0 && r.body.ptr && atoi(r.body.ptr) == 3,
	      "two resets, then the answer");
	synth_http_response_free(&r);
	CHECK(get(c, "GET", "/flaky/e/500/9", &r) == SYNTH_ERROR && r.attempts == 3,
	      "a persistent 500 fails after the retry budget (%d)", r.attempts);
	CHECK_HAS(synth_error_last()->message,
		  "/flaky/e/500/9: InternalError: fake InternalError (HTTP 500", "the AWS error is shown");
	CHECK_HAS(synth_error_last()->message, "after retries", "and that it was retried");
	synth_http_response_free(&r);
	CHECK(get(c, "GET", "/count/flaky/e", &r) == 0 && r.body.ptr && atoi(r.body.ptr) == 3,
	      "exactly 3 attempts reached the server");
	synth_http_response_free(&r);
	signs = 0;
	snprintf(url, sizeof url, "%s/error/403/SignatureDoesNotMatch", base);
	synth_http_request bad = {.method = "POST", .url = url, .body = "a=b", .body_len = 3,
				  .sign = sign, .what = "DescribeStacks"};
	CHECK(synth_http_send(c, &bad, &r) == SYNTH_ERROR && r.attempts == 1 && signs == 1,
	      "a 403 is not retried (%d attempts)", r.attempts);
	CHECK_HAS(synth_error_last()->message,
		  "DescribeStacks: SignatureDoesNotMatch: fake SignatureDoesNotMatch (HTTP 403, request id",
		  "code, message and request id");
	synth_http_response_free(&r);
	signs = 0;
	snprintf(url, sizeof url, "%s/flaky/f/500/2", base);
	synth_http_request signed_retry = {.method = "GET", .url = url, .sign = sign, .what = "x"};
	CHECK(synth_http_send(c, &signed_retry, &r) == 0 && signs == 3,
	      "signed again before every attempt (%d)", signs);
	synth_http_response_free(&r);
	CHECK(get(c, "GET", "/error/404/NoSuchKey", &r) == SYNTH_ENOTFOUND, "404 is SYNTH_ENOTFOUND");
	synth_http_response_free(&r);
	CHECK(get(c, "GET", "/json-error/400/ParameterNotFound", &r) == SYNTH_ERROR &&
		      r.aws_code && !strcmp(r.aws_code, "ParameterNotFound"),
	      "JSON protocol errors parsed (%s)", r.aws_code ? r.aws_code : "-");
	synth_http_response_free(&r);

	/* A body that is no AWS error: said what it is (an HTML page from a
	 * proxy above all), never taken for an AWS error or an XML error. */
	CHECK(get(c, "GET", "/html/502", &r) == SYNTH_ERROR && r.attempts == 3,
	      "an HTML 502 page is retried like any 502 (%d)", r.attempts);
	CHECK_HAS(synth_error_last()->message,
		  "/html/502: an HTML page (\"502 Bad Gateway\"), not an AWS error: a proxy, load "
		  "balancer or captive portal answered (HTTP 502",
		  "an HTML error page: reported as such, with its title");
	CHECK(!r.aws_code, "an HTML page has no AWS error code");
	synth_http_response_free(&r);
	CHECK(get(c, "GET", "/html/403/plain", &r) == SYNTH_ERROR && r.attempts == 1, "HTML 403");
	CHECK_HAS(synth_error_last()->message, "an HTML page (\"502 Bad Gateway\")",
		  "an HTML page is known by its start, whatever its Content-Type");
	synth_http_response_free(&r);
	CHECK(get(c, "GET", "/html/404/none", &r) == SYNTH_ENOTFOUND, "HTML 404 without a type");
	CHECK_HAS(synth_error_last()->message, "an HTML page", "without a Content-Type too");
	synth_http_response_free(&r);
	CHECK(get(c, "GET", "/text/400", &r) == SYNTH_ERROR, "plain text 400");
	CHECK_HAS(synth_error_last()->message,
		  "/text/400: no error code (the answer, 23 bytes of text/plain, is not an AWS "
		  "error document) (HTTP 400",
		  "another body: its size and type, not \"no body\"");
	synth_http_response_free(&r);
	CHECK(get(c, "GET", "/empty/403", &r) == SYNTH_ERROR, "empty 403");
	CHECK_HAS(synth_error_last()->message, "/empty/403: no error code (the answer had no body) (HTTP 403",
		  "no body: said so");
	synth_http_response_free(&r);
	snprintf(url, sizeof url, "%s/html/400", base);
	synth_http_request quiet = {.method = "GET", .url = url, .what = "GetParameter",
				    .sensitive = true};
	CHECK(synth_http_send(c, &quiet, &r) == SYNTH_ERROR, "sensitive call, HTML answer");
	CHECK_HAS(synth_error_last()->message, "GetParameter: an HTML page, not an AWS error",
		  "a sensitive call's HTML answer: nothing of the page quoted");
	synth_http_response_free(&r);

	/* Timeouts are retried, then reported. */
	synth_http_free(c);
	synth_http_options fast = {.backoff_base_ms = 5, .backoff_max_ms = 10, .timeout_ms = 300,
				   .max_attempts = 2};
	synth_http_new(&c, &fast);
	double t0 = now_ms();
	CHECK(get(c, "GET", "/slow/2000", &r) == SYNTH_EIO && r.attempts == 2,
	      "a slow server times out, twice");
	CHECK(now_ms() - t0 < 3000, "within the time budget, well under the 4 s two full answers take (%.0f ms)", now_ms() - t0);
	CHECK_HAS(synth_error_last()->message, "after 2 attempts", "the message says so");
	synth_http_response_free(&r);
	synth_http_free(c);

	/* Nothing listening: connection refused, retried, reported. */
	synth_http_new(&c, &fast);
	synth_http_request refused = {.method = "GET", .url = "http://127.0.0.1:1/", .what = "nobody"};
	CHECK(synth_http_send(c, &refused, &r) == SYNTH_EIO && r.attempts == 2,
	      "connection refused is retried and reported");
	synth_http_response_free(&r);
	synth_http_free(c);

	CHECK(synth_http_retryable(400, "Throttling") && synth_http_retryable(503, NULL) &&
		      synth_http_retryable(400, "RequestTimeout") && !synth_http_retryable(400, "ValidationError") &&
		      !synth_http_retryable(403, "AccessDenied") && !synth_http_retryable(404, NULL),
	      "the retry table");
	char *code, *msg, *rid;
	const char *s3 = "<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message>The bucket does not exist"
			 "</Message><BucketName>b</BucketName><RequestId>R1</RequestId></Error>";
	CHECK(synth_aws_error_parse(s3, strlen(s3), &code, &msg, &rid) == 0 && !strcmp(code, "NoSuchBucket") &&
		      !strcmp(msg, "The bucket does not exist") && !strcmp(rid, "R1"),
	      "S3 XML error parsed");
	free(code), free(msg), free(rid);
	CHECK(synth_aws_error_parse("garbage", 7, &code, &msg, &rid) < 0 && !code, "garbage is no error code");
	kill(server, SIGTERM);
	waitpid(server, NULL, 0);
	return check_failed ? 1 : 0;
}
