function createRequest(ctx, c) {
  const a = ctx.args ?? {};
  const input = a.input ?? {};
  const r = decide(c.rules, ctx);
  denyUnlessAny(r);
  const item = Object.assign({}, input);
  for (const f of Object.keys(c.defaults)) {
    if (item[f] == null) {
      item[f] = c.defaults[f];
    }
  }
  if (c.autoId && item[c.key[0]] == null) {
    item[c.key[0]] = util.autoId();
  }
  const now = util.time.nowISO8601();
  for (const t of c.timestamps) {
    if (item[t] == null) {
      item[t] = now;
    }
  }
  item.__typename = c.typename;
  for (const o of r.owners) {
    if (item[o.field] == null) {
      item[o.field] = o.list ? [o.values[0]] : o.values[0];
    }
  }
  if (!itemAllowed(r, item)) {
    util.unauthorized();
  }
  for (const f of Object.keys(c.fieldWrite)) {
    if (input[f] !== undefined && !itemAllowed(decide(c.fieldWrite[f], ctx), item)) {
      util.unauthorized();
    }
  }
  setComposites(c, item, 'creating');
  const key = {};
  const attrs = Object.assign({}, item);
  for (const k of c.key) {
    if (item[k] == null) {
      util.error(`missing key field ${k}`, 'InvalidInput');
    }
    key[k] = item[k];
    delete attrs[k];
  }
  const exists = { expression: 'attribute_not_exists(#synth_k)', expressionNames: { '#synth_k': c.key[0] } };
  return {
    operation: 'PutItem',
    key: util.dynamodb.toMapValues(key),
    attributeValues: util.dynamodb.toMapValues(attrs),
    condition: andAll([exists, userExpr(a.condition)]),
  };
}

function createResponse(ctx, c) {
  failed(ctx);
  return readable(ctx, ctx.result, c.fieldRead);
}
