"""Where documents' bytes live, behind one interface: ``put / open / delete / exists`` by key.

``LocalStorage`` (the default) keeps them in a directory (``DOCUMENTS_PATH``); ``S3Storage``
in a bucket of any S3-compatible object store (``DOCUMENTS_STORAGE=s3``), which every app
server shares. Keys are random (``new_key``), never a name a user typed.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import os
import secrets
import tempfile

from flask import current_app

if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import IO

    from flask import Flask

CHUNK = 64 * 1024


def new_key() -> str:
    return secrets.token_hex(16)


def _checked(key: str) -> str:
    # A key is ours (hex): never a path.
    if not key or not all(c in "0123456789abcdef" for c in key):
        raise ValueError(f"not a document key: {key!r}")
    return key


class LocalStorage:
    def __init__(self, root: str) -> None:
        self.root = root

    def _path(self, key: str) -> str:
        key = _checked(key)
        return os.path.join(self.root, key[:2], key)

    def put(self, key: str, stream: IO[bytes]) -> None:
        path = self._path(key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        # Written beside its place then renamed: a killed worker leaves a temporary file that
        # no key names (prune removes it), never half a file under the real key.
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".part-")
        try:
            with os.fdopen(handle, "wb") as out:
                while chunk := stream.read(CHUNK):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise

    def open(self, key: str) -> IO[bytes]:
        return open(self._path(key), "rb")

    def delete(self, key: str) -> None:
        try:
            os.unlink(self._path(key))
        except FileNotFoundError:
            pass

    def exists(self, key: str) -> bool:
        return os.path.isfile(self._path(key))

    def keys(self) -> Iterator[tuple[str, float]]:
        """(key, when it was written as a timestamp) of every stored file."""
        if not os.path.isdir(self.root):
            return
        for folder in os.listdir(self.root):
            directory = os.path.join(self.root, folder)
            if not os.path.isdir(directory):
                continue
            for name in os.listdir(directory):
                if not name.startswith(".part-"):
                    yield name, os.path.getmtime(os.path.join(directory, name))

    def remove_leftovers(self, older_than: float) -> int:
        """Temporary files of writes that never finished, older than ``older_than`` (a time)."""
        removed = 0
        if not os.path.isdir(self.root):
            return removed
        for folder in os.listdir(self.root):
            directory = os.path.join(self.root, folder)
            for name in os.listdir(directory) if os.path.isdir(directory) else ():
                path = os.path.join(directory, name)
                if name.startswith(".part-") and os.path.getmtime(path) < older_than:
                    os.unlink(path)
                    removed += 1
        return removed


class S3Storage:
    """An S3-compatible bucket (AWS, MinIO, Ceph, Garage…), through boto3 (the ``s3`` extra).
    An upload is one object written whole by the store: a killed worker leaves no half object."""

    def __init__(self, bucket: str, endpoint: str | None = None, region: str | None = None, prefix: str = "") -> None:
        import boto3

        self.bucket, self.prefix = bucket, prefix
        # Keys are read from the environment by boto3 (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY).
        self.client = boto3.client("s3", endpoint_url=endpoint or None, region_name=region or None)

    def _key(self, key: str) -> str:
        return self.prefix + _checked(key)

    def put(self, key: str, stream: IO[bytes]) -> None:
        self.client.upload_fileobj(stream, self.bucket, self._key(key))

    def open(self, key: str) -> IO[bytes]:
        return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def keys(self) -> Iterator[tuple[str, float]]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            for item in page.get("Contents", ()):
                yield item["Key"][len(self.prefix):], item["LastModified"].timestamp()

    def remove_leftovers(self, older_than: float) -> int:
        return 0  # an object store keeps no half-written objects


def storage(app: Flask | None = None) -> LocalStorage | S3Storage:
    """The app's storage, made once per app from its settings."""
    app = app or current_app
    made = app.extensions.get("documents_storage")
    if made is None:
        config = app.config
        if config["DOCUMENTS_STORAGE"] == "s3":
            made = S3Storage(config["DOCUMENTS_S3_BUCKET"], config["DOCUMENTS_S3_ENDPOINT"],
                             config["DOCUMENTS_S3_REGION"], config["DOCUMENTS_S3_PREFIX"])
        else:
            made = LocalStorage(config["DOCUMENTS_PATH"])
        app.extensions["documents_storage"] = made
    return made
