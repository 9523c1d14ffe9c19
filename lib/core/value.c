/*
 * Intrinsic value builders. References are tokens ({"Synth::Ref": path},
 * {"Synth::GetAtt": [path, attr]}, {"Synth::Param": name}) that template.c
 * resolves at emit time; the Fn:: functions are plain CloudFormation JSON
 * whose arguments may contain tokens.
 */
#include <stdarg.h>
#include "internal.h"

json_t *synth_ref(const char *path)
{
	return json_pack("{s:s}", SYNTH_TOKEN_REF, path);
}

json_t *synth_getatt(const char *path, const char *attr)
{
	return json_pack("{s:[s,s]}", SYNTH_TOKEN_GETATT, path, attr);
}

json_t *synth_pseudo(const char *name)
{
	return json_pack("{s:s}", "Ref", name);
}

json_t *synth_param(const char *name)
{
	return json_pack("{s:s}", SYNTH_TOKEN_PARAM, name);
}

json_t *synth_sub(const char *fmt, ...)
{
	va_list ap;
	json_t *vars = json_object();
	bool failed = vars == NULL;
	va_start(ap, fmt);
	for (;;) {
		const char *name = va_arg(ap, const char *);
		if (!name)
			break;
		json_t *v = va_arg(ap, json_t *);
		if (!v || failed || json_object_set_new(vars, name, v) < 0) {
			if (!failed && v == NULL)
				failed = true;
			failed = true;
		}
	}
	va_end(ap);
	if (failed || !fmt) {
		json_decref(vars);
		return NULL;
	}
	if (json_object_size(vars) == 0) {
		json_decref(vars);
		return json_pack("{s:s}", "Fn::Sub", fmt);
	}
	return json_pack("{s:[s,o]}", "Fn::Sub", fmt, vars);
}

json_t *synth_join(const char *delim, json_t *list)
{
	if (!list)
		return NULL;
	return json_pack("{s:[s,o]}", "Fn::Join", delim, list);
}

json_t *synth_select(unsigned index, json_t *list)
{
	if (!list)
		return NULL;
	return json_pack("{s:[I,o]}", "Fn::Select", (json_int_t)index, list);
}

json_t *synth_split(const char *delim, json_t *source)
{
	if (!source)
		return NULL;
	return json_pack("{s:[s,o]}", "Fn::Split", delim, source);
}

json_t *synth_if(const char *condition, json_t *when_true, json_t *when_false)
{
	if (!when_true || !when_false) {
		json_decref(when_true);
		json_decref(when_false);
		return NULL;
	}
	return json_pack("{s:[s,o,o]}", "Fn::If", condition, when_true, when_false);
}

json_t *synth_import_value(json_t *name)
{
	if (!name)
		return NULL;
	return json_pack("{s:o}", "Fn::ImportValue", name);
}
