// A function with environment variables and a secret.
//
// libsynth never puts a secret's value in the template. The function gets
// SYNTH_SSM_ENV_CONFIG, a JSON object mapping each secret's environment
// variable to its SSM parameter paths:
//   {"API_KEY": {"path": "/synth/<app>/<type>/<name>/API_KEY",
//                "sharedPath": "/synth/<app>/shared/API_KEY"}}
// and its role may read exactly those parameters. Read them once, at start
// (outside the handler), preferring the backend's own path over the
// app-wide shared one.
import { SSMClient, GetParametersCommand } from "@aws-sdk/client-ssm";

async function loadSecrets() {
  const config = JSON.parse(process.env.SYNTH_SSM_ENV_CONFIG ?? "{}");
  const names = Object.values(config).flatMap((c) => [c.path, c.sharedPath]);
  if (names.length === 0) return;
  const ssm = new SSMClient({});
  const found = new Map();
  for (let i = 0; i < names.length; i += 10) {  // GetParameters takes 10 names
    const out = await ssm.send(new GetParametersCommand({
      Names: names.slice(i, i + 10), WithDecryption: true }));
    for (const p of out.Parameters ?? []) found.set(p.Name, p.Value);
  }
  for (const [envName, c] of Object.entries(config)) {
    const value = found.get(c.path) ?? found.get(c.sharedPath);
    if (value === undefined) throw new Error(`secret ${envName} is not set`);
    process.env[envName] = value;
  }
}

const ready = loadSecrets();

export const handler = async (event) => {
  await ready;
  const name = event?.name ?? "world";
  return { message: `${process.env.GREETING}, ${name}!` };
};
