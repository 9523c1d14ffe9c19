import unittest

from support import StubTestCase, api_event, body, load


def confirm(sub="sub-1", email="ada@example.com", source="PostConfirmation_ConfirmSignUp"):
    return {"triggerSource": source, "userPoolId": "us-east-1_x", "userName": sub,
            "request": {"userAttributes": {"sub": sub, "email": email}}, "response": {}}


class PostConfirmation(StubTestCase):
    def setUp(self):
        super().setUp()
        self.m = load("singers")

    def test_creates_the_singer_with_the_sub_and_returns_the_event(self):
        ev = confirm()
        self.assertIs(self.m.post_confirmation(ev, None), ev)
        item = self.table("singers").items[("sub-1", None)]
        self.assertEqual(item["id"], "sub-1")
        self.assertEqual(item["email"], "ada@example.com")
        self.assertEqual(item["name"], "ada")

    def test_welcomes_on_the_linked_topic(self):
        self.m.post_confirmation(confirm(), None)
        self.assertEqual(len(self.aws.published), 1)
        p = self.aws.published[0]
        self.assertEqual(p["TopicArn"], "arn:aws:sns:us-east-1:123456789012:notify")
        self.assertEqual(p["MessageAttributes"]["kind"]["StringValue"], "welcome")
        self.assertEqual(p["MessageAttributes"]["singer_id"]["StringValue"], "sub-1")

    def test_a_retried_trigger_keeps_the_singer_and_welcomes_once(self):
        self.m.post_confirmation(confirm(), None)
        self.table("singers").items[("sub-1", None)]["name"] = "Ada L."
        self.m.post_confirmation(confirm(), None)
        self.assertEqual(self.table("singers").items[("sub-1", None)]["name"], "Ada L.")
        self.assertEqual(len(self.aws.published), 1)

    def test_forgot_password_confirmation_creates_nothing(self):
        self.m.post_confirmation(confirm(source="PostConfirmation_ConfirmForgotPassword"), None)
        self.assertEqual(self.table("singers").items, {})
        self.assertEqual(self.aws.published, [])


class Api(StubTestCase):
    def setUp(self):
        super().setUp()
        self.m = load("singers")
        for i, name in enumerate(["Cy", "Ada", "Bo"]):
            self.table("singers").items[("s%d" % i, None)] = {"id": "s%d" % i, "name": name,
                                                              "updated_at": "x"}

    def test_list_reads_every_page_sorted_by_name(self):
        r = self.m.handler(api_event("GET /singers"), None)
        self.assertEqual(r["statusCode"], 200)
        self.assertEqual([s["name"] for s in body(r)["singers"]], ["Ada", "Bo", "Cy"])
        self.assertGreater(sum(1 for c in self.table("singers").calls if c[0] == "scan"), 1)

    def test_get_and_404(self):
        self.assertEqual(body(self.m.handler(api_event("GET /singers/{id}", {"id": "s1"}), None))["name"], "Ada")
        self.assertEqual(self.m.handler(api_event("GET /singers/{id}", {"id": "nope"}), None)["statusCode"], 404)

    def test_put_changes_editable_fields_of_oneself(self):
        r = self.m.handler(api_event("PUT /singers/{id}", {"id": "s1"}, {"stage_name": "The Countess"},
                                     sub="s1"), None)
        self.assertEqual(r["statusCode"], 200)
        self.assertEqual(body(r)["stage_name"], "The Countess")
        self.assertNotEqual(self.table("singers").items[("s1", None)]["updated_at"], "x")

    def test_put_refuses_others_unknown_fields_bad_json_and_missing_singers(self):
        ev = api_event("PUT /singers/{id}", {"id": "s1"}, {"name": "x"}, sub="s2")
        self.assertEqual(self.m.handler(ev, None)["statusCode"], 403)
        ev = api_event("PUT /singers/{id}", {"id": "s1"}, {"email": "x"}, sub="s1")
        self.assertEqual(self.m.handler(ev, None)["statusCode"], 400)
        ev = api_event("PUT /singers/{id}", {"id": "s1"}, "{not json", sub="s1")
        self.assertEqual(self.m.handler(ev, None)["statusCode"], 400)
        ev = api_event("PUT /singers/{id}", {"id": "ghost"}, {"name": "x"}, sub="ghost")
        self.assertEqual(self.m.handler(ev, None)["statusCode"], 404)
        self.assertNotIn(("ghost", None), self.table("singers").items)

    def test_delete_oneself_only(self):
        self.assertEqual(self.m.handler(api_event("DELETE /singers/{id}", {"id": "s1"}, sub="s0"),
                                        None)["statusCode"], 403)
        self.assertEqual(self.m.handler(api_event("DELETE /singers/{id}", {"id": "s1"}, sub="s1"),
                                        None)["statusCode"], 204)
        self.assertNotIn(("s1", None), self.table("singers").items)

    def test_the_table_name_comes_from_linking(self):
        self.m.handler(api_event("GET /singers"), None)
        self.assertIs(self.m._table(), self.aws.tables["singers-table"])


if __name__ == "__main__":
    unittest.main()
