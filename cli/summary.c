/*
 * The synth summary, read back from a cloud assembly on disk (so it works
 * the same for `--app` programs): stacks, resources by type, outputs,
 * assets with source, size and hash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "../lib/core/internal.h"
#include "synth.h"
#include "cli.h"

static json_t *load(const char *dir, const char *file)
{
	char *p = synth_asprintf("%s/%s", dir, file);
	json_error_t err;
	json_t *j = p ? json_load_file(p, 0, &err) : NULL;
	if (!j)
		fprintf(stderr, "synth: error: cannot read %s: %s\n", p ? p : file,
			p ? err.text : "out of memory");
	free(p);
	return j;
}

/* Adds one template's facts to STACK (resources by type, outputs) and
 * follows its nested stacks. */
static int add_template(const char *dir, const char *file, json_t *stack, int depth)
{
	json_t *t = load(dir, file);
	if (!t)
		return -1;
	json_t *types = json_object_get(stack, "resourceTypes");
	json_t *nested = json_object_get(stack, "nestedTemplates");
	json_t *res = json_object_get(t, "Resources");
	const char *lid;
	json_t *r;
	int rc = 0;
	json_object_foreach(res, lid, r) {
		const char *type = json_string_value(json_object_get(r, "Type"));
		if (!type)
			continue;
		const char *np = json_string_value(
			json_object_get(json_object_get(r, "Metadata"), "aws:asset:path"));
		if (!strcmp(type, "AWS::CloudFormation::Stack") && np && depth < 4) {
			json_array_append_new(nested, json_string(np));
			rc |= add_template(dir, np, stack, depth + 1);
			continue;
		}
		json_object_set_new(stack, "resources",
				    json_integer(json_integer_value(json_object_get(stack, "resources")) + 1));
		json_t *c = json_object_get(types, type);
		json_object_set_new(types, type,
				    json_integer(c ? json_integer_value(c) + 1 : 1));
	}
	if (depth == 0) {
		json_t *outs = json_object_get(stack, "outputs");
		const char *name;
		json_t *o;
		json_object_foreach(json_object_get(t, "Outputs"), name, o)
			json_array_append_new(outs, json_string(name));
	}
	json_decref(t);
	return rc;
}

json_t *cli_summary(const char *dir)
{
	json_t *man = load(dir, "manifest.json");
	if (!man)
		return NULL;
	json_t *sum = json_pack("{s:s,s:O,s:[],s:[]}", "assembly", dir, "version",
				json_object_get(man, "version"), "stacks", "assets");
	json_t *stacks = json_object_get(sum, "stacks");
	json_t *assets = json_object_get(sum, "assets");
	const char *id;
	json_t *art;
	int rc = 0;
	json_object_foreach(json_object_get(man, "artifacts"), id, art) {
		const char *type = json_string_value(json_object_get(art, "type"));
		json_t *props = json_object_get(art, "properties");
		if (type && !strcmp(type, "aws:cloudformation:stack")) {
			const char *tf = json_string_value(json_object_get(props, "templateFile"));
			const char *sn = json_string_value(json_object_get(props, "stackName"));
			json_t *s = json_pack("{s:s,s:s,s:i,s:{},s:[],s:[]}", "name", sn ? sn : id,
					      "templateFile", tf ? tf : "", "resources", 0,
					      "resourceTypes", "outputs", "nestedTemplates");
			if (tf)
				rc |= add_template(dir, tf, s, 0);
			json_array_append_new(stacks, s);
		} else if (type && !strcmp(type, "cdk:asset-manifest")) {
			const char *f = json_string_value(json_object_get(props, "file"));
			json_t *am = f ? load(dir, f) : NULL;
			const char *hash;
			json_t *fa;
			json_object_foreach(json_object_get(am, "files"), hash, fa) {
				const char *path = json_string_value(
					json_object_get(json_object_get(fa, "source"), "path"));
				const char *disp = json_string_value(json_object_get(fa, "displayName"));
				struct stat st;
				char *full = path ? synth_asprintf("%s/%s", dir, path) : NULL;
				long long size = full && stat(full, &st) == 0 ? (long long)st.st_size : -1;
				free(full);
				bool is_template = path && strstr(path, ".template.json");
				json_array_append_new(
					assets, json_pack("{s:s,s:s,s:s,s:s,s:I}", "hash", hash,
							  "kind", is_template ? "template" : "zip",
							  "source", disp ? disp : "", "file",
							  path ? path : "", "size", (json_int_t)size));
			}
			json_decref(am);
		}
	}
	json_decref(man);
	if (rc) {
		json_decref(sum);
		return NULL;
	}
	return sum;
}

static void human_size(long long n, char *buf, size_t len)
{
	if (n < 1024)
		snprintf(buf, len, "%lld B", n);
	else if (n < 1024 * 1024)
		snprintf(buf, len, "%.1f KB", n / 1024.0);
	else
		snprintf(buf, len, "%.1f MB", n / (1024.0 * 1024.0));
}

void cli_summary_print(json_t *sum, FILE *out)
{
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(sum, "stacks"), i, s) {
		json_t *nested = json_object_get(s, "nestedTemplates");
		fprintf(out, "Stack %s\n", json_string_value(json_object_get(s, "name")));
		fprintf(out, "  template   %s/%s", json_string_value(json_object_get(sum, "assembly")),
			json_string_value(json_object_get(s, "templateFile")));
		if (json_array_size(nested))
			fprintf(out, " (+%zu nested stacks)", json_array_size(nested));
		fprintf(out, "\n  resources  %lld\n",
			(long long)json_integer_value(json_object_get(s, "resources")));
		const char *type;
		json_t *c;
		json_object_foreach(json_object_get(s, "resourceTypes"), type, c)
			fprintf(out, "    %-34s %lld\n", type, (long long)json_integer_value(c));
		json_t *outs = json_object_get(s, "outputs");
		if (json_array_size(outs)) {
			fprintf(out, "  outputs    %zu\n", json_array_size(outs));
			size_t k;
			json_t *o;
			json_array_foreach(outs, k, o)
				fprintf(out, "    %s\n", json_string_value(o));
		}
	}
	json_t *assets = json_object_get(sum, "assets");
	size_t zips = 0;
	json_t *a;
	json_array_foreach(assets, i, a)
		zips += !strcmp(json_string_value(json_object_get(a, "kind")), "zip");
	fprintf(out, "Assets %zu (+%zu templates)\n", zips, json_array_size(assets) - zips);
	json_array_foreach(assets, i, a) {
		if (strcmp(json_string_value(json_object_get(a, "kind")), "zip"))
			continue;
		char sz[32];
		human_size((long long)json_integer_value(json_object_get(a, "size")), sz, sizeof sz);
		fprintf(out, "  %-28s %9s  %.12s  %s\n",
			json_string_value(json_object_get(a, "source")), sz,
			json_string_value(json_object_get(a, "hash")),
			json_string_value(json_object_get(a, "file")));
	}
}
