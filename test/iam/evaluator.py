#!/usr/bin/env python3
"""A small IAM policy evaluator for synthesized CloudFormation templates.

It answers "may ROLE do ACTION on RESOURCE (with these context keys)?"
for the roles of one template, with IAM's logic for a principal and a
resource of the same account:

  * an explicit Deny in any applicable policy wins;
  * else an Allow in the role's identity policies (its inline Policies and
    every AWS::IAM::Policy / AWS::IAM::ManagedPolicy of the template
    attached to it), or in a resource policy of the template
    (AWS::S3::BucketPolicy, AWS::SQS::QueuePolicy, AWS::SNS::TopicPolicy)
    naming the role, allows;
  * else the request is implicitly denied.
A service principal ("service:sns.amazonaws.com") is allowed only by the
resource policies, which include each AWS::Lambda::Permission as the
statement Lambda writes for it (SourceArn as ArnLike aws:SourceArn,
SourceAccount as StringEquals aws:SourceAccount).

Supported policy grammar: Effect, Action / NotAction, Resource /
NotResource, Principal / NotPrincipal (resource policies), Condition with
the string, ARN, Bool, Null and Numeric operators, their ...IfExists forms
and the ForAnyValue: / ForAllValues: set qualifiers; wildcards * and ? in
actions (case-insensitive), resources and the *Like operators (an ARN's
six colon-separated parts matched one by one, as IAM does); policy
variables ${key}, ${*}, ${?}, ${$} in resources and condition values.
Not supported (refused, so a test cannot pass by accident): managed
policies not defined in the template, permission boundaries, SCPs,
session policies, cross-account access.

Template intrinsics are resolved the way CloudFormation and AWS format
them, with a fixed fake account and region and physical names taken from
the logical ids (or from the name properties when set): Ref, Fn::GetAtt,
Fn::Sub, Fn::Join, Fn::Select, Fn::Split, Fn::If (conditions are
evaluated), Fn::Equals/And/Or/Not, and the pseudo parameters.

Library use:
    t = Template.load("cdk.out/x.template.json")
    ev = Evaluator(t)
    ev.decide("qsend/ServiceRole", "sqs:SendMessage",
              t.arn("orders/Queue"))            -> "Allow" / "Deny" / "ImplicitDeny"
Command line:
    evaluator.py TEMPLATE --role PATH --action A --resource ARN [--context k=v ...]
    evaluator.py TEMPLATE --cases FILE       (TAP lines; see cases_from())
    evaluator.py TEMPLATE --dump ROLE        (the role's resolved statements)
"""

import fnmatch
import hashlib
import json
import re
import sys

ACCOUNT = "123456789012"
REGION = "us-east-1"
PARTITION = "aws"
STACK = "synth-test-stack"
STREAM_LABEL = "2024-01-01T00:00:00.000"


class EvalError(Exception):
    """A template or policy this evaluator cannot evaluate faithfully."""


# --- template resolution ------------------------------------------------


def _short(lid, n=10):
    return hashlib.sha256(lid.encode()).hexdigest()[:n]


class Template:
    """A CloudFormation template with every intrinsic resolvable."""

    def __init__(self, doc, stack=STACK, parameters=None):
        self.doc = doc
        self.stack = stack
        self.resources = doc.get("Resources", {})
        self.params = dict(parameters or {})
        self.by_path = {}
        for lid, r in self.resources.items():
            p = (r.get("Metadata") or {}).get("synth:path")
            if p:
                self.by_path[p] = lid
        self._cond_cache = {}

    @classmethod
    def load(cls, path, **kw):
        with open(path) as f:
            return cls(json.load(f), **kw)

    # ---- names ----
    def lid(self, path_or_lid):
        """The logical id of a construct path ("orders/Queue") or of a logical id."""
        if path_or_lid in self.resources:
            return path_or_lid
        if path_or_lid in self.by_path:
            return self.by_path[path_or_lid]
        raise EvalError("no resource %r in the template" % path_or_lid)

    def _props(self, lid):
        return self.resources[lid].get("Properties") or {}

    def _name_prop(self, lid, prop):
        v = self._props(lid).get(prop)
        return self.resolve(v) if v is not None else None

    def physical_name(self, lid):
        """The physical name CloudFormation would give LID (its name property,
        or one derived from the logical id, deterministic)."""
        typ = self.resources[lid]["Type"]
        prop = {
            "AWS::SQS::Queue": "QueueName",
            "AWS::SNS::Topic": "TopicName",
            "AWS::DynamoDB::Table": "TableName",
            "AWS::S3::Bucket": "BucketName",
            "AWS::Events::EventBus": "Name",
            "AWS::Events::Rule": "Name",
            "AWS::Lambda::Function": "FunctionName",
            "AWS::IAM::Role": "RoleName",
            "AWS::Logs::LogGroup": "LogGroupName",
            "AWS::ApiGatewayV2::Api": None,
        }.get(typ)
        if prop:
            n = self._name_prop(lid, prop)
            if n is not None:
                return n
        if typ == "AWS::S3::Bucket":
            return ("%s-%s-%s" % (self.stack, lid, _short(lid, 8))).lower()[:63]
        if typ == "AWS::Logs::LogGroup":
            return "/aws/%s/%s" % (self.stack, lid)
        if typ == "AWS::SQS::Queue" and self._props(lid).get("FifoQueue"):
            return "%s-%s.fifo" % (self.stack, lid)
        if typ == "AWS::SNS::Topic" and self._props(lid).get("FifoTopic"):
            return "%s-%s.fifo" % (self.stack, lid)
        return "%s-%s-%s" % (self.stack, lid, _short(lid, 8).upper())

    def _prefix(self, service):
        return "arn:%s:%s:%s:%s:" % (PARTITION, service, REGION, ACCOUNT)

    def ref(self, name):
        pseudo = {
            "AWS::AccountId": ACCOUNT,
            "AWS::Region": REGION,
            "AWS::Partition": PARTITION,
            "AWS::StackName": self.stack,
            "AWS::StackId": self._prefix("cloudformation") + "stack/%s/%s" % (self.stack, "0" * 8),
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": None,
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.params:
            return self.params[name]
        if name in self.doc.get("Parameters", {}):
            p = self.doc["Parameters"][name]
            if "Default" in p:
                return p["Default"]
            raise EvalError("parameter %s has no value (pass parameters=)" % name)
        if name not in self.resources:
            raise EvalError("Ref to unknown %s" % name)
        typ = self.resources[name]["Type"]
        n = self.physical_name(name)
        if typ == "AWS::SQS::Queue":
            return "https://sqs.%s.amazonaws.com/%s/%s" % (REGION, ACCOUNT, n)
        if typ == "AWS::SNS::Topic":
            return self._prefix("sns") + n
        if typ == "AWS::ApiGatewayV2::Api":
            return _short(name)
        if typ == "AWS::IAM::ManagedPolicy":
            return "arn:%s:iam::%s:policy/%s" % (PARTITION, ACCOUNT, n)
        if typ == "AWS::Lambda::Permission" or typ.startswith("AWS::ApiGatewayV2::"):
            return _short(name)
        return n

    def getatt(self, lid, attr):
        if lid not in self.resources:
            raise EvalError("Fn::GetAtt of unknown %s" % lid)
        typ = self.resources[lid]["Type"]
        n = self.physical_name(lid)
        table = {
            "AWS::SQS::Queue": {
                "Arn": lambda: self._prefix("sqs") + n,
                "QueueName": lambda: n,
                "QueueUrl": lambda: self.ref(lid),
            },
            "AWS::SNS::Topic": {
                "TopicArn": lambda: self._prefix("sns") + n,
                "TopicName": lambda: n,
            },
            "AWS::DynamoDB::Table": {
                "Arn": lambda: self._prefix("dynamodb") + "table/" + n,
                "StreamArn": lambda: self._prefix("dynamodb") + "table/%s/stream/%s" % (n, STREAM_LABEL),
            },
            "AWS::S3::Bucket": {
                "Arn": lambda: "arn:%s:s3:::%s" % (PARTITION, n),
                "DomainName": lambda: "%s.s3.amazonaws.com" % n,
                "RegionalDomainName": lambda: "%s.s3.%s.amazonaws.com" % (n, REGION),
            },
            "AWS::Events::EventBus": {
                "Arn": lambda: self._prefix("events") + "event-bus/" + n,
                "Name": lambda: n,
            },
            "AWS::Events::Rule": {
                "Arn": lambda: self._rule_arn(lid, n),
            },
            "AWS::Lambda::Function": {
                "Arn": lambda: self._prefix("lambda") + "function:" + n,
            },
            "AWS::IAM::Role": {
                "Arn": lambda: "arn:%s:iam::%s:role/%s" % (PARTITION, ACCOUNT, n),
                "RoleId": lambda: "AROA" + _short(lid, 16).upper(),
            },
            "AWS::Logs::LogGroup": {
                "Arn": lambda: self._prefix("logs") + "log-group:%s:*" % n,
            },
            "AWS::ApiGatewayV2::Api": {
                "ApiId": lambda: _short(lid),
                "ApiEndpoint": lambda: "https://%s.execute-api.%s.amazonaws.com" % (_short(lid), REGION),
            },
            "AWS::KMS::Key": {
                "Arn": lambda: self._prefix("kms") + "key/" + _short(lid, 32),
            },
        }
        try:
            return table[typ][attr]()
        except KeyError:
            raise EvalError("Fn::GetAtt %s.%s (%s) is not modelled" % (lid, attr, typ))

    def _rule_arn(self, lid, n):
        """arn:...:rule/NAME on the default bus, rule/BUS/NAME on another."""
        bus = self._props(lid).get("EventBusName")
        bus = self.resolve(bus) if bus is not None else "default"
        if bus.startswith("arn:"):
            bus = bus.rsplit("/", 1)[1]
        return self._prefix("events") + "rule/" + ("" if bus == "default" else bus + "/") + n

    def arn(self, path_or_lid):
        """The ARN of a resource by construct path or logical id."""
        lid = self.lid(path_or_lid)
        typ = self.resources[lid]["Type"]
        if typ == "AWS::SNS::Topic":
            return self.getatt(lid, "TopicArn")
        if typ == "AWS::ApiGatewayV2::Api":
            return self._prefix("execute-api") + _short(lid)
        return self.getatt(lid, "Arn")

    # ---- intrinsics ----
    def condition(self, name):
        if name not in self._cond_cache:
            self._cond_cache[name] = bool(self.resolve(self.doc["Conditions"][name]))
        return self._cond_cache[name]

    def _sub(self, fmt, vars_):
        def repl(m):
            inner = m.group(1)
            if inner.startswith("!"):
                return "${" + inner[1:] + "}"
            if inner in vars_:
                v = self.resolve(vars_[inner])
            elif "." in inner and inner.split(".", 1)[0] in self.resources:
                v = self.getatt(*inner.split(".", 1))
            else:
                v = self.ref(inner)
            if not isinstance(v, str):
                raise EvalError("Fn::Sub ${%s} is not a string" % inner)
            return v

        return re.sub(r"\$\{([^}]*)\}", repl, fmt)

    def resolve(self, v):
        """V with every intrinsic function replaced by its value."""
        if isinstance(v, list):
            out = [self.resolve(x) for x in v]
            return [x for x in out if x is not _NOVALUE]
        if not isinstance(v, dict):
            return v
        if len(v) == 1:
            (k, a), = v.items()
            if k == "Ref":
                r = self.ref(a)
                return _NOVALUE if r is None else r
            if k == "Fn::GetAtt":
                if isinstance(a, str):
                    a = a.split(".", 1)
                return self.getatt(a[0], self.resolve(a[1]))
            if k == "Fn::Sub":
                if isinstance(a, str):
                    return self._sub(a, {})
                return self._sub(a[0], a[1])
            if k == "Fn::Join":
                parts = self.resolve(a[1])
                return self.resolve(a[0]).join(parts)
            if k == "Fn::Select":
                return self.resolve(a[1])[int(self.resolve(a[0]))]
            if k == "Fn::Split":
                return self.resolve(a[1]).split(self.resolve(a[0]))
            if k == "Fn::If":
                return self.resolve(a[1] if self.condition(a[0]) else a[2])
            if k == "Fn::Equals":
                return self.resolve(a[0]) == self.resolve(a[1])
            if k == "Fn::And":
                return all(self.resolve(x) for x in a)
            if k == "Fn::Or":
                return any(self.resolve(x) for x in a)
            if k == "Fn::Not":
                return not self.resolve(a[0])
            if k == "Condition":
                return self.condition(a)
            if k.startswith("Fn::"):
                raise EvalError("intrinsic %s is not modelled" % k)
        out = {k: self.resolve(x) for k, x in v.items()}
        return {k: x for k, x in out.items() if x is not _NOVALUE}

    # ---- roles and policies ----
    def role_lid(self, role):
        """The logical id of a role: a construct path ("qsend/ServiceRole"),
        a function's name ("qsend", its Role) or a logical id."""
        for cand in (role, role + "/ServiceRole"):
            try:
                lid = self.lid(cand)
            except EvalError:
                continue
            if self.resources[lid]["Type"] == "AWS::IAM::Role":
                return lid
        lid = self.lid(role + "/Resource")
        r = self._props(lid).get("Role")
        if isinstance(r, dict) and "Fn::GetAtt" in r:
            return r["Fn::GetAtt"][0]
        raise EvalError("no role for %r" % role)

    def role_arn(self, role):
        return self.getatt(self.role_lid(role), "Arn")

    def identity_policies(self, role):
        """[(source, resolved policy document)] of the role."""
        rl = self.role_lid(role)
        props = self._props(rl)
        out = []
        for p in props.get("Policies") or []:
            out.append(("%s inline %s" % (rl, p.get("PolicyName")), self.resolve(p["PolicyDocument"])))
        for m in props.get("ManagedPolicyArns") or []:
            if isinstance(m, dict) and "Ref" in m and m["Ref"] in self.resources:
                continue  # a managed policy of this template: below
            raise EvalError("role %s: managed policy %s is not in the template" % (rl, json.dumps(m)))
        for lid, r in self.resources.items():
            if r["Type"] not in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                continue
            roles = (r.get("Properties") or {}).get("Roles") or []
            mine = any(x == {"Ref": rl} for x in roles)
            mine = mine or {"Ref": lid} in (props.get("ManagedPolicyArns") or [])
            if mine:
                out.append((lid, self.resolve(r["Properties"]["PolicyDocument"])))
        return out

    def resource_policies(self):
        """[(source, resolved document, [resource ARN prefixes it governs])]."""
        out = []
        for lid, r in self.resources.items():
            p = r.get("Properties") or {}
            if r["Type"] == "AWS::S3::BucketPolicy":
                b = self.resolve(p["Bucket"])
                out.append((lid, self.resolve(p["PolicyDocument"]),
                            ["arn:%s:s3:::%s" % (PARTITION, b)]))
            elif r["Type"] == "AWS::SQS::QueuePolicy":
                urls = self.resolve(p["Queues"])
                arns = [self._prefix("sqs") + u.rsplit("/", 1)[1] for u in urls]
                out.append((lid, self.resolve(p["PolicyDocument"]), arns))
            elif r["Type"] == "AWS::SNS::TopicPolicy":
                out.append((lid, self.resolve(p["PolicyDocument"]), self.resolve(p["Topics"])))
            elif r["Type"] == "AWS::Lambda::Permission":
                out.append((lid, {"Statement": [self._permission_statement(p)]},
                            [self._function_arn(self.resolve(p["FunctionName"]))]))
        return out

    def _function_arn(self, v):
        """A function's ARN from a FunctionName value (name or ARN)."""
        return v if v.startswith("arn:") else self._prefix("lambda") + "function:" + v

    def _permission_statement(self, p):
        """An AWS::Lambda::Permission as the statement of the function's
        resource policy that Lambda writes for it."""
        principal = self.resolve(p["Principal"])
        if principal == "*":
            pr = "*"
        elif principal.endswith(".amazonaws.com") or principal.endswith(".amazonaws.com.cn"):
            pr = {"Service": principal}
        else:
            pr = {"AWS": principal if principal.startswith("arn:")
                  else "arn:%s:iam::%s:root" % (PARTITION, principal)}
        st = {"Effect": "Allow", "Principal": pr, "Action": self.resolve(p["Action"]),
              "Resource": self._function_arn(self.resolve(p["FunctionName"]))}
        cond = {}
        if "SourceArn" in p:
            cond.setdefault("ArnLike", {})["AWS:SourceArn"] = self.resolve(p["SourceArn"])
        if "SourceAccount" in p:
            cond.setdefault("StringEquals", {})["AWS:SourceAccount"] = self.resolve(p["SourceAccount"])
        if "PrincipalOrgID" in p or "FunctionUrlAuthType" in p or "EventSourceToken" in p:
            raise EvalError("Lambda permission property not modelled: %s" % sorted(p))
        if cond:
            st["Condition"] = cond
        return st


_NOVALUE = object()


# --- matching -------------------------------------------------------------


# Literal '*' and '?' in a pattern (from ${*}, ${?} and variable values).
_LSTAR, _LQMARK = "\x00", "\x01"


def _literal(s):
    return s.replace(_LSTAR, "*").replace(_LQMARK, "?") if isinstance(s, str) else s


def _glob(pattern, text, case=True):
    """IAM wildcard match: * any run of characters, ? one character."""
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(_literal(c)) for c in pattern)
    return re.fullmatch(rx, text, 0 if case else re.IGNORECASE | re.DOTALL) is not None


def _aslist(x):
    if x is None:
        return []
    return x if isinstance(x, list) else [x]


def _subst_vars(s, ctx):
    """Policy variables: ${key} (from the context; a missing key makes the
    value match nothing), ${*}, ${?}, ${$}."""
    if not isinstance(s, str) or "${" not in s:
        return s
    missing = []

    def repl(m):
        k = m.group(1)
        if k in ("*", "?", "$"):
            return {"*": _LSTAR, "?": _LQMARK}.get(k, k)
        default = None
        if "," in k:  # ${key, 'default'}
            k, d = k.split(",", 1)
            k, default = k.strip(), d.strip().strip("'")
        v = _ctx_get(ctx, k)
        if v is None:
            if default is not None:
                return default
            missing.append(k)
            return ""
        return str(v[0]).replace("*", _LSTAR).replace("?", _LQMARK)

    out = re.sub(r"\$\{([^}]*)\}", repl, s)
    return None if missing else out


def action_matches(pattern, action):
    return _glob(pattern, action, case=False)


def arn_matches(pattern, arn):
    """IAM's ARN matching: "*" alone matches anything; else each of the six
    colon-separated parts is matched on its own (a wildcard never crosses
    the colons of the first five)."""
    if pattern == "*":
        return True
    pp, ap = pattern.split(":", 5), arn.split(":", 5)
    if len(pp) != 6 or len(ap) != 6:
        # Not a six-part ARN: matched as one string, the permissive reading
        # (an evaluator that errs toward Allow keeps "denied" assertions sound).
        return _glob(pattern, arn)
    return all(_glob(p, a) for p, a in zip(pp, ap))


def _ctx_get(ctx, key):
    """The context's values for KEY (keys are case-insensitive), or None."""
    for k, v in ctx.items():
        if k.lower() == key.lower():
            return _aslist(v)
    return None


def _bool(v):
    return str(v).lower() == "true"


def _num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


_OPS = {
    "StringEquals": lambda p, v: _literal(str(p)) == str(v),
    "StringNotEquals": lambda p, v: _literal(str(p)) == str(v),
    "StringEqualsIgnoreCase": lambda p, v: _literal(str(p)).lower() == str(v).lower(),
    "StringNotEqualsIgnoreCase": lambda p, v: _literal(str(p)).lower() == str(v).lower(),
    "StringLike": lambda p, v: _glob(str(p), str(v)),
    "StringNotLike": lambda p, v: _glob(str(p), str(v)),
    "ArnEquals": lambda p, v: arn_matches(str(p), str(v)),
    "ArnLike": lambda p, v: arn_matches(str(p), str(v)),
    "ArnNotEquals": lambda p, v: arn_matches(str(p), str(v)),
    "ArnNotLike": lambda p, v: arn_matches(str(p), str(v)),
    "Bool": lambda p, v: _bool(p) == _bool(v),
    "BinaryEquals": lambda p, v: str(p) == str(v),
    "NumericEquals": lambda p, v: _num(v) is not None and _num(v) == _num(p),
    "NumericNotEquals": lambda p, v: _num(v) is not None and _num(v) == _num(p),
    "NumericLessThan": lambda p, v: _num(v) is not None and _num(v) < _num(p),
    "NumericLessThanEquals": lambda p, v: _num(v) is not None and _num(v) <= _num(p),
    "NumericGreaterThan": lambda p, v: _num(v) is not None and _num(v) > _num(p),
    "NumericGreaterThanEquals": lambda p, v: _num(v) is not None and _num(v) >= _num(p),
}
_NEGATED = {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike",
            "ArnNotEquals", "ArnNotLike", "NumericNotEquals"}


def _condition_key(op, key, want, ctx):
    """One operator/key pair of a Condition block."""
    qualifier = None
    if ":" in op and op.split(":", 1)[0] in ("ForAnyValue", "ForAllValues"):
        qualifier, op = op.split(":", 1)
    if_exists = op.endswith("IfExists") and op != "IfExists"
    if if_exists:
        op = op[: -len("IfExists")]
    have = _ctx_get(ctx, key)
    want = _aslist(want)
    if op == "Null":
        return (have is None) == _bool(want[0])
    if op not in _OPS:
        raise EvalError("condition operator %s is not modelled" % op)
    if have is None:
        if if_exists or qualifier == "ForAllValues":
            return True
        return op in _NEGATED
    match = _OPS[op]
    negated = op in _NEGATED
    pats = [x for x in (_subst_vars(w, ctx) for w in want) if x is not None]

    def one(v):
        hit = any(match(p, v) for p in pats)
        return not hit if negated else hit

    if qualifier == "ForAllValues":
        return all(one(v) for v in have)
    if qualifier == "ForAnyValue":
        return any(one(v) for v in have)
    if len(have) != 1:
        # A single-valued operator over a multivalued key: AWS compares
        # each; treat as any (ForAnyValue) for positive, all for negated.
        return all(one(v) for v in have) if negated else any(one(v) for v in have)
    return one(have[0])


def conditions_hold(cond, ctx):
    """Every operator and every key of a Condition block (AND); the values
    of one key are alternatives (OR)."""
    for op, keys in (cond or {}).items():
        for key, want in keys.items():
            if not _condition_key(op, key, want, ctx):
                return False
    return True


def principal_matches(principal, who):
    """Whether a Principal element names WHO: a role ARN, or
    "service:NAME" for a service principal (sns.amazonaws.com)."""
    if principal == "*":
        return True
    if isinstance(principal, dict):
        for kind, vals in principal.items():
            for v in _aslist(vals):
                if kind == "AWS" and v in ("*", who):
                    return True
                if kind == "Service" and who == "service:" + v:
                    return True
    return False


def statement_applies(st, action, resource, ctx, role_arn=None):
    """Whether statement ST matches the request (its effect aside)."""
    if "Action" in st:
        if not any(action_matches(a, action) for a in _aslist(st["Action"])):
            return False
    elif "NotAction" in st:
        if any(action_matches(a, action) for a in _aslist(st["NotAction"])):
            return False
    else:
        raise EvalError("statement without Action or NotAction: %s" % json.dumps(st))
    if "Resource" in st:
        pats = [_subst_vars(r, ctx) for r in _aslist(st["Resource"])]
        if not any(p is not None and arn_matches(p, resource) for p in pats):
            return False
    elif "NotResource" in st:
        pats = [_subst_vars(r, ctx) for r in _aslist(st["NotResource"])]
        if any(p is not None and arn_matches(p, resource) for p in pats):
            return False
    else:
        raise EvalError("statement without Resource or NotResource: %s" % json.dumps(st))
    if role_arn is not None:
        if "Principal" in st and not principal_matches(st["Principal"], role_arn):
            return False
        if "NotPrincipal" in st and principal_matches(st["NotPrincipal"], role_arn):
            return False
    return conditions_hold(st.get("Condition"), ctx)


def _statements(doc):
    return _aslist(doc.get("Statement"))


def evaluate(identity_docs, action, resource, context=None, resource_docs=(), role_arn=None):
    """("Allow" | "Deny" | "ImplicitDeny", [the deciding statements]).
    IDENTITY_DOCS: policy documents of the principal; RESOURCE_DOCS: the
    resource-based policies that govern RESOURCE (their Principal checked
    against ROLE_ARN)."""
    ctx = dict(DEFAULT_CONTEXT)
    ctx.update(context or {})
    allows, denies = [], []
    for doc in identity_docs:
        for st in _statements(doc):
            if statement_applies(st, action, resource, ctx):
                (denies if st.get("Effect") == "Deny" else allows).append(st)
    for doc in resource_docs:
        for st in _statements(doc):
            if statement_applies(st, action, resource, ctx, role_arn=role_arn or ""):
                (denies if st.get("Effect") == "Deny" else allows).append(st)
    if denies:
        return "Deny", denies
    if allows:
        return "Allow", allows
    return "ImplicitDeny", []


DEFAULT_CONTEXT = {"aws:SecureTransport": "true"}


class Evaluator:
    """Decisions for the roles of one Template."""

    def __init__(self, template):
        self.t = template
        self._rp = None

    def _resource_docs(self, resource):
        if self._rp is None:
            self._rp = self.t.resource_policies()
        out = []
        for _, doc, governed in self._rp:
            for g in governed:
                if resource == g or resource.startswith(g + "/"):
                    out.append(doc)
                    break
        return out

    def decide(self, role, action, resource, context=None):
        return self.explain(role, action, resource, context)[0]

    def explain(self, role, action, resource, context=None):
        """ROLE is a role (see Template.role_lid) or "service:NAME": a
        service principal, which only resource policies can allow."""
        ctx = dict(context or {})
        if role.startswith("service:"):
            return evaluate([], action, resource, ctx, self._resource_docs(resource), role)
        role_arn = self.t.role_arn(role)
        ctx.setdefault("aws:PrincipalArn", role_arn)
        ctx.setdefault("aws:PrincipalAccount", ACCOUNT)
        docs = [d for _, d in self.t.identity_policies(role)]
        return evaluate(docs, action, resource, ctx, self._resource_docs(resource), role_arn)

    def allowed(self, role, action, resource, context=None):
        return self.decide(role, action, resource, context) == "Allow"

    def granted_actions(self, role):
        """Every Action pattern of the role's Allow statements."""
        out = []
        for _, d in self.t.identity_policies(role):
            for st in _statements(d):
                if st.get("Effect") == "Allow":
                    out.extend(_aslist(st.get("Action")))
                    if "NotAction" in st:
                        out.append("NotAction:" + json.dumps(st["NotAction"]))
        return out


# --- cases ----------------------------------------------------------------


def expand(t, text):
    """{construct/path} -> its ARN; {construct/path.Attr} -> Fn::GetAtt;
    {construct/path!ref} -> Ref; {account}, {region}."""

    def repl(m):
        k = m.group(1)
        if k == "account":
            return ACCOUNT
        if k == "region":
            return REGION
        if k.endswith("!ref"):
            return t.ref(t.lid(k[:-4]))
        if "." in k:
            p, a = k.rsplit(".", 1)
            return t.getatt(t.lid(p), a)
        return t.arn(k)

    return re.sub(r"\{([^{}]+)\}", repl, text)


def cases_from(lines):
    """Cases, one a line: ROLE EXPECT ACTION RESOURCE [key=value ...]
    EXPECT is allow or deny (deny: explicit or implicit); '#' starts a
    comment. Yields (role, expect, action, resource, context, line)."""
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        f = line.split()
        if len(f) < 4 or f[1] not in ("allow", "deny"):
            raise EvalError("bad case line: %r" % line)
        ctx = {}
        for kv in f[4:]:
            k, v = kv.split("=", 1)
            ctx.setdefault(k, [])
            ctx[k].append(v)
        yield f[0], f[1], f[2], f[3], ctx, line


def run_cases(t, lines, out=sys.stdout):
    ev = Evaluator(t)
    passed = failed = 0
    for role, expect, action, res, ctx, line in cases_from(lines):
        try:
            arn = expand(t, res)
            ctx = {k: [expand(t, x) for x in v] for k, v in ctx.items()}
            got, why = ev.explain(role, action, arn, ctx)
        except EvalError as e:
            print("not ok - %s  # error: %s" % (line, e), file=out)
            failed += 1
            continue
        ok = (got == "Allow") == (expect == "allow")
        desc = "%s %s %s on %s%s" % (role, "may" if expect == "allow" else "may not",
                                     action, arn, "".join(" " + k + "=" + ",".join(v) for k, v in ctx.items()))
        print(("ok - " if ok else "not ok - ") + desc, file=out)
        if not ok:
            print("#   decision %s by %s" % (got, json.dumps(why)[:400]), file=out)
            failed += 1
        else:
            passed += 1
    return passed, failed


def main(argv):
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("template")
    ap.add_argument("--role")
    ap.add_argument("--action")
    ap.add_argument("--resource")
    ap.add_argument("--context", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--cases", metavar="FILE", help="'-' for stdin")
    ap.add_argument("--dump", metavar="ROLE")
    a = ap.parse_args(argv)
    t = Template.load(a.template)
    if a.dump:
        for src, doc in t.identity_policies(a.dump):
            print("# " + src)
            print(json.dumps(doc, indent=1))
        return 0
    if a.cases:
        lines = sys.stdin if a.cases == "-" else open(a.cases)
        p, f = run_cases(t, lines)
        print("# %d passed, %d failed" % (p, f))
        return 0 if f == 0 else 1
    if not (a.role and a.action and a.resource):
        ap.error("--role, --action and --resource (or --cases, --dump)")
    ctx = {}
    for kv in a.context:
        k, v = kv.split("=", 1)
        ctx.setdefault(k, []).append(v)
    got, why = Evaluator(t).explain(a.role, a.action, expand(t, a.resource), ctx)
    print(got)
    for st in why:
        print("#   " + json.dumps(st))
    return 0 if got == "Allow" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
