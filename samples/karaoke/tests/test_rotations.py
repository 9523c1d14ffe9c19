import json
import time
import unittest

from support import StubTestCase, api_event, body, load


def sqs_event(messages):
    return {"Records": [{"messageId": m["MessageId"], "body": m["MessageBody"],
                         "eventSource": "aws:sqs"} for m in messages]}


def bus_event(entry):
    return {"id": entry["EventId"], "source": entry["Source"], "detail-type": entry["DetailType"],
            "detail": json.loads(entry["Detail"])}


class Rotations(StubTestCase):
    def setUp(self):
        super().setUp()
        self.m = load("rotations")
        r = self.m.handler(api_event("POST /rotations", body={"name": "Friday at the Blue Moon"}), None)
        self.assertEqual(r["statusCode"], 201)
        self.rot = body(r)
        self.rid = self.rot["id"]

    def item(self):
        return self.table("rotations").items[(self.rid, None)]

    def sign_up(self, singer, song="song-1"):
        return self.m.handler(api_event("POST /rotations/{id}/singers", {"id": self.rid},
                                        {"song_id": song}, sub=singer), None)

    def signups(self):
        out = self.m.process_signups(sqs_event(self.aws.sent), None)
        self.aws.sent.clear()
        return out

    def test_create_sets_open_empty_and_a_week_of_ttl(self):
        self.assertEqual((self.rot["status"], self.rot["singers"]), ("open", []))
        self.assertAlmostEqual(self.rot["expires_at"], time.time() + 7 * 86400, delta=60)
        self.assertEqual(self.m.handler(api_event("POST /rotations", body={}), None)["statusCode"], 400)

    def test_get_list_delete(self):
        self.m.handler(api_event("POST /rotations", body={"name": "Saturday"}), None)
        self.m.handler(api_event("POST /rotations", body={"name": "Sunday"}), None)
        self.assertEqual(len(body(self.m.handler(api_event("GET /rotations"), None))["rotations"]), 3)
        self.assertEqual(body(self.m.handler(api_event("GET /rotations/{id}", {"id": self.rid}), None))["name"],
                         "Friday at the Blue Moon")
        self.assertEqual(self.m.handler(api_event("DELETE /rotations/{id}", {"id": self.rid}), None)["statusCode"], 204)
        self.assertEqual(self.m.handler(api_event("GET /rotations/{id}", {"id": self.rid}), None)["statusCode"], 404)

    def test_sign_up_only_queues_then_the_worker_adds(self):
        r = self.sign_up("ada")
        self.assertEqual(r["statusCode"], 202)
        self.assertEqual(self.item()["singers"], [])
        self.assertEqual(len(self.aws.sent), 1)
        self.assertEqual(self.aws.sent[0]["QueueUrl"], "https://sqs.us-east-1.amazonaws.com/123456789012/signups")
        msg = json.loads(self.aws.sent[0]["MessageBody"])
        self.assertEqual((msg["rotation_id"], msg["singer_id"], msg["song_id"]), (self.rid, "ada", "song-1"))
        self.assertEqual(self.signups(), {"batchItemFailures": []})
        self.assertEqual(self.item()["singers"], [{"singer_id": "ada", "song_id": "song-1"}])

    def test_sign_up_refusals(self):
        self.assertEqual(self.m.handler(api_event("POST /rotations/{id}/singers", {"id": "nope"},
                                                  {"song_id": "s"}), None)["statusCode"], 404)
        self.assertEqual(self.m.handler(api_event("POST /rotations/{id}/singers", {"id": self.rid},
                                                  {}), None)["statusCode"], 400)
        self.item()["status"] = "closed"
        self.assertEqual(self.sign_up("ada")["statusCode"], 409)
        self.assertEqual(self.aws.sent, [])

    def test_worker_order_duplicates_and_malformed(self):
        for s in ("ada", "bo", "ada", "cy"):
            self.sign_up(s)
        self.aws.sent.append({"MessageId": "bad", "MessageBody": "{not json"})
        self.assertEqual(self.signups(), {"batchItemFailures": []})
        self.assertEqual([s["singer_id"] for s in self.item()["singers"]], ["ada", "bo", "cy"])

    def test_worker_reports_only_the_failed_messages(self):
        self.sign_up("ada")
        self.sign_up("bo")
        table = self.table("rotations")
        real = table.update_item
        calls = []

        def flaky(**kw):
            calls.append(1)
            if len(calls) == 2:
                raise RuntimeError("throttled")
            return real(**kw)
        table.update_item = flaky
        out = self.m.process_signups(sqs_event(self.aws.sent), None)
        self.assertEqual(out, {"batchItemFailures": [{"itemIdentifier": self.aws.sent[1]["MessageId"]}]})
        self.assertEqual([s["singer_id"] for s in self.item()["singers"]], ["ada"])

    def test_worker_retries_when_the_rotation_changed_meanwhile(self):
        self.sign_up("ada")
        table = self.table("rotations")
        real_get = table.get_item

        def stale_get(**kw):
            out = real_get(**kw)
            self.item()["updated_at"] = "changed"
            return out
        table.get_item = stale_get
        out = self.m.process_signups(sqs_event(self.aws.sent), None)
        self.assertEqual(len(out["batchItemFailures"]), 1)

    def test_complete_puts_the_event_on_the_linked_bus(self):
        self.assertEqual(self.m.handler(api_event("POST /rotations/{id}/complete", {"id": self.rid}),
                                        None)["statusCode"], 409)
        self.sign_up("ada", "waterloo")
        self.signups()
        r = self.m.handler(api_event("POST /rotations/{id}/complete", {"id": self.rid}), None)
        self.assertEqual(r["statusCode"], 202)
        e = self.aws.events[0]
        self.assertEqual((e["Source"], e["DetailType"], e["EventBusName"]),
                         ("karaoke.rotations", "Performance Completed", "stack-karaoke"))
        d = json.loads(e["Detail"])
        self.assertEqual((d["rotation_id"], d["singer_id"], d["song_id"]), (self.rid, "ada", "waterloo"))

    def test_complete_reports_a_refused_event(self):
        self.sign_up("ada")
        self.signups()
        self.aws.fail_events = True
        self.assertEqual(self.m.handler(api_event("POST /rotations/{id}/complete", {"id": self.rid}),
                                        None)["statusCode"], 502)

    def test_performance_completed_advances_and_notifies_the_next_two(self):
        for s in ("ada", "bo", "cy"):
            self.sign_up(s)
        self.signups()
        self.m.handler(api_event("POST /rotations/{id}/complete", {"id": self.rid}), None)
        ev = bus_event(self.aws.events[0])
        out = self.m.on_performance_completed(ev, None)
        self.assertEqual(out, {"advanced": True, "notified": ["bo", "cy"]})
        self.assertEqual([s["singer_id"] for s in self.item()["singers"]], ["bo", "cy", "ada"])
        kinds = {p["MessageAttributes"]["kind"]["StringValue"] for p in self.aws.published}
        self.assertEqual(kinds, {"turn-near"})
        self.assertEqual(self.aws.published[0]["TopicArn"], "arn:aws:sns:us-east-1:123456789012:notify")
        # EventBridge delivers at least once: the same event again changes nothing.
        self.assertEqual(self.m.on_performance_completed(ev, None), {"advanced": False})
        self.assertEqual([s["singer_id"] for s in self.item()["singers"]], ["bo", "cy", "ada"])
        self.assertEqual(len(self.aws.published), 2)

    def test_alone_in_the_rotation_no_notification(self):
        self.sign_up("ada")
        self.signups()
        self.m.handler(api_event("POST /rotations/{id}/complete", {"id": self.rid}), None)
        self.assertEqual(self.m.on_performance_completed(bus_event(self.aws.events[0]), None),
                         {"advanced": True, "notified": []})

    def test_cleanup_closes_only_idle_open_rotations(self):
        now = time.time()
        t = self.table("rotations")
        t.items[("old", None)] = {"id": "old", "status": "open", "updated_at": "2020-01-01T00:00:00.000+00:00"}
        t.items[("done", None)] = {"id": "done", "status": "closed", "updated_at": "2020-01-01T00:00:00.000+00:00"}
        self.assertEqual(self.m.cleanup_stale({}, None, now=now), {"closed": 1})
        self.assertEqual(t.items[("old", None)]["status"], "closed")
        self.assertEqual(t.items[("old", None)]["expires_at"], int(now) + 86400)
        self.assertEqual(self.item()["status"], "open")  # created just now
        self.assertEqual(self.m.cleanup_stale({}, None, now=now + 2 * 86400), {"closed": 1})
        self.assertEqual(self.item()["status"], "closed")


if __name__ == "__main__":
    unittest.main()
