def handler(event, context): pass
def post_confirmation(e,c): return e
