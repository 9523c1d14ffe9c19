/* Singers: a CRUD service without POST (the sign-up trigger creates
 * singers). Every route needs a Cognito token (the API's default with
 * auth: JWT). */
#include "../karaoke.h"

void karaoke_define_singers(synth_backend *b, karaoke_shared *s)
{
	s->singers = synth_define_table(b, "singers", &(synth_table_props){
		.fields = (const synth_table_field[]){{"id", "S"}, {0}},
		.hash_key = "id",
		.point_in_time_recovery = true,
	});
	synth_function *fn = karaoke_function(b, "singersHandler", "singers", "singers.handler",
					      "Singers API", 10);
	synth_function_link(fn, synth_table_construct(s->singers), "read,write");

	synth_api *api = synth_define_api(b, "singers-api", NULL);
	synth_api_route(api, "GET /singers", fn, NULL);
	synth_api_route(api, "GET /singers/{id}", fn, NULL);
	synth_api_route(api, "PUT /singers/{id}", fn, NULL);
	synth_api_route(api, "DELETE /singers/{id}", fn, NULL);
}
