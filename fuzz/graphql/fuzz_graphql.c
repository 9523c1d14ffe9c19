/*
 * libFuzzer target for the GraphQL schema parser (lib/graphql.c): any
 * input must give either a model or one `fuzz.graphql:LINE:COL: message`
 * error, never a crash, a leak or undefined behaviour (the build adds
 * ASan and UBSan). Built by fuzz/graphql/build.sh.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <synth/common.h>
#include "graphql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *model = NULL;
	int rc = synth__graphql_parse(&model, "fuzz.graphql", (const char *)data, size);
	if (rc == 0) {
		/* a model is an object whose every string jansson accepts */
		if (!json_is_object(model) || !json_is_object(json_object_get(model, "models")))
			abort();
		char *s = json_dumps(model, JSON_COMPACT);
		if (!s)
			abort();
		free(s);
	} else {
		/* an error is EINVALID or ENOMEM, names a position inside the
		 * input, and leaves no model behind */
		const char *msg = synth_error_last()->message;
		unsigned line = 0, col = 0;
		size_t lines = 1;
		for (size_t i = 0; i < size; i++)
			lines += data[i] == '\n' || (data[i] == '\r' && (i + 1 == size || data[i + 1] != '\n'));
		if (model || (rc != SYNTH_EINVALID && rc != SYNTH_ENOMEM))
			abort();
		if (rc == SYNTH_EINVALID &&
		    (sscanf(msg, "fuzz.graphql:%u:%u: ", &line, &col) != 2 || line < 1 || col < 1 ||
		     line > lines || col > size + 1))
			abort();
	}
	json_decref(model);
	return 0;
}
