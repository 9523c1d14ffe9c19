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
#include "synth/sys/construct.h"

int synth_construct_new(synth_construct **out, synth_backend *b, const char *name,
			const synth_construct_class *cls, void *state)
{
	SYNTH_CHECK_HANDLE(b);
	if (out)
		*out = NULL;
	bool known = cls && cls->version >= 1 && cls->version <= SYNTH_CONSTRUCT_CLASS_VERSION;
	if (!known || !cls->generate) {
		/* Nothing of a class of an unknown version is called. */
		if (known && cls->free)
			cls->free(state);
		if (!cls)
			return synth_backend_failf(b, SYNTH_EINVALID, "%s: no construct class",
						   name ? name : "(null)");
		if (!known)
			return synth_backend_failf(
				b, SYNTH_EINVALID,
				"%s: its construct class has version %d, but libsynth %s "
				"supports versions 1 to %d: rebuild the construct against "
				"this libsynth's headers", name ? name : "(null)", cls->version,
				SYNTH_VERSION, SYNTH_CONSTRUCT_CLASS_VERSION);
		return synth_backend_failf(b, SYNTH_EINVALID,
					   "%s: construct class '%s' has no generate()",
					   name ? name : "(null)", cls->kind ? cls->kind : "?");
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
	int grown = synth_array_grow((void **)&b->constructs, &b->nconstructs,
				     &b->cap_constructs, sizeof *b->constructs);
	if (!c || grown < 0 || !(c->name = strdup(name)) ||
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

const char *synth_construct_name(const synth_construct *c)
{
	SYNTH_CHECK_HANDLE(c);
	return c->name;
}
const char *synth_construct_kind(const synth_construct *c)
{
	SYNTH_CHECK_HANDLE(c);
	return c->cls->kind;
}
void *synth_construct_state(const synth_construct *c)
{
	SYNTH_CHECK_HANDLE(c);
	return c->state;
}
synth_backend *synth_construct_backend(const synth_construct *c)
{
	SYNTH_CHECK_HANDLE(c);
	return c->b;
}
size_t synth_construct_index(const synth_construct *c)
{
	SYNTH_CHECK_HANDLE(c);
	return c->index;
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
	SYNTH_CHECK_HANDLE(self);
	SYNTH_CHECK_HANDLE(dep);
	return generate(dep);
}

int synth_construct_find(synth_construct **out, synth_construct *self, const char *token)
{
	SYNTH_CHECK_HANDLE(self);
	*out = NULL;
	synth_construct *p = synth__map_get(&self->b->token_providers, token);
	if (!p)
		return 0;
	int rc = synth_construct_require(self, p);
	if (rc == 0)
		*out = p;
	return rc;
}

int synth_construct_lookup(synth_construct **out, synth_construct *self,
			   const char *token)
{
	SYNTH_CHECK_HANDLE(self);
	int rc = synth_construct_find(out, self, token);
	if (rc == 0 && !*out)
		return synth_construct_failf(self, SYNTH_ENOTFOUND,
					     "needs '%s', but no construct provides it",
					     token);
	return rc;
}

bool synth_backend_provides(const synth_backend *b, const char *token)
{
	SYNTH_CHECK_HANDLE(b);
	for (size_t i = 0; token && i < b->nconstructs; i++) {
		const char *p = b->constructs[i]->cls->provides;
		if (p && !strcmp(p, token))
			return true;
	}
	return false;
}

synth_construct *synth_backend_construct(const synth_backend *b, const char *name)
{
	SYNTH_CHECK_HANDLE(b);
	return name ? synth__map_get(&b->construct_by_name, name) : NULL;
}

synth_construct *synth_backend_next(const synth_backend *b, const synth_construct_class *cls,
				    const synth_construct *prev)
{
	SYNTH_CHECK_HANDLE(b);
	for (size_t i = prev ? prev->index + 1 : 0; i < b->nconstructs; i++)
		if (!cls || b->constructs[i]->cls == cls)
			return b->constructs[i];
	return NULL;
}

const synth_construct_class *synth_construct_class_of(const synth_construct *c)
{
	SYNTH_CHECK_HANDLE(c);
	return c->cls;
}

void *synth_construct_state_as(const synth_construct *c, const synth_construct_class *cls)
{
	/* NULL in, NULL out: a checked cast of a lookup that may find none. */
	return c && c->cls == cls ? c->state : NULL;
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
