// Storage: pictures everyone signed in can see (guests may look too), and
// a private folder per user.
import { defineStorage } from "@aws-amplify/backend";

export const storage = defineStorage({
  name: "todoFiles",
  access: (allow) => ({
    "pictures/*": [
      allow.guest.to(["read"]),
      allow.authenticated.to(["read", "write", "delete"]),
      allow.groups(["admins"]).to(["read", "write", "delete"]),
    ],
    "private/{entity_id}/*": [allow.entity("identity").to(["read", "write", "delete"])],
  }),
});
