// The caller's authorization mode, as the rules' providers name them.
function callerMode() {
  const t = util.authType();
  if (t === 'User Pool Authorization') {
    return 'userPools';
  }
  if (t === 'API Key Authorization') {
    return 'apiKey';
  }
  if (t === 'IAM Authorization') {
    return 'iam';
  }
  if (t === 'Open ID Connect Authorization' || t === 'OIDC Authorization') {
    return 'oidc';
  }
  return 'other';
}

function providerMode(p) {
  return p === 'identityPool' ? 'iam' : p;
}

function claimOf(id, name) {
  const c = id.claims ?? {};
  if (name === 'sub') {
    return id.sub ?? c.sub;
  }
  if (name === 'username') {
    return id.username ?? c['cognito:username'] ?? c.username;
  }
  return c[name];
}

// The values an owner field may hold for this caller: Amplify stores
// `sub::username`; a bare username (older items) also matches.
function ownerValues(id, claim) {
  const parts = claim.split('::');
  if (parts.length === 2) {
    const a = claimOf(id, parts[0]);
    const b = claimOf(id, parts[1]);
    return a == null || b == null ? [] : [`${a}::${b}`, `${b}`];
  }
  const v = claimOf(id, claim);
  return v == null ? [] : [`${v}`];
}

function callerGroups(id, claim) {
  const g = (id.claims ?? {})[claim] ?? (claim === 'cognito:groups' ? id.groups : null);
  if (g == null) {
    return [];
  }
  if (typeof g === 'string') {
    return g.split(',').map((s) => s.trim());
  }
  return g;
}

// A function granted access to the API (synth_data_grant) calls with
// its IAM role: the API's environment names the granted roles per root
// type (SYNTH_IAM_QUERY, _MUTATE, _SUBSCRIBE: role names joined by ',')
// and the account (SYNTH_IAM_ACCOUNT). Such a caller may do what it was
// granted whatever the @auth rules, as Amplify's IAM resource access;
// a field of a model type (a relation) is read with any grant.
function grantedRole(ctx) {
  const env = ctx.env ?? {};
  const id = ctx.identity ?? {};
  if (env.SYNTH_IAM_ACCOUNT == null || typeof id.userArn !== 'string' || id.cognitoIdentityAuthType != null) {
    return false;
  }
  const arn = id.userArn.split(':');
  const role = arn.length === 6 ? arn[5].split('/') : [];
  if (arn[0] !== 'arn' || arn[2] !== 'sts' || arn[4] !== env.SYNTH_IAM_ACCOUNT || role.length < 3 || role[0] !== 'assumed-role') {
    return false;
  }
  const parent = (ctx.info ?? {}).parentTypeName;
  const keys = { Query: ['SYNTH_IAM_QUERY'], Mutation: ['SYNTH_IAM_MUTATE'], Subscription: ['SYNTH_IAM_SUBSCRIBE'] }[parent] ??
    ['SYNTH_IAM_QUERY', 'SYNTH_IAM_MUTATE', 'SYNTH_IAM_SUBSCRIBE'];
  return keys.some((k) => (env[k] ?? '').split(',').indexOf(role[1]) >= 0);
}

// What the rules grant this caller: everything (full), or only items
// whose owner / groups fields name them (owners, groupsFields).
function decide(rules, ctx) {
  const id = ctx.identity ?? {};
  const mode = callerMode();
  const r = { full: false, owners: [], groupsFields: [] };
  if (mode === 'iam' && grantedRole(ctx)) {
    r.full = true;
    return r;
  }
  for (const rule of rules) {
    if (providerMode(rule.provider) === mode) {
      if (rule.allow === 'public') {
        if (mode === 'apiKey' || id.cognitoIdentityAuthType === 'unauthenticated') {
          r.full = true;
        }
      } else if (rule.allow === 'private') {
        if (mode !== 'iam' || id.cognitoIdentityAuthType === 'authenticated') {
          r.full = true;
        }
      } else if (rule.allow === 'groups') {
        const mine = callerGroups(id, rule.groupClaim);
        if (rule.groups) {
          if (rule.groups.some((g) => mine.indexOf(g) >= 0)) {
            r.full = true;
          }
        } else if (mine.length > 0) {
          r.groupsFields.push({ field: rule.groupsField, list: rule.list, values: mine });
        }
      } else if (rule.allow === 'owner') {
        const v = ownerValues(id, rule.identityClaim);
        if (v.length > 0) {
          r.owners.push({ field: rule.ownerField, list: rule.list, values: v });
        }
      }
    }
  }
  return r;
}

function denyUnlessAny(r) {
  if (!r.full && r.owners.length === 0 && r.groupsFields.length === 0) {
    util.unauthorized();
  }
}

function holds(v, values) {
  if (v == null) {
    return false;
  }
  if (typeof v === 'string') {
    return values.indexOf(v) >= 0;
  }
  return v.some((x) => values.indexOf(x) >= 0);
}

function itemAllowed(r, item) {
  if (r.full) {
    return true;
  }
  if (item == null) {
    return false;
  }
  return r.owners.concat(r.groupsFields).some((c) => holds(item[c.field], c.values));
}

// The condition that an item's owner / groups fields name the caller
// (null when the caller may see everything).
function authExpr(r, tag) {
  if (r.full) {
    return null;
  }
  const names = {};
  const values = {};
  const parts = [];
  let n = 0;
  for (const c of r.owners.concat(r.groupsFields)) {
    const nk = `#${tag}${n}`;
    names[nk] = c.field;
    let m = 0;
    for (const v of c.values) {
      const vk = `:${tag}${n}_${m}`;
      values[vk] = util.dynamodb.toDynamoDB(v);
      parts.push(c.list ? `contains(${nk}, ${vk})` : `${nk} = ${vk}`);
      m = m + 1;
    }
    n = n + 1;
  }
  return { expression: `(${parts.join(' OR ')})`, expressionNames: names, expressionValues: values };
}

// The AND of the expressions given (nulls skipped); null if none.
function andAll(list) {
  const xs = list.filter((x) => x != null && x.expression);
  if (xs.length === 0) {
    return null;
  }
  const e = { expression: xs.map((x) => `(${x.expression})`).join(' AND ') };
  const names = xs.reduce((a, x) => Object.assign(a, x.expressionNames ?? {}), {});
  const values = xs.reduce((a, x) => Object.assign(a, x.expressionValues ?? {}), {});
  if (Object.keys(names).length > 0) {
    e.expressionNames = names;
  }
  if (Object.keys(values).length > 0) {
    e.expressionValues = values;
  }
  return e;
}

// A filter or condition input (ModelXFilterInput) as an expression.
function userExpr(f) {
  if (f == null || Object.keys(f).length === 0) {
    return null;
  }
  const x = util.transform.toDynamoDBFilterExpression(f);
  return typeof x === 'string' ? JSON.parse(x) : x;
}

// Fields the caller may not read are returned as null.
function readable(ctx, item, fieldRules) {
  if (item == null) {
    return item;
  }
  const out = Object.assign({}, item);
  for (const f of Object.keys(fieldRules)) {
    if (out[f] != null && !itemAllowed(decide(fieldRules[f], ctx), item)) {
      out[f] = null;
    }
  }
  return out;
}

// The composite sort key value of FIELDS in SRC: their values joined by
// '#' (Amplify's "a#b" attribute), or null when one is missing.
function joinKey(fields, src) {
  if (fields.some((f) => src[f] == null)) {
    return null;
  }
  return fields.map((f) => `${src[f]}`).join('#');
}

// The fields of a composite key condition value given, in key order up to
// the first one left out, joined by '#'.
function joinGiven(fields, v) {
  const parts = [];
  let open = true;
  for (const f of fields) {
    if (open && v[f] != null) {
      parts.push(`${v[f]}`);
    } else {
      open = false;
    }
  }
  return parts.join('#');
}

function compositeOf(c, attr) {
  return (c.composites ?? []).find((x) => x.attr === attr && x.index == null);
}

// The item key of model data C from SRC (arguments or input): each key
// attribute, a composite sort key joined from its fields.
function keyOf(c, src) {
  const key = {};
  for (const f of c.key) {
    const cp = compositeOf(c, f);
    const v = cp != null ? joinKey(cp.fields, src) : src[f];
    if (v == null) {
      util.error(`missing key field ${cp != null ? cp.fields.filter((x) => src[x] == null)[0] : f}`, 'InvalidInput');
    }
    key[f] = v;
  }
  return util.dynamodb.toMapValues(key);
}

// Writes each composite sort key attribute ("a#b") of ITEM from its
// fields; a write naming some of a composite key's fields names them all.
function setComposites(c, item, verb) {
  for (const cp of c.composites ?? []) {
    const missing = cp.fields.filter((f) => item[f] == null);
    if (missing.length === 0) {
      item[cp.attr] = joinKey(cp.fields, item);
    } else if (cp.index == null) {
      util.error(`missing key field ${missing[0]}`, 'InvalidInput');
    } else if (missing.length < cp.fields.length) {
      util.error(`When ${verb} any part of the composite sort key for @index '${cp.index}', you must provide all fields for the key. Missing key: '${missing[0]}'.`, 'InvalidInput');
    }
  }
}

// The key condition of a Query: the partition key equals PKV and the
// sort key meets SKC (a Model*KeyConditionInput), if given.
function keyCond(q, pkv, skc) {
  const e = {
    expression: '#synth_pk = :synth_pk',
    expressionNames: { '#synth_pk': q.pk },
    expressionValues: { ':synth_pk': util.dynamodb.toDynamoDB(pkv) },
  };
  if (q.sk && skc != null) {
    const val = (v) => (q.skFields != null ? joinGiven(q.skFields, v ?? {}) : v);
    const ops = { eq: '=', le: '<=', lt: '<', ge: '>=', gt: '>' };
    let cond = null;
    for (const op of Object.keys(ops)) {
      if (cond == null && skc[op] != null) {
        cond = `#synth_sk ${ops[op]} :synth_sk`;
        e.expressionValues[':synth_sk'] = util.dynamodb.toDynamoDB(val(skc[op]));
      }
    }
    if (cond == null && skc.between != null && skc.between.length === 2) {
      cond = '#synth_sk BETWEEN :synth_sk AND :synth_sk1';
      e.expressionValues[':synth_sk'] = util.dynamodb.toDynamoDB(val(skc.between[0]));
      e.expressionValues[':synth_sk1'] = util.dynamodb.toDynamoDB(val(skc.between[1]));
    }
    if (cond == null && skc.beginsWith != null) {
      cond = 'begins_with(#synth_sk, :synth_sk)';
      e.expressionValues[':synth_sk'] = util.dynamodb.toDynamoDB(val(skc.beginsWith));
    }
    if (cond != null) {
      e.expression = `${e.expression} AND ${cond}`;
      e.expressionNames['#synth_sk'] = q.sk;
    }
  }
  return e;
}

function failed(ctx) {
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
}

// A list, index or relation query REQ with the caller's filter (ANDed
// with the conditions of the rules R) and the page token of the args A.
function paged(req, a, r) {
  const filter = andAll([userExpr(a.filter), authExpr(r, 'synth_a')]);
  if (filter != null) {
    req.filter = filter;
  }
  if (a.nextToken) {
    req.nextToken = a.nextToken;
  }
  return req;
}
