"""AWS Query protocol pieces shared by the endpoint's services: the action
registry, request parameter access, XML serialization and errors.

To add an action, in the service's module:

    from query import action, Params, AwsError

    @action("cloudformation", "DeleteStack")
    def delete_stack(p, ctx):          # p: Params, ctx: Context
        ...
        return None                    # no <DeleteStackResult> element
        # or an ordered dict / list of (name, value) pairs: the Result's children

Values serialize as AWS does: dict -> nested elements, list -> <member>
items, bool -> true/false, datetime -> ISO 8601 with milliseconds, None ->
omitted. Raise AwsError(code, message[, status, type]) for an error.
"""

import datetime

from awspeer import xml_escape

SERVICES = {
    # credential-scope service name -> (API version, XML namespace)
    "cloudformation": ("2010-05-15", "http://cloudformation.amazonaws.com/doc/2010-05-15/"),
    "sts": ("2011-06-15", "https://sts.amazonaws.com/doc/2011-06-15/"),
    "ssm": ("2014-11-06", None),  # JSON 1.1 (X-Amz-Target), no Query actions
}

# Read-only actions (everything else counts as mutating in the calls log).
READ_PREFIXES = ("Describe", "Get", "List", "Validate", "Estimate")


def is_mutating(service, action_name):
    if service == "sts" or not action_name:
        return False
    return not action_name.startswith(READ_PREFIXES)

ACTIONS = {}       # (service, Action) -> handler(Params, Context)
JSON_TARGETS = {}  # (service, X-Amz-Target) -> handler(dict, Context) -> dict (JSON protocol)
ADMIN_ROUTES = []  # fn(method, path, params, spec) -> (status, obj) | None
ADMIN_RESETS = []  # fn(spec): called by POST /__admin/reset


def action(service, name):
    def deco(fn):
        ACTIONS[(service, name)] = fn
        return fn
    return deco


def json_target(service, target):
    def deco(fn):
        JSON_TARGETS[(service, target)] = fn
        return fn
    return deco


def admin_route(fn):
    ADMIN_ROUTES.append(fn)
    return fn


def admin_reset(fn):
    ADMIN_RESETS.append(fn)
    return fn


class AwsError(Exception):
    def __init__(self, code, message, status=400, type="Sender"):
        super().__init__(message)
        self.code, self.message, self.status, self.type = code, message, status, type


def validation(message):
    return AwsError("ValidationError", message)


class Context:
    """What a handler knows about the caller."""

    def __init__(self, service, action, cred, scope, request_id):
        self.service = service
        self.action = action
        self.cred = cred          # {'access_key', 'arn', 'user_id', ...} (never log secret_key)
        self.region = scope["region"]
        self.scope = scope
        self.request_id = request_id
        self.account = None


class Params:
    """The request's form parameters, with AWS Query list/map helpers."""

    def __init__(self, pairs):
        self.d = {}
        for k, v in pairs:
            self.d[k] = v

    def get(self, name, default=None):
        return self.d.get(name, default)

    def required(self, name, member=None):
        v = self.d.get(name)
        if v is None:
            raise validation("1 validation error detected: Value null at '%s' failed to satisfy "
                             "constraint: Member must not be null" % (member or name[0].lower() + name[1:]))
        return v

    def bool(self, name, default=None):
        v = self.d.get(name)
        if v is None:
            return default
        return v.lower() == "true"

    def int(self, name, default=None):
        v = self.d.get(name)
        if v is None:
            return default
        try:
            return int(v)
        except ValueError:
            raise validation("Invalid value for %s: %s" % (name, v))

    def list(self, name):
        """Name.member.N[.Field] -> [str] or [dict], in N order."""
        prefix = name + ".member."
        items = {}
        for k, v in self.d.items():
            if not k.startswith(prefix):
                continue
            n, _, field = k[len(prefix):].partition(".")
            if not n.isdigit():
                continue
            if field:
                items.setdefault(int(n), {})[field] = v
            else:
                items[int(n)] = v
        return [items[n] for n in sorted(items)]

    def map(self, name, key="key", value="value"):
        """Name.entry.N.key / .value (or Name.member.N.Key / .Value lists)."""
        out = {}
        for e in self.list_entries(name):
            out[e.get(key)] = e.get(value)
        return out

    def list_entries(self, name):
        prefix = name + ".entry."
        items = {}
        for k, v in self.d.items():
            if k.startswith(prefix):
                n, _, field = k[len(prefix):].partition(".")
                if n.isdigit():
                    items.setdefault(int(n), {})[field] = v
        return [items[n] for n in sorted(items)]


def iso(t):
    if isinstance(t, (int, float)):
        t = datetime.datetime.utcfromtimestamp(t)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


def to_xml(name, value):
    if value is None:
        return ""
    if isinstance(value, dict):
        return "<%s>%s</%s>" % (name, "".join(to_xml(k, v) for k, v in value.items()), name)
    if isinstance(value, (list, tuple)):
        if not value:
            return "<%s/>" % name
        return "<%s>%s</%s>" % (name, "".join(to_xml("member", v) for v in value), name)
    if isinstance(value, bool):
        value = "true" if value else "false"
    elif isinstance(value, datetime.datetime):
        value = iso(value)
    return "<%s>%s</%s>" % (name, xml_escape(value), name)


def response_xml(service, action_name, result, request_id):
    ns = SERVICES[service][1]
    inner = ""
    if result is not None:
        inner = to_xml(action_name + "Result", result) if result else "<%sResult/>" % action_name
    return ('<%sResponse xmlns="%s">\n  %s\n  <ResponseMetadata>\n    <RequestId>%s</RequestId>\n'
            '  </ResponseMetadata>\n</%sResponse>\n' % (action_name, ns, inner, request_id, action_name))


def error_xml(service, err, request_id):
    ns = SERVICES.get(service, SERVICES["cloudformation"])[1]
    return ('<ErrorResponse xmlns="%s">\n  <Error>\n    <Type>%s</Type>\n    <Code>%s</Code>\n'
            '    <Message>%s</Message>\n  </Error>\n  <RequestId>%s</RequestId>\n</ErrorResponse>\n' % (
                ns, err.type, err.code, xml_escape(err.message), request_id))
