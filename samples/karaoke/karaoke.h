/* samples/karaoke: one function per folder's resource.c, and the resources
 * the services share (the event bus, the notifications topic). */
#ifndef KARAOKE_H
#define KARAOKE_H
#include <synth.h>

/* Every handler: Python 3.13, one module per service (functions/<service>/). */
#define KARAOKE_RUNTIME "python3.13"

/* What more than one service uses, defined first by backend.c. */
typedef struct karaoke_shared {
	synth_bus *bus;           /* "karaoke": services talk through it */
	synth_topic *notify;      /* "singer-notifications": welcome, turn near */
	synth_table *singers;     /* the singers table (the sign-up trigger writes it) */
} karaoke_shared;

void karaoke_define_events(synth_backend *b, karaoke_shared *s);
/* Each defines its table, its functions and its HTTP API. */
void karaoke_define_singers(synth_backend *b, karaoke_shared *s);
void karaoke_define_auth(synth_backend *b, karaoke_shared *s);
void karaoke_define_songs(synth_backend *b, karaoke_shared *s);
void karaoke_define_rotations(synth_backend *b, karaoke_shared *s);
void karaoke_define_performances(synth_backend *b, karaoke_shared *s);

/* A Python function of SERVICE's module: HANDLER is "<service>.<function>". */
synth_function *karaoke_function(synth_backend *b, const char *name, const char *service,
				 const char *handler, const char *description, int timeout_s);

#endif
