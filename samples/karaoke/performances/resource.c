/* Performances: the event log. A performance is logged when the bus says
 * one was completed; singers and the KJ read a singer's history, or a
 * rotation's. */
#include "../karaoke.h"

void karaoke_define_performances(synth_backend *b, karaoke_shared *s)
{
	synth_table *t = synth_define_table(b, "performances", &(synth_table_props){
		.fields = (const synth_table_field[]){{"singer_id", "S"}, {"performed_at", "S"},
						      {"rotation_id", "S"}, {0}},
		.hash_key = "singer_id",
		.range_key = "performed_at",
		.global_indexes = (const synth_table_global_index[]){
			{.name = "byRotation", .hash_key = "rotation_id", .range_key = "performed_at"},
			{0}},
	});
	synth_function *fn = karaoke_function(b, "performancesHandler", "performances",
					      "performances.handler", "Performances API", 10);
	synth_function_link(fn, synth_table_construct(t), "read");

	synth_function *log = karaoke_function(b, "performancesLog", "performances",
					       "performances.on_performance_completed",
					       "Logs completed performances", 10);
	synth_function_link(log, synth_table_construct(t), "write");
	synth_bus_subscribe(s->bus, log, &(synth_bus_subscribe_opts){
		.sources = (const char *const[]){"karaoke.rotations", NULL},
		.detail_types = (const char *const[]){"Performance Completed", NULL},
		.detail = "{\"singer_id\": [{\"exists\": true}]}",
	});

	synth_api *api = synth_define_api(b, "performances-api", NULL);
	synth_api_route(api, "GET /singers/{id}/performances", fn, NULL);
	synth_api_route(api, "GET /rotations/{id}/performances", fn, NULL);
}
