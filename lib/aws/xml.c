/* XML to JSON for AWS Query-protocol responses (expat). Elements with child
 * elements become objects, repeated names become arrays, <member> is always
 * an array; text-only elements become strings. Attributes are ignored. */
#include <stdlib.h>
#include <string.h>
#include <expat.h>
#include "aws.h"

#define XML_MAX_DEPTH 64

typedef struct frame {
	char *name;
	json_t *obj;      /* children, created on the first child */
	synth_buf text;
} frame;

typedef struct xml_state {
	frame st[XML_MAX_DEPTH];
	int depth;
	json_t *root;
	bool failed;
} xml_state;

static const char *local_name(const char *n)
{
	const char *c = strrchr(n, ':');
	return c ? c + 1 : n;
}

static void on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	(void)attrs;
	xml_state *x = ud;
	if (x->failed || x->depth >= XML_MAX_DEPTH) {
		x->failed = true;
		return;
	}
	frame *f = &x->st[x->depth++];
	memset(f, 0, sizeof *f);
	f->name = strdup(local_name(name));
	if (!f->name)
		x->failed = true;
}

static void on_text(void *ud, const XML_Char *s, int len)
{
	xml_state *x = ud;
	if (!x->failed && x->depth > 0)
		synth_buf_put(&x->st[x->depth - 1].text, s, (size_t)len);
}

static void add_child(json_t *parent, const char *name, json_t *value)
{
	json_t *prev = json_object_get(parent, name);
	if (!strcmp(name, "member")) {
		if (!prev) {
			prev = json_array();
			json_object_set_new(parent, name, prev);
		}
		json_array_append_new(prev, value);
	} else if (!prev)
		json_object_set_new(parent, name, value);
	else if (json_is_array(prev))
		json_array_append_new(prev, value);
	else {
		json_t *arr = json_pack("[O,o]", prev, value);
		json_object_set_new(parent, name, arr);
	}
}

static void on_end(void *ud, const XML_Char *name)
{
	(void)name;
	xml_state *x = ud;
	if (x->failed || x->depth == 0)
		return;
	frame *f = &x->st[--x->depth];
	json_t *value;
	if (f->obj)
		value = f->obj;
	else {
		char *t = synth_buf_detach(&f->text);
		/* An element holding only layout white space is empty. */
		if (t && strspn(t, " \t\r\n") == strlen(t))
			t[0] = '\0';
		value = json_string(t ? t : "");
		free(t);
	}
	synth_buf_free(&f->text);
	if (!value)
		x->failed = true;
	else if (x->depth == 0) {
		x->root = value;
	} else {
		frame *p = &x->st[x->depth - 1];
		if (!p->obj && !(p->obj = json_object()))
			x->failed = true;
		else
			add_child(p->obj, f->name, value);
	}
	free(f->name);
	f->name = NULL;
}

json_t *synth_xml_to_json(const char *xml, size_t len)
{
	XML_Parser p = XML_ParserCreate(NULL);
	if (!p)
		return NULL;
	xml_state x = {0};
	XML_SetUserData(p, &x);
	XML_SetElementHandler(p, on_start, on_end);
	XML_SetCharacterDataHandler(p, on_text);
	bool ok = XML_Parse(p, xml, (int)len, 1) == XML_STATUS_OK && !x.failed;
	XML_ParserFree(p);
	for (int i = 0; i < x.depth; i++) {
		free(x.st[i].name);
		json_decref(x.st[i].obj);
		synth_buf_free(&x.st[i].text);
	}
	if (!ok) {
		json_decref(x.root);
		return NULL;
	}
	return x.root;
}
