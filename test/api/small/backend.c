/* A small HTTP API with every feature: CORS, throttling, a custom domain,
 * JWT (default, and with scopes), IAM, a Lambda authorizer, $default, and a
 * function linked with "invoke". test/cli/api.sh synthesizes it. */
#include <synth.h>
#include <synth/api.h>
#include <synth/sys/construct.h>
int main(int argc, char **argv) {
	synth_backend *b;
	if (synth_backend_new(&b, argc, argv) < 0) return synth_backend_fail(NULL);
	synth_define_auth(b, NULL);
	synth_function *h = synth_define_function(b, "h", NULL);
	synth_function *gate = synth_define_function(b, "gate", &(synth_function_props){.entry = "functions/h"});
	synth_function *caller = synth_define_function(b, "caller", &(synth_function_props){.entry = "functions/h"});
	synth_api *api = synth_define_api(b, "karaoke-api", &(synth_api_props){
		.cors = &(synth_api_cors){.allow_origins = (const char *const[]){"https://k.example.com", NULL}, .allow_credentials = true, .max_age_s = 300},
		.throttle_burst = 100, .throttle_rate = 50,
		.domain = &(synth_api_domain){"api.example.com", "arn:aws:acm:us-east-1:123456789012:certificate/abc"}});
	synth_function_link(caller, synth_api_construct(api), "invoke");
	synth_api_route(api, "GET /singers/{id}", h, NULL);
	synth_api_route(api, "GET /public", h, &(synth_api_route_opts){.auth = {SYNTH_API_AUTH_NONE}});
	synth_api_route(api, "POST /admin", h, &(synth_api_route_opts){.auth = {SYNTH_API_AUTH_IAM}});
	synth_api_route(api, "ANY /s/{proxy+}", h, &(synth_api_route_opts){.auth = {SYNTH_API_AUTH_JWT, .scopes = (const char *const[]){"aws.cognito.signin.user.admin", NULL}}});
	synth_api_route(api, "GET /gated", h, &(synth_api_route_opts){.auth = {SYNTH_API_AUTH_LAMBDA, .fn = gate, .result_ttl_s = 60}});
	synth_api_route(api, "$default", h, NULL);
	return synth_backend_main(b);
}
