import json, urllib.request
import boto3

# libsynth's secret fetcher: SecureString parameters -> CloudFormation
# (NoEcho). It never prints a value.

def fetch(secrets):
    ssm = boto3.client("ssm")
    names = [n for s in secrets for n in (s["Path"], s["SharedPath"])]
    found = {}
    for i in range(0, len(names), 10):
        r = ssm.get_parameters(Names=names[i:i + 10], WithDecryption=True)
        for p in r["Parameters"]:
            found[p["Name"]] = p["Value"]
    data, missing = {}, []
    for s in secrets:
        v = found.get(s["Path"], found.get(s["SharedPath"]))
        if v is None:
            missing.append("%s (%s or %s)" % (s["Name"], s["Path"], s["SharedPath"]))
        else:
            data[s["Name"]] = v
    if missing:
        raise LookupError("secret not set: " + ", ".join(missing) +
                          "; set it with: synth secret set NAME")
    return data

def handler(event, context):
    status, reason, data = "SUCCESS", "ok", {}
    try:
        if event["RequestType"] != "Delete":
            data = fetch(event["ResourceProperties"]["Secrets"])
    except Exception as e:
        status, reason = "FAILED", ("%s: %s" % (type(e).__name__, e))[:1000]
    res = {"Status": status, "Reason": reason, "NoEcho": True, "Data": data,
           "PhysicalResourceId": event.get("PhysicalResourceId") or
           "secrets-" + event["LogicalResourceId"],
           "StackId": event["StackId"], "RequestId": event["RequestId"],
           "LogicalResourceId": event["LogicalResourceId"]}
    body = json.dumps(res).encode()
    if len(body) > 4000:
        res.update(Status="FAILED", Data={}, Reason="the secrets are longer than "
                   "a custom resource response can carry (4 KB)")
        body = json.dumps(res).encode()
    req = urllib.request.Request(event["ResponseURL"], data=body, method="PUT",
                                 headers={"Content-Type": ""})
    urllib.request.urlopen(req, timeout=30).close()
    print("%s: %d secret(s)" % (res["Status"], len(res["Data"])))
