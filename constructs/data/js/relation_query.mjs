function relationQueryRequest(ctx, c) {
  const a = ctx.args ?? {};
  const r = decide(c.rules, ctx);
  denyUnlessAny(r);
  const src = ctx.source ?? {};
  const s = c.relation.source;
  if (s.some((f) => src[f] == null)) {
    runtime.earlyReturn(c.relation.many ? { items: [], nextToken: null } : null);
  }
  const req = {
    operation: 'Query',
    query: keyCond(c.query, src[s[0]], s.length > 1 ? { eq: src[s[1]] } : null),
    scanIndexForward: a.sortDirection !== 'DESC',
  };
  if (c.query.index != null) {
    req.index = c.query.index;
  }
  if (c.relation.many) {
    req.limit = a.limit ?? c.limit;
  }
  return paged(req, a, r);
}

function relationQueryResponse(ctx, c) {
  failed(ctx);
  const r = decide(c.rules, ctx);
  const items = (ctx.result.items ?? []).filter((it) => itemAllowed(r, it)).map((it) => readable(ctx, it, c.fieldRead));
  if (!c.relation.many) {
    return items.length > 0 ? items[0] : null;
  }
  return { items, nextToken: ctx.result.nextToken ?? null };
}
