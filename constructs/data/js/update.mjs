function updateRequest(ctx, c) {
  const a = ctx.args ?? {};
  const input = a.input ?? {};
  const r = decide(c.rules, ctx);
  denyUnlessAny(r);
  const conds = [
    { expression: 'attribute_exists(#synth_k)', expressionNames: { '#synth_k': c.key[0] } },
    authExpr(r, 'synth_a'),
  ];
  let n = 0;
  for (const f of Object.keys(c.fieldWrite)) {
    if (input[f] !== undefined) {
      const fr = decide(c.fieldWrite[f], ctx);
      denyUnlessAny(fr);
      conds.push(authExpr(fr, `synth_f${n}_`));
      n = n + 1;
    }
  }
  conds.push(userExpr(a.condition));
  const fields = Object.assign({}, input);
  const now = util.time.nowISO8601();
  for (const t of c.updatedAt) {
    if (fields[t] == null) {
      fields[t] = now;
    }
  }
  fields.__typename = c.typename;
  setComposites(c, fields, 'updating');
  const names = {};
  const values = {};
  const sets = [];
  const removes = [];
  let i = 0;
  for (const f of Object.keys(fields)) {
    if (c.key.indexOf(f) < 0) {
      const nk = `#synth_u${i}`;
      names[nk] = f;
      if (fields[f] === null) {
        removes.push(nk);
      } else {
        const vk = `:synth_u${i}`;
        values[vk] = util.dynamodb.toDynamoDB(fields[f]);
        sets.push(`${nk} = ${vk}`);
      }
      i = i + 1;
    }
  }
  let expression = `SET ${sets.join(', ')}`;
  if (removes.length > 0) {
    expression = `${expression} REMOVE ${removes.join(', ')}`;
  }
  return {
    operation: 'UpdateItem',
    key: keyOf(c, input),
    update: { expression: expression, expressionNames: names, expressionValues: values },
    condition: andAll(conds),
  };
}

function updateResponse(ctx, c) {
  failed(ctx);
  return readable(ctx, ctx.result, c.fieldRead);
}
