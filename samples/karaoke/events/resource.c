/* What the services share: the bus they talk through and the topic that
 * speaks to singers. */
#include "../karaoke.h"

void karaoke_define_events(synth_backend *b, karaoke_shared *s)
{
	/* A custom bus per stack ("${AWS::StackName}-karaoke"): branches never
	 * see each other's events. */
	s->bus = synth_define_bus(b, "karaoke", NULL);

	/* Welcomes new singers, tells them their turn is near. Messages carry
	 * a "kind" attribute ("welcome", "turn-near"); the KJ's mailbox gets
	 * the welcomes (an email subscription, confirmed by mail). */
	s->notify = synth_define_topic(b, "singer-notifications", &(synth_topic_props){
		.display_name = "Karaoke",
	});
	synth_topic_subscribe_email(s->notify, "kj@example.com", &(synth_topic_subscribe_opts){
		.filter_policy = "{\"kind\": [\"welcome\"]}",
	});
}
