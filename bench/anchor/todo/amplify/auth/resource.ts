// Auth: sign-in with email; new users join the "users" group when they
// confirm their account (functions/post-confirmation).
import { defineAuth } from "@aws-amplify/backend";
import { postConfirmation } from "../functions/post-confirmation/resource";

export const auth = defineAuth({
  loginWith: { email: true },
  groups: ["admins", "users"],
  triggers: { postConfirmation },
  access: (allow) => [allow.resource(postConfirmation).to(["addUserToGroup"])],
});
