/* The AWS flags shared by the CLI's AWS commands, and the client made from
 * them (cli/aws_client.c). Internal to the CLI. */
#ifndef SYNTH_CLI_AWS_CLIENT_H
#define SYNTH_CLI_AWS_CLIENT_H

#include "../lib/aws/aws.h"

typedef struct cli_aws_flags {
	const char *profile, *region, *endpoint_url; /* borrowed from argv */
} cli_aws_flags;

/* The usage text of the flags above, for usage lines. */
#define CLI_AWS_FLAGS_USAGE "[--profile P] [--region R] [--endpoint-url URL]"

/* When ARGV[*I] is --profile, --region or --endpoint-url, takes its value
 * (advancing *I) and returns 1; returns 0 for any other argument, and
 * EXIT_USAGE after a message naming CMD when the value is missing. */
int cli_aws_flag(cli_aws_flags *f, int argc, char **argv, int *i, const char *cmd);

/* Resolves credentials, region and endpoints as the AWS CLI does (the
 * flags, then the environment and the shared files) and makes a client.
 * *out: caller frees with synth_aws_free. On failure prints why (naming
 * every place credentials were looked for) and returns -1. */
int cli_aws_client(const cli_aws_flags *f, synth_aws **out);

#endif
