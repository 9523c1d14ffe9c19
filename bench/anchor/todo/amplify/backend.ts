// bench/anchor: samples/todo written as an Amplify Gen2 app, the benchmark's
// anchor (bench/cli.sh runs `cdk synth` of it beside `synth -q`).
import { defineBackend } from "@aws-amplify/backend";
import { auth } from "./auth/resource";
import { data } from "./data/resource";
import { storage } from "./storage/resource";
import { dailyDigest } from "./functions/daily-digest/resource";

const backend = defineBackend({ auth, data, storage, dailyDigest });

// samples/todo turns on point-in-time recovery for the Todo table.
backend.data.resources.cfnResources.amplifyDynamoDbTables["Todo"].pointInTimeRecoveryEnabled = true;
