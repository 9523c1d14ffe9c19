function deleteRequest(ctx, c) {
  const a = ctx.args ?? {};
  const r = decide(c.rules, ctx);
  denyUnlessAny(r);
  const exists = { expression: 'attribute_exists(#synth_k)', expressionNames: { '#synth_k': c.key[0] } };
  return {
    operation: 'DeleteItem',
    key: keyOf(c, a.input ?? {}),
    condition: andAll([exists, authExpr(r, 'synth_a'), userExpr(a.condition)]),
  };
}

function deleteResponse(ctx, c) {
  failed(ctx);
  return readable(ctx, ctx.result, c.fieldRead);
}
