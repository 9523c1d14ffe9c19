#!/usr/bin/env python3
"""Check CloudFormation templates against the official resource specification.

Usage: cfnspec.py [--db PATH] [--no-cache] [--timing] TEMPLATE.json...

The specification is @aws-cdk/aws-service-spec's db.json.gz, installed by
test/spec/setup.sh under test/.deps/.  Every problem is printed as one line

    FILE: <location>: <message>

where <location> is a dotted path such as Resources.Fn.Properties.Code.S3Key
(list elements as [i]).  The exit status is 1 if any template has a problem,
0 otherwise; a clean template prints "ok FILE (N resources)".

Python 3 standard library only.  Loading db.json.gz takes ~0.45 s, so a compact index
(~2 MB, ~0.05 s to load) is cached in test/.deps/cfnspec-index.json, keyed by the db
file's path, size and mtime; --no-cache bypasses it.

Format of db.json.gz (a serialized @cdklabs/tskb database), as far as used here:

    {"idCtr": N, "schema": {
        "resource":       {"type": "entities", "entities": [RESOURCE, ...]},
        "typeDefinition": {"type": "entities", "entities": [TYPEDEF, ...]},
        "usesType":       {"type": "rel", "forward": {"<id>": [{"$id": "<id>"}, ...]}},
        ... services, regions, metrics, events and their relationships ...}}

    RESOURCE = {"$id": "3208", "cloudFormationType": "AWS::Lambda::Function",
                "properties": {NAME: PROP}, "attributes": {NAME: PROP}, ...}
    TYPEDEF  = {"$id": "3209", "name": "ImageConfig", "properties": {NAME: PROP}}
    PROP     = {"type": TYPE, "required": true (absent when optional),
                "previousTypes": [TYPE, ...] (older accepted types),
                "deprecated": "WARN" (still valid), "documentation": ..., ...}
    TYPE     = {"type": "string" | "integer" | "number" | "boolean" | "json"
                        | "date-time" | "tag"}                  ("tag" = {Key, Value})
             | {"type": "array" | "map", "element": TYPE}
             | {"type": "ref", "reference": {"$ref": "<typedef id>"}}
             | {"type": "union", "types": [TYPE, ...]}

Type references point straight at a typeDefinition's "$id", so the relationship
tables are not needed.  Attribute names may contain dots
("SnapStartResponse.ApplyOn"): they are the exact Fn::GetAtt attribute names.
"""

import argparse
import difflib
import gzip
import json
import os
import re
import sys
import tempfile
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPS_DIR = os.path.join(REPO_ROOT, "test", ".deps")
DEFAULT_DB = os.path.join(DEPS_DIR, "node_modules", "@aws-cdk", "aws-service-spec", "db.json.gz")
CACHE_FILE = os.path.join(DEPS_DIR, "cfnspec-index.json")
INDEX_VERSION = 1  # bump when the compact index format changes

PSEUDO_PARAMS = {
    "AWS::AccountId", "AWS::Region", "AWS::Partition", "AWS::URLSuffix", "AWS::StackName",
    "AWS::StackId", "AWS::NotificationARNs", "AWS::NoValue",
}

# Intrinsic functions.  ({"Condition": name} is only meaningful inside Fn::And / Fn::Or /
# Fn::Not, and "Condition" is also an ordinary property name, so it is handled there.)
INTRINSICS = {
    "Ref", "Fn::GetAtt", "Fn::Sub", "Fn::Join", "Fn::Select", "Fn::Split", "Fn::If",
    "Fn::ImportValue", "Fn::GetAZs", "Fn::Base64", "Fn::FindInMap", "Fn::Cidr", "Fn::Equals",
    "Fn::And", "Fn::Or", "Fn::Not", "Fn::Transform", "Fn::Length", "Fn::ToJsonString",
}

TEMPLATE_SECTIONS = {
    "AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Rules", "Mappings",
    "Conditions", "Transform", "Resources", "Outputs", "Hooks",
}
RESOURCE_KEYS = {
    "Type", "Properties", "DependsOn", "Condition", "Metadata", "DeletionPolicy",
    "UpdateReplacePolicy", "CreationPolicy", "UpdatePolicy",
}
DELETION_POLICIES = {"Delete", "Retain", "RetainExceptOnCreate", "Snapshot"}

# Service quotas (CloudFormation user guide, "Understand CloudFormation quotas").
MAX_RESOURCES = 500
MAX_OUTPUTS = 200
MAX_PARAMETERS = 200
MAX_MAPPINGS = 200
MAX_TEMPLATE_BYTES = 1_000_000
MAX_LOGICAL_ID = 255

ALNUM = re.compile(r"^[A-Za-z0-9]+$")
INT_STR = re.compile(r"^\s*[-+]?\d+\s*$")
SUB_VAR = re.compile(r"\$\{([^}]*)\}")


# --------------------------------------------------------------------------------------------
# Specification index
#
# Compact form (also the on-disk cache):
#   {"resources": {CFN_TYPE: {"p": PROPS, "a": [attribute names]}},
#    "types": {ID: {"n": name, "p": PROPS}}}
#   PROPS = {NAME: [[CTYPE, ...] accepted alternatives, required]}
#   CTYPE = "string" | "integer" | ... | ["array", CTYPE] | ["map", CTYPE] | ["ref", ID]
#         | ["union", [CTYPE, ...]]
# --------------------------------------------------------------------------------------------

def _compact_type(t):
    kind = t["type"]
    if kind in ("array", "map"):
        return [kind, _compact_type(t["element"])]
    if kind == "ref":
        return ["ref", t["reference"]["$ref"]]
    if kind == "union":
        return ["union", [_compact_type(x) for x in t["types"]]]
    return kind


def _compact_props(props):
    out = {}
    for name, p in props.items():
        # The current type plus any previous types: CloudFormation still accepts those.
        alts = [_compact_type(p["type"])] + [_compact_type(x) for x in p.get("previousTypes", [])]
        out[name] = [alts, bool(p.get("required"))]
    return out


def build_index(db_path):
    with gzip.open(db_path, "rt", encoding="utf-8") as f:
        schema = json.load(f)["schema"]
    resources = {}
    for r in schema["resource"]["entities"]:
        resources[r["cloudFormationType"]] = {
            "p": _compact_props(r.get("properties", {})),
            "a": sorted(r.get("attributes", {})),
        }
    types = {t["$id"]: {"n": t["name"], "p": _compact_props(t.get("properties", {}))}
             for t in schema["typeDefinition"]["entities"]}
    return {"resources": resources, "types": types}


def load_index(db_path, use_cache=True):
    """Return the compact index, from the cache under test/.deps/ when it is current.

    The cache is keyed by the db file's path, size and mtime (and INDEX_VERSION)."""
    st = os.stat(db_path)
    key = [INDEX_VERSION, os.path.abspath(db_path), st.st_size, st.st_mtime_ns]
    if use_cache:
        try:
            with open(CACHE_FILE, encoding="utf-8") as f:
                cached = json.load(f)
            if cached.get("key") == key:
                return cached
        except (OSError, ValueError):
            pass
    index = build_index(db_path)
    index["key"] = key
    if use_cache and os.path.isdir(DEPS_DIR):
        # Write atomically: concurrent runs must never see a half-written cache.
        try:
            fd, tmp = tempfile.mkstemp(dir=DEPS_DIR, prefix=".cfnspec-index.")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(index, f, separators=(",", ":"))
            os.chmod(tmp, 0o644)
            os.replace(tmp, CACHE_FILE)
        except OSError:
            pass
    return index


# --------------------------------------------------------------------------------------------
# JSON loading that remembers duplicate keys (json.load silently keeps the last one).
# --------------------------------------------------------------------------------------------

class JObject(dict):
    """A JSON object; .dups lists keys that occurred more than once."""
    dups = ()


def _pairs_hook(pairs):
    obj = JObject()
    dups = []
    for k, v in pairs:
        if k in obj and k not in dups:
            dups.append(k)
        obj[k] = v
    if dups:
        obj.dups = dups
    return obj


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

def join(path, key):
    """Extend a location path with a key (str) or a list index (int)."""
    if isinstance(key, int):
        return "%s[%d]" % (path, key)
    return "%s.%s" % (path, key) if path else key


def intrinsic_name(v):
    """The function name if v is an intrinsic function object, else None."""
    if isinstance(v, dict) and len(v) == 1:
        (k,) = v
        if k == "Ref" or k.startswith("Fn::"):
            return k
    return None


def json_kind(v):
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "list"
    if isinstance(v, dict):
        return "object"
    return "null"


def is_novalue(v):
    return isinstance(v, dict) and len(v) == 1 and v.get("Ref") == "AWS::NoValue"


def suggest(name, candidates):
    m = difflib.get_close_matches(name, list(candidates), n=1)
    return " (did you mean '%s'?)" % m[0] if m else ""


def is_custom_type(rtype):
    return rtype.startswith("Custom::") or rtype == "AWS::CloudFormation::CustomResource"


# --------------------------------------------------------------------------------------------
# Template checker
# --------------------------------------------------------------------------------------------

class Checker:
    def __init__(self, index, template, errors):
        self.spec_resources = index["resources"]
        self.spec_types = index["types"]
        self.t = template
        self.errors = errors  # list of (location, message)

        def section(name):
            s = template.get(name, {}) if isinstance(template, dict) else {}
            return s if isinstance(s, dict) else {}
        self.resources = section("Resources")
        self.parameters = section("Parameters")
        self.conditions = section("Conditions")
        self.mappings = section("Mappings")
        # Resource type per logical id (None when Type is missing or not a string).
        self.rtypes = {k: (v.get("Type") if isinstance(v, dict) and isinstance(v.get("Type"), str) else None)
                       for k, v in self.resources.items()}
        transform = template.get("Transform") if isinstance(template, dict) else None
        self.serverless = "Serverless" in json.dumps(transform) if transform else False
        self.current = None  # logical id of the resource being checked (dependency edges)
        self.deps = {k: set() for k in self.resources}  # resource -> resources it depends on
        self.in_conditions = False

    def err(self, loc, msg):
        self.errors.append((loc, msg))

    def dep(self, target):
        if self.current is not None and target in self.resources:
            self.deps[self.current].add(target)

    # ---- whole template ---------------------------------------------------------------

    def check(self):
        t = self.t
        if not isinstance(t, dict):
            self.err("(template)", "template must be a JSON object")
            return
        self.check_duplicate_keys(t, "")
        for k in t:
            if k not in TEMPLATE_SECTIONS:
                self.err(k, "unknown template section" + suggest(k, TEMPLATE_SECTIONS))
        v = t.get("AWSTemplateFormatVersion")
        if v is not None and v != "2010-09-09":
            self.err("AWSTemplateFormatVersion", "must be \"2010-09-09\", got %s" % json.dumps(v))
        d = t.get("Description")
        if d is not None and not isinstance(d, str):
            self.err("Description", "must be a string")
        elif d is not None and len(d.encode("utf-8")) > 1024:
            self.err("Description", "longer than 1024 bytes")

        size = len(json.dumps(t, separators=(",", ":")).encode("utf-8"))
        if size > MAX_TEMPLATE_BYTES:
            self.err("(template)", "template is %d bytes minified (max %d)" % (size, MAX_TEMPLATE_BYTES))

        for name in ("Resources", "Parameters", "Outputs", "Mappings", "Conditions"):
            if name in t and not isinstance(t[name], dict):
                self.err(name, "must be an object")
        if "Resources" not in t:
            self.err("Resources", "missing (a template needs at least one resource)")
        elif isinstance(t["Resources"], dict) and not t["Resources"]:
            self.err("Resources", "empty (a template needs at least one resource)")

        self.check_parameters()
        self.check_mappings()
        self.check_conditions()
        self.check_resources()
        self.check_outputs()
        self.check_cycles()

    def check_duplicate_keys(self, v, path):
        if isinstance(v, dict):
            for k in getattr(v, "dups", ()):
                self.err(path or "(template)", "duplicate key '%s'" % k)
            for k, x in v.items():
                self.check_duplicate_keys(x, join(path, k))
        elif isinstance(v, list):
            for i, x in enumerate(v):
                self.check_duplicate_keys(x, join(path, i))

    def check_names(self, section, limit, what):
        names = self.t.get(section)
        if not isinstance(names, dict):
            return
        if len(names) > limit:
            self.err(section, "too many %s: %d (max %d)" % (what, len(names), limit))
        for name in names:
            if not ALNUM.match(name):
                self.err(join(section, name), "name must be alphanumeric ([A-Za-z0-9]+)")
            elif len(name) > MAX_LOGICAL_ID:
                self.err(join(section, name), "name longer than %d characters" % MAX_LOGICAL_ID)

    def check_parameters(self):
        self.check_names("Parameters", MAX_PARAMETERS, "parameters")
        for name, p in self.parameters.items():
            loc = join("Parameters", name)
            if not isinstance(p, dict):
                self.err(loc, "must be an object")
            elif not isinstance(p.get("Type"), str):
                self.err(loc, "missing Type")
            if name in self.resources:
                self.err(loc, "name is also used by a resource")

    def check_mappings(self):
        self.check_names("Mappings", MAX_MAPPINGS, "mappings")
        for name, m in self.mappings.items():
            if not isinstance(m, dict):
                self.err(join("Mappings", name), "must be an object")

    def check_conditions(self):
        # Conditions may only reference parameters, pseudo parameters and other conditions.
        self.in_conditions = True
        for name, c in self.conditions.items():
            self.walk(c, join("Conditions", name))
        self.in_conditions = False

    def check_outputs(self):
        self.check_names("Outputs", MAX_OUTPUTS, "outputs")
        outputs = self.t.get("Outputs")
        if not isinstance(outputs, dict):
            return
        exports = {}
        for name, o in outputs.items():
            loc = join("Outputs", name)
            if not isinstance(o, dict):
                self.err(loc, "must be an object")
                continue
            for k in o:
                if k not in ("Value", "Description", "Export", "Condition"):
                    self.err(join(loc, k), "unknown output key")
            if "Value" not in o:
                self.err(loc, "missing Value")
            self.check_condition_name(o.get("Condition"), join(loc, "Condition"))
            self.walk(o.get("Value"), join(loc, "Value"))
            export = o.get("Export")
            if export is not None:
                if not isinstance(export, dict) or "Name" not in export:
                    self.err(join(loc, "Export"), "must be an object with a Name")
                else:
                    self.walk(export["Name"], join(loc, "Export.Name"))
                    key = json.dumps(export["Name"], sort_keys=True)
                    if key in exports:
                        self.err(join(loc, "Export.Name"), "same export name as output '%s'" % exports[key])
                    exports[key] = name

    def check_condition_name(self, name, loc):
        if name is None:
            return
        if not isinstance(name, str):
            self.err(loc, "condition name must be a string")
        elif name not in self.conditions:
            self.err(loc, "unknown condition '%s'%s" % (name, suggest(name, self.conditions)))

    # ---- resources ----------------------------------------------------------------------

    def check_resources(self):
        self.check_names("Resources", MAX_RESOURCES, "resources")
        for lid, r in self.resources.items():
            loc = join("Resources", lid)
            self.current = lid
            if not isinstance(r, dict):
                self.err(loc, "must be an object")
                continue
            for k in r:
                if k not in RESOURCE_KEYS:
                    self.err(join(loc, k), "unknown resource attribute" + suggest(k, RESOURCE_KEYS))
            self.check_condition_name(r.get("Condition"), join(loc, "Condition"))
            self.check_depends_on(lid, r.get("DependsOn"), join(loc, "DependsOn"))
            for pol in ("DeletionPolicy", "UpdateReplacePolicy"):
                value = r.get(pol)
                if value is not None and not intrinsic_name(value) \
                        and not (isinstance(value, str) and value in DELETION_POLICIES):
                    self.err(join(loc, pol), "must be one of %s" % ", ".join(sorted(DELETION_POLICIES)))
            rtype = r.get("Type")
            props = r.get("Properties", {})
            ploc = join(loc, "Properties")
            if not isinstance(rtype, str):
                self.err(join(loc, "Type"), "missing or not a string")
                self.walk(props, ploc)
                continue
            if intrinsic_name(props):
                self.check_intrinsic(props, ploc)
                continue
            if not isinstance(props, dict):
                self.err(ploc, "must be an object")
                continue
            if is_custom_type(rtype) or (self.serverless and rtype.startswith("AWS::Serverless::")):
                # Free-form properties; custom resources need a ServiceToken.
                if is_custom_type(rtype) and "ServiceToken" not in props:
                    self.err(ploc, "missing required property 'ServiceToken'")
                self.walk(props, ploc)
                continue
            spec = self.spec_resources.get(rtype)
            if spec is None:
                self.err(join(loc, "Type"), "unknown resource type '%s'%s"
                         % (rtype, suggest(rtype, self.spec_resources)))
                self.walk(props, ploc)
                continue
            self.check_object(props, spec["p"], ploc, rtype)
        self.current = None

    def check_depends_on(self, lid, dep, loc):
        if dep is None:
            return
        targets = [dep] if isinstance(dep, str) else dep
        if not isinstance(targets, list):
            self.err(loc, "must be a string or a list of strings")
            return
        for i, d in enumerate(targets):
            l = loc if isinstance(dep, str) else join(loc, i)
            if not isinstance(d, str):
                self.err(l, "must be a resource logical id (string)")
            elif d not in self.resources:
                self.err(l, "unknown resource '%s'%s" % (d, suggest(d, self.resources)))
            else:
                self.dep(d)

    # ---- typed values -------------------------------------------------------------------

    def check_object(self, obj, props, loc, what):
        """Check a JSON object against a property table (resource or property type)."""
        for name, value in obj.items():
            if name not in props:
                self.err(join(loc, name), "unknown property '%s' for %s%s" % (name, what, suggest(name, props)))
                self.walk(value, join(loc, name))
                continue
            alts, _ = props[name]
            self.check_value(value, alts, join(loc, name))
        for name, (_, required) in props.items():
            if required and name not in obj:
                self.err(loc, "missing required property '%s' for %s" % (name, what))
            elif required and is_novalue(obj[name]):
                self.err(join(loc, name), "required property set to AWS::NoValue")

    def check_value(self, v, alts, loc):
        """Check v against the accepted type alternatives; report the best attempt's errors."""
        fn = intrinsic_name(v)
        if fn == "Fn::If":
            # Both branches must fit the expected type (AWS::NoValue removes the property).
            self.check_if(v, loc, lambda branch, bloc: self.check_value(branch, alts, bloc))
            return
        if fn:
            self.check_intrinsic(v, loc)
            return
        best = None
        for ctype in alts:
            errs = self.try_type(v, ctype, loc)
            if not errs:
                return
            if best is None or len(errs) < len(best):
                best = errs
        self.errors.extend(best)

    def try_type(self, v, ctype, loc):
        """Errors of v checked as ctype, collected apart so that alternatives can be compared.

        (Dependency edges found while trying an alternative are kept: harmless.)"""
        saved, self.errors = self.errors, []
        try:
            self.check_type(v, ctype, loc)
            return self.errors
        finally:
            self.errors = saved

    def check_type(self, v, ctype, loc):
        if isinstance(ctype, list):
            kind, arg = ctype
            if kind == "union":
                self.check_value(v, arg, loc)
            elif kind == "array":
                if not isinstance(v, list):
                    self.err(loc, "expected a list of %s, got %s" % (describe(arg, self.spec_types), json_kind(v)))
                    return
                for i, x in enumerate(v):
                    if is_novalue(x):
                        continue
                    self.check_value(x, [arg], join(loc, i))
            elif kind == "map":
                if not isinstance(v, dict):
                    self.err(loc, "expected a map of %s, got %s" % (describe(arg, self.spec_types), json_kind(v)))
                    return
                for k, x in v.items():
                    self.check_value(x, [arg], join(loc, k))
            elif kind == "ref":
                td = self.spec_types.get(arg)
                if td is None:  # dangling reference in the db: accept anything
                    self.walk(v, loc)
                elif not isinstance(v, dict):
                    self.err(loc, "expected an object (%s), got %s" % (td["n"], json_kind(v)))
                else:
                    self.check_object(v, td["p"], loc, td["n"])
            return
        kind = ctype
        if kind == "json":
            self.walk(v, loc)
        elif kind in ("string", "date-time"):
            # CloudFormation turns numbers and booleans into strings.
            if isinstance(v, (list, dict)) or v is None:
                self.err(loc, "expected a string, got %s" % json_kind(v))
        elif kind == "integer":
            ok = (isinstance(v, int) and not isinstance(v, bool)) \
                or (isinstance(v, float) and v.is_integer()) \
                or (isinstance(v, str) and INT_STR.match(v))
            if not ok:
                self.err(loc, "expected an integer, got %s %s" % (json_kind(v), short(v)))
        elif kind == "number":
            ok = isinstance(v, (int, float)) and not isinstance(v, bool)
            if isinstance(v, str):
                try:
                    float(v)
                    ok = True
                except ValueError:
                    pass
            if not ok:
                self.err(loc, "expected a number, got %s %s" % (json_kind(v), short(v)))
        elif kind == "boolean":
            if not (isinstance(v, bool) or (isinstance(v, str) and v.lower() in ("true", "false"))):
                self.err(loc, "expected a boolean, got %s %s" % (json_kind(v), short(v)))
        elif kind == "tag":
            if not isinstance(v, dict):
                self.err(loc, "expected a tag {Key, Value}, got %s" % json_kind(v))
                return
            self.check_object(v, TAG_PROPS, loc, "Tag")
        else:  # a type this checker does not know: accept, but look for intrinsics
            self.walk(v, loc)

    # ---- intrinsic functions ------------------------------------------------------------

    def walk(self, v, loc):
        """Untyped value: check every intrinsic function found inside it."""
        if intrinsic_name(v):
            self.check_intrinsic(v, loc)
        elif isinstance(v, dict):
            for k, x in v.items():
                self.walk(x, join(loc, k))
        elif isinstance(v, list):
            for i, x in enumerate(v):
                self.walk(x, join(loc, i))

    def check_if(self, v, loc, check_branch):
        floc = join(loc, "Fn::If")
        args = v["Fn::If"]
        if not (isinstance(args, list) and len(args) == 3):
            self.err(floc, "expected [condition, value_if_true, value_if_false]")
            self.walk(args, floc)
            return
        self.check_condition_name(args[0], join(floc, 0))
        for i in (1, 2):
            if not is_novalue(args[i]):
                check_branch(args[i], join(floc, i))

    def check_intrinsic(self, v, loc):
        fn = intrinsic_name(v)
        arg = v[fn]
        floc = join(loc, fn)
        if fn == "Ref":
            self.check_ref(arg, floc)
        elif fn == "Fn::GetAtt":
            self.check_getatt(arg, floc)
        elif fn == "Fn::Sub":
            self.check_sub(arg, floc)
        elif fn == "Fn::If":
            self.check_if(v, loc, self.walk)
        elif fn == "Fn::FindInMap":
            self.check_findinmap(arg, floc)
        else:
            arity = {  # expected argument list lengths
                "Fn::Join": 2, "Fn::Select": 2, "Fn::Split": 2, "Fn::Cidr": 3, "Fn::Equals": 2, "Fn::Not": 1,
            }
            if fn in arity and not (isinstance(arg, list) and len(arg) == arity[fn]):
                self.err(floc, "expected a list of %d arguments" % arity[fn])
            elif fn in ("Fn::And", "Fn::Or") and not (isinstance(arg, list) and 2 <= len(arg) <= 10):
                self.err(floc, "expected a list of 2 to 10 conditions")
            elif fn == "Fn::Join" and not isinstance(arg[0], str):
                self.err(join(floc, 0), "delimiter must be a string")
            elif fn not in INTRINSICS:
                self.err(floc, "unknown intrinsic function")
            if fn in ("Fn::And", "Fn::Or", "Fn::Not") and isinstance(arg, list):
                for i, x in enumerate(arg):
                    if isinstance(x, dict) and list(x) == ["Condition"]:
                        self.check_condition_name(x["Condition"], join(join(floc, i), "Condition"))
                    else:
                        self.walk(x, join(floc, i))
            else:
                self.walk(arg, floc)

    def check_ref(self, name, loc):
        if not isinstance(name, str):
            self.err(loc, "Ref takes a string, got %s" % json_kind(name))
            self.walk(name, loc)
        elif name in self.resources:
            if self.in_conditions:
                self.err(loc, "Ref to resource '%s' is not allowed in Conditions" % name)
            self.dep(name)
        elif name not in self.parameters and name not in PSEUDO_PARAMS:
            self.err(loc, "unknown target '%s' (not a resource, parameter or pseudo parameter)%s"
                     % (name, suggest(name, list(self.resources) + list(self.parameters))))

    def check_getatt(self, arg, loc):
        if isinstance(arg, str):
            if "." not in arg:
                self.err(loc, "expected \"Resource.Attribute\" or [Resource, Attribute], got %s" % json.dumps(arg))
                return
            res, attr = arg.split(".", 1)
        elif isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str):
            res, attr = arg
        else:
            self.err(loc, "expected [Resource, Attribute] or \"Resource.Attribute\"")
            self.walk(arg, loc)
            return
        if self.in_conditions:
            self.err(loc, "Fn::GetAtt is not allowed in Conditions")
        if res not in self.resources:
            self.err(loc, "unknown resource '%s'%s" % (res, suggest(res, self.resources)))
            return
        self.dep(res)
        if isinstance(attr, str):
            self.check_attribute(res, attr, loc)
        else:
            self.walk(attr, join(loc, 1))  # e.g. {"Ref": "AttrParam"}: cannot check further

    def check_attribute(self, res, attr, loc):
        rtype = self.rtypes.get(res)
        if rtype is None or is_custom_type(rtype) or rtype.startswith("AWS::Serverless::"):
            return  # custom resources return arbitrary attributes
        if rtype == "AWS::CloudFormation::Stack" and attr.startswith("Outputs.") and len(attr) > 8:
            return
        spec = self.spec_resources.get(rtype)
        if spec is None:
            return  # unknown type, reported elsewhere
        if attr not in spec["a"]:
            valid = ", ".join(spec["a"]) or "none"
            self.err(loc, "%s '%s' has no attribute '%s' (valid: %s)" % (rtype, res, attr, valid))

    def check_sub(self, arg, loc):
        if isinstance(arg, str):
            text, varmap = arg, {}
        elif isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], dict):
            text, varmap = arg
            for k, x in varmap.items():
                self.walk(x, join(join(loc, 1), k))
            if not isinstance(text, str):
                self.err(join(loc, 0), "Fn::Sub template must be a string")
                return
        else:
            self.err(loc, "expected a string or [string, {variables}]")
            self.walk(arg, loc)
            return
        for m in SUB_VAR.finditer(text):
            var = m.group(1).strip()
            if var.startswith("!"):
                continue  # ${!Literal} escape
            if var in varmap or var in PSEUDO_PARAMS or var in self.parameters:
                continue
            if var in self.resources:
                self.dep(var)
                continue
            if "." in var:
                res, attr = var.split(".", 1)
                if res in self.resources:
                    self.dep(res)
                    self.check_attribute(res, attr, loc)
                    continue
            names = list(varmap) + list(self.parameters) + list(self.resources)
            self.err(loc, "unresolved variable ${%s}%s" % (var, suggest(var, names)))

    def check_findinmap(self, arg, loc):
        if not (isinstance(arg, list) and len(arg) in (3, 4)):
            self.err(loc, "expected [MapName, TopLevelKey, SecondLevelKey]")
            self.walk(arg, loc)
            return
        self.walk(arg, loc)
        name, k1, k2 = arg[:3]
        if not isinstance(name, str):
            return
        if name not in self.mappings:
            self.err(join(loc, 0), "unknown mapping '%s'%s" % (name, suggest(name, self.mappings)))
            return
        if len(arg) == 4:
            return  # has a DefaultValue (AWS::LanguageExtensions): missing keys are fine
        m = self.mappings[name]
        if isinstance(k1, str) and isinstance(m, dict):
            if k1 not in m:
                self.err(join(loc, 1), "mapping '%s' has no key '%s'" % (name, k1))
            elif isinstance(k2, str) and isinstance(m[k1], dict) and k2 not in m[k1]:
                self.err(join(loc, 2), "mapping '%s'.'%s' has no key '%s'" % (name, k1, k2))

    # ---- dependency cycles --------------------------------------------------------------

    def check_cycles(self):
        for cycle in find_cycles(self.deps):
            self.err("Resources", "cycle: " + " -> ".join(cycle + [cycle[0]]))


TAG_PROPS = {"Key": [["string"], True], "Value": [["string"], True]}


def describe(ctype, types):
    if isinstance(ctype, list):
        kind, arg = ctype
        if kind == "ref":
            return "%s objects" % types.get(arg, {}).get("n", "?")
        if kind == "union":
            return " or ".join(describe(x, types) for x in arg)
        return "%s of %s" % ("lists" if kind == "array" else "maps", describe(arg, types))
    return {"json": "JSON", "tag": "tags"}.get(ctype, ctype + "s")


def short(v):
    s = json.dumps(v)
    return s if len(s) <= 40 else s[:37] + "..."


def find_cycles(graph):
    """One cycle (as a node list) per strongly connected component that has one.

    Tarjan's algorithm, iterative so that long chains cannot hit the recursion limit;
    each cycle starts at the component's smallest node and is a shortest one through it."""
    index, low, on_stack, stack, sccs = {}, {}, set(), [], []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            advanced = False
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                scc = set()
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    scc.add(w)
                    if w == node:
                        break
                if len(scc) > 1 or node in graph[node]:
                    sccs.append(scc)
    cycles = []
    for scc in sccs:
        start = min(scc)
        # Breadth-first search inside the component for the shortest way back to start.
        prev, frontier, found = {start: None}, [start], None
        while frontier and found is None:
            nxt_frontier = []
            for n in frontier:
                for m in sorted(graph[n]):
                    if m == start:
                        found = n
                        break
                    if m in scc and m not in prev:
                        prev[m] = n
                        nxt_frontier.append(m)
                if found is not None:
                    break
            frontier = nxt_frontier
        path, n = [], found
        while n is not None:
            path.append(n)
            n = prev[n]
        cycles.append(path[::-1])
    return sorted(cycles)


# --------------------------------------------------------------------------------------------

def check_file(path, index):
    """Return (errors, resource count) for one template file."""
    try:
        with open(path, encoding="utf-8") as f:
            template = json.load(f, object_pairs_hook=_pairs_hook)
    except OSError as e:
        return [("(file)", "cannot read: %s" % e.strerror)], 0
    except ValueError as e:
        return [("(file)", "invalid JSON: %s" % e)], 0
    errors = []
    checker = Checker(index, template, errors)
    checker.check()
    return errors, len(checker.resources)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Check CloudFormation templates against the resource spec.")
    ap.add_argument("--db", default=DEFAULT_DB, help="path to aws-service-spec db.json.gz (default: %(default)s)")
    ap.add_argument("--no-cache", action="store_true", help="do not read or write the derived index cache")
    ap.add_argument("--timing", action="store_true", help="print the spec load time to stderr")
    ap.add_argument("templates", nargs="+", metavar="TEMPLATE.json")
    args = ap.parse_args(argv)

    if not os.path.isfile(args.db):
        print("cfnspec: spec database %s not found (run test/spec/setup.sh)" % args.db, file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    index = load_index(args.db, use_cache=not args.no_cache)
    if args.timing:
        print("cfnspec: spec loaded in %.3f s (%d resource types)"
              % (time.perf_counter() - t0, len(index["resources"])), file=sys.stderr)

    failed = False
    for path in args.templates:
        errors, count = check_file(path, index)
        for loc, msg in errors:
            print("%s: %s: %s" % (path, loc, msg))
        if errors:
            failed = True
        else:
            print("ok %s (%d resources)" % (path, count))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
