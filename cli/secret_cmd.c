/*
 * synth secret set|get|list|remove: the backend's secrets, SSM
 * SecureString parameters at the paths synth_secret_path() names
 * (/synth/<namespace>/<type>/<name>/<NAME>, or /synth/<namespace>/shared/
 * <NAME> with --shared). `synth sandbox secret ... [--identifier ID]`
 * is the same on the sandbox ID (cli_sandbox_secret).
 *
 * A value is read from the terminal without echo, or from stdin when it is
 * not a terminal; never from the command line (shell history, the process
 * list). It is written only by `get`, only to stdout. Every buffer that
 * held it is wiped: this command installs a wiping allocator for jansson,
 * which parses and builds the SSM bodies.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include "../lib/aws/ssm.h"
#include "aws_client.h"
#include "cli.h"
#include "synth.h"

#define VALUE_MAX 4096 /* SSM's standard tier */

static void *wiping_malloc(size_t n) { return malloc(n); }

static void wiping_free(void *p)
{
	if (p) {
		OPENSSL_cleanse(p, malloc_usable_size(p));
		free(p);
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: synth secret set NAME    [--branch B | --sandbox [ID]] [--shared] "
		"[--namespace NS] " CLI_AWS_FLAGS_USAGE "\n"
		"       synth secret get NAME    (same flags)\n"
		"       synth secret list        (same flags)\n"
		"       synth secret remove NAME (same flags)\n"
		"A secret is an SSM SecureString parameter at\n"
		"  /synth/<namespace>/<branch|sandbox>/<name>/NAME  (the backend's; the default is "
		"your sandbox)\n"
		"  /synth/<namespace>/shared/NAME                    (--shared: every branch and "
		"sandbox)\n"
		"set reads the value at a prompt without echo, or from stdin when it is not a "
		"terminal\n"
		"(one trailing newline is dropped); never from the command line.\n");
}

typedef struct sopts {
	const char *action, *name, *branch, *sandbox, *ns;
	bool shared;
	cli_aws_flags aws;
	const char *cmd;        /* "secret", or "sandbox secret" */
	const char *identifier; /* sandbox secret --identifier ID */
} sopts;

static const char *const actions[] = {"set", "get", "list", "remove", NULL};

static bool is_action(const char *s)
{
	for (size_t i = 0; actions[i]; i++)
		if (!strcmp(s, actions[i]))
			return true;
	return false;
}

/* Returns 0, -1 after --help, or an exit status. */
static int parse(int argc, char **argv, sopts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
		int r = cli_aws_flag(&o->aws, argc, argv, &i, "secret");
		if (r == 1)
			continue;
		if (r)
			return r;
		if (!strcmp(a, "-h") || !strcmp(a, "--help") || !strcmp(a, "help")) {
			usage(stdout);
			return -1;
		} else if (!strcmp(a, "--branch") || !strcmp(a, "--namespace")) {
			if (!next || !*next) {
				fprintf(stderr, "synth secret: error: %s needs a value\n", a);
				return EXIT_USAGE;
			}
			*(!strcmp(a, "--branch") ? &o->branch : &o->ns) = next;
			i++;
		} else if (!strcmp(a, "--sandbox")) {
			/* An optional ID: the next word, unless it is an option, or
			 * the action while none was given yet. */
			o->sandbox = "";
			if (next && !*next) {
				fprintf(stderr, "synth secret: error: --sandbox '': the sandbox "
						"identifier is empty; omit it to use the default (the "
						"OS user name)\n");
				return EXIT_USAGE;
			}
			if (next && next[0] != '-' && !(!o->action && is_action(next))) {
				o->sandbox = next;
				i++;
			}
		} else if (o->identifier && !strcmp(a, "--identifier")) {
			/* sandbox secret: parse() starts with IDENTIFIER "". */
			if (!next || !*next) {
				fprintf(stderr, "synth %s: error: %s needs a value\n", o->cmd, a);
				return EXIT_USAGE;
			}
			o->identifier = next;
			i++;
		} else if (!strcmp(a, "--shared")) {
			o->shared = true;
		} else if (!strcmp(a, "--value") || !strncmp(a, "--value=", 8)) {
			fprintf(stderr, "synth secret: error: a value is never taken from the command "
					"line (it would stay in the shell history and show in the "
					"process list): run `synth secret set NAME` and type it at the "
					"prompt, or pipe it on stdin\n");
			return EXIT_USAGE;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "synth secret: error: unknown argument '%s'\n", a);
			usage(stderr);
			return EXIT_USAGE;
		} else if (!o->action) {
			if (!is_action(a)) {
				fprintf(stderr, "synth secret: error: unknown action '%s' (set, get, "
						"list or remove)\n", a);
				return EXIT_USAGE;
			}
			o->action = a;
		} else if (!o->name && strcmp(o->action, "list")) {
			o->name = a;
		} else if (!strcmp(o->action, "set")) {
			fprintf(stderr, "synth secret set: error: the value is not taken from the "
					"command line (it would stay in the shell history and show "
					"in the process list): run `synth secret set %s` and type it "
					"at the prompt, or pipe it on stdin\n", o->name);
			return EXIT_USAGE;
		} else {
			fprintf(stderr, "synth secret %s: error: unexpected argument '%s'\n",
				o->action, a);
			return EXIT_USAGE;
		}
	}
	/* `sandbox secret` acts on the sandbox --identifier names. */
	if (o->identifier)
		o->sandbox = o->identifier;
	if (!o->action) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(o->action, "list") && !o->name) {
		fprintf(stderr, "synth secret %s: error: the secret's NAME is missing\n", o->action);
		return EXIT_USAGE;
	}
	if (o->branch && o->sandbox) {
		fprintf(stderr, "synth secret: error: --branch and --sandbox exclude each other\n");
		return EXIT_USAGE;
	}
	if ((o->branch && !*o->branch) || (o->ns && !*o->ns)) {
		fprintf(stderr, "synth secret: error: --%s is empty\n", o->branch ? "branch"
										  : "namespace");
		return EXIT_USAGE;
	}
	return 0;
}

/* The backend whose secrets these are, identified as `synth` identifies
 * it (cli_identity): the namespace from --namespace or the directory's
 * name, a branch or a sandbox (the OS user's by default). *out: caller
 * frees. */
static int backend_of(const sopts *o, synth_backend **out)
{
	synth_identity id;
	int rc = cli_identity(&id, o->ns, o->branch, o->sandbox,
			      o->identifier ? CLI_ID_REFUSE : 0, o->cmd);
	if (rc)
		return rc;
	char *c_ns = synth_asprintf("synth:namespace=%s", id.ns);
	char *c_name = synth_asprintf("synth:name=%s", id.name);
	char *argv[] = {"secret", "-c", c_ns, "-c", c_name, "-c",
			o->branch ? "synth:type=branch" : "synth:type=sandbox", NULL};
	if (!c_ns || !c_name) {
		fprintf(stderr, "synth secret: error: out of memory\n");
		rc = EXIT_IO;
	} else if (synth_backend_new(out, 7, argv) < 0) {
		fprintf(stderr, "synth secret: error: %s\n", synth_error_last()->message);
		rc = EXIT_USAGE;
	}
	free(c_ns);
	free(c_name);
	synth_identity_clear(&id);
	return rc;
}

static volatile sig_atomic_t interrupted;
static void on_signal(int sig) { interrupted = sig; }

/*
 * Reads the value: at a prompt without echo when stdin is a terminal,
 * else all of stdin. One trailing newline ("\n" or "\r\n") is dropped.
 * *out: a VALUE_MAX + 2 byte buffer the caller wipes and frees. Returns 0
 * or an exit status after a message.
 */
static int read_value(const char *name, char **out)
{
	*out = NULL;
	size_t cap = VALUE_MAX + 2, len = 0;
	char *buf = calloc(1, cap + 1);
	if (!buf) {
		fprintf(stderr, "synth secret set: error: out of memory\n");
		return EXIT_IO;
	}
	bool tty = isatty(0);
	struct termios saved, quiet;
	struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
	bool restore = false;
	if (tty && tcgetattr(0, &saved) == 0) {
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		/* No SA_RESTART: a signal interrupts the read, the terminal is
		 * restored, then the command ends. */
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, &old_int);
		sigaction(SIGTERM, &sa, &old_term);
		if (tcsetattr(0, TCSAFLUSH, &quiet) == 0)
			restore = true;
		fprintf(stderr, "Enter the value of %s: ", name);
		fflush(stderr);
	}
	int rc = 0;
	bool too_long = false;
	for (;;) {
		if (len == cap) {
			too_long = true;
			break;
		}
		ssize_t n = read(0, buf + len, tty ? 1 : cap - len);
		if (n < 0 && errno == EINTR && !interrupted)
			continue;
		if (n < 0) {
			rc = interrupted ? 130 : EXIT_IO;
			if (!interrupted)
				fprintf(stderr, "synth secret set: error: reading the value: %s\n",
					strerror(errno));
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (tty && buf[len - 1] == '\n')
			break;
	}
	if (tty) {
		if (restore)
			tcsetattr(0, TCSAFLUSH, &saved);
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
		fputc('\n', stderr);
	}
	if (rc == 0 && too_long) {
		fprintf(stderr, "synth secret set: error: the value is longer than %d bytes, the "
				"most an SSM standard parameter holds\n", VALUE_MAX);
		rc = EXIT_USAGE;
	}
	if (rc == 0 && len > 0 && buf[len - 1] == '\n') {
		buf[--len] = '\0';
		if (len > 0 && buf[len - 1] == '\r')
			buf[--len] = '\0';
	}
	if (rc == 0 && memchr(buf, '\0', len)) {
		fprintf(stderr, "synth secret set: error: the value holds a NUL byte; a secret is "
				"text\n");
		rc = EXIT_USAGE;
	}
	if (rc == 0 && len == 0) {
		fprintf(stderr, "synth secret set: error: the value is empty%s\n",
			tty ? "" : " (nothing on stdin)");
		rc = EXIT_USAGE;
	}
	if (rc == 0 && len > VALUE_MAX) {
		fprintf(stderr, "synth secret set: error: the value is longer than %d bytes, the "
				"most an SSM standard parameter holds\n", VALUE_MAX);
		rc = EXIT_USAGE;
	}
	if (rc) {
		OPENSSL_cleanse(buf, cap + 1);
		free(buf);
		return rc;
	}
	*out = buf;
	return 0;
}

/* The SSM path under which the backend's secrets live (for list). */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? strndup(path, (size_t)(slash - path)) : NULL;
}

static int secret_main(int argc, char **argv, sopts o)
{
	/* Before any JSON is made: jansson's buffers are wiped when freed. */
	json_set_alloc_funcs(wiping_malloc, wiping_free);
	int rc = parse(argc, argv, &o);
	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	synth_backend *b = NULL;
	if ((rc = backend_of(&o, &b)) != 0)
		return rc;
	/* The parameter (or, for list, any name to find the directory). */
	char *path = NULL;
	const char *probe = o.name ? o.name : "x";
	if ((o.shared ? synth_secret_shared_path(&path, b, probe)
		      : synth_secret_path(&path, b, probe)) < 0) {
		fprintf(stderr, "synth secret %s: error: %s\n", o.action,
			synth_error_last()->message);
		synth_backend_free(b);
		return EXIT_USAGE;
	}
	char *value = NULL;
	if (!strcmp(o.action, "set") && (rc = read_value(o.name, &value)) != 0) {
		free(path);
		synth_backend_free(b);
		return rc;
	}
	synth_aws *a = NULL;
	if (cli_aws_client(&o.aws, &a) < 0) {
		if (value) {
			OPENSSL_cleanse(value, VALUE_MAX + 3);
			free(value);
		}
		free(path);
		synth_backend_free(b);
		return EXIT_USAGE;
	}
	int arc = 0;
	bool found = false;
	const char *act = o.action;
	if (!strcmp(act, "set")) {
		arc = synth_ssm_put(a, path, value);
		OPENSSL_cleanse(value, VALUE_MAX + 3);
		free(value);
		found = true;
		if (arc == 0)
			printf("secret %s set (%s)\n", o.name, path);
	} else if (!strcmp(act, "get")) {
		char *v = NULL;
		arc = synth_ssm_get(a, path, &v, &found);
		if (arc == 0 && found) {
			fputs(v, stdout);
			fputc('\n', stdout);
			fflush(stdout);
		}
		synth_ssm_free_value(v);
	} else if (!strcmp(act, "remove")) {
		arc = synth_ssm_delete(a, path, &found);
		if (arc == 0 && found)
			printf("secret %s removed (%s)\n", o.name, path);
	} else {
		char *dir = dir_of(path);
		json_t *names = NULL;
		arc = dir ? synth_ssm_list(a, dir, &names) : SYNTH_ENOMEM;
		size_t i, n = 0;
		json_t *nm;
		json_array_foreach(names, i, nm) {
			const char *full = json_string_value(nm);
			/* Direct children only: a name below another level is not a
			 * secret of this backend (for /synth/ns/shared, say). */
			if (strncmp(full, dir, strlen(dir)) || full[strlen(dir)] != '/' ||
			    strchr(full + strlen(dir) + 1, '/'))
				continue;
			puts(full + strlen(dir) + 1);
			n++;
		}
		if (arc == 0 && n == 0)
			fprintf(stderr, "synth secret list: no secrets under %s\n", dir);
		json_decref(names);
		free(dir);
		found = true;
	}
	int status = EXIT_OK;
	if (arc < 0) {
		fprintf(stderr, "synth secret %s: error: %s\n", act, synth_error_last()->message);
		status = EXIT_SYNTH;
	} else if (!found) {
		fprintf(stderr, "synth secret %s: error: secret %s is not set (no parameter %s)\n",
			act, o.name, path);
		status = EXIT_SYNTH;
	}
	synth_aws_free(a);
	free(path);
	synth_backend_free(b);
	return status;
}

int cli_secret(int argc, char **argv)
{
	return secret_main(argc, argv, (sopts){.cmd = "secret"});
}

/* synth sandbox secret ... [--identifier ID]: the secrets of the sandbox
 * ID (default: the OS user's), which must not name a shared environment. */
int cli_sandbox_secret(int argc, char **argv)
{
	return secret_main(argc, argv, (sopts){.cmd = "sandbox secret", .identifier = ""});
}
