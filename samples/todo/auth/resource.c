/* Auth: sign-in with email; new users join the "users" group when they
 * confirm their account (functions/post-confirmation). */
#include "../todo.h"

void todo_define_auth(synth_backend *b)
{
	synth_function *welcome = synth_define_function(b, "postConfirmation", &(synth_function_props){
		.entry = "functions/post-confirmation",
		.description = "Adds confirmed users to the users group",
		.environment = (const synth_env[]){{.name = "GROUP_NAME", .value = "users"}, {0}},
	});
	/* The trigger may add users to groups of this pool, and nothing else. */
	synth_function_grant(welcome, (const char *const[]){"cognito-idp:AdminAddUserToGroup", NULL},
			     synth_auth_user_pool_arn());

	synth_define_auth(b, &(synth_auth_props){
		.login = SYNTH_LOGIN_EMAIL,
		.groups = (const synth_auth_group[]){{.name = "admins", .precedence = 1},
						     {.name = "users", .precedence = 2},
						     {0}},
		.triggers = (const synth_auth_trigger[]){{.event = "postConfirmation", .fn = welcome},
							 {0}},
	});
}
