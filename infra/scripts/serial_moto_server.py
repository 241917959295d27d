"""moto's server handling one request at a time: `python serial_moto_server.py -H HOST -p PORT`.

moto applies an UpdateItem's `ADD` as a read-modify-write, so on its usual thread per request
concurrent increments of one counter get lost, and its TransactWriteItems copies a table while
other threads write to it (an HTTP 500, "dictionary changed size during iteration"). DynamoDB
does neither. Serving requests in turn makes moto as atomic as DynamoDB, so the tests and the
deployment rehearsal check our use of DynamoDB, not moto's locking.
"""
import sys

import moto.server
from werkzeug.serving import run_simple


def serve_one_request_at_a_time(*args, **kwargs):
    run_simple(*args, **{**kwargs, "threaded": False})


moto.server.run_simple = serve_one_request_at_a_time
moto.server.main(sys.argv[1:])
