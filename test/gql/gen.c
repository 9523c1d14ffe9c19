/*
 * Test driver for test/cli/gqlschema.sh: parses SCHEMA and writes its
 * AppSync client schema (for default mode AUTH) to SDL_OUT and its model
 * introspection to JSON_OUT. Exit 1 with the library's message on failure.
 * Usage: gen SCHEMA AUTH SDL_OUT JSON_OUT
 */
#include <stdio.h>
#include <stdlib.h>
#include <synth/common.h>
#include "graphql.h"
#include "gqlgen.h"

int main(int argc, char **argv)
{
	json_t *m = NULL, *intro = NULL;
	char *sdl = NULL;
	int rc = 1;
	if (argc != 5) {
		fprintf(stderr, "usage: gen SCHEMA AUTH SDL_OUT JSON_OUT\n");
		return 2;
	}
	if (synth__graphql_parse_file(&m, argv[1]) < 0 || synth__gql_client_schema(&sdl, m, argv[2]) < 0 ||
	    synth__gql_model_introspection(&intro, m) < 0) {
		fprintf(stderr, "gen: %s\n", synth_error_last()->message);
		goto out;
	}
	FILE *f = fopen(argv[3], "w");
	if (!f || fputs(sdl, f) < 0 || fclose(f)) {
		fprintf(stderr, "gen: cannot write %s\n", argv[3]);
		goto out;
	}
	if (json_dump_file(intro, argv[4], JSON_INDENT(2)) < 0) {
		fprintf(stderr, "gen: cannot write %s\n", argv[4]);
		goto out;
	}
	rc = 0;
out:
	free(sdl);
	json_decref(intro);
	json_decref(m);
	return rc;
}
