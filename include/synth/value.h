/*
 * libsynth: intrinsic values.
 *
 * Property trees are jansson values. Any node of a tree may be an
 * intrinsic: a reference to a resource (by construct path) or one of the
 * CloudFormation intrinsic functions. References are *tokens*: they name a
 * resource by its construct path, and are resolved only when the template
 * is emitted, once every construct is generated and the stack layout is
 * known. A reference that ends up crossing a stack boundary becomes a
 * parameter of the consuming stack and an output of the producing one,
 * automatically.
 *
 * Every function here returns a new reference (caller owns; usually it is
 * passed straight into a tree with json_object_set_new()), or NULL when
 * out of memory. Functions whose arguments are json_t* steal them, even on
 * failure, so calls nest without leaks:
 *
 *     synth_join("", json_pack("[s,o]", "arn:", synth_pseudo("AWS::Partition")))
 */
#ifndef SYNTH_VALUE_H
#define SYNTH_VALUE_H

#include <jansson.h>
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* {"Ref": <logical ID of the resource at PATH>}. PATH is a construct
 * path such as "sayHello/Resource". */
SYNTH_EXPORT json_t *synth_ref(const char *path);

/* {"Fn::GetAtt": [<logical ID of PATH>, ATTR]}. */
SYNTH_EXPORT json_t *synth_getatt(const char *path, const char *attr);

/* {"Ref": NAME} for a pseudo parameter (AWS::Region, AWS::AccountId,
 * AWS::Partition, AWS::URLSuffix, AWS::StackName, AWS::NoValue, ...). */
SYNTH_EXPORT json_t *synth_pseudo(const char *name);

/* {"Ref": NAME} for a template parameter declared with
 * synth_backend_add_parameter(). Passed down to nested stacks as needed. */
SYNTH_EXPORT json_t *synth_param(const char *name);

/* {"Fn::Sub": [FMT, {name: value, ...}]}. The variables come in
 * (const char *name, json_t *value) pairs ended by NULL; values are
 * stolen and may hold tokens. With no pairs: {"Fn::Sub": FMT}. */
SYNTH_EXPORT json_t *synth_sub(const char *fmt, ...) SYNTH_SENTINEL;

/* {"Fn::Join": [DELIM, LIST]}; steals LIST (a JSON array). */
SYNTH_EXPORT json_t *synth_join(const char *delim, json_t *list);

/* {"Fn::Select": [INDEX, LIST]}; steals LIST. */
SYNTH_EXPORT json_t *synth_select(unsigned index, json_t *list);

/* {"Fn::Split": [DELIM, SOURCE]}; steals SOURCE. */
SYNTH_EXPORT json_t *synth_split(const char *delim, json_t *source);

/* {"Fn::If": [CONDITION, WHEN_TRUE, WHEN_FALSE]}; steals both values. */
SYNTH_EXPORT json_t *synth_if(const char *condition, json_t *when_true,
			      json_t *when_false);

/* {"Fn::ImportValue": NAME}; steals NAME (a string or an intrinsic). */
SYNTH_EXPORT json_t *synth_import_value(json_t *name);

#ifdef __cplusplus
}
#endif
#endif
