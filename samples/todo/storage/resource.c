/* Storage: pictures everyone signed in can see (guests may look too), and
 * a private folder per user. */
#include "../todo.h"

void todo_define_storage(synth_backend *b)
{
	synth_define_storage(b, "todoFiles", &(synth_storage_props){
		.access = (const synth_storage_access[]){
			{.path = "pictures/*", .who = "guest", .actions = "read"},
			{.path = "pictures/*", .who = "authenticated", .actions = "read,write,delete"},
			{.path = "private/{entity_id}/*", .who = "owner", .actions = "read,write,delete"},
			{.path = "pictures/*", .who = "group:admins", .actions = "read,write,delete"},
			{0},
		},
	});
}
