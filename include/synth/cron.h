/*
 * libsynth: a cron job on EventBridge Scheduler (SST's CronV2): a schedule
 * that invokes a function, with a time zone, a flexible window, retries
 * and a dead-letter queue. (A function's own .schedule / 
 * synth_function_add_schedule() is an EventBridge rule and stays so.)
 *
 * Resources, by construct path (NAME is the cron's name):
 *   NAME/Schedule   AWS::Scheduler::Schedule
 *   NAME/Role       AWS::IAM::Role, assumable by scheduler.amazonaws.com from
 *                   this account only; it may lambda:InvokeFunction on
 *                   exactly the function (and its versions), and
 *                   sqs:SendMessage on exactly the dead-letter queue, if any
 */
#ifndef SYNTH_CRON_H
#define SYNTH_CRON_H

#include <stdbool.h>
#include "common.h"
#include "backend.h"
#include "construct.h"
#include "function.h"
#include "queue.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct synth_cron synth_cron;

/* props.retry_attempts for no retry at all (0 means the default). */
#define SYNTH_CRON_NO_RETRIES (-1)

/* Props: zero means the default for every field but the two required
 * ones. All strings are copied. */
typedef struct synth_cron_props {
	synth_function *function;  /* required: what the schedule invokes */
	/* Required: the forms of synth_schedule_parse() ("every day",
	 * "rate(5 minutes)", "cron(0 9 ? * MON-FRI *)", "0 9 * * 1", ...) or a
	 * one-time "at(2030-01-31T09:00:00)". */
	const char *schedule;
	/* An IANA time zone ("Europe/Paris", "America/New_York", "UTC") for
	 * cron and at expressions. Default: UTC. */
	const char *timezone;
	/* Invoke within this many minutes (1..1440) after the scheduled time,
	 * spreading load. Default 0: exactly on time (OFF). */
	int flexible_window_min;
	/* Retries of a failed invocation: 1..185 attempts
	 * (SYNTH_CRON_NO_RETRIES: none) and a maximum event age of 60..86400
	 * seconds. Default: Scheduler's (185 attempts, 24 hours). */
	int retry_attempts;
	int max_event_age_s;
	/* A standard queue for invocations that failed for good. */
	synth_queue *dlq;
	bool disabled;       /* created DISABLED (default: ENABLED) */
	const char *input;   /* the event the function receives, JSON text */
} synth_cron_props;

/* Defines a cron job named NAME (unique in the backend). Validates the
 * props at once. Returns a handle borrowed from the backend, or NULL on
 * error (the message names NAME). */
SYNTH_EXPORT synth_cron *synth_define_cron(synth_backend *b, const char *name,
					   const synth_cron_props *props);

/* The cron's construct (borrowed). */
SYNTH_EXPORT synth_construct *synth_cron_construct(synth_cron *cron);

#ifdef __cplusplus
}
#endif
#endif
