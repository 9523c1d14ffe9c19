function getRequest(ctx, c) {
  denyUnlessAny(decide(c.rules, ctx));
  return { operation: 'GetItem', key: keyOf(c, ctx.args ?? {}) };
}

function getResponse(ctx, c) {
  failed(ctx);
  if (ctx.result == null) {
    return null;
  }
  if (!itemAllowed(decide(c.rules, ctx), ctx.result)) {
    util.unauthorized();
  }
  return readable(ctx, ctx.result, c.fieldRead);
}
