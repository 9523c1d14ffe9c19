"""Performances service: the event log (SYNTH_PERFORMANCES_NAME): key
(singer_id, performed_at), index byRotation (rotation_id, performed_at).

handler                   the HTTP API (JWT-authorized):
                          GET /singers/{id}/performances  a singer's history
                          GET /rotations/{id}/performances  a rotation's
                          newest first
on_performance_completed  the bus's "Performance Completed": logs it, once
                          per event (EventBridge delivers at least once)

boto3 is imported on first use (the unit tests stub it).
"""
import decimal
import json
import os

_aws = {}


def _boto3():
    import boto3
    return boto3


def _table():
    if "table" not in _aws:
        _aws["table"] = _boto3().resource("dynamodb").Table(os.environ["SYNTH_PERFORMANCES_NAME"])
    return _aws["table"]


def _json_default(v):
    if isinstance(v, decimal.Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    raise TypeError(repr(v))


def _response(status, body=None):
    r = {"statusCode": status, "headers": {"content-type": "application/json"}}
    if body is not None:
        r["body"] = json.dumps(body, default=_json_default)
    return r


def _error_code(exc):
    return (getattr(exc, "response", None) or {}).get("Error", {}).get("Code")


def _query_all(table, **kw):
    items, start = [], None
    while True:
        page = table.query(**kw, **({"ExclusiveStartKey": start} if start else {}))
        items.extend(page.get("Items", []))
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


def handler(event, context):
    route = event.get("routeKey", "")
    key = (event.get("pathParameters") or {}).get("id")
    if route == "GET /singers/{id}/performances":
        items = _query_all(_table(), KeyConditionExpression="singer_id = :k",
                           ExpressionAttributeValues={":k": key}, ScanIndexForward=False)
    elif route == "GET /rotations/{id}/performances":
        items = _query_all(_table(), IndexName="byRotation",
                           KeyConditionExpression="rotation_id = :k",
                           ExpressionAttributeValues={":k": key}, ScanIndexForward=False)
    else:
        return _response(404, {"message": "no route " + route})
    return _response(200, {"performances": items})


def on_performance_completed(event, context):
    d = event["detail"]
    item = {"singer_id": d["singer_id"], "performed_at": d["completed_at"],
            "rotation_id": d["rotation_id"], "song_id": d["song_id"],
            "event_id": event.get("id", "")}
    try:
        # The same event delivered twice has the same key: logged once.
        _table().put_item(Item=item, ConditionExpression="attribute_not_exists(singer_id)")
    except Exception as e:
        if _error_code(e) != "ConditionalCheckFailedException":
            raise
        return {"logged": False}
    return {"logged": True}
