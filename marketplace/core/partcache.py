"""Each worker's own store of shared page parts (``CACHE_TYPE`` "SimpleCache", the default).

Flask-Caching's SimpleCache bounds only the number of entries (``CACHE_THRESHOLD``), and drops
expired ones only once that number is passed. Every part is kept under the site revision
(``core.fragments``), so after each write every part kept before is dead, yet each stayed in
memory until 2,000 had piled up: a worker's memory kept rising for the first quarter of an
hour of steady writes, by as much as 2,000 job lists weigh. Here:
  - the stored bytes are bounded too (``PAGE_CACHE_MB``), the least recently used going first;
  - a new revision empties the store at once: nothing kept under an older one is served again.
"""
import threading
from collections import OrderedDict
from datetime import timedelta
from time import time
from typing import Any

from flask_caching.backends.simplecache import SimpleCache

# What an entry costs beyond its pickled value: the key, the tuple and the dict slot.
ENTRY_OVERHEAD = 200


class PartCache(SimpleCache):
    def __init__(self, threshold: int = 2000, max_bytes: int = 16 * 1024 * 1024, default_timeout: int = 300,
                 **kwargs: Any) -> None:
        super().__init__(threshold=threshold, default_timeout=default_timeout, **kwargs)
        self._cache: OrderedDict[str, tuple[float, bytes]] = OrderedDict()  # least recently used first
        self._lock = threading.RLock()
        self.max_bytes = max_bytes
        self.bytes = 0
        self.revision: object = None

    @classmethod
    def factory(cls, app: Any, config: dict[str, Any], args: list[Any], kwargs: dict[str, Any]) -> "PartCache":
        kwargs.update(threshold=config["CACHE_THRESHOLD"], max_bytes=int(config["PAGE_CACHE_MB"] * 1024 * 1024))
        return cls(*args, **kwargs)

    @staticmethod
    def _size(key: str, stored: bytes) -> int:
        return len(key) + len(stored) + ENTRY_OVERHEAD

    def at_revision(self, token: object) -> None:
        """Called with the revision a request reads at: a new one empties the store."""
        with self._lock:
            if token != self.revision:
                self.clear()
                self.revision = token

    def get(self, key: str) -> Any:
        with self._lock:
            found = self._cache.get(key)
            if found is None:
                return None
            expires, stored = found
            if expires != 0 and expires <= time():
                self._drop(key)
                return None
            self._cache.move_to_end(key)
            return self.serializer.loads(stored)

    def has(self, key: str) -> bool:
        with self._lock:
            found = self._cache.get(key)
            return found is not None and (found[0] == 0 or found[0] > time())

    def set(self, key: str, value: Any, timeout: int | timedelta | None = None) -> bool:
        with self._lock:
            expires = self._normalize_timeout(timeout)
            stored = self.serializer.dumps(value)
            if stored is None:
                return False  # not picklable: not kept
            size = self._size(key, stored)
            self._drop(key)
            if size > self.max_bytes:
                return False  # larger than the whole store: not kept
            self._cache[key] = (expires, stored)
            self.bytes += size
            self._prune()
            return True

    def add(self, key: str, value: Any, timeout: int | timedelta | None = None) -> bool:
        with self._lock:
            if self.has(key):
                return False
            return self.set(key, value, timeout)

    def delete(self, key: str) -> bool:
        with self._lock:
            return self._drop(key)

    def clear(self) -> bool:
        with self._lock:
            self._cache.clear()
            self.bytes = 0
            return True

    def _drop(self, key: str) -> bool:
        found = self._cache.pop(key, None)
        if found is None:
            return False
        self.bytes -= self._size(key, found[1])
        return True

    def _over(self) -> bool:
        return len(self._cache) > self._threshold or self.bytes > self.max_bytes

    def _prune(self) -> None:
        if not self._over():
            return
        now = time()
        for key in [k for k, (expires, _) in self._cache.items() if expires != 0 and expires <= now]:
            self._drop(key)
        while self._over():
            self._drop(next(iter(self._cache)))
