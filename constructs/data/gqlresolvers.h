/*
 * define_data's generators, part 2: APPSYNC_JS resolvers (AppSync's
 * JavaScript runtime, ES modules importing '@aws-appsync/utils' and
 * '@aws-appsync/utils/dynamodb') that implement every operation of the
 * client schema (lib/gqlgen.h) against the models' DynamoDB tables and
 * enforce the @auth rules: public (API key, IAM), private (signed-in users,
 * IAM), owner (the owner field holds the identity claim; create sets it,
 * get/update/delete check it, list filters by it) and groups (static
 * groups and groupsField), per operation, field-level rules included.
 * Internal, not installed. Users: constructs/data.c.
 */
#ifndef SYNTH_GQLRESOLVERS_H
#define SYNTH_GQLRESOLVERS_H

#include <jansson.h>

/* AppSync's limit on the code of one resolver (its 32 KB quota), kept
 * with a little room: a module is never larger. */
#define SYNTH_GQL_CODE_MAX 32000

/*
 * The resolvers for MODEL (borrowed) with DEFAULT_AUTH as in gqlgen.h.
 * *out: a new object (caller decrefs):
 *   {"resolvers": [...], "modules": [...]}
 * "resolvers": one object per resolver, in a deterministic order:
 *   {"typeName": "Query" | "Mutation" | "Subscription" | "<Model>",
 *    "fieldName": "getTodo",
 *    "model": "Todo",            (the model whose table it reads or writes)
 *    "dataSource": "Todo" | null, (null: a NONE data source, e.g.
 *                                  subscriptions' auth checks)
 *    "operation": "get" | "list" | "create" | "update" | "delete"
 *                 | "index" | "subscribe" | "relation",
 *    "actions": ["dynamodb:GetItem", ...],  (what the data source's role
 *                                  needs for this resolver: least privilege)
 *    "index": "byOwner",         (the GSI it queries, when it does)
 *    "indexKeys": {"partitionKey": "owner", "sortKey": "createdAt" | null},
 *                                  (that GSI's key attributes, with "index")
 *    "module": 0}                (its code: an index into "modules")
 * "modules": the code, one ES module (APPSYNC_JS) per model of the
 * schema, holding the data of each of its resolvers (the resolvers whose
 * typeName is the model are its relations) and dispatching on
 * ctx.info.parentTypeName and ctx.info.fieldName, so that every resolver of
 * the model ships the same file:
 *   {"name": "Todo", "code": "import { util } from '@aws-appsync/utils';..."}
 * In the code, configs() lists each resolver's data on one line of its
 * own, `    "<typeName>.<fieldName>": {...JSON...}` (tests read it back).
 * A module larger than SYNTH_GQL_CODE_MAX is split: one module per
 * operation group ("Todo.queries": get, list and index queries;
 * "Todo.mutations"; "Todo.subscriptions"; "Todo.relations"), and a group
 * still too large, one per resolver ("Todo.Query.getTodo"). A resolver
 * whose code alone is too large is SYNTH_EINVALID with FILE:LINE:COL of
 * its model.
 *
 * Order: per model (schema order) get, list, index queries, create,
 * update, delete, onCreate/onUpdate/onDelete, then its relation fields.
 * @model(queries/mutations/subscriptions: ...) renames or removes them
 * (null: none; a key left out: the default name).
 *
 * GSIs the table generator must create (every "index" with "indexKeys"):
 * the models' @index (name, field, first sort key field), and for
 * hasMany / hasOne-with-references relations without `indexName` and
 * without an @index of the related model on the same key fields,
 * Amplify's "gsi-<Model>.<field>" (e.g. gsi-Post.comments) keyed by the
 * relation's keyFields (partition; sort when there are two).
 *
 * Keys: several sort key fields (@primaryKey or @index) make one string
 * attribute "a#b" (Amplify's), whose value the code joins from the fields
 * with '#': written by create and update (an update naming some of an
 * index's sort key fields must name them all), the item key of get /
 * update / delete from every key field, and the list / index queries'
 * condition (Model<T>PrimaryCompositeKeyConditionInput, argument "aB")
 * over the fields given. Such data carries "composites" and the query
 * "skFields" / "skArg". A relation with more than two key fields, or one
 * that would compare a composite sort key with a single field, is
 * SYNTH_EINVALID with FILE:LINE:COL.
 * IAM callers: a caller whose assumed-role ARN names a role the API's
 * environment grants (ctx.env SYNTH_IAM_ACCOUNT and SYNTH_IAM_QUERY /
 * _MUTATE / _SUBSCRIBE, set by constructs/data.c for synth_data_grant)
 * may do what its root type grants whatever the @auth rules; identity
 * pool callers are judged by the rules.
 * Unknown DEFAULT_AUTH: SYNTH_EINVALID. SYNTH_ENOMEM when
 * memory runs out; nothing is returned on failure.
 */
int synth__gql_resolvers(json_t **out, json_t *model, const char *default_auth);

#endif
