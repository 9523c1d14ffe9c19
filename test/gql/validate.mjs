// Validates AppSync schemas with the reference GraphQL implementation.
// Usage: node validate.mjs FILE.graphql...
// For each file: AppSync's own scalars and directives are declared first
// (AppSync predefines them; the generated SDL uses them without declaring),
// then graphql's buildSchema + validateSchema. Prints, per file,
//   FILE: ok             or   FILE: error: MESSAGE (one line each)
// and then every root field as `Root.field(arg: Type, ...): Type`, so the
// caller can assert on the operations. Exit status 1 if any file failed.
import { readFileSync } from 'node:fs';
import { APPSYNC, graphql } from './appsync.mjs';

const { buildSchema, validateSchema, GraphQLError } = graphql;

let failed = 0;
for (const file of process.argv.slice(2)) {
  const sdl = readFileSync(file, 'utf8');
  let schema;
  try {
    schema = buildSchema(APPSYNC + sdl);
  } catch (e) {
    failed++;
    console.log(`${file}: error: ${String(e.message).replace(/\n/g, ' ')}`);
    continue;
  }
  const errors = validateSchema(schema);
  if (errors.length) {
    failed++;
    for (const e of errors) console.log(`${file}: error: ${e.message.replace(/\n/g, ' ')}`);
    continue;
  }
  console.log(`${file}: ok`);
  for (const root of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
    if (!root) continue;
    for (const f of Object.values(root.getFields())) {
      const args = f.args.map((a) => `${a.name}: ${a.type}`).join(', ');
      const dirs = (f.astNode.directives || []).map((d) => '@' + d.name.value).join(' ');
      console.log(`${root.name}.${f.name}(${args}): ${f.type}${dirs ? ' ' + dirs : ''}`);
    }
  }
  // every type a model field or an operation names must exist
  for (const t of Object.values(schema.getTypeMap())) {
    if (t.name.startsWith('__')) continue;
    const d = (t.astNode && t.astNode.directives || []).map((x) => '@' + x.name.value).join(' ');
    if (d) console.log(`type ${t.name} ${d}`);
  }
}
process.exit(failed ? 1 : 0);
