/*
 * GraphQL SDL parser for define_data: Amplify's schema dialect into the
 * JSON model documented in graphql.h. Three stages, each stopping at the
 * first error:
 *  1. the lexer: tokens with 1-based line and column (columns count Unicode
 *     code points), UTF-8 validated, strings decoded;
 *  2. a recursive-descent parser: the document into an AST held in an arena
 *     (freed at once); it recurses only into nested values and list types,
 *     at most SYNTH_GRAPHQL_MAX_DEPTH deep;
 *  3. the semantic pass: names and types (pass 1 and 2), directives and the
 *     Amplify rules per type (pass 2), relations across models (pass 3),
 *     building the JSON model as it goes.
 * The stages are gql_lex.c, gql_parse.c and gql_check.c (their private
 * header: gql_internal.h); this file holds the entry points.
 */
#include <stdlib.h>
#include <synth/common.h>
#include <synth/sys/util.h>
#include "graphql.h"
#include "gql_internal.h"


int synth__graphql_parse(json_t **out, const char *file, const char *text, size_t len)
{
	*out = NULL;
	if (!file)
		file = "<schema>";
	if (len > SYNTH_GRAPHQL_MAX_INPUT)
		return synth_error_setf(SYNTH_EINVALID, "%s:1:1: the schema is too large (%zu bytes; "
					"the limit is %u)", file, len, SYNTH_GRAPHQL_MAX_INPUT);
	parser p = {0};
	p.file = file;
	p.s = (const unsigned char *)(text ? text : "");
	p.n = text ? len : 0;
	p.line = p.col = 1;
	p.defs_tail = &p.defs;
	p.sb = (synth_buf)SYNTH_BUF_INIT;
	if (p.n >= 3 && p.s[0] == 0xEF && p.s[1] == 0xBB && p.s[2] == 0xBF)
		p.i = 3; /* a byte order mark takes no column */
	int rc = synth__gql_parse_document(&p);
	if (!rc)
		rc = synth__gql_check_schema(&p);
	synth_buf_free(&p.sb);
	synth__gql_parse_free(&p);
	if (rc || p.failed) {
		json_decref(p.root);
		return p.code ? p.code : SYNTH_ERROR;
	}
	*out = p.root;
	return 0;
}

int synth__graphql_parse_file(json_t **out, const char *path)
{
	char *text = NULL;
	size_t len = 0;
	*out = NULL;
	int rc = synth_file_read(path, &text, &len);
	if (rc < 0)
		return rc;
	rc = synth__graphql_parse(out, path, text, len);
	free(text);
	return rc;
}
