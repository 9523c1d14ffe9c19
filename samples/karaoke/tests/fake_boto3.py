"""A stub of boto3 for the handlers' unit tests: no network, no moto.

install() puts it in sys.modules["boto3"] and returns it. It knows what the
handlers use:
  resource("dynamodb").Table(name): get_item, put_item, update_item,
    delete_item, scan and query (pages of PAGE items, so the handlers'
    pagination runs), with the expression subset the handlers write:
    conditions "attribute_exists(a)", "attribute_not_exists(a)", "a = :v"
    joined by AND; updates "SET a = :v, b = list_append(if_not_exists(b,
    :e), :v)"; key conditions "k = :v". #names and :values resolved.
  client("sqs").send_message, client("sns").publish,
  client("events").put_events: recorded in .sent, .published, .events.
A failed condition raises ClientError with Code ConditionalCheckFailedException,
as botocore does. Tables are declared by the test: define_table(name, hash,
range=None, indexes={name: (hash, range)}).
"""
import copy
import itertools
import re
import sys
import types

PAGE = 2


class ClientError(Exception):
    def __init__(self, code, message=""):
        super().__init__("%s: %s" % (code, message))
        self.response = {"Error": {"Code": code, "Message": message}}


def _split_top(text, sep):
    parts, depth, cur = [], 0, ""
    i = 0
    while i < len(text):
        c = text[i]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        if depth == 0 and text.startswith(sep, i):
            parts.append(cur.strip())
            cur = ""
            i += len(sep)
            continue
        cur += c
        i += 1
    parts.append(cur.strip())
    return parts


class Table:
    def __init__(self, name, hash_key, range_key=None, indexes=None):
        self.name, self.hash_key, self.range_key = name, hash_key, range_key
        self.indexes = indexes or {}
        self.items = {}
        self.calls = []

    # keys and expressions
    def _key(self, item):
        return (item[self.hash_key], item.get(self.range_key) if self.range_key else None)

    def _check_key(self, key):
        want = {self.hash_key} | ({self.range_key} if self.range_key else set())
        if set(key) != want:
            raise ClientError("ValidationException", "the key must be exactly %s" % sorted(want))

    @staticmethod
    def _name(tok, names):
        tok = tok.strip()
        return (names or {})[tok] if tok.startswith("#") else tok

    def _value(self, tok, item, names, values):
        tok = tok.strip()
        if tok.startswith(":"):
            return copy.deepcopy(values[tok])
        m = re.fullmatch(r"if_not_exists\((.+),(.+)\)", tok)
        if m:
            n = self._name(m.group(1), names)
            return copy.deepcopy(item[n]) if n in item else self._value(m.group(2), item, names, values)
        m = re.fullmatch(r"list_append\((.+)\)", tok)
        if m:
            a, b = _split_top(m.group(1), ",")
            return self._value(a, item, names, values) + self._value(b, item, names, values)
        n = self._name(tok, names)
        return item.get(n)

    def _cond(self, expr, item, names, values):
        if not expr:
            return True
        for term in _split_top(expr, " AND "):
            m = re.fullmatch(r"attribute_(not_)?exists\((.+)\)", term)
            if m:
                present = item is not None and self._name(m.group(2), names) in item
                if present == bool(m.group(1)):
                    return False
                continue
            m = re.fullmatch(r"(\S+)\s*=\s*(:\w+)", term)
            if not m:
                raise NotImplementedError("condition " + term)
            if item is None or item.get(self._name(m.group(1), names)) != values[m.group(2)]:
                return False
        return True

    def _fail_unless(self, kw, item):
        if not self._cond(kw.get("ConditionExpression"), item,
                          kw.get("ExpressionAttributeNames"), kw.get("ExpressionAttributeValues")):
            raise ClientError("ConditionalCheckFailedException", "The conditional request failed")

    # the Table API
    def get_item(self, Key, **kw):
        self.calls.append(("get_item", Key))
        self._check_key(Key)
        item = self.items.get(self._key(Key))
        return {"Item": copy.deepcopy(item)} if item is not None else {}

    def put_item(self, Item, **kw):
        self.calls.append(("put_item", Item))
        self._fail_unless(kw, self.items.get(self._key(Item)))
        self.items[self._key(Item)] = copy.deepcopy(Item)
        return {}

    def update_item(self, Key, UpdateExpression, **kw):
        self.calls.append(("update_item", Key, UpdateExpression))
        self._check_key(Key)
        old = self.items.get(self._key(Key))
        self._fail_unless(kw, old)
        item = copy.deepcopy(old) if old is not None else copy.deepcopy(Key)
        if not UpdateExpression.startswith("SET "):
            raise NotImplementedError(UpdateExpression)
        names, values = kw.get("ExpressionAttributeNames"), kw.get("ExpressionAttributeValues")
        new = {}
        for assign in _split_top(UpdateExpression[4:], ","):
            lhs, rhs = assign.split("=", 1)
            new[self._name(lhs, names)] = self._value(rhs, item, names, values)
        item.update(new)
        self.items[self._key(Key)] = item
        return {"Attributes": copy.deepcopy(item)} if kw.get("ReturnValues") == "ALL_NEW" else {}

    def delete_item(self, Key, **kw):
        self.calls.append(("delete_item", Key))
        self._check_key(Key)
        self._fail_unless(kw, self.items.get(self._key(Key)))
        self.items.pop(self._key(Key), None)
        return {}

    def _page(self, items, kw, key_attrs):
        items = list(items)
        start = kw.get("ExclusiveStartKey")
        if start:
            ks = [i for i, it in enumerate(items) if all(it.get(k) == start.get(k) for k in key_attrs)]
            items = items[ks[0] + 1:] if ks else []
        out = {"Items": copy.deepcopy(items[:PAGE]), "Count": min(len(items), PAGE)}
        if len(items) > PAGE:
            out["LastEvaluatedKey"] = {k: items[PAGE - 1][k] for k in key_attrs if k in items[PAGE - 1]}
        return out

    def _table_keys(self):
        return [self.hash_key] + ([self.range_key] if self.range_key else [])

    def scan(self, **kw):
        self.calls.append(("scan", kw))
        items = sorted(self.items.values(), key=lambda it: tuple(str(it.get(k)) for k in self._table_keys()))
        return self._page(items, kw, self._table_keys())

    def query(self, KeyConditionExpression, **kw):
        self.calls.append(("query", KeyConditionExpression, kw))
        if kw.get("IndexName"):
            if kw["IndexName"] not in self.indexes:
                raise ClientError("ValidationException", "no index " + kw["IndexName"])
            hk, rk = self.indexes[kw["IndexName"]]
        else:
            hk, rk = self.hash_key, self.range_key
        m = re.fullmatch(r"(\S+)\s*=\s*(:\w+)", KeyConditionExpression.strip())
        if not m or self._name(m.group(1), kw.get("ExpressionAttributeNames")) != hk:
            raise ClientError("ValidationException", "key condition must be on " + hk)
        v = kw["ExpressionAttributeValues"][m.group(2)]
        items = [it for it in self.items.values() if it.get(hk) == v]
        items.sort(key=lambda it: str(it.get(rk, "")), reverse=not kw.get("ScanIndexForward", True))
        keys = [hk] + ([rk] if rk else []) + [k for k in self._table_keys() if k not in (hk, rk)]
        return self._page(items, kw, keys)


class Dynamo:
    def __init__(self, stub):
        self.stub = stub

    def Table(self, name):
        if name not in self.stub.tables:
            raise ClientError("ResourceNotFoundException", "no table " + name)
        return self.stub.tables[name]


class Client:
    def __init__(self, stub, service):
        self.stub, self.service = stub, service

    def send_message(self, QueueUrl, MessageBody, **kw):
        mid = "msg-%d" % next(self.stub.ids)
        self.stub.sent.append({"QueueUrl": QueueUrl, "MessageBody": MessageBody, "MessageId": mid, **kw})
        return {"MessageId": mid}

    def publish(self, TopicArn, Message, **kw):
        self.stub.published.append({"TopicArn": TopicArn, "Message": Message, **kw})
        return {"MessageId": "sns-%d" % next(self.stub.ids)}

    def put_events(self, Entries):
        if self.stub.fail_events:
            return {"FailedEntryCount": len(Entries),
                    "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "stub failure"}
                                for _ in Entries]}
        out = []
        for e in Entries:
            eid = "evt-%d" % next(self.stub.ids)
            self.stub.events.append(dict(e, EventId=eid))
            out.append({"EventId": eid})
        return {"FailedEntryCount": 0, "Entries": out}


def install():
    """A fresh stub as sys.modules["boto3"] (and its exceptions as botocore's)."""
    stub = types.ModuleType("boto3")
    stub.tables, stub.sent, stub.published, stub.events = {}, [], [], []
    stub.fail_events = False
    stub.ids = itertools.count(1)
    stub.clients = []
    stub.define_table = lambda name, hash_key, range_key=None, indexes=None: \
        stub.tables.setdefault(name, Table(name, hash_key, range_key, indexes))
    stub.resource = lambda service, **kw: Dynamo(stub) if service == "dynamodb" else None

    def client(service, **kw):
        if service not in ("sqs", "sns", "events"):
            raise NotImplementedError("client " + service)
        stub.clients.append(service)
        return Client(stub, service)
    stub.client = client
    sys.modules["boto3"] = stub
    return stub
