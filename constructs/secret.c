/*
 * A secret as a construct (include/synth/secret.h): nothing to create, a
 * name to link to. The smallest linkable construct.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <synth.h>
#include <synth/secret.h>
#include <synth/sys/construct.h>

struct synth_secret {
	synth_construct *c;
};

static int secret_generate(synth_construct *self, void *state)
{
	(void)self;
	(void)state;
	return 0; /* the value lives in SSM; nothing to create */
}

/* "read": the secret under SYNTH_<NAME>_VALUE (paths, never the value). */
static int secret_link(synth_construct *self, void *state, synth_function *fn,
		       const char *access)
{
	(void)state;
	if (strcmp(access, "read"))
		return synth_construct_failf(self, SYNTH_EINVALID,
					     "link of %s: access '%s' is not read (the only "
					     "level a secret has)",
					     synth_construct_name(synth_function_construct(fn)),
					     access);
	synth_buf env = SYNTH_BUF_INIT;
	synth_buf_puts(&env, "SYNTH_");
	for (const char *p = synth_construct_name(self); *p; p++)
		synth_buf_putc(&env, *p == '-' ? '_' : (char)toupper((unsigned char)*p));
	synth_buf_puts(&env, "_VALUE");
	char *name = synth_buf_detach(&env);
	if (!name)
		return synth_error_oom();
	int rc = synth_function_add_secret(fn, name, synth_construct_name(self));
	free(name);
	return rc;
}

static const synth_construct_class secret_class = {
	.version = SYNTH_CONSTRUCT_CLASS_VERSION,
	.kind = "secret",
	.generate = secret_generate,
	.free = free,
	.link = secret_link,
};

synth_secret *synth_define_secret(synth_backend *b, const char *name)
{
	SYNTH_CHECK_HANDLE(b);
	synth_error_clear();
	if (!name || !synth_name_valid(name, 128)) {
		synth_backend_failf(b, SYNTH_EINVALID,
				    "secret name '%s' is not valid: use 1 to 128 letters, digits, "
				    "'-' or '_'", name ? name : "");
		return NULL;
	}
	synth_secret *s = calloc(1, sizeof *s);
	if (!s) {
		synth_backend_failf(b, SYNTH_ENOMEM, "%s: out of memory", name);
		return NULL;
	}
	if (synth_construct_new(&s->c, b, name, &secret_class, s) < 0)
		return NULL; /* s was freed by synth_construct_new */
	return s;
}

synth_construct *synth_secret_construct(synth_secret *s) { return s ? s->c : NULL; }
