/*
 * Rotations: the night's order of singers.
 *
 *   rotationsHandler   the API; POST /rotations/{id}/singers only queues the
 *                      sign-up (SQS, "send") and answers 202; POST
 *                      /rotations/{id}/complete ends the current performance:
 *                      it puts "Performance Completed" on the bus ("put")
 *   rotationsSignups   consumes the queue (partial batch responses; a message
 *                      failing 3 times goes to the dead-letter queue)
 *   rotationsAdvance   on "Performance Completed": moves the singer to the
 *                      back, tells the singer now second their turn is near
 *   rotationsCleanup   nightly (04:00, America/Chicago): closes rotations
 *                      idle for a day (the table's TTL removes them later)
 */
#include "../karaoke.h"

void karaoke_define_rotations(synth_backend *b, karaoke_shared *s)
{
	synth_table *t = synth_define_table(b, "rotations", &(synth_table_props){
		.fields = (const synth_table_field[]){{"id", "S"}, {0}},
		.hash_key = "id",
		.ttl = "expires_at",
	});
	synth_construct *table = synth_table_construct(t);

	synth_queue *q = synth_define_queue(b, "rotation-signups", &(synth_queue_props){
		.visibility_timeout_s = 60,   /* 6x the consumer's timeout, as AWS advises */
		.dlq_max_receives = 3,
	});

	synth_function *api_fn = karaoke_function(b, "rotationsHandler", "rotations",
						  "rotations.handler", "Rotations API", 10);
	synth_function_link(api_fn, table, "read,write");
	synth_function_link(api_fn, synth_queue_construct(q), "send");
	synth_function_link(api_fn, synth_bus_construct(s->bus), "put");

	synth_function *signups = karaoke_function(b, "rotationsSignups", "rotations",
						   "rotations.process_signups",
						   "Adds queued singers to their rotation", 10);
	synth_function_link(signups, table, "read,write");
	synth_queue_subscribe(q, signups, &(synth_queue_subscribe_opts){
		.batch_size = 10, .partial_responses = true,
	});

	synth_function *advance = karaoke_function(b, "rotationsAdvance", "rotations",
						   "rotations.on_performance_completed",
						   "Advances a rotation after a performance", 10);
	synth_function_link(advance, table, "read,write");
	synth_function_link(advance, synth_topic_construct(s->notify), "publish");
	synth_bus_subscribe(s->bus, advance, &(synth_bus_subscribe_opts){
		.sources = (const char *const[]){"karaoke.rotations", NULL},
		.detail_types = (const char *const[]){"Performance Completed", NULL},
		.retry_attempts = 10,
	});

	synth_function *cleanup = karaoke_function(b, "rotationsCleanup", "rotations",
						   "rotations.cleanup_stale",
						   "Closes rotations idle for a day", 60);
	synth_function_link(cleanup, table, "read,write");
	synth_define_cron(b, "stale-rotations", &(synth_cron_props){
		.function = cleanup,
		.schedule = "cron(0 4 * * ? *)",
		.timezone = "America/Chicago",
		.retry_attempts = 2,
	});

	synth_api *api = synth_define_api(b, "rotations-api", NULL);
	synth_api_route(api, "GET /rotations", api_fn, NULL);
	synth_api_route(api, "POST /rotations", api_fn, NULL);
	synth_api_route(api, "GET /rotations/{id}", api_fn, NULL);
	synth_api_route(api, "DELETE /rotations/{id}", api_fn, NULL);
	synth_api_route(api, "POST /rotations/{id}/singers", api_fn, NULL);
	synth_api_route(api, "POST /rotations/{id}/complete", api_fn, NULL);
}
