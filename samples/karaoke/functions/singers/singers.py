"""Singers service: the singers table (SYNTH_SINGERS_NAME, set by linking).

handler            the HTTP API (payload 2.0, JWT-authorized routes):
                   GET /singers, GET/PUT/DELETE /singers/{id}; a singer
                   changes or deletes only themself (the token's sub)
post_confirmation  the Cognito post-confirmation trigger: creates the singer
                   with the user's sub as id, then welcomes them on the
                   notifications topic (SYNTH_SINGER_NOTIFICATIONS_ARN)

boto3 comes with the Lambda runtime; it is imported on first use, so the
unit tests can put a stub in sys.modules["boto3"].
"""
import base64
import datetime
import decimal
import json
import os

_aws = {}
EDITABLE = ("name", "stage_name", "favorite_genre")


def _boto3():
    import boto3  # the Lambda runtime's
    return boto3


def _table():
    if "table" not in _aws:
        _aws["table"] = _boto3().resource("dynamodb").Table(os.environ["SYNTH_SINGERS_NAME"])
    return _aws["table"]


def _sns():
    if "sns" not in _aws:
        _aws["sns"] = _boto3().client("sns")
    return _aws["sns"]


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")


def _json_default(v):
    if isinstance(v, decimal.Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, set):
        return sorted(v)
    raise TypeError(repr(v))


def _response(status, body=None):
    r = {"statusCode": status, "headers": {"content-type": "application/json"}}
    if body is not None:
        r["body"] = json.dumps(body, default=_json_default)
    return r


def _error_code(exc):
    return (getattr(exc, "response", None) or {}).get("Error", {}).get("Code")


def _body(event):
    raw = event.get("body") or "{}"
    if event.get("isBase64Encoded"):
        raw = base64.b64decode(raw).decode("utf-8")
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _caller(event):
    claims = (((event.get("requestContext") or {}).get("authorizer") or {}).get("jwt") or {}).get("claims") or {}
    return claims.get("sub")


def _scan_all(table, **kw):
    items, start = [], None
    while True:
        page = table.scan(**kw, **({"ExclusiveStartKey": start} if start else {}))
        items.extend(page.get("Items", []))
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


def handler(event, context):
    route = event.get("routeKey", "")
    sid = (event.get("pathParameters") or {}).get("id")
    table = _table()
    if route == "GET /singers":
        singers = sorted(_scan_all(table), key=lambda s: s.get("name", ""))
        return _response(200, {"singers": singers})
    if route == "GET /singers/{id}":
        item = table.get_item(Key={"id": sid}).get("Item")
        return _response(200, item) if item else _response(404, {"message": "no singer " + sid})
    if route in ("PUT /singers/{id}", "DELETE /singers/{id}") and _caller(event) != sid:
        return _response(403, {"message": "a singer can only change themself"})
    if route == "PUT /singers/{id}":
        body = _body(event)
        if body is None:
            return _response(400, {"message": "the body must be a JSON object"})
        fields = {k: body[k] for k in EDITABLE if k in body}
        unknown = sorted(set(body) - set(EDITABLE))
        if unknown or not fields:
            return _response(400, {"message": "editable fields: " + ", ".join(EDITABLE),
                                   "unknown": unknown})
        names = {"#u": "updated_at"}
        values = {":u": _now()}
        sets = ["#u = :u"]
        for i, (k, v) in enumerate(sorted(fields.items())):
            names["#f%d" % i] = k
            values[":f%d" % i] = v
            sets.append("#f%d = :f%d" % (i, i))
        try:
            out = table.update_item(Key={"id": sid}, UpdateExpression="SET " + ", ".join(sets),
                                    ConditionExpression="attribute_exists(id)",
                                    ExpressionAttributeNames=names,
                                    ExpressionAttributeValues=values, ReturnValues="ALL_NEW")
        except Exception as e:
            if _error_code(e) == "ConditionalCheckFailedException":
                return _response(404, {"message": "no singer " + sid})
            raise
        return _response(200, out.get("Attributes"))
    if route == "DELETE /singers/{id}":
        table.delete_item(Key={"id": sid})
        return _response(204)
    return _response(404, {"message": "no route " + route})


def post_confirmation(event, context):
    """Cognito's post-confirmation trigger: returns the event unchanged."""
    if event.get("triggerSource") != "PostConfirmation_ConfirmSignUp":
        return event  # PostConfirmation_ConfirmForgotPassword: nothing new
    attrs = event["request"]["userAttributes"]
    sub, email = attrs["sub"], attrs.get("email", "")
    now = _now()
    item = {"id": sub, "email": email,
            "name": attrs.get("name") or email.split("@")[0],
            "created_at": now, "updated_at": now}
    try:
        # A retried trigger finds the singer there: keep it as it is.
        _table().put_item(Item=item, ConditionExpression="attribute_not_exists(id)")
        created = True
    except Exception as e:
        if _error_code(e) != "ConditionalCheckFailedException":
            raise
        created = False
    if created:
        _sns().publish(
            TopicArn=os.environ["SYNTH_SINGER_NOTIFICATIONS_ARN"],
            Subject="Welcome to karaoke night",
            Message="Welcome, %s! Pick a song and join a rotation." % item["name"],
            MessageAttributes={"kind": {"DataType": "String", "StringValue": "welcome"},
                               "singer_id": {"DataType": "String", "StringValue": sub}})
    return event
