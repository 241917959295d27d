"""moto's server handling one request at a time: `python serial_moto_server.py -H HOST -p PORT`.

moto applies an UpdateItem's `ADD` as a read-modify-write, so on its usual thread per request
concurrent increments of one counter get lost, and its TransactWriteItems copies a table while
other threads write to it (an HTTP 500, "dictionary changed size during iteration"). DynamoDB
does neither. Serving requests in turn makes moto as atomic as DynamoDB, so the tests and the
deployment rehearsal check our use of DynamoDB, not moto's locking.

moto also backs up a transaction by deep-copying the whole table once for each of its items, so
a transaction costs time in proportion to the table (a minute and more of a test's run on a
table of a few thousand items). Here the backup holds only the items the transaction names, and
a cancelled transaction puts exactly those back: what DynamoDB's all-or-nothing promises, at the
cost of the transaction's own size.
"""
import copy
import sys

import moto.dynamodb.models as dynamodb_models
import moto.server
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from werkzeug.serving import run_simple


def serve_one_request_at_a_time(*args, **kwargs):
    run_simple(*args, **{**kwargs, "threaded": False})


class _TablesUncopied:
    """`copy` as moto's transaction code sees it: a table is its own backup (the items it
    touches are backed up by `transact_write_items` below); anything else is copied as usual."""

    @staticmethod
    def deepcopy(value):
        return value if isinstance(value, Table) else copy.deepcopy(value)


def _named_items(backend, transact_items):
    """(table, hash key, range key, a copy of the item or None) for each item the transaction
    names."""
    named = []
    for entry in transact_items:
        op = next(iter(entry.values()), None) if isinstance(entry, dict) else None
        if not isinstance(op, dict):
            continue
        table = backend.tables.get(op.get("TableName"))
        attrs = op.get("Item") or op.get("Key")
        if table is None or not isinstance(attrs, dict) or table.hash_key_attr not in attrs:
            continue
        hash_key = DynamoType(attrs[table.hash_key_attr])
        range_key = None
        if table.range_key_attr is not None:
            if table.range_key_attr not in attrs:
                continue
            range_key = DynamoType(attrs[table.range_key_attr])
        named.append((table, hash_key, range_key,
                      copy.deepcopy(table.get_item(hash_key, range_key))))
    return named


def _put_back(table, hash_key, range_key, item):
    if range_key is not None:
        if item is None:
            table.items.get(hash_key, {}).pop(range_key, None)
        else:
            table.items[hash_key][range_key] = item
    elif item is None:
        table.items.pop(hash_key, None)
    else:
        table.items[hash_key] = item


_transact_write_items = dynamodb_models.DynamoDBBackend.transact_write_items


def transact_write_items(self, transact_items):
    backup = _named_items(self, transact_items)
    dynamodb_models.copy = _TablesUncopied
    try:
        return _transact_write_items(self, transact_items)
    except Exception:
        for table, hash_key, range_key, item in reversed(backup):
            _put_back(table, hash_key, range_key, item)
        raise
    finally:
        dynamodb_models.copy = copy


dynamodb_models.DynamoDBBackend.transact_write_items = transact_write_items
moto.server.run_simple = serve_one_request_at_a_time
moto.server.main(sys.argv[1:])
