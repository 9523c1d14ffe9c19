/*
 * test/resolvers/dump: parses a schema (constructs/data/graphql.c) and prints the
 * resolvers constructs/data/gqlresolvers.c generates for it, as one JSON document
 * {"model": MODEL, "resolvers": [...], "modules": [...]} on stdout (or the parse model only
 * with --model). Used by test/cli/resolvers.sh; not installed.
 * Usage: dump [--model] SCHEMA [DEFAULT_AUTH]
 */
#include <stdio.h>
#include <string.h>
#include <synth/common.h>
#include "graphql.h"
#include "gqlresolvers.h"

int main(int argc, char **argv)
{
	int only_model = argc > 1 && !strcmp(argv[1], "--model");
	if (argc - only_model < 2) {
		fprintf(stderr, "usage: dump [--model] SCHEMA [DEFAULT_AUTH]\n");
		return 2;
	}
	const char *path = argv[1 + only_model];
	const char *auth = argc - only_model > 2 ? argv[2 + only_model] : "AMAZON_COGNITO_USER_POOLS";
	json_t *model = NULL, *res = NULL;
	if (synth__graphql_parse_file(&model, path) < 0) {
		fprintf(stderr, "%s\n", synth_error_last()->message);
		return 1;
	}
	if (!only_model && synth__gql_resolvers(&res, model, auth) < 0) {
		fprintf(stderr, "%s\n", synth_error_last()->message);
		json_decref(model);
		return 1;
	}
	json_t *doc = json_pack("{s:O,s:O?,s:O?}", "model", model, "resolvers", json_object_get(res, "resolvers"),
				"modules", json_object_get(res, "modules"));
	json_decref(res);
	int rc = doc && json_dumpf(doc, stdout, JSON_INDENT(1) | JSON_PRESERVE_ORDER) == 0 ? 0 : 1;
	putchar('\n');
	json_decref(doc);
	json_decref(model);
	return rc;
}
