def handler(event, context): pass
def on_performance_completed(e,c): pass
