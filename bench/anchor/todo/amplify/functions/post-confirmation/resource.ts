import { defineFunction } from "@aws-amplify/backend";

// Cognito post-confirmation trigger: adds the new user to GROUP_NAME.
export const postConfirmation = defineFunction({
  name: "postConfirmation",
  environment: { GROUP_NAME: "users" },
  resourceGroupName: "auth",
});
