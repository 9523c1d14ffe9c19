/*
 * PENDING: needs the queue component (constructs/queue.c, include/synth/queue.h),
 * built in another branch. Until it is merged this file does not link
 * (synth_define_queue is undefined), so it is named pending_bus_queue.c and
 * the Makefile (test/unit/test_*.c) skips it. Once queue lands:
 *     git mv test/unit/pending_bus_queue.c test/unit/test_bus_queue.c
 * and, if you like, drop the `#pragma weak synth_queue_*` lines of
 * constructs/bus.c and constructs/cron.c.
 *
 * What it checks (written against queue.h's contract only: NAME/Queue,
 * NAME/Policy, synth_queue_allow_send):
 *   - a bus rule targeting a standard queue (in the bus's construct), and
 *     the queue policy letting events.amazonaws.com send from exactly it;
 *   - a FIFO queue target with its MessageGroupId; FIFO without one, and
 *     a message group for a standard queue, refused;
 *   - a DLQ on a function subscription: DeadLetterConfig and the queue
 *     policy statement for that rule; a FIFO DLQ refused;
 *   - a cron DLQ: DeadLetterConfig and sqs:SendMessage on exactly that
 *     queue as the role's second statement; a FIFO DLQ refused;
 *   - the whole backend passes cfn-lint.
 */
#include "check.h"
#include "helpers.h"
#include "synth/sys/construct.h"
#include "synth/queue.h"
#include "synth/bus.h"
#include "synth/cron.h"

static const char *str(json_t *v) { return json_is_string(v) ? json_string_value(v) : ""; }

static const char *lid(json_t *t, const char *path)
{
	const char *k;
	json_t *r;
	json_object_foreach(json_object_get(t, "Resources"), k, r)
		if (!strcmp(str(json_object_get(json_object_get(r, "Metadata"), "synth:path")), path))
			return k;
	return NULL;
}

static bool is_getatt(json_t *v, const char *l, const char *attr)
{
	json_t *g = json_object_get(v, "Fn::GetAtt");
	return l && json_array_size(g) == 2 && !strcmp(str(json_array_get(g, 0)), l) &&
	       !strcmp(str(json_array_get(g, 1)), attr);
}

static json_t *props_of(json_t *t, const char *path)
{
	return json_object_get(by_path(t, path), "Properties");
}

/* Whether the queue policy at PATH has a statement for events.amazonaws.com
 * whose text names the rule RULE_LID (its SourceArn condition). */
static bool policy_allows(json_t *t, const char *path, const char *rule_lid)
{
	json_t *sts = json_object_get(json_object_get(props_of(t, path), "PolicyDocument"),
				      "Statement");
	size_t i;
	json_t *st;
	json_array_foreach(sts, i, st) {
		char *text = json_dumps(st, JSON_COMPACT);
		bool ok = text && strstr(text, "events.amazonaws.com") &&
			  strstr(text, "sqs:SendMessage") && rule_lid && strstr(text, rule_lid);
		free(text);
		if (ok)
			return true;
	}
	return false;
}

static synth_function *fn_in(synth_backend *b, const char *name)
{
	char *p = synth_asprintf("functions/%s/index.mjs", name);
	write_text(p, "export const handler = async () => 1;\n");
	free(p);
	return synth_define_function(b, name, NULL);
}

static void test_queue_targets(void)
{
	char *d = tmp_cwd();
	synth_backend *b = new_backend();
	synth_bus *bus = synth_define_bus(b, "orders", NULL);
	synth_queue *q = synth_define_queue(b, "inbox", NULL);
	synth_queue *fq = synth_define_queue(b, "ledger", &(synth_queue_props){.fifo = true,
						  .content_dedup = true});
	const char *src[] = {"shop", NULL};
	CHECK(synth_bus_subscribe_queue(bus, q, &(synth_bus_subscribe_opts){.sources = src}) == 0,
	      "a standard queue subscribes");
	CHECK(synth_bus_subscribe_queue(bus, fq, &(synth_bus_subscribe_opts){
						      .message_group_id = "orders"}) == 0,
	      "a FIFO queue subscribes with a message group");
	CHECK(synth_backend_run(b) == 0, "the backend runs: %s", synth_error_last()->message);
	json_t *t = root_template();
	json_t *rp = props_of(t, "orders/inbox/Rule");
	json_t *tg = json_array_get(json_object_get(rp, "Targets"), 0);
	CHECK(rp != NULL, "the queue's rule is in the bus's construct (orders/inbox/Rule)");
	CHECK(is_getatt(json_object_get(tg, "Arn"), lid(t, "inbox/Queue"), "Arn"),
	      "its target is the queue's ARN");
	CHECK(!json_object_get(tg, "SqsParameters"), "no message group for a standard queue");
	CHECK(policy_allows(t, "inbox/Policy", lid(t, "orders/inbox/Rule")),
	      "the queue's policy lets EventBridge send from exactly that rule");
	json_t *ftg = json_array_get(json_object_get(props_of(t, "orders/ledger/Rule"), "Targets"),
				     0);
	CHECK_STR(str(json_object_get(json_object_get(ftg, "SqsParameters"), "MessageGroupId")),
		  "orders", "the FIFO target's MessageGroupId");
	CHECK(policy_allows(t, "ledger/Policy", lid(t, "orders/ledger/Rule")),
	      "and the FIFO queue's policy");
	json_decref(t);
	synth_backend_free(b);

	b = new_backend();
	bus = synth_define_bus(b, "orders", NULL);
	q = synth_define_queue(b, "inbox", NULL);
	fq = synth_define_queue(b, "ledger", &(synth_queue_props){.fifo = true});
	CHECK(synth_bus_subscribe_queue(bus, fq, NULL) == SYNTH_EINVALID,
	      "refused: a FIFO queue without a message group");
	CHECK_HAS(synth_error_last()->message, "orders: queue ledger is a FIFO queue",
		  "naming the bus and the queue");
	CHECK(synth_bus_subscribe_queue(bus, q, &(synth_bus_subscribe_opts){
						     .message_group_id = "g"}) == SYNTH_EINVALID,
	      "refused: a message group for a standard queue");
	CHECK_HAS(synth_error_last()->message, "for FIFO queues only", "saying so");
	CHECK(synth_bus_subscribe_queue(bus, NULL, NULL) == SYNTH_EINVALID, "refused: no queue");
	synth_backend_free(b);
	rm_tmp(d);
}

static void test_dlqs(void)
{
	char *d = tmp_cwd();
	synth_backend *b = new_backend();
	synth_function *fn = fn_in(b, "f");
	synth_bus *bus = synth_define_bus(b, "orders", NULL);
	synth_queue *dlq = synth_define_queue(b, "failed", NULL);
	CHECK(synth_bus_subscribe(bus, fn, &(synth_bus_subscribe_opts){.dlq = dlq,
						  .retry_attempts = 2}) == 0,
	      "a function subscription with a DLQ");
	CHECK(synth_define_cron(b, "nightly", &(synth_cron_props){.function = fn,
				.schedule = "every day", .dlq = dlq}) != NULL,
	      "a cron with a DLQ");
	CHECK(synth_backend_run(b) == 0, "the backend runs: %s", synth_error_last()->message);
	json_t *t = root_template();
	json_t *tg = json_array_get(json_object_get(props_of(t, "f/orders/Rule"), "Targets"), 0);
	CHECK(is_getatt(json_object_get(json_object_get(tg, "DeadLetterConfig"), "Arn"),
			lid(t, "failed/Queue"), "Arn"),
	      "the rule's DeadLetterConfig is the queue's ARN");
	CHECK(policy_allows(t, "failed/Policy", lid(t, "f/orders/Rule")),
	      "the DLQ's policy lets EventBridge send from exactly that rule");
	json_t *ctg = json_object_get(props_of(t, "nightly/Schedule"), "Target");
	CHECK(is_getatt(json_object_get(json_object_get(ctg, "DeadLetterConfig"), "Arn"),
			lid(t, "failed/Queue"), "Arn"),
	      "the cron's DeadLetterConfig is the queue's ARN");
	json_t *sts = json_object_get(json_object_get(json_array_get(json_object_get(
		props_of(t, "nightly/Role"), "Policies"), 0), "PolicyDocument"), "Statement");
	json_t *s1 = json_array_get(sts, 1);
	CHECK(json_array_size(sts) == 2 && !strcmp(str(json_object_get(s1, "Action")),
						   "sqs:SendMessage") &&
		      is_getatt(json_object_get(s1, "Resource"), lid(t, "failed/Queue"), "Arn"),
	      "the cron's role may sqs:SendMessage on exactly the DLQ");
	json_decref(t);

	if (system("command -v cfn-lint >/dev/null 2>&1") == 0) {
		int rc = system("cfn-lint --format parseable -- out/*.template.json");
		CHECK(rc == 0, "cfn-lint: no errors or warnings");
	}
	synth_backend_free(b);

	b = new_backend();
	fn = fn_in(b, "f");
	bus = synth_define_bus(b, "orders", NULL);
	synth_queue *fifo = synth_define_queue(b, "ff", &(synth_queue_props){.fifo = true});
	CHECK(synth_bus_subscribe(bus, fn, &(synth_bus_subscribe_opts){.dlq = fifo}) ==
		      SYNTH_EINVALID, "refused: a FIFO DLQ on a bus subscription");
	CHECK_HAS(synth_error_last()->message, "dead-letter queue ff is a FIFO queue", "saying so");
	CHECK(synth_define_cron(b, "c", &(synth_cron_props){.function = fn, .schedule = "every day",
							     .dlq = fifo}) == NULL,
	      "refused: a FIFO DLQ on a cron");
	CHECK_HAS(synth_error_last()->message, "c: dead-letter queue ff is a FIFO queue",
		  "naming the cron");
	synth_backend_free(b);
	rm_tmp(d);
}

int main(void)
{
	test_queue_targets();
	test_dlqs();
	return check_failed ? 1 : 0;
}
