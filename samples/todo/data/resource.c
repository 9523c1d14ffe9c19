/* Data: the GraphQL API over data/schema.graphql. The user pool is the
 * default authorization mode, found through the "auth" token. */
#include "../todo.h"

void todo_define_data(synth_backend *b)
{
	(void)b; /* wired when define_data lands */
}
