/*
 * The client configuration: amplify_outputs.json, built from stack outputs.
 *
 * Constructs record what a client needs as root stack outputs
 * (synth_backend_add_output), and the root template's Metadata lists them
 * per category (the output storage strategy):
 *
 *     "Metadata": {"AWS::Amplify::Auth": {"version": "1",
 *                                          "stackOutputs": ["userPoolId", ...]}}
 *
 * After a deploy, CloudFormation returns the outputs' values (strings);
 * this module turns them into the file Amplify's client libraries load
 * (version 1.5 of its JSON schema), with Amplify's output names and
 * conventions: lists and objects travel as JSON inside the strings.
 * Categories read: AWS::Amplify::Auth, AWS::Amplify::GraphQL (also spelled
 * AWS::Amplify::Data), AWS::Amplify::Storage, AWS::Amplify::Custom; others
 * (Function, Platform, ...) contribute nothing to the client.
 *
 * Internal: used by the CLI. Every function returns 0 or a negative
 * SYNTH_E* code with synth_error_last() naming the category and the output.
 */
#ifndef SYNTH_CLIENTCONFIG_H
#define SYNTH_CLIENTCONFIG_H

#include <jansson.h>

/* The schema version written (the schema's "version" const). */
#define SYNTH_CLIENTCONFIG_VERSION "1.5"
/* The file name Amplify's tooling and clients use. */
#define SYNTH_CLIENTCONFIG_FILE "amplify_outputs.json"

/*
 * Builds the client configuration. METADATA is the root template's
 * Metadata object (keys other than AWS::Amplify::* are ignored); OUTPUTS
 * the stack outputs, either an object name -> value or the list
 * DescribeStacks returns, [{"OutputKey": k, "OutputValue": v}, ...] (also
 * {"member": [...]} as the Query protocol's XML reads). REGION (may be NULL)
 * stands in for a category's region output when that output is absent.
 * Both trees are borrowed. On success *out is a new object (caller
 * decrefs) holding "version" and only the categories the metadata lists.
 * Every output a category lists must be present; a required one that is
 * absent, or a value that does not parse or is outside the schema's
 * values, is SYNTH_EINVALID naming the category, its metadata key and the
 * output.
 */
int synth__clientconfig_build(json_t **out, json_t *metadata, json_t *outputs,
			      const char *region);

/*
 * Sets data.model_introspection (SCHEMA is borrowed and copied; it must be
 * an object). SYNTH_EINVALID if CONFIG has no data category.
 */
int synth__clientconfig_set_model_introspection(json_t *config, json_t *schema);

/*
 * Writes CONFIG to PATH atomically: a temporary file beside PATH, fsync,
 * rename. Keys sorted (byte-identical output for equal configs), two-space
 * indent, trailing newline, mode 0666 & ~umask. On failure PATH keeps its
 * previous content and no temporary file is left.
 */
int synth__clientconfig_write(const char *path, json_t *config);

/*
 * Builds the configuration from outputs supplied in a file (the tests and
 * the path before a deployer exists). OUTPUTS_PATH holds either
 *   {"metadata": {...}, "outputs": {...} or [...], "region": "...",
 *    "model_introspection": {...}}     (metadata, region, model
 *                                       introspection optional), or
 *   the output of `aws cloudformation describe-stacks`:
 *   {"Stacks": [{"StackId": "arn:...", "Outputs": [...], ...}]}
 *     (one stack, or exactly one root stack: without ParentId);
 *     the region comes from the stack id's ARN.
 * TEMPLATE_PATH (may be NULL when the outputs file has "metadata") is the
 * root template, or a cloud assembly directory whose manifest.json names
 * one stack; its "Metadata" lists the outputs (and is used rather than
 * the file's "metadata" when both are given). When an
 * SYNTH_OUT_MODEL_SCHEMA_URI output is a file:// URI, the model
 * introspection schema is read from that file (relative to the outputs
 * file's directory when the path is relative). *out: as for _build.
 */
int synth__clientconfig_from_files(json_t **out, const char *template_path,
				   const char *outputs_path);

#endif
