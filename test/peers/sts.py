"""STS actions of the test endpoint: GetCallerIdentity and AssumeRole.

AssumeRole issues temporary credentials (ASIA..., with a session token)
that every peer accepts afterwards (they are shared through the state
directory), so a profile with role_arn + source_profile can be tested.
"""

import datetime
import re
import zlib

from awspeer import ACCOUNT
from query import action, validation, AwsError

STORE = None  # awspeer.CredentialStore, set by the endpoint


@action("sts", "GetCallerIdentity")
def get_caller_identity(p, ctx):
    return {"Arn": ctx.cred["arn"], "UserId": ctx.cred["user_id"], "Account": ACCOUNT}


@action("sts", "AssumeRole")
def assume_role(p, ctx):
    arn = p.required("RoleArn", "roleArn")
    session = p.required("RoleSessionName", "roleSessionName")
    duration = p.int("DurationSeconds", 3600)
    if not re.fullmatch(r"[\w+=,.@-]{2,64}", session):
        raise validation("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy "
                         "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*" % session)
    if not 900 <= duration <= 43200:
        raise validation("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy "
                         "constraint: Member must have value %s 900" % (duration, "greater than or equal to"
                                                                         if duration < 900 else
                                                                         "less than or equal to 43200"))
    m = re.fullmatch(r"arn:aws:iam::(\d{12}):role/(?:[\w+=,.@/-]*/)?([\w+=,.@-]+)", arn)
    if not m:
        raise validation("%s is invalid" % arn)
    if m.group(1) != ACCOUNT:
        raise AwsError("AccessDenied", "User: %s is not authorized to perform: sts:AssumeRole on resource: %s"
                       % (ctx.cred["arn"], arn), status=403)
    if duration > 3600:
        raise validation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    role = m.group(2)
    role_id = "AROAPEERS%011d" % (zlib.crc32(role.encode()) % 10 ** 11)
    assumed = "arn:aws:sts::%s:assumed-role/%s/%s" % (ACCOUNT, role, session)
    c = STORE.issue(assumed, "%s:%s" % (role_id, session), duration)
    exp = datetime.datetime.utcfromtimestamp(c["expires"]).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "Credentials": {
            "AccessKeyId": c["access_key"],
            "SecretAccessKey": c["secret_key"],
            "SessionToken": c["token"],
            "Expiration": exp,
        },
        "AssumedRoleUser": {"AssumedRoleId": "%s:%s" % (role_id, session), "Arn": assumed},
        "PackedPolicySize": 0 if p.get("Policy") else None,
    }
