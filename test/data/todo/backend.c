/* test/data/todo: auth + data over data/schema.graphql (owners, groups,
 * a public iam read, an API key scoreboard, relations and an index). */
#include <synth.h>

int main(int argc, char **argv)
{
	synth_backend *b;
	if (synth_backend_new(&b, argc, argv) < 0)
		return synth_backend_fail(NULL);
	synth_define_auth(b, &(synth_auth_props){
		.groups = (const synth_auth_group[]){{"Admins", 1}, {0}}});
	synth_define_data(b, &(synth_data_props){.streams = true, .point_in_time_recovery = true});
	return synth_backend_main(b);
}
