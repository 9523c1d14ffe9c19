/*
 * The schema parser of define_data: Amplify's GraphQL SDL dialect (the
 * GraphQL Transformer v2 directives, as Amplify Gen2 generates them) into
 * a JSON model the data construct generates from. Internal, not installed.
 *
 * Input: a GraphQL type system document (October 2021 spec grammar):
 * `type`, `interface` (with `implements A & B`), `union`, `enum`, `input`,
 * descriptions ("..." and """...""" before definitions, fields, arguments
 * and enum values), '#' comments, commas as whitespace, directives with
 * constant arguments (strings, block strings, numbers, booleans, null,
 * enum values, lists, objects). `schema`, `directive`, `extend` and custom
 * `scalar` definitions are refused (AppSync has no custom scalars; the
 * dialect has no use for the others).
 *
 * Errors: SYNTH_EINVALID with `FILE:LINE:COL: message` (1-based; columns
 * count Unicode code points, a tab is one column), the first error only:
 * it names what was expected and what was found, e.g.
 *   schema.graphql:4:9: expected ':' after field name 'title', found '{'
 * SYNTH_ENOMEM when memory runs out. Nothing is returned on failure.
 *
 * Limits (each an error, never a crash): SYNTH_GRAPHQL_MAX_INPUT bytes of
 * input, names and numbers of SYNTH_GRAPHQL_MAX_NAME characters, nesting of
 * list values, object values and list types SYNTH_GRAPHQL_MAX_DEPTH deep.
 * The recursion of the parser is bounded by that depth.
 *
 * Directives known (any other is "unknown directive @foo"):
 *   @model(queries, mutations, subscriptions, timestamps)   on object types
 *   @auth(rules: [AuthRule!]!)       on @model types and their fields
 *   @primaryKey(sortKeyFields)       on one field of a @model type
 *   @index(name, sortKeyFields, queryField, projection)   repeatable, on
 *                                    scalar or enum fields of @model types
 *   @hasMany(indexName, fields, references, limit)
 *   @hasOne(indexName, fields, references)
 *   @belongsTo(fields, references)   on fields of @model types whose type
 *                                    is a @model
 *   @default(value: String!)         on scalar or enum fields of @model types
 *   @deprecated(reason)              on fields, arguments, enum values
 *
 * The rules checked, each reported at the offending token: unknown types,
 * duplicate types, fields, arguments, enum values and object keys; input
 * types where output types belong and the reverse; nested lists; directive
 * locations, repetition, argument names and types; @auth strategies
 * (owner | groups | private | public), providers per strategy (owner and
 * groups: userPools | oidc; private: userPools | oidc | iam | identityPool;
 * public: apiKey | iam | identityPool), operations, rule fields that only
 * apply to one strategy, ownerField / groupsField types; @primaryKey and
 * @index key fields (exist, scalar or enum, not lists, not the field
 * itself; a @primaryKey's are required fields), index names (unique per
 * model; DynamoDB's 3-255 characters) and queryFields (unique in the
 * schema); relations: the related type is a @model, @hasMany is a list and
 * @hasOne / @belongsTo are not, `fields` or `references` (not both), each
 * reference is a scalar or enum field of the model that holds the key,
 * as many as the referenced primary key has fields and of matching types
 * (ID and String match), a @belongsTo has a @hasOne or @hasMany pointing
 * back (and with `references` every side has its counterpart with the same
 * references: Amplify supports no uni-directional references relations),
 * @hasMany's indexName is an @index of the related model; a field whose
 * type is a @model carries a relation directive; @default only on scalar
 * or enum, non-list, non-key fields, its value valid for the type (Int,
 * Float, Boolean, AWSDate, AWSTime, AWSDateTime, AWSTimestamp, AWSEmail,
 * AWSJSON, AWSPhone, AWSURL, AWSIPAddress, enum values); default values of
 * arguments and input fields coerce to their types.
 *
 * Fields Amplify adds to every model count as declared where a rule names
 * a field (sortKeyFields, references, fields, ownerField): `id: ID!` when
 * there is no @primaryKey, and `createdAt` / `updatedAt: AWSDateTime!`
 * (renamed or removed by @model(timestamps: ...)). They are not listed in
 * "fields": the data construct adds them (and the owner field) itself.
 *
 * The model (every object always present, possibly empty; object keys in
 * schema order; every "line"/"column" the position of the definition's
 * name, or of the directive's '@'):
 *
 * {
 *   "file": "schema.graphql",
 *   "models": {
 *     "Todo": {
 *       "line": 3, "column": 6, "description": "...",      (if any)
 *       "fields": { "<name>": FIELD, ... },       (as declared)
 *       "interfaces": [],                    (implemented interfaces)
 *       "primaryKey": {"field": "id", "sortKeyFields": [],
 *                      "implicit": true},   (true: no @primaryKey, the
 *                      model is keyed by `id: ID!`, added if not declared)
 *       "auth": [RULE, ...],                 (type-level @auth; [] if none)
 *       "hasAuth": true,                     (an @auth directive was given)
 *       "indexes": [{"name": "todosByStatus", "field": "status",
 *                    "sortKeyFields": ["createdAt"],
 *                    "queryField": "todosByStatus" | null,
 *                    "projection": {...},   (as written, if given)
 *                    "line": 9, "column": 19}],
 *       "relations": [RELATION, ...],
 *       "timestamps": {"createdAt": "createdAt", "updatedAt": "updatedAt"},
 *                    (the timestamp fields' names; null: none)
 *       "options": {"queries": ..., "timestamps": ...},  (@model's
 *                    arguments as written; {} if none)
 *       "directives": {"model": {...}, "auth": {...}}  (as written)
 *     }
 *   },
 *   "types":      { "<name>": {"line", "column", "description"?, "fields",
 *                   "interfaces": ["Node"], "directives"} },  (non-model
 *                   object types: custom types usable as field types)
 *   "interfaces": { same shape as "types" },
 *   "inputs":     { "<name>": {"line", "column", "description"?, "fields"} },
 *   "enums":      { "<name>": {"line", "column", "description"?,
 *                   "values": ["ACTIVE", "DONE"]} },
 *   "unions":     { "<name>": {"line", "column", "types": ["A", "B"]} },
 *   "authProviders": { "userPools": {"line": 3, "column": 27}, ... }
 *                   (every provider a rule uses, with the first rule's
 *                   position: the authorization modes the API needs)
 * }
 *
 * FIELD:
 *   {"type": "String",              (the named type inside any list / !)
 *    "kind": "scalar" | "enum" | "model" | "type" | "interface" | "union"
 *            | "input",
 *    "required": true,              (T! or [T]!)
 *    "list": false, "listItemRequired": false,   ([T!] -> true, true)
 *    "directives": {"index": [{...}, ...], "default": {"value": "x"}, ...},
 *                                   (as written: argument values converted
 *                                   to JSON, enum values as strings, one
 *                                   value where a list goes wrapped in a
 *                                   list as GraphQL coerces it; @index is
 *                                   repeatable, so an array of them)
 *    "line": 5, "column": 3,
 *    "description": "...",         (if any)
 *    "arguments": {"<name>": {"type", "kind", "required", "list",
 *                  "listItemRequired", "defaultValue"?, "line", "column"}},
 *                                   (if the field has arguments)
 *    "defaultValue": ...,          (input fields with `= value`)
 *    "default": 42,                (@default's value converted to the
 *                                   field's type: Int and AWSTimestamp to
 *                                   integers, Float to reals, Boolean to
 *                                   booleans, the rest strings)
 *    "relation": "hasMany",        (if it carries a relation directive)
 *    "auth": [RULE, ...]}          (field-level @auth, if any)
 *
 * RULE (normalized: defaults filled in, `read` expanded):
 *   {"allow": "owner" | "groups" | "private" | "public",
 *    "provider": "userPools",      (default: userPools; public: apiKey;
 *                                   "iam" and "identityPool" both mean
 *                                   AWS_IAM, kept as written)
 *    "ownerField": "owner", "identityClaim": "sub::username",   (owner)
 *    "groups": ["Admin"] | "groupsField": "editors",
 *    "groupClaim": "cognito:groups",                            (groups)
 *    "operations": ["create", "update", "delete", "get", "list",
 *                   "listen", "sync", "search"],  (that order; a subset
 *                   when `operations` is given; default: all)
 *    "line": 3, "column": 31}      (the rule's '{')
 *
 * RELATION:
 *   {"field": "posts", "kind": "hasMany" | "hasOne" | "belongsTo",
 *    "related": "Post",
 *    "references": ["blogId"] | "fields": ["..."],   (as written, if given)
 *    "keyModel": "Post",          (the model whose items hold the key)
 *    "keyFields": ["blogId"],     (its attributes: the references, the
 *                                  fields, or Amplify's implicit names:
 *                                  the model, the field and each field of
 *                                  the referenced primary key: blogPostsId
 *                                  for Blog.posts @hasMany, projectTeamId
 *                                  for Project.team @hasOne, siteHomePath
 *                                  and siteHomeLang for Site.home @hasOne
 *                                  to a Page keyed by path and lang)
 *    "counterpart": "blog" | null,   (the field of the related model that
 *                                  points back)
 *    "indexName": "...", "limit": 100,   (if given)
 *    "line": 7, "column": 18}
 *
 * Index names left out default to Amplify's: the model's name pluralized
 * and lower-camel-cased, "By", then the field and sort key fields joined
 * by "And" (Employee.manager, [level] -> employeesByManagerAndLevel), and
 * so do queryFields (an explicit `queryField: null` means no query). The
 * plural follows English's regular rules (s, x, z, ch, sh -> es;
 * consonant + y -> ies), not Amplify's dictionary of irregular nouns.
 */
#ifndef SYNTH_GRAPHQL_H
#define SYNTH_GRAPHQL_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#define SYNTH_GRAPHQL_MAX_INPUT (4u << 20) /* bytes */
#define SYNTH_GRAPHQL_MAX_NAME 255         /* characters of a name or number */
#define SYNTH_GRAPHQL_MAX_DEPTH 32         /* nested lists / objects / list types */

/*
 * Parses TEXT (LEN bytes, need not be NUL-terminated; may hold a UTF-8
 * byte order mark) and checks it. FILE names it in messages. On success
 * *out is the model above (caller owns: json_decref); on failure *out is
 * NULL and the message is in synth_error_last().
 */
int synth__graphql_parse(json_t **out, const char *file, const char *text, size_t len);

/* The same for the file at PATH (named PATH in messages). */
int synth__graphql_parse_file(json_t **out, const char *path);

/* True for the scalars AppSync defines: ID, String, Int, Float, Boolean
 * and the AWS scalars (AWSDate, AWSTime, AWSDateTime, AWSTimestamp,
 * AWSEmail, AWSJSON, AWSPhone, AWSURL, AWSIPAddress). */
bool synth__graphql_is_scalar(const char *name);

/* The plural of name S by the rule above (every generator names plurals
 * with it): the suffix to append ("s", "es" or "ies"; static) after the
 * first *keep bytes of S (all of it, or all but a final y). */
const char *synth__graphql_plural(const char *s, size_t *keep);

#endif
