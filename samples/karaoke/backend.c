/*
 * samples/karaoke: "Karaoke Backend" (an SST app of four Python
 * microservices), in C. Each service owns a DynamoDB table and an HTTP API
 * whose routes need a Cognito token; they talk through one EventBridge bus.
 *
 *   auth/resource.c          email sign-in; the post-confirmation trigger
 *                            creates the singer with the user's sub and
 *                            welcomes them on the notifications topic
 *   singers/resource.c       singers table + API (read, update, delete)
 *   songs/resource.c         songs table (by artist index) + CRUD API
 *   rotations/resource.c     rotations table + API; an SQS queue (with a DLQ)
 *                            takes sign-ups off the API call; reacts to
 *                            "Performance Completed" (advance, tell who is
 *                            next); a nightly cron closes stale rotations
 *   performances/resource.c  performances table (the event log) + API;
 *                            reacts to "Performance Completed" (logs it)
 *   events/resource.c        the bus and the SNS topic the services share
 *   functions/<service>/     the Python handlers (boto3, from the runtime)
 *   tests/                   their unit tests (python3 -m unittest)
 *
 * Run `synth` here to see the templates; `synth deploy --branch dev` (and
 * test, prod) gives one independent stack per branch.
 */
#include <synth.h>
#include "karaoke.h"

synth_function *karaoke_function(synth_backend *b, const char *name, const char *service,
				 const char *handler, const char *description, int timeout_s)
{
	char entry[64];
	snprintf(entry, sizeof entry, "functions/%s", service);
	return synth_define_function(b, name, &(synth_function_props){
		.entry = entry,
		.runtime = KARAOKE_RUNTIME,
		.handler = handler,
		.architecture = "arm64",
		.memory_mb = 256,
		.timeout_s = timeout_s ? timeout_s : 10,
		.description = description,
	});
}

int main(int argc, char **argv)
{
	synth_backend *b;
	if (synth_backend_new(&b, argc, argv) < 0)
		return synth_backend_fail(NULL);

	karaoke_shared s = {0};
	karaoke_define_events(b, &s);
	karaoke_define_singers(b, &s);
	karaoke_define_auth(b, &s);
	karaoke_define_songs(b, &s);
	karaoke_define_rotations(b, &s);
	karaoke_define_performances(b, &s);
	return synth_backend_main(b);
}
