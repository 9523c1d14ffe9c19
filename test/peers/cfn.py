"""CloudFormation actions of the test endpoint, its in-memory stack store,
and the engine that makes stacks change over time.

Actions: CreateStack, UpdateStack, DeleteStack, DescribeStacks, ListStacks,
DescribeStackEvents, DescribeStackResources, DescribeStackResource,
ListStackResources, GetTemplate, ValidateTemplate, CreateChangeSet,
DescribeChangeSet, ExecuteChangeSet, DeleteChangeSet, ListChangeSets,
ContinueUpdateRollback, CancelUpdateStack, UpdateTerminationProtection,
ListExports, ListImports. Templates come from TemplateBody or TemplateURL
(fetched from s3rver); nested stacks (AWS::CloudFormation::Stack) become
child stacks. Every operation runs in a worker thread, one resource step
per SETTINGS["step_ms"], emitting AWS's events; see README.md for the
admin API (settings, behaviour faults, seeding).
"""

import base64
import copy
import datetime
import hashlib
import json
import os
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from urllib.parse import urlparse, quote, unquote

from awspeer import ACCOUNT
from query import action, admin_route, admin_reset, validation, AwsError
import cfn_engine as E

STATE_DIR = None  # set by the endpoint (s3rver's port is read from it)

STACK_STATUSES = {
    "CREATE_IN_PROGRESS", "CREATE_FAILED", "CREATE_COMPLETE", "ROLLBACK_IN_PROGRESS",
    "ROLLBACK_FAILED", "ROLLBACK_COMPLETE", "DELETE_IN_PROGRESS", "DELETE_FAILED",
    "DELETE_COMPLETE", "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
    "UPDATE_COMPLETE", "UPDATE_FAILED", "UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_FAILED",
    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE",
    "REVIEW_IN_PROGRESS", "IMPORT_IN_PROGRESS", "IMPORT_COMPLETE", "IMPORT_ROLLBACK_IN_PROGRESS",
    "IMPORT_ROLLBACK_FAILED", "IMPORT_ROLLBACK_COMPLETE",
}
# A stack in one of these accepts an update (UpdateStack / ExecuteChangeSet).
UPDATABLE = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE",
             "IMPORT_ROLLBACK_COMPLETE"}

DEFAULT_SETTINGS = {"step_ms": 20, "changeset_ms": 20}
SETTINGS = dict(DEFAULT_SETTINGS)
FAULTS = []        # behaviour faults (admin /__admin/cfn/faults)
FAULT_SEQ = [0]
TOKENS = {}        # ClientRequestToken -> (action, stack id)


def _ts(t):
    return datetime.datetime.utcfromtimestamp(t) if t else None


def step(ms=None):
    ms = SETTINGS["step_ms"] if ms is None else ms
    if ms > 0:
        time.sleep(ms / 1000.0)


# ---------------------------------------------------------------------------
# Store
# ---------------------------------------------------------------------------

class Resource:
    def __init__(self, lid, typ, physid="", props=None, definition=None):
        self.lid = lid
        self.type = typ
        self.physid = physid
        self.status = None
        self.reason = None
        self.updated = time.time()
        self.props = props          # resolved properties (comparison)
        self.key = None             # comparison key (props + nested template)
        self.definition = definition
        self.generation = 0
        self.child = None           # nested Stack

    def snapshot(self):
        c = copy.copy(self)
        c.props = copy.deepcopy(self.props)
        return c


class Stack:
    def __init__(self, name, region, **kw):
        self.name = name
        self.region = region
        self.id = "arn:aws:cloudformation:%s:%s:stack/%s/%s" % (region, ACCOUNT, name, uuid.uuid4())
        self.status = kw.get("StackStatus", "CREATE_COMPLETE")
        self.status_reason = kw.get("StackStatusReason")
        self.description = kw.get("Description")
        self.created = kw.get("CreationTime", time.time())
        self.updated = kw.get("LastUpdatedTime")
        self.deleted = None
        self.parameters = kw.get("Parameters", [])   # [{ParameterKey, ParameterValue, ResolvedValue?}]
        self.param_values = {p["ParameterKey"]: p.get("ParameterValue", "") for p in self.parameters}
        self.param_types = {}
        self.outputs = kw.get("Outputs", [])         # [{OutputKey, OutputValue, Description?, ExportName?}]
        self.tags = kw.get("Tags", [])               # [{Key, Value}]
        self.capabilities = kw.get("Capabilities", [])
        self.termination_protection = bool(kw.get("EnableTerminationProtection", False))
        self.disable_rollback = bool(kw.get("DisableRollback", False))
        self.template_body = kw.get("TemplateBody")
        self.template = None
        if self.template_body:
            try:
                self.template = E.parse_template(self.template_body)
            except AwsError:
                self.template = None
        self.parent_id = kw.get("ParentId")
        self.root_id = kw.get("RootId")
        self.logical_id = kw.get("LogicalId")  # in the parent, for a nested stack
        self.events = []
        self.resources = {}                    # lid -> Resource (creation order)
        self.change_sets = []
        self.imports = set()
        self.last = None                       # the previous state, for an update rollback
        self.cancel = False
        self.notification_arns = kw.get("NotificationARNs", [])
        self.role_arn = kw.get("RoleARN")
        self.timeout = kw.get("TimeoutInMinutes")

    def param_values_now(self):
        return {p["ParameterKey"]: p["ParameterValue"] for p in self.parameters}

    def exports(self):
        return {o["ExportName"]: o["OutputValue"] for o in self.outputs if o.get("ExportName")}

    def describe(self):
        with STORE.lock:
            params = []
            for p in self.parameters:
                q = dict(p)
                if q.get("NoEcho"):
                    q["ParameterValue"] = "****"
                q.pop("NoEcho", None)
                params.append(q)
            return {
                "StackId": self.id,
                "StackName": self.name,
                "ChangeSetId": None,
                "Description": self.description,
                "Parameters": params or None,
                "CreationTime": _ts(self.created),
                "DeletionTime": _ts(self.deleted),
                "LastUpdatedTime": _ts(self.updated),
                "RollbackConfiguration": {},
                "StackStatus": self.status,
                "StackStatusReason": self.status_reason,
                "DisableRollback": self.disable_rollback,
                "NotificationARNs": list(self.notification_arns),
                "TimeoutInMinutes": self.timeout,
                "Capabilities": list(self.capabilities) or None,
                "Outputs": [{k: v for k, v in o.items()} for o in self.outputs] or None,
                "RoleARN": self.role_arn,
                "Tags": list(self.tags),
                "EnableTerminationProtection": self.termination_protection,
                "ParentId": self.parent_id,
                "RootId": self.root_id,
                "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"},
            }

    def admin(self):
        d = self.describe()
        d = {k: (v.isoformat() + "Z" if hasattr(v, "isoformat") else v) for k, v in d.items()}
        d["TemplateBody"] = self.template_body
        d["Region"] = self.region
        d["Resources"] = {r.lid: {"Type": r.type, "PhysicalResourceId": r.physid, "ResourceStatus": r.status}
                          for r in self.resources.values()}
        d["EventCount"] = len(self.events)
        return d


class StackStore:
    def __init__(self):
        self.lock = threading.RLock()
        self.stacks = []  # every stack, in creation order; deleted ones stay (by id)

    def find(self, name_or_id, include_deleted_by_id=True):
        """The live stack with that name, or the stack with that id."""
        with self.lock:
            if name_or_id.startswith("arn:"):
                for s in self.stacks:
                    if s.id == name_or_id and (include_deleted_by_id or s.status != "DELETE_COMPLETE"):
                        return s
                return None
            for s in reversed(self.stacks):
                if s.name == name_or_id and s.status != "DELETE_COMPLETE":
                    return s
            return None

    def add(self, stack):
        with self.lock:
            self.stacks.append(stack)
        return stack

    def live(self):
        with self.lock:
            return [s for s in self.stacks if s.status != "DELETE_COMPLETE"]

    def clear(self, name=None):
        with self.lock:
            self.stacks = [s for s in self.stacks if name is not None and s.name != name and s.id != name]

    def export_value(self, name, region):
        with self.lock:
            for s in self.live():
                if s.region == region and name in s.exports():
                    return s.exports()[name]
        return None

    def exporter(self, name, region, but=None):
        with self.lock:
            for s in self.live():
                if s is not but and s.region == region and name in s.exports():
                    return s
        return None

    def importers(self, name, region, but=None):
        with self.lock:
            return [s for s in self.live() if s is not but and s.region == region and name in s.imports]


STORE = StackStore()


def no_such_stack(name):
    return validation("Stack with id %s does not exist" % name)


def find_or_fail(name):
    s = STORE.find(name)
    if s is None:
        raise no_such_stack(name)
    return s


# ---------------------------------------------------------------------------
# Events and behaviour faults
# ---------------------------------------------------------------------------

def event(stack, lid, typ, status, physid="", reason=None, props=None, token=None):
    with STORE.lock:
        now = time.time()
        if stack.events and now <= stack.events[-1]["_t"]:
            now = stack.events[-1]["_t"] + 0.001   # strictly increasing timestamps
        if lid == stack.name and typ == "AWS::CloudFormation::Stack" and physid == stack.id:
            eid = str(uuid.uuid4())
        else:
            eid = "%s-%s-%s" % (lid, status, _ts(now).strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (
                int(now * 1000) % 1000))
        stack.events.append({
            "_t": now,
            "StackId": stack.id,
            "EventId": eid,
            "StackName": stack.name,
            "LogicalResourceId": lid,
            "PhysicalResourceId": physid or "",
            "ResourceType": typ,
            "Timestamp": _ts(now),
            "ResourceStatus": status,
            "ResourceStatusReason": reason,
            "ResourceProperties": json.dumps(props, separators=(",", ":")) if props is not None else None,
            "ClientRequestToken": token,
        })


def set_status(stack, status, reason=None, token=None):
    with STORE.lock:
        stack.status = status
        stack.status_reason = reason
        if status == "DELETE_COMPLETE":
            stack.deleted = time.time()
    event(stack, stack.name, "AWS::CloudFormation::Stack", status, stack.id, reason, token=token)
    hold = take_fault("hold", stack, None, status)
    if hold:
        hold_here(stack, status, hold)


# Active holds: a stack kept in a status by a "hold" fault. A hold ends after
# its "ms", or once DescribeStacks has shown the stack in that status "seen"
# times, or when POST /__admin/cfn/release ends it: tests on a loaded
# machine wait for a condition, not for a wall-clock window they may miss.
HOLDS = []


def hold_here(stack, status, f):
    h = {"fault": f["id"], "stack": stack.id, "name": stack.name, "status": status, "seen": 0,
         "until_seen": int(f["seen"]) if f.get("seen") is not None else None,
         "since": time.time(), "done": threading.Event()}
    with STORE.lock:
        HOLDS.append(h)
    h["done"].wait(max(0, int(f.get("ms", 1000))) / 1000.0)
    with STORE.lock:
        HOLDS.remove(h)


def holds_seen(stacks):
    """DescribeStacks has shown these stacks: count it for their holds."""
    with STORE.lock:
        for h in HOLDS:
            for s in stacks:
                if s.id == h["stack"] and s.status == h["status"]:
                    h["seen"] += 1
                    if h["until_seen"] is not None and h["seen"] >= h["until_seen"]:
                        h["done"].set()


def holds_view():
    with STORE.lock:
        return [{k: v for k, v in h.items() if k != "done"} for h in HOLDS]


def _matches_stack(f, stack):
    want = f.get("stack")
    if not want:
        return True
    return want in (stack.name, stack.id, stack.logical_id)


def take_fault(kind, stack, lid, op):
    """The behaviour fault of this kind matching stack/lid/op, consumed
    (count) -- or None."""
    with STORE.lock:
        for f in FAULTS:
            if f["kind"] != kind or f["count"] == 0 or not _matches_stack(f, stack):
                continue
            if kind == "hold":
                if f.get("status", "UPDATE_IN_PROGRESS") != op:
                    continue
            else:
                if f.get("op", "any") not in ("any", op):
                    continue
                if kind in ("fail_resource", "rollback_fails") and f.get("logical_id") not in (None, lid):
                    continue
            if kind == "fail_after":
                f.setdefault("_seen", 0)
                if f["_seen"] < int(f.get("n", 0)):
                    f["_seen"] += 1
                    continue
                f["_seen"] = 0
            if f["count"] > 0:
                f["count"] -= 1
            f["fired"] = f.get("fired", 0) + 1
            return dict(f)
    return None


def _reset_fail_after(stack):
    with STORE.lock:
        for f in FAULTS:
            if f["kind"] == "fail_after" and _matches_stack(f, stack):
                f["_seen"] = 0


def injected_failure(stack, lid, op):
    """The reason an injected fault gives for this resource operation, or None."""
    f = take_fault("fail_resource", stack, lid, op) or take_fault("fail_after", stack, lid, op)
    if f is None:
        return None
    return f.get("reason") or ('Resource handler returned message: "The test endpoint was told to fail %s" '
                               '(RequestToken: %s, HandlerErrorCode: GeneralServiceException)'
                               % (lid, uuid.uuid4()))


# ---------------------------------------------------------------------------
# Templates from S3
# ---------------------------------------------------------------------------

def s3rver_url():
    url = os.environ.get("PEERS_S3RVER_URL")
    if url:
        return url.rstrip("/")
    try:
        with open(os.path.join(STATE_DIR, "s3rver.port")) as f:
            return "http://127.0.0.1:%s" % f.read().strip()
    except (OSError, TypeError):
        raise AwsError("InternalFailure", "The test endpoint cannot find s3rver (no PEERS_S3RVER_URL, no "
                       "s3rver.port in its state dir)", 500, "Receiver")


def parse_s3_url(url):
    u = urlparse(url)
    host = (u.hostname or "").lower()
    path = unquote(u.path or "")
    m = re.fullmatch(r"(.+)\.s3(?:[.-](?:dualstack\.)?[a-z0-9-]+)?\.amazonaws\.com(?:\.cn)?", host)
    if u.scheme in ("https", "http") and m:
        bucket, key = m.group(1), path.lstrip("/")
    elif u.scheme in ("https", "http") and (re.fullmatch(r"s3(?:[.-](?:dualstack\.)?[a-z0-9-]+)?\.amazonaws\.com", host)
                                            or host in ("127.0.0.1", "localhost")):
        bucket, _, key = path.lstrip("/").partition("/")
    else:
        bucket = key = ""
    if not bucket or not key:
        raise validation("TemplateURL must be a supported URL.")
    return bucket, key


def fetch_template(url):
    if len(url) > 1024:
        raise validation("1 validation error detected: Value '%s' at 'templateURL' failed to satisfy constraint: "
                         "Member must have length less than or equal to 1024" % url)
    bucket, key = parse_s3_url(url)
    src = "%s/%s/%s" % (s3rver_url(), quote(bucket), quote(key, safe="/~"))
    try:
        with urllib.request.urlopen(src, timeout=10) as r:
            data = r.read(E.MAX_URL_TEMPLATE + 1)
    except urllib.error.HTTPError as e:
        body = e.read().decode("utf-8", "replace")
        if "NoSuchBucket" in body:
            raise validation("S3 error: The specified bucket does not exist")
        if e.code == 404:
            raise validation("S3 error: The specified key does not exist.")
        raise validation("S3 error: Access Denied")
    except (urllib.error.URLError, OSError) as e:
        raise AwsError("InternalFailure", "The test endpoint cannot reach s3rver: %s" % e, 500, "Receiver")
    if len(data) > E.MAX_URL_TEMPLATE:
        raise validation("Template may not exceed %d bytes in size." % E.MAX_URL_TEMPLATE)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise validation("Template format error: JSON not well-formed.")


def template_from(p, stack=None, allow_previous=True):
    """(body, parsed) from TemplateBody / TemplateURL / UsePreviousTemplate."""
    body, url, prev = p.get("TemplateBody"), p.get("TemplateURL"), p.bool("UsePreviousTemplate", False)
    n = sum(1 for x in (body is not None, url is not None, prev) if x)
    if n == 0:
        raise validation("Either Template URL or Template Body must be specified.")
    if n > 1:
        raise validation("Specify exactly one of TemplateBody, TemplateUrl, or UsePreviousTemplate.")
    if prev:
        if not allow_previous or stack is None or stack.template_body is None:
            raise validation("UsePreviousTemplate cannot be specified when creating a stack")
        return stack.template_body, stack.template
    if body is not None:
        if len(body.encode()) > E.MAX_BODY:
            raise validation("1 validation error detected: Value '%s' at 'templateBody' failed to satisfy constraint: "
                             "Member must have length less than or equal to %d" % (body[:40] + "...", E.MAX_BODY))
    else:
        body = fetch_template(url)
    return body, E.parse_template(body)


# ---------------------------------------------------------------------------
# Resolution
# ---------------------------------------------------------------------------

def ssm_lookup(name):
    try:
        import ssm
    except ImportError:
        return None
    return ssm.lookup_plain(name)


def pseudo(stack):
    return {"AWS::Region": stack.region, "AWS::AccountId": ACCOUNT, "AWS::StackName": stack.name,
            "AWS::StackId": stack.id, "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com",
            "AWS::NotificationARNs": list(stack.notification_arns)}


class Pending(str):
    """A placeholder for a value not known until a resource exists."""


def resolver(stack, t, params, planning=False, replaced=()):
    """params: resolve_parameters() output. planning: values not known yet
    (resources not created, or in `replaced`, which a change replaces) are
    Pending placeholders."""
    values = {k: (r if r is not None else v) for k, v, r, _, _ in params}
    types = {k: typ for k, _, _, _, typ in params}

    def ref(lid):
        r = stack.resources.get(lid)
        if r is None or not r.physid or r.status in ("DELETE_COMPLETE",) or (planning and lid in replaced):
            if planning:
                return Pending("{{pending:%s}}" % lid)
            raise validation("Template error: resource %s is not available" % lid)
        return r.physid

    def getatt(lid, attr):
        r = stack.resources.get(lid)
        typ = t["Resources"].get(lid, {}).get("Type") if t else None
        if r is None or not r.physid or r.status in ("DELETE_COMPLETE",) or (typ and typ != r.type) or \
                (planning and lid in replaced):
            if planning:
                return Pending("{{pending:%s.%s}}" % (lid, attr))
            raise validation("Template error: resource %s is not available" % lid)
        if r.type == "AWS::CloudFormation::Stack" and attr.startswith("Outputs."):
            key = attr[len("Outputs."):]
            child = r.child
            for o in (child.outputs if child else []):
                if o["OutputKey"] == key:
                    return o["OutputValue"]
            if planning:
                return Pending("{{pending:%s.%s}}" % (lid, attr))
            raise validation("Template error: Fn::GetAtt %s.%s: the nested stack has no output %s" % (lid, attr, key))
        return E.attribute(r.type, r.physid, attr, stack.region, lid, stack.id, r.props)

    def imports(name):
        return STORE.export_value(name, stack.region)

    return E.Resolver(t, values, types, pseudo(stack), ref, getatt, imports, stack.region)


def param_list(params):
    out = []
    for k, v, r, noecho, _ in params:
        d = {"ParameterKey": k, "ParameterValue": v}
        if r is not None:
            d["ResolvedValue"] = r
        if noecho:
            d["NoEcho"] = True
        out.append(d)
    return out


def compare_key(typ, props):
    """What decides whether a resource changed: its resolved properties, and
    for a nested stack the content of its template."""
    if typ == "AWS::CloudFormation::Stack" and isinstance(props, dict) and isinstance(props.get("TemplateURL"), str) \
            and not isinstance(props.get("TemplateURL"), Pending):
        k = dict(props)
        try:
            k["TemplateURL"] = hashlib.sha256(fetch_template(props["TemplateURL"]).encode()).hexdigest()
        except AwsError:
            pass
        return json.dumps(k, sort_keys=True, default=str)
    return json.dumps(props, sort_keys=True, default=str)


def requires_replacement(typ, old_props, new_props):
    """A changed name property, or one the reference documents as "Update
    requires: Replacement" (E.REPLACE_PROPS)."""
    old_props, new_props = old_props or {}, new_props or {}
    for name in (E.NAME_PROPS.get(typ),) + tuple(E.REPLACE_PROPS.get(typ, ())):
        if name and old_props.get(name) != new_props.get(name):
            return True
    return False


def replacement(typ, old_props, new_props):
    """A change set's Replacement: True when a replacing property changes to
    a known value, Conditional when it may (a value not known until a
    dependency is updated), else False."""
    if requires_replacement(typ, old_props, _known(new_props or {}, old_props or {})):
        return "True"
    if typ in E.REPLACE_PROPS:  # known: only a replacing property's unknown value may replace
        replacing = (E.NAME_PROPS.get(typ),) + E.REPLACE_PROPS[typ]
        pending = any(isinstance(x, Pending) for k in replacing if k for x in _leaves((new_props or {}).get(k)))
    else:
        pending = any(isinstance(v, Pending) for v in _leaves(new_props))
    return "Conditional" if pending else "False"


def _known(new, old):
    """new with its top-level properties whose value is not known yet (a
    Pending placeholder inside) taken from old."""
    return {k: (old.get(k) if any(isinstance(x, Pending) for x in _leaves(v)) else v)
            for k, v in new.items()}


def plan(stack, t, params):
    """The changes from the stack's current resources to template t:
    [(action, lid, typ, replacement, changed property names)]."""
    replaced = set()
    rv = resolver(stack, t, params, planning=True, replaced=replaced)
    out = []
    seen = set()
    for lid in E.order(t):
        r = t["Resources"][lid]
        if not E.resource_enabled(rv, r):
            continue
        seen.add(lid)
        typ = r["Type"]
        props = rv.eval(r.get("Properties") or {})
        cur = stack.resources.get(lid)
        if cur is None or cur.status == "DELETE_COMPLETE":
            out.append(("Add", lid, typ, None, []))
            continue
        if cur.type != typ:
            out.append(("Modify", lid, typ, "True", ["Type"]))
            replaced.add(lid)
            continue
        key = compare_key(typ, props)
        if key != cur.key or json.dumps(r.get("Metadata"), sort_keys=True) != json.dumps(
                (cur.definition or {}).get("Metadata"), sort_keys=True):
            names = sorted(k for k in set(props or {}) | set(cur.props or {})
                           if (props or {}).get(k) != (cur.props or {}).get(k)) or ["Metadata"]
            if typ == "AWS::CloudFormation::Stack" and not names:
                names = ["TemplateURL"]
            repl = replacement(typ, cur.props, props)
            if repl == "True":
                replaced.add(lid)
            out.append(("Modify", lid, typ, repl, names))
    for lid, cur in stack.resources.items():
        if lid not in seen and cur.status != "DELETE_COMPLETE":
            out.append(("Remove", lid, cur.type, None, []))
    return out


def _leaves(v):
    if isinstance(v, dict):
        for x in v.values():
            yield from _leaves(x)
    elif isinstance(v, list):
        for x in v:
            yield from _leaves(x)
    else:
        yield v


def outputs_of(stack, t, params):
    rv = resolver(stack, t, params)
    out = []
    for k, o in (t.get("Outputs") or {}).items():
        if o.get("Condition") and not rv.condition(o["Condition"]):
            continue
        try:
            v = rv.eval(o["Value"])
        except AwsError as e:
            raise Failed(None, e.message)
        if isinstance(v, list):
            v = ",".join(str(x) for x in v)
        d = {"OutputKey": k, "OutputValue": str(v) if not isinstance(v, bool) else ("true" if v else "false")}
        if o.get("Description") is not None:
            d["Description"] = str(rv.eval(o["Description"]))
        if isinstance(o.get("Export"), dict) and "Name" in o["Export"]:
            d["ExportName"] = str(rv.eval(o["Export"]["Name"]))
        out.append(d)
    return out, rv.imported


def nothing_changed(stack, t, body, params, tags):
    if stack.template is None:
        return False
    same_t = json.dumps(stack.template, sort_keys=True) == json.dumps(t, sort_keys=True)
    same_p = {p["ParameterKey"]: p["ParameterValue"] for p in param_list(params)} == \
        {p["ParameterKey"]: p["ParameterValue"] for p in stack.parameters}
    same_tags = tags is None or sorted((x["Key"], x["Value"]) for x in tags) == \
        sorted((x["Key"], x["Value"]) for x in stack.tags)
    return same_t and same_p and same_tags and not plan(stack, t, params)


# ---------------------------------------------------------------------------
# The engine: create / update / delete in steps
# ---------------------------------------------------------------------------

class Failed(Exception):
    def __init__(self, lid, reason):
        super().__init__(reason)
        self.lid, self.reason = lid, reason


def create_resource(stack, lid, typ, props, definition, op_token, generation=0, op="create"):
    """Creates one resource (events, fault check); returns the Resource.
    Raises Failed."""
    res = Resource(lid, typ, "", props, definition)
    res.generation = generation
    event(stack, lid, typ, "CREATE_IN_PROGRESS", "", None, props, op_token)
    with STORE.lock:
        prior = stack.resources.get(lid)
        if prior is None or prior.status == "DELETE_COMPLETE":
            stack.resources[lid] = res
        res.status = "CREATE_IN_PROGRESS"
    step()
    if typ == "AWS::CloudFormation::Stack":
        def initiated(child):
            res.child, res.physid = child, child.id
            event(stack, lid, typ, "CREATE_IN_PROGRESS", child.id, "Resource creation Initiated", props, op_token)
        child = create_nested(stack, lid, props, op_token, initiated)
        res.child = child
        res.physid = child.id
        if child.status != "CREATE_COMPLETE":
            failed = [e["LogicalResourceId"] for e in child.events
                      if e["ResourceStatus"] == "CREATE_FAILED" and e["LogicalResourceId"] != child.name]
            reason = ("Embedded stack %s was not successfully created: %s" % (child.id, child_reason(child)))
            raise_failed(stack, res, "CREATE_FAILED", reason, op_token, failed)
    else:
        reason = injected_failure(stack, lid, op)
        if reason:
            raise_failed(stack, res, "CREATE_FAILED", reason, op_token)
        res.physid = E.physical_id(stack.name, stack.id, stack.region, lid, typ, props, generation)
        event(stack, lid, typ, "CREATE_IN_PROGRESS", res.physid, "Resource creation Initiated", props, op_token)
        step()
    res.status = "CREATE_COMPLETE"
    res.key = compare_key(typ, props)
    res.updated = time.time()
    event(stack, lid, typ, "CREATE_COMPLETE", res.physid, None, props, op_token)
    return res


def child_reason(child):
    for e in reversed(child.events):
        if e["LogicalResourceId"] == child.name and e["ResourceStatus"] in (
                "ROLLBACK_IN_PROGRESS", "CREATE_FAILED", "UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_FAILED",
                "DELETE_FAILED") and e["ResourceStatusReason"]:
            r = e["ResourceStatusReason"]
            return r.replace(" Rollback requested by user.", "")
    return child.status_reason or "Internal failure."


def raise_failed(stack, res, status, reason, token, _failed=None):
    res.status, res.reason = status, reason
    event(stack, res.lid, res.type, status, res.physid, reason, res.props, token)
    raise Failed(res.lid, reason)


def create_nested(parent, lid, props, token, initiated):
    url = props.get("TemplateURL") if isinstance(props, dict) else None
    root = parent.root_id or parent.id
    name = "%s-%s-%s" % (parent.name, lid, E._b32("%s/%s/%s" % (parent.id, lid, time.time()), 13))[:128]
    child = Stack(name, parent.region, StackStatus="CREATE_IN_PROGRESS", ParentId=parent.id, RootId=root,
                  LogicalId=lid, DisableRollback=parent.disable_rollback, Capabilities=parent.capabilities,
                  Tags=list(parent.tags), TimeoutInMinutes=(props or {}).get("TimeoutInMinutes"),
                  NotificationARNs=(props or {}).get("NotificationARNs") or [])
    STORE.add(child)
    initiated(child)
    try:
        if not isinstance(url, str):
            raise validation("Template URL must be specified for a nested stack")
        body = fetch_template(url)
        t = E.parse_template(body)
        E.check_capabilities(t, parent.capabilities)
        given = [{"ParameterKey": k, "ParameterValue": ",".join(v) if isinstance(v, list) else str(v)}
                 for k, v in ((props or {}).get("Parameters") or {}).items()]
        params = E.resolve_parameters(t, given, {}, ssm_lookup)
    except AwsError as e:
        child.template_body = None
        set_status(child, "CREATE_IN_PROGRESS", "User Initiated", token)
        set_status(child, "CREATE_FAILED", e.message, token)
        return child
    run_create(child, t, body, params, token)
    return child


def run_create(stack, t, body, params, token):
    with STORE.lock:
        stack.template, stack.template_body = t, body
        stack.parameters = param_list(params)
        stack.description = t.get("Description")
        stack.status = "CREATE_IN_PROGRESS"
    set_status(stack, "CREATE_IN_PROGRESS", "User Initiated", token)
    _reset_fail_after(stack)
    created = []
    try:
        rv = resolver(stack, t, params)
        for lid in E.order(t):
            r = t["Resources"][lid]
            if not E.resource_enabled(rv, r):
                continue
            try:
                props = rv.eval(r.get("Properties") or {})
            except AwsError as e:
                res = Resource(lid, r["Type"], "", None, r)
                stack.resources[lid] = res
                event(stack, lid, r["Type"], "CREATE_IN_PROGRESS", "", None, None, token)
                raise_failed(stack, res, "CREATE_FAILED", e.message, token)
            res = create_resource(stack, lid, r["Type"], props, r, token)
            created.append(lid)
        outs, imported = outputs_of(stack, t, params)
        for o in outs:
            other = o.get("ExportName") and STORE.exporter(o["ExportName"], stack.region, but=stack)
            if other:
                raise Failed(None, "Export with name %s is already exported by stack %s" % (o["ExportName"], other.name))
        with STORE.lock:
            stack.outputs = outs
            stack.imports = set(imported) | set(rv.imported)
        set_status(stack, "CREATE_COMPLETE", None, token)
        return True
    except Failed as f:
        failed = [res.lid for res in stack.resources.values() if res.status == "CREATE_FAILED"]
        reason = ("The following resource(s) failed to create: [%s]." % ", ".join(failed)) if failed else f.reason
        if stack.disable_rollback:
            set_status(stack, "CREATE_FAILED", reason, token)
            return False
        set_status(stack, "ROLLBACK_IN_PROGRESS", reason + " Rollback requested by user." if failed else reason, token)
        ok = delete_resources(stack, list(stack.resources), token, rollback=True)
        with STORE.lock:
            stack.outputs = []
        set_status(stack, "ROLLBACK_COMPLETE" if ok else "ROLLBACK_FAILED",
                   None if ok else "The following resource(s) failed to delete: [%s]." % ok_failed(stack), token)
        return False


def ok_failed(stack):
    return ", ".join(r.lid for r in stack.resources.values() if r.status == "DELETE_FAILED")


def delete_resources(stack, lids, token, rollback=False, op="delete"):
    """Deletes resources in reverse dependency order. Returns False if one
    failed (DELETE_FAILED)."""
    t = stack.template or {"Resources": {}}
    try:
        order = [x for x in E.order(t) if x in lids] if stack.template else []
    except AwsError:
        order = []
    order += [x for x in lids if x not in order]
    ok = True
    for lid in reversed(order):
        res = stack.resources.get(lid)
        if res is None or res.status == "DELETE_COMPLETE":
            continue
        if res.status == "CREATE_IN_PROGRESS" or (not res.physid and res.status != "CREATE_FAILED"):
            continue
        if res.status == "CREATE_FAILED" and not res.physid:
            res.status = "DELETE_COMPLETE"
            event(stack, lid, res.type, "DELETE_COMPLETE", "", None, None, token)
            continue
        ok = delete_one(stack, res, token, rollback, op) and ok
    return ok


def delete_one(stack, res, token, rollback=False, op="delete"):
    event(stack, res.lid, res.type, "DELETE_IN_PROGRESS", res.physid, None, None, token)
    res.status = "DELETE_IN_PROGRESS"
    step()
    if res.type == "AWS::CloudFormation::Stack" and res.child is not None:
        if res.child.status != "DELETE_COMPLETE":
            run_delete(res.child, token)
        if res.child.status != "DELETE_COMPLETE":
            res.status, res.reason = "DELETE_FAILED", "Embedded stack %s was not successfully deleted: %s" % (
                res.child.id, child_reason(res.child))
            event(stack, res.lid, res.type, "DELETE_FAILED", res.physid, res.reason, None, token)
            return False
    else:
        reason = take_fault("rollback_fails", stack, res.lid, "any") if rollback else None
        reason = (reason and (reason.get("reason") or "The test endpoint was told to fail the rollback of %s" % res.lid)) \
            or (injected_failure(stack, res.lid, "delete") if op == "delete" and not rollback else None)
        if reason:
            res.status, res.reason = "DELETE_FAILED", reason
            event(stack, res.lid, res.type, "DELETE_FAILED", res.physid, reason, None, token)
            return False
    res.status = "DELETE_COMPLETE"
    res.updated = time.time()
    event(stack, res.lid, res.type, "DELETE_COMPLETE", res.physid, None, None, token)
    return True


def run_delete(stack, token):
    set_status(stack, "DELETE_IN_PROGRESS", "User Initiated", token)
    for name in stack.exports():
        users = STORE.importers(name, stack.region, but=stack)
        if users:
            set_status(stack, "DELETE_FAILED", "Export %s cannot be deleted as it is in use by %s"
                       % (name, ", ".join(u.name for u in users)), token)
            return False
    _reset_fail_after(stack)
    ok = delete_resources(stack, list(stack.resources), token)
    if not ok:
        set_status(stack, "DELETE_FAILED", "The following resource(s) failed to delete: [%s]." % ok_failed(stack),
                   token)
        return False
    with STORE.lock:
        stack.outputs = []
        stack.imports = set()
        for cs in stack.change_sets:
            cs["_deleted"] = True
    set_status(stack, "DELETE_COMPLETE", None, token)
    return True


def run_update(stack, t, body, params, token, tags=None, caps=None, rollback_of=None):
    """Applies template t. Returns True on UPDATE_COMPLETE."""
    last = {"template": stack.template, "body": stack.template_body, "parameters": copy.deepcopy(stack.parameters),
            "outputs": copy.deepcopy(stack.outputs), "imports": set(stack.imports),
            "resources": {k: v.snapshot() for k, v in stack.resources.items()}, "description": stack.description,
            "tags": list(stack.tags), "capabilities": list(stack.capabilities)}
    with STORE.lock:
        stack.last = last
        stack.cancel = False
        stack.updated = time.time()
    set_status(stack, "UPDATE_IN_PROGRESS", "User Initiated", token)
    _reset_fail_after(stack)
    done = []  # (action, lid, old snapshot or None)
    try:
        changes = plan(stack, t, params)
        change_of = {c[1]: c for c in changes}
        with STORE.lock:
            stack.template, stack.template_body = t, body
            stack.parameters = param_list(params)
            stack.description = t.get("Description")
            if tags is not None:
                stack.tags = tags
            if caps is not None:
                stack.capabilities = caps
        rv = resolver(stack, t, params)
        for lid in E.order(t):
            if stack.cancel:
                raise Failed(None, "Resource update cancelled")
            c = change_of.get(lid)
            if c is None or c[0] == "Remove":
                continue
            r = t["Resources"][lid]
            try:
                props = rv.eval(r.get("Properties") or {})
            except AwsError as e:
                raise Failed(lid, e.message)
            cur = stack.resources.get(lid)
            if c[0] == "Add":
                done.append(("add", lid, None))
                create_resource(stack, lid, r["Type"], props, r, token, op="update")
                continue
            if cur.key == compare_key(r["Type"], props) and json.dumps(r.get("Metadata"), sort_keys=True) == \
                    json.dumps((cur.definition or {}).get("Metadata"), sort_keys=True):
                continue  # a dependency's placeholder resolved to the same value
            old = cur.snapshot()
            if cur.type != r["Type"] or requires_replacement(r["Type"], cur.props, props):
                nm = E.NAME_PROPS.get(r["Type"])
                if cur.type == r["Type"] and nm and isinstance(props.get(nm), str) and \
                        props.get(nm) == (cur.props or {}).get(nm):
                    event(stack, lid, cur.type, "UPDATE_IN_PROGRESS", cur.physid, None, props, token)
                    step()
                    done.append(("modify", lid, old))
                    raise_failed(stack, cur, "UPDATE_FAILED",
                                 "CloudFormation cannot update a stack when a custom-named resource requires "
                                 "replacing. Rename %s and update the stack again." % props[nm], token)
                with STORE.lock:
                    stack.resources.pop(lid, None)
                try:
                    create_resource(stack, lid, r["Type"], props, r, token, old.generation + 1, op="update")
                except Failed:
                    stack.resources[lid] = old
                    raise
                done.append(("replace", lid, old))
                continue
            done.append(("modify", lid, old))
            update_resource(stack, cur, props, r, token)
        outs, imported = outputs_of(stack, t, params)
        check_exports(stack, outs)
        with STORE.lock:
            stack.outputs = outs
            stack.imports = set(imported) | set(rv.imported)
    except Failed as f:
        failed = [lid for lid, res in stack.resources.items() if res.status in ("UPDATE_FAILED", "CREATE_FAILED")]
        if f.lid is None or not failed:
            reason = f.reason
        else:
            verb = "create" if stack.resources[failed[0]].status == "CREATE_FAILED" else "update"
            reason = "The following resource(s) failed to %s: [%s]." % (verb, ", ".join(failed))
        return rollback_update(stack, last, done, reason, token)
    # cleanup: removed resources, replaced old ones
    set_status(stack, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", None, token)
    for action_, lid, old in done:
        if action_ == "replace":
            delete_one(stack, old, token, op="update")
    removed = [c[1] for c in changes if c[0] == "Remove"]
    for lid in reversed([x for x in (E.order(last["template"]) if last["template"] else list(stack.resources))
                         if x in removed]):
        res = stack.resources.get(lid)
        if res is not None:
            delete_one(stack, res, token, op="update")
            with STORE.lock:
                stack.resources.pop(lid, None)
    with STORE.lock:
        for k in [k for k, v in stack.resources.items() if v.status == "DELETE_COMPLETE"]:
            stack.resources.pop(k)
    with STORE.lock:
        stack.last_done = done
    set_status(stack, "UPDATE_COMPLETE", None, token)
    return True


def check_exports(stack, outs):
    new = {o["ExportName"]: o["OutputValue"] for o in outs if o.get("ExportName")}
    for name, value in stack.exports().items():
        users = STORE.importers(name, stack.region, but=stack)
        if users and name not in new:
            raise Failed(None, "Export %s cannot be deleted as it is in use by %s" % (name, ", ".join(u.name for u in users)))
        if users and new[name] != value:
            raise Failed(None, "Cannot update export %s as it is in use by %s" % (name, ", ".join(u.name for u in users)))
    for name in new:
        other = STORE.exporter(name, stack.region, but=stack)
        if other:
            raise Failed(None, "Export with name %s is already exported by stack %s" % (name, other.name))


def update_resource(stack, cur, props, definition, token):
    lid, typ = cur.lid, definition["Type"]
    event(stack, lid, typ, "UPDATE_IN_PROGRESS", cur.physid, None, props, token)
    cur.status = "UPDATE_IN_PROGRESS"
    step()
    if typ == "AWS::CloudFormation::Stack" and cur.child is not None:
        child = cur.child
        try:
            body = fetch_template(props["TemplateURL"])
            ct = E.parse_template(body)
            E.check_capabilities(ct, stack.capabilities)
            given = [{"ParameterKey": k, "ParameterValue": ",".join(v) if isinstance(v, list) else str(v)}
                     for k, v in (props.get("Parameters") or {}).items()]
            cparams = E.resolve_parameters(ct, given, child.param_values_now(), ssm_lookup)
        except AwsError as e:
            raise_failed(stack, cur, "UPDATE_FAILED", e.message, token)
        if not nothing_changed(child, ct, body, cparams, None):
            ok = run_update(child, ct, body, cparams, token)
            if not ok:
                reason = "Embedded stack %s was not successfully updated. Currently in %s with reason: %s" % (
                    child.id, "UPDATE_ROLLBACK_IN_PROGRESS", child_reason(child))
                raise_failed(stack, cur, "UPDATE_FAILED", reason, token)
    else:
        reason = injected_failure(stack, lid, "update")
        if reason:
            raise_failed(stack, cur, "UPDATE_FAILED", reason, token)
    cur.props, cur.definition, cur.key = props, definition, compare_key(typ, props)
    cur.status = "UPDATE_COMPLETE"
    cur.updated = time.time()
    event(stack, lid, typ, "UPDATE_COMPLETE", cur.physid, None, props, token)


def rollback_update(stack, last, done, reason, token, continuing=False):
    """Restores the previous template, parameters and outputs, undoing
    `done` in reverse."""
    with STORE.lock:
        stack.last = (last, done)
    if not continuing:
        set_status(stack, "UPDATE_ROLLBACK_IN_PROGRESS", reason, token)
    else:
        set_status(stack, "UPDATE_ROLLBACK_IN_PROGRESS", "User Initiated", token)
    skip = getattr(stack, "skip_on_continue", set())
    to_delete = []
    while done:
        action_, lid, old = done[-1]
        if action_ in ("modify", "replace") and lid not in skip:
            res = stack.resources.get(lid)
            f = take_fault("rollback_fails", stack, lid, "any")
            if f is not None:
                r = f.get("reason") or "The test endpoint was told to fail the rollback of %s" % lid
                if res is not None:
                    res.status, res.reason = "UPDATE_FAILED", r
                event(stack, lid, old.type, "UPDATE_IN_PROGRESS", old.physid, None, old.props, token)
                event(stack, lid, old.type, "UPDATE_FAILED", old.physid, r, old.props, token)
                with STORE.lock:
                    stack.template, stack.template_body = last["template"], last["body"]
                    stack.parameters = last["parameters"]
                    stack.outputs = last["outputs"]
                set_status(stack, "UPDATE_ROLLBACK_FAILED", "The following resource(s) failed to update: [%s]." % lid,
                           token)
                return False
            event(stack, lid, old.type, "UPDATE_IN_PROGRESS", old.physid, None, old.props, token)
            step()
            if old.type == "AWS::CloudFormation::Stack" and old.child is not None and \
                    old.child.status in ("UPDATE_COMPLETE",) and old.child.last:
                c_last = old.child.last if isinstance(old.child.last, dict) else None
                if c_last:
                    rollback_update(old.child, c_last, list(getattr(old.child, "last_done", [])),
                                    "Rollback requested by user.", token)
            if action_ == "replace":
                to_delete.append(stack.resources.get(lid))
            old.status = "UPDATE_COMPLETE"
            stack.resources[lid] = old
            event(stack, lid, old.type, "UPDATE_COMPLETE", old.physid, None, old.props, token)
        elif action_ == "add":
            to_delete.append(stack.resources.get(lid))
        done.pop()
    restore(stack, last)
    set_status(stack, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", None, token)
    for res in to_delete:
        if res is not None and res.status != "DELETE_COMPLETE":
            if res.physid or res.status == "CREATE_FAILED":
                if res.status == "CREATE_FAILED" and not res.physid:
                    res.status = "DELETE_COMPLETE"
                    event(stack, res.lid, res.type, "DELETE_COMPLETE", "", None, None, token)
                else:
                    delete_one(stack, res, token, rollback=False, op="rollback")
        if res is not None and stack.resources.get(res.lid) is res:
            stack.resources.pop(res.lid, None)
    # Resources the failed update added but never finished.
    for k in [k for k, v in stack.resources.items() if k not in last["resources"] and v.status != "CREATE_COMPLETE"]:
        stack.resources.pop(k)
    set_status(stack, "UPDATE_ROLLBACK_COMPLETE", None, token)
    return False


def restore(stack, last):
    with STORE.lock:
        stack.template, stack.template_body = last["template"], last["body"]
        stack.parameters = last["parameters"]
        stack.outputs = last["outputs"]
        stack.imports = last["imports"]
        stack.description = last["description"]
        stack.tags = last["tags"]
        stack.capabilities = last["capabilities"]


def background(fn, *args):
    def run():
        try:
            fn(*args)
        except Exception as e:  # a bug in the engine: leave a trace, do not hang the stack
            import traceback
            traceback.print_exc()
            s = args[0]
            set_status(s, s.status.replace("IN_PROGRESS", "FAILED") if "IN_PROGRESS" in s.status else s.status,
                       "Internal failure of the test endpoint: %s" % e)
    th = threading.Thread(target=run, daemon=True)
    th.start()
    return th


# ---------------------------------------------------------------------------
# Request helpers
# ---------------------------------------------------------------------------

def tags_of(p):
    t = p.list("Tags")
    if len(t) > 50:
        raise validation("1 validation error detected: Value '[...]' at 'tags' failed to satisfy constraint: "
                         "Member must have length less than or equal to 50")
    return [{"Key": x.get("Key"), "Value": x.get("Value", "")} for x in t] if t else None


def check_name(name):
    if not re.fullmatch(r"[a-zA-Z][-a-zA-Z0-9]{0,127}", name):
        if name.startswith("arn:"):
            return
        raise validation("1 validation error detected: Value '%s' at 'stackName' failed to satisfy constraint: "
                         "Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*" % name)


def busy(stack, verb="updated"):
    return validation("Stack:%s is in %s state and can not be %s." % (stack.id, stack.status, verb))


def token_check(p, act, stack_name):
    tok = p.get("ClientRequestToken")
    if tok is None:
        return None, None
    with STORE.lock:
        prev = TOKENS.get(tok)
        if prev is not None:
            if prev[0] != act or prev[1] != stack_name:
                raise AwsError("TokenAlreadyExistsException",
                               "Another %s request with the same client request token already exists." % prev[0])
            return tok, prev[2]
    return tok, None


def remember_token(tok, act, stack_name, stack_id):
    if tok:
        with STORE.lock:
            TOKENS[tok] = (act, stack_name, stack_id)


def prepare(p, stack, creating):
    """Template, parameters and capabilities checks of a create/update request."""
    body, t = template_from(p, stack, allow_previous=not creating)
    caps = p.list("Capabilities")
    E.check_capabilities(t, caps)
    previous = stack.param_values_now() if stack is not None else {}
    params = E.resolve_parameters(t, p.list("Parameters"), previous, ssm_lookup)
    return body, t, params, caps


def check_imports(stack_like, t, params):
    """Fn::ImportValue of exports that do not exist: AWS refuses the request."""
    names = []

    def walk(v):
        if isinstance(v, dict):
            if len(v) == 1 and "Fn::ImportValue" in v:
                names.append(v["Fn::ImportValue"])
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
    walk(t.get("Resources"))
    walk(t.get("Outputs"))
    for n in names:
        if isinstance(n, str) and STORE.export_value(n, stack_like.region) is None:
            raise validation("No export named %s found." % n)


# ---------------------------------------------------------------------------
# Stack actions
# ---------------------------------------------------------------------------

@action("cloudformation", "CreateStack")
def create_stack(p, ctx):
    name = p.required("StackName", "stackName")
    check_name(name)
    tok, prev = token_check(p, "CreateStack", name)
    if prev:
        return {"StackId": prev}
    with STORE.lock:
        if STORE.find(name) is not None:
            raise AwsError("AlreadyExistsException", "Stack [%s] already exists" % name)
    body, t, params, caps = prepare(p, None, True)
    s = Stack(name, ctx.region, StackStatus="CREATE_IN_PROGRESS", Tags=tags_of(p) or [], Capabilities=caps,
              DisableRollback=p.bool("DisableRollback", False) or p.get("OnFailure") == "DO_NOTHING",
              EnableTerminationProtection=p.bool("EnableTerminationProtection", False),
              NotificationARNs=p.list("NotificationARNs"), RoleARN=p.get("RoleARN"),
              TimeoutInMinutes=p.int("TimeoutInMinutes"))
    check_imports(s, t, params)
    with STORE.lock:
        if STORE.find(name) is not None:
            raise AwsError("AlreadyExistsException", "Stack [%s] already exists" % name)
        s.template, s.template_body, s.parameters = t, body, param_list(params)
        STORE.add(s)
    remember_token(tok, "CreateStack", name, s.id)
    on_failure = p.get("OnFailure")

    def go():
        ok = run_create(s, t, body, params, tok)
        if not ok and on_failure == "DELETE":
            run_delete(s, tok)
    background(go)
    return {"StackId": s.id}


@action("cloudformation", "UpdateStack")
def update_stack(p, ctx):
    name = p.required("StackName", "stackName")
    s = find_or_fail(name)
    tok, prev = token_check(p, "UpdateStack", name)
    if prev:
        return {"StackId": prev}
    if s.status == "DELETE_COMPLETE":
        raise no_such_stack(name)
    if s.status not in UPDATABLE:
        raise busy(s)
    body, t, params, caps = prepare(p, s, False)
    check_imports(s, t, params)
    tags = tags_of(p)
    if nothing_changed(s, t, body, params, tags):
        raise validation("No updates are to be performed.")
    with STORE.lock:
        if s.status not in UPDATABLE:
            raise busy(s)
        s.status = "UPDATE_IN_PROGRESS"
    remember_token(tok, "UpdateStack", name, s.id)
    background(run_update, s, t, body, params, tok, tags, caps)
    return {"StackId": s.id}


@action("cloudformation", "DeleteStack")
def delete_stack(p, ctx):
    name = p.required("StackName", "stackName")
    s = STORE.find(name)
    if s is None or s.status == "DELETE_COMPLETE":
        return None  # idempotent, as AWS
    if s.termination_protection:
        raise validation("Stack [%s] cannot be deleted while TerminationProtection is enabled" % s.name)
    tok = p.get("ClientRequestToken")
    with STORE.lock:
        if s.status == "DELETE_IN_PROGRESS":
            return None
        if s.status.endswith("_IN_PROGRESS") and s.status != "REVIEW_IN_PROGRESS":
            raise validation("Stack [%s] cannot be deleted while in status %s" % (s.name, s.status))
        s.status = "DELETE_IN_PROGRESS"
    retain = set(p.list("RetainResources"))
    if retain:
        for lid in retain:
            r = s.resources.get(lid)
            if r is not None:
                r.status = "DELETE_COMPLETE"
    background(run_delete, s, tok)
    return None


@action("cloudformation", "DescribeStacks")
def describe_stacks(p, ctx):
    name = p.get("StackName")
    if name is not None:
        s = STORE.find(name)
        if s is None:
            raise no_such_stack(name)
        stacks = [s]
    else:
        stacks = STORE.live()
    out = {"Stacks": [s.describe() for s in stacks]}
    holds_seen(stacks)  # after describe(): this answer shows the held status
    return out


@action("cloudformation", "ListStacks")
def list_stacks(p, ctx):
    filt = set(p.list("StackStatusFilter"))
    with STORE.lock:
        stacks = [s for s in reversed(STORE.stacks) if not filt or s.status in filt]
    start = _decode_token(p.get("NextToken"), "ListStacks")
    page = stacks[start:start + 100]
    return {"StackSummaries": [{
        "StackId": s.id, "StackName": s.name, "TemplateDescription": s.description,
        "CreationTime": _ts(s.created), "LastUpdatedTime": _ts(s.updated), "DeletionTime": _ts(s.deleted),
        "StackStatus": s.status, "StackStatusReason": s.status_reason, "ParentId": s.parent_id, "RootId": s.root_id,
        "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"}} for s in page],
        "NextToken": _encode_token(start + 100, "ListStacks") if len(stacks) > start + 100 else None}


def _encode_token(n, what):
    return base64.b64encode(json.dumps({"o": n, "w": what}).encode()).decode()


def _decode_token(tok, what):
    if not tok:
        return 0
    try:
        d = json.loads(base64.b64decode(tok))
        if d["w"] != what:
            raise ValueError
        return int(d["o"])
    except (ValueError, KeyError, TypeError):
        raise validation("Invalid NextToken")


@action("cloudformation", "DescribeStackEvents")
def describe_stack_events(p, ctx):
    name = p.required("StackName", "stackName")
    s = find_or_fail(name)
    with STORE.lock:
        evs = [{k: v for k, v in e.items() if k != "_t"} for e in reversed(s.events)]
    start = _decode_token(p.get("NextToken"), "events:" + s.id)
    page = evs[start:start + 100]
    return {"StackEvents": page,
            "NextToken": _encode_token(start + 100, "events:" + s.id) if len(evs) > start + 100 else None}


def _resource_rows(s, lid=None):
    with STORE.lock:
        rows = [r for r in s.resources.values() if r.status and (lid is None or r.lid == lid)]
        return rows


def _stack_for_resources(p):
    name, phys = p.get("StackName"), p.get("PhysicalResourceId")
    if name is None and phys is None:
        raise validation("Either StackName or PhysicalResourceId must be specified.")
    if name is not None:
        return find_or_fail(name)
    with STORE.lock:
        for s in STORE.live():
            for r in s.resources.values():
                if r.physid == phys:
                    return s
    raise validation("Stack for %s does not exist" % phys)


@action("cloudformation", "DescribeStackResources")
def describe_stack_resources(p, ctx):
    s = _stack_for_resources(p)
    lid = p.get("LogicalResourceId")
    return {"StackResources": [{
        "StackName": s.name, "StackId": s.id, "LogicalResourceId": r.lid, "PhysicalResourceId": r.physid or None,
        "ResourceType": r.type, "Timestamp": _ts(r.updated), "ResourceStatus": r.status,
        "ResourceStatusReason": r.reason, "DriftInformation": {"StackResourceDriftStatus": "NOT_CHECKED"}}
        for r in _resource_rows(s, lid)]}


@action("cloudformation", "DescribeStackResource")
def describe_stack_resource(p, ctx):
    s = find_or_fail(p.required("StackName", "stackName"))
    lid = p.required("LogicalResourceId", "logicalResourceId")
    rows = _resource_rows(s, lid)
    if not rows:
        raise validation("Resource %s does not exist for stack %s" % (lid, s.name))
    r = rows[0]
    return {"StackResourceDetail": {
        "StackName": s.name, "StackId": s.id, "LogicalResourceId": r.lid, "PhysicalResourceId": r.physid or None,
        "ResourceType": r.type, "LastUpdatedTimestamp": _ts(r.updated), "ResourceStatus": r.status,
        "ResourceStatusReason": r.reason,
        "Metadata": json.dumps((r.definition or {}).get("Metadata")) if (r.definition or {}).get("Metadata") else None,
        "DriftInformation": {"StackResourceDriftStatus": "NOT_CHECKED"}}}


@action("cloudformation", "ListStackResources")
def list_stack_resources(p, ctx):
    s = find_or_fail(p.required("StackName", "stackName"))
    rows = _resource_rows(s)
    start = _decode_token(p.get("NextToken"), "resources:" + s.id)
    page = rows[start:start + 100]
    return {"StackResourceSummaries": [{
        "LogicalResourceId": r.lid, "PhysicalResourceId": r.physid or None, "ResourceType": r.type,
        "LastUpdatedTimestamp": _ts(r.updated), "ResourceStatus": r.status, "ResourceStatusReason": r.reason,
        "DriftInformation": {"StackResourceDriftStatus": "NOT_CHECKED"}} for r in page],
        "NextToken": _encode_token(start + 100, "resources:" + s.id) if len(rows) > start + 100 else None}


@action("cloudformation", "GetTemplate")
def get_template(p, ctx):
    csn = p.get("ChangeSetName")
    if csn is not None:
        cs = find_change_set(csn, p.get("StackName"))
        body = cs["body"]
    else:
        s = find_or_fail(p.required("StackName", "stackName"))
        body = s.template_body
        if body is None:
            body = "{}"
    return {"TemplateBody": body, "StagesAvailable": ["Original", "Processed"]}


@action("cloudformation", "ValidateTemplate")
def validate_template(p, ctx):
    body, t = template_from(p, None, allow_previous=False)
    need, transform = E.needed_capabilities(t)
    caps = ([need] if need else []) + (["CAPABILITY_AUTO_EXPAND"] if transform else [])
    return {
        "Parameters": [{"ParameterKey": k, "DefaultValue": (d or {}).get("Default"),
                        "NoEcho": str((d or {}).get("NoEcho", "false")).lower() == "true",
                        "Description": (d or {}).get("Description")}
                       for k, d in (t.get("Parameters") or {}).items()],
        "Description": t.get("Description"),
        "Capabilities": caps or None,
        "CapabilitiesReason": ("The following resource(s) require capabilities: [%s]" % ", ".join(
            sorted({r["Type"] for r in t["Resources"].values() if r["Type"] in E.IAM_TYPES}))) if need else None,
        "DeclaredTransforms": ([t["Transform"]] if isinstance(t.get("Transform"), str) else t.get("Transform")) or None,
    }


@action("cloudformation", "UpdateTerminationProtection")
def update_termination_protection(p, ctx):
    s = find_or_fail(p.required("StackName", "stackName"))
    v = p.get("EnableTerminationProtection")
    if v is None:
        raise validation("1 validation error detected: Value null at 'enableTerminationProtection' failed to satisfy "
                         "constraint: Member must not be null")
    if s.parent_id:
        raise validation("Termination protection cannot be updated for nested stacks")
    s.termination_protection = v.lower() == "true"
    return {"StackId": s.id}


@action("cloudformation", "ContinueUpdateRollback")
def continue_update_rollback(p, ctx):
    s = find_or_fail(p.required("StackName", "stackName"))
    if s.status != "UPDATE_ROLLBACK_FAILED":
        raise validation("Stack %s is in %s state and can not continue update rollback." % (s.id, s.status))
    if not isinstance(s.last, tuple):
        raise validation("Stack %s has no update to roll back." % s.id)
    last, done = s.last
    s.skip_on_continue = set(p.list("ResourcesToSkip"))
    with STORE.lock:
        s.status = "UPDATE_ROLLBACK_IN_PROGRESS"
    background(rollback_update, s, last, done, None, p.get("ClientRequestToken"), True)
    return {}


@action("cloudformation", "CancelUpdateStack")
def cancel_update_stack(p, ctx):
    s = find_or_fail(p.required("StackName", "stackName"))
    if s.status != "UPDATE_IN_PROGRESS":
        raise validation("CancelUpdateStack cannot be called from current stack status")
    s.cancel = True
    return None


@action("cloudformation", "ListExports")
def list_exports(p, ctx):
    out = []
    for s in STORE.live():
        if s.region == ctx.region:
            for n, v in s.exports().items():
                out.append({"ExportingStackId": s.id, "Name": n, "Value": v})
    return {"Exports": out}


@action("cloudformation", "ListImports")
def list_imports(p, ctx):
    name = p.required("ExportName", "exportName")
    if STORE.export_value(name, ctx.region) is None:
        raise validation("Export '%s' does not exist." % name)
    users = STORE.importers(name, ctx.region)
    if not users:
        raise validation("Export '%s' is not imported by any stack." % name)
    return {"Imports": [u.name for u in users]}


# ---------------------------------------------------------------------------
# Change sets
# ---------------------------------------------------------------------------

def find_change_set(name, stack_name=None):
    with STORE.lock:
        if name.startswith("arn:"):
            for s in STORE.stacks:
                for cs in s.change_sets:
                    if cs["id"] == name:
                        return cs
            raise AwsError("ChangeSetNotFound", "ChangeSet [%s] does not exist" % name, 404)
        if stack_name is None:
            raise validation("StackName must be specified if ChangeSetName is not specified as an ARN.")
        s = STORE.find(stack_name)
        if s is None:
            raise AwsError("ChangeSetNotFound", "ChangeSet [%s] does not exist" % name, 404)
        for cs in s.change_sets:
            if cs["name"] == name and not cs.get("_deleted"):
                return cs
    raise AwsError("ChangeSetNotFound", "ChangeSet [%s] does not exist" % name, 404)


NO_CHANGES = ("The submitted information didn't contain changes. Submit different information to create a "
              "change set.")


@action("cloudformation", "CreateChangeSet")
def create_change_set(p, ctx):
    name = p.required("StackName", "stackName")
    check_name(name)
    csname = p.required("ChangeSetName", "changeSetName")
    if not re.fullmatch(r"[a-zA-Z][-a-zA-Z0-9]{0,127}", csname):
        raise validation("1 validation error detected: Value '%s' at 'changeSetName' failed to satisfy constraint: "
                         "Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*" % csname)
    cstype = p.get("ChangeSetType", "UPDATE")
    if cstype not in ("CREATE", "UPDATE", "IMPORT"):
        raise validation("1 validation error detected: Value '%s' at 'changeSetType' failed to satisfy constraint: "
                         "Member must satisfy enum value set: [IMPORT, UPDATE, CREATE]" % cstype)
    if cstype == "IMPORT":
        raise validation("The test endpoint does not support IMPORT change sets")
    ctok = p.get("ClientToken")
    s = STORE.find(name)
    if ctok and s is not None:
        for cs in s.change_sets:
            if cs.get("client_token") == ctok and cs["name"] == csname:
                return {"Id": cs["id"], "StackId": s.id}
    if cstype == "CREATE":
        if s is not None and s.status != "REVIEW_IN_PROGRESS":
            raise AwsError("AlreadyExistsException", "Stack [%s] already exists and cannot be created again with the "
                           "changeSet [%s]." % (name, csname))
    else:
        if s is None or s.status == "REVIEW_IN_PROGRESS":
            raise validation("Stack [%s] does not exist" % name)
        if s.status not in UPDATABLE:
            raise busy(s)
    body, t, params, caps = prepare(p, s if cstype == "UPDATE" else None, cstype == "CREATE")
    if s is not None:
        for cs in s.change_sets:
            if cs["name"] == csname and not cs.get("_deleted"):
                raise AwsError("AlreadyExistsException", "ChangeSet %s already exists" % csname)
    with STORE.lock:
        if s is None:
            s = Stack(name, ctx.region, StackStatus="REVIEW_IN_PROGRESS", Tags=tags_of(p) or [], Capabilities=caps,
                      NotificationARNs=p.list("NotificationARNs"), RoleARN=p.get("RoleARN"))
            s.template_body = None
            STORE.add(s)
            event(s, s.name, "AWS::CloudFormation::Stack", "REVIEW_IN_PROGRESS", s.id, "User Initiated")
        cs = {
            "id": "arn:aws:cloudformation:%s:%s:changeSet/%s/%s" % (ctx.region, ACCOUNT, csname, uuid.uuid4()),
            "name": csname, "stack": s, "status": "CREATE_PENDING", "reason": None, "exec": "UNAVAILABLE",
            "body": body, "template": t, "params": params, "caps": caps, "tags": tags_of(p), "type": cstype,
            "description": p.get("Description"), "created": time.time(), "client_token": ctok, "changes": [],
            "notification_arns": p.list("NotificationARNs"), "include_nested": p.bool("IncludeNestedStacks", False),
        }
        s.change_sets.append(cs)
    background(_compute_change_set, cs)
    return {"Id": cs["id"], "StackId": s.id}


def _compute_change_set(cs):
    step(SETTINGS["changeset_ms"])
    cs["status"] = "CREATE_IN_PROGRESS"
    step(SETTINGS["changeset_ms"])
    s = cs["stack"]
    try:
        check_imports(s, cs["template"], cs["params"])
        if cs["type"] == "UPDATE" and nothing_changed(s, cs["template"], cs["body"], cs["params"], cs["tags"]):
            cs["status"], cs["reason"], cs["exec"] = "FAILED", NO_CHANGES, "UNAVAILABLE"
            return
        changes = plan(s, cs["template"], cs["params"]) if cs["type"] == "UPDATE" else \
            [("Add", lid, cs["template"]["Resources"][lid]["Type"], None, []) for lid in E.order(cs["template"])]
    except AwsError as e:
        cs["status"], cs["reason"], cs["exec"] = "FAILED", e.message, "UNAVAILABLE"
        return
    out = []
    for act, lid, typ, repl, names in changes:
        rc = {"Action": act, "LogicalResourceId": lid, "ResourceType": typ}
        cur = s.resources.get(lid)
        if act != "Add" and cur is not None:
            rc["PhysicalResourceId"] = cur.physid
        if act == "Modify":
            rc["Replacement"] = repl
            rc["Scope"] = ["Properties"]
            rc["Details"] = [{"Target": {"Attribute": "Properties", "Name": n,
                                         "RequiresRecreation": "Always" if repl == "True" else "Never"},
                              "Evaluation": "Static", "ChangeSource": "DirectModification"} for n in names]
            if typ == "AWS::CloudFormation::Stack" and cur is not None and cur.child is not None:
                rc["ChangeSetId"] = None
        else:
            rc["Scope"] = []
            rc["Details"] = []
        out.append({"Type": "Resource", "HookInvocationCount": None, "ResourceChange": rc})
    cs["changes"] = out
    cs["status"], cs["exec"] = "CREATE_COMPLETE", "AVAILABLE"


@action("cloudformation", "DescribeChangeSet")
def describe_change_set(p, ctx):
    cs = find_change_set(p.required("ChangeSetName", "changeSetName"), p.get("StackName"))
    s = cs["stack"]
    start = _decode_token(p.get("NextToken"), "changes:" + cs["id"])
    changes = cs["changes"]
    return {
        "ChangeSetName": cs["name"], "ChangeSetId": cs["id"], "StackId": s.id, "StackName": s.name,
        "Description": cs["description"],
        "Parameters": [{k: v for k, v in x.items() if k != "NoEcho"} for x in param_list(cs["params"])] or None,
        "CreationTime": _ts(cs["created"]), "ExecutionStatus": cs["exec"], "Status": cs["status"],
        "StatusReason": cs["reason"], "NotificationARNs": cs["notification_arns"],
        "RollbackConfiguration": {}, "Capabilities": cs["caps"] or None, "Tags": cs["tags"],
        "Changes": changes[start:start + 100],
        "NextToken": _encode_token(start + 100, "changes:" + cs["id"]) if len(changes) > start + 100 else None,
        "IncludeNestedStacks": cs["include_nested"],
    }


@action("cloudformation", "ListChangeSets")
def list_change_sets(p, ctx):
    s = find_or_fail(p.required("StackName", "stackName"))
    return {"Summaries": [{
        "StackId": s.id, "StackName": s.name, "ChangeSetId": cs["id"], "ChangeSetName": cs["name"],
        "ExecutionStatus": cs["exec"], "Status": cs["status"], "StatusReason": cs["reason"],
        "CreationTime": _ts(cs["created"]), "Description": cs["description"],
        "IncludeNestedStacks": cs["include_nested"]} for cs in s.change_sets if not cs.get("_deleted")]}


@action("cloudformation", "DeleteChangeSet")
def delete_change_set(p, ctx):
    cs = find_change_set(p.required("ChangeSetName", "changeSetName"), p.get("StackName"))
    if cs["exec"] == "EXECUTE_IN_PROGRESS":
        raise AwsError("InvalidChangeSetStatus", "Cannot delete ChangeSet in status EXECUTE_IN_PROGRESS")
    cs["_deleted"] = True
    return {}


@action("cloudformation", "ExecuteChangeSet")
def execute_change_set(p, ctx):
    cs = find_change_set(p.required("ChangeSetName", "changeSetName"), p.get("StackName"))
    s = cs["stack"]
    if cs.get("_deleted"):
        raise AwsError("ChangeSetNotFound", "ChangeSet [%s] does not exist" % cs["id"], 404)
    tok = p.get("ClientRequestToken")
    with STORE.lock:
        if cs["exec"] != "AVAILABLE":
            raise AwsError("InvalidChangeSetStatus", "ChangeSet [%s] cannot be executed in its current status of [%s]"
                           % (cs["id"], cs["status"] if cs["exec"] == "UNAVAILABLE" else cs["exec"]))
        if cs["type"] == "UPDATE" and s.status not in UPDATABLE:
            raise busy(s)
        cs["exec"] = "EXECUTE_IN_PROGRESS"
        for other in s.change_sets:
            if other is not cs:
                other["_deleted"] = True
                other["exec"] = "OBSOLETE"
        if p.bool("DisableRollback") is not None:
            s.disable_rollback = p.bool("DisableRollback")
        s.status = "CREATE_IN_PROGRESS" if cs["type"] == "CREATE" else "UPDATE_IN_PROGRESS"

    def go():
        if cs["type"] == "CREATE":
            with STORE.lock:
                s.tags = cs["tags"] or []
                s.capabilities = cs["caps"]
            ok = run_create(s, cs["template"], cs["body"], cs["params"], tok)
        else:
            ok = run_update(s, cs["template"], cs["body"], cs["params"], tok, cs["tags"], cs["caps"])
        cs["exec"] = "EXECUTE_COMPLETE" if ok else "EXECUTE_FAILED"
        cs["_deleted"] = True  # AWS removes a stack's change sets once one ran; the ARN still finds it
    background(go)
    return {}


# ---------------------------------------------------------------------------
# Admin
# ---------------------------------------------------------------------------

def _pairs(v, kname, vname):
    if v is None:
        return []
    if isinstance(v, dict):
        return [{kname: k, vname: str(x)} for k, x in v.items()]
    return [dict(x) for x in v]


FAULT_KINDS = ("fail_resource", "fail_after", "rollback_fails", "hold")


def add_behaviour_fault(spec):
    kind = spec.get("kind")
    if kind not in FAULT_KINDS:
        raise ValueError("kind must be one of %s" % ", ".join(FAULT_KINDS))
    if kind == "fail_resource" and not spec.get("logical_id"):
        raise ValueError("fail_resource needs logical_id")
    if kind == "fail_after" and "n" not in spec:
        raise ValueError("fail_after needs n")
    if kind == "hold":
        for k in ("ms", "seen"):
            if k in spec and int(spec[k]) < (1 if k == "seen" else 0):
                raise ValueError("hold: %s must be >= %d" % (k, 1 if k == "seen" else 0))
    op = spec.get("op", "any")
    if op not in ("any", "create", "update", "delete"):
        raise ValueError("op must be create, update, delete or any")
    f = {k: v for k, v in spec.items()}
    f["count"] = int(spec.get("count", 1))
    with STORE.lock:
        FAULT_SEQ[0] += 1
        f["id"] = FAULT_SEQ[0]
        FAULTS.append(f)
    return f


@admin_route
def admin_cfn(method, path, params, spec):
    if path == "/__admin/cfn/settings":
        if method == "POST":
            for k, v in spec.items():
                if k not in DEFAULT_SETTINGS:
                    raise ValueError("unknown setting %s (known: %s)" % (k, ", ".join(DEFAULT_SETTINGS)))
                if int(v) < 0:
                    raise ValueError("%s must be >= 0" % k)
                SETTINGS[k] = int(v)
        return 200, dict(SETTINGS)
    if path == "/__admin/cfn/faults":
        if method == "POST":
            specs = spec if isinstance(spec, list) else [spec]
            return 200, {"faults": [add_behaviour_fault(s) for s in specs]}
        if method == "GET":
            with STORE.lock:
                return 200, {"faults": [{k: v for k, v in f.items() if not k.startswith("_")} for f in FAULTS
                                        if f["count"] != 0]}
        if method == "DELETE":
            with STORE.lock:
                FAULTS[:] = []
            return 200, {"ok": True}
    if path == "/__admin/cfn/holds" and method == "GET":
        return 200, {"holds": holds_view()}
    if path == "/__admin/cfn/release" and method == "POST":
        with STORE.lock:
            held = [h for h in HOLDS if not h["done"].is_set() and
                    (not spec.get("stack") or spec["stack"] in (h["name"], h["stack"]))]
            for h in held:
                h["done"].set()
        return 200, {"released": len(held)}
    if path.startswith("/__admin/cfn/events/") and method == "GET":
        s = STORE.find(unquote(path[len("/__admin/cfn/events/"):]))
        if s is None:
            return 404, {"error": "no such stack"}
        with STORE.lock:
            return 200, {"events": [{k: (v.isoformat() + "Z" if hasattr(v, "isoformat") else v)
                                     for k, v in e.items() if k != "_t"} for e in s.events]}
    if path == "/__admin/stacks" and method == "POST":
        name = spec.get("StackName")
        if not name:
            raise ValueError("StackName is required")
        status = spec.get("StackStatus", "CREATE_COMPLETE")
        if status not in STACK_STATUSES:
            raise ValueError("unknown StackStatus %s" % status)
        kw = dict(spec)
        kw["Outputs"] = _pairs(spec.get("Outputs"), "OutputKey", "OutputValue")
        kw["Parameters"] = _pairs(spec.get("Parameters"), "ParameterKey", "ParameterValue")
        kw["Tags"] = _pairs(spec.get("Tags"), "Key", "Value")
        with STORE.lock:
            old = STORE.find(name)
            if old is not None and not spec.get("Replace", True):
                raise ValueError("stack %s exists" % name)
            if old is not None:
                STORE.stacks.remove(old)
            s = STORE.add(Stack(name, spec.get("Region", "us-east-1"), **kw))
        return 200, s.admin()
    if path == "/__admin/stacks" and method == "GET":
        with STORE.lock:
            return 200, {"stacks": [s.admin() for s in STORE.stacks]}
    if path == "/__admin/stacks" and method == "DELETE":
        STORE.clear()
        return 200, {"ok": True}
    if path.startswith("/__admin/stacks/") and method == "DELETE":
        STORE.clear(unquote(path[len("/__admin/stacks/"):]))
        return 200, {"ok": True}
    if path.startswith("/__admin/stacks/") and method == "GET":
        s = STORE.find(unquote(path[len("/__admin/stacks/"):]))
        return (200, s.admin()) if s else (404, {"error": "no such stack"})
    return None


@admin_reset
def reset_stacks(spec):
    with STORE.lock:
        FAULTS[:] = []
        for h in HOLDS:
            h["done"].set()
    if spec.get("stacks", False):
        STORE.clear()
        TOKENS.clear()
    if spec.get("settings", False) or spec.get("stacks", False):
        SETTINGS.clear()
        SETTINGS.update(DEFAULT_SETTINGS)
