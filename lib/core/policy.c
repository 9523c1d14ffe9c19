/*
 * Resource-policy statements for AWS services (synth_policy_allow_service):
 * the one shape every component uses to let a service deliver to it.
 */
#include <ctype.h>
#include <string.h>
#include "internal.h"
#include "synth/sys/construct.h"

int synth_policy_allow_service(synth_construct *self, json_t *statements, const char *id,
			       const char *service_principal, const char *action,
			       json_t *resource, json_t *source_arn)
{
	SYNTH_CHECK_HANDLE(self);
	char sid[128];
	size_t n = 0;
	for (const char *s = id ? id : ""; *s && n < sizeof sid - 1; s++)
		if (isalnum((unsigned char)*s))
			sid[n++] = *s;
	sid[n] = '\0';
	int rc = 0;
	if (!source_arn || !resource)
		rc = synth_construct_failf(self, SYNTH_ENOMEM,
					   "allow %s: no source ARN or resource (out of memory?)",
					   action);
	else if (!n || !service_principal || !strchr(service_principal, '.'))
		rc = synth_construct_failf(self, SYNTH_EINVALID,
					   "allow %s '%s': needs a statement ID with letters or "
					   "digits and a service principal (\"sns.amazonaws.com\")",
					   action, id ? id : "");
	size_t i;
	json_t *st;
	json_array_foreach(statements, i, st)
		if (rc == 0 && !strcmp(json_string_value(json_object_get(st, "Sid")), sid))
			rc = synth_construct_failf(self, SYNTH_EEXISTS,
						   "allow %s: statement '%s' is there already",
						   action, sid);
	if (rc < 0) {
		json_decref(resource);
		json_decref(source_arn);
		return rc;
	}
	st = json_pack("{s:s,s:s,s:{s:s},s:s,s:o,s:{s:{s:o}}}", "Sid", sid, "Effect", "Allow",
		       "Principal", "Service", service_principal, "Action", action, "Resource",
		       resource, "Condition", "ArnEquals", "aws:SourceArn", source_arn);
	if (!st || json_array_append_new(statements, st) < 0)
		return synth_construct_failf(self, SYNTH_ENOMEM, "out of memory");
	return 0;
}
