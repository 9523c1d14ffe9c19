function relationGetRequest(ctx, c) {
  denyUnlessAny(decide(c.rules, ctx));
  const src = ctx.source ?? {};
  const vals = {};
  let missing = false;
  c.relation.source.forEach((f, i) => {
    vals[c.relation.target[i]] = src[f];
    missing = missing || src[f] == null;
  });
  if (missing) {
    runtime.earlyReturn(null);
  }
  return { operation: 'GetItem', key: keyOf(c, vals) };
}

function relationGetResponse(ctx, c) {
  failed(ctx);
  if (ctx.result == null) {
    return null;
  }
  if (!itemAllowed(decide(c.rules, ctx), ctx.result)) {
    util.unauthorized();
  }
  return readable(ctx, ctx.result, c.fieldRead);
}
