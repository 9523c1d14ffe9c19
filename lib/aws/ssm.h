/*
 * Systems Manager Parameter Store calls (JSON 1.1 protocol, X-Amz-Target
 * AmazonSSM.*) for the backend's secrets: SecureString parameters under the
 * paths synth_secret_path() names. Internal, CLI only.
 *
 * Values are secrets: never logged, never in an error message (an AWS
 * message that quotes one has it masked as "****"), and the buffers this
 * module fills with one (request and response bodies, decoded strings) are
 * wiped with OPENSSL_cleanse before they are freed.
 *
 * Errors: 0 or a negative SYNTH_E* code with synth_error_last() naming the
 * action and the parameter ("ssm GetParameter /synth/...: ..."), the AWS
 * error code and message and the request id. Throttling and 5xx answers
 * are retried by the HTTP layer (AWS standard mode). SYNTH_EINVALID: an
 * empty name, an empty value, a value over 4096 bytes (the standard tier's
 * limit) or one that is not UTF-8. Every function takes a client from
 * synth_aws_new whose endpoint for "ssm" is used.
 */
#ifndef SYNTH_SSM_H
#define SYNTH_SSM_H

#include <stdbool.h>
#include <jansson.h>
#include "aws.h"

/* PutParameter NAME = VALUE, SecureString (the account's default key),
 * Overwrite=true. Both borrowed. */
int synth_ssm_put(synth_aws *a, const char *name, const char *value);
/* GetParameter WithDecryption. *found false (and *value NULL, return 0)
 * when it does not exist (ParameterNotFound). *value: caller frees with
 * synth_ssm_free_value (which wipes it). */
int synth_ssm_get(synth_aws *a, const char *name, char **value, bool *found);
/* Wipes and frees VALUE; NULL is fine. */
void synth_ssm_free_value(char *value);
/* DeleteParameter. *found false (return 0) when it did not exist. */
int synth_ssm_delete(synth_aws *a, const char *name, bool *found);
/* GetParametersByPath PATH (starting with '/'; recursive, every page
 * followed through NextToken, MaxResults 10, no decryption), names only:
 * *names a new array of strings (caller owns: json_decref), sorted
 * bytewise. */
int synth_ssm_list(synth_aws *a, const char *path, json_t **names);
/* GetParameters for NAMES (borrowed array of strings, any number; sent in
 * batches of 10, SSM's limit): *missing a new array (caller owns) of the
 * names SSM reported in InvalidParameters, in the order it gave them.
 * Values are not decrypted. */
int synth_ssm_missing(synth_aws *a, json_t *names, json_t **missing);
/* GetParameters for NAMES (borrowed array of strings, any number, in
 * batches of 10) without decryption: *versions a new object (caller owns:
 * json_decref) mapping each name that exists to its Version (an integer,
 * counting up with every PutParameter); names that do not exist are
 * absent. Values are neither decrypted nor kept (the encrypted value that
 * SSM returns anyway is wiped). */
int synth_ssm_versions(synth_aws *a, json_t *names, json_t **versions);

#endif
