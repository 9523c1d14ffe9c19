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

/*
 * The resolvers for MODEL (borrowed) with DEFAULT_AUTH as in gqlgen.h.
 * *out: a new array (caller decrefs) with one object per resolver, in a
 * deterministic order:
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
 *    "code": "import { util } from '@aws-appsync/utils';\n..."}
 */
int synth__gql_resolvers(json_t **out, json_t *model, const char *default_auth);

#endif
