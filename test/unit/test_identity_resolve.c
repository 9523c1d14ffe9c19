/* The backend identity (synth_identity_resolve): namespace, branch or
 * sandbox name, OS user fallback, stack name; and the backend program
 * (synth_backend_new) resolving the same one. */
#include <pwd.h>
#include <sys/wait.h>
#include "check.h"
#include "helpers.h"

/* The passwd name of the real user, or NULL. */
static const char *passwd_name(void)
{
	struct passwd *pw = getpwuid(getuid());
	return pw ? pw->pw_name : NULL;
}

static bool zeroed(const synth_identity *id)
{
	return !id->ns && !id->name && !id->stack_name && id->type == SYNTH_BACKEND_SANDBOX;
}

/* The same identity from the backend program, without context. */
static void check_backend_agrees(const synth_identity *id, const char *what)
{
	synth_backend *b = NULL;
	CHECK(synth_backend_new(&b, 0, NULL) == 0, "%s: synth_backend_new", what);
	CHECK_STR(b ? synth_backend_namespace(b) : NULL, id->ns, "%s: the backend's namespace", what);
	CHECK_STR(b ? synth_backend_name(b) : NULL, id->name, "%s: the backend's name", what);
	CHECK_STR(b ? synth_backend_stack_name(b) : NULL, id->stack_name,
		  "%s: the backend's stack name", what);
	synth_backend_free(b);
}

/* As an unprivileged user ID with no passwd entry and no $USER: an error,
 * never a made-up name. Needs root to change user; skipped otherwise. */
static void check_no_user(void)
{
	if (getuid() != 0) {
		printf("ok - # SKIP no passwd entry: not root\n");
		return;
	}
	uid_t uid = 54321;
	while (getpwuid(uid))
		uid++;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		if (setgid(uid) < 0 || setuid(uid) < 0)
			_exit(3);
		unsetenv("USER");
		synth_identity id;
		int rc = synth_identity_resolve(&id, "myapp", NULL, NULL);
		const char *m = synth_error_last()->message;
		_exit(rc == SYNTH_ENOTFOUND && zeroed(&id) && strstr(m, "no passwd entry") &&
			      strstr(m, "$USER") ? 0 : 1);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "no $USER and no passwd entry: SYNTH_ENOTFOUND naming both (child %d)",
	      WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

int main(void)
{
	char *dir = tmp_cwd();
	if (mkdir("myapp", 0755) < 0 || chdir("myapp") < 0)
		abort();
	unsetenv("CDK_CONTEXT_JSON");
	synth_identity id;
	char *sn = NULL;

	/* A branch, all given. */
	CHECK(synth_identity_resolve(&id, "todo", "feature/x", NULL) == 0, "a branch resolves");
	CHECK_STR(id.ns, "todo", "the namespace given");
	CHECK_STR(id.name, "feature/x", "the branch name as given (sanitized only in the stack name)");
	CHECK(id.type == SYNTH_BACKEND_BRANCH, "type branch");
	synth_stack_name(&sn, "todo", "feature/x", SYNTH_BACKEND_BRANCH);
	CHECK_STR(id.stack_name, sn, "the stack name is synth_stack_name's");
	free(sn);
	synth_identity_clear(&id);
	CHECK(zeroed(&id), "clear zeroes");
	synth_identity_clear(&id);
	synth_identity_clear(NULL);
	CHECK(1, "clear twice, and on NULL");

	/* A branch wins over a sandbox name. */
	CHECK(synth_identity_resolve(&id, "todo", "main", "alice") == 0 &&
		      id.type == SYNTH_BACKEND_BRANCH && !strcmp(id.name, "main"),
	      "a branch and a sandbox name: the branch");
	synth_identity_clear(&id);

	/* A named sandbox; the namespace from the directory. */
	setenv("USER", "carol", 1);
	CHECK(synth_identity_resolve(&id, NULL, NULL, "bob") == 0, "a named sandbox resolves");
	CHECK_STR(id.ns, "myapp", "no namespace: the directory's name");
	CHECK_STR(id.name, "bob", "the sandbox name given, not $USER");
	CHECK(id.type == SYNTH_BACKEND_SANDBOX, "type sandbox");
	CHECK_HAS(id.stack_name, "synth-myapp-bob-sandbox-", "its stack name");
	synth_identity_clear(&id);

	/* The OS user: $USER first. */
	CHECK(synth_identity_resolve(&id, NULL, NULL, NULL) == 0, "the OS user's sandbox");
	CHECK_STR(id.name, "carol", "the name is $USER");
	check_backend_agrees(&id, "$USER=carol");
	synth_identity_clear(&id);

	/* $USER unset or empty: the passwd name, never "sandbox". */
	const char *pw = passwd_name();
	const char *unset[] = {NULL, ""};
	for (int k = 0; k < 2; k++) {
		const char *what = unset[k] ? "$USER empty" : "$USER unset";
		if (unset[k])
			setenv("USER", unset[k], 1);
		else
			unsetenv("USER");
		int rc = synth_identity_resolve(&id, NULL, NULL, NULL);
		if (pw) {
			CHECK(rc == 0, "%s: resolves", what);
			CHECK_STR(id.name, pw, "%s: the passwd name", what);
			check_backend_agrees(&id, what);
		} else {
			CHECK(rc == SYNTH_ENOTFOUND && zeroed(&id), "%s, no passwd entry: an error", what);
		}
		CHECK(!id.name || strcmp(id.name, "sandbox") || (pw && !strcmp(pw, "sandbox")),
		      "%s: never the made-up name \"sandbox\"", what);
		synth_identity_clear(&id);
	}
	check_no_user();
	setenv("USER", "carol", 1);

	/* Errors: *out cleared, the message says what. */
	memset(&id, 0x5a, sizeof id);
	CHECK(synth_identity_resolve(&id, "todo", "", NULL) == SYNTH_EINVALID && zeroed(&id),
	      "an empty branch name: EINVALID, cleared");
	CHECK_HAS(synth_error_last()->message, "branch name is empty", "says so");
	CHECK(synth_identity_resolve(&id, "todo", NULL, "") == SYNTH_EINVALID && zeroed(&id),
	      "an empty sandbox name: EINVALID (not the OS user)");
	CHECK_HAS(synth_error_last()->message, "sandbox name is empty", "says so");
	CHECK(synth_identity_resolve(&id, "", "main", NULL) == SYNTH_EINVALID && zeroed(&id),
	      "an empty namespace: EINVALID");
	CHECK_HAS(synth_error_last()->message, "namespace is empty", "says so");
	CHECK(synth_identity_resolve(&id, "--", "main", NULL) == SYNTH_EINVALID,
	      "a namespace without a letter or digit: EINVALID");
	CHECK_HAS(synth_error_last()->message, "no letter or digit", "says so");

	/* The directory "/" is its own name: no letter or digit. */
	if (chdir("/") < 0)
		abort();
	CHECK(synth_identity_resolve(&id, NULL, "main", NULL) == SYNTH_EINVALID && zeroed(&id),
	      "in /: the namespace '/' is refused");
	CHECK_HAS(synth_error_last()->message, "'/' has no letter or digit", "says so");

	/* A trailing component with odd characters: sanitized in the stack
	 * name only. */
	if (chdir(dir) < 0 || mkdir("my app", 0755) < 0 || chdir("my app") < 0)
		abort();
	CHECK(synth_identity_resolve(&id, NULL, "main", NULL) == 0, "a directory with a space");
	CHECK_STR(id.ns, "my app", "the namespace as the directory names it");
	CHECK_HAS(id.stack_name, "synth-my-app-main-branch-", "sanitized in the stack name");
	synth_identity_clear(&id);

	rm_tmp(dir);
	return check_failed ? 1 : 0;
}
