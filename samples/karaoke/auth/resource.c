/* Auth: email sign-in. A confirmed user becomes a singer with the user
 * pool's sub as id (functions/singers, singers.post_confirmation), and is
 * welcomed on the notifications topic. */
#include "../karaoke.h"

void karaoke_define_auth(synth_backend *b, karaoke_shared *s)
{
	synth_function *pc = karaoke_function(b, "postConfirmation", "singers",
					      "singers.post_confirmation",
					      "Creates the singer of a confirmed user", 10);
	synth_function_link(pc, synth_table_construct(s->singers), "write");
	synth_function_link(pc, synth_topic_construct(s->notify), "publish");

	synth_define_auth(b, &(synth_auth_props){
		.login = SYNTH_LOGIN_EMAIL,
		.triggers = (const synth_auth_trigger[]){{.event = "postConfirmation", .fn = pc}, {0}},
	});
}
