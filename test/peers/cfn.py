"""CloudFormation actions of the test endpoint, and its in-memory stack store.

Now: DescribeStacks. Later issues add CreateChangeSet, ExecuteChangeSet,
DescribeStackEvents, GetTemplate, ... as more @action handlers over STORE.

Admin (JSON, on the endpoint's port):
  POST   /__admin/stacks          seed a stack: {"StackName", "StackStatus"?, "Outputs"?,
                                  "Parameters"?, "Tags"?, "Description"?, "TemplateBody"?,
                                  "Capabilities"?, "EnableTerminationProtection"?, "Region"?,
                                  "StackStatusReason"?}; Outputs/Parameters/Tags as a list of
                                  AWS-shaped dicts or as a {key: value} object
  GET    /__admin/stacks          every stack (deleted ones too)
  DELETE /__admin/stacks[/NAME]   forget all stacks, or one
"""

import threading
import time
import uuid

from awspeer import ACCOUNT
from query import action, admin_route, admin_reset, validation

STACK_STATUSES = {
    "CREATE_IN_PROGRESS", "CREATE_FAILED", "CREATE_COMPLETE", "ROLLBACK_IN_PROGRESS",
    "ROLLBACK_FAILED", "ROLLBACK_COMPLETE", "DELETE_IN_PROGRESS", "DELETE_FAILED",
    "DELETE_COMPLETE", "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
    "UPDATE_COMPLETE", "UPDATE_FAILED", "UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_FAILED",
    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE",
    "REVIEW_IN_PROGRESS", "IMPORT_IN_PROGRESS", "IMPORT_COMPLETE", "IMPORT_ROLLBACK_IN_PROGRESS",
    "IMPORT_ROLLBACK_FAILED", "IMPORT_ROLLBACK_COMPLETE",
}


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
        self.parameters = kw.get("Parameters", [])   # [{ParameterKey, ParameterValue}]
        self.outputs = kw.get("Outputs", [])         # [{OutputKey, OutputValue, Description?, ExportName?}]
        self.tags = kw.get("Tags", [])               # [{Key, Value}]
        self.capabilities = kw.get("Capabilities", [])
        self.termination_protection = bool(kw.get("EnableTerminationProtection", False))
        self.disable_rollback = bool(kw.get("DisableRollback", False))
        self.template_body = kw.get("TemplateBody")
        self.parent_id = kw.get("ParentId")
        self.root_id = kw.get("RootId")
        self.events = []
        self.resources = []

    def describe(self):
        import datetime
        ts = lambda t: datetime.datetime.utcfromtimestamp(t) if t else None  # noqa: E731
        return {
            "StackId": self.id,
            "StackName": self.name,
            "Description": self.description,
            "Parameters": self.parameters or None,
            "CreationTime": ts(self.created),
            "DeletionTime": ts(self.deleted),
            "LastUpdatedTime": ts(self.updated),
            "RollbackConfiguration": {},
            "StackStatus": self.status,
            "StackStatusReason": self.status_reason,
            "DisableRollback": self.disable_rollback,
            "NotificationARNs": [],
            "Capabilities": self.capabilities or None,
            "Outputs": self.outputs or None,
            "Tags": self.tags,
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


STORE = StackStore()


def no_such_stack(name):
    return validation("Stack with id %s does not exist" % name)


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
    return {"Stacks": [s.describe() for s in stacks]}


# -- admin -------------------------------------------------------------------

def _pairs(v, kname, vname):
    if v is None:
        return []
    if isinstance(v, dict):
        return [{kname: k, vname: str(x)} for k, x in v.items()]
    return [dict(x) for x in v]


@admin_route
def admin_stacks(method, path, params, spec):
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
        from urllib.parse import unquote
        STORE.clear(unquote(path[len("/__admin/stacks/"):]))
        return 200, {"ok": True}
    if path.startswith("/__admin/stacks/") and method == "GET":
        from urllib.parse import unquote
        s = STORE.find(unquote(path[len("/__admin/stacks/"):]))
        return (200, s.admin()) if s else (404, {"error": "no such stack"})
    return None


@admin_reset
def reset_stacks(spec):
    if spec.get("stacks", False):
        STORE.clear()
