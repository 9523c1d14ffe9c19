"""Rotations service: the night's order of singers (SYNTH_ROTATIONS_NAME).

An item: {id, name, status "open"|"closed", singers: [{singer_id, song_id}]
(the first one sings now), created_at, updated_at, expires_at (the table's
TTL attribute, epoch seconds)}.

handler                   the HTTP API (JWT-authorized):
                          GET/POST /rotations, GET/DELETE /rotations/{id},
                          POST /rotations/{id}/singers  queues the sign-up on
                            SQS (SYNTH_ROTATION_SIGNUPS_URL) and answers 202
                          POST /rotations/{id}/complete  the current singer
                            is done: "Performance Completed" on the bus
                            (SYNTH_KARAOKE_NAME), 202
process_signups           the queue's consumer: adds each singer to the back
                          of the rotation; returns partial batch failures
on_performance_completed  the bus's event: moves the singer to the back,
                          tells the next two singers their turn is near (SNS)
cleanup_stale             the nightly cron: closes open rotations idle for a
                          day, to expire a day later

boto3 is imported on first use (the unit tests stub it).
"""
import base64
import datetime
import decimal
import json
import os
import time
import uuid

_aws = {}
SOURCE = "karaoke.rotations"
COMPLETED = "Performance Completed"
WEEK_S = 7 * 24 * 3600
DAY_S = 24 * 3600


def _boto3():
    import boto3
    return boto3


def _table():
    if "table" not in _aws:
        _aws["table"] = _boto3().resource("dynamodb").Table(os.environ["SYNTH_ROTATIONS_NAME"])
    return _aws["table"]


def _client(service):
    if service not in _aws:
        _aws[service] = _boto3().client(service)
    return _aws[service]


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")


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


def _scan_all(table):
    items, start = [], None
    while True:
        page = table.scan(**({"ExclusiveStartKey": start} if start else {}))
        items.extend(page.get("Items", []))
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


# --- the API -----------------------------------------------------------------

def handler(event, context):
    route = event.get("routeKey", "")
    rid = (event.get("pathParameters") or {}).get("id")
    table = _table()
    if route == "GET /rotations":
        return _response(200, {"rotations": sorted(_scan_all(table), key=lambda r: r.get("created_at", ""))})
    if route == "POST /rotations":
        body = _body(event)
        name = (body or {}).get("name")
        if not isinstance(name, str) or not name.strip():
            return _response(400, {"message": "name (a non-empty string) is required"})
        now = _now()
        item = {"id": str(uuid.uuid4()), "name": name.strip(), "status": "open", "singers": [],
                "created_at": now, "updated_at": now, "expires_at": int(time.time()) + WEEK_S}
        table.put_item(Item=item, ConditionExpression="attribute_not_exists(id)")
        return _response(201, item)
    if route == "GET /rotations/{id}":
        item = table.get_item(Key={"id": rid}).get("Item")
        return _response(200, item) if item else _response(404, {"message": "no rotation " + rid})
    if route == "DELETE /rotations/{id}":
        table.delete_item(Key={"id": rid})
        return _response(204)
    if route == "POST /rotations/{id}/singers":
        return _sign_up(event, table, rid)
    if route == "POST /rotations/{id}/complete":
        return _complete(table, rid)
    return _response(404, {"message": "no route " + route})


def _sign_up(event, table, rid):
    body = _body(event)
    if body is None:
        return _response(400, {"message": "the body must be a JSON object"})
    singer = _caller(event)
    song = body.get("song_id")
    if not singer:
        return _response(401, {"message": "no singer in the token"})
    if not isinstance(song, str) or not song:
        return _response(400, {"message": "song_id is required"})
    rotation = table.get_item(Key={"id": rid}).get("Item")
    if not rotation:
        return _response(404, {"message": "no rotation " + rid})
    if rotation.get("status") != "open":
        return _response(409, {"message": "rotation %s is closed" % rid})
    # The worker adds the singer: this call returns at once.
    out = _client("sqs").send_message(
        QueueUrl=os.environ["SYNTH_ROTATION_SIGNUPS_URL"],
        MessageBody=json.dumps({"rotation_id": rid, "singer_id": singer, "song_id": song,
                                "requested_at": _now()}))
    return _response(202, {"queued": out.get("MessageId")})


def _complete(table, rid):
    rotation = table.get_item(Key={"id": rid}).get("Item")
    if not rotation:
        return _response(404, {"message": "no rotation " + rid})
    singers = rotation.get("singers") or []
    if not singers:
        return _response(409, {"message": "nobody is singing in rotation " + rid})
    current = singers[0]
    detail = {"rotation_id": rid, "singer_id": current["singer_id"],
              "song_id": current["song_id"], "completed_at": _now()}
    out = _client("events").put_events(Entries=[{
        "Source": SOURCE, "DetailType": COMPLETED, "Detail": json.dumps(detail),
        "EventBusName": os.environ["SYNTH_KARAOKE_NAME"]}])
    if out.get("FailedEntryCount"):
        return _response(502, {"message": "the event was not accepted",
                               "error": out["Entries"][0].get("ErrorMessage")})
    return _response(202, detail)


# --- the sign-up queue's consumer ---------------------------------------------

def process_signups(event, context):
    """SQS batch: returns the messages to retry (ReportBatchItemFailures)."""
    failures = []
    table = _table()
    for record in event.get("Records", []):
        try:
            _add_singer(table, json.loads(record["body"]))
        except (ValueError, KeyError, TypeError) as e:
            # A malformed message never succeeds: drop it, say why.
            print("dropping message %s: %s" % (record.get("messageId"), e))
        except Exception as e:
            print("retrying message %s: %s" % (record.get("messageId"), e))
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


def _add_singer(table, msg):
    rid, singer, song = msg["rotation_id"], msg["singer_id"], msg["song_id"]
    rotation = table.get_item(Key={"id": rid}).get("Item")
    if not rotation or rotation.get("status") != "open":
        print("rotation %s is gone or closed: sign-up of %s dropped" % (rid, singer))
        return
    if any(s.get("singer_id") == singer for s in rotation.get("singers") or []):
        return  # a redelivered message, or a singer signing up twice
    try:
        table.update_item(
            Key={"id": rid},
            UpdateExpression="SET singers = list_append(if_not_exists(singers, :none), :entry), "
                             "updated_at = :now",
            # Another sign-up may have landed since the read: the retry reads again.
            ConditionExpression="#st = :open AND updated_at = :seen",
            ExpressionAttributeNames={"#st": "status"},
            ExpressionAttributeValues={":none": [], ":entry": [{"singer_id": singer, "song_id": song}],
                                       ":now": _now(), ":open": "open",
                                       ":seen": rotation["updated_at"]})
    except Exception as e:
        if _error_code(e) == "ConditionalCheckFailedException":
            raise RuntimeError("rotation %s changed meanwhile" % rid)
        raise


# --- the bus's "Performance Completed" ----------------------------------------

def on_performance_completed(event, context):
    d = event["detail"]
    table = _table()
    rotation = table.get_item(Key={"id": d["rotation_id"]}).get("Item")
    singers = (rotation or {}).get("singers") or []
    if not singers or singers[0].get("singer_id") != d["singer_id"]:
        return {"advanced": False}  # a duplicate delivery, or a stale event
    order = singers[1:] + [dict(singers[0])]
    try:
        table.update_item(
            Key={"id": d["rotation_id"]},
            UpdateExpression="SET singers = :order, updated_at = :now",
            ConditionExpression="updated_at = :seen",
            ExpressionAttributeValues={":order": order, ":now": _now(),
                                       ":seen": rotation["updated_at"]})
    except Exception as e:
        if _error_code(e) == "ConditionalCheckFailedException":
            raise RuntimeError("rotation %s changed meanwhile: EventBridge retries" % d["rotation_id"])
        raise
    notified = []
    for pos, entry in enumerate(order[:2]):
        if entry["singer_id"] == d["singer_id"]:
            continue  # alone in the rotation: they know
        text = "You're up now!" if pos == 0 else "You're next: get ready!"
        _client("sns").publish(
            TopicArn=os.environ["SYNTH_SINGER_NOTIFICATIONS_ARN"],
            Subject="Your turn is near", Message="%s (%s)" % (text, rotation.get("name", "")),
            MessageAttributes={"kind": {"DataType": "String", "StringValue": "turn-near"},
                               "singer_id": {"DataType": "String", "StringValue": entry["singer_id"]}})
        notified.append(entry["singer_id"])
    return {"advanced": True, "notified": notified}


# --- the nightly cron ----------------------------------------------------------

def cleanup_stale(event, context, now=None):
    now = time.time() if now is None else now
    cutoff = datetime.datetime.fromtimestamp(now - DAY_S, datetime.timezone.utc).isoformat(timespec="milliseconds")
    table = _table()
    closed = 0
    for r in _scan_all(table):
        if r.get("status") != "open" or r.get("updated_at", "") >= cutoff:
            continue
        try:
            table.update_item(
                Key={"id": r["id"]},
                UpdateExpression="SET #st = :closed, expires_at = :exp",
                ConditionExpression="updated_at = :seen",
                ExpressionAttributeNames={"#st": "status"},
                ExpressionAttributeValues={":closed": "closed", ":exp": int(now) + DAY_S,
                                           ":seen": r["updated_at"]})
            closed += 1
        except Exception as e:
            if _error_code(e) != "ConditionalCheckFailedException":
                raise  # it was used meanwhile: not stale
    return {"closed": closed}
