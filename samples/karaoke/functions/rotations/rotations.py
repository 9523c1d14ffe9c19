def handler(event, context): pass
def process_signups(e,c): pass
def on_performance_completed(e,c): pass
def cleanup_stale(e,c): pass
