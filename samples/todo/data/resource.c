/* Data: the GraphQL API over data/schema.graphql (the default file). The
 * user pool is the default authorization mode, found through the "auth"
 * token: nothing here names the auth category. */
#include "../todo.h"

void todo_define_data(synth_backend *b)
{
	synth_define_data(b, &(synth_data_props){
		.schema_file = "data/schema.graphql",
		.point_in_time_recovery = true,
	});
}
