import synthdemo


def handler(event, context):
    return {"statusCode": 200, "body": synthdemo.greet("lambda")}
