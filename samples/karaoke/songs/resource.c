/* Songs: the catalogue, with an index by artist. */
#include "../karaoke.h"

void karaoke_define_songs(synth_backend *b, karaoke_shared *s)
{
	(void)s;
	synth_table *t = synth_define_table(b, "songs", &(synth_table_props){
		.fields = (const synth_table_field[]){{"id", "S"}, {"artist", "S"}, {"title", "S"}, {0}},
		.hash_key = "id",
		.global_indexes = (const synth_table_global_index[]){
			{.name = "byArtist", .hash_key = "artist", .range_key = "title"}, {0}},
	});
	synth_function *fn = karaoke_function(b, "songsHandler", "songs", "songs.handler",
					      "Songs API", 10);
	synth_function_link(fn, synth_table_construct(t), "read,write");

	synth_api *api = synth_define_api(b, "songs-api", NULL);
	synth_api_route(api, "GET /songs", fn, NULL);
	synth_api_route(api, "POST /songs", fn, NULL);
	synth_api_route(api, "GET /songs/{id}", fn, NULL);
	synth_api_route(api, "PUT /songs/{id}", fn, NULL);
	synth_api_route(api, "DELETE /songs/{id}", fn, NULL);
}
