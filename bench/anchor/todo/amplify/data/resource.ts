// Data: a Todo model that only its owner can read or change (the same
// model as samples/todo/data/schema.graphql).
import { a, defineData, type ClientSchema } from "@aws-amplify/backend";

const schema = a.schema({
  Priority: a.enum(["LOW", "NORMAL", "HIGH"]),
  Todo: a
    .model({
      content: a.string().required(),
      done: a.boolean().default(false),
      priority: a.ref("Priority"),
      dueOn: a.date(),
    })
    .authorization((allow) => [allow.owner()]),
});

export type Schema = ClientSchema<typeof schema>;

export const data = defineData({
  schema,
  authorizationModes: { defaultAuthorizationMode: "userPool" },
});
