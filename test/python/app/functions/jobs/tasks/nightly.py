def run(event, context):
    return "done"
