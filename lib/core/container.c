/*
 * The construct container: factories, tokens, get-or-compute generation
 * and cycle detection.
 *
 * Pass 1 (synth__container_run) registers every token a factory provides;
 * a second, different provider for a token is an error. Pass 2 asks each
 * factory, in definition order, for its instance. A factory that needs
 * another calls synth_construct_require()/lookup(), which generates the
 * other one first (depth-first) unless it is already done. The chain of
 * factories being generated is kept through parent_gen, so a request for a
 * factory that is still generating is a cycle, reported with every step.
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

int synth_construct_new(synth_construct **out, synth_backend *b, const char *name,
			const synth_construct_class *cls, void *state)
{
	if (out)
		*out = NULL;
	if (!cls || cls->version != SYNTH_CONSTRUCT_CLASS_VERSION || !cls->generate) {
		if (cls && cls->free)
			cls->free(state);
		synth_error_setf(SYNTH_EINVALID, "%s: construct class is missing or of "
				 "an unknown version", name ? name : "(null)");
		return synth__backend_fail(b);
	}
	int rc = 0;
	if (b->ran)
		rc = synth_error_setf(SYNTH_EINVALID, "%s: defined after the backend ran",
				      name ? name : "(null)");
	else if (!synth_name_valid(name, 64))
		rc = synth_error_setf(SYNTH_EINVALID,
				      "construct name '%s' is not valid: use 1 to 64 letters, "
				      "digits, '-' or '_'", name ? name : "");
	else {
		synth_construct *prev = synth__map_get(&b->construct_by_name, name);
		if (prev)
			rc = synth_error_setf(SYNTH_EEXISTS,
					      "%s: two constructs have this name (a %s and a %s); "
					      "names must be unique", name, prev->cls->kind,
					      cls->kind);
	}
	if (rc < 0) {
		if (cls->free)
			cls->free(state);
		return synth__backend_fail(b);
	}
	synth_construct *c = calloc(1, sizeof *c);
	synth_construct **arr = realloc(b->constructs,
					(b->nconstructs + 1) * sizeof *arr);
	if (arr)
		b->constructs = arr;
	if (!c || !arr || !(c->name = strdup(name)) ||
	    synth__map_put(&b->construct_by_name, name, c) < 0) {
		if (c)
			free(c->name);
		free(c);
		if (cls->free)
			cls->free(state);
		synth_error_oom();
		return synth__backend_fail(b);
	}
	c->b = b;
	c->cls = cls;
	c->state = state;
	c->index = b->nconstructs;
	b->constructs[b->nconstructs++] = c;
	if (out)
		*out = c;
	return 0;
}

const char *synth_construct_name(const synth_construct *c) { return c->name; }
const char *synth_construct_kind(const synth_construct *c) { return c->cls->kind; }
void *synth_construct_state(const synth_construct *c) { return c->state; }
synth_backend *synth_construct_backend(const synth_construct *c) { return c->b; }

int synth_construct_fail(synth_construct *c, int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	synth_error_setf(code, "%s: %s", c->name, msg);
	return synth__backend_fail(c->b);
}

/* "a (function) -> b (auth) -> a (function)" for a request of TARGET
 * made while the chain ending at b->generating is being generated. */
static int report_cycle(synth_backend *b, synth_construct *target)
{
	size_t n = 0;
	for (synth_construct *c = b->generating; c; c = c->parent_gen) {
		n++;
		if (c == target)
			break;
	}
	synth_construct **chain = calloc(n ? n : 1, sizeof *chain);
	if (!chain)
		return synth_error_oom();
	size_t i = n;
	for (synth_construct *c = b->generating; c && i > 0; c = c->parent_gen) {
		chain[--i] = c;
		if (c == target)
			break;
	}
	synth_buf msg = SYNTH_BUF_INIT;
	synth_buf_puts(&msg, "dependency cycle between constructs: ");
	for (i = 0; i < n; i++)
		synth_buf_printf(&msg, "%s (%s) -> ", chain[i]->name, chain[i]->cls->kind);
	synth_buf_printf(&msg, "%s (%s)", target->name, target->cls->kind);
	free(chain);
	char *s = synth_buf_detach(&msg);
	if (!s)
		return synth_error_oom();
	synth_error_setf(SYNTH_ECYCLE, "%s", s);
	free(s);
	return SYNTH_ECYCLE;
}

/* Get-or-compute: generates C unless it is done; a request for a factory
 * that is generating is a cycle. */
static int generate(synth_construct *c)
{
	synth_backend *b = c->b;
	switch (c->gen) {
	case CONSTRUCT_DONE:
		return 0;
	case CONSTRUCT_FAILED:
		return b->error_code ? b->error_code : SYNTH_ERROR;
	case CONSTRUCT_GENERATING:
		report_cycle(b, c);
		return synth__backend_fail(b);
	case CONSTRUCT_IDLE:
		break;
	}
	c->gen = CONSTRUCT_GENERATING;
	c->parent_gen = b->generating;
	b->generating = c;
	int rc = c->cls->generate(c, c->state);
	b->generating = c->parent_gen;
	c->parent_gen = NULL;
	if (rc < 0) {
		c->gen = CONSTRUCT_FAILED;
		if (!b->error) {
			if (synth_error_last()->code == SYNTH_OK)
				synth_error_setf(rc, "%s: generation failed", c->name);
			synth__backend_fail(b);
		}
		return b->error_code;
	}
	c->gen = CONSTRUCT_DONE;
	return 0;
}

int synth_construct_require(synth_construct *self, synth_construct *dep)
{
	(void)self;
	return generate(dep);
}

int synth_construct_lookup(synth_construct **out, synth_construct *self,
			   const char *token)
{
	*out = NULL;
	synth_construct *p = synth__map_get(&self->b->token_providers, token);
	if (!p)
		return synth_construct_fail(self, SYNTH_ENOTFOUND,
					    "needs '%s', but no construct provides it",
					    token);
	int rc = synth_construct_require(self, p);
	if (rc == 0)
		*out = p;
	return rc;
}

int synth__container_run(synth_backend *b)
{
	/* Pass 1: tokens. */
	for (size_t i = 0; i < b->nconstructs; i++) {
		synth_construct *c = b->constructs[i];
		const char *tok = c->cls->provides;
		if (!tok)
			continue;
		synth_construct *prev = synth__map_get(&b->token_providers, tok);
		if (prev && prev != c) {
			synth_error_setf(SYNTH_EEXISTS,
					 "%s: provides '%s', which '%s' (%s) already provides; "
					 "a backend has one provider per token",
					 c->name, tok, prev->name, prev->cls->kind);
			return synth__backend_fail(b);
		}
		if (synth__map_put(&b->token_providers, tok, c) < 0)
			return synth__backend_fail(b);
	}
	/* Pass 2: instances, depth-first through dependencies. */
	for (size_t i = 0; i < b->nconstructs; i++) {
		int rc = generate(b->constructs[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}
