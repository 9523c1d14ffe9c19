// bench/anchor: samples/karaoke written as an AWS CDK app (TypeScript,
// aws-cdk-lib v2 L2 constructs, as an SST/CDK user would), the anchor of
// bench/cli.sh's karaoke row: `cdk synth --app 'tsx app.ts'`. The Python
// handlers are samples/karaoke/functions, copied beside this file by the
// benchmark.
import { App, Stack, Duration, RemovalPolicy, CfnOutput, TimeZone } from "aws-cdk-lib";
import * as cognito from "aws-cdk-lib/aws-cognito";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subs from "aws-cdk-lib/aws-sns-subscriptions";
import * as sqs from "aws-cdk-lib/aws-sqs";
import * as apigw from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import { HttpJwtAuthorizer } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import * as scheduler from "aws-cdk-lib/aws-scheduler";
import * as schedulerTargets from "aws-cdk-lib/aws-scheduler-targets";
import * as logs from "aws-cdk-lib/aws-logs";

const app = new App();
const stage = app.node.tryGetContext("stage") ?? "main";
const stack = new Stack(app, `karaoke-${stage}`);

const fn = (name: string, service: string, handler: string, description: string, timeout = 10) =>
  new lambda.Function(stack, name, {
    runtime: lambda.Runtime.PYTHON_3_13,
    architecture: lambda.Architecture.ARM_64,
    code: lambda.Code.fromAsset(`functions/${service}`),
    handler,
    memorySize: 256,
    timeout: Duration.seconds(timeout),
    description,
  });

const S = dynamodb.AttributeType.STRING;
// A service's table: on-demand, kept when the stack goes; keys are strings.
const table = (name: string, pk: string, extra: Partial<dynamodb.TableProps> = {}) =>
  new dynamodb.Table(stack, name, {
    partitionKey: { name: pk, type: S },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    removalPolicy: RemovalPolicy.RETAIN,
    ...extra,
  });
const index = (t: dynamodb.Table, indexName: string, pk: string, sk: string) =>
  t.addGlobalSecondaryIndex({ indexName, partitionKey: { name: pk, type: S }, sortKey: { name: sk, type: S } });

// events: the bus and the topic the services share
const bus = new events.EventBus(stack, "karaoke", { eventBusName: `${stack.stackName}-karaoke` });
const notify = new sns.Topic(stack, "singer-notifications", { displayName: "Karaoke" });
notify.addSubscription(
  new subs.EmailSubscription("kj@example.com", {
    filterPolicy: { kind: sns.SubscriptionFilter.stringFilter({ allowlist: ["welcome"] }) },
  }),
);

// singers
const singers = table("singers", "id", {
  pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
});
const singersFn = fn("singersHandler", "singers", "singers.handler", "Singers API");
singers.grantReadWriteData(singersFn);
singersFn.addEnvironment("SINGERS_TABLE", singers.tableName);

// auth: email sign-in; post-confirmation creates the singer and welcomes them
const pc = fn("postConfirmation", "singers", "singers.post_confirmation",
  "Creates the singer of a confirmed user");
singers.grantWriteData(pc);
notify.grantPublish(pc);
pc.addEnvironment("SINGERS_TABLE", singers.tableName);
pc.addEnvironment("NOTIFY_TOPIC", notify.topicArn);
const pool = new cognito.UserPool(stack, "auth", {
  signInAliases: { email: true },
  selfSignUpEnabled: true,
  autoVerify: { email: true },
  lambdaTriggers: { postConfirmation: pc },
  removalPolicy: RemovalPolicy.RETAIN,
});
const client = pool.addClient("web", { authFlows: { userSrp: true } });
const authorizer = () =>
  new HttpJwtAuthorizer("cognito", `https://cognito-idp.${stack.region}.amazonaws.com/${pool.userPoolId}`, {
    jwtAudience: [client.userPoolClientId],
  });

const api = (name: string, routes: [string, lambda.IFunction][]) => {
  const http = new apigw.HttpApi(stack, name, {
    defaultAuthorizer: authorizer(),
    corsPreflight: { allowOrigins: ["*"], allowMethods: [apigw.CorsHttpMethod.ANY], allowHeaders: ["*"] },
  });
  const logGroup = new logs.LogGroup(stack, `${name}-access`, { retention: logs.RetentionDays.ONE_MONTH });
  const cfnStage = http.defaultStage!.node.defaultChild as apigw.CfnStage;
  cfnStage.accessLogSettings = { destinationArn: logGroup.logGroupArn, format: "$context.requestId" };
  for (const [route, handler] of routes) {
    const [method, path] = route.split(" ");
    http.addRoutes({
      path,
      methods: [method as apigw.HttpMethod],
      integration: new HttpLambdaIntegration(`${name}-${method}-${path}`, handler),
    });
  }
  new CfnOutput(stack, `${name}-url`, { value: http.apiEndpoint });
  return http;
};
api("singers-api", [
  ["GET /singers", singersFn], ["GET /singers/{id}", singersFn],
  ["PUT /singers/{id}", singersFn], ["DELETE /singers/{id}", singersFn],
]);

// songs
const songs = table("songs", "id");
index(songs, "byArtist", "artist", "title");
const songsFn = fn("songsHandler", "songs", "songs.handler", "Songs API");
songs.grantReadWriteData(songsFn);
songsFn.addEnvironment("SONGS_TABLE", songs.tableName);
api("songs-api", [
  ["GET /songs", songsFn], ["POST /songs", songsFn], ["GET /songs/{id}", songsFn],
  ["PUT /songs/{id}", songsFn], ["DELETE /songs/{id}", songsFn],
]);

// rotations: table, queue with a DLQ, bus reaction, nightly cron
const rotations = table("rotations", "id", { timeToLiveAttribute: "expires_at" });
const dlq = new sqs.Queue(stack, "rotation-signups-dlq");
const queue = new sqs.Queue(stack, "rotation-signups", {
  visibilityTimeout: Duration.seconds(60),
  deadLetterQueue: { queue: dlq, maxReceiveCount: 3 },
});
const rotFn = fn("rotationsHandler", "rotations", "rotations.handler", "Rotations API");
rotations.grantReadWriteData(rotFn);
queue.grantSendMessages(rotFn);
bus.grantPutEventsTo(rotFn);
rotFn.addEnvironment("ROTATIONS_TABLE", rotations.tableName);
rotFn.addEnvironment("SIGNUPS_QUEUE", queue.queueUrl);
rotFn.addEnvironment("BUS_NAME", bus.eventBusName);
const signups = fn("rotationsSignups", "rotations", "rotations.process_signups",
  "Adds queued singers to their rotation");
rotations.grantReadWriteData(signups);
signups.addEventSource(new SqsEventSource(queue, { batchSize: 10, reportBatchItemFailures: true }));
const advance = fn("rotationsAdvance", "rotations", "rotations.on_performance_completed",
  "Advances a rotation after a performance");
rotations.grantReadWriteData(advance);
notify.grantPublish(advance);
new events.Rule(stack, "rotationsAdvance-rule", {
  eventBus: bus,
  eventPattern: { source: ["karaoke.rotations"], detailType: ["Performance Completed"] },
  targets: [new targets.LambdaFunction(advance, { retryAttempts: 10 })],
});
const cleanup = fn("rotationsCleanup", "rotations", "rotations.cleanup_stale",
  "Closes rotations idle for a day", 60);
rotations.grantReadWriteData(cleanup);
new scheduler.Schedule(stack, "stale-rotations", {
  schedule: scheduler.ScheduleExpression.cron({
    minute: "0", hour: "4", timeZone: TimeZone.AMERICA_CHICAGO,
  }),
  target: new schedulerTargets.LambdaInvoke(cleanup, { retryAttempts: 2 }),
});
api("rotations-api", [
  ["GET /rotations", rotFn], ["POST /rotations", rotFn], ["GET /rotations/{id}", rotFn],
  ["DELETE /rotations/{id}", rotFn], ["POST /rotations/{id}/singers", rotFn],
  ["POST /rotations/{id}/complete", rotFn],
]);

// performances: the event log
const perfs = table("performances", "singer_id", { sortKey: { name: "performed_at", type: S } });
index(perfs, "byRotation", "rotation_id", "performed_at");
const perfFn = fn("performancesHandler", "performances", "performances.handler", "Performances API");
perfs.grantReadData(perfFn);
const perfLog = fn("performancesLog", "performances", "performances.on_performance_completed",
  "Logs completed performances");
perfs.grantWriteData(perfLog);
new events.Rule(stack, "performancesLog-rule", {
  eventBus: bus,
  eventPattern: {
    source: ["karaoke.rotations"], detailType: ["Performance Completed"],
    detail: { singer_id: [{ exists: true }] },
  },
  targets: [new targets.LambdaFunction(perfLog)],
});
api("performances-api", [
  ["GET /singers/{id}/performances", perfFn], ["GET /rotations/{id}/performances", perfFn],
]);

app.synth();
