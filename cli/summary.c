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
 * The assembly's files are read without building their whole tree: a
 * strict JSON scanner keeps only what a shape names (below), the rest is
 * checked and skipped. Parsing them with jansson took more than half of the
 * CLI's time on a warm synth. Anything the scanner does not take on (an
 * escape or a non-ASCII byte in a key it looks at or a value it keeps, a
 * kept value that is not a string, an exponent or a long number, deep
 * nesting, a syntax error) sends the file to jansson, which decides and
 * gives the error message. A later duplicate key wins, as in jansson.
 *
 * A shape is a JSON object: its members name the keys kept ("*": any key);
 * a member's value is a shape (the member's object is kept with those), "$"
 * (a string, kept) or null (the key is kept, its value is not).
 */
static const char *const template_shape =
	"{\"Resources\": {\"*\": {\"Type\": \"$\", \"Metadata\": {\"aws:asset:path\": \"$\"}}},"
	" \"Outputs\": {\"*\": null}}";
static const char *const manifest_shape =
	"{\"version\": \"$\", \"artifacts\": {\"*\": {\"type\": \"$\", \"properties\":"
	" {\"templateFile\": \"$\", \"stackName\": \"$\", \"file\": \"$\"}}}}";
static const char *const assets_shape =
	"{\"files\": {\"*\": {\"displayName\": \"$\", \"source\": {\"path\": \"$\"}}}}";

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

/* A string at S->p ('"'). With PLAIN, *PLAIN and *N are its bytes when it
 * has no escape and no byte outside printable ASCII, else *PLAIN is NULL.
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
			} else if (*s->p && strchr("\"\\/bfnrt", *s->p)) {
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

static bool sc_value(scan *s);

/* A kept member NAME of KEEP whose shape is SUB, at S->p. */
static bool sc_keep(scan *s, json_t *keep, const char *name, const json_t *sub);

/* An object at S->p ('{'): with SHAPE, the members it names into KEEP. */
static bool sc_object(scan *s, json_t *keep, const json_t *shape)
{
	s->p++;
	sc_ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return true;
	}
	for (;;) {
		const char *k;
		size_t kn;
		sc_ws(s);
		if (!sc_string(s, &k, &kn) || (shape && !k))
			return false;
		sc_ws(s);
		if (s->p >= s->end || *s->p != ':')
			return false;
		s->p++;
		sc_ws(s);
		const json_t *sub = NULL;
		if (shape && !(sub = json_object_getn(shape, k, kn)))
			sub = json_object_get(shape, "*");
		bool ok;
		if (sub) {
			char *name = strndup(k, kn);
			ok = name && sc_keep(s, keep, name, sub);
			free(name);
		} else {
			ok = sc_value(s);
		}
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

static bool sc_keep(scan *s, json_t *keep, const char *name, const json_t *sub)
{
	if (json_is_null(sub))
		return json_object_set_new(keep, name, json_null()) == 0 && sc_value(s);
	if (json_is_string(sub)) { /* "$": a plain string, or jansson's turn */
		const char *v;
		size_t n;
		return s->p < s->end && *s->p == '"' && sc_string(s, &v, &n) && v &&
		       json_object_set_new(keep, name, json_stringn(v, n)) == 0;
	}
	if (s->p < s->end && *s->p == '{') {
		json_t *o = json_object();
		return o && json_object_set_new(keep, name, o) == 0 && sc_object(s, o, sub);
	}
	json_object_del(keep, name); /* not an object: nothing of it is kept */
	return sc_value(s);
}

/* Any value, checked and skipped. */
static bool sc_value(scan *s)
{
	if (s->p >= s->end || ++s->depth > 1000)
		return false; /* deep nesting: jansson's limits decide */
	bool ok = false;
	char c = *s->p;
	if (c == '{') {
		ok = sc_object(s, NULL, NULL);
	} else if (c == '[') {
		s->p++;
		sc_ws(s);
		if (s->p < s->end && *s->p == ']') {
			s->p++;
			ok = true;
		} else {
			for (;;) {
				sc_ws(s);
				if (!sc_value(s))
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
		/* -?(0|[1-9][0-9]*)(.[0-9]+)?, at most 16 characters: no exponent,
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

/* What SHAPE names of the JSON file DIR/FILE (an object), or NULL after
 * printing why. */
static json_t *load_kept(const char *dir, const char *file, const char *shape)
{
	char *p = synth_asprintf("%s/%s", dir, file), *text = NULL;
	size_t len = 0;
	if (!p || synth_file_read(p, &text, &len) < 0) {
		free(p);
		return load(dir, file); /* says why */
	}
	free(p);
	scan s = {.p = text, .end = text + len};
	json_t *sh = json_loads(shape, 0, NULL), *t = json_object();
	sc_ws(&s);
	bool ok = sh && t && s.p < s.end && *s.p == '{' && sc_object(&s, t, sh);
	sc_ws(&s);
	free(text);
	json_decref(sh);
	if (ok && s.p == s.end)
		return t;
	json_decref(t);
	return load(dir, file); /* jansson decides, and explains */
}

/* Adds one template's facts to STACK (resources by type, outputs) and
 * follows its nested stacks. */
static int add_template(const char *dir, const char *file, json_t *stack, int depth)
{
	json_t *t = load_kept(dir, file, template_shape);
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
	json_t *man = load_kept(dir, "manifest.json", manifest_shape);
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
			json_t *am = f ? load_kept(dir, f, assets_shape) : NULL;
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
