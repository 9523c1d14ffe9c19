/*
 * The backend identity: namespace, branch or sandbox name, type and stack
 * name, resolved in one place for the backend program and the CLI.
 */
#define _GNU_SOURCE
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"

void synth_identity_clear(synth_identity *id)
{
	if (!id)
		return;
	free(id->ns);
	free(id->name);
	free(id->stack_name);
	memset(id, 0, sizeof *id);
}

/* The current directory's name ("/" stays "/"). */
static int namespace_default(char **out)
{
	char *cwd = getcwd(NULL, 0);
	if (!cwd)
		return synth_error_setf(SYNTH_EIO, "cannot read the working directory");
	const char *base = strrchr(cwd, '/');
	*out = strdup(base && base[1] ? base + 1 : cwd);
	free(cwd);
	return *out ? 0 : synth_error_oom();
}

/* The OS user: $USER, else the passwd entry of the real user ID. */
static int os_user(char **out)
{
	const char *u = getenv("USER");
	if (!u || !*u) {
		struct passwd *pw = getpwuid(getuid());
		u = pw && pw->pw_name && *pw->pw_name ? pw->pw_name : NULL;
	}
	if (!u)
		return synth_error_setf(SYNTH_ENOTFOUND,
					"no sandbox name: $USER is not set and user ID %lu has "
					"no passwd entry (name the sandbox)",
					(unsigned long)getuid());
	*out = strdup(u);
	return *out ? 0 : synth_error_oom();
}

int synth_identity_resolve(synth_identity *out, const char *ns, const char *branch,
			   const char *sandbox)
{
	memset(out, 0, sizeof *out);
	out->type = branch ? SYNTH_BACKEND_BRANCH : SYNTH_BACKEND_SANDBOX;
	const char *name = branch ? branch : sandbox;
	int rc = 0;
	if (ns)
		rc = (out->ns = strdup(ns)) ? 0 : synth_error_oom();
	else
		rc = namespace_default(&out->ns);
	if (rc == 0 && name)
		rc = (out->name = strdup(name)) ? 0 : synth_error_oom();
	else if (rc == 0)
		rc = os_user(&out->name);
	if (rc == 0)
		rc = synth_stack_name(&out->stack_name, out->ns, out->name, out->type);
	if (rc < 0)
		synth_identity_clear(out);
	return rc;
}
