/* A backend with Python functions: "api" (x86_64) and "api-arm" (arm64)
 * share a code directory whose requirements.txt names synthdemo (a local
 * wheel, test/python/make_wheel.py); "jobs" has a dotted handler and no
 * requirements. */
#include <synth.h>

int main(int argc, char **argv)
{
	synth_backend *b;
	if (synth_backend_new(&b, argc, argv) < 0)
		return synth_backend_fail(NULL);
	synth_define_function(b, "api", &(synth_function_props){.runtime = "python3.12"});
	synth_define_function(b, "api-arm", &(synth_function_props){
		.entry = "functions/api", .runtime = "python3.13", .architecture = "arm64"});
	synth_define_function(b, "jobs", &(synth_function_props){
		.runtime = "python3.13", .handler = "tasks.nightly.run",
		.schedule = "every day"});
	return synth_backend_main(b);
}
