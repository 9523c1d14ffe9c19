/*
 * Systems Manager Parameter Store calls (JSON 1.1 protocol, X-Amz-Target
 * AmazonSSM.*) for the backend's secrets: SecureString parameters under the
 * paths synth_secret_path() names. Internal, CLI only. Values are secrets:
 * never logged, wiped from memory when freed.
 */
#ifndef SYNTH_SSM_H
#define SYNTH_SSM_H

#include <stdbool.h>
#include <jansson.h>
#include "aws.h"

/* PutParameter, SecureString, Overwrite=true. */
int synth_ssm_put(synth_aws *a, const char *name, const char *value);
/* GetParameter WithDecryption. *found false (and *value NULL) when it does
 * not exist. *value: caller frees with synth_ssm_free_value. */
int synth_ssm_get(synth_aws *a, const char *name, char **value, bool *found);
void synth_ssm_free_value(char *value);
/* DeleteParameter. *found false when it did not exist. */
int synth_ssm_delete(synth_aws *a, const char *name, bool *found);
/* GetParametersByPath (recursive, every page), names only: *names a new
 * array of strings, sorted. */
int synth_ssm_list(synth_aws *a, const char *path, json_t **names);
/* GetParameters for NAMES (any number; batched by 10): *missing a new
 * array of the names that do not exist. Values are not fetched. */
int synth_ssm_missing(synth_aws *a, json_t *names, json_t **missing);

#endif
