// Subscriber of the external topic (test/ext): logs each SNS message.
export const handler = async (event) => {
	for (const r of event.Records ?? [])
		console.log(r.Sns?.MessageId, r.Sns?.Message);
	return { received: (event.Records ?? []).length };
};
