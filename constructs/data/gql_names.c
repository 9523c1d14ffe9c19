/*
 * The names of a model's operations (see gql_names.h), shared by the
 * client schema and the resolvers.
 */
#include <stdio.h>
#include <string.h>
#include "graphql.h"
#include "gql_names.h"

void synth__gql_names_plural(char *out, size_t cap, const char *s)
{
	size_t keep;
	const char *suffix = synth__graphql_plural(s, &keep);
	snprintf(out, cap, "%.*s%s", (int)keep, s, suffix);
}

void synth__gql_names_cat_upper(char *out, size_t cap, const char *s)
{
	size_t n = strlen(out);
	if (n + 1 >= cap || !*s)
		return;
	snprintf(out + n, cap - n, "%c%s", (*s >= 'a' && *s <= 'z') ? *s - 'a' + 'A' : *s, s + 1);
}

/* One operation name from @model's option group GROUP, key KEY: as
 * written, NULL when the group or the key is null, else PREFIX + MODEL
 * (upper-cased first letter), MODEL's plural when PLURAL. */
static const char *opt_name(const json_t *opts, const char *group, const char *key, char *buf,
			    const char *prefix, const char *model, bool plural)
{
	json_t *grp = json_object_get(opts, group);
	if (grp && json_is_null(grp))
		return NULL;
	json_t *v = json_object_get(grp, key);
	if (v && json_is_null(v))
		return NULL;
	if (json_is_string(v)) {
		snprintf(buf, SYNTH_GQL_NAME_MAX, "%s", json_string_value(v));
		return buf;
	}
	char pl[SYNTH_GQL_NAME_MAX];
	if (plural)
		synth__gql_names_plural(pl, sizeof pl, model);
	snprintf(buf, SYNTH_GQL_NAME_MAX, "%s", prefix);
	synth__gql_names_cat_upper(buf, SYNTH_GQL_NAME_MAX, plural ? pl : model);
	return buf;
}

void synth__gql_names_model(synth_gql_names *o, const char *model, const json_t *m)
{
	const json_t *opts = json_object_get(m, "options");
	memset(o, 0, sizeof *o);
	o->get = opt_name(opts, "queries", "get", o->getb, "get", model, false);
	o->list = opt_name(opts, "queries", "list", o->listb, "list", model, true);
	o->create = opt_name(opts, "mutations", "create", o->createb, "create", model, false);
	o->update = opt_name(opts, "mutations", "update", o->updateb, "update", model, false);
	o->del = opt_name(opts, "mutations", "delete", o->delb, "delete", model, false);
	json_t *subs = json_object_get(opts, "subscriptions");
	const char *level = json_string_value(json_object_get(subs, "level"));
	o->subs = !(subs && json_is_null(subs)) && !(level && !strcmp(level, "off"));
	static const char *const keys[] = {"onCreate", "onUpdate", "onDelete"};
	const char *muts[] = {o->create, o->update, o->del};
	for (int i = 0; i < 3; i++) {
		json_t *v = json_object_get(subs, keys[i]);
		if (!o->subs || !muts[i] || (v && json_is_null(v)))
			continue;
		if (json_is_array(v)) {
			o->on[i] = v;
			o->non[i] = json_array_size(v);
		} else if (json_is_string(v)) {
			snprintf(o->onb[i], SYNTH_GQL_NAME_MAX, "%s", json_string_value(v));
			o->non[i] = 1;
		} else {
			snprintf(o->onb[i], SYNTH_GQL_NAME_MAX, "%s", keys[i]);
			synth__gql_names_cat_upper(o->onb[i], SYNTH_GQL_NAME_MAX, model);
			o->non[i] = 1;
		}
	}
}

const char *synth__gql_names_on(const synth_gql_names *o, int i, size_t k)
{
	return o->on[i] ? json_string_value(json_array_get(o->on[i], k)) : o->onb[i];
}
