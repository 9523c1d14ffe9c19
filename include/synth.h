/*
 * libsynth: describe a serverless backend in C, synthesize it into AWS
 * CloudFormation templates and zipped Lambda assets (a CDK cloud assembly).
 *
 * Umbrella header. Link with `pkg-config --cflags --libs libsynth`.
 */
#ifndef SYNTH_H
#define SYNTH_H

#include "synth/common.h"
#include "synth/value.h"
#include "synth/backend.h"
#include "synth/construct.h"
#include "synth/lambda.h"
#include "synth/function.h"
#include "synth/auth.h"
#include "synth/storage.h"
#include "synth/data.h"
#include "synth/queue.h"
#include "synth/topic.h"
#include "synth/bus.h"
#include "synth/cron.h"
#include "synth/table.h"
#include "synth/api.h"
#include "synth/secret.h"

#endif
