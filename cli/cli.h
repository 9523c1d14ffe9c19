/* The synth CLI's internal interfaces. */
#ifndef SYNTH_CLI_H
#define SYNTH_CLI_H
#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>
#include "synth/backend.h"

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

/* --- shared by the commands ------------------------------------------- */

/* cli/identity.c: the backend a command means. */
enum { CLI_ID_REFUSE = 1 }; /* refuse the sandbox names of shared environments */
/*
 * Resolves with synth_identity_resolve() the backend of a branch (BRANCH)
 * or a sandbox (SANDBOX; NULL or "" for the OS user's) in namespace NS
 * (NULL: the current directory's name). With CLI_ID_REFUSE a sandbox named
 * like a shared environment or a privileged account is refused. Returns
 * EXIT_OK (*ID: free with synth_identity_clear) or, after a message
 * "synth CMD: error: ..." ("synth: error: ..." when CMD is NULL), an exit
 * status with *ID cleared.
 */
int cli_identity(synth_identity *id, const char *ns, const char *branch, const char *sandbox,
		 int flags, const char *cmd);
/* Sets synth:type and synth:name of ID in the context CTX, and
 * synth:namespace when WITH_NS. 0 or SYNTH_ENOMEM. */
int cli_identity_context(json_t *ctx, const synth_identity *id, bool with_ns);

/* cli/synthesize.c: compile backend.c (or run APP), check, swap in. */
typedef struct cli_synth_run {
	const char *out;  /* the assembly directory (no trailing '/') */
	const char *app;  /* a command (through /bin/sh) instead of backend.c */
	json_t *context;  /* CDK_CONTEXT_JSON for the program (borrowed) */
	bool verbose;     /* say whether backend.c is compiled */
	bool no_cache, no_validate;
	double build_ms, synth_ms; /* out: time to compile, time to run */
} cli_synth_run;
/* Builds and runs the backend program with CDK_OUTDIR set to a staging
 * directory, checks the templates and replaces R->out with it only when
 * all went well. Returns an exit status, after a message when not 0. */
int cli_synthesize(cli_synth_run *r);
/* Prints "synth: error: ..." and returns CODE. */
int cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --- the commands (each in its own file, dispatched by cli/main.c) ----- */

/* cli/synth.c: synth [synth] [options]; ARGV[0] is ignored. */
int cli_synth(int argc, char **argv);
/* cli/aws_cmd.c: publish, bootstrap, outputs; ARGV[0] is the subcommand. */
int cli_publish(int argc, char **argv);
int cli_bootstrap(int argc, char **argv);
int cli_outputs(int argc, char **argv);
/* cli/deploy_cmd.c: deploy, destroy, diff, sandbox (and sandbox delete). */
int cli_deploy(int argc, char **argv);
int cli_destroy(int argc, char **argv);
int cli_diff(int argc, char **argv);
int cli_sandbox(int argc, char **argv);
/* cli/secret_cmd.c: secret set|get|list|remove, and `sandbox secret ...`
 * (ARGV[0] "secret"): the same on a sandbox, named by --identifier ID
 * (default: the OS user). */
int cli_secret(int argc, char **argv);
int cli_sandbox_secret(int argc, char **argv);

#endif
