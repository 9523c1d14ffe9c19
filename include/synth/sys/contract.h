/*
 * libsynth for extenders: the strings one layer writes and another reads.
 *
 * A construct writes them into templates (metadata keys, environment
 * variables, output names); the deployer, the CLI or a function's handler
 * reads them back. Each is named once, here, and every side includes this
 * header: nothing spells these literals out elsewhere.
 */
#ifndef SYNTH_SYS_CONTRACT_H
#define SYNTH_SYS_CONTRACT_H

/* --- the CDK bootstrap conventions (cdk bootstrap, default qualifier) -- */

/* The qualifier `cdk bootstrap` uses unless told otherwise. */
#define SYNTH_BOOTSTRAP_QUALIFIER "hnb659fds"
/* The asset bucket, as an Fn::Sub string ... */
#define SYNTH_ASSET_BUCKET_SUB \
	"cdk-" SYNTH_BOOTSTRAP_QUALIFIER "-assets-${AWS::AccountId}-${AWS::Region}"
/* ... its name as a printf format (account, region) ... */
#define SYNTH_ASSET_BUCKET_FMT "cdk-" SYNTH_BOOTSTRAP_QUALIFIER "-assets-%s-%s"
/* ... and the prefix every bootstrap resource name starts with. */
#define SYNTH_BOOTSTRAP_PREFIX "cdk-" SYNTH_BOOTSTRAP_QUALIFIER "-"
/* The bootstrap roles' ARNs start with this (Fn::Sub string), followed by
 * "file-publishing-role-", "deploy-role-", "cfn-exec-role-" or
 * "lookup-role-" and "${AWS::AccountId}-${AWS::Region}". */
#define SYNTH_BOOTSTRAP_ROLE_SUB_PREFIX \
	"arn:${AWS::Partition}:iam::${AWS::AccountId}:role/" SYNTH_BOOTSTRAP_PREFIX
/* The SSM parameter holding the bootstrap stack's version. */
#define SYNTH_BOOTSTRAP_VERSION_PARAM "/cdk-bootstrap/" SYNTH_BOOTSTRAP_QUALIFIER "/version"

/* --- template metadata ------------------------------------------------- */

/* Every resource: its construct path ("name/id"), for messages. */
#define SYNTH_MD_PATH "synth:path"
/* A resource with a code asset: where it came from, for the CDK's tools. */
#define SYNTH_MD_ASSET_PATH "aws:asset:path"
#define SYNTH_MD_ASSET_PROPERTY "aws:asset:property"
/* true on a resource whose attributes carry secret values: they never
 * cross a stack boundary (they would become plain outputs). */
#define SYNTH_MD_SECRET_ATTRIBUTES "synth:secret-attributes"
/* {"param": P, "secrets": [NAME, ...]}: before each deploy the deployer
 * sets stack parameter P to a digest of the SSM versions of those
 * secrets (never their values), so a changed secret updates the stack. */
#define SYNTH_MD_SECRET_VERSIONS "synth:secret-versions"
/* The root template's placement memory: which nested stack holds which
 * resource, so a resource never moves by accident (lib/core/layout.c). */
#define SYNTH_MD_LAYOUT "synth:layout"
/* A file holding the deployed root template, written by `synth deploy`
 * before it synthesizes: the placement memory's source of truth. */
#define SYNTH_ENV_DEPLOYED_TEMPLATE "SYNTH_DEPLOYED_TEMPLATE"
/* The parameter the auth construct declares for that digest. */
#define SYNTH_SECRET_VERSIONS_PARAM "SynthSecretVersions"

/* --- function environment ---------------------------------------------- */

/* A function's secrets: JSON {"ENV": {"path": P, "sharedPath": S}}; the
 * handler reads the SSM parameter P (or S when P is missing) at start. */
#define SYNTH_ENV_SSM_CONFIG "SYNTH_SSM_ENV_CONFIG"

/* --- stack outputs read back by the client configuration --------------- */

/* The S3 URI of the data category's model introspection document. */
#define SYNTH_OUT_MODEL_SCHEMA_URI "amplifyApiModelSchemaS3Uri"

/* --- the cloud assembly ------------------------------------------------ */

/* A bootstrap role's ARN as an Fn::Sub string; ROLE is "deploy-role",
 * "cfn-exec-role", "lookup-role" or "file-publishing-role". */
#define SYNTH_BOOTSTRAP_ROLE_SUB(role) \
	SYNTH_BOOTSTRAP_ROLE_SUB_PREFIX role "-${AWS::AccountId}-${AWS::Region}"
/* The assembly's manifest and its artifact types: the stack, and the
 * asset manifest to publish before it. */
#define SYNTH_MANIFEST_FILE "manifest.json"
#define SYNTH_ARTIFACT_STACK "aws:cloudformation:stack"
#define SYNTH_ARTIFACT_ASSET_MANIFEST "cdk:asset-manifest"
/* The backend's identity: context keys (--context K=V, CDK_CONTEXT_JSON)
 * and the stack's tags. */
#define SYNTH_CTX_NAMESPACE "synth:namespace"
#define SYNTH_CTX_NAME "synth:name"
#define SYNTH_CTX_TYPE "synth:type"

#endif
