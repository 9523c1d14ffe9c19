/*
 * The AWS client of the CLI's AWS commands (publish, bootstrap, outputs,
 * deploy, destroy, diff, sandbox, secret): the flags they share and the
 * client made from them. Credentials, region and endpoints are resolved as
 * the AWS CLI does (lib/aws/awsconfig.c) before any request.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../lib/aws/awsconfig.h"
#include "aws_client.h"
#include "synth.h"
#include "cli.h"

/* STS AssumeRole for role profiles, signed with the source credentials. */
static int assume_role(void *ctx, const synth_awsconfig *cfg, const synth_aws_credentials *src,
		       const char *role_arn, const char *session, const char *external_id,
		       synth_aws_credentials *out)
{
	(void)ctx;
	synth_aws_config ac = {.http = {.max_attempts = cfg->max_attempts},
			       .region = cfg->region, .access_key_id = src->access_key_id,
			       .secret_access_key = src->secret_access_key,
			       .session_token = src->session_token,
			       .endpoint_sts = synth__awsconfig_endpoint(cfg, "sts")};
	synth_aws *a = NULL;
	int rc = synth_aws_new(&a, &ac);
	synth_sigv4_pair p[3] = {{"RoleArn", role_arn}, {"RoleSessionName", session},
				 {"ExternalId", external_id}};
	json_t *r = NULL;
	if (rc == 0)
		rc = synth_aws_query(a, "sts", "AssumeRole", p, external_id ? 3 : 2, &r);
	json_t *c = json_object_get(r, "Credentials");
	const char *ak = json_string_value(json_object_get(c, "AccessKeyId"));
	const char *sk = json_string_value(json_object_get(c, "SecretAccessKey"));
	const char *tk = json_string_value(json_object_get(c, "SessionToken"));
	const char *ex = json_string_value(json_object_get(c, "Expiration"));
	if (rc == 0 && (!ak || !sk))
		rc = synth_error_setf(SYNTH_ERROR, "sts AssumeRole: no credentials in the answer");
	if (rc == 0) {
		out->access_key_id = strdup(ak);
		out->secret_access_key = strdup(sk);
		out->session_token = tk ? strdup(tk) : NULL;
		out->expiration = ex ? strdup(ex) : NULL;
	}
	json_decref(r);
	synth_aws_free(a);
	return rc;
}

int cli_aws_flag(cli_aws_flags *f, int argc, char **argv, int *i, const char *cmd)
{
	const char *a = argv[*i];
	const char **slot = !strcmp(a, "--profile") ? &f->profile
			    : !strcmp(a, "--region") ? &f->region
			    : !strcmp(a, "--endpoint-url") ? &f->endpoint_url : NULL;
	if (!slot)
		return 0;
	if (*i + 1 >= argc || !*argv[*i + 1]) {
		fprintf(stderr, "synth %s: error: %s needs a value\n", cmd, a);
		return EXIT_USAGE;
	}
	*slot = argv[++*i];
	return 1;
}

int cli_aws_client(const cli_aws_flags *f, synth_aws **out)
{
	synth_awsconfig_options ao = {.profile = f->profile, .region = f->region,
				      .endpoint_url = f->endpoint_url, .assume_role = assume_role};
	synth_awsconfig *cfg = NULL;
	if (synth__awsconfig_resolve(&cfg, &ao) < 0) {
		fprintf(stderr, "synth: error: %s\n", synth_error_last()->message);
		return -1;
	}
	/* AWS_MAX_ATTEMPTS or the profile's max_attempts, as the AWS CLI reads
	 * them (checked by the resolver; 0: the standard mode's 3). */
	synth_aws_config ac = {
		.http = {.max_attempts = cfg->max_attempts},
		.region = cfg->region, .access_key_id = cfg->creds.access_key_id,
		.secret_access_key = cfg->creds.secret_access_key,
		.session_token = cfg->creds.session_token,
		.endpoint_s3 = synth__awsconfig_endpoint(cfg, "s3"),
		.endpoint_cloudformation = synth__awsconfig_endpoint(cfg, "cloudformation"),
		.endpoint_sts = synth__awsconfig_endpoint(cfg, "sts"),
		.endpoint_ssm = synth__awsconfig_endpoint(cfg, "ssm")};
	int rc = synth_aws_new(out, &ac);
	synth__awsconfig_free(cfg);
	if (rc < 0)
		fprintf(stderr, "synth: error: %s\n", synth_error_last()->message);
	return rc;
}
