/*
 * The synth subcommands that talk to AWS outside a deployment: `publish`
 * (the assembly's assets to the bootstrap bucket), `bootstrap` (that
 * bucket, until the CDKToolkit stack can be deployed) and `outputs` (the
 * client configuration). The client is cli/aws_client.c's.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../lib/aws/publish.h"
#include "../lib/deploy/clientconfig.h"
#include "../lib/deploy/deploy.h"
#include "aws_client.h"
#include "synth.h"
#include "synth/sys/contract.h"
#include "cli.h"

typedef struct aws_opts {
	const char *out, *profile, *region, *endpoint_url;
	int parallel;
	bool quiet;
} aws_opts;

static int parse(int argc, char **argv, aws_opts *o, const char *cmd)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		const char **slot = !strcmp(a, "--out") ? &o->out
				    : !strcmp(a, "--profile") ? &o->profile
				    : !strcmp(a, "--region") ? &o->region
				    : !strcmp(a, "--endpoint-url") ? &o->endpoint_url : NULL;
		if (slot) {
			if (!v || !*v) {
				fprintf(stderr, "synth %s: error: %s needs a value\n", cmd, a);
				return EXIT_USAGE;
			}
			*slot = v;
			i++;
		} else if (!strcmp(a, "--parallel") && v) {
			o->parallel = atoi(v);
			i++;
			if (o->parallel < 1 || o->parallel > 16) {
				fprintf(stderr, "synth %s: error: --parallel must be 1..16\n", cmd);
				return EXIT_USAGE;
			}
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			o->quiet = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			printf("usage: synth %s [--out DIR] [--profile P] [--region R] "
			       "[--endpoint-url URL]%s [-q]\n", cmd,
			       strcmp(cmd, "publish") ? "" : " [--parallel N]");
			return -1;
		} else {
			fprintf(stderr, "synth %s: error: unknown argument '%s'\n", cmd, a);
			return EXIT_USAGE;
		}
	}
	return 0;
}

static int client(const aws_opts *o, synth_aws **out)
{
	cli_aws_flags f = {.profile = o->profile, .region = o->region,
			   .endpoint_url = o->endpoint_url};
	return cli_aws_client(&f, out);
}

int cli_publish(int argc, char **argv)
{
	aws_opts o = {.out = "cdk.out"};
	int prc = parse(argc, argv, &o, "publish");
	if (prc)
		return prc < 0 ? EXIT_OK : prc;
	synth_aws *a = NULL;
	if (client(&o, &a) < 0)
		return EXIT_USAGE;
	synth_publish_options po = {.parallel = o.parallel, .tty = !o.quiet && isatty(2),
				    .log = stderr};
	FILE *devnull = NULL;
	if (o.quiet)
		po.log = devnull = fopen("/dev/null", "w");
	synth_publish_result res;
	int rc = synth_publish_assets(a, o.out, &po, &res);
	if (devnull)
		fclose(devnull);
	synth_aws_free(a);
	if (rc < 0) {
		const char *m = synth_error_last()->message;
		fprintf(stderr, "synth publish: error: %s\n", m);
		if (strstr(m, "NoSuchBucket"))
			fprintf(stderr, "synth publish: the asset bucket does not exist: run "
					"`synth bootstrap` once for this account and region\n");
		if (!res.assets)
			fprintf(stderr, "synth publish: nothing was uploaded (the assets are read "
					"and checked before the first upload)\n");
		else
			fprintf(stderr, "synth publish: %zu of %zu assets failed (%zu uploaded, %zu "
					"already in the bucket); run it again to send the rest "
					"(what is there is skipped)\n",
				res.failed, res.assets, res.uploaded, res.skipped);
		return EXIT_SYNTH;
	}
	printf("published %zu assets: %zu uploaded (%.1f KB), %zu already in the bucket\n",
	       res.assets, res.uploaded, res.bytes_uploaded / 1024.0, res.skipped);
	return EXIT_OK;
}

int cli_bootstrap(int argc, char **argv)
{
	aws_opts o = {.out = "cdk.out"};
	int prc = parse(argc, argv, &o, "bootstrap");
	if (prc)
		return prc < 0 ? EXIT_OK : prc;
	synth_aws *a = NULL;
	if (client(&o, &a) < 0)
		return EXIT_USAGE;
	char *account = NULL;
	int rc = synth_aws_account_id(a, &account);
	char *bucket = rc == 0 ? synth_asprintf(SYNTH_ASSET_BUCKET_FMT, account,
						 synth_aws_region(a))
			       : NULL;
	bool created = false;
	if (rc == 0)
		rc = bucket ? synth_s3_ensure_bucket(a, bucket, &created) : synth_error_oom();
	if (rc < 0)
		fprintf(stderr, "synth bootstrap: error: %s\n", synth_error_last()->message);
	else
		printf("%s s3://%s (account %s, region %s)\n",
		       created ? "created the asset bucket" : "the asset bucket is ready:", bucket,
		       account, synth_aws_region(a));
	free(account);
	free(bucket);
	synth_aws_free(a);
	return rc < 0 ? EXIT_SYNTH : EXIT_OK;
}

/* synth outputs --branch NAME | --sandbox [ID]: the client configuration
 * of the deployed stack. */
static int outputs_deployed(const char *branch, const char *sandbox, const char *ns,
			    const char *asm_dir, const char *file, const cli_aws_flags *f)
{
	synth_identity id;
	int rc = cli_identity(&id, ns, branch, sandbox, CLI_ID_REFUSE, "outputs");
	if (rc)
		return rc;
	const char *stack = id.stack_name;
	synth_aws *a = NULL;
	if (cli_aws_client(f, &a) < 0) {
		synth_identity_clear(&id);
		return EXIT_USAGE;
	}
	synth_deploy_options o = {.stack_name = stack, .assembly_dir = asm_dir,
				  .outputs_path = file, .log = stdout};
	synth_deploy_result res;
	int r = synth_deploy_outputs(a, &o, &res);
	if (r < 0)
		fprintf(stderr, "synth outputs: error: %s\n", synth_error_last()->message);
	else if (res.status == SYNTH_DEPLOY_ABSENT)
		fprintf(stderr, "synth outputs: error: stack %s does not exist: deploy it first "
				"(synth %s)\n", stack, branch ? "deploy --branch NAME" : "sandbox");
	rc = r < 0 ? EXIT_SYNTH : res.status == SYNTH_DEPLOY_ABSENT ? EXIT_SYNTH : EXIT_OK;
	synth_deploy_result_clear(&res);
	synth_aws_free(a);
	synth_identity_clear(&id);
	return rc;
}

/* synth outputs --outputs-file FILE [--out DIR] [--file PATH]: the client
 * configuration (amplify_outputs.json) from stack outputs supplied in a
 * file; or, with --branch NAME / --sandbox [ID], from the deployed stack
 * (DescribeStacks and the deployed template's Metadata; the model
 * introspection schema from the assembly in --out when it has it). */
int cli_outputs(int argc, char **argv)
{
	const char *out = "cdk.out", *from = NULL, *file = SYNTH_CLIENTCONFIG_FILE;
	const char *branch = NULL, *sandbox = NULL, *ns = NULL;
	cli_aws_flags f = {0};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int k = cli_aws_flag(&f, argc, argv, &i, "outputs");
		if (k > 1)
			return k;
		if (k == 1)
			continue;
		const char **slot = !strcmp(a, "--out") ? &out
				    : !strcmp(a, "--outputs-file") ? &from
				    : !strcmp(a, "--file") || !strcmp(a, "--outputs") ? &file
				    : !strcmp(a, "--branch") ? &branch
				    : !strcmp(a, "--namespace") ? &ns : NULL;
		if (slot && v && *v) {
			*slot = v;
			i++;
		} else if (!strcmp(a, "--sandbox")) {
			sandbox = "";
			if (v && !*v) {
				fprintf(stderr, "synth outputs: error: --sandbox '': the sandbox "
						"identifier is empty; omit it to use the default (the "
						"OS user name)\n");
				return EXIT_USAGE;
			}
			if (v && v[0] != '-') {
				sandbox = v;
				i++;
			}
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			printf("usage: synth outputs --outputs-file FILE [--out DIR] [--file PATH]\n"
			       "       synth outputs (--branch NAME | --sandbox [ID]) [--namespace NS] "
			       "[--out DIR] [--file PATH] " CLI_AWS_FLAGS_USAGE "\n"
			       "Writes amplify_outputs.json (or PATH; --outputs PATH is the same) "
			       "from stack outputs in a file, or from the deployed stack.\n");
			return EXIT_OK;
		} else {
			fprintf(stderr, "synth outputs: error: %s '%s'\n",
				slot ? "a value is needed after" : "unknown argument", a);
			return EXIT_USAGE;
		}
	}
	if ((branch || sandbox) && from) {
		fprintf(stderr, "synth outputs: error: --outputs-file and --branch/--sandbox "
				"exclude each other\n");
		return EXIT_USAGE;
	}
	if (branch && sandbox) {
		fprintf(stderr, "synth outputs: error: --branch and --sandbox exclude each other\n");
		return EXIT_USAGE;
	}
	if (branch || sandbox)
		return outputs_deployed(branch, sandbox, ns, out, file, &f);
	if (!from) {
		fprintf(stderr, "synth outputs: error: --outputs-file is required (stack outputs as "
				"JSON, or `aws cloudformation describe-stacks` output), or "
				"--branch NAME / --sandbox [ID] to read the deployed stack\n");
		return EXIT_USAGE;
	}
	json_t *cfg = NULL;
	int rc = synth__clientconfig_from_files(&cfg, out, from);
	if (rc == 0)
		rc = synth__clientconfig_write(file, cfg);
	json_decref(cfg);
	if (rc < 0) {
		fprintf(stderr, "synth outputs: error: %s\n", synth_error_last()->message);
		return EXIT_SYNTH;
	}
	printf("wrote %s\n", file);
	return EXIT_OK;
}
