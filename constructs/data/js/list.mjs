function listRequest(ctx, c) {
  const a = ctx.args ?? {};
  const r = decide(c.rules, ctx);
  denyUnlessAny(r);
  const req = { operation: 'Scan', limit: a.limit ?? c.limit };
  if (c.query != null && (c.query.index != null || a[c.query.pk] != null)) {
    req.operation = 'Query';
    req.query = keyCond(c.query, a[c.query.pk], c.query.sk ? a[c.query.skArg ?? c.query.sk] : null);
    req.scanIndexForward = a.sortDirection !== 'DESC';
    if (c.query.index != null) {
      req.index = c.query.index;
    }
  }
  return paged(req, a, r);
}

function listResponse(ctx, c) {
  failed(ctx);
  const r = decide(c.rules, ctx);
  const items = (ctx.result.items ?? []).filter((it) => itemAllowed(r, it));
  return { items: items.map((it) => readable(ctx, it, c.fieldRead)), nextToken: ctx.result.nextToken ?? null };
}
