/*
 * A backend built outside the repository (issue #9): a function
 * subscribed to an SNS topic of the external construct in topic.c, plus a
 * tiny probe construct that looks up a token nobody provides.
 *
 * The mode comes from `-c ext:mode=MODE` (or the environment, EXT_MODE):
 *   (none)           synthesize; the probe's optional lookup gives NULL
 *   require-missing  the probe looks the token up with the required form:
 *                    fails naming the probe and the token
 *   old-class        a construct whose class has version 0 (compiled
 *                    against older headers): refused, never called
 *   bad-filter       a filter policy that is not a JSON object
 *   fifo-lambda      a FIFO topic subscribed by a function
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <synth.h>
#include <synth/sys/construct.h>
#include "topic.h"

#define NOBODY "ext:nobody-provides-this"

/* --- the probe --------------------------------------------------------- */

static int probe_generate(synth_construct *self, void *state)
{
	const char *mode = state;
	synth_construct *found = NULL;
	if (!strcmp(mode, "require-missing"))
		return synth_construct_lookup(&found, self, NOBODY);
	int rc = synth_construct_find(&found, self, NOBODY);
	if (rc < 0)
		return rc;
	if (found || synth_backend_provides(synth_construct_backend(self), NOBODY))
		return synth_construct_failf(self, SYNTH_ERROR, "'%s' should not be provided",
					     NOBODY);
	printf("probe: optional lookup of '%s' gave NULL\n", NOBODY);
	return 0;
}

static const synth_construct_class probe_class = {
	.version = SYNTH_CONSTRUCT_CLASS_VERSION, .kind = "probe", .generate = probe_generate};

/* A class as a construct built against older headers would declare it. */
static int old_generate(synth_construct *self, void *state)
{
	(void)state;
	return synth_construct_failf(self, SYNTH_ERROR, "an old class was called");
}

static const synth_construct_class old_class = {
	.version = 0, .kind = "old", .generate = old_generate};

/* --- the backend -------------------------------------------------------- */

static const char *mode_of(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc; i++)
		if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--context")) &&
		    !strncmp(argv[i + 1], "ext:mode=", 9))
			return argv[i + 1] + 9;
	const char *e = getenv("EXT_MODE");
	return e ? e : "";
}

int main(int argc, char **argv)
{
	/* The backend has no getter for context keys it does not know: the
	 * program reads its own switch. */
	static char mode[64];
	snprintf(mode, sizeof mode, "%s", mode_of(argc, argv));

	synth_backend *b;
	if (synth_backend_new(&b, argc, argv) < 0)
		return synth_backend_fail(NULL);

	synth_function *sub = synth_define_function(b, "sub", &(synth_function_props){
		.entry = "functions/sub",
	});
	ext_topic *orders = ext_define_topic(b, "orders", &(ext_topic_props){
		.display_name = "Orders",
	});
	ext_topic_subscribe(orders, sub,
			    !strcmp(mode, "bad-filter")
				    ? "[\"not\", \"an\", \"object\"]"
				    : "{\"kind\": [\"order\"], \"amount\": [{\"numeric\": [\">\", 0]}]}");
	/* A function that publishes to the topic: linked, least privilege. */
	synth_function *notifier = synth_define_function(b, "notifier", &(synth_function_props){
		.entry = "functions/sub",
	});
	synth_function_link(notifier, ext_topic_construct(orders), "publish");
	/* A FIFO topic nobody subscribes to (a function may not). */
	ext_topic *audit = ext_define_topic(b, "audit", &(ext_topic_props){.fifo = true});
	if (!strcmp(mode, "fifo-lambda"))
		ext_topic_subscribe(audit, sub, NULL);

	synth_construct_new(NULL, b, "probe", &probe_class, mode);
	if (!strcmp(mode, "old-class"))
		synth_construct_new(NULL, b, "legacy", &old_class, NULL);

	return synth_backend_main(b);
}
