"""The fixed test identities of the local AWS peers (fake, test-only).
Each is {access_key, secret_key, token, arn, user_id}. Temporary
credentials issued by STS AssumeRole are added at run time to
STATE/issued-credentials.json, which every peer reads."""

ACCOUNT = "123456789012"

# [0]: long-term keys (exported as AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY);
# [1]: session credentials, valid only with their token (PEERS_SESSION_*).
STATIC_CREDENTIALS = [
    {
        "access_key": "AKIDPEERSEXAMPLE0001",
        "secret_key": "peersTestSecretKey/K7MDENG+bPxRfiCYEXAMPLE",
        "token": None,
        "arn": "arn:aws:iam::%s:user/synth-test" % ACCOUNT,
        "user_id": "AIDAPEERSEXAMPLE0001",
    },
    {
        "access_key": "ASIAPEERSEXAMPLE0002",
        "secret_key": "peersSessionSecretKey/K7MDENG+bPxEXAMPLE",
        "token": "FwoGZXIvYXdzEPeersSessionTokenEXAMPLE//////////wEaDPeersTestToken0002",
        "arn": "arn:aws:sts::%s:assumed-role/synth-test-role/synth-session" % ACCOUNT,
        "user_id": "AROAPEERSEXAMPLE0002:synth-session",
    },
]
