/* The synth CLI's internal interfaces. */
#ifndef SYNTH_CLI_H
#define SYNTH_CLI_H
#include <stdio.h>
#include <jansson.h>

/* Exit codes, documented in README.md. */
enum {
	EXIT_OK = 0,
	EXIT_SYNTH = 1,    /* the backend reported an error or exited non-zero */
	EXIT_USAGE = 2,    /* bad flags, no backend.c */
	EXIT_COMPILE = 3,  /* backend.c did not compile */
	EXIT_CRASH = 4,    /* the backend crashed or wrote no assembly */
	EXIT_IO = 5,       /* the CLI could not read or write files */
	EXIT_DEPLOY = 6,   /* a deployment failed: rolled back, a pre-deploy check
			    * failed, or an AWS call failed after its retries */
	EXIT_INTERRUPTED = 130 /* Ctrl-C while waiting for a stack */
};

/* The summary of the assembly in DIR (caller owns), or NULL after
 * printing why. */
json_t *cli_summary(const char *dir);
void cli_summary_print(json_t *sum, FILE *out);

/* The compact CloudFormation specification (spec/cfn-spec.jsonl.gz), or
 * NULL; free with cli_spec_free(). */
typedef struct cli_spec cli_spec;
cli_spec *cli_spec_load(const char *path);
void cli_spec_free(cli_spec *s);
/* Checks DIR/FILE against SPEC, printing each problem to OUT; returns the
 * number of problems. */
int cli_validate_template(cli_spec *spec, const char *dir, const char *file, FILE *out);

/* synth publish / synth bootstrap (cli/aws_cmd.c): ARGV[0] is the
 * subcommand. Return an exit status. */
int cli_publish(int argc, char **argv);
int cli_bootstrap(int argc, char **argv);
int cli_outputs(int argc, char **argv);

/* synth synth ...: the synthesis command (cli/synth.c), callable by the
 * deploy commands: ARGV as for the CLI (ARGV[0] is ignored), e.g.
 * {"synth", "--branch", "main", "--out", "cdk.out", "--quiet"}. Returns an
 * exit status. */
int cli_synth(int argc, char **argv);

/* cli/deploy_cmd.c: deploy, destroy, diff, sandbox (and sandbox delete). */
int cli_deploy(int argc, char **argv);
int cli_destroy(int argc, char **argv);
int cli_diff(int argc, char **argv);
int cli_sandbox(int argc, char **argv);
/* cli/secret_cmd.c: secret set|get|list|remove (also `sandbox secret`). */
int cli_secret(int argc, char **argv);

#endif
