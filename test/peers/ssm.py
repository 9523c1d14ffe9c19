"""Systems Manager Parameter Store of the test endpoint (AWS JSON 1.1
protocol: POST / with X-Amz-Target: AmazonSSM.<Op>, SigV4 service "ssm").

PutParameter, GetParameter, GetParameters, GetParametersByPath,
DeleteParameter, DeleteParameters, DescribeParameters, GetParameterHistory,
as AWS documents them (shapes, error types, MaxResults limits). Values are
kept in memory only; nothing here logs or returns a value except to a
Get* call (a SecureString only WithDecryption: otherwise a fake ciphertext).

Admin (JSON, on the endpoint's port):
  GET    /__admin/ssm     names, types, versions (never values)
  POST   /__admin/ssm     seed: {"Name", "Value", "Type"?: "String"} (or a list)
  DELETE /__admin/ssm     forget every parameter
  POST   /__admin/reset {"ssm": true} also forgets them
"""

import base64
import hashlib
import re
import threading
import time

from awspeer import ACCOUNT
from query import json_target, admin_route, admin_reset, AwsError

LOCK = threading.RLock()
PARAMS = {}   # name -> [version dicts], oldest first
TYPES = ("String", "StringList", "SecureString")


def err(code, message="", status=400):
    return AwsError(code, message, status)


def _region(ctx):
    return ctx.region if ctx is not None else "us-east-1"


def check_name(name, field="name"):
    if not isinstance(name, str) or not name:
        raise err("ValidationException", "1 validation error detected: Value null at '%s' failed to satisfy "
                  "constraint: Member must not be null" % field)
    if len(name) > 2048:
        raise err("ValidationException", "1 validation error detected: Value at '%s' failed to satisfy constraint: "
                  "Member must have length less than or equal to 2048" % field)
    if not re.fullmatch(r"[a-zA-Z0-9_.\-/]+", name):
        raise err("ValidationException", "Parameter name: can't be prefixed with \"aws\" or \"ssm\" "
                  "(case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; "
                  "each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_")
    low = name.lstrip("/").lower()
    if low.startswith("aws") or low.startswith("ssm"):
        raise err("ValidationException", "No access to reserved parameter name: %s." % name)
    if "/" in name and not name.startswith("/"):
        raise err("ValidationException", "Parameter name must be a fully qualified name.")
    if name.count("/") > 15:
        raise err("HierarchyLevelLimitExceededException", "Parameter hierarchy depth exceeds the maximum of 15 levels.")


def _strip(name):
    """Name from a name, name:version or ARN."""
    if isinstance(name, str) and name.startswith("arn:"):
        m = re.fullmatch(r"arn:aws[\w-]*:ssm:[\w-]+:\d{12}:parameter(/.*)", name)
        if m:
            name = m.group(1)
            if name.count("/") == 1 and not name[1:].startswith("/"):
                pass
    version = None
    if isinstance(name, str) and ":" in name:
        name, _, v = name.rpartition(":")
        version = v
    return name, version


def _arn(name, ctx):
    return "arn:aws:ssm:%s:%s:parameter%s" % (_region(ctx), ACCOUNT, name if name.startswith("/") else "/" + name)


def _cipher(name, version):
    # Not the value: a stable blob shaped like a KMS ciphertext.
    h = hashlib.sha256(("%s:%d" % (name, version)).encode()).digest() * 4
    return base64.b64encode(b"\x01\x02\x02\x00x" + h).decode()


def _out(name, v, ctx, decrypt, selector=None):
    d = {"Name": name, "Type": v["Type"], "Version": v["Version"], "LastModifiedDate": v["LastModifiedDate"],
         "ARN": _arn(name, ctx), "DataType": v.get("DataType", "text")}
    d["Value"] = v["Value"] if v["Type"] != "SecureString" or decrypt else _cipher(name, v["Version"])
    if selector:
        d["Selector"] = ":" + selector
    return d


def _get(name_sel):
    name, version = _strip(name_sel)
    with LOCK:
        hist = PARAMS.get(name)
        if not hist:
            return name, None, version
        if version is None:
            return name, hist[-1], None
        for v in hist:
            if str(v["Version"]) == version:
                return name, v, version
    return name, None, version


def lookup_plain(name):
    """For CloudFormation's AWS::SSM::Parameter::Value<> parameters: the
    value of a String/StringList parameter, or None."""
    n, v, _ = _get(name)
    if v is None or v["Type"] == "SecureString":
        return None
    return v["Value"]


@json_target("ssm", "AmazonSSM.PutParameter")
def put_parameter(req, ctx):
    name = req.get("Name")
    check_name(name)
    value = req.get("Value")
    if value is None:
        raise err("ValidationException", "1 validation error detected: Value null at 'value' failed to satisfy "
                  "constraint: Member must not be null")
    tier = req.get("Tier", "Standard")
    limit = 8192 if tier == "Advanced" else 4096
    if len(value) > limit:
        raise err("ValidationException", "1 validation error detected: Value at 'value' failed to satisfy "
                  "constraint: Member must have length less than or equal to %d" % limit)
    if value == "":
        raise err("ValidationException", "1 validation error detected: Value at 'value' failed to satisfy "
                  "constraint: Member must have length greater than or equal to 1")
    typ = req.get("Type")
    if typ is not None and typ not in TYPES:
        raise err("ValidationException", "1 validation error detected: Value '%s' at 'type' failed to satisfy "
                  "constraint: Member must satisfy enum value set: [SecureString, StringList, String]" % typ)
    with LOCK:
        hist = PARAMS.get(name)
        if hist and not req.get("Overwrite", False):
            raise err("ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the "
                      "overwrite option in the request to true.")
        if not hist and typ is None:
            raise err("ValidationException", "A parameter type is required when you create a parameter.")
        if hist and typ is not None and typ != hist[-1]["Type"] and (typ == "SecureString") != (hist[-1]["Type"] == "SecureString"):
            pass  # AWS allows changing the type on overwrite
        version = hist[-1]["Version"] + 1 if hist else 1
        if hist and len(hist) >= 100:
            raise err("ParameterMaxVersionLimitExceeded", "You attempted to create a new version of %s by calling "
                      "the PutParameter API with the overwrite flag. Version 1, the oldest version, can't be "
                      "deleted because it has a label associated with it." % name)
        v = {"Type": typ or hist[-1]["Type"], "Value": value, "Version": version, "LastModifiedDate": time.time(),
             "Description": req.get("Description", hist[-1].get("Description") if hist else None),
             "DataType": req.get("DataType", "text"), "Tier": tier,
             "KeyId": req.get("KeyId") or ("alias/aws/ssm" if (typ or hist[-1]["Type"]) == "SecureString" else None),
             "LastModifiedUser": ctx.cred["arn"] if ctx is not None else "admin"}
        PARAMS.setdefault(name, []).append(v)
    return {"Version": version, "Tier": tier}


@json_target("ssm", "AmazonSSM.GetParameter")
def get_parameter(req, ctx):
    sel = req.get("Name")
    check_name(_strip(sel)[0] if isinstance(sel, str) else sel)
    name, v, version = _get(sel)
    if v is None:
        if version is not None and PARAMS.get(name):
            raise err("ParameterVersionNotFound", "Systems Manager could not find version %s of %s. Verify the "
                      "version and try again." % (version, name))
        raise err("ParameterNotFound", "")
    return {"Parameter": _out(name, v, ctx, req.get("WithDecryption", False), version)}


@json_target("ssm", "AmazonSSM.GetParameters")
def get_parameters(req, ctx):
    names = req.get("Names")
    if not isinstance(names, list) or not names:
        raise err("ValidationException", "1 validation error detected: Value null at 'names' failed to satisfy "
                  "constraint: Member must not be null")
    if len(names) > 10:
        raise err("ValidationException", "1 validation error detected: Value '[%s]' at 'names' failed to satisfy "
                  "constraint: Member must have length less than or equal to 10" % ", ".join(names))
    out, invalid = [], []
    for sel in names:
        name, v, version = _get(sel)
        if v is None:
            invalid.append(sel)
        else:
            out.append(_out(name, v, ctx, req.get("WithDecryption", False), version))
    return {"Parameters": out, "InvalidParameters": invalid}


def _page(items, req, maxn, default):
    mr = req.get("MaxResults", default)
    if not isinstance(mr, int) or mr < 1:
        raise err("ValidationException", "1 validation error detected: Value '%s' at 'maxResults' failed to satisfy "
                  "constraint: Member must have value greater than or equal to 1" % mr)
    if mr > maxn:
        raise err("ValidationException", "1 validation error detected: Value '%d' at 'maxResults' failed to satisfy "
                  "constraint: Member must have value less than or equal to %d" % (mr, maxn))
    start = 0
    tok = req.get("NextToken")
    if tok:
        try:
            start = int(base64.b64decode(tok).decode().split(":", 1)[1])
        except (ValueError, IndexError, UnicodeDecodeError):
            raise err("ValidationException", "The specified token is not valid.")
    page = items[start:start + mr]
    nxt = base64.b64encode(("ssm:%d" % (start + mr)).encode()).decode() if len(items) > start + mr else None
    return page, nxt


@json_target("ssm", "AmazonSSM.GetParametersByPath")
def get_parameters_by_path(req, ctx):
    path = req.get("Path")
    if not isinstance(path, str) or not path:
        raise err("ValidationException", "1 validation error detected: Value null at 'path' failed to satisfy "
                  "constraint: Member must not be null")
    if not path.startswith("/"):
        raise err("ValidationException", "The parameter doesn't meet the parameter name requirements. The parameter "
                  "name must begin with a forward slash \"/\".")
    if path.count("/") > 15:
        raise err("ValidationException", "The parameter hierarchy depth exceeds the maximum of 15 levels.")
    prefix = path if path.endswith("/") else path + "/"
    rec = req.get("Recursive", False)
    with LOCK:
        names = sorted(n for n in PARAMS if n.startswith(prefix) and (rec or "/" not in n[len(prefix):]))
        items = [(n, PARAMS[n][-1]) for n in names]
    page, nxt = _page(items, req, 10, 10)
    out = {"Parameters": [_out(n, v, ctx, req.get("WithDecryption", False)) for n, v in page]}
    if nxt:
        out["NextToken"] = nxt
    return out


@json_target("ssm", "AmazonSSM.DeleteParameter")
def delete_parameter(req, ctx):
    name = req.get("Name")
    check_name(name)
    with LOCK:
        if name not in PARAMS:
            raise err("ParameterNotFound", "Parameter %s not found." % name)
        del PARAMS[name]
    return {}


@json_target("ssm", "AmazonSSM.DeleteParameters")
def delete_parameters(req, ctx):
    names = req.get("Names")
    if not isinstance(names, list) or not names:
        raise err("ValidationException", "1 validation error detected: Value null at 'names' failed to satisfy "
                  "constraint: Member must not be null")
    if len(names) > 10:
        raise err("ValidationException", "1 validation error detected: Value '[%s]' at 'names' failed to satisfy "
                  "constraint: Member must have length less than or equal to 10" % ", ".join(names))
    deleted, invalid = [], []
    with LOCK:
        for n in names:
            if n in PARAMS:
                del PARAMS[n]
                deleted.append(n)
            else:
                invalid.append(n)
    return {"DeletedParameters": deleted, "InvalidParameters": invalid}


def _meta(name, v, ctx):
    d = {"Name": name, "ARN": _arn(name, ctx), "Type": v["Type"], "LastModifiedDate": v["LastModifiedDate"],
         "LastModifiedUser": v.get("LastModifiedUser"), "Version": v["Version"], "Tier": v.get("Tier", "Standard"),
         "Policies": [], "DataType": v.get("DataType", "text")}
    if v.get("KeyId"):
        d["KeyId"] = v["KeyId"]
    if v.get("Description"):
        d["Description"] = v["Description"]
    return d


@json_target("ssm", "AmazonSSM.DescribeParameters")
def describe_parameters(req, ctx):
    with LOCK:
        items = sorted(PARAMS.items())
    for f in req.get("ParameterFilters") or []:
        key, opt, vals = f.get("Key"), f.get("Option", "Equals"), f.get("Values") or []
        if key == "Name":
            if opt == "BeginsWith":
                items = [(n, h) for n, h in items if any(n.startswith(x) for x in vals)]
            else:
                items = [(n, h) for n, h in items if n in vals]
        elif key == "Path":
            rec = opt == "Recursive"
            pre = [(x if x.endswith("/") else x + "/") for x in vals]
            items = [(n, h) for n, h in items if any(n.startswith(p) and (rec or "/" not in n[len(p):]) for p in pre)]
        elif key == "Type":
            items = [(n, h) for n, h in items if h[-1]["Type"] in vals]
        else:
            raise err("InvalidFilterKey", "")
    page, nxt = _page(items, req, 50, 50)
    out = {"Parameters": [_meta(n, h[-1], ctx) for n, h in page]}
    if nxt:
        out["NextToken"] = nxt
    return out


@json_target("ssm", "AmazonSSM.GetParameterHistory")
def get_parameter_history(req, ctx):
    name = req.get("Name")
    check_name(name)
    with LOCK:
        hist = list(PARAMS.get(name) or [])
    if not hist:
        raise err("ParameterNotFound", "")
    page, nxt = _page(hist, req, 50, 50)
    out = {"Parameters": [dict(_meta(name, v, ctx), Value=_out(name, v, ctx, req.get("WithDecryption", False))["Value"],
                               Labels=[]) for v in page]}
    if nxt:
        out["NextToken"] = nxt
    return out


def request_names(req):
    """The parameter names a request is about (for the calls log; never values)."""
    if not isinstance(req, dict):
        return None
    if isinstance(req.get("Name"), str):
        return [req["Name"]]
    if isinstance(req.get("Names"), list):
        return [n for n in req["Names"] if isinstance(n, str)]
    if isinstance(req.get("Path"), str):
        return [req["Path"]]
    return None


@admin_route
def admin_ssm(method, path, params, spec):
    if path != "/__admin/ssm":
        return None
    if method == "GET":
        with LOCK:
            return 200, {"parameters": [{"Name": n, "Type": h[-1]["Type"], "Version": h[-1]["Version"]}
                                        for n, h in sorted(PARAMS.items())]}
    if method == "POST":
        for s in (spec if isinstance(spec, list) else [spec]):
            try:
                put_parameter({"Name": s.get("Name"), "Value": s.get("Value"), "Type": s.get("Type", "String"),
                               "Overwrite": True}, None)
            except AwsError as e:
                raise ValueError("%s: %s" % (e.code, e.message))
        return 200, {"ok": True}
    if method == "DELETE":
        with LOCK:
            PARAMS.clear()
        return 200, {"ok": True}
    return None


@admin_reset
def reset_ssm(spec):
    if spec.get("ssm", False):
        with LOCK:
            PARAMS.clear()
