// Executes the generated APPSYNC_JS resolvers in node, against a fake
// '@aws-appsync/utils' and an in-memory DynamoDB that interprets the
// request objects they return (condition, filter, key condition and
// update expressions included), and asserts behaviour, one TAP line each.
//
// Usage: node harness.mjs DIR
//   DIR/resolvers.json   the dump of test/resolvers/app.graphql
//   DIR/resolvers/*.mjs  each module's code, as <module name>.mjs: a
//                        resolver runs its module (doc.modules[r.module]),
//                        which picks the resolver's data by ctx.info
// The fake package is written to DIR/node_modules/@aws-appsync/utils.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { pathToFileURL } from 'node:url';

const dir = path.resolve(process.argv[2]);
const doc = JSON.parse(fs.readFileSync(path.join(dir, 'resolvers.json'), 'utf8'));

// --- the fake @aws-appsync/utils -------------------------------------------
const pkg = path.join(dir, 'node_modules', '@aws-appsync', 'utils');
fs.mkdirSync(pkg, { recursive: true });
fs.writeFileSync(path.join(pkg, 'package.json'),
  JSON.stringify({ name: '@aws-appsync/utils', type: 'module', exports: { '.': './index.js', './dynamodb': './dynamodb.js' } }));
fs.writeFileSync(path.join(pkg, 'index.js'), 'const h = globalThis.__synthHarness;\nexport const util = h.util;\nexport const runtime = h.runtime;\nexport const extensions = h.extensions;\n');
fs.writeFileSync(path.join(pkg, 'dynamodb.js'), 'export {};\n');

class AppSyncError extends Error {}
let clock = 0;
const state = { authType: null, subscriptionFilter: null };

function toDynamoDB(v) {
  if (v === null || v === undefined) return { NULL: true };
  if (typeof v === 'string') return { S: v };
  if (typeof v === 'number') return { N: String(v) };
  if (typeof v === 'boolean') return { BOOL: v };
  if (Array.isArray(v)) return { L: v.map(toDynamoDB) };
  return { M: toMapValues(v) };
}
function toMapValues(o) {
  const out = {};
  for (const [k, v] of Object.entries(o)) {
    if (v !== undefined) out[k] = toDynamoDB(v);
  }
  return out;
}
function fromDynamoDB(t) {
  if ('S' in t) return t.S;
  if ('N' in t) return Number(t.N);
  if ('BOOL' in t) return t.BOOL;
  if ('NULL' in t) return null;
  if ('L' in t) return t.L.map(fromDynamoDB);
  if ('M' in t) return fromMap(t.M);
  throw new Error(`not a typed value: ${JSON.stringify(t)}`);
}
function fromMap(m) {
  const out = {};
  for (const [k, v] of Object.entries(m ?? {})) out[k] = fromDynamoDB(v);
  return out;
}

// ModelXFilterInput -> {expression, expressionNames, expressionValues}, as
// util.transform.toDynamoDBFilterExpression returns it (a JSON string).
function filterExpression(f) {
  const names = {}, values = {};
  let n = 0;
  const ops = { eq: '=', ne: '<>', le: '<=', lt: '<', ge: '>=', gt: '>' };
  function walk(obj) {
    const parts = [];
    for (const [k, v] of Object.entries(obj)) {
      if (k === 'and' || k === 'or') {
        parts.push('(' + v.map(walk).join(k === 'and' ? ' AND ' : ' OR ') + ')');
      } else if (k === 'not') {
        parts.push(`(NOT ${walk(v)})`);
      } else {
        names[`#${k}`] = k;
        for (const [op, val] of Object.entries(v)) {
          n += 1;
          const vk = `:${k}_${op}_${n}`;
          if (op in ops) { values[vk] = toDynamoDB(val); parts.push(`(#${k} ${ops[op]} ${vk})`); }
          else if (op === 'contains') { values[vk] = toDynamoDB(val); parts.push(`(contains(#${k}, ${vk}))`); }
          else if (op === 'notContains') { values[vk] = toDynamoDB(val); parts.push(`(NOT contains(#${k}, ${vk}))`); }
          else if (op === 'beginsWith') { values[vk] = toDynamoDB(val); parts.push(`(begins_with(#${k}, ${vk}))`); }
          else if (op === 'between') { values[vk + 'a'] = toDynamoDB(val[0]); values[vk + 'b'] = toDynamoDB(val[1]); parts.push(`(#${k} BETWEEN ${vk}a AND ${vk}b)`); }
          else if (op === 'attributeExists') { parts.push(val ? `(attribute_exists(#${k}))` : `(attribute_not_exists(#${k}))`); }
          else throw new Error(`filter operator ${op} not in the fake`);
        }
      }
    }
    return parts.join(' AND ');
  }
  const expression = walk(f);
  return JSON.stringify({ expression, expressionNames: names, expressionValues: values });
}

globalThis.__synthHarness = {
  util: {
    autoId: () => crypto.randomUUID(),
    time: { nowISO8601: () => new Date(Date.UTC(2024, 0, 1) + 1000 * (clock += 1)).toISOString() },
    error: (message, type) => { throw Object.assign(new AppSyncError(message), { type }); },
    unauthorized: () => { throw Object.assign(new AppSyncError('Unauthorized'), { type: 'Unauthorized', unauthorized: true }); },
    authType: () => state.authType,
    transform: {
      toDynamoDBFilterExpression: filterExpression,
      toSubscriptionFilter: (f) => ({ filterGroup: f }),
    },
    dynamodb: { toDynamoDB, toMapValues },
  },
  runtime: { earlyReturn: (value) => { throw Object.assign(new AppSyncError('early'), { early: true, value }); } },
  extensions: { setSubscriptionFilter: (f) => { state.subscriptionFilter = f; } },
};

// --- DynamoDB expressions ----------------------------------------------------
function tokenize(s) {
  const re = /\s*(<>|<=|>=|[=<>(),]|[#:]?[A-Za-z_][A-Za-z0-9_.\-]*)/y;
  const out = [];
  let m;
  re.lastIndex = 0;
  while (re.lastIndex < s.length && (m = re.exec(s))) out.push(m[1]);
  if (re.lastIndex < s.trimEnd().length) throw new Error(`cannot tokenize: ${s}`);
  return out;
}
function compare(a, b) {
  if (a === undefined || b === undefined || a === null || b === null) return NaN;
  if (typeof a !== typeof b) return NaN;
  return a < b ? -1 : a > b ? 1 : 0;
}
function evaluate(e, item) {
  if (!e || !e.expression) return true;
  const t = tokenize(e.expression);
  let i = 0;
  const names = e.expressionNames ?? {}, values = e.expressionValues ?? {};
  const peek = () => t[i], next = () => t[i++];
  const expect = (x) => { if (t[i++] !== x) throw new Error(`expected ${x} in ${e.expression}`); };
  const kw = (x) => (t[i] ?? '').toUpperCase() === x;
  function name(tok) {
    if (tok.startsWith('#')) { if (!(tok in names)) throw new Error(`unknown name ${tok}`); return names[tok]; }
    return tok;
  }
  function operand() {
    const tok = next();
    if (tok.startsWith(':')) { if (!(tok in values)) throw new Error(`unknown value ${tok}`); return fromDynamoDB(values[tok]); }
    if (tok === 'size') { expect('('); const v = item[name(next())]; expect(')'); return v == null ? undefined : v.length; }
    return item[name(tok)];
  }
  function primary() {
    if (peek() === '(') { next(); const v = or(); expect(')'); return v; }
    const fn = peek();
    if (['attribute_exists', 'attribute_not_exists', 'begins_with', 'contains'].includes(fn)) {
      next(); expect('(');
      const a = item[name(next())];
      let b;
      if (peek() === ',') { next(); b = operand(); }
      expect(')');
      if (fn === 'attribute_exists') return a !== undefined;
      if (fn === 'attribute_not_exists') return a === undefined;
      if (fn === 'begins_with') return typeof a === 'string' && a.startsWith(b);
      return Array.isArray(a) ? a.includes(b) : typeof a === 'string' && a.includes(b);
    }
    const a = operand();
    if (kw('BETWEEN')) { next(); const lo = operand(); if (!kw('AND')) throw new Error('BETWEEN without AND'); next(); const hi = operand(); return compare(a, lo) >= 0 && compare(a, hi) <= 0; }
    const op = next();
    const b = operand();
    const c = compare(a, b);
    switch (op) {
      case '=': return JSON.stringify(a) === JSON.stringify(b) && a !== undefined;
      case '<>': return JSON.stringify(a) !== JSON.stringify(b);
      case '<': return c < 0;
      case '<=': return c <= 0;
      case '>': return c > 0;
      case '>=': return c >= 0;
      default: throw new Error(`operator ${op} in ${e.expression}`);
    }
  }
  function not() { if (kw('NOT')) { next(); return !not(); } return primary(); }
  function and() { let v = not(); while (kw('AND')) { next(); const w = not(); v = v && w; } return v; }
  function or() { let v = and(); while (kw('OR')) { next(); const w = and(); v = v || w; } return v; }
  const v = or();
  if (i !== t.length) throw new Error(`trailing tokens in ${e.expression}`);
  return v;
}
function applyUpdate(u, item) {
  const t = u.expression;
  const names = u.expressionNames ?? {}, values = u.expressionValues ?? {};
  const m = /^SET (.*?)(?: REMOVE (.*))?$/.exec(t);
  if (!m) throw new Error(`update expression not in the fake: ${t}`);
  for (const a of m[1].split(',')) {
    const [n, v] = a.split('=').map((x) => x.trim());
    item[names[n] ?? n] = fromDynamoDB(values[v]);
  }
  for (const n of (m[2] ?? '').split(',').map((x) => x.trim()).filter(Boolean)) delete item[names[n] ?? n];
  return item;
}

// --- the tables ------------------------------------------------------------
const tables = {};
for (const [name, m] of Object.entries(doc.model.models)) {
  const idx = {};
  // Several sort key fields make one attribute named "a#b" (Amplify's).
  const sortAttr = (f) => (f.length ? f.join('#') : null);
  for (const ix of m.indexes) idx[ix.name] = sortAttr(ix.sortKeyFields);
  tables[name] = { pk: m.primaryKey.field, sk: sortAttr(m.primaryKey.sortKeyFields), items: new Map(), idx };
}
for (const r of doc.resolvers) {
  if (r.index && r.indexKeys) tables[r.model].idx[r.index] = r.indexKeys.sortKey;
}
const keyString = (t, key) => JSON.stringify([key[t.pk], t.sk ? key[t.sk] : null]);
const conditionFailed = { message: 'The conditional request failed', type: 'DynamoDB:ConditionalCheckFailedException' };
const clone = (x) => (x == null ? x : JSON.parse(JSON.stringify(x)));

function execute(model, req) {
  const t = tables[model];
  const key = req.key ? fromMap(req.key) : null;
  const k = key ? keyString(t, key) : null;
  switch (req.operation) {
    case 'GetItem': return { result: clone(t.items.get(k) ?? null) };
    case 'PutItem': {
      const old = t.items.get(k);
      if (!evaluate(req.condition, old ?? {})) return { error: conditionFailed };
      const item = { ...fromMap(req.attributeValues), ...key };
      t.items.set(k, item);
      return { result: clone(item) };
    }
    case 'UpdateItem': {
      const old = t.items.get(k);
      if (!evaluate(req.condition, old ?? {})) return { error: conditionFailed };
      const item = applyUpdate(req.update, { ...(old ?? {}), ...key });
      t.items.set(k, item);
      return { result: clone(item) };
    }
    case 'DeleteItem': {
      const old = t.items.get(k);
      if (!evaluate(req.condition, old ?? {})) return { error: conditionFailed };
      t.items.delete(k);
      return { result: clone(old ?? null) };
    }
    case 'Query':
    case 'Scan': {
      let items = [...t.items.values()];
      if (req.operation === 'Query') {
        items = items.filter((it) => evaluate(req.query, it));
        const sk = req.index ? t.idx[req.index] : t.sk;
        if (sk) items.sort((a, b) => compare(a[sk], b[sk]) || 0);
        if (req.scanIndexForward === false) items.reverse();
      }
      const start = req.nextToken ? Number(Buffer.from(req.nextToken, 'base64').toString()) : 0;
      const limit = req.limit ?? 100;
      const page = items.slice(start, start + limit);
      const more = start + limit < items.length;
      return {
        result: {
          items: clone(page.filter((it) => evaluate(req.filter, it))),
          nextToken: more ? Buffer.from(String(start + limit)).toString('base64') : null,
          scannedCount: page.length,
        },
      };
    }
    default: throw new Error(`operation ${req.operation} not in the fake`);
  }
}

// --- calling resolvers -------------------------------------------------------
const byName = {};
for (const r of doc.resolvers) byName[`${r.typeName}.${r.fieldName}`] = r;
const modules = {};
async function load(r) {
  const name = doc.modules[r.module].name;
  if (!modules[name]) modules[name] = await import(pathToFileURL(path.join(dir, 'resolvers', `${name}.mjs`)).href);
  return modules[name];
}

// Outcome: {data} | {unauthorized: true} | {error: {message, type}}.
async function call(name, caller, args = {}, source = null, infoOverride = null) {
  const r = byName[name];
  if (!r) throw new Error(`no resolver ${name}`);
  const mod = await load(r);
  state.authType = caller.authType;
  state.subscriptionFilter = null;
  const info = infoOverride ?? { fieldName: r.fieldName, parentTypeName: r.typeName };
  const ctx = { arguments: args, args, identity: caller.identity, source, stash: {}, prev: {}, info, env: API_ENV };
  const guard = (f) => {
    try {
      return { value: f() };
    } catch (e) {
      if (!(e instanceof AppSyncError)) throw e;
      if (e.early) return { done: { data: e.value } };
      if (e.unauthorized) return { done: { unauthorized: true } };
      return { done: { error: { message: e.message, type: e.type } } };
    }
  };
  const req = guard(() => mod.request(ctx));
  if (req.done) return req.done;
  if (r.dataSource === null) {
    ctx.result = req.value.payload;
  } else {
    const out = execute(r.model, clone(req.value));
    ctx.result = out.result ?? null;
    ctx.error = out.error;
  }
  const res = guard(() => mod.response(ctx));
  return res.done ?? { data: res.value, filter: state.subscriptionFilter };
}

// --- callers -----------------------------------------------------------------
// The API's environment as constructs/data/data.c sets it for functions granted
// access (synth_data_grant): reader may query, writer query and mutate.
const ACCOUNT = '123456789012';
const API_ENV = { SYNTH_IAM_ACCOUNT: ACCOUNT, SYNTH_IAM_QUERY: 'stack-readerRole-AB12,stack-writerRole-CD34', SYNTH_IAM_MUTATE: 'stack-writerRole-CD34' };
function roleCaller(role, account = ACCOUNT) {
  return { authType: 'IAM Authorization', identity: { accountId: account, userArn: `arn:aws:sts::${account}:assumed-role/${role}/fn-session`, username: 'AROAEXAMPLE:fn-session' } };
}
function userPool(sub, username, groups = []) {
  return {
    authType: 'User Pool Authorization',
    identity: { sub, username, claims: { sub, 'cognito:username': username, 'cognito:groups': groups }, groups },
  };
}
const A = userPool('sub-a', 'alice');
const B = userPool('sub-b', 'bob');
const ADMIN = userPool('sub-c', 'carol', ['Admin']);
const APIKEY = { authType: 'API Key Authorization', identity: null };
const GUEST = { authType: 'IAM Authorization', identity: { cognitoIdentityId: 'g', cognitoIdentityAuthType: 'unauthenticated' } };

let failed = 0, passed = 0;
function check(cond, what, detail) {
  if (cond) { passed += 1; console.log(`ok - ${what}`); }
  else { failed += 1; console.log(`not ok - ${what}`); if (detail !== undefined) console.log(`#   ${JSON.stringify(detail)}`); }
}
const ok = (o) => o && !o.unauthorized && !o.error;
const denied = (o) => o && (o.unauthorized || (o.error && /ConditionalCheckFailed/.test(o.error.type)));

// --- scenarios ---------------------------------------------------------------
// Owner rules (the Amplify todo).
let o = await call('Mutation.createTodo', A, { input: { content: 'milk', done: false } });
check(ok(o) && o.data.owner === 'sub-a::alice', "owner A creates a Todo: owner is A's sub::username", o);
const todo = o.data;
check(ok(o) && typeof todo.id === 'string' && todo.id.length > 0 && todo.createdAt && todo.updatedAt && todo.__typename === 'Todo',
  'create generates id, createdAt, updatedAt and __typename', todo);
o = await call('Query.getTodo', A, { id: todo.id });
check(ok(o) && o.data && o.data.content === 'milk', 'A gets her Todo', o);
o = await call('Query.getTodo', B, { id: todo.id });
check(o.unauthorized === true, "B's get of A's Todo is unauthorized", o);
o = await call('Query.listTodos', A, {});
check(ok(o) && o.data.items.length === 1 && o.data.items[0].id === todo.id, "A's list shows her Todo", o);
o = await call('Query.listTodos', B, {});
check(ok(o) && o.data.items.length === 0, "B's list does not show A's Todo", o);
o = await call('Query.listTodos', A, { filter: { content: { eq: 'bread' } } });
check(ok(o) && o.data.items.length === 0, "A's list with a filter that does not match is empty", o);
o = await call('Mutation.updateTodo', B, { input: { id: todo.id, content: 'stolen' } });
check(denied(o), "B's update of A's Todo is refused", o);
o = await call('Mutation.deleteTodo', B, { input: { id: todo.id } });
check(denied(o), "B's delete of A's Todo is refused", o);
o = await call('Query.getTodo', A, { id: todo.id });
check(ok(o) && o.data.content === 'milk', "A's Todo is unchanged after B's attempts", o);
o = await call('Mutation.updateTodo', A, { input: { id: todo.id, content: 'oat milk', done: null } });
check(ok(o) && o.data.content === 'oat milk' && !('done' in o.data) && o.data.updatedAt > todo.updatedAt,
  "A's update succeeds (SET, REMOVE for null, updatedAt)", o);
o = await call('Mutation.createTodo', A, { input: { content: 'x', done: false, owner: 'sub-b::bob' } });
check(o.unauthorized === true, 'a Todo created by A with owner=B is refused', o);
o = await call('Mutation.createTodo', A, { input: { id: todo.id, content: 'dup', done: false } });
check(o.error && /ConditionalCheckFailed/.test(o.error.type), 'creating an existing id fails its condition', o);
o = await call('Mutation.updateTodo', A, { input: { id: 'nope', content: 'x' } });
check(o.error && /ConditionalCheckFailed/.test(o.error.type), 'updating a missing item fails its condition', o);
o = await call('Query.getTodo', APIKEY, { id: todo.id });
check(o.unauthorized === true, 'an API key caller is refused on an owner-only model', o);
o = await call('Query.listTodos', APIKEY, {});
check(o.unauthorized === true, "an API key caller's list of an owner-only model is refused", o);
o = await call('Subscription.onCreateTodo', B, { owner: 'sub-a::alice' });
check(o.unauthorized === true, "B cannot subscribe to A's Todos", o);
o = await call('Subscription.onCreateTodo', A, {});
check(ok(o) && o.filter && JSON.stringify(o.filter).includes('sub-a::alice'), "A's subscription is filtered to her Todos", o);
o = await call('Subscription.onCreateNote', APIKEY, {});
check(ok(o) && o.filter === null, 'a public subscription is allowed without a filter', o);
o = await call('Mutation.deleteTodo', A, { input: { id: todo.id } });
check(ok(o) && o.data.id === todo.id, "A's delete succeeds and returns the old item", o);
o = await call('Query.getTodo', A, { id: todo.id });
check(ok(o) && o.data === null, 'the deleted Todo is gone', o);

// Public API key + private.
o = await call('Mutation.createNote', APIKEY, { input: { text: 'hello' } });
check(ok(o) && o.data.text === 'hello' && !('owner' in o.data), 'an API key caller may create on a public model', o);
const note = o.data;
o = await call('Query.getNote', APIKEY, { id: note.id });
check(ok(o) && o.data.text === 'hello', 'an API key caller may get on a public model', o);
o = await call('Query.getNote', B, { id: note.id });
check(ok(o) && o.data.text === 'hello', 'any signed-in user may get on a private model', o);
o = await call('Query.getNote', GUEST, { id: note.id });
check(o.unauthorized === true, 'a guest (IAM, unauthenticated) is refused where only apiKey and userPools are allowed', o);

// Static groups and owners.
o = await call('Mutation.createDoc', A, { input: { title: 'plan' } });
const docA = o.data;
check(ok(o) && docA.owner === 'sub-a::alice', 'A creates a Doc', o);
o = await call('Query.getDoc', ADMIN, { id: docA.id });
check(ok(o) && o.data.title === 'plan', "group Admin gets A's Doc", o);
o = await call('Query.listDocs', ADMIN, {});
check(ok(o) && o.data.items.length === 1, "group Admin lists A's Doc", o);
o = await call('Mutation.updateDoc', ADMIN, { input: { id: docA.id, title: 'plan b' } });
check(ok(o) && o.data.title === 'plan b', "group Admin updates A's Doc", o);
o = await call('Mutation.createDoc', ADMIN, { input: { title: 'for bob', owner: 'sub-b::bob' } });
check(ok(o) && o.data.owner === 'sub-b::bob', 'group Admin may create a Doc owned by someone else', o);
o = await call('Query.getDoc', B, { id: docA.id });
check(o.unauthorized === true, "B (no group) cannot get A's Doc", o);
o = await call('Mutation.deleteDoc', ADMIN, { input: { id: docA.id } });
check(ok(o), "group Admin deletes A's Doc", o);

// groupsField.
const EDITOR = userPool('sub-e', 'erin', ['writers']);
o = await call('Mutation.createShared', EDITOR, { input: { body: 'draft', editors: ['writers'] } });
check(ok(o), 'a member of a group named in editors may create the item', o);
const shared = o.data;
o = await call('Mutation.createShared', EDITOR, { input: { body: 'x', editors: ['others'] } });
check(o.unauthorized === true, 'creating an item whose editors exclude the caller is refused', o);
o = await call('Query.getShared', EDITOR, { id: shared.id });
check(ok(o) && o.data.body === 'draft', 'a member of a group in editors gets the item', o);
o = await call('Query.getShared', B, { id: shared.id });
check(o.unauthorized === true, 'a caller in no group of editors is refused', o);
o = await call('Query.listShareds', B, {});
check(o.unauthorized === true, 'a caller in no group at all is refused a list of a groupsField-only model', o);
o = await call('Query.listShareds', userPool('sub-f', 'fred', ['others']), {});
check(ok(o) && o.data.items.length === 0, 'a caller in another group lists nothing', o);
o = await call('Query.listShareds', EDITOR, {});
check(ok(o) && o.data.items.length === 1, 'a member of a group in editors lists the item', o);
o = await call('Mutation.updateShared', userPool('sub-f', 'fred', ['others']), { input: { id: shared.id, body: 'x' } });
check(denied(o), 'an update by a caller in another group is refused', o);

// Composite key and @index.
for (const [player, points] of [['ann', 30], ['bob', 10], ['cid', 20]]) {
  await call('Mutation.createScore', APIKEY, { input: { game: 'chess', player, points, league: 'east' } });
}
await call('Mutation.createScore', APIKEY, { input: { game: 'go', player: 'dan', points: 5, league: 'west' } });
o = await call('Query.scoresByLeague', APIKEY, { league: 'east' });
check(ok(o) && o.data.items.map((s) => s.points).join() === '10,20,30', 'index query returns the league in ascending sort key order', o);
o = await call('Query.scoresByLeague', APIKEY, { league: 'east', sortDirection: 'DESC', points: { ge: 20 } });
check(ok(o) && o.data.items.map((s) => s.player).join() === 'ann,cid', 'index query with a sort key condition, descending', o);
o = await call('Query.scoresByLeague', APIKEY, { league: 'east', limit: 2 });
const page2 = ok(o) && o.data.nextToken ? await call('Query.scoresByLeague', APIKEY, { league: 'east', limit: 2, nextToken: o.data.nextToken }) : null;
check(ok(o) && o.data.items.length === 2 && page2 && ok(page2) && page2.data.items.length === 1 && page2.data.items[0].points === 30,
  'index query pages with limit and nextToken', [o, page2]);
o = await call('Query.getScore', APIKEY, { game: 'chess', player: 'cid' });
check(ok(o) && o.data.points === 20, 'get by the composite key', o);
o = await call('Query.listScores', APIKEY, { game: 'chess', player: { beginsWith: 'b' } });
check(ok(o) && o.data.items.length === 1 && o.data.items[0].player === 'bob', 'list by partition key and sort key condition (Query)', o);
o = await call('Query.listScores', APIKEY, {});
check(ok(o) && o.data.items.length === 4, 'list without a key scans', o);

// Relations.
o = await call('Mutation.createBlog', APIKEY, { input: { name: 'news' } });
const blog = o.data;
for (const title of ['one', 'two']) await call('Mutation.createPost', APIKEY, { input: { title, blogId: blog.id } });
await call('Mutation.createPost', APIKEY, { input: { title: 'orphan' } });
o = await call('Blog.posts', APIKEY, {}, blog);
check(ok(o) && o.data.items.map((p) => p.title).sort().join() === 'one,two', 'hasMany returns the children', o);
const post = ok(o) ? o.data.items[0] : {};
o = await call('Post.blog', APIKEY, {}, post);
check(ok(o) && o.data && o.data.name === 'news', 'belongsTo returns the parent', o);
o = await call('Post.blog', APIKEY, {}, { id: 'p', title: 'orphan', blogId: null });
check(ok(o) && o.data === null, 'belongsTo without a key returns null without a request', o);

// Field-level auth.
o = await call('Mutation.createProfile', A, { input: { name: 'alice', owner: 'sub-a::alice', salary: 5 } });
check(o.unauthorized === true, 'a field no rule lets anyone create is refused on create', o);
o = await call('Mutation.createProfile', A, { input: { name: 'alice', owner: 'sub-a::alice' } });
const prof = o.data;
check(ok(o), 'the profile without the protected field is created', o);
o = await call('Mutation.updateProfile', A, { input: { id: prof.id, salary: 100 } });
check(ok(o) && o.data.salary === 100, 'the owner updates her protected field', o);
o = await call('Mutation.updateProfile', B, { input: { id: prof.id, salary: 1 } });
check(denied(o), "another user's update of the protected field is refused", o);
o = await call('Query.getProfile', B, { id: prof.id });
check(ok(o) && o.data.name === 'alice' && o.data.salary === null, 'a field the caller may not read is null', o);
o = await call('Query.getProfile', A, { id: prof.id });
check(ok(o) && o.data.salary === 100, 'the owner reads her protected field', o);

// Operations restricted.
o = await call('Mutation.createEvent', A, { input: { title: 'party' } });
const ev = o.data;
check(ok(o), 'the owner creates an Event', o);
o = await call('Query.getEvent', APIKEY, { id: ev.id });
check(ok(o) && o.data.title === 'party', 'public read: an API key caller gets the Event', o);
o = await call('Mutation.updateEvent', APIKEY, { input: { id: ev.id, title: 'x' } });
check(o.unauthorized === true, 'public read only: an API key caller may not update', o);
o = await call('Mutation.createEvent', APIKEY, { input: { title: 'x' } });
check(o.unauthorized === true, 'public read only: an API key caller may not create', o);

// Composite sort keys: the primary key (site, day#hour) and byPage (page,
// country#city).
const visits = [['2024-01-01', 9, 'fr', 'paris'], ['2024-01-01', 14, 'fr', 'lyon'], ['2024-01-02', 10, 'de', 'berlin'],
  ['2024-02-01', 8, 'fr', 'nice']];
let vok = true;
for (const [day, hour, country, city] of visits) {
  o = await call('Mutation.createVisit', APIKEY, { input: { site: 'web', day, hour, page: '/home', country, city } });
  vok = vok && ok(o);
}
check(vok, 'Visits with composite keys are created', o);
const stored = tables.Visit.items.get(JSON.stringify(['web', '2024-01-01#14']));
check(stored && stored['day#hour'] === '2024-01-01#14' && stored['country#city'] === 'fr#lyon' && stored.day === '2024-01-01' && stored.hour === 14,
  'create writes the composite attributes day#hour and country#city beside the fields', stored);
o = await call('Query.getVisit', APIKEY, { site: 'web', day: '2024-01-01', hour: 14 });
check(ok(o) && o.data && o.data.city === 'lyon', 'get by every key field (site, day, hour)', o);
o = await call('Query.getVisit', APIKEY, { site: 'web', day: '2024-01-01', hour: 15 });
check(ok(o) && o.data === null, 'get with another hour finds nothing', o);
o = await call('Query.getVisit', APIKEY, { site: 'web', day: '2024-01-01' });
check(o.error && /missing key field hour/.test(o.error.message), 'get without a sort key field is an error naming it', o);
o = await call('Query.listVisits', APIKEY, { site: 'web', dayHour: { beginsWith: { day: '2024-01' } } });
// The composite is a string: "2024-01-01#14" sorts before "2024-01-01#9", as in DynamoDB.
check(ok(o) && o.data.items.map((v) => v.hour).join() === '14,9,10', 'list with beginsWith on the composite key (day only), in string order', o);
o = await call('Query.listVisits', APIKEY, { site: 'web', dayHour: { between: [{ day: '2024-01-01', hour: 2 }, { day: '2024-01-02', hour: 5 }] } });
check(ok(o) && o.data.items.map((v) => `${v.day}/${v.hour}`).join() === '2024-01-01/9,2024-01-02/10', 'list with between on the composite key (#2 <= #9, #10 <= #5 as strings)', o);
o = await call('Query.listVisits', APIKEY, { site: 'web', dayHour: { eq: { day: '2024-02-01', hour: 8 } } });
check(ok(o) && o.data.items.length === 1 && o.data.items[0].city === 'nice', 'list with eq on every composite field', o);
o = await call('Query.visitsByPage', APIKEY, { page: '/home', countryCity: { beginsWith: { country: 'fr' } } });
check(ok(o) && o.data.items.map((v) => v.city).join() === 'lyon,nice,paris', 'index query with beginsWith on country#city, in sort key order', o);
o = await call('Query.visitsByPage', APIKEY, { page: '/home', countryCity: { between: [{ country: 'de' }, { country: 'fr', city: 'm' }] }, sortDirection: 'DESC' });
check(ok(o) && o.data.items.map((v) => v.city).join() === 'lyon,berlin', 'index query with between on country#city, descending', o);
o = await call('Mutation.updateVisit', APIKEY, { input: { site: 'web', day: '2024-01-01', hour: 14, country: 'it', city: 'rome' } });
const moved = tables.Visit.items.get(JSON.stringify(['web', '2024-01-01#14']));
check(ok(o) && moved && moved['country#city'] === 'it#rome' && moved.city === 'rome', 'update of the index fields rewrites country#city', [o, moved]);
o = await call('Query.visitsByPage', APIKEY, { page: '/home', countryCity: { eq: { country: 'it', city: 'rome' } } });
check(ok(o) && o.data.items.length === 1 && o.data.items[0].hour === 14, 'the index finds the updated visit by its new composite', o);
o = await call('Mutation.updateVisit', APIKEY, { input: { site: 'web', day: '2024-01-01', hour: 14, city: 'milan' } });
check(o.error && /composite sort key for @index 'byPage'.*Missing key: 'country'/.test(o.error.message),
  'update of one of the index fields without the other is refused, naming it', o);
o = await call('Mutation.updateVisit', APIKEY, { input: { site: 'web', day: '2024-01-01', hour: 14, page: '/about' } });
const kept = tables.Visit.items.get(JSON.stringify(['web', '2024-01-01#14']));
check(ok(o) && kept && kept['country#city'] === 'it#rome' && kept.page === '/about', 'update without index fields keeps country#city', [o, kept]);
o = await call('Mutation.deleteVisit', APIKEY, { input: { site: 'web', day: '2024-01-01', hour: 9 } });
check(ok(o) && o.data.city === 'paris' && !tables.Visit.items.has(JSON.stringify(['web', '2024-01-01#9'])), 'delete by every key field', o);

// Functions granted access call with their IAM role, whatever the rules
// (Todo allows its owners only).
const READER = roleCaller('stack-readerRole-AB12'), WRITER = roleCaller('stack-writerRole-CD34');
o = await call('Mutation.createTodo', A, { input: { content: 'for the functions', done: false } });
const ftodo = o.data;
o = await call('Query.getTodo', READER, { id: ftodo.id });
check(ok(o) && o.data && o.data.content === 'for the functions', 'a function granted query gets an owner-only Todo', o);
o = await call('Query.listTodos', READER, {});
check(ok(o) && o.data.items.some((t) => t.id === ftodo.id), 'a function granted query lists every Todo', o);
o = await call('Mutation.createTodo', READER, { input: { content: 'x', done: false } });
check(o.unauthorized === true, 'a function granted query only may not create', o);
o = await call('Mutation.updateTodo', READER, { input: { id: ftodo.id, content: 'x' } });
check(o.unauthorized === true, 'a function granted query only may not update', o);
o = await call('Subscription.onCreateTodo', READER, {});
check(o.unauthorized === true, 'a function granted query only may not subscribe', o);
o = await call('Mutation.updateTodo', WRITER, { input: { id: ftodo.id, content: 'by the writer' } });
check(ok(o) && o.data.content === 'by the writer', 'a function granted mutate updates an owner-only Todo', o);
o = await call('Mutation.createProfile', WRITER, { input: { name: 'svc', salary: 7 } });
check(ok(o) && o.data.salary === 7, 'a granted function passes field-level rules too', o);
o = await call('Query.getTodo', roleCaller('stack-otherRole-EF56'), { id: ftodo.id });
check(o.unauthorized === true, 'an IAM caller with a role not granted is refused', o);
o = await call('Query.getTodo', roleCaller('stack-readerRole-AB12', '999999999999'), { id: ftodo.id });
check(o.unauthorized === true, 'the granted role name in another account is refused', o);
o = await call('Query.getTodo', { authType: 'IAM Authorization', identity: { cognitoIdentityId: 'u', cognitoIdentityAuthType: 'authenticated',
  userArn: `arn:aws:sts::${ACCOUNT}:assumed-role/stack-readerRole-AB12/CognitoIdentityCredentials` } }, { id: ftodo.id });
check(o.unauthorized === true, 'an identity pool caller is judged by the rules as before, whatever its role', o);
o = await call('Query.getNote', { authType: 'IAM Authorization', identity: { cognitoIdentityId: 'u', cognitoIdentityAuthType: 'authenticated' } }, { id: note.id });
check(o.unauthorized === true, 'an identity pool caller without a rule for IAM is still refused', o);

// One module serves a model's resolvers: ctx.info picks the data.
const todoModule = doc.resolvers.find((r) => r.typeName === 'Query' && r.fieldName === 'getTodo').module;
const sharing = doc.resolvers.filter((r) => r.module === todoModule).map((r) => `${r.typeName}.${r.fieldName}`);
check(sharing.includes('Mutation.createTodo') && sharing.includes('Subscription.onCreateTodo') &&
  new Set(doc.resolvers.map((r) => r.module)).size === Object.keys(doc.model.models).length,
  "Todo's resolvers share one module; one module per model", sharing);
o = await call('Query.getTodo', A, { id: 'x' }, null, { parentTypeName: 'Query', fieldName: 'getNote' });
check(o.error && o.error.type === 'InternalFailure' && /Query.getNote/.test(o.error.message),
  "a module refuses a field it does not serve (ctx.info names Note's get)", o);
o = await call('Query.getTodo', A, {}, null, { parentTypeName: 'Query', fieldName: 'listTodos' });
check(ok(o) && Array.isArray(o.data.items), "the same module resolves listTodos when ctx.info says so", o);

console.log(`# ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
