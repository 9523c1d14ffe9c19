/*
 * synth [synth] [options]: the synthesis command. Builds and runs
 * ./backend.c (or --app CMD) for the backend the flags name
 * (cli_identity), writes the cloud assembly (cli_synthesize) and prints a
 * summary read back from it.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "synth.h"
#include "cli.h"

typedef struct opts {
	const char *out;
	const char *app;
	const char *branch;
	const char *sandbox;
	const char *ns;
	bool json, quiet, no_cache, no_validate;
	json_t *context;
} opts;

static void usage(FILE *f)
{
	fputs("usage: synth [synth] [options]\n"
	      "       synth publish [--out DIR] [--profile P] [--region R] [--endpoint-url URL]\n"
	      "       synth bootstrap [--profile P] [--region R] [--endpoint-url URL]\n"
	      "       synth outputs --outputs-file FILE | --branch NAME | --sandbox [ID] [--file PATH]\n"
	      "       synth deploy [--branch NAME] [--outputs PATH] ...   (synth deploy --help)\n"
	      "       synth sandbox [--once] [--identifier ID] | sandbox delete [--yes]\n"
	      "       synth destroy --branch NAME [--yes]\n"
	      "       synth diff [--branch NAME]\n"
	      "       synth secret set|get|list|remove NAME [--branch NAME | --sandbox [ID]]\n"
	      "\n"
	      "Builds ./backend.c against libsynth, runs it, writes the cloud assembly\n"
	      "and prints a summary.\n"
	      "\n"
	      "  --out DIR           assembly directory (default cdk.out)\n"
	      "  --json              print the summary as JSON\n"
	      "  --app CMD           run CMD (through /bin/sh) instead of building backend.c\n"
	      "  --branch NAME       a branch backend named NAME\n"
	      "  --sandbox [ID]      a sandbox backend (default: the OS user name)\n"
	      "  --namespace NS      the app's namespace (default: the directory name)\n"
	      "  -c, --context K=V   extra context for the backend (repeatable)\n"
	      "  --no-cache          rebuild backend.c even if unchanged\n"
	      "  --no-validate       skip the check against the CloudFormation specification\n"
	      "  -q, --quiet         no summary\n"
	      "  -h, --help          this text;  --version  the version\n"
	      "\n"
	      "Exit status: 0 ok, 1 synth error (reported by the backend), 2 usage,\n"
	      "3 backend.c did not compile, 4 the backend crashed or wrote no assembly or\n"
	      "a broken one (a manifest that is not one, a missing or non-JSON template\n"
	      "or asset), 5 I/O error (a read-only or full disk, --out naming a file).\n"
	      "--out refuses a directory that is not a cloud assembly (exit 2): the output\n"
	      "directory is replaced as a whole.\n",
	      f);
}

/* Parses ARGV into *O. Returns EXIT_OK, -1 after --help or --version
 * (printed), or an exit status after a message. */
static int parse_opts(int argc, char **argv, opts *o)
{
	int i = 1;
	if (i < argc && !strcmp(argv[i], "synth"))
		i++;
	for (; i < argc; i++) {
		const char *a = argv[i];
		const char *next = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_ARG()                                                                         \
	do {                                                                               \
		if (!next)                                                                 \
			return cli_fail(EXIT_USAGE, "%s needs a value (see synth --help)", a); \
		i++;                                                                       \
	} while (0)
		if (!strcmp(a, "-h") || !strcmp(a, "--help") || !strcmp(a, "help")) {
			usage(stdout);
			return -1;
		} else if (!strcmp(a, "--version")) {
			printf("synth %s\n", synth_version());
			return -1;
		} else if (!strcmp(a, "--out")) {
			NEED_ARG(); /* read (and cleaned) by cli_synth() */
			if (!*next)
				return cli_fail(EXIT_USAGE, "--out is empty");
		} else if (!strcmp(a, "--app")) {
			NEED_ARG();
			o->app = next;
		} else if (!strcmp(a, "--branch")) {
			NEED_ARG();
			o->branch = next;
		} else if (!strcmp(a, "--sandbox")) {
			o->sandbox = "";
			if (next && !*next)
				return cli_fail(EXIT_USAGE, "--sandbox '': the sandbox identifier is "
						"empty; omit it to use the default (the OS user name)");
			if (next && next[0] != '-') {
				o->sandbox = next;
				i++;
			}
		} else if (!strcmp(a, "--namespace")) {
			NEED_ARG();
			o->ns = next;
		} else if (!strcmp(a, "-c") || !strcmp(a, "--context")) {
			NEED_ARG();
			const char *eq = strchr(next, '=');
			if (!eq)
				return cli_fail(EXIT_USAGE, "%s %s: expected KEY=VALUE", a, next);
			char *k = strndup(next, (size_t)(eq - next));
			json_object_set_new(o->context, k, json_string(eq + 1));
			free(k);
		} else if (!strcmp(a, "--json")) {
			o->json = true;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			o->quiet = true;
		} else if (!strcmp(a, "--no-cache")) {
			o->no_cache = true;
		} else if (!strcmp(a, "--no-validate")) {
			o->no_validate = true;
		} else {
			fprintf(stderr, "synth: error: unknown argument '%s'\n", a);
			usage(stderr);
			return EXIT_USAGE;
		}
#undef NEED_ARG
	}
	return EXIT_OK;
}

/* The backend the flags name, into the context; a bad identifier is
 * refused before anything is built. */
static int identify(opts *o)
{
	if (o->branch && o->sandbox)
		return cli_fail(EXIT_USAGE, "--branch and --sandbox exclude each other");
	if (o->branch && !*o->branch)
		return cli_fail(EXIT_USAGE, "--branch: the branch name is empty");
	if (o->ns && !*o->ns)
		return cli_fail(EXIT_USAGE, "--namespace is empty");
	synth_identity id;
	int rc = cli_identity(&id, o->ns, o->branch, o->sandbox, 0, NULL);
	if (rc)
		return rc;
	/* The namespace only when given: the program finds the same one. */
	if (cli_identity_context(o->context, &id, o->ns != NULL) < 0)
		rc = cli_fail(EXIT_IO, "out of memory");
	synth_identity_clear(&id);
	return rc;
}

static int print_summary(const opts *o, const cli_synth_run *r)
{
	json_t *sum = cli_summary(o->out);
	if (!sum)
		return EXIT_IO;
	if (o->json) {
		json_dumpf(sum, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	} else {
		printf("synth: %s -> %s (build %.0f ms, synth %.0f ms)\n",
		       o->app ? o->app : "backend.c", o->out, r->build_ms, r->synth_ms);
		cli_summary_print(sum, stdout);
	}
	json_decref(sum);
	return EXIT_OK;
}

static int synth_main(int argc, char **argv, opts *o)
{
	int rc = parse_opts(argc, argv, o);
	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	if ((rc = identify(o)) != 0)
		return rc;
	cli_synth_run r = {.out = o->out, .app = o->app, .context = o->context,
			   .verbose = !o->quiet && !o->json, .no_cache = o->no_cache,
			   .no_validate = o->no_validate};
	if ((rc = cli_synthesize(&r)) != 0 || o->quiet)
		return rc;
	return print_summary(o, &r);
}

/* Strips trailing slashes ("out/" -> "out"), so staging directories land
 * beside the output directory, not inside it. */
static char *clean_dir(const char *d)
{
	char *c = strdup(d);
	size_t n = c ? strlen(c) : 0;
	while (n > 1 && c[n - 1] == '/')
		c[--n] = '\0';
	return c;
}

int cli_synth(int argc, char **argv)
{
	opts o = {.out = "cdk.out", .context = json_object()};
	char *out = NULL;
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--out"))
			o.out = argv[++i];
	if (!o.context || !(out = clean_dir(o.out))) {
		json_decref(o.context);
		return cli_fail(EXIT_IO, "out of memory");
	}
	o.out = out;
	int rc = synth_main(argc, argv, &o);
	json_decref(o.context);
	free(out);
	return rc;
}
