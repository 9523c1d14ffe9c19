import unittest

from support import StubTestCase, api_event, body, load


class Songs(StubTestCase):
    def setUp(self):
        super().setUp()
        self.m = load("songs")

    def post(self, song):
        return self.m.handler(api_event("POST /songs", body=song), None)

    def test_create_get_update_delete(self):
        r = self.post({"title": "Dancing Queen", "artist": "ABBA", "duration_s": 231})
        self.assertEqual(r["statusCode"], 201)
        sid = body(r)["id"]
        got = body(self.m.handler(api_event("GET /songs/{id}", {"id": sid}), None))
        self.assertEqual((got["title"], got["artist"], got["duration_s"]), ("Dancing Queen", "ABBA", 231))
        r = self.m.handler(api_event("PUT /songs/{id}", {"id": sid}, {"genre": "disco"}), None)
        self.assertEqual((r["statusCode"], body(r)["genre"], body(r)["title"]), (200, "disco", "Dancing Queen"))
        self.assertEqual(self.m.handler(api_event("DELETE /songs/{id}", {"id": sid}), None)["statusCode"], 204)
        self.assertEqual(self.m.handler(api_event("GET /songs/{id}", {"id": sid}), None)["statusCode"], 404)
        self.assertEqual(self.m.handler(api_event("DELETE /songs/{id}", {"id": sid}), None)["statusCode"], 404)

    def test_validation(self):
        for bad in ({"title": "x"}, {"artist": "y"}, {"title": "", "artist": "y"},
                    {"title": "x", "artist": "y", "duration_s": -1},
                    {"title": "x", "artist": "y", "duration_s": True},
                    {"title": "x", "artist": "y", "lyrics": "..."}, "[1]", "nope"):
            self.assertEqual(self.post(bad)["statusCode"], 400, bad)
        self.assertEqual(self.table("songs").items, {})
        r = self.m.handler(api_event("PUT /songs/{id}", {"id": "missing"}, {"genre": "pop"}), None)
        self.assertEqual(r["statusCode"], 404)
        self.assertEqual(self.m.handler(api_event("PUT /songs/{id}", {"id": "x"}, {}), None)["statusCode"], 400)

    def test_list_all_pages_and_by_artist_through_the_index(self):
        for t, a in [("Toxic", "Britney"), ("Waterloo", "ABBA"), ("SOS", "ABBA"), ("Lucky", "Britney"),
                     ("Fernando", "ABBA")]:
            self.post({"title": t, "artist": a})
        r = body(self.m.handler(api_event("GET /songs"), None))
        self.assertEqual(len(r["songs"]), 5)
        self.assertEqual(r["songs"][0]["artist"], "ABBA")
        r = body(self.m.handler(api_event("GET /songs", query={"artist": "ABBA"}), None))
        self.assertEqual([s["title"] for s in r["songs"]], ["Fernando", "SOS", "Waterloo"])
        q = [c for c in self.table("songs").calls if c[0] == "query"]
        self.assertEqual(q[0][2]["IndexName"], "byArtist")
        self.assertEqual(len(q), 2)  # three items, pages of two

    def test_unknown_route(self):
        self.assertEqual(self.m.handler(api_event("PATCH /songs"), None)["statusCode"], 404)


if __name__ == "__main__":
    unittest.main()
