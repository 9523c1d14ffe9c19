/*
 * The backend a command means, resolved for every command (synth, deploy,
 * destroy, diff, sandbox, secret, outputs) by the core's one function,
 * synth_identity_resolve(); plus what only the CLI adds to it: the sandbox
 * identifiers refused, the messages and exit statuses, and the context
 * handed to the backend program.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "synth.h"
#include "synth/sys/util.h"
#include "cli.h"

/* Names a sandbox must not take: shared environments and privileged
 * accounts, which a personal stack (deleted by `sandbox delete`) must not
 * be mistaken for. */
static const char *const refused_ids[] = {"root", "prod", "production", "main", "master",
					  "admin", "administrator", NULL};

static bool sandbox_refused(const char *id, const char *cmd)
{
	for (size_t i = 0; refused_ids[i]; i++)
		if (!strcasecmp(id, refused_ids[i])) {
			fprintf(stderr,
				"synth %s: error: the sandbox identifier '%s' is refused: it names a "
				"shared environment or a privileged account, and a sandbox is a "
				"personal stack that `synth sandbox delete` removes; choose another "
				"with --identifier NAME\n", cmd, id);
			return true;
		}
	return false;
}

int cli_identity(synth_identity *id, const char *ns, const char *branch, const char *sandbox,
		 int flags, const char *cmd)
{
	int rc = synth_identity_resolve(id, ns, branch, sandbox && *sandbox ? sandbox : NULL);
	if (rc < 0) {
		fprintf(stderr, "synth%s%s: error: %s\n", cmd ? " " : "", cmd ? cmd : "",
			synth_error_last()->message);
		return rc == SYNTH_ENOMEM || rc == SYNTH_EIO ? EXIT_IO : EXIT_USAGE;
	}
	if ((flags & CLI_ID_REFUSE) && id->type == SYNTH_BACKEND_SANDBOX &&
	    sandbox_refused(id->name, cmd ? cmd : "synth")) {
		synth_identity_clear(id);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int cli_identity_context(json_t *ctx, const synth_identity *id, bool with_ns)
{
	int rc = json_object_set_new(ctx, "synth:type", json_string(id->type == SYNTH_BACKEND_BRANCH
									 ? "branch" : "sandbox"));
	rc |= json_object_set_new(ctx, "synth:name", json_string(id->name));
	if (with_ns)
		rc |= json_object_set_new(ctx, "synth:namespace", json_string(id->ns));
	return rc ? synth_error_oom() : 0;
}
