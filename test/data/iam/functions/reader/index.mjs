export const handler = async () => ({ endpoint: process.env.AMPLIFY_DATA_GRAPHQL_ENDPOINT });
