"""The local answer store: SQLCipher file, revisions, one writer thread, key envelope.

The answers a candidate has seen saved survive a killed process, a power cut, a reset
system drive, a full disk and a damaged file (docs/durability.md). Typical use:

    report = check_data_dir(data_dir)                      # before the exam starts
    key = open_store_key(data_dir=data_dir, exam_id=..., candidate_id=..., username=...,
                         password=..., server_box_public_key=...)
    paths = store_paths(data_dir, exam_id=..., candidate_id=...)
    writer = StoreWriter(lambda: open_or_recover(paths, key=key, server_answers=...)[0])
    writer.ready().result()
"""

from client.store.database import AnswerStore
from client.store.datadir import DataDirReport, check_data_dir
from client.store.errors import (
    DataDirError,
    StoreCorruptError,
    StoreDiskFullError,
    StoreError,
    StoreIOError,
    StoreKeyError,
)
from client.store.keys import open_store_key
from client.store.model import JsonValue, Revision, ServerAnswer
from client.store.paths import StorePaths, store_paths
from client.store.recovery import RecoveryReport, open_or_recover
from client.store.writer import SaveState, StoreWriter, WriterStatus

__all__ = [
    "AnswerStore",
    "DataDirError",
    "DataDirReport",
    "JsonValue",
    "RecoveryReport",
    "Revision",
    "SaveState",
    "ServerAnswer",
    "StoreCorruptError",
    "StoreDiskFullError",
    "StoreError",
    "StoreIOError",
    "StoreKeyError",
    "StorePaths",
    "StoreWriter",
    "WriterStatus",
    "check_data_dir",
    "open_or_recover",
    "open_store_key",
    "store_paths",
]
