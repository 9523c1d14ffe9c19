/* The IAM fixture of test/cli/iam.sh: one function per component and access
 * level, each linked to one resource, and a second resource of each type
 * that nobody is linked to (or that another function is), so that the
 * evaluator (test/iam/evaluator.py) can ask "may this function do that on
 * this resource, and on that other one?"; and subscribers, whose grants and
 * resource policies (queue policies, Lambda permissions) are checked too. */
#include <synth.h>

static const synth_table_field id_sk[] = {{"id", "S"}, {"sk", "S"}, {"owner", "S"}, {0}};
static const synth_table_global_index by_owner[] = {{"byOwner", "owner", NULL, NULL, NULL}, {0}};
static const synth_table_field id_only[] = {{"id", "S"}, {0}};

static synth_function *fn(synth_backend *b, const char *name)
{
	return synth_define_function(b, name, &(synth_function_props){.entry = "functions/h"});
}

int main(int argc, char **argv)
{
	synth_backend *b;
	if (synth_backend_new(&b, argc, argv) < 0)
		return synth_backend_fail(NULL);

	/* Queues: "orders" (send), "jobs" (receive), "spare" (nobody). */
	synth_queue *orders = synth_define_queue(b, "orders", NULL);
	synth_queue *jobs = synth_define_queue(b, "jobs", NULL);
	synth_queue *spare_queue = synth_define_queue(b, "spare-queue", NULL);
	synth_function_link(fn(b, "qsend"), synth_queue_construct(orders), "send");
	synth_function_link(fn(b, "qreceive"), synth_queue_construct(jobs), "receive");

	/* A queue encrypted with the AWS managed key: "send" also gets
	 * kms:GenerateDataKey and kms:Decrypt, through SQS, on that key only. */
	synth_queue *sealed = synth_define_queue(b, "sealed", &(synth_queue_props){.encryption = "kms"});
	synth_function_link(fn(b, "ksend"), synth_queue_construct(sealed), "send");

	/* Topics: "alerts" (publish), "spare-topic" (nobody). */
	synth_topic *alerts = synth_define_topic(b, "alerts", NULL);
	synth_define_topic(b, "spare-topic", NULL);
	synth_function_link(fn(b, "tpublish"), synth_topic_construct(alerts), "publish");

	/* Buses: "events" (put), "spare-bus" (nobody). */
	synth_bus *events = synth_define_bus(b, "events", NULL);
	synth_define_bus(b, "spare-bus", NULL);
	synth_function_link(fn(b, "bput"), synth_bus_construct(events), "put");

	/* Tables: "items" (read; an index and a stream), "ledger" (write),
	 * "spare-table" (nobody). */
	synth_table *items = synth_define_table(b, "items", &(synth_table_props){
		.fields = id_sk, .hash_key = "id", .range_key = "sk",
		.global_indexes = by_owner, .stream = "new-image"});
	synth_table *ledger = synth_define_table(b, "ledger", &(synth_table_props){
		.fields = id_only, .hash_key = "id"});
	synth_define_table(b, "spare-table", &(synth_table_props){.fields = id_only, .hash_key = "id"});
	synth_function_link(fn(b, "tread"), synth_table_construct(items), "read");
	synth_function_link(fn(b, "twrite"), synth_table_construct(ledger), "write");

	/* Buckets: "media" (read by sread, write by swrite), "archive" (nobody). */
	synth_storage *media = synth_define_storage(b, "media", &(synth_storage_props){.is_default = true});
	synth_define_storage(b, "archive", NULL);
	synth_function_link(fn(b, "sread"), synth_storage_construct(media), "read");
	synth_function_link(fn(b, "swrite"), synth_storage_construct(media), "write");

	/* APIs: "web" with an IAM route, a public one and a JWT-less default;
	 * "spare-api" with an IAM route of its own. */
	synth_function *h = fn(b, "handler");
	synth_api *web = synth_define_api(b, "web", NULL);
	synth_api_route(web, "POST /admin", h, &(synth_api_route_opts){.auth = {SYNTH_API_AUTH_IAM}});
	synth_api_route(web, "GET /admin/{id}", h, &(synth_api_route_opts){.auth = {SYNTH_API_AUTH_IAM}});
	synth_api_route(web, "GET /public", h, &(synth_api_route_opts){.auth = {SYNTH_API_AUTH_NONE}});
	synth_api *spare_api = synth_define_api(b, "spare-api", NULL);
	synth_api_route(spare_api, "POST /admin", h, &(synth_api_route_opts){.auth = {SYNTH_API_AUTH_IAM}});
	synth_function_link(fn(b, "ainvoke"), synth_api_construct(web), "invoke");

	/* Subscribers: qworker consumes jobs, tstream the items stream; the
	 * alerts topic delivers to orders, the events bus to spare-queue. */
	synth_queue_subscribe(jobs, fn(b, "qworker"), NULL);
	synth_table_subscribe(items, fn(b, "tstream"), NULL);
	synth_topic_subscribe_queue(alerts, orders, NULL);
	synth_bus_subscribe_queue(events, spare_queue, NULL);

	return synth_backend_main(b);
}
