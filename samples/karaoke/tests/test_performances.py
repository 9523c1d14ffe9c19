import json
import unittest

from support import StubTestCase, api_event, body, load


def completed(singer, rotation, at, song="s", eid="e1"):
    return {"id": eid, "source": "karaoke.rotations", "detail-type": "Performance Completed",
            "detail": {"rotation_id": rotation, "singer_id": singer, "song_id": song, "completed_at": at}}


class Performances(StubTestCase):
    def setUp(self):
        super().setUp()
        self.m = load("performances")

    def test_logs_once_per_event(self):
        ev = completed("ada", "r1", "2025-01-01T21:00:00.000+00:00")
        self.assertEqual(self.m.on_performance_completed(ev, None), {"logged": True})
        self.assertEqual(self.m.on_performance_completed(ev, None), {"logged": False})
        items = list(self.table("performances").items.values())
        self.assertEqual(len(items), 1)
        self.assertEqual((items[0]["rotation_id"], items[0]["event_id"]), ("r1", "e1"))

    def test_history_of_a_singer_and_of_a_rotation_newest_first(self):
        for i, (singer, rot) in enumerate([("ada", "r1"), ("bo", "r1"), ("ada", "r2"), ("ada", "r1")]):
            self.m.on_performance_completed(completed(singer, rot, "2025-01-01T2%d:00:00.000+00:00" % i,
                                                      eid="e%d" % i), None)
        r = self.m.handler(api_event("GET /singers/{id}/performances", {"id": "ada"}), None)
        self.assertEqual(r["statusCode"], 200)
        self.assertEqual([p["performed_at"][11:13] for p in body(r)["performances"]], ["23", "22", "20"])
        r = self.m.handler(api_event("GET /rotations/{id}/performances", {"id": "r1"}), None)
        self.assertEqual([p["singer_id"] for p in body(r)["performances"]], ["ada", "bo", "ada"])
        q = [c for c in self.table("performances").calls if c[0] == "query"]
        self.assertEqual(q[-1][2]["IndexName"], "byRotation")

    def test_unknown_route(self):
        self.assertEqual(self.m.handler(api_event("GET /performances"), None)["statusCode"], 404)


class Flow(StubTestCase):
    """One night: sign-ups through the queue, a performance completed, both
    services react to the bus's event."""

    def test_a_night(self):
        from support import load as ld
        from test_rotations import bus_event, sqs_event
        rot, perf = ld("rotations"), ld("performances")
        rid = body(rot.handler(api_event("POST /rotations", body={"name": "Friday"}), None))["id"]
        for s in ("ada", "bo"):
            rot.handler(api_event("POST /rotations/{id}/singers", {"id": rid}, {"song_id": "sos"}, sub=s), None)
        self.assertEqual(rot.process_signups(sqs_event(self.aws.sent), None), {"batchItemFailures": []})
        rot.handler(api_event("POST /rotations/{id}/complete", {"id": rid}), None)
        ev = bus_event(self.aws.events[0])
        rot.on_performance_completed(ev, None)
        perf.on_performance_completed(ev, None)
        r = perf.handler(api_event("GET /rotations/{id}/performances", {"id": rid}), None)
        self.assertEqual([p["singer_id"] for p in body(r)["performances"]], ["ada"])
        self.assertEqual([json.loads(json.dumps(s))["singer_id"]
                          for s in self.table("rotations").items[(rid, None)]["singers"]], ["bo", "ada"])
        self.assertEqual([p["MessageAttributes"]["singer_id"]["StringValue"] for p in self.aws.published], ["bo"])


if __name__ == "__main__":
    unittest.main()
