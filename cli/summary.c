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

/*
 * A template is read without building its whole tree: a strict JSON scanner
 * keeps only what the summary uses, {"Resources": {ID: {"Type": T,
 * "Metadata": {"aws:asset:path": P}}}, "Outputs": {NAME: null}} (a
 * resource's Type or path only when a string; a later duplicate key wins,
 * as in jansson). Parsing the template with jansson took more than half of
 * the CLI's time on a warm synth. Anything the scanner does not take on
 * (an escape or a non-ASCII byte in a key or a kept value, an exponent or
 * a long number, deep nesting, a syntax error) sends the template to
 * jansson, which decides and gives the error message.
 */
typedef struct scan {
	const char *p, *end;
	int depth;
} scan;

static void sc_ws(scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\t' || *s->p == '\r'))
		s->p++;
}

/* The length of the valid UTF-8 sequence at P (a lead byte >= 0x80), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	size_t n = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 && p[0] < 0xe0 ? 2 : 0;
	if (!n || (size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) ||
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))
		return 0; /* overlong, a surrogate, past U+10FFFF */
	return n;
}

/* A string at S->p ('"'). With PLAIN, *PLAIN and *N are its bytes when it has
 * no escape and no byte outside printable ASCII, else *PLAIN is NULL.
 * False on anything not taken on. */
static bool sc_string(scan *s, const char **plain, size_t *n)
{
	if (s->p >= s->end || *s->p != '"')
		return false;
	const char *start = ++s->p;
	bool simple = true;
	while (s->p < s->end && *s->p != '"') {
		unsigned char c = (unsigned char)*s->p;
		if (c < 0x20)
			return false;
		if (c == '\\') {
			simple = false;
			if (++s->p >= s->end)
				return false;
			if (*s->p == 'u') {
				/* \u0000 (jansson refuses it) and surrogates: jansson's call. */
				if (s->end - s->p < 5 || !strncmp(s->p + 1, "0000", 4))
					return false;
				for (int i = 1; i <= 4; i++)
					if (synth_hex_value(s->p[i]) < 0)
						return false;
				if ((synth_hex_value(s->p[1]) == 0xd) && synth_hex_value(s->p[2]) >= 8)
					return false;
				s->p += 5;
			} else if (strchr("\"\\/bfnrt", *s->p) && *s->p) {
				s->p++;
			} else {
				return false;
			}
		} else if (c >= 0x80) {
			size_t k = utf8_len((const unsigned char *)s->p, (const unsigned char *)s->end);
			if (!k)
				return false;
			simple = false;
			s->p += k;
		} else {
			s->p++;
		}
	}
	if (s->p >= s->end)
		return false;
	if (plain) {
		*plain = simple ? start : NULL;
		*n = (size_t)(s->p - start);
	}
	s->p++;
	return true;
}

static bool sc_value(scan *s, json_t *keep, int what);

/* Keeps nothing: any value, checked. */
static bool sc_skip(scan *s)
{
	return sc_value(s, NULL, 0);
}

/* What an object's members are kept as. */
enum { K_NONE, K_TOP, K_RESOURCES, K_RESOURCE, K_METADATA, K_OUTPUTS };

/* A kept string member: set when a plain string, removed otherwise (a
 * later duplicate wins). */
static bool sc_keep_string(scan *s, json_t *obj, const char *key)
{
	const char *v;
	size_t n;
	if (s->p < s->end && *s->p == '"') {
		if (!sc_string(s, &v, &n) || !v)
			return false;
		return json_object_set_new(obj, key, json_stringn(v, n)) == 0;
	}
	json_object_del(obj, key);
	return sc_skip(s);
}

/* An object whose members are kept as WHAT says, into KEEP. */
static bool sc_object(scan *s, json_t *keep, int what)
{
	s->p++; /* '{' */
	sc_ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return true;
	}
	for (;;) {
		const char *k;
		size_t kn;
		sc_ws(s);
		if (!sc_string(s, &k, &kn) || (what && !k))
			return false;
		sc_ws(s);
		if (s->p >= s->end || *s->p != ':')
			return false;
		s->p++;
		sc_ws(s);
		bool ok;
#define KEY_IS(lit) (kn == sizeof lit - 1 && !memcmp(k, lit, kn))
		if ((what == K_TOP && KEY_IS("Resources")) || (what == K_TOP && KEY_IS("Outputs")) ||
		    (what == K_RESOURCES) || (what == K_RESOURCE && KEY_IS("Metadata"))) {
			char *name = strndup(k, kn);
			int sub = what == K_RESOURCES ? K_RESOURCE : what == K_RESOURCE ? K_METADATA :
				  KEY_IS("Resources") ? K_RESOURCES : K_OUTPUTS;
			if (!name) {
				ok = false;
			} else if (s->p < s->end && *s->p == '{') {
				json_t *o = json_object();
				ok = o && json_object_set_new(keep, name, o) == 0 && sc_object(s, o, sub);
			} else {
				json_object_del(keep, name);
				ok = sc_skip(s);
			}
			free(name);
		} else if (what == K_RESOURCE && KEY_IS("Type")) {
			ok = sc_keep_string(s, keep, "Type");
		} else if (what == K_METADATA && KEY_IS("aws:asset:path")) {
			ok = sc_keep_string(s, keep, "aws:asset:path");
		} else if (what == K_OUTPUTS) {
			char *name = strndup(k, kn);
			ok = name && json_object_set_new(keep, name, json_null()) == 0 && sc_skip(s);
			free(name);
		} else {
			ok = sc_skip(s);
		}
#undef KEY_IS
		if (!ok)
			return false;
		sc_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == '}') {
			s->p++;
			return true;
		}
		return false;
	}
}

static bool sc_value(scan *s, json_t *keep, int what)
{
	if (s->p >= s->end || ++s->depth > 1000)
		return false; /* deep nesting: jansson's limits decide */
	bool ok = false;
	char c = *s->p;
	if (c == '{') {
		ok = sc_object(s, keep, keep ? what : K_NONE);
	} else if (c == '[') {
		s->p++;
		sc_ws(s);
		if (s->p < s->end && *s->p == ']') {
			s->p++;
			ok = true;
		} else {
			for (;;) {
				sc_ws(s);
				if (!sc_skip(s))
					break;
				sc_ws(s);
				if (s->p < s->end && *s->p == ',') {
					s->p++;
					continue;
				}
				ok = s->p < s->end && *s->p == ']';
				s->p += ok;
				break;
			}
		}
	} else if (c == '"') {
		ok = sc_string(s, NULL, NULL);
	} else if (c == '-' || (c >= '0' && c <= '9')) {
		/* -?(0|[1-9][0-9]*)(.[0-9]+)?, at most 15 digits: no exponent,
		 * nothing that could overflow (jansson refuses those). */
		const char *b = s->p;
		s->p += c == '-';
		if (s->p < s->end && *s->p == '0')
			s->p++;
		else if (s->p < s->end && *s->p >= '1' && *s->p <= '9')
			while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
				s->p++;
		else
			return false;
		if (s->p < s->end && *s->p == '.') {
			const char *f = ++s->p;
			while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
				s->p++;
			if (s->p == f)
				return false;
		}
		ok = s->p - b <= 16 && (s->p >= s->end || (*s->p != 'e' && *s->p != 'E'));
	} else {
		static const char *const lits[] = {"true", "false", "null"};
		for (size_t i = 0; i < 3 && !ok; i++) {
			size_t n = strlen(lits[i]);
			if ((size_t)(s->end - s->p) >= n && !memcmp(s->p, lits[i], n)) {
				s->p += n;
				ok = true;
			}
		}
	}
	s->depth--;
	return ok;
}

/* The summary's view of the template DIR/FILE, or NULL after printing why. */
static json_t *load_template(const char *dir, const char *file)
{
	char *p = synth_asprintf("%s/%s", dir, file), *text = NULL;
	size_t len = 0;
	if (!p || synth_file_read(p, &text, &len) < 0) {
		free(p);
		return load(dir, file); /* says why */
	}
	free(p);
	scan s = {.p = text, .end = text + len};
	json_t *t = json_object();
	sc_ws(&s);
	bool ok = t && s.p < s.end && *s.p == '{' && sc_value(&s, t, K_TOP);
	sc_ws(&s);
	free(text);
	if (ok && s.p == s.end)
		return t;
	json_decref(t);
	return load(dir, file); /* jansson decides, and explains */
}

/* Adds one template's facts to STACK (resources by type, outputs) and
 * follows its nested stacks. */
static int add_template(const char *dir, const char *file, json_t *stack, int depth)
{
	json_t *t = load_template(dir, file);
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
