"""Loads a service's handler module from functions/<service>/ with the boto3
stub installed and the environment linking sets."""
import importlib.util
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
FUNCTIONS = os.path.join(os.path.dirname(HERE), "functions")
sys.path.insert(0, HERE)
import fake_boto3  # noqa: E402

ENV = {
    "SYNTH_SINGERS_NAME": "singers-table",
    "SYNTH_SONGS_NAME": "songs-table",
    "SYNTH_ROTATIONS_NAME": "rotations-table",
    "SYNTH_PERFORMANCES_NAME": "performances-table",
    "SYNTH_ROTATION_SIGNUPS_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/signups",
    "SYNTH_KARAOKE_NAME": "stack-karaoke",
    "SYNTH_SINGER_NOTIFICATIONS_ARN": "arn:aws:sns:us-east-1:123456789012:notify",
}


def load(service):
    path = os.path.join(FUNCTIONS, service, service + ".py")
    spec = importlib.util.spec_from_file_location("karaoke_" + service, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def api_event(route, path=None, body=None, sub="singer-1", query=None):
    e = {"version": "2.0", "routeKey": route, "pathParameters": path or {},
         "requestContext": {"authorizer": {"jwt": {"claims": {"sub": sub}}}}}
    if body is not None:
        e["body"] = body if isinstance(body, str) else json.dumps(body)
    if query:
        e["queryStringParameters"] = query
    return e


def body(resp):
    return json.loads(resp["body"]) if "body" in resp else None


class StubTestCase(unittest.TestCase):
    """Each test: a fresh stub, the linked environment, fresh modules."""

    def setUp(self):
        self._env = {k: os.environ.get(k) for k in ENV}
        os.environ.update(ENV)
        self._boto3 = sys.modules.get("boto3")
        self.aws = fake_boto3.install()
        self.aws.define_table("singers-table", "id")
        self.aws.define_table("songs-table", "id", indexes={"byArtist": ("artist", "title")})
        self.aws.define_table("rotations-table", "id")
        self.aws.define_table("performances-table", "singer_id", "performed_at",
                              indexes={"byRotation": ("rotation_id", "performed_at")})

    def tearDown(self):
        for k, v in self._env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        if self._boto3 is None:
            sys.modules.pop("boto3", None)
        else:
            sys.modules["boto3"] = self._boto3

    def table(self, name):
        return self.aws.tables[name + "-table"]
