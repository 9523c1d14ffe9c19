/*
 * samples/hello: one scheduled function, and one function with environment
 * variables and a secret.  Run `synth` in this directory.
 */
#include <synth.h>

int main(int argc, char **argv)
{
	synth_backend *b;
	if (synth_backend_new(&b, argc, argv) < 0)
		return synth_backend_fail(NULL);

	/* Runs every day; code in functions/say-hello (the default entry). */
	synth_define_function(b, "sayHello", &(synth_function_props){
		.entry = "functions/say-hello",
		.schedule = "every day",
		.description = "Says hello once a day",
	});

	/* Plain settings plus a secret: the function gets the SSM parameter
	 * paths of API_KEY, never its value, and reads it at start. */
	synth_function *greeter = synth_define_function(b, "greeter", &(synth_function_props){
		.entry = "functions/greeter",
		.runtime = "nodejs24.x",
		.memory_mb = 256,
		.timeout_s = 10,
		.architecture = "arm64",
		.environment = (const synth_env[]){
			{.name = "GREETING", .value = "Hello"},
			{.name = "LOG_LEVEL", .value = "info"},
			{.name = "API_KEY", .secret = "API_KEY"},
			{0},
		},
	});

	/* What the client needs to know: recorded as a stack output. */
	synth_backend_add_output(b, "custom", "greeterFunctionName",
				 synth_function_name_ref(greeter), "The greeter's name", NULL);
	return synth_backend_main(b);
}
