/*
 * libsynth: a secret as a construct, so a function can be linked to it.
 *
 * A secret is a name; its value lives in SSM Parameter Store under the
 * backend's path (synth_secret_path) with the app-wide fallback
 * (synth_secret_shared_path), set with `synth secret set NAME`. It creates
 * no resource. Linking (synth_function_link(fn, synth_secret_construct(s),
 * "read")) gives the function the secret as its environment name
 * SYNTH_<NAME>_VALUE in SYNTH_SSM_ENV_CONFIG (the parameter paths, never the
 * value) and ssm:GetParameters on exactly those two parameters; the handler
 * reads it at start, as samples/hello shows. `synth deploy` checks that a
 * linked secret is set before it deploys, as for any function secret.
 */
#ifndef SYNTH_SECRET_H
#define SYNTH_SECRET_H

#include "common.h"
#include "backend.h"
#include "construct.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct synth_secret synth_secret;

/* Defines the secret NAME (letters, digits, '-', '_'; the construct's name
 * too, so unique in the backend). Borrowed handle, or NULL on error. */
SYNTH_EXPORT synth_secret *synth_define_secret(synth_backend *b, const char *name);

/* The secret's construct (borrowed), for synth_function_link(). */
SYNTH_EXPORT synth_construct *synth_secret_construct(synth_secret *s);

#ifdef __cplusplus
}
#endif
#endif
