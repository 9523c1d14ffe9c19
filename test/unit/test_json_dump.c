/* synth_json_dumps() writes its own JSON text (lib/util/util.c): it must
 * be byte for byte what jansson's json_dumps() writes, for every flag the
 * library uses and for the characters JSON escapes. Random trees from a
 * fixed seed, compared with jansson's output. */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "check.h"
#include "util.h"

static unsigned long long rng = 42;

static unsigned rnd(unsigned n)
{
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)(rng >> 33) % n;
}

/* A valid UTF-8 string made of pieces that test the escaper. */
static json_t *rnd_string(void)
{
	static const char *const pieces[] = {
		"a", "Zz", "/", "\"", "\\", "\b", "\f", "\n", "\r", "\t", "\x01", "\x1f", " ",
		"\x7f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "${AWS::Region}", "\xed\x9f\xbf",
	};
	char buf[256];
	size_t len = 0, n = rnd(12);
	for (size_t i = 0; i < n; i++) {
		const char *p = pieces[rnd(sizeof pieces / sizeof *pieces)];
		memcpy(buf + len, p, strlen(p));
		len += strlen(p);
	}
	return json_stringn(buf, len);
}

static json_t *rnd_value(int depth)
{
	unsigned k = depth > 5 ? rnd(6) : rnd(9);
	switch (k) {
	case 0: return rnd_string();
	case 1: return json_integer((json_int_t)rnd(1u << 31) * (rnd(2) ? -1 : 1) * (rnd(3) ? 1 : 4294967296LL));
	case 2: return json_real((double)rnd(100000) / (1 + rnd(1000)) * (rnd(2) ? 1e-7 : 1e12));
	case 3: return rnd(2) ? json_true() : json_false();
	case 4: return json_null();
	case 5: return json_string("");
	case 6: case 7: {
		json_t *o = json_object();
		for (unsigned i = 0, n = rnd(6); i < n; i++) {
			json_t *key = rnd_string();
			/* Keys that share a prefix, for the sort by length. */
			char kb[300];
			snprintf(kb, sizeof kb, "%s%s", rnd(2) ? "K" : "", json_string_value(key));
			json_object_set_new(o, kb, rnd_value(depth + 1));
			json_decref(key);
		}
		return o;
	}
	default: {
		json_t *a = json_array();
		for (unsigned i = 0, n = rnd(5); i < n; i++)
			json_array_append_new(a, rnd_value(depth + 1));
		return a;
	}
	}
}

static int same(const json_t *j, size_t flags)
{
	char *want = json_dumps(j, flags), *got = synth_json_dumps(j, flags);
	int ok = (!want && !got) || (want && got && !strcmp(want, got));
	if (!ok)
		printf("#   flags %#zx\n#   want: %.400s\n#   got:  %.400s\n", flags,
		       want ? want : "(null)", got ? got : "(null)");
	free(want);
	free(got);
	return ok;
}

int main(void)
{
	static const size_t flags[] = {
		0, JSON_INDENT(1), JSON_INDENT(2), JSON_INDENT(4), JSON_COMPACT,
		JSON_INDENT(1) | JSON_SORT_KEYS, JSON_COMPACT | JSON_SORT_KEYS, JSON_SORT_KEYS,
		JSON_INDENT(3) | JSON_COMPACT, JSON_ENSURE_ASCII | JSON_INDENT(1),
		JSON_ESCAPE_SLASH | JSON_COMPACT, JSON_REAL_PRECISION(5),
		JSON_INDENT(1) | JSON_PRESERVE_ORDER,
	};
	size_t nf = sizeof flags / sizeof *flags;
	int bad = 0, trees = 400;
	for (int t = 0; t < trees; t++) {
		json_t *j = rnd(2) ? json_object() : json_array();
		for (unsigned i = 0, n = 1 + rnd(6); i < n; i++) {
			if (json_is_object(j)) {
				char key[16];
				snprintf(key, sizeof key, "k%u", rnd(20));
				json_object_set_new(j, key, rnd_value(0));
			} else {
				json_array_append_new(j, rnd_value(0));
			}
		}
		for (size_t f = 0; f < nf; f++)
			if (!same(j, flags[f]) && bad++ < 5)
				printf("#   tree %d\n", t);
		json_decref(j);
	}
	CHECK(bad == 0, "%d random trees x %zu flag sets: the same text as json_dumps (%d differ)",
	      trees, nf, bad);

	json_t *s = json_string("x\n");
	CHECK(same(s, JSON_INDENT(1)) && !synth_json_dumps(s, JSON_INDENT(1)),
	      "a bare string without JSON_ENCODE_ANY is refused, as by jansson");
	CHECK(same(s, JSON_ENCODE_ANY), "a bare string with JSON_ENCODE_ANY");
	json_decref(s);
	json_t *r = json_real(0.1);
	CHECK(same(r, JSON_ENCODE_ANY | JSON_INDENT(2)), "a bare real");
	json_decref(r);
	json_t *e = json_pack("{s:{},s:[],s:[{}],s:{s:[]}}", "a", "b", "c", "d", "e");
	for (size_t f = 0; f < nf; f++)
		CHECK(same(e, flags[f]), "empty containers, flags %#zx", flags[f]);
	json_decref(e);

	/* A cycle: jansson refuses it; so must we (not loop forever). */
	json_t *a = json_array(), *b = json_array();
	json_array_append(a, b);
	json_array_append(b, a);
	CHECK(!synth_json_dumps(a, JSON_INDENT(1)) && !synth_json_dumps(a, JSON_COMPACT),
	      "a cyclic tree is refused");
	json_array_clear(b);
	json_decref(a);
	json_decref(b);

	/* Deep but finite: as deep as jansson's parser allows is fine. */
	json_t *deep = json_array();
	for (int i = 0; i < 2000; i++)
		deep = json_pack("[o]", deep);
	CHECK(same(deep, JSON_COMPACT), "a 2,000-deep tree");
	json_decref(deep);
	return check_failed ? 1 : 0;
}
