/* test/data/iam: data with composite sort keys (primary key and index)
 * and a function that calls the API with IAM (synth_data_grant). */
#include <synth.h>

int main(int argc, char **argv)
{
	synth_backend *b;
	if (synth_backend_new(&b, argc, argv) < 0)
		return synth_backend_fail(NULL);
	synth_function *fn = synth_define_function(b, "reader", &(synth_function_props){.entry = "functions/reader"});
	synth_data *d = synth_define_data(b, NULL);
	synth_data_grant(d, fn, "query,mutate");
	return synth_backend_main(b);
}
