/*
 * Resources: the model's nodes. Each has a construct path, a stable
 * logical ID derived from it, a type, properties (with tokens), metadata,
 * explicit dependencies and a layout group. A leaf of the core: it calls
 * nothing but the utilities and the sticky-error module.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "synth/sys/construct.h"

static int set_string(char **slot, const char *v)
{
	char *c = synth_strdup(v);
	if (v && !c)
		return synth_error_oom();
	free(*slot);
	*slot = c;
	return 0;
}

/* --- resources --------------------------------------------------------- */

char *synth__logical_id(const char *path)
{
	synth_buf h = SYNTH_BUF_INIT;
	const char *last = strrchr(path, '/');
	size_t human_max = 255 - 8;
	for (const char *p = path; *p; p++) {
		/* Drop a final "Resource" component, as the CDK does. */
		if (last && p == last + 1 && !strcmp(p, "Resource"))
			break;
		if (isalnum((unsigned char)*p) && (unsigned char)*p < 128 && h.len < human_max)
			synth_buf_putc(&h, *p);
	}
	char hex[65];
	if (synth_sha256_hex(path, strlen(path), hex) < 0) {
		synth_buf_free(&h);
		return NULL;
	}
	for (int i = 0; i < 8; i++)
		synth_buf_putc(&h, (char)toupper((unsigned char)hex[i]));
	return synth_buf_detach(&h);
}

synth_resource *synth_backend_resource(synth_backend *b, const char *path)
{
	SYNTH_CHECK_HANDLE(b);
	synth_resource *r = synth__map_get(&b->resource_by_path, path);
	if (!r && !strchr(path, '/') && strlen(path) < 200) {
		/* A construct name is short for its "<name>/Resource". */
		char p[256];
		snprintf(p, sizeof p, "%s/Resource", path);
		r = synth__map_get(&b->resource_by_path, p);
	}
	return r;
}

/* A group's value in construct->groups before its first resource. */
#define GROUP_UNNUMBERED ((uintptr_t)1)

/* The layout unit of a new resource R of OWNER: the construct's own
 * (its index), or its current layout group's. Units are numbered
 * constructs first, then one slot per resource: a group takes the slot of
 * its first resource, which no raw resource can use. */
static size_t owner_unit(synth_construct *owner, const synth_resource *r)
{
	if (!owner->group)
		return owner->index;
	uintptr_t u = (uintptr_t)synth__map_get(&owner->groups, owner->group);
	if (u > GROUP_UNNUMBERED)
		return (size_t)(u - GROUP_UNNUMBERED - 1);
	size_t unit = owner->b->nconstructs + r->index;
	/* Replaces the value of a key already there. Should it fail (out of
	 * memory while the map grows), the group's next resource numbers it
	 * again: the layout may split the group, the templates stay valid. */
	synth__map_put(&owner->groups, owner->group,
		       (void *)(uintptr_t)(unit + GROUP_UNNUMBERED + 1));
	return unit;
}

int synth_construct_set_layout_group(synth_construct *self, const char *group)
{
	SYNTH_CHECK_HANDLE(self);
	if (!group) {
		free(self->group);
		self->group = NULL;
		return 0;
	}
	if (!*group)
		return synth_construct_failf(self, SYNTH_EINVALID, "a layout group needs a name");
	char *g = strdup(group);
	if (!g || (!synth__map_get(&self->groups, group) &&
		   synth__map_put(&self->groups, group, (void *)GROUP_UNNUMBERED) < 0)) {
		free(g);
		synth_error_oom();
		return synth__backend_fail(self->b);
	}
	free(self->group);
	self->group = g;
	return 0;
}

static bool valid_resource_id(const char *id)
{
	if (!id || !*id || strlen(id) > 128 || id[0] == '/' || id[strlen(id) - 1] == '/')
		return false;
	for (const char *p = id; *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '_' || *p == '/'))
			return false;
	return !strstr(id, "//");
}

static int resource_add(synth_resource **out, synth_backend *b, synth_construct *owner,
			const char *path, const char *type, json_t *props)
{
	if (out)
		*out = NULL;
	int rc = 0;
	synth_resource *prev;
	if (!type || !strstr(type, "::"))
		rc = synth_error_setf(SYNTH_EINVALID,
				      "%s: resource type '%s' is not of the form "
				      "Service::Module::Type", path, type ? type : "");
	else if (props && !json_is_object(props))
		rc = synth_error_setf(SYNTH_EINVALID, "%s: properties must be a JSON object",
				      path);
	else if ((prev = synth__map_get(&b->resource_by_path, path)))
		rc = synth_error_setf(SYNTH_EEXISTS, "%s: two resources have this path", path);
	if (rc < 0) {
		json_decref(props);
		return synth__backend_fail(b);
	}
	synth_resource *r = calloc(1, sizeof *r);
	int grown = synth_array_grow((void **)&b->resources, &b->nresources, &b->cap_resources,
				     sizeof *b->resources);
	if (!r || grown < 0 || !(r->path = strdup(path)) || !(r->type = strdup(type)) ||
	    !(r->logical_id = synth__logical_id(path)) ||
	    !(r->props = props ? props : json_object())) {
		if (r) {
			free(r->path);
			free(r->type);
			free(r->logical_id);
		}
		free(r);
		json_decref(props);
		synth_error_oom();
		return synth__backend_fail(b);
	}
	prev = synth__map_get(&b->resource_by_lid, r->logical_id);
	if (prev) {
		synth_error_setf(SYNTH_EEXISTS,
				 "%s: logical ID %s collides with the one of %s", path,
				 r->logical_id, prev->path);
		free(r->path);
		free(r->type);
		free(r->logical_id);
		json_decref(r->props);
		free(r);
		return synth__backend_fail(b);
	}
	if (synth__map_put(&b->resource_by_path, path, r) < 0 ||
	    synth__map_put(&b->resource_by_lid, r->logical_id, r) < 0) {
		/* The maps may hold r: keep it in the list so it is freed once. */
		rc = synth__backend_fail(b);
	}
	r->owner = owner;
	r->index = b->nresources;
	r->unit = owner ? owner_unit(owner, r) : b->nconstructs + r->index;
	b->resources[b->nresources++] = r;
	if (rc == 0 && out)
		*out = r;
	return rc;
}

int synth_resource_new(synth_resource **out, synth_construct *scope, const char *id,
		       const char *type, json_t *props)
{
	SYNTH_CHECK_HANDLE(scope);
	synth_backend *b = scope->b;
	if (!valid_resource_id(id)) {
		json_decref(props);
		synth_error_setf(SYNTH_EINVALID, "%s: resource id '%s' is not valid",
				 scope->name, id ? id : "");
		return synth__backend_fail(b);
	}
	char *path = synth_asprintf("%s/%s", scope->name, id);
	if (!path) {
		json_decref(props);
		synth_error_oom();
		return synth__backend_fail(b);
	}
	int rc = resource_add(out, b, scope, path, type, props);
	free(path);
	return rc;
}

json_t *synth_resource_ref(const synth_resource *r)
{
	SYNTH_CHECK_HANDLE(r);
	return synth_ref(r->path);
}
json_t *synth_resource_getatt(const synth_resource *r, const char *attr)
{
	SYNTH_CHECK_HANDLE(r);
	return synth_getatt(r->path, attr);
}
const char *synth_resource_path(const synth_resource *r)
{
	SYNTH_CHECK_HANDLE(r);
	return r->path;
}
const char *synth_resource_logical_id(const synth_resource *r)
{
	SYNTH_CHECK_HANDLE(r);
	return r->logical_id;
}
const char *synth_resource_type(const synth_resource *r)
{
	SYNTH_CHECK_HANDLE(r);
	return r->type;
}
json_t *synth_resource_properties(synth_resource *r)
{
	SYNTH_CHECK_HANDLE(r);
	return r->props;
}

int synth_resource_add_dependency(synth_resource *r, const synth_resource *dep)
{
	SYNTH_CHECK_HANDLE(r);
	SYNTH_CHECK_HANDLE(dep);
	for (size_t i = 0; i < r->ndeps; i++)
		if (r->deps[i] == dep)
			return 0;
	if (synth_array_grow((void **)&r->deps, &r->ndeps, &r->cap_deps, sizeof *r->deps) < 0)
		return SYNTH_ENOMEM;
	r->deps[r->ndeps++] = (synth_resource *)dep;
	return 0;
}

int synth_resource_set_condition(synth_resource *r, const char *condition)
{
	SYNTH_CHECK_HANDLE(r);
	return set_string(&r->condition, condition);
}

int synth_resource_set_deletion_policy(synth_resource *r, const char *policy)
{
	SYNTH_CHECK_HANDLE(r);
	if (!policy || (strcmp(policy, "Delete") && strcmp(policy, "Retain") &&
			strcmp(policy, "Snapshot") && strcmp(policy, "RetainExceptOnCreate")))
		return synth_error_setf(SYNTH_EINVALID,
					"%s: deletion policy '%s' is not Delete, Retain, "
					"RetainExceptOnCreate or Snapshot", r->path,
					policy ? policy : "");
	return set_string(&r->deletion_policy, policy);
}

int synth_resource_add_metadata(synth_resource *r, const char *key, json_t *value)
{
	SYNTH_CHECK_HANDLE(r);
	if (!r->metadata && !(r->metadata = json_object())) {
		json_decref(value);
		return synth_error_oom();
	}
	if (!value || json_object_set_new(r->metadata, key, value) < 0)
		return synth_error_oom();
	return 0;
}

