// Cognito post-confirmation trigger: adds the new user to GROUP_NAME.
// Cognito waits for the handler and expects the event back.
import { CognitoIdentityProviderClient, AdminAddUserToGroupCommand }
  from "@aws-sdk/client-cognito-identity-provider";

const cognito = new CognitoIdentityProviderClient({});

export const handler = async (event) => {
  await cognito.send(new AdminAddUserToGroupCommand({
    UserPoolId: event.userPoolId,
    Username: event.userName,
    GroupName: process.env.GROUP_NAME,
  }));
  return event;
};
