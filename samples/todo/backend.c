/*
 * samples/todo: the canonical Amplify app, in C.
 *
 *   auth/resource.c      email sign-in; a post-confirmation trigger puts
 *                        every new user in the "users" group
 *   data/schema.graphql  a Todo model that only its owner can read or change
 *   data/resource.c      the GraphQL API over that schema
 *   storage/resource.c   public pictures for everyone signed in, private
 *                        files per user
 *   functions/           the trigger, and a digest that runs every day
 *
 * Run `synth` here to see the templates, `synth sandbox --once` or
 * `synth deploy --branch main` to deploy. The data category finds auth
 * through the "auth" token: nothing below wires one to the other.
 */
#include <synth.h>
#include "todo.h"

int main(int argc, char **argv)
{
	synth_backend *b;
	if (synth_backend_new(&b, argc, argv) < 0)
		return synth_backend_fail(NULL);

	/* Sends each user a summary of their open todos every morning. */
	synth_define_function(b, "dailyDigest", &(synth_function_props){
		.entry = "functions/daily-digest",
		.schedule = "cron(0 7 * * ? *)",
		.timeout_s = 60,
		.description = "Summarises open todos every morning",
	});

	todo_define_auth(b);
	todo_define_data(b);
	todo_define_storage(b);
	return synth_backend_main(b);
}
