// Runs every morning (EventBridge schedule). A real app would query the
// Todo table and send each owner a summary; this one logs the invocation.
export const handler = async (event: { time?: string }) => {
  console.log(JSON.stringify({ digest: "started", time: event?.time ?? null }));
  return { ok: true };
};
