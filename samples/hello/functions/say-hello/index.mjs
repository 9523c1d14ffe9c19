// Invoked by the daily EventBridge schedule.
export const handler = async (event) => {
  console.log("hello from a scheduled function", event.time);
  return { ok: true };
};
