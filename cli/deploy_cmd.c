/*
 * synth deploy, destroy, diff and sandbox: flags, prompts and messages
 * around the deployer (lib/deploy.c).
 *
 *   synth deploy [--branch NAME] [--out DIR | --assembly DIR] [--outputs PATH]
 *   synth deploy --branch NAME (--watch | --continue-rollback)
 *   synth destroy --branch NAME [--yes]
 *   synth diff [--branch NAME] [--out DIR | --assembly DIR]
 *   synth sandbox [--identifier ID] [--once] [--outputs PATH]
 *   synth sandbox delete [--identifier ID] [--yes]
 * (synth sandbox secret ... is cli/secret_cmd.c's)
 * each with --profile, --region, --endpoint-url, --namespace, -q.
 *
 * Exit status: 0 deployed, nothing to change, or deleted (a stack that
 * does not exist is "nothing to delete": 0); 1 a synth error; 2 usage
 * (bad flags, no credentials, a refused identifier); 3, 4, 5 as for
 * synth; 6 the deployment failed (CloudFormation rolled back, a check
 * before it failed, or an AWS call failed after its retries); 130 the
 * wait was interrupted (the stack goes on).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <synth/sys/contract.h>
#include "../lib/deploy/deploy.h"
#include "../lib/deploy/watch.h"
#include "../lib/deploy/clientconfig.h"
#include "aws_client.h"
#include "synth.h"
#include "cli.h"


static volatile sig_atomic_t interrupted;
static volatile bool stop_watching;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
	stop_watching = true;
}

/* SIGINT / SIGTERM stop the waiting (no SA_RESTART: sleeps end early). */
static void catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

typedef struct dopts {
	const char *cmd;
	const char *branch, *sandbox, *ns, *out, *assembly, *outputs;
	cli_aws_flags aws;
	bool quiet, yes, once, watch, continue_rollback, branch_given;
	int parallel, poll_ms, poll_max_ms;
	int protect; /* --termination-protection (1) / --no-termination-protection (-1) */
	char *owned_branch; /* from git */
	synth_identity id;  /* resolved by resolve_target(); BRANCH or SANDBOX points
			     * to its name */
} dopts;

static void usage(FILE *f, const char *cmd)
{
	if (!strcmp(cmd, "deploy"))
		fputs("usage: synth deploy [--branch NAME] [--out DIR | --assembly DIR] [--outputs PATH]\n"
		      "                    [--namespace NS] [--parallel N] [--poll-ms MS] [-q]\n"
		      "                    [--termination-protection | --no-termination-protection]\n"
		      "                    " CLI_AWS_FLAGS_USAGE "\n"
		      "       synth deploy --branch NAME --watch              follow the stack's current operation\n"
		      "       synth deploy --branch NAME --continue-rollback  finish a failed rollback\n"
		      "Synthesizes the backend (./backend.c) for branch NAME (default: the current git\n"
		      "branch), publishes its assets and creates or updates its stack through a change\n"
		      "set; nothing is called when nothing changed. Writes the client configuration to\n"
		      "--outputs PATH (default ./" SYNTH_CLIENTCONFIG_FILE "). --assembly DIR deploys an\n"
		      "assembly as it is (no synth). --sandbox [ID] instead of --branch acts on a sandbox.\n"
		      "--termination-protection turns CloudFormation's protection on (for a production\n"
		      "branch; off with --no-...); without either, the stack's setting is left alone.\n"
		      "Exit: 0 deployed or no changes, 2 usage, 6 the deployment failed, 130 interrupted.\n",
		      f);
	else if (!strcmp(cmd, "destroy"))
		fputs("usage: synth destroy --branch NAME [--yes] [--namespace NS] " CLI_AWS_FLAGS_USAGE "\n"
		      "Deletes the branch's stack and waits (assets stay in the bucket). Asks first on a\n"
		      "terminal; elsewhere --yes is required. A stack that does not exist: exit 0.\n",
		      f);
	else if (!strcmp(cmd, "diff"))
		fputs("usage: synth diff [--branch NAME] [--out DIR | --assembly DIR] [--namespace NS]\n"
		      "                  " CLI_AWS_FLAGS_USAGE "\n"
		      "What a deploy would change, resource by resource, against the deployed templates.\n",
		      f);
	else
		fputs("usage: synth sandbox [--identifier ID] [--once] [--outputs PATH] [--out DIR]\n"
		      "                     [--namespace NS] [--poll-ms MS] [-q] " CLI_AWS_FLAGS_USAGE "\n"
		      "       synth sandbox delete [--identifier ID] [--yes]\n"
		      "       synth sandbox secret set|get|list|remove ...\n"
		      "Deploys a personal stack named after ID (default: the OS user), then watches the\n"
		      "backend's files and deploys again on every change (--once: deploy and exit). One\n"
		      "sandbox per identifier at a time.\n",
		      f);
}

/* Parses the flags of every deploy command. Returns 0, -1 for --help
 * (printed), or an exit status. */
static int parse(int argc, char **argv, int start, dopts *o)
{
	for (int i = start; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int k = cli_aws_flag(&o->aws, argc, argv, &i, o->cmd);
		if (k == 1)
			continue;
		if (k)
			return k;
		const char **slot = !strcmp(a, "--branch") ? &o->branch
				    : !strcmp(a, "--namespace") ? &o->ns
				    : !strcmp(a, "--out") ? &o->out
				    : !strcmp(a, "--assembly") ? &o->assembly
				    : !strcmp(a, "--outputs") ? &o->outputs
				    : !strcmp(a, "--identifier") ? &o->sandbox : NULL;
		/* An empty identifier is a mistake (an unset variable, say), not
		 * a request for the default one, the OS user's. */
		bool empty_id = v && !*v && (slot == &o->sandbox || !strcmp(a, "--sandbox"));
		if (empty_id) {
			fprintf(stderr, "synth %s: error: %s '': the sandbox identifier is empty; "
					"omit it to use the default (the OS user name)\n", o->cmd, a);
			return EXIT_USAGE;
		}
		if (slot) {
			if (!v) {
				fprintf(stderr, "synth %s: error: %s needs a value\n", o->cmd, a);
				return EXIT_USAGE;
			}
			*slot = v;
			i++;
			if (slot == &o->branch)
				o->branch_given = true;
		} else if (!strcmp(a, "--sandbox")) {
			o->sandbox = "";
			if (v && v[0] != '-') {
				o->sandbox = v;
				i++;
			}
		} else if (!strcmp(a, "--parallel") || !strcmp(a, "--poll-ms")) {
			int n = v ? atoi(v) : 0;
			if (n < 1 || (!strcmp(a, "--parallel") && n > 16) || n > 60000) {
				fprintf(stderr, "synth %s: error: %s needs a number (%s)\n", o->cmd, a,
					!strcmp(a, "--parallel") ? "1..16" : "milliseconds");
				return EXIT_USAGE;
			}
			*(!strcmp(a, "--parallel") ? &o->parallel : &o->poll_ms) = n;
			i++;
		} else if (!strcmp(a, "-y") || !strcmp(a, "--yes")) {
			o->yes = true;
		} else if (!strcmp(a, "--once")) {
			o->once = true;
		} else if (!strcmp(a, "--watch")) {
			o->watch = true;
		} else if (!strcmp(a, "--termination-protection")) {
			o->protect = 1;
		} else if (!strcmp(a, "--no-termination-protection")) {
			o->protect = -1;
		} else if (!strcmp(a, "--continue-rollback")) {
			o->continue_rollback = true;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			o->quiet = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout, o->cmd);
			return -1;
		} else {
			fprintf(stderr, "synth %s: error: unknown argument '%s'\n", o->cmd, a);
			usage(stderr, o->cmd);
			return EXIT_USAGE;
		}
	}
	if (o->branch && o->sandbox) {
		fprintf(stderr, "synth %s: error: --branch and --sandbox exclude each other\n", o->cmd);
		return EXIT_USAGE;
	}
	if (o->out && o->assembly) {
		fprintf(stderr, "synth %s: error: --out and --assembly exclude each other\n", o->cmd);
		return EXIT_USAGE;
	}
	/* SYNTH_POLL_MS=FIRST[,MAX]: the poll intervals (tests keep them short). */
	const char *pe = getenv("SYNTH_POLL_MS");
	if (pe && *pe) {
		o->poll_ms = o->poll_ms ? o->poll_ms : atoi(pe);
		const char *c = strchr(pe, ',');
		o->poll_max_ms = c ? atoi(c + 1) : 0;
	}
	if (o->poll_ms && !o->poll_max_ms)
		o->poll_max_ms = o->poll_ms * 20;
	return 0;
}

/* The current git branch (caller frees), or NULL after a message. */
static char *git_branch(const char *cmd)
{
	FILE *p = popen("git rev-parse --abbrev-ref HEAD 2>/dev/null", "r");
	char line[512] = "";
	bool got = p && fgets(line, sizeof line, p);
	int st = p ? pclose(p) : -1;
	line[strcspn(line, "\r\n")] = '\0';
	if (!got || st != 0 || !*line) {
		fprintf(stderr, "synth %s: error: not in a git repository (or git is not installed): "
				"name the branch with --branch NAME\n", cmd);
		return NULL;
	}
	if (!strcmp(line, "HEAD")) {
		fprintf(stderr, "synth %s: error: HEAD is detached (no current branch): name the "
				"branch with --branch NAME\n", cmd);
		return NULL;
	}
	return strdup(line);
}

/* Resolves the backend: a sandbox (its ID, else the OS user's), or a
 * branch (the flag, else git's current branch); then its identity. */
static int resolve_target(dopts *o)
{
	if (!o->sandbox && o->branch && !*o->branch) {
		fprintf(stderr, "synth %s: error: --branch: the branch name is empty\n", o->cmd);
		return EXIT_USAGE;
	}
	if (!o->sandbox && !o->branch) {
		if (!(o->owned_branch = git_branch(o->cmd)))
			return EXIT_USAGE;
		o->branch = o->owned_branch;
	}
	int rc = cli_identity(&o->id, o->ns, o->sandbox ? NULL : o->branch, o->sandbox,
			      CLI_ID_REFUSE, o->cmd);
	if (rc)
		return rc;
	*(o->sandbox ? &o->sandbox : &o->branch) = o->id.name;
	return 0;
}

static void dopts_free(dopts *o)
{
	free(o->owned_branch);
	o->owned_branch = NULL;
	synth_identity_clear(&o->id);
}

static bool use_tty(const dopts *o)
{
	const char *ci = getenv("CI");
	return !o->quiet && isatty(2) && !(ci && *ci && strcmp(ci, "false"));
}

/* Fetches the deployed root template into a temporary file named by
 * SYNTH_DEPLOYED_TEMPLATE, so the synth keeps every resource in the stack
 * where it is deployed (even from a fresh clone without cdk.out). *FILE
 * (caller removes and frees): the file, NULL when there is no stack. */
static int placement_memory(const dopts *o, synth_aws *a, char **file)
{
	*file = NULL;
	const char *tmp = getenv("TMPDIR");
	char *path = synth_asprintf("%s/synth-deployed.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	int fd = path ? mkstemp(path) : -1;
	if (fd < 0) {
		fprintf(stderr, "synth %s: error: cannot create a temporary file: %s\n", o->cmd,
			strerror(errno));
		free(path);
		return EXIT_IO;
	}
	close(fd);
	int rc = synth_deploy_root_template(a, o->id.stack_name, path);
	if (rc > 0 && setenv(SYNTH_ENV_DEPLOYED_TEMPLATE, path, 1) == 0) {
		*file = path;
		return 0;
	}
	unlink(path);
	free(path);
	if (rc < 0) {
		fprintf(stderr, "synth %s: error: reading the deployed template of %s (where each "
			"resource is): %s\n", o->cmd, o->id.stack_name, synth_error_last()->message);
		return EXIT_DEPLOY;
	}
	return 0;
}

/* Synthesizes the target's backend into the assembly directory, as
 * `synth --branch NAME | --sandbox ID [--namespace NS] --out DIR -q`,
 * keeping resources where the deployed stack has them. */
static int synthesize(const dopts *o, synth_aws *a)
{
	if (o->assembly)
		return 0;
	char *deployed = NULL;
	int prc = placement_memory(o, a, &deployed);
	if (prc)
		return prc;
	char *out = synth_strdup(o->out ? o->out : "cdk.out");
	json_t *ctx = json_object();
	int rc = EXIT_OK;
	if (!out || !ctx || cli_identity_context(ctx, &o->id, o->ns != NULL) < 0) {
		fprintf(stderr, "synth %s: error: out of memory\n", o->cmd);
		rc = EXIT_IO;
	}
	/* "out/" -> "out": the staging directory goes beside it. */
	for (size_t n = out ? strlen(out) : 0; n > 1 && out[n - 1] == '/';)
		out[--n] = '\0';
	if (rc == 0 && !o->quiet)
		fprintf(stderr, "synthesizing %s %s...\n", o->sandbox ? "sandbox" : "branch",
			o->sandbox ? o->sandbox : o->branch);
	cli_synth_run r = {.out = out, .context = ctx};
	if (rc == 0 && (rc = cli_synthesize(&r)) != 0)
		fprintf(stderr, "synth %s: synth failed (exit %d): nothing was deployed\n", o->cmd, rc);
	if (deployed) {
		unsetenv(SYNTH_ENV_DEPLOYED_TEMPLATE);
		unlink(deployed);
		free(deployed);
	}
	json_decref(ctx);
	free(out);
	return rc;
}

static const char *asm_dir(const dopts *o)
{
	return o->assembly ? o->assembly : o->out ? o->out : "cdk.out";
}

/* "synth deploy --branch X" / "synth deploy --sandbox ID": for hints. */
static char *target_cmd(const dopts *o)
{
	return o->sandbox ? synth_asprintf("synth deploy --sandbox %s", o->sandbox)
			  : synth_asprintf("synth deploy --branch %s", o->branch);
}

static void fill_options(const dopts *o, synth_deploy_options *d, const char *tags[])
{
	memset(d, 0, sizeof *d);
	d->assembly_dir = asm_dir(o);
	d->outputs_path = o->outputs ? o->outputs : SYNTH_CLIENTCONFIG_FILE;
	d->log = stderr;
	d->tty = use_tty(o);
	d->quiet = o->quiet;
	d->poll_ms = o->poll_ms;
	d->poll_max_ms = o->poll_max_ms;
	d->parallel = o->parallel;
	d->termination_protection = o->protect;
	d->interrupted = &interrupted;
	int n = 0;
	tags[n++] = "amplify:deployment-type";
	tags[n++] = o->sandbox ? "sandbox" : "branch";
	if (o->branch) {
		tags[n++] = "amplify:branch-name";
		tags[n++] = o->branch;
	} else {
		tags[n++] = "synth:sandbox-owner";
		tags[n++] = o->sandbox;
	}
	tags[n++] = "created-by";
	tags[n++] = "synth";
	tags[n] = NULL;
	d->tags = tags;
}

/* Prints the outcome of a deploy-like operation; returns the exit status. */
static int report(const dopts *o, int rc, synth_deploy_result *r, double t0)
{
	const char *cmd = o->cmd;
	char *again = target_cmd(o);
	int code = EXIT_OK;
	if (rc < 0) {
		json_t *s;
		size_t i;
		if (json_array_size(r->missing_secrets)) {
			json_array_foreach(r->missing_secrets, i, s) {
				if (o->sandbox)
					fprintf(stderr, "synth %s: error: secret %s is not set: run `synth "
							"sandbox secret set %s%s%s`\n", cmd,
						json_string_value(s), json_string_value(s),
						strcmp(o->sandbox, "") ? " --identifier " : "", o->sandbox);
				else
					fprintf(stderr, "synth %s: error: secret %s is not set: run `synth "
							"secret set %s --branch %s`\n", cmd,
						json_string_value(s), json_string_value(s), o->branch);
			}
		} else {
			fprintf(stderr, "synth %s: error: %s\n", cmd, synth_error_last()->message);
		}
		if (strstr(synth_error_last()->message, "UPDATE_ROLLBACK_FAILED"))
			fprintf(stderr, "synth %s: then run `%s --continue-rollback`\n", cmd,
				again ? again : "synth deploy");
		code = EXIT_DEPLOY;
	} else if (r->status == SYNTH_DEPLOY_FAILED) {
		fprintf(stderr, "synth %s: the deployment of stack %s failed (%s)\n", cmd,
			r->stack_name, r->stack_status ? r->stack_status : "?");
		fprintf(stderr, "  root cause: %s\n", r->root_cause ? r->root_cause : "unknown");
		if (r->stack_status && !strcmp(r->stack_status, "UPDATE_ROLLBACK_FAILED"))
			fprintf(stderr, "  the rollback failed too: fix its cause, then run `%s "
					"--continue-rollback`\n", again ? again : "synth deploy");
		else if (r->stack_status && !strcmp(r->stack_status, "ROLLBACK_COMPLETE"))
			fprintf(stderr, "  the stack was rolled back; the next deploy deletes it and "
					"creates it again\n");
		fprintf(stderr, "  %s was left as it was\n",
			o->outputs ? o->outputs : SYNTH_CLIENTCONFIG_FILE);
		code = EXIT_DEPLOY;
	} else if (r->status == SYNTH_DEPLOY_INTERRUPTED) {
		code = EXIT_INTERRUPTED;
	} else if (!o->quiet || r->status != SYNTH_DEPLOY_UNCHANGED) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		double dt = (double)ts.tv_sec + ts.tv_nsec / 1e9 - t0;
		const char *what = r->status == SYNTH_DEPLOY_CREATED ? "created"
				   : r->status == SYNTH_DEPLOY_UPDATED ? "updated"
								      : "unchanged";
		printf("stack %s %s (%.1f s)%s%s\n", r->stack_name, what, dt,
		       r->outputs_written ? "; client configuration in " : "",
		       r->outputs_written ? (o->outputs ? o->outputs : SYNTH_CLIENTCONFIG_FILE) : "");
	}
	fflush(stdout);
	free(again);
	return code;
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One deploy: synth, then the deployer. */
static int deploy_once(const dopts *o, synth_aws *a)
{
	double t0 = mono();
	interrupted = 0;
	int rc = synthesize(o, a);
	if (rc)
		return rc;
	synth_deploy_options d;
	const char *tags[9];
	fill_options(o, &d, tags);
	char *again = target_cmd(o);
	char *hint = again ? synth_asprintf("%s --watch", again) : NULL;
	d.resume_hint = hint;
	synth_deploy_result r;
	int drc = synth_deploy(a, &d, &r);
	int code = report(o, drc, &r, t0);
	synth_deploy_result_clear(&r);
	free(hint);
	free(again);
	return code;
}

/* --watch / --continue-rollback: on the stack named by the target. */
static int stack_op(dopts *o, synth_aws *a)
{
	const char *stack = o->id.stack_name;
	synth_deploy_options d;
	const char *tags[9];
	fill_options(o, &d, tags);
	d.stack_name = stack;
	char *again = target_cmd(o);
	char *hint = again ? synth_asprintf("%s --watch", again) : NULL;
	d.resume_hint = hint;
	synth_deploy_result r;
	int drc = o->watch ? synth_deploy_watch(a, &d, &r) : synth_deploy_continue_rollback(a, &d, &r);
	int code;
	if (drc == 0 && r.status == SYNTH_DEPLOY_ABSENT) {
		fprintf(stderr, "synth %s: stack %s does not exist\n", o->cmd, stack);
		code = EXIT_DEPLOY;
	} else if (drc == 0 && r.status == SYNTH_DEPLOY_SETTLED) {
		printf("stack %s is %s\n", stack, r.stack_status ? r.stack_status : "?");
		code = EXIT_OK;
	} else {
		code = report(o, drc, &r, mono());
	}
	synth_deploy_result_clear(&r);
	free(hint);
	free(again);
	return code;
}

int cli_deploy(int argc, char **argv)
{
	dopts o = {.cmd = "deploy"};
	int rc = parse(argc, argv, 1, &o);
	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	if (o.once) {
		fprintf(stderr, "synth deploy: error: --once is a sandbox flag\n");
		return EXIT_USAGE;
	}
	if ((rc = resolve_target(&o)) != 0) {
		dopts_free(&o);
		return rc;
	}
	synth_aws *a = NULL;
	if (cli_aws_client(&o.aws, &a) < 0) {
		dopts_free(&o);
		return EXIT_USAGE;
	}
	catch_signals();
	rc = o.watch || o.continue_rollback ? stack_op(&o, a) : deploy_once(&o, a);
	synth_aws_free(a);
	dopts_free(&o);
	return rc;
}

/* Asks QUESTION on the terminal; true for y/yes. */
static bool confirm(const char *question)
{
	fprintf(stderr, "%s [y/N] ", question);
	fflush(stderr);
	char line[64];
	if (!fgets(line, sizeof line, stdin))
		return false;
	line[strcspn(line, "\r\n")] = '\0';
	return !strcasecmp(line, "y") || !strcasecmp(line, "yes");
}

/* Deletes the target's stack, after asking. */
static int delete_stack(dopts *o, const char *what)
{
	const char *stack = o->id.stack_name;
	if (!o->yes) {
		if (!isatty(0)) {
			fprintf(stderr, "synth %s: error: standard input is not a terminal, so there "
					"is no one to ask: pass --yes to delete stack %s\n", o->cmd, stack);
			return EXIT_USAGE;
		}
		char *q = synth_asprintf("Delete %s stack %s?", what, stack);
		bool ok = q && confirm(q);
		free(q);
		if (!ok) {
			fprintf(stderr, "nothing deleted\n");
			return EXIT_OK;
		}
	}
	synth_aws *a = NULL;
	if (cli_aws_client(&o->aws, &a) < 0)
		return EXIT_USAGE;
	catch_signals();
	synth_deploy_options d;
	const char *tags[9];
	fill_options(o, &d, tags);
	d.stack_name = stack;
	char *hint = synth_asprintf("synth deploy --%s %s --watch", o->sandbox ? "sandbox" : "branch",
				     o->sandbox ? o->sandbox : o->branch);
	d.resume_hint = hint;
	synth_deploy_result r;
	double t0 = mono();
	int drc = synth_deploy_destroy(a, &d, &r);
	int code = EXIT_OK;
	if (drc == 0 && r.status == SYNTH_DEPLOY_ABSENT)
		printf("stack %s does not exist: nothing to delete\n", stack);
	else if (drc == 0 && r.status == SYNTH_DEPLOY_DELETED)
		printf("deleted stack %s (%.1f s); its assets stay in the bucket\n", stack, mono() - t0);
	else
		code = report(o, drc, &r, t0);
	synth_deploy_result_clear(&r);
	synth_aws_free(a);
	free(hint);
	return code;
}

int cli_destroy(int argc, char **argv)
{
	dopts o = {.cmd = "destroy"};
	int rc = parse(argc, argv, 1, &o);
	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	if (!o.branch && !o.sandbox) {
		fprintf(stderr, "synth destroy: error: name the branch with --branch NAME (a sandbox: "
				"synth sandbox delete)\n");
		return EXIT_USAGE;
	}
	if ((rc = resolve_target(&o)) == 0)
		rc = delete_stack(&o, o.sandbox ? "sandbox" : "branch");
	dopts_free(&o);
	return rc;
}

int cli_diff(int argc, char **argv)
{
	dopts o = {.cmd = "diff"};
	int rc = parse(argc, argv, 1, &o);
	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	if ((rc = resolve_target(&o)) != 0) {
		dopts_free(&o);
		return rc;
	}
	synth_aws *a = NULL;
	if (cli_aws_client(&o.aws, &a) < 0) {
		dopts_free(&o);
		return EXIT_USAGE;
	}
	o.quiet = true; /* synth's own messages */
	rc = synthesize(&o, a);
	if (rc == 0) {
		synth_deploy_options d;
		const char *tags[9];
		fill_options(&o, &d, tags);
		size_t n = 0;
		if (synth_deploy_diff(a, &d, stdout, &n) < 0) {
			fprintf(stderr, "synth diff: error: %s\n", synth_error_last()->message);
			rc = EXIT_DEPLOY;
		} else {
			printf(n ? "%zu resource%s would change\n" : "no differences\n", n,
			       n == 1 ? "" : "s");
		}
	}
	synth_aws_free(a);
	dopts_free(&o);
	return rc;
}

/* --- sandbox ------------------------------------------------------------------- */

typedef struct sandbox_run {
	dopts *o;
	synth_aws *a;
	int last;
} sandbox_run;

static int sandbox_deploy(void *ctx)
{
	sandbox_run *s = ctx;
	s->last = deploy_once(s->o, s->a);
	if (interrupted)
		return 0;
	if (!s->o->once)
		fprintf(stderr, "[sandbox] watching for changes (Ctrl-C to stop)\n");
	return 0;
}

static void sandbox_changed(void *ctx, const char *path)
{
	(void)ctx;
	fprintf(stderr, "[sandbox] %s changed: deploying again\n", path);
}

int cli_sandbox(int argc, char **argv)
{
	bool del = argc > 1 && !strcmp(argv[1], "delete");
	dopts o = {.cmd = del ? "sandbox delete" : "sandbox"};
	int rc = parse(argc, argv, del ? 2 : 1, &o);
	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	if (o.branch) {
		fprintf(stderr, "synth %s: error: a sandbox has no branch (deploy --branch is for "
				"branches)\n", o.cmd);
		return EXIT_USAGE;
	}
	if (!o.sandbox)
		o.sandbox = "";
	if ((rc = resolve_target(&o)) != 0) {
		dopts_free(&o);
		return rc;
	}
	if (del) {
		rc = delete_stack(&o, "sandbox");
		dopts_free(&o);
		return rc;
	}
	/* One sandbox per identifier at a time (the lock lives as long as we do). */
	int lock = -1;
	if (synth_watch_lock(&lock, ".synth", o.sandbox) < 0) {
		fprintf(stderr, "synth sandbox: error: %s\n", synth_error_last()->message);
		dopts_free(&o);
		return EXIT_USAGE;
	}
	synth_aws *a = NULL;
	if (cli_aws_client(&o.aws, &a) < 0) {
		close(lock);
		dopts_free(&o);
		return EXIT_USAGE;
	}
	catch_signals();
	sandbox_run s = {.o = &o, .a = a};
	if (o.once) {
		sandbox_deploy(&s);
		rc = s.last;
	} else {
		const char *out = o.out ? o.out : "cdk.out";
		const char *ob = strrchr(out, '/') ? strrchr(out, '/') + 1 : out;
		const char *outputs = o.outputs ? o.outputs : SYNTH_CLIENTCONFIG_FILE;
		const char *obase = strrchr(outputs, '/') ? strrchr(outputs, '/') + 1 : outputs;
		/* Not the output, synth's staging directories beside it
		 * (OUT.stage.PID), the client config and its temporary file,
		 * the build cache, editors' backups. */
		char *ob_any = synth_asprintf("%s.*", ob), *obase_any = synth_asprintf("%s.*", obase);
		const char *paths[] = {".", NULL};
		const char *ignore[] = {"cdk.out", "cdk.out.*", ob, ob_any ? ob_any : ob, ".synth",
					".git", "node_modules", obase, obase_any ? obase_any : obase,
					"*.swp", "*~", "#*#", NULL};
		synth_watch *w = NULL;
		if (synth_watch_new(&w, paths, ignore) < 0) {
			fprintf(stderr, "synth sandbox: error: %s\n", synth_error_last()->message);
			rc = EXIT_IO;
		} else {
			int wr = synth_watch_loop(w, 300, sandbox_deploy, &s, sandbox_changed,
						  &stop_watching);
			if (wr < 0)
				fprintf(stderr, "synth sandbox: error: %s\n", synth_error_last()->message);
			fprintf(stderr, "[sandbox] stopped; the stack stays (synth sandbox delete "
					"removes it)\n");
			rc = wr < 0 ? EXIT_IO : EXIT_OK;
		}
		synth_watch_free(w);
		free(ob_any);
		free(obase_any);
	}
	synth_aws_free(a);
	close(lock);
	dopts_free(&o);
	return rc;
}
