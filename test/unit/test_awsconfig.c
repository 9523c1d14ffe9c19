/*
 * The AWS credential and configuration chain (lib/aws/awsconfig.c): each case
 * builds a temporary HOME with ~/.aws files, sets the environment, and
 * checks what synth__awsconfig_resolve() finds, or the error it gives.
 * Every resolve also checks that no secret (every test secret contains
 * "SeCrEt") shows in the message, the sources or the summary.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "internal.h"
#include "awsconfig.h"

/*
 * Allocation failure (as test_chaos.c): malloc and friends fail at the Nth
 * call while tracking. Not in the sanitizer build: ASan owns malloc there.
 */
#include "failmalloc.h"

#define MARK "SeCrEt"
#define SECRET "wJalrXUtnFEMI/K7MDENG/" MARK "EXAMPLEKEY"
#define SECRET2 "otherKey/" MARK "/2222"
#define TOKEN "FwoGZXIvYXdzE" MARK "TokenValue"

static const char *const VARS[] = {
	"HOME", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_SECURITY_TOKEN", "AWS_CREDENTIAL_EXPIRATION", "AWS_ACCOUNT_ID", "AWS_PROFILE",
	"AWS_DEFAULT_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_REGION",
	"AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
	"AWS_ENDPOINT_URL_CLOUDFORMATION", "AWS_ENDPOINT_URL_SSM", "AWS_ENDPOINT_URL_STS",
	"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_MAX_ATTEMPTS", NULL};
static char *saved[sizeof VARS / sizeof *VARS];

static char *home;

static const char *msg(void)
{
	return synth_error_last()->message;
}

/* $HOME/REL (sixteen buffers in turn, so one call may use several) */
static const char *at(const char *rel)
{
	static char bufs[16][4096];
	static int next;
	char *b = bufs[next++ % 16];
	snprintf(b, sizeof bufs[0], "%s/%s", home, rel);
	return b;
}

/* A new empty HOME and an environment without AWS_* variables. */
static void fresh(void)
{
	if (home) {
		synth__rm_rf(home);
		free(home);
	}
	char tmpl[] = "/tmp/synth-awsconfig-XXXXXX";
	if (!mkdtemp(tmpl))
		abort();
	home = strdup(tmpl);
	for (size_t i = 1; VARS[i]; i++)
		unsetenv(VARS[i]);
	setenv("HOME", home, 1);
}

/* Writes $HOME/REL (directories made), printf-style. */
static void put(const char *rel, const char *fmt, ...)
{
	char *text = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		abort();
	va_end(ap);
	char *p = strdup(at(rel));
	char *slash = strrchr(p, '/');
	*slash = '\0';
	synth__mkdir_p(p);
	*slash = '/';
	if (synth__write_file(p, text, strlen(text)) < 0)
		abort();
	chmod(p, 0755);
	free(p);
	free(text);
}

static void put_bytes(const char *rel, const char *data, size_t len)
{
	char *p = strdup(at(rel));
	char *slash = strrchr(p, '/');
	*slash = '\0';
	synth__mkdir_p(p);
	*slash = '/';
	synth__write_file(p, data, len);
	free(p);
}

static int resolves; /* count of calls, for the summary of secret checks */

/* Resolves with OPTS (NULL: defaults); checks that no secret leaks. */
static synth_awsconfig *resolve_with(const synth_awsconfig_options *opts)
{
	synth_awsconfig *cfg = NULL;
	synth_error_clear();
	int rc = synth__awsconfig_resolve(&cfg, opts);
	resolves++;
	bool leak = strstr(msg(), MARK) != NULL;
	if (cfg) {
		char *d = synth__awsconfig_describe(cfg);
		leak = leak || !d || strstr(d, MARK) || strstr(cfg->creds.source, MARK) ||
		       strstr(cfg->region_source, MARK);
		for (int i = 0; i < SYNTH_AWS_NSERVICES; i++)
			leak = leak || strstr(cfg->endpoint_source[i], MARK);
		free(d);
	}
	CHECK(!leak, "no secret in the message, sources or summary (resolve #%d)", resolves);
	if ((rc == 0) != (cfg != NULL))
		CHECK(0, "result set exactly on success (rc %d)", rc);
	return cfg;
}

static synth_awsconfig *resolve(void)
{
	return resolve_with(NULL);
}

static synth_awsconfig *resolve_profile(const char *profile)
{
	synth_awsconfig_options o = SYNTH_AWSCONFIG_OPTIONS_INIT;
	o.profile = profile;
	return resolve_with(&o);
}

static void env_keys(void)
{
	setenv("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENT1", 1);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
}

/* --- the environment ------------------------------------------------------ */

static void test_env(void)
{
	fresh();
	env_keys();
	setenv("AWS_REGION", "eu-west-1", 1);
	synth_awsconfig *c = resolve();
	CHECK(c != NULL, "env: resolves (%s)", msg());
	if (c) {
		CHECK_STR(c->creds.access_key_id, "AKIAENVIRONMENT1", "env: access key id");
		CHECK_STR(c->creds.secret_access_key, SECRET, "env: secret");
		CHECK(c->creds.session_token == NULL, "env: no session token");
		CHECK(c->creds.expiration == NULL && c->creds.expires == 0, "env: no expiry");
		CHECK_STR(c->creds.source, "environment", "env: source");
		CHECK_STR(c->profile, "default", "env: profile default");
		CHECK_STR(c->profile_source, "default", "env: profile source");
		CHECK_STR(c->region, "eu-west-1", "env: region");
		CHECK_STR(c->region_source, "AWS_REGION", "env: region source");
		CHECK_STR(c->credentials_file, at(".aws/credentials"), "default credentials path");
		CHECK_STR(c->config_file, at(".aws/config"), "default config path");
	}
	synth__awsconfig_free(c);

	setenv("AWS_SESSION_TOKEN", TOKEN, 1);
	setenv("AWS_CREDENTIAL_EXPIRATION", "2099-05-06T07:08:09Z", 1);
	setenv("AWS_ACCOUNT_ID", "123456789012", 1);
	c = resolve();
	CHECK(c != NULL, "env + token: resolves (%s)", msg());
	if (c) {
		CHECK_STR(c->creds.session_token, TOKEN, "env: session token");
		CHECK_STR(c->creds.expiration, "2099-05-06T07:08:09Z", "env: expiration kept");
		CHECK(c->creds.expires == 4081734489, "env: expiration parsed (%lld)",
		      (long long)c->creds.expires);
		CHECK_STR(c->creds.account_id, "123456789012", "env: account id");
	}
	synth__awsconfig_free(c);

	unsetenv("AWS_SESSION_TOKEN");
	setenv("AWS_SECURITY_TOKEN", TOKEN, 1);
	c = resolve();
	CHECK(c && c->creds.session_token && strcmp(c->creds.session_token, TOKEN) == 0,
	      "env: legacy AWS_SECURITY_TOKEN");
	synth__awsconfig_free(c);

	setenv("AWS_CREDENTIAL_EXPIRATION", "2001-01-01T00:00:00Z", 1);
	c = resolve();
	CHECK(c == NULL, "env: expired credentials rejected");
	CHECK_HAS(msg(), "expired at 2001-01-01T00:00:00Z", "env: expiry message");
	setenv("AWS_CREDENTIAL_EXPIRATION", "tomorrow", 1);
	c = resolve();
	CHECK(c == NULL && strstr(msg(), "not an ISO 8601 time"), "env: bad expiration: %s",
	      msg());

	fresh();
	setenv("AWS_REGION", "us-east-1", 1);
	setenv("AWS_ACCESS_KEY_ID", "AKIAONLYKEY", 1);
	c = resolve();
	CHECK(c == NULL, "env: key without secret fails");
	CHECK_HAS(msg(), "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not",
		  "env: key without secret says so");
	unsetenv("AWS_ACCESS_KEY_ID");
	setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
	c = resolve();
	CHECK(c == NULL && synth_error_last()->code == SYNTH_ENOTFOUND,
	      "env: secret alone is not credentials");
	CHECK_HAS(msg(), "AWS_SECRET_ACCESS_KEY is set without it", "env: secret alone noted");
	setenv("AWS_ACCESS_KEY_ID", "AKIA WITH SPACE", 1);
	c = resolve();
	CHECK(c == NULL && strstr(msg(), "white space"), "env: malformed key id rejected");
}

/* --- profiles and files --------------------------------------------------- */

static void test_profiles(void)
{
	fresh();
	setenv("AWS_REGION", "us-east-1", 1);
	put(".aws/credentials",
	    "[default]\naws_access_key_id = AKIADEFAULTCRED\naws_secret_access_key = %s\n\n"
	    "[dev]\naws_access_key_id = AKIADEVCRED\naws_secret_access_key = %s\n"
	    "aws_session_token = %s\n",
	    SECRET, SECRET2, TOKEN);
	put(".aws/config", "[default]\nregion = eu-central-1\n[profile dev]\nregion = ap-south-1\n");

	synth_awsconfig *c = resolve();
	CHECK(c && strcmp(c->creds.access_key_id, "AKIADEFAULTCRED") == 0,
	      "credentials file [default]");
	if (c) {
		char want[4200];
		snprintf(want, sizeof want, "%s [default]", at(".aws/credentials"));
		CHECK_STR(c->creds.source, want, "credentials file source names file and section");
	}
	synth__awsconfig_free(c);

	setenv("AWS_PROFILE", "dev", 1);
	c = resolve();
	CHECK(c && strcmp(c->creds.access_key_id, "AKIADEVCRED") == 0, "AWS_PROFILE=dev");
	if (c) {
		CHECK_STR(c->profile, "dev", "AWS_PROFILE: profile");
		CHECK_STR(c->profile_source, "AWS_PROFILE", "AWS_PROFILE: source");
		CHECK_STR(c->creds.secret_access_key, SECRET2, "AWS_PROFILE: secret");
		CHECK_STR(c->creds.session_token, TOKEN, "AWS_PROFILE: session token from file");
	}
	synth__awsconfig_free(c);

	env_keys();
	c = resolve();
	CHECK(c && strcmp(c->creds.source, "environment") == 0,
	      "env credentials beat AWS_PROFILE (as the CLI)");
	synth__awsconfig_free(c);

	unsetenv("AWS_PROFILE");
	c = resolve_profile("dev");
	CHECK(c && strcmp(c->creds.access_key_id, "AKIADEVCRED") == 0,
	      "--profile beats env credentials");
	CHECK(c && strcmp(c->profile_source, "--profile") == 0, "--profile: source");
	synth__awsconfig_free(c);

	/* Region from the config file's [profile dev] (AWS_REGION unset). */
	unsetenv("AWS_REGION");
	c = resolve_profile("dev");
	CHECK(c && strcmp(c->region, "ap-south-1") == 0, "config [profile dev] region");
	if (c) {
		char want[4200];
		snprintf(want, sizeof want, "%s [profile dev]", at(".aws/config"));
		CHECK_STR(c->region_source, want, "region source names the config section");
	}
	synth__awsconfig_free(c);
	c = resolve_profile("default");
	CHECK(c && strcmp(c->region, "eu-central-1") == 0, "config [default] region");
	synth__awsconfig_free(c);

	/* The credentials file beats the config file for keys... */
	fresh();
	put(".aws/credentials", "[default]\naws_access_key_id=AKIAFROMCREDS\n"
				"aws_secret_access_key=%s\n", SECRET);
	put(".aws/config", "[default]\nregion=us-west-2\naws_access_key_id=AKIAFROMCONFIG\n"
			   "aws_secret_access_key=%s\n", SECRET2);
	c = resolve();
	CHECK(c && strcmp(c->creds.access_key_id, "AKIAFROMCREDS") == 0,
	      "credentials file beats config file");
	synth__awsconfig_free(c);
	put(".aws/credentials", "[other]\naws_access_key_id=X\naws_secret_access_key=Y\n");
	c = resolve();
	CHECK(c && strcmp(c->creds.access_key_id, "AKIAFROMCONFIG") == 0,
	      "config file keys when the credentials file has none");
	if (c) {
		char want[4200];
		snprintf(want, sizeof want, "%s [default]", at(".aws/config"));
		CHECK_STR(c->creds.source, want, "config file source");
	}
	synth__awsconfig_free(c);

	/* ...and for settings: a region in the credentials file overrides. */
	put(".aws/credentials", "[default]\nregion = sa-east-1\n");
	c = resolve();
	CHECK(c && strcmp(c->region, "sa-east-1") == 0,
	      "credentials file settings override the config file's");
	synth__awsconfig_free(c);

	/* In the config file, [dev] is not profile dev; [profile default] is default. */
	fresh();
	setenv("AWS_REGION", "us-east-1", 1);
	put(".aws/config", "[dev]\naws_access_key_id=AKIAWRONG\naws_secret_access_key=%s\n"
			   "[profile default]\naws_access_key_id=AKIAPROFDEFAULT\n"
			   "aws_secret_access_key=%s\n"
			   "[profile   \"my dev\"]\naws_access_key_id=AKIAQUOTED\n"
			   "aws_secret_access_key=%s\n",
	    SECRET, SECRET, SECRET);
	c = resolve_profile("dev");
	CHECK(c == NULL && synth_error_last()->code == SYNTH_ENOTFOUND,
	      "config [dev] is not a profile");
	c = resolve();
	CHECK(c && strcmp(c->creds.access_key_id, "AKIAPROFDEFAULT") == 0,
	      "config [profile default] is the default profile");
	synth__awsconfig_free(c);
	c = resolve_profile("my dev");
	CHECK(c && strcmp(c->creds.access_key_id, "AKIAQUOTED") == 0,
	      "config [profile \"my dev\"] (quoted, extra spaces)");
	synth__awsconfig_free(c);

	/* In the credentials file, [profile x] is a profile named "profile x". */
	fresh();
	setenv("AWS_REGION", "us-east-1", 1);
	put(".aws/credentials", "[profile x]\naws_access_key_id=AKIAPX\naws_secret_access_key=%s\n",
	    SECRET);
	c = resolve_profile("x");
	CHECK(c == NULL, "credentials [profile x] is not profile x");
	c = resolve_profile("profile x");
	CHECK(c && strcmp(c->creds.access_key_id, "AKIAPX") == 0,
	      "credentials [profile x] is profile \"profile x\"");
	synth__awsconfig_free(c);
}

static void test_file_overrides(void)
{
	fresh();
	put("elsewhere/creds", "[default]\naws_access_key_id=AKIAELSEWHERE\n"
			       "aws_secret_access_key=%s\n", SECRET);
	put("elsewhere/conf", "[default]\nregion=ca-central-1\n");
	put(".aws/credentials", "[default]\naws_access_key_id=AKIAHOME\n"
				"aws_secret_access_key=%s\n", SECRET);
	put(".aws/config", "[default]\nregion=us-east-2\n");
	setenv("AWS_SHARED_CREDENTIALS_FILE", at("elsewhere/creds"), 1);
	setenv("AWS_CONFIG_FILE", at("elsewhere/conf"), 1);
	synth_awsconfig *c = resolve();
	CHECK(c && strcmp(c->creds.access_key_id, "AKIAELSEWHERE") == 0,
	      "AWS_SHARED_CREDENTIALS_FILE is read instead of ~/.aws/credentials");
	CHECK(c && strcmp(c->region, "ca-central-1") == 0,
	      "AWS_CONFIG_FILE is read instead of ~/.aws/config");
	CHECK(c && strcmp(c->credentials_file, at("elsewhere/creds")) == 0,
	      "credentials_file reports the override");
	synth__awsconfig_free(c);

	setenv("AWS_SHARED_CREDENTIALS_FILE", "~/elsewhere/creds", 1);
	setenv("AWS_CONFIG_FILE", "~/elsewhere/conf", 1);
	c = resolve();
	CHECK(c && strcmp(c->config_file, at("elsewhere/conf")) == 0, "~/ expands to HOME");
	CHECK(c && strcmp(c->creds.access_key_id, "AKIAELSEWHERE") == 0, "~/ override read");
	synth__awsconfig_free(c);

	/* A missing override file is empty, not an error, and named. */
	setenv("AWS_SHARED_CREDENTIALS_FILE", at("nope/creds"), 1);
	c = resolve();
	CHECK(c == NULL && synth_error_last()->code == SYNTH_ENOTFOUND,
	      "missing override file: no credentials");
	char want[4200];
	snprintf(want, sizeof want, "%s [default] (no such file)", at("nope/creds"));
	CHECK_HAS(msg(), want, "missing override file named in the message");
}

/* --- region --------------------------------------------------------------- */

static void test_region(void)
{
	fresh();
	env_keys();
	put(".aws/config", "[default]\nregion = us-west-1\n");
	synth_awsconfig_options o = SYNTH_AWSCONFIG_OPTIONS_INIT;
	o.region = "eu-north-1";
	setenv("AWS_REGION", "eu-west-2", 1);
	setenv("AWS_DEFAULT_REGION", "eu-west-3", 1);
	synth_awsconfig *c = resolve_with(&o);
	CHECK(c && !strcmp(c->region, "eu-north-1") && !strcmp(c->region_source, "--region"),
	      "--region first");
	synth__awsconfig_free(c);
	c = resolve();
	CHECK(c && !strcmp(c->region, "eu-west-2"), "then AWS_REGION");
	synth__awsconfig_free(c);
	unsetenv("AWS_REGION");
	c = resolve();
	CHECK(c && !strcmp(c->region, "eu-west-3") && !strcmp(c->region_source, "AWS_DEFAULT_REGION"),
	      "then AWS_DEFAULT_REGION");
	synth__awsconfig_free(c);
	unsetenv("AWS_DEFAULT_REGION");
	c = resolve();
	CHECK(c && !strcmp(c->region, "us-west-1"), "then the profile's region");
	synth__awsconfig_free(c);

	put(".aws/config", "[default]\noutput = json\n");
	c = resolve();
	CHECK(c == NULL && synth_error_last()->code == SYNTH_ENOTFOUND, "no region: error");
	CHECK_HAS(msg(), "no AWS region", "no region: says so");
	CHECK_HAS(msg(), at(".aws/config"), "no region: names the config file");

	setenv("AWS_REGION", "us east 1", 1);
	c = resolve();
	CHECK(c == NULL && synth_error_last()->code == SYNTH_EINVALID, "invalid region rejected");
	CHECK_HAS(msg(), "(from AWS_REGION)", "invalid region: names its source");
	setenv("AWS_REGION", "-us-east-1", 1);
	c = resolve();
	CHECK(c == NULL, "region starting with '-' rejected");
	/* Upper case would reach host names and the signing scope as written. */
	setenv("AWS_REGION", "US-EAST-1", 1);
	c = resolve();
	CHECK(c == NULL && synth_error_last()->code == SYNTH_EINVALID &&
		      strstr(msg(), "invalid AWS region \"US-EAST-1\" (from AWS_REGION): expected "
				    "lower-case letters"),
	      "upper-case region rejected, named (%s)", msg());
	setenv("AWS_REGION", "eu-West-1", 1);
	c = resolve();
	CHECK(c == NULL && strstr(msg(), "\"eu-West-1\""), "mixed-case region rejected");
	unsetenv("AWS_REGION");
	synth_awsconfig_options ro = SYNTH_AWSCONFIG_OPTIONS_INIT;
	ro.region = "US-EAST-1";
	c = resolve_with(&ro);
	CHECK(c == NULL && strstr(msg(), "(from --region)"), "upper-case --region rejected");
	put(".aws/config", "[default]\nregion = Us-east-1\n");
	c = resolve();
	CHECK(c == NULL && strstr(msg(), "\"Us-east-1\" (from ") && strstr(msg(), "[default]"),
	      "upper-case region in the profile: named with its file (%s)", msg());
	put(".aws/config", "[default]\noutput = json\n");
	unsetenv("AWS_REGION");
	/* A value that ran over lines (it might hold a secret) is not quoted. */
	put(".aws/config", "[default]\nregion = us-east-1\n   aws_secret_access_key = %s\n", SECRET);
	c = resolve();
	CHECK(c == NULL && strstr(msg(), "(not shown)"), "multi-line region not quoted: %s", msg());
}

/* --- attempts per request ------------------------------------------------ */

static void test_max_attempts(void)
{
	fresh();
	env_keys();
	setenv("AWS_REGION", "us-east-1", 1);
	synth_awsconfig *c = resolve();
	CHECK(c && c->max_attempts == 0, "max attempts: unset is 0 (the client's default)");
	synth__awsconfig_free(c);
	setenv("AWS_MAX_ATTEMPTS", "7", 1);
	c = resolve();
	CHECK(c && c->max_attempts == 7, "AWS_MAX_ATTEMPTS=7");
	synth__awsconfig_free(c);
	setenv("AWS_MAX_ATTEMPTS", " +100 ", 1);
	c = resolve();
	CHECK(c && c->max_attempts == 100, "AWS_MAX_ATTEMPTS=' +100 ' (as int() takes it)");
	synth__awsconfig_free(c);
	static const char *const bad[] = {"abc", "0", "-1", "101", "99999999",
					  "99999999999999999999", "3x", "1.5", "", " ", NULL};
	for (size_t i = 0; bad[i]; i++) {
		setenv("AWS_MAX_ATTEMPTS", bad[i], 1);
		c = resolve();
		CHECK(c == NULL && synth_error_last()->code == SYNTH_EINVALID &&
			      strstr(msg(), "AWS_MAX_ATTEMPTS is \"") &&
			      strstr(msg(), "from 1 to 100"),
		      "AWS_MAX_ATTEMPTS='%s' is an error naming the variable (%s)", bad[i], msg());
		synth__awsconfig_free(c);
	}
	setenv("AWS_MAX_ATTEMPTS", "abc", 1);
	c = resolve();
	CHECK(c == NULL && strstr(msg(), "\"abc\""), "AWS_MAX_ATTEMPTS: the value is quoted");
	unsetenv("AWS_MAX_ATTEMPTS");
	put(".aws/config", "[default]\nmax_attempts = 5\n");
	c = resolve();
	CHECK(c && c->max_attempts == 5, "the profile's max_attempts");
	synth__awsconfig_free(c);
	setenv("AWS_MAX_ATTEMPTS", "2", 1);
	c = resolve();
	CHECK(c && c->max_attempts == 2, "AWS_MAX_ATTEMPTS before the profile's");
	synth__awsconfig_free(c);
	unsetenv("AWS_MAX_ATTEMPTS");
	put(".aws/config", "[default]\n\nmax_attempts = lots\n");
	c = resolve();
	CHECK(c == NULL && strstr(msg(), ":3: max_attempts of profile default is \"lots\""),
	      "a bad max_attempts in the profile: file, line, profile (%s)", msg());
}

/* --- endpoints ------------------------------------------------------------ */

static void test_endpoints(void)
{
	static const char *const ids[] = {"s3", "cloudformation", "ssm", "sts"};
	static const char *const envs[] = {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_CLOUDFORMATION",
					   "AWS_ENDPOINT_URL_SSM", "AWS_ENDPOINT_URL_STS"};
	fresh();
	env_keys();
	setenv("AWS_REGION", "eu-west-1", 1);
	put(".aws/config",
	    "[default]\nendpoint_url = http://profile.local:1000\nservices = local\n\n"
	    "[services local]\n"
	    "s3 =\n  endpoint_url = http://s3.services.local:2000\n"
	    "cloudformation =\n  endpoint_url = http://cfn.services.local:2001\n"
	    "ssm =\n  # a comment inside the block\n  endpoint_url = http://ssm.services.local:2002\n"
	    "sts =\n\n  endpoint_url = http://sts.services.local:2003\n");
	synth_awsconfig_options o = SYNTH_AWSCONFIG_OPTIONS_INIT;
	o.endpoint_url = "http://127.0.0.1:4566";
	setenv("AWS_ENDPOINT_URL", "http://global.env:3000", 1);
	for (int i = 0; i < 4; i++) {
		char v[64];
		snprintf(v, sizeof v, "http://%s.env:%d", ids[i], 4000 + i);
		setenv(envs[i], v, 1);
	}

	synth_awsconfig *c = resolve_with(&o);
	for (int i = 0; i < 4; i++)
		CHECK(c && !strcmp(c->endpoint[i], "http://127.0.0.1:4566") &&
			      !strcmp(c->endpoint_source[i], "--endpoint-url"),
		      "%s: --endpoint-url first", ids[i]);
	synth__awsconfig_free(c);

	c = resolve();
	for (int i = 0; i < 4; i++) {
		char v[64];
		snprintf(v, sizeof v, "http://%s.env:%d", ids[i], 4000 + i);
		CHECK(c && !strcmp(c->endpoint[i], v) && !strcmp(c->endpoint_source[i], envs[i]),
		      "%s: then %s", ids[i], envs[i]);
	}
	synth__awsconfig_free(c);

	for (int i = 0; i < 4; i++)
		unsetenv(envs[i]);
	c = resolve();
	for (int i = 0; i < 4; i++)
		CHECK(c && !strcmp(c->endpoint[i], "http://global.env:3000"),
		      "%s: then AWS_ENDPOINT_URL", ids[i]);
	synth__awsconfig_free(c);

	unsetenv("AWS_ENDPOINT_URL");
	c = resolve();
	static const char *const svc[] = {"http://s3.services.local:2000",
					  "http://cfn.services.local:2001",
					  "http://ssm.services.local:2002",
					  "http://sts.services.local:2003"};
	for (int i = 0; i < 4; i++)
		CHECK(c && !strcmp(c->endpoint[i], svc[i]) &&
			      strstr(c->endpoint_source[i], "[services local]"),
		      "%s: then the services section", ids[i]);
	CHECK(c && synth__awsconfig_endpoint(c, "ssm") &&
		      !strcmp(synth__awsconfig_endpoint(c, "ssm"), svc[2]),
	      "endpoint lookup by service id");
	CHECK(c && synth__awsconfig_endpoint(c, "lambda") == NULL, "unknown service id: NULL");
	synth__awsconfig_free(c);

	put(".aws/config", "[default]\nendpoint_url = http://profile.local:1000\nservices = local\n"
			   "[services local]\ns3 =\n  endpoint_url = http://s3.services.local:2000\n");
	c = resolve();
	CHECK(c && !strcmp(c->endpoint[SYNTH_AWS_S3], "http://s3.services.local:2000"),
	      "s3 from services, the others...");
	for (int i = 1; i < 4; i++)
		CHECK(c && !strcmp(c->endpoint[i], "http://profile.local:1000"),
		      "%s: then the profile's endpoint_url", ids[i]);
	synth__awsconfig_free(c);

	put(".aws/config", "[default]\noutput = json\n");
	c = resolve();
	CHECK(c && !strcmp(c->endpoint[SYNTH_AWS_S3], "https://s3.eu-west-1.amazonaws.com"),
	      "s3: default");
	CHECK(c && !strcmp(c->endpoint[SYNTH_AWS_CLOUDFORMATION],
			   "https://cloudformation.eu-west-1.amazonaws.com"),
	      "cloudformation: default");
	CHECK(c && !strcmp(c->endpoint[SYNTH_AWS_SSM], "https://ssm.eu-west-1.amazonaws.com"),
	      "ssm: default");
	CHECK(c && !strcmp(c->endpoint[SYNTH_AWS_STS], "https://sts.eu-west-1.amazonaws.com"),
	      "sts: default (regional)");
	CHECK(c && !strcmp(c->endpoint_source[SYNTH_AWS_STS], "default"), "default: source");
	synth__awsconfig_free(c);

	setenv("AWS_REGION", "cn-north-1", 1);
	c = resolve();
	CHECK(c && !strcmp(c->endpoint[SYNTH_AWS_S3], "https://s3.cn-north-1.amazonaws.com.cn"),
	      "China regions: amazonaws.com.cn");
	synth__awsconfig_free(c);
	setenv("AWS_REGION", "eu-west-1", 1);

	/* AWS_IGNORE_CONFIGURED_ENDPOINT_URLS keeps only --endpoint-url. */
	put(".aws/config", "[default]\nendpoint_url = http://profile.local:1000\n");
	setenv("AWS_ENDPOINT_URL_S3", "http://s3.env:1", 1);
	setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE", 1);
	c = resolve();
	CHECK(c && !strcmp(c->endpoint[SYNTH_AWS_S3], "https://s3.eu-west-1.amazonaws.com") &&
		      !strcmp(c->endpoint[SYNTH_AWS_SSM], "https://ssm.eu-west-1.amazonaws.com"),
	      "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS ignores env and config");
	synth__awsconfig_free(c);
	c = resolve_with(&o);
	CHECK(c && !strcmp(c->endpoint[SYNTH_AWS_S3], "http://127.0.0.1:4566"),
	      "...but not --endpoint-url");
	synth__awsconfig_free(c);
	unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	unsetenv("AWS_ENDPOINT_URL_S3");
	put(".aws/config", "[default]\nendpoint_url = http://profile.local:1000\n"
			   "ignore_configured_endpoint_urls = true\n");
	c = resolve();
	CHECK(c && strstr(c->endpoint[SYNTH_AWS_SSM], "amazonaws.com"),
	      "ignore_configured_endpoint_urls in the profile");
	synth__awsconfig_free(c);

	/* Bad URLs, from each kind of source. */
	put(".aws/config", "[default]\noutput = json\n");
	setenv("AWS_ENDPOINT_URL", "localhost:4566", 1);
	c = resolve();
	CHECK(c == NULL && synth_error_last()->code == SYNTH_EINVALID,
	      "endpoint without a scheme rejected");
	CHECK_HAS(msg(), "invalid endpoint URL \"localhost:4566\" (from AWS_ENDPOINT_URL)",
		  "bad endpoint: value and source");
	setenv("AWS_ENDPOINT_URL", "ftp://example.com", 1);
	CHECK(resolve() == NULL, "ftp:// rejected");
	setenv("AWS_ENDPOINT_URL", "http://", 1);
	CHECK(resolve() == NULL, "empty host rejected");
	setenv("AWS_ENDPOINT_URL", "http://user:pw@host", 1);
	CHECK(resolve() == NULL, "user information rejected");
	setenv("AWS_ENDPOINT_URL", "http://host:99999", 1);
	CHECK(resolve() == NULL, "port out of range rejected");
	setenv("AWS_ENDPOINT_URL", "http://[::1]:4566/base/path", 1);
	c = resolve();
	CHECK(c != NULL, "IPv6 host with port and path accepted (%s)", msg());
	synth__awsconfig_free(c);
	unsetenv("AWS_ENDPOINT_URL");
	o.endpoint_url = "not a url";
	c = resolve_with(&o);
	CHECK(c == NULL && strstr(msg(), "(from --endpoint-url)"), "bad --endpoint-url named");

	put(".aws/config", "[default]\nservices = missing\n");
	c = resolve();
	CHECK(c == NULL && strstr(msg(), "[services missing]"),
	      "services naming a missing section: %s", msg());
}

/* --- credential_process --------------------------------------------------- */

static void test_process(void)
{
	fresh();
	setenv("AWS_REGION", "us-east-1", 1);
	put("bin/ok.sh",
	    "#!/bin/sh\ncat <<EOF\n{\"Version\": 1, \"AccessKeyId\": \"ASIAPROCESS\",\n"
	    " \"SecretAccessKey\": \"%s\", \"SessionToken\": \"%s\",\n"
	    " \"Expiration\": \"2099-01-01T00:00:00.000Z\", \"AccountId\": \"111122223333\"}\nEOF\n",
	    SECRET, TOKEN);
	put("bin/fail.sh", "#!/bin/sh\necho 'credential helper: not logged in' >&2\nexit 3\n");
	put("bin/bad.sh", "#!/bin/sh\necho '{\"Version\": 1, \"SecretAccessKey\": \"%s\" oops'\n",
	    SECRET);
	put("bin/v2.sh", "#!/bin/sh\necho '{\"Version\": 2, \"AccessKeyId\": \"A\", "
			 "\"SecretAccessKey\": \"%s\"}'\n", SECRET);
	put("bin/nosecret.sh", "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"A\"}'\n");
	put("bin/expired.sh", "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"A\", "
			      "\"SecretAccessKey\": \"%s\", \"Expiration\": "
			      "\"2001-01-01T00:00:00+02:00\"}'\n", SECRET);
	put("bin/args.sh", "#!/bin/sh\necho \"{\\\"Version\\\": 1, \\\"AccessKeyId\\\": \\\"$1\\\", "
			   "\\\"SecretAccessKey\\\": \\\"%s\\\"}\"\n", SECRET);
	put(".aws/config",
	    "[profile ok]\ncredential_process = %s\naws_account_id = 999\n"
	    "[profile fail]\ncredential_process = sh %s\n"
	    "[profile bad]\ncredential_process = %s\n"
	    "[profile v2]\ncredential_process = %s\n"
	    "[profile nosecret]\ncredential_process = %s\n"
	    "[profile expired]\ncredential_process = %s\n"
	    "[profile args]\ncredential_process = %s 'AKIA''ARG1' \n"
	    "[profile inline]\ncredential_process = echo '{\"Version\": 1, \"AccessKeyId\": "
	    "\"AKIAINLINE\", \"SecretAccessKey\": \"" SECRET "\"' ; exit 7\n"
	    "[profile cfgkeys]\ncredential_process = %s\naws_access_key_id = AKIACONFIGSTATIC\n"
	    "aws_secret_access_key = %s\n",
	    at("bin/ok.sh"), at("bin/fail.sh"), at("bin/bad.sh"), at("bin/v2.sh"),
	    at("bin/nosecret.sh"), at("bin/expired.sh"), at("bin/args.sh"), at("bin/ok.sh"), SECRET);
	put(".aws/credentials",
	    "[credkeys]\naws_access_key_id = AKIACREDSTATIC\naws_secret_access_key = %s\n", SECRET);

	synth_awsconfig *c = resolve_profile("ok");
	CHECK(c != NULL, "credential_process: resolves (%s)", msg());
	if (c) {
		CHECK_STR(c->creds.access_key_id, "ASIAPROCESS", "process: access key");
		CHECK_STR(c->creds.secret_access_key, SECRET, "process: secret");
		CHECK_STR(c->creds.session_token, TOKEN, "process: token");
		CHECK(c->creds.expires == 4070908800, "process: expiration parsed");
		CHECK_STR(c->creds.account_id, "111122223333", "process: AccountId beats profile");
		CHECK_STR(c->creds.source, "credential_process of profile ok", "process: source");
	}
	synth__awsconfig_free(c);

	/* The process's stderr is ours: catch it in a file for the check. */
	fflush(stderr);
	int saved_err = dup(2);
	int fd = open(at("stderr.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(fd, 2);
	close(fd);
	c = resolve_profile("fail");
	fflush(stderr);
	dup2(saved_err, 2);
	close(saved_err);
	char *err_text = NULL;
	synth_file_read(at("stderr.txt"), &err_text, NULL);
	CHECK_HAS(err_text, "credential helper: not logged in", "process stderr passes through");
	free(err_text);
	CHECK(c == NULL && synth_error_last()->code == SYNTH_ERROR, "process exit 3: error");
	CHECK_HAS(msg(), "credential_process of profile fail", "process failure names the profile");
	CHECK_HAS(msg(), "exited with status 3", "process failure gives the status");

	c = resolve_profile("inline");
	CHECK(c == NULL && strstr(msg(), "exited with status 7"),
	      "inline command holding a secret fails without quoting it: %s", msg());
	c = resolve_profile("bad");
	CHECK(c == NULL && synth_error_last()->code == SYNTH_EINVALID, "process bad JSON: error");
	CHECK_HAS(msg(), "credential_process of profile bad did not print a JSON object",
		  "bad JSON names the profile");
	c = resolve_profile("v2");
	CHECK(c == NULL && strstr(msg(), "Version 1"), "process Version 2 rejected");
	c = resolve_profile("nosecret");
	CHECK(c == NULL && strstr(msg(), "no SecretAccessKey"), "process without secret");
	c = resolve_profile("expired");
	CHECK(c == NULL && strstr(msg(), "expired at"), "process credentials already expired");
	c = resolve_profile("args");
	CHECK(c && !strcmp(c->creds.access_key_id, "AKIAARG1"),
	      "process command run through sh: arguments and quoting (%s)", msg());
	synth__awsconfig_free(c);

	c = resolve_profile("cfgkeys");
	CHECK(c && !strcmp(c->creds.access_key_id, "ASIAPROCESS"),
	      "credential_process beats keys in the config file");
	synth__awsconfig_free(c);
	put(".aws/credentials",
	    "[cfgkeys]\naws_access_key_id = AKIACREDSTATIC\naws_secret_access_key = %s\n", SECRET);
	c = resolve_profile("cfgkeys");
	CHECK(c && !strcmp(c->creds.access_key_id, "AKIACREDSTATIC"),
	      "keys in the credentials file beat credential_process");
	synth__awsconfig_free(c);
}

/* --- AssumeRole ----------------------------------------------------------- */

typedef struct fake {
	int calls;
	char *src_id, *src_secret, *src_token, *arn, *session, *external, *region, *sts;
	int fail;       /* fail with this code */
	bool leak;      /* put the source secret in the failure message */
} fake;

static void fake_reset(fake *f)
{
	free(f->src_id);
	free(f->src_secret);
	free(f->src_token);
	free(f->arn);
	free(f->session);
	free(f->external);
	free(f->region);
	free(f->sts);
	*f = (fake){0};
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int fake_assume(void *ctx, const synth_awsconfig *cfg, const synth_aws_credentials *src,
		       const char *arn, const char *session, const char *external,
		       synth_aws_credentials *out)
{
	fake *f = ctx;
	f->calls++;
	free(f->src_id);
	free(f->src_secret);
	free(f->src_token);
	free(f->arn);
	free(f->session);
	free(f->external);
	free(f->region);
	free(f->sts);
	f->src_id = dup_or_null(src->access_key_id);
	f->src_secret = dup_or_null(src->secret_access_key);
	f->src_token = dup_or_null(src->session_token);
	f->arn = dup_or_null(arn);
	f->session = dup_or_null(session);
	f->external = dup_or_null(external);
	f->region = dup_or_null(cfg->region);
	f->sts = dup_or_null(cfg->endpoint[SYNTH_AWS_STS]);
	if (f->fail) {
		out->access_key_id = strdup("half-filled");
		return synth_error_setf(f->fail, "AccessDenied: not authorized%s%s",
					f->leak ? " with " : "", f->leak ? src->secret_access_key : "");
	}
	char id[32];
	snprintf(id, sizeof id, "ASIAROLE%d", f->calls);
	out->access_key_id = strdup(id);
	out->secret_access_key = strdup("role/" MARK "/secret");
	out->session_token = strdup("role" MARK "token");
	out->expiration = strdup("2099-12-31T23:59:59Z");
	return 0;
}

static void test_assume_role(void)
{
	fresh();
	setenv("AWS_REGION", "us-east-1", 1);
	setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9000", 1);
	put(".aws/credentials", "[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = %s\n"
				"aws_session_token = %s\n", SECRET, TOKEN);
	put(".aws/config",
	    "[profile deploy]\nrole_arn = arn:aws:iam::123456789012:role/Deploy\n"
	    "source_profile = base\nexternal_id = ext-42\nrole_session_name = my-session\n"
	    "[profile chained]\nrole_arn = arn:aws:iam::210987654321:role/Chained\n"
	    "source_profile = deploy\n"
	    "[profile self]\nrole_arn = arn:aws:iam::1:role/Self\nsource_profile = self\n"
	    "aws_access_key_id = AKIASELF\naws_secret_access_key = %s\n"
	    "[profile loop-a]\nrole_arn = arn:aws:iam::1:role/A\nsource_profile = loop-b\n"
	    "[profile loop-b]\nrole_arn = arn:aws:iam::1:role/B\nsource_profile = loop-a\n"
	    "[profile selfloop]\nrole_arn = arn:aws:iam::1:role/S\nsource_profile = selfloop\n"
	    "[profile ghost-src]\nrole_arn = arn:aws:iam::1:role/G\nsource_profile = ghost\n"
	    "[profile envsrc]\nrole_arn = arn:aws:iam::1:role/E\ncredential_source = Environment\n"
	    "[profile ec2]\nrole_arn = arn:aws:iam::1:role/E\ncredential_source = Ec2InstanceMetadata\n"
	    "[profile nosrc]\nrole_arn = arn:aws:iam::1:role/N\n"
	    "[profile both]\nrole_arn = arn:aws:iam::1:role/N\nsource_profile = base\n"
	    "credential_source = Environment\n"
	    "[profile mfa]\nrole_arn = arn:aws:iam::1:role/M\nsource_profile = base\n"
	    "mfa_serial = arn:aws:iam::1:mfa/me\n"
	    "[profile empty-src]\nrole_arn = arn:aws:iam::1:role/X\nsource_profile = empty\n"
	    "[profile empty]\nregion = us-east-1\n",
	    SECRET);

	fake f = {0};
	synth_awsconfig_options o = SYNTH_AWSCONFIG_OPTIONS_INIT;
	o.assume_role = fake_assume;
	o.assume_role_ctx = &f;
	o.now = 1700000000;
	o.profile = "deploy";
	synth_awsconfig *c = resolve_with(&o);
	CHECK(c != NULL, "role: resolves (%s)", msg());
	CHECK(f.calls == 1, "role: callback called once");
	CHECK_STR(f.src_id, "AKIABASE", "role: callback gets the source access key");
	CHECK_STR(f.src_secret, SECRET, "role: callback gets the source secret");
	CHECK_STR(f.src_token, TOKEN, "role: callback gets the source token");
	CHECK_STR(f.arn, "arn:aws:iam::123456789012:role/Deploy", "role: callback gets the ARN");
	CHECK_STR(f.session, "my-session", "role: role_session_name passed");
	CHECK_STR(f.external, "ext-42", "role: external_id passed");
	CHECK_STR(f.region, "us-east-1", "role: region resolved before the call");
	CHECK_STR(f.sts, "http://127.0.0.1:9000", "role: STS endpoint resolved before the call");
	if (c) {
		CHECK_STR(c->creds.access_key_id, "ASIAROLE1", "role: result credentials");
		CHECK(c->creds.expires == 4102444799, "role: expiration parsed");
		CHECK_HAS(c->creds.source, "arn:aws:iam::123456789012:role/Deploy",
			  "role: source names the role");
		CHECK_HAS(c->creds.source, "[base]", "role: source names the source profile");
	}
	synth__awsconfig_free(c);

	/* Env credentials do not leak into a --profile role chain... */
	env_keys();
	fake_reset(&f);
	o.profile = "chained";
	c = resolve_with(&o);
	CHECK(c != NULL && f.calls == 2, "chained role: two AssumeRole calls (%s)", msg());
	CHECK_STR(f.src_id, "ASIAROLE1", "chained role: second call signed with the first role");
	CHECK_STR(f.arn, "arn:aws:iam::210987654321:role/Chained", "chained role: outer ARN last");
	CHECK_STR(f.session, "synth-session-1700000000", "default session name");
	CHECK(f.external == NULL, "no external_id: NULL");
	CHECK(c && !strcmp(c->creds.access_key_id, "ASIAROLE2"), "chained role: result");
	synth__awsconfig_free(c);

	fake_reset(&f);
	o.profile = "self";
	c = resolve_with(&o);
	CHECK(c && f.calls == 1 && f.src_id && !strcmp(f.src_id, "AKIASELF"),
	      "a profile may source its own static keys (%s)", msg());
	synth__awsconfig_free(c);

	fake_reset(&f);
	o.profile = "loop-a";
	c = resolve_with(&o);
	CHECK(c == NULL && synth_error_last()->code == SYNTH_ECYCLE, "source_profile cycle");
	CHECK_HAS(msg(), "loop-a -> loop-b -> loop-a", "cycle message names each step");
	CHECK(f.calls == 0, "cycle: no AssumeRole call");
	o.profile = "selfloop";
	c = resolve_with(&o);
	CHECK(c == NULL && synth_error_last()->code == SYNTH_ECYCLE,
	      "self-reference without static keys is a cycle");

	o.profile = "ghost-src";
	c = resolve_with(&o);
	CHECK(c == NULL && synth_error_last()->code == SYNTH_ENOTFOUND,
	      "missing source_profile: not found");
	CHECK_HAS(msg(), "source_profile \"ghost\" of profile ghost-src does not exist",
		  "missing source_profile named");

	fake_reset(&f);
	o.profile = "envsrc";
	c = resolve_with(&o);
	CHECK(c && f.src_id && !strcmp(f.src_id, "AKIAENVIRONMENT1"),
	      "credential_source = Environment");
	synth__awsconfig_free(c);
	o.profile = "ec2";
	CHECK(resolve_with(&o) == NULL && strstr(msg(), "not supported"),
	      "credential_source Ec2InstanceMetadata: unsupported");
	o.profile = "nosrc";
	CHECK(resolve_with(&o) == NULL && strstr(msg(), "neither source_profile"),
	      "role_arn without a source");
	o.profile = "both";
	CHECK(resolve_with(&o) == NULL && strstr(msg(), "both source_profile and credential_source"),
	      "source_profile and credential_source together");
	o.profile = "mfa";
	CHECK(resolve_with(&o) == NULL && strstr(msg(), "mfa_serial"), "mfa_serial: unsupported");
	o.profile = "empty-src";
	c = resolve_with(&o);
	CHECK(c == NULL && synth_error_last()->code == SYNTH_ENOTFOUND &&
		      strstr(msg(), "source profile empty of profile empty-src: no credentials"),
	      "source profile without credentials: %s", msg());

	fake_reset(&f);
	f.fail = SYNTH_ERROR;
	o.profile = "deploy";
	c = resolve_with(&o);
	CHECK(c == NULL && synth_error_last()->code == SYNTH_ERROR, "AssumeRole failure fails");
	CHECK_HAS(msg(), "assuming role arn:aws:iam::123456789012:role/Deploy for profile deploy: "
			 "AccessDenied", "AssumeRole failure: role, profile and cause");
	f.leak = true;
	c = resolve_with(&o); /* resolve_with checks the secret is withheld */
	CHECK(c == NULL && strstr(msg(), "withheld"), "a callback message with the secret is withheld");
	fake_reset(&f);

	o.assume_role = NULL;
	c = resolve_with(&o);
	CHECK(c == NULL && strstr(msg(), "no STS client"), "role without a callback: error");
}

/* --- missing things ------------------------------------------------------- */

static void test_missing(void)
{
	fresh();
	setenv("AWS_REGION", "us-east-1", 1);
	synth_awsconfig *c = resolve();
	CHECK(c == NULL && synth_error_last()->code == SYNTH_ENOTFOUND, "nothing anywhere");
	char want[9000];
	snprintf(want, sizeof want,
		 "no AWS credentials: not in the environment (AWS_ACCESS_KEY_ID), not in %s "
		 "[default] (no such file), not in %s [default] (no such file)",
		 at(".aws/credentials"), at(".aws/config"));
	CHECK_STR(msg(), want, "missing credentials: names every place looked at");

	put(".aws/credentials", "[default]\nregion = us-east-1\n");
	put(".aws/config", "[default]\noutput = json\n");
	c = resolve();
	CHECK(c == NULL && !strstr(msg(), "no such file") && strstr(msg(), at(".aws/config")),
	      "existing files without keys: named without '(no such file)'");

	put(".aws/config", "[profile dev]\noutput = json\n");
	c = resolve_profile("dev");
	CHECK(c == NULL && strstr(msg(), "for profile dev (from --profile") &&
		      strstr(msg(), "[profile dev]"),
	      "missing credentials for --profile: %s", msg());

	c = resolve_profile("ghost");
	CHECK(c == NULL && synth_error_last()->code == SYNTH_ENOTFOUND, "unknown --profile");
	CHECK_HAS(msg(), "AWS profile \"ghost\" (from --profile) not found", "unknown profile named");
	CHECK_HAS(msg(), at(".aws/credentials"), "unknown profile: names the credentials file");
	CHECK_HAS(msg(), at(".aws/config"), "unknown profile: names the config file");
	env_keys();
	setenv("AWS_PROFILE", "ghost", 1);
	c = resolve();
	CHECK(c == NULL && strstr(msg(), "(from AWS_PROFILE) not found"),
	      "unknown AWS_PROFILE is an error even with env credentials");
	unsetenv("AWS_PROFILE");
	c = resolve();
	CHECK(c != NULL, "no [default] anywhere is fine with env credentials");
	synth__awsconfig_free(c);
	synth_awsconfig_options o = SYNTH_AWSCONFIG_OPTIONS_INIT;
	o.profile = "";
	CHECK(resolve_with(&o) == NULL && strstr(msg(), "empty AWS profile"), "empty --profile");
	/* AWS_PROFILE="" is not the default profile: the AWS CLI refuses it. */
	setenv("AWS_PROFILE", "", 1);
	c = resolve();
	CHECK(c == NULL && synth_error_last()->code == SYNTH_EINVALID,
	      "AWS_PROFILE set but empty: an error even with env credentials");
	CHECK_HAS(msg(), "AWS_PROFILE is set but empty", "empty AWS_PROFILE: says so");
	CHECK_HAS(msg(), "unset it", "empty AWS_PROFILE: the way out");
	c = resolve_profile("dev");
	CHECK(c != NULL || !strstr(msg(), "AWS_PROFILE"),
	      "empty AWS_PROFILE: --profile still wins (%s)", msg());
	synth__awsconfig_free(c);
	unsetenv("AWS_PROFILE");

	/* A half-filled credentials file. */
	fresh();
	setenv("AWS_REGION", "us-east-1", 1);
	put(".aws/credentials", "[default]\naws_access_key_id = AKIAHALF\n");
	c = resolve();
	CHECK(c == NULL && synth_error_last()->code == SYNTH_EINVALID, "key without secret: error");
	snprintf(want, sizeof want, "%s:2: partial credentials for profile default: [default] "
				    "has aws_access_key_id but no aws_secret_access_key",
		 at(".aws/credentials"));
	CHECK_STR(msg(), want, "key without secret: file, line, profile, section");
	put(".aws/credentials", "[default]\n\naws_secret_access_key = %s\n", SECRET);
	c = resolve();
	CHECK(c == NULL && strstr(msg(), ":3: partial credentials for profile default: [default] "
					  "has aws_secret_access_key but no aws_access_key_id"),
	      "secret without key: %s", msg());

	/* Half a pair is reported as such, not as "no AWS region" (botocore
	 * finds credentials before it asks for a region); never a value. */
	unsetenv("AWS_REGION");
	c = resolve();
	CHECK(c == NULL && synth_error_last()->code == SYNTH_EINVALID &&
		      strstr(msg(), "partial credentials for profile default") &&
		      strstr(msg(), "but no aws_access_key_id") && !strstr(msg(), "region"),
	      "secret without key and no region: the partial pair is reported (%s)", msg());
	put(".aws/credentials", "[default]\naws_access_key_id = AKIAHALFKEYID\n");
	c = resolve();
	CHECK(c == NULL && strstr(msg(), "but no aws_secret_access_key") &&
		      !strstr(msg(), "AKIAHALFKEYID") && !strstr(msg(), "region"),
	      "key without secret and no region: reported, the key id not shown (%s)", msg());
	put(".aws/credentials", "[other]\nregion = x\n");
	put(".aws/config", "[profile dev]\naws_access_key_id = AKIAHALFKEYID\n");
	c = resolve_profile("dev");
	CHECK(c == NULL && strstr(msg(), ":2: partial credentials for profile dev: [profile dev] "
					  "has aws_access_key_id but no aws_secret_access_key"),
	      "config file: key without secret, no region: %s", msg());
	setenv("AWS_PROFILE", "dev", 1);
	c = resolve();
	CHECK(c == NULL && strstr(msg(), "partial credentials for profile dev"),
	      "config file via AWS_PROFILE: %s", msg());
	/* Env credentials come first (without --profile): the profile's half
	 * pair is never looked at, so the missing region is the error. */
	env_keys();
	c = resolve();
	CHECK(c == NULL && strstr(msg(), "no AWS region"),
	      "env keys first: the profile's partial pair does not matter (%s)", msg());
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	c = resolve();
	CHECK(c == NULL && strstr(msg(), "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"),
	      "env key without secret and no region: reported (%s)", msg());
	unsetenv("AWS_ACCESS_KEY_ID");
	/* A credential_process before the config file's keys: not partial. */
	put(".aws/config", "[profile dev]\naws_access_key_id = AKIAHALFKEYID\n"
			   "credential_process = true\n");
	c = resolve_profile("dev");
	CHECK(c == NULL && strstr(msg(), "no AWS region"),
	      "credential_process first: the config file's half pair is not reached (%s)", msg());
	setenv("AWS_REGION", "us-east-1", 1);
	put(".aws/config", "");
	put(".aws/credentials", "[default]\naws_access_key_id =\naws_secret_access_key = %s\n",
	    SECRET);
	c = resolve();
	CHECK(c == NULL && strstr(msg(), ":2: aws_access_key_id is empty"), "empty key id");
	put(".aws/credentials", "[default]\naws_access_key_id = AKIA\naws_secret_access_key = "
				"%s extra words\n", SECRET);
	c = resolve();
	CHECK(c == NULL && strstr(msg(), ":3: aws_secret_access_key is empty or contains white"),
	      "secret with spaces: %s", msg());

	fresh();
	setenv("AWS_REGION", "us-east-1", 1);
	put(".aws/config", "[profile sso]\nsso_session = corp\nsso_account_id = 1\n"
			   "[profile web]\nrole_arn = arn:aws:iam::1:role/W\n"
			   "web_identity_token_file = /tmp/token\n");
	c = resolve_profile("sso");
	CHECK(c == NULL && strstr(msg(), "IAM Identity Center"), "SSO profile: unsupported");
	c = resolve_profile("web");
	CHECK(c == NULL && strstr(msg(), "web_identity_token_file"), "web identity: unsupported");
}

/* --- malformed files ------------------------------------------------------ */

static void expect_bad(const char *rel, const char *text, unsigned line, const char *what)
{
	fresh();
	env_keys();
	setenv("AWS_REGION", "us-east-1", 1);
	put(rel, "%s", text);
	synth_awsconfig *c = resolve();
	char want[4200];
	snprintf(want, sizeof want, "%s:%u: ", at(rel), line);
	CHECK(c == NULL && synth_error_last()->code == SYNTH_EINVALID &&
		      strncmp(msg(), want, strlen(want)) == 0,
	      "%s: error at %s:%u (%s)", what, rel, line, msg());
	synth__awsconfig_free(c);
}

static void test_malformed(void)
{
	expect_bad(".aws/config", "[default]\nregion = us-east-1\nthis is garbage\n", 3,
		   "garbage line in config");
	expect_bad(".aws/credentials", "# comment\n[default]\n\n" SECRET "\n", 4,
		   "bare secret line in credentials");
	CHECK(!strstr(msg(), MARK), "the bad line is not quoted");
	expect_bad(".aws/config", "region = us-east-1\n[default]\n", 1, "setting before a section");
	expect_bad(".aws/config", "[default\nregion = x\n", 1, "unterminated section header");
	expect_bad(".aws/config", "[   ]\n", 1, "empty section name");
	expect_bad(".aws/config", "[default]\n= value\n", 2, "setting without a name");
	expect_bad(".aws/config", "[default]\ns3 =\n  addressing_style = path\n  garbage\n", 4,
		   "nested block line without '='");
	expect_bad(".aws/config", "[default]\r\nregion = a\r\nbroken\r\n", 3, "CRLF line numbers");
	fresh();
	env_keys();
	setenv("AWS_REGION", "us-east-1", 1);
	put_bytes(".aws/config", "[default]\nregion\0 = x\n", 20);
	CHECK(resolve() == NULL && strstr(msg(), ":2: NUL byte"), "NUL byte: %s", msg());

	/* A directory where the file should be: treated as absent. */
	fresh();
	env_keys();
	setenv("AWS_REGION", "us-east-1", 1);
	synth__mkdir_p(at(".aws/config"));
	synth_awsconfig *c = resolve();
	CHECK(c != NULL, "a directory in place of the config file is ignored (%s)", msg());
	synth__awsconfig_free(c);
	unsetenv("AWS_ACCESS_KEY_ID");
	c = resolve();
	CHECK(c == NULL && strstr(msg(), "[default] (a directory, not read)"),
	      "a directory in place of the config file: said so, not \"no such file\" (%s)",
	      msg());
}

/* --- files that are not regular files ----------------------------------- */

static void test_special_files(void)
{
	/* /dev/null is an empty file: nothing in it, but it is there. */
	fresh();
	setenv("AWS_REGION", "us-east-1", 1);
	setenv("AWS_CONFIG_FILE", "/dev/null", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null", 1);
	synth_awsconfig *c = resolve();
	CHECK(c == NULL && synth_error_last()->code == SYNTH_ENOTFOUND,
	      "/dev/null: no credentials in it");
	CHECK_STR(msg(), "no AWS credentials: not in the environment (AWS_ACCESS_KEY_ID), not in "
			 "/dev/null [default], not in /dev/null [default]",
		  "/dev/null: named as an empty file, not as \"no such file\"");
	setenv("AWS_PROFILE", "dev", 1);
	c = resolve();
	CHECK(c == NULL && strstr(msg(), "no [dev] in /dev/null, no [profile dev] in /dev/null") &&
		      !strstr(msg(), "no such file"),
	      "/dev/null: an unknown profile, without \"no such file\" (%s)", msg());
	unsetenv("AWS_PROFILE");
	env_keys();
	c = resolve();
	CHECK(c != NULL, "/dev/null for both files: env credentials resolve (%s)", msg());
	synth__awsconfig_free(c);
	unsetenv("AWS_REGION");
	c = resolve();
	CHECK(c == NULL && strstr(msg(), "no region in /dev/null [default] or /dev/null [default]"),
	      "/dev/null: no region in it (%s)", msg());
	setenv("AWS_REGION", "us-east-1", 1);

	/* A pipe holds a file's text (AWS_CONFIG_FILE=<(...) in a shell). */
	int fds[2];
	if (pipe(fds) == 0) {
		const char *text = "[profile piped]\nregion = eu-west-3\n";
		CHECK(write(fds[1], text, strlen(text)) == (ssize_t)strlen(text), "pipe written");
		close(fds[1]);
		char path[64];
		snprintf(path, sizeof path, "/dev/fd/%d", fds[0]);
		setenv("AWS_CONFIG_FILE", path, 1);
		unsetenv("AWS_REGION");
		c = resolve_profile("piped");
		CHECK(c == NULL && strstr(msg(), "no AWS credentials for profile piped"),
		      "a pipe as the config file: its profile is found (%s)", msg());
		close(fds[0]);
		setenv("AWS_REGION", "us-east-1", 1);
	}
	/* An endless device ends with an error, not with all the memory. */
	setenv("AWS_CONFIG_FILE", "/dev/zero", 1);
	c = resolve();
	CHECK(c == NULL && strstr(msg(), "/dev/zero is larger than 16 MiB"),
	      "/dev/zero: refused (%s)", msg());
	unsetenv("AWS_CONFIG_FILE");
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
}

/* --- the INI reader itself ------------------------------------------------ */

static synth_aws_ini *ini_of(const char *text)
{
	synth_aws_ini *ini = NULL;
	if (synth__aws_ini_parse(&ini, "t.ini", text, strlen(text)) < 0)
		printf("#   parse error: %s\n", msg());
	return ini;
}

static void test_ini(void)
{
	synth_aws_ini *ini = ini_of(
		"\xEF\xBB\xBF# leading comment\n"
		"; another\n"
		"  [ default ]   ; trailing text ignored\n"
		"Region = us-east-1\n"
		"   # indented comment\n"
		"output: json\n"
		"REGION=eu-west-1\n"
		"empty =\n"
		"\n"
		"[other]\r\n"
		"key = a\r"
		"  continued\r\n"
		"\r\n"
		"  more\n"
		"s3 =\n"
		"  Max_Concurrent_Requests = 20\n"
		"\n"
		"  addressing_style = path\n"
		"after = 1\n"
		"[default]\n"
		"  key2 = indented key after a header\n"
		"output = text\n"
		"url = http://h:1/p?a=b\n");
	CHECK(ini != NULL, "ini: parses");
	unsigned line = 0;
	CHECK_STR(synth__aws_ini_get(ini, "default", "region", NULL, &line), "eu-west-1",
		  "ini: keys lowercased, last value wins, BOM skipped, header trimmed");
	CHECK(line == 7, "ini: line of the last value (%u)", line);
	CHECK_STR(synth__aws_ini_get(ini, "default", "output", NULL, NULL), "text",
		  "ini: repeated section: last value wins; ':' delimiter");
	CHECK_STR(synth__aws_ini_get(ini, "default", "empty", NULL, NULL), "", "ini: empty value");
	CHECK_STR(synth__aws_ini_get(ini, "other", "key", NULL, NULL), "a\ncontinued\n\nmore",
		  "ini: continuation lines (CR, CRLF, blank line kept inside)");
	CHECK_STR(synth__aws_ini_get(ini, "other", "s3", "max_concurrent_requests", &line), "20",
		  "ini: nested block");
	CHECK(line == 16, "ini: nested line number (%u)", line);
	CHECK_STR(synth__aws_ini_get(ini, "other", "s3", "addressing_style", NULL), "path",
		  "ini: nested block across a blank line");
	CHECK_STR(synth__aws_ini_get(ini, "other", "after", NULL, NULL), "1",
		  "ini: dedent ends the block");
	CHECK_STR(synth__aws_ini_get(ini, "default", "key2", NULL, NULL),
		  "indented key after a header", "ini: indentation after a header is a key");
	CHECK_STR(synth__aws_ini_get(ini, "default", "url", NULL, NULL), "http://h:1/p?a=b",
		  "ini: first delimiter splits, the rest is the value");
	CHECK(synth__aws_ini_get(ini, "Default", "region", NULL, NULL) == NULL,
	      "ini: section names are case-sensitive");
	CHECK(synth__aws_ini_get(ini, "default", "nope", NULL, NULL) == NULL, "ini: absent key");
	synth__aws_ini_free(ini);

	ini = ini_of("[a]\nk = v # not a comment\n");
	CHECK(ini && !strcmp(synth__aws_ini_get(ini, "a", "k", NULL, NULL), "v # not a comment"),
	      "ini: no inline comments in values (as the CLI)");
	synth__aws_ini_free(ini);
	ini = ini_of("");
	CHECK(ini != NULL, "ini: empty file");
	synth__aws_ini_free(ini);
	ini = ini_of("[a]\nk=v");
	CHECK(ini && !strcmp(synth__aws_ini_get(ini, "a", "k", NULL, NULL), "v"),
	      "ini: no final newline");
	synth__aws_ini_free(ini);
}

/* --- allocation failure --------------------------------------------------- */

#if CHAOS
static int chaos_assume(void *ctx, const synth_awsconfig *cfg, const synth_aws_credentials *src,
			const char *arn, const char *session, const char *external,
			synth_aws_credentials *out)
{
	(void)ctx, (void)cfg, (void)src, (void)arn, (void)session, (void)external;
	out->access_key_id = strdup("ASIACHAOS");
	out->secret_access_key = strdup("chaos/" MARK);
	out->expiration = strdup("2099-01-01T00:00:00Z");
	if (!out->access_key_id || !out->secret_access_key || !out->expiration)
		return synth_error_oom();
	return 0;
}

/* One resolve + summary + free; its result code. */
static int chaos_once(const char *profile)
{
	synth_awsconfig_options o = SYNTH_AWSCONFIG_OPTIONS_INIT;
	o.profile = profile;
	o.assume_role = chaos_assume;
	o.now = 1700000000;
	synth_awsconfig *c = NULL;
	int rc = synth__awsconfig_resolve(&c, &o);
	if (c) {
		char *d = synth__awsconfig_describe(c);
		if (!d)
			rc = SYNTH_ENOMEM;
		free(d);
	}
	synth__awsconfig_free(c);
	return rc;
}

static void test_chaos(void)
{
	/* Under valgrind, its malloc replaces ours: nothing to inject. */
	tracking = 1;
	count = 0;
	free(malloc(1));
	tracking = 0;
	if (count == 0) {
		printf("# allocation failure cases skipped: malloc is not interposed here\n");
		return;
	}
	fresh();
	put("bin/ok.sh", "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"ASIAP\", "
			 "\"SecretAccessKey\": \"%s\", \"SessionToken\": \"%s\"}'\n",
	    SECRET, TOKEN);
	put(".aws/credentials", "[base]\naws_access_key_id = AKIABASE\n"
				"aws_secret_access_key = %s\n", SECRET);
	put(".aws/config",
	    "# chaos\n[profile role]\nregion = eu-west-1\nservices = local\n"
	    "role_arn = arn:aws:iam::1:role/R\nsource_profile = proc\n"
	    "[profile proc]\ncredential_process = sh %s\n"
	    "[profile chain]\nregion = eu-west-1\nrole_arn = arn:aws:iam::1:role/C\n"
	    "source_profile = role\nendpoint_url = http://localhost:1\n"
	    "[profile nocreds]\nregion = eu-west-1\noutput =\n  a = b\n  c = d\n"
	    "[services local]\ns3 =\n  endpoint_url = http://s3.local:1\n"
	    "[profile base]\nregion = us-east-1\n",
	    at("bin/ok.sh"));
	static const struct {
		const char *profile;
		int want;
	} runs[] = {{"role", 0}, {"chain", 0}, {"base", 0}, {"nocreds", SYNTH_ENOTFOUND},
		    {"ghost", SYNTH_ENOTFOUND}};
	for (size_t r = 0; r < sizeof runs / sizeof *runs; r++) {
		const char *p = runs[r].profile;
		int rc = chaos_once(p);
		CHECK(rc == runs[r].want, "chaos %s: an untroubled run gives %d (%d: %s)", p,
		      runs[r].want, rc, msg());
		tracking = 1;
		count = live = 0;
		rc = chaos_once(p);
		tracking = 0;
		long total = count;
		CHECK(rc == runs[r].want && live == 0 && total > 0,
		      "chaos %s: a tracked run frees everything (%ld allocations, %ld live)", p,
		      total, live);
		long leaks = 0, wrong = 0, leaked_secret = 0, in_jansson = 0;
		for (long n = 1; n <= total; n++) {
			count = live = 0;
			fail_at = n;
			failed_in_jansson = false;
			tracking = 1;
			rc = chaos_once(p);
			tracking = 0;
			fail_at = -1;
			if (live != 0 && leaks++ == 0)
				printf("#   %s: failing allocation %ld leaks %ld blocks\n", p, n, live);
			/* jansson may report its own failed allocation as a syntax
			 * error or drop a member: the process output is then "bad". */
			bool ok = rc == runs[r].want || rc == SYNTH_ENOMEM ||
				  (failed_in_jansson && rc == SYNTH_EINVALID &&
				   strstr(msg(), "credential_process of profile proc"));
			in_jansson += failed_in_jansson;
			if (!ok && wrong++ == 0)
				printf("#   %s: failing allocation %ld gives %d: %s\n", p, n, rc, msg());
			leaked_secret += strstr(msg(), MARK) != NULL;
		}
		CHECK(leaks == 0, "chaos %s: no leak when any of %ld allocations fails", p, total);
		CHECK(wrong == 0,
		      "chaos %s: every failure is ENOMEM or the expected result (%ld of them "
		      "inside jansson)",
		      p, in_jansson);
		CHECK(leaked_secret == 0, "chaos %s: no secret in any message", p);
	}
}
#endif

/* --- the summary ---------------------------------------------------------- */

static void test_describe(void)
{
	fresh();
	setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE", 1);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
	setenv("AWS_SESSION_TOKEN", TOKEN, 1);
	setenv("AWS_REGION", "eu-west-1", 1);
	synth_awsconfig *c = resolve();
	char *d = c ? synth__awsconfig_describe(c) : NULL;
	CHECK(d != NULL, "describe: text");
	CHECK_HAS(d, "****************MPLE (environment)", "describe: key masked to 4 characters");
	CHECK(d && !strstr(d, "AKIAIOSFODNN7EXAMPLE"), "describe: full key id not shown");
	CHECK(d && !strstr(d, SECRET) && !strstr(d, TOKEN), "describe: no secret, no token");
	CHECK_HAS(d, "session token  yes", "describe: says a token is present");
	CHECK_HAS(d, "cloudformation https://cloudformation.eu-west-1.amazonaws.com (default)",
		  "describe: endpoints with sources");
	free(d);
	synth__awsconfig_free(c);

	synth_aws_credentials cr = {0};
	cr.secret_access_key = strdup("x");
	cr.source = strdup("y");
	synth__aws_credentials_clear(&cr);
	CHECK(cr.secret_access_key == NULL && cr.source == NULL, "credentials_clear zeroes");
	synth__aws_credentials_clear(NULL);
	synth__awsconfig_free(NULL);
	CHECK(!strcmp(synth__aws_service_id(SYNTH_AWS_CLOUDFORMATION), "cloudformation") &&
		      synth__aws_service_id(SYNTH_AWS_NSERVICES) == NULL,
	      "service ids");
}

int main(void)
{
	for (size_t i = 0; VARS[i]; i++)
		saved[i] = getenv(VARS[i]) ? strdup(getenv(VARS[i])) : NULL;

	test_env();
	test_profiles();
	test_file_overrides();
	test_region();
	test_max_attempts();
	test_endpoints();
	test_process();
	test_assume_role();
	test_missing();
	test_malformed();
	test_special_files();
	test_ini();
	test_describe();
#if CHAOS
	test_chaos();
#endif

	if (home) {
		synth__rm_rf(home);
		free(home);
	}
	for (size_t i = 0; VARS[i]; i++) {
		if (saved[i])
			setenv(VARS[i], saved[i], 1);
		else
			unsetenv(VARS[i]);
		free(saved[i]);
	}
	return check_failed ? 1 : 0;
}
