// The two generators agree: every resolver of constructs/data/gqlresolvers.c attaches
// to a field of the schema constructs/data/gqlgen.c writes, and that field has the
// arguments the resolver reads (its data in its module's configs(): key fields for get; the query's
// partition and sort key, sortDirection, filter, limit, nextToken for list
// and index queries; input and condition for mutations).
// Usage: node agree.mjs SCHEMA.graphql RESOLVERS.json
// Prints one "ok - ..." / "not ok - ..." line per resolver.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { APPSYNC, graphql } from './appsync.mjs';

const { buildSchema } = graphql;

const [sdlFile, resFile] = process.argv.slice(2);
const schema = buildSchema(APPSYNC + readFileSync(sdlFile, 'utf8'));
const { resolvers, modules } = JSON.parse(readFileSync(resFile, 'utf8'));
const name = basename(sdlFile);
let bad = 0;
for (const r of resolvers) {
  const what = `${name}: ${r.typeName}.${r.fieldName} (${r.operation})`;
  const type = schema.getType(r.typeName);
  const field = type && type.getFields ? type.getFields()[r.fieldName] : null;
  if (!field) {
    console.log(`not ok - ${what}: no such field in the client schema`);
    bad++;
    continue;
  }
  // The resolver's data: its line of configs() in the module that ships
  // for it (constructs/data/gqlresolvers.h).
  const code = (modules[r.module] ?? {}).code ?? '';
  const line = code.split('\n').find((l) => l.startsWith(`    "${r.typeName}.${r.fieldName}": `));
  if (!line) {
    console.log(`not ok - ${what}: its module does not list it`);
    bad++;
    continue;
  }
  const c = JSON.parse(line.slice(line.indexOf(': ') + 2).replace(/,$/, ''));
  const want = [];
  // A composite sort key attribute ("a#b") is read from its fields.
  const fieldsOf = (k) => ((c.composites ?? []).find((x) => x.attr === k && x.index == null) ?? { fields: [k] }).fields;
  if (r.operation === 'get') want.push(...(c.key ?? []).flatMap(fieldsOf));
  if (r.operation === 'list' || r.operation === 'index') {
    want.push('filter', 'limit', 'nextToken');
    if (c.query && (c.query.index != null || r.operation === 'index')) want.push(c.query.pk);
    if (c.query && c.query.sk && (c.query.index != null || r.operation === 'index')) want.push(c.query.skArg ?? c.query.sk, 'sortDirection');
    if (c.query && c.query.skArg && !c.query.index && r.operation === 'list') want.push(c.query.pk, c.query.skArg);
  }
  if (['create', 'update', 'delete'].includes(r.operation)) want.push('input', 'condition');
  const have = new Set(field.args.map((a) => a.name));
  const missing = want.filter((w) => !have.has(w));
  // A composite key condition names the sort key fields, in order.
  const skArg = c.query && c.query.skArg ? field.args.find((a) => a.name === c.query.skArg) : null;
  if (skArg) {
    const eq = skArg.type.getFields().eq;
    const names = eq ? Object.keys(eq.type.getFields()) : [];
    if (names.join() !== c.query.skFields.join()) missing.push(`${c.query.skArg} over ${c.query.skFields.join(', ')} (has ${names.join(', ')})`);
  }
  if (missing.length) {
    console.log(`not ok - ${what}: the field lacks the argument(s) ${missing.join(', ')} (has ${[...have].join(', ')})`);
    bad++;
  } else {
    console.log(`ok - ${what}: the field exists with the arguments the resolver reads`);
  }
}
process.exit(bad ? 1 : 0);
