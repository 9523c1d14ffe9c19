/* 100 routes on one HTTP API, each to its own function fn000..fn099 (one
 * shared code directory), with every kind of authorization: JWT from auth
 * (the default), IAM (i % 10 == 3), a Lambda authorizer fn000 shared by
 * ten routes (i % 10 == 5), none (i % 10 == 7); fn001 links "invoke".
 * test/cli/api.sh synthesizes it and checks the nested stack split. */
#include <stdio.h>
#include <synth.h>
#include <synth/api.h>
#include <synth/sys/construct.h>

#define N 100

int main(int argc, char **argv)
{
	synth_backend *b;
	if (synth_backend_new(&b, argc, argv) < 0)
		return synth_backend_fail(NULL);
	synth_define_auth(b, NULL);
	synth_function *fn[N];
	for (int i = 0; i < N; i++) {
		char name[16];
		snprintf(name, sizeof name, "fn%03d", i);
		fn[i] = synth_define_function(b, name,
					      &(synth_function_props){.entry = "functions/shared"});
	}
	synth_api *api = synth_define_api(b, "karaoke-api", &(synth_api_props){
		.cors = &(synth_api_cors){.max_age_s = 600},
		.throttle_burst = 200, .throttle_rate = 100});
	synth_function_link(fn[1], synth_api_construct(api), "invoke");
	static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "ANY"};
	static const char *const shapes[] = {"/r%03d", "/r%03d/{id}", "/r%03d/{id}/items/{item}",
					     "/r%03d/{proxy+}"};
	for (int i = 0; i < N; i++) {
		char path[64], key[80];
		snprintf(path, sizeof path, shapes[i % 4], i);
		snprintf(key, sizeof key, "%s %s", methods[i % 6], path);
		synth_api_route_opts o = {0};
		if (i % 10 == 3)
			o.auth.kind = SYNTH_API_AUTH_IAM;
		else if (i % 10 == 5)
			o.auth = (synth_api_auth){.kind = SYNTH_API_AUTH_LAMBDA, .fn = fn[0],
						  .result_ttl_s = 300};
		else if (i % 10 == 7)
			o.auth.kind = SYNTH_API_AUTH_NONE;
		synth_api_route(api, key, fn[i], &o);
	}
	return synth_backend_main(b);
}
