import { defineFunction } from "@aws-amplify/backend";

// Sends each user a summary of their open todos every morning.
export const dailyDigest = defineFunction({
  name: "dailyDigest",
  schedule: "0 7 * * ? *",
  timeoutSeconds: 60,
});
