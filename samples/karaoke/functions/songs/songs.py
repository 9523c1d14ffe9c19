"""Songs service: the catalogue (SYNTH_SONGS_NAME, set by linking), with the
byArtist index (artist, title).

handler  the HTTP API (payload 2.0, JWT-authorized): GET /songs (?artist=
         queries the index), POST /songs, GET/PUT/DELETE /songs/{id}

boto3 is imported on first use (the unit tests stub it).
"""
import base64
import datetime
import decimal
import json
import os
import uuid

_aws = {}
FIELDS = ("title", "artist", "genre", "duration_s", "key")
REQUIRED = ("title", "artist")


def _boto3():
    import boto3
    return boto3


def _table():
    if "table" not in _aws:
        _aws["table"] = _boto3().resource("dynamodb").Table(os.environ["SYNTH_SONGS_NAME"])
    return _aws["table"]


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


def _fields(body, partial):
    """(song fields, error message)."""
    if body is None:
        return None, "the body must be a JSON object"
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        return None, "unknown fields: " + ", ".join(unknown)
    out = {k: body[k] for k in FIELDS if k in body}
    missing = [k for k in REQUIRED if not partial and not out.get(k)]
    if missing:
        return None, "required: " + ", ".join(missing)
    for k in REQUIRED:
        if k in out and (not isinstance(out[k], str) or not out[k].strip()):
            return None, k + " must be a non-empty string"
    if "duration_s" in out:
        d = out["duration_s"]
        if not isinstance(d, int) or isinstance(d, bool) or d <= 0:
            return None, "duration_s must be a positive integer"
    if not out:
        return None, "nothing to change"
    return out, None


def _all(table, method, **kw):
    items, start = [], None
    while True:
        page = getattr(table, method)(**kw, **({"ExclusiveStartKey": start} if start else {}))
        items.extend(page.get("Items", []))
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


def handler(event, context):
    route = event.get("routeKey", "")
    song_id = (event.get("pathParameters") or {}).get("id")
    table = _table()
    if route == "GET /songs":
        artist = (event.get("queryStringParameters") or {}).get("artist")
        if artist:
            songs = _all(table, "query", IndexName="byArtist",
                         KeyConditionExpression="artist = :a",
                         ExpressionAttributeValues={":a": artist})
        else:
            songs = sorted(_all(table, "scan"), key=lambda s: (s.get("artist", ""), s.get("title", "")))
        return _response(200, {"songs": songs})
    if route == "POST /songs":
        fields, err = _fields(_body(event), partial=False)
        if err:
            return _response(400, {"message": err})
        now = _now()
        item = dict(fields, id=str(uuid.uuid4()), created_at=now, updated_at=now)
        table.put_item(Item=item, ConditionExpression="attribute_not_exists(id)")
        return _response(201, item)
    if route == "GET /songs/{id}":
        item = table.get_item(Key={"id": song_id}).get("Item")
        return _response(200, item) if item else _response(404, {"message": "no song " + song_id})
    if route == "PUT /songs/{id}":
        fields, err = _fields(_body(event), partial=True)
        if err:
            return _response(400, {"message": err})
        names, values, sets = {"#u": "updated_at"}, {":u": _now()}, ["#u = :u"]
        for i, (k, v) in enumerate(sorted(fields.items())):
            names["#f%d" % i], values[":f%d" % i] = k, v
            sets.append("#f%d = :f%d" % (i, i))
        try:
            out = table.update_item(Key={"id": song_id}, UpdateExpression="SET " + ", ".join(sets),
                                    ConditionExpression="attribute_exists(id)",
                                    ExpressionAttributeNames=names,
                                    ExpressionAttributeValues=values, ReturnValues="ALL_NEW")
        except Exception as e:
            if _error_code(e) == "ConditionalCheckFailedException":
                return _response(404, {"message": "no song " + song_id})
            raise
        return _response(200, out.get("Attributes"))
    if route == "DELETE /songs/{id}":
        try:
            table.delete_item(Key={"id": song_id}, ConditionExpression="attribute_exists(id)")
        except Exception as e:
            if _error_code(e) == "ConditionalCheckFailedException":
                return _response(404, {"message": "no song " + song_id})
            raise
        return _response(204)
    return _response(404, {"message": "no route " + route})
