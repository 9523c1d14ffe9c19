function subscribeRequest(ctx, c) {
  return { payload: null };
}

// Subscribers allowed only as owners (or through a groups field) must
// name themselves in the argument, or get only their own items.
function subscribeResponse(ctx, c) {
  const r = decide(c.rules, ctx);
  denyUnlessAny(r);
  if (!r.full) {
    const a = ctx.args ?? {};
    const conds = r.owners.concat(r.groupsFields);
    const given = conds.filter((x) => a[x.field] != null);
    if (given.length > 0) {
      if (!given.some((x) => x.values.indexOf(a[x.field]) >= 0)) {
        util.unauthorized();
      }
    } else {
      const x = conds[0];
      const f = {};
      f[x.field] = x.list ? { contains: x.values[0] } : { in: x.values };
      extensions.setSubscriptionFilter(util.transform.toSubscriptionFilter(f));
    }
  }
  return null;
}
