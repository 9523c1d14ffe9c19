/*
 * Lambda event filtering (synth_event_filter_criteria): the FilterCriteria
 * of an event source mapping, checked, from a JSON array of patterns.
 */
#include <string.h>
#include "internal.h"
#include "synth/sys/construct.h"

#define FILTERS_MAX 5    /* Lambda's default quota of filters per mapping */
#define PATTERN_MAX 4096 /* characters of one pattern */

json_t *synth_event_filter_criteria(const char *text, const char **why)
{
	*why = NULL;
	json_error_t err;
	json_t *arr = text ? json_loads(text, JSON_REJECT_DUPLICATES, &err) : NULL;
	/* jansson 2.14 reports some allocation failures with no text. */
	if (text && !arr && (json_error_code(&err) == json_error_out_of_memory || !err.text[0]))
		return NULL;
	*why = !text ? "there is no text"
	       : !arr ? "it is not a JSON array (it does not parse)"
	       : !json_is_array(arr) ? "it is not a JSON array"
	       : !json_array_size(arr) ? "it is empty (an empty array of patterns)"
	       : json_array_size(arr) > FILTERS_MAX ? "it has more than 5 (Lambda's limit)"
						    : NULL;
	json_t *list = *why ? NULL : json_array();
	bool oom = !*why && !list;
	size_t i;
	json_t *f;
	json_array_foreach(*why || oom ? NULL : arr, i, f) {
		if (!json_is_object(f) || !json_object_size(f)) {
			*why = "an element is not an object: each filter must be a non-empty JSON object";
			break;
		}
		char *pattern = synth_json_dumps(f, JSON_COMPACT | JSON_SORT_KEYS);
		if (pattern && strlen(pattern) > PATTERN_MAX)
			*why = "a pattern is longer than 4096 characters";
		else if (!pattern ||
			 json_array_append_new(list, json_pack("{s:s}", "Pattern", pattern)) < 0)
			oom = true;
		free(pattern);
		if (*why || oom)
			break;
	}
	json_decref(arr);
	if (*why || oom) {
		json_decref(list);
		if (oom)
			*why = NULL;
		return NULL;
	}
	/* "o" steals LIST, even when the pack fails (then out of memory). */
	return json_pack("{s:o}", "Filters", list);
}
