"""The check-in hot path: a lean ASGI route in front of Django.

``POST /api/v1/checkin`` and ``GET|POST|HEAD /ping/<key>`` never enter the Django
request cycle. Each request is parsed and checked here, then handed to this
process's writer, which groups whatever arrived meanwhile into one transaction
(group commit) and answers each request only after that transaction committed:
an acknowledged check-in is a stored check-in.

- PostgreSQL: asyncpg; one ``UPDATE ... FROM unnest(...)`` moves the deadlines of
  every online, active device in the batch and one ``INSERT ... ON CONFLICT`` writes
  their history rings. A batch the database refuses is bisected until only the bad
  request fails.
- SQLite: a writer thread runs the batch through Django in one transaction.

Every body is parsed and cleaned (:func:`checkin.parse_facts`) before it may join a
batch: a bad one is answered 422 on its own and never reaches a neighbour's write.
The batched statement stores the check-ins of every active device, online or not. A
device that was not online (back after an outage, or checking in for the first
time) is answered at once, like the others, and handed to this process's recovery
thread, which brings the returning devices of whatever arrived meanwhile back online
in one transaction (:func:`checkin.recover_many`, a few statements per batch, its
events and incident resolutions included): a returning device's check-in waits for
no recovery, so a mass recovery does not slow the check-ins down. The sweeper brings
back any device whose stored check-in a stopped process left behind.

A check-in the statement does not store (unknown key, inactive device or customer)
goes to the recovery thread too, which answers it (401, 403). Only pending commands,
and a device that keeps slipping between the two (activated meanwhile), use the
transactional Django path of :mod:`sofno.monitoring.checkin`, in a thread.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import queue
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sofno.core.models import hash_secret
from sofno.core.net import client_ip
from sofno.monitoring import checkin, checkin_rules, conf
from sofno.monitoring.geo import locate
from sofno.monitoring.models import DeviceStatus

log = logging.getLogger(__name__)

CHECKIN_PATH = "/api/v1/checkin"
PING_PREFIX = "/ping/"
JSON_HEADERS = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]

# One statement per batch, so one round trip and its own transaction: move the
# deadlines of the batch's active devices (customer active too), count their
# check-ins, and upsert each request into its device's history ring. Per device
# (``$1``..``$8``, ``$12``: how many of its requests the batch holds); per request
# (``$10``, ``$11``, ``$14``, ``$15``: how many later requests of the same device
# follow it). Built from monitoring.checkin_rules, like the Django path (constant
# names only: no input is ever formatted into it).
_BATCH = f"""
WITH v AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::text[], $5::text[],
                         $6::float8[], $7::float8[], $8::bool[], $12::int[])
        AS v(key_hash, ip, facts, country, city, lat, lon, local, n)
), updated AS (
    UPDATE monitoring_device AS d SET
        last_checkin_at = $9::timestamptz,
        alert_after = {checkin_rules.deadline_sql("d", "$9::timestamptz")},
        checkins_seen = d.checkins_seen + v.n,
        last_ip = COALESCE(v.ip::inet, d.last_ip),
        facts = CASE WHEN v.facts IS NULL THEN d.facts ELSE d.facts || v.facts END{
    checkin_rules.fact_columns_sql("d", "v")
},
        country = CASE WHEN v.ip IS NULL THEN d.country ELSE v.country END,
        city = CASE WHEN v.ip IS NULL THEN d.city ELSE v.city END,
        latitude = CASE WHEN v.ip IS NULL THEN d.latitude ELSE v.lat END,
        longitude = CASE WHEN v.ip IS NULL THEN d.longitude ELSE v.lon END,
        local_network = CASE WHEN v.ip IS NULL THEN d.local_network ELSE v.local END
    FROM v, directory_customer AS c
    WHERE d.key_hash = v.key_hash AND d.active
      AND c.id = d.customer_id AND c.active
    RETURNING d.id, d.key_hash, d.public_id, d.effective_interval, d.alert_after,
              d.pending_commands, d.checkins_seen, d.status
), stored AS (
    -- One upsert per slot: each probes the (device, slot) index directly, whatever
    -- the table's statistics say (an UPDATE ... FROM join may pick a plan that scans
    -- the whole ring table per batch when they are stale).
    INSERT INTO monitoring_checkin AS h (device_id, slot, seq, at, ip, facts)
    SELECT updated.id, (updated.checkins_seen - r.later) % $13,
           updated.checkins_seen - r.later,
           $9::timestamptz, r.ip::inet, r.facts
    FROM updated JOIN unnest($10::text[], $11::text[], $14::jsonb[], $15::int[])
        AS r(key_hash, ip, facts, later) ON r.key_hash = updated.key_hash
    -- Only the latest ring-full of one device's requests: each slot once per statement.
    WHERE r.later < $13
    ON CONFLICT (device_id, slot) DO UPDATE
        SET seq = excluded.seq, at = excluded.at, ip = excluded.ip, facts = excluded.facts
)
SELECT * FROM updated
"""  # noqa: S608

Item = tuple[str, str | None, dict | None, asyncio.Future]


def _refused_by_database(asyncpg, exc: BaseException) -> bool:
    """Whether ``exc`` says the data was refused (not the connection or the server):
    SQLSTATE classes 22 (data exception) and 23 (constraint), or an argument the
    driver could not encode."""
    from asyncpg.exceptions._base import DataError as ArgumentError

    if isinstance(exc, asyncpg.PostgresError):
        return (getattr(exc, "sqlstate", "") or "")[:2] in {"22", "23"}
    # asyncpg's own "invalid input for query argument" (raised before sending).
    return isinstance(exc, ArgumentError)


class PostgresWriter:
    """Group-commits check-ins of online devices through asyncpg.

    A batch the database refuses is split in halves and each half retried, so that
    only the offending request fails (422) and its neighbours are stored.
    """

    def __init__(self, connect_kwargs: dict[str, Any], concurrency: int | None = None) -> None:
        self.connect_kwargs = connect_kwargs
        self.concurrency = concurrency or conf.writers()
        self.queue: asyncio.Queue[Item] = asyncio.Queue()
        self.batch_max = conf.batch_size()
        self.history_size = checkin_rules.history_size()
        self._tasks: list[asyncio.Task] = []
        self.recovery: RecoveryThread | None = None
        # Devices handed to the recovery thread and not yet back: a device that checks
        # in again meanwhile is not handed over twice.
        self._returning: set[str] = set()
        # How often each waiting check-in went to the recovery thread.
        self._recoveries: weakref.WeakKeyDictionary[asyncio.Future, int] = (
            weakref.WeakKeyDictionary()
        )

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run()) for _ in range(self.concurrency)]
        self.recovery = RecoveryThread(RECOVERY_BATCH)

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.recovery is not None:
            await self.recovery.aclose()

    async def submit(self, key_hash: str, ip: str | None, facts: dict | None) -> checkin.Answer:
        future = asyncio.get_running_loop().create_future()
        self.queue.put_nowait((key_hash, ip, facts, future))
        return await future

    async def _run(self) -> None:
        import asyncpg

        conn = None
        try:
            while True:
                conn = await self._next_batch(asyncpg, conn)
        finally:
            if conn is not None:
                conn.terminate()

    async def _next_batch(self, asyncpg, conn):
        """Write one batch; returns the connection to reuse (``None`` after a failure)."""
        batch = [await self.queue.get()]
        while len(batch) < self.batch_max and not self.queue.empty():
            batch.append(self.queue.get_nowait())
        return await self._write_isolated(asyncpg, conn, batch)

    async def _write_isolated(self, asyncpg, conn, batch: list[Item]):
        """Write ``batch``; when the database refuses it, bisect so only the bad
        request fails. Connection trouble retries the whole batch (three tries)."""
        for attempt in range(3):
            try:
                if conn is None or conn.is_closed():
                    conn = await asyncpg.connect(**self.connect_kwargs)
                await self._write(conn, batch)
                return conn
            except asyncpg.DeadlockDetectedError:
                continue  # two writers met on the same rows; retry the batch
            except Exception as exc:
                if _refused_by_database(asyncpg, exc) and conn is not None and not conn.is_closed():
                    # The statement's own transaction rolled back: nothing of it is
                    # stored, so each half can go again.
                    if len(batch) == 1:
                        log.warning("check-in refused by the database: %s", exc)
                        _settle(batch[0][3], checkin.UNSTORABLE)
                        return conn
                    middle = len(batch) // 2
                    conn = await self._write_isolated(asyncpg, conn, batch[:middle])
                    return await self._write_isolated(asyncpg, conn, batch[middle:])
                log.exception("check-in batch failed (attempt %s)", attempt + 1)
                if conn is not None:
                    conn.terminate()
                conn = None
        for *_, future in batch:
            _settle(future, checkin.FAILED)
        return conn

    async def _write(self, conn, batch: list[Item]) -> None:
        now = dt.datetime.now(dt.UTC)
        merged: dict[str, list] = {}
        later: list[int] = []
        for key_hash, ip, facts, _ in batch:
            previous = merged.get(key_hash)
            if previous is None:
                merged[key_hash] = [ip, facts, 1]
            else:
                previous[0] = ip or previous[0]
                if facts:
                    previous[1] = checkin_rules.merged_facts(previous[1], facts)
                previous[2] += 1
        seen: dict[str, int] = {}
        for key_hash, *_ in batch:
            seen[key_hash] = seen.get(key_hash, 0) + 1
            later.append(merged[key_hash][2] - seen[key_hash])
        keys = sorted(merged)  # a fixed order keeps two writers from deadlocking
        ips, facts_json, countries, cities, lats, lons, local, counts = ([] for _ in range(8))
        for key in keys:
            ip, facts, count = merged[key]
            place = locate(ip)
            ips.append(ip)
            facts_json.append(json.dumps(facts) if facts else None)
            countries.append(place.country)
            cities.append(place.city)
            lats.append(place.latitude)
            lons.append(place.longitude)
            local.append(place.local_network)
            counts.append(count)
        rows = await conn.fetch(
            _BATCH,
            keys,
            ips,
            facts_json,
            countries,
            cities,
            lats,
            lons,
            local,
            now,
            [item[0] for item in batch],
            [item[1] for item in batch],
            counts,
            self.history_size,
            [json.dumps(item[2]) if item[2] else None for item in batch],
            later,
        )
        found = {row["key_hash"]: row for row in rows}
        # Committed: answer. The rest takes the transactional path.
        shapes: dict[tuple, list[bytes]] = {}
        for key_hash, ip, facts, future in batch:
            row = found.get(key_hash)
            if row is None:
                self._recover((key_hash, ip, facts, future))
                continue
            if row["status"] != ONLINE:
                self._bring_back(key_hash)
            if row["pending_commands"]:
                _in_thread(future, key_hash, ip, facts, True)
            elif not future.done():
                # Devices of one batch share "now", so their answers differ only in
                # the device id: encode the rest once per interval and deadline.
                shape = (row["effective_interval"], row["alert_after"])
                parts = shapes.get(shape)
                if parts is None:
                    template = checkin.ok_answer("\0", shape[0], shape[1], now, [])
                    parts = shapes[shape] = template.encoded().split(b"\\u0000")
                device = str(row["public_id"]).encode()
                future.set_result(checkin.Answer(200, raw=device.join(parts)))

    def _bring_back(self, key_hash: str) -> None:
        """Hand a device whose check-in is stored, and which is not online, to the
        recovery thread (once while it is on its way back)."""
        if self.recovery is None or key_hash in self._returning:
            return
        self._returning.add(key_hash)
        self.recovery.submit(
            key_hash,
            asyncio.get_running_loop(),
            lambda _answer: self._returning.discard(key_hash),
            stored=True,
        )

    def _recover(self, item: Item) -> None:
        """Send a check-in the batch did not store to the recovery thread; once its
        device is back online it joins a batch again. A check-in that comes back here
        ``RECOVERY_PASSES`` times (its device taken offline again each time) takes
        the transactional path instead."""
        key_hash, ip, facts, future = item
        passes = self._recoveries.get(future, 0)
        if passes >= RECOVERY_PASSES or self.recovery is None:
            _in_thread(future, key_hash, ip, facts, False)
            return
        self._recoveries[future] = passes + 1
        loop = asyncio.get_running_loop()

        def recovered(answer: checkin.Answer | None) -> None:
            if answer is _RECOVERY_FAILED:
                _in_thread(future, key_hash, ip, facts, False)
            elif answer is not None:
                _settle(future, answer)
            elif not future.done():
                self.queue.put_nowait(item)

        self.recovery.submit(key_hash, loop, recovered)


ONLINE = DeviceStatus.ONLINE.value
# How often one check-in may pass through the recovery thread before it takes the
# transactional path.
RECOVERY_PASSES = 3
# Recovery threads per server process (each holds one database connection while it
# works). One keeps up: its batches grow with the load (two measured no faster).
RECOVERY_THREADS = 1
# The most devices one recovery transaction brings back. Check-ins wait for a
# recovery only while it writes the devices' rows (its last statement), so large
# batches cost them little and spread the transaction's dozen statements wider.
RECOVERY_BATCH = 400
# What the recovery thread answers when its transaction failed.
_RECOVERY_FAILED = checkin.Answer(500)


class RecoveryThread:
    """Brings returning devices back online in batches, in ``RECOVERY_THREADS``
    threads with a Django connection each (the fast path's recovery:
    :func:`checkin.recover_many`).

    Each batch is one transaction of a few statements, however many devices it holds:
    a mass recovery (10,000 computers back after a network outage) costs a few dozen
    transactions, not one each on the slow path's pooled connections. The connection
    goes back to the pool after each batch.
    """

    def __init__(self, batch_max: int, threads: int = 0) -> None:
        self.queue: queue.Queue = queue.Queue()
        self.batch_max = batch_max
        self.threads = [
            threading.Thread(target=self._run, name="checkin-recovery", daemon=True)
            for _ in range(threads or RECOVERY_THREADS)
        ]
        for thread in self.threads:
            thread.start()

    def submit(
        self, key_hash: str, loop: asyncio.AbstractEventLoop, done, *, stored: bool = False
    ) -> None:
        """Recover ``key_hash``'s device; ``done(answer)`` runs on ``loop`` after the
        commit (``None``: store the check-in as an ordinary one). ``stored``: the
        check-in is stored and answered already."""
        self.queue.put((key_hash, stored, loop, done))

    async def aclose(self) -> None:
        for _thread in self.threads:
            self.queue.put(None)
        for thread in self.threads:
            await asyncio.to_thread(thread.join, 30)

    def _run(self) -> None:
        from django.db import close_old_connections, connections

        while True:
            first = self.queue.get()
            if first is None:
                connections.close_all()
                return
            batch = [first]
            while len(batch) < self.batch_max:
                try:
                    item = self.queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self.queue.put(None)  # stop after this batch
                    break
                batch.append(item)
            answers: dict[str, checkin.Answer] = {}
            for stored in (True, False):
                keys = [key for key, of_stored, _loop, _done in batch if of_stored is stored]
                if keys:
                    answers |= self._recover_many(keys, stored)
            close_old_connections()  # back to the pool while idle
            for key, _stored, loop, done in batch:
                loop.call_soon_threadsafe(done, answers.get(key))

    @staticmethod
    def _recover_many(keys: list[str], stored: bool) -> dict[str, checkin.Answer]:
        """:func:`checkin.recover_many`, tried three times on a deadlock or a lost
        connection; each key answers ``_RECOVERY_FAILED`` when it failed (a stored
        check-in's device is then left to the sweeper)."""
        from django.db import OperationalError, close_old_connections, connections

        for attempt in range(3):
            try:
                close_old_connections()
                return checkin.recover_many(keys, stored=stored)
            except OperationalError:  # a deadlock or a lost connection: again
                log.warning("recovery batch failed (attempt %s)", attempt + 1, exc_info=True)
                connections.close_all()
            except Exception:
                log.exception("recovery batch failed")
                break
        return dict.fromkeys(keys, _RECOVERY_FAILED)


SLOW_THREADS = 4
_slow_pool = ThreadPoolExecutor(SLOW_THREADS, thread_name_prefix="checkin-slow")


def _close_slow_pool_connections() -> None:
    """Close the Django connections of every slow-path thread (tests end with this)."""
    from django.db import connections

    barrier = threading.Barrier(SLOW_THREADS)

    def close() -> None:
        barrier.wait(timeout=10)  # one call per thread: all are busy here at once
        connections.close_all()

    for job in [_slow_pool.submit(close) for _ in range(SLOW_THREADS)]:
        job.result()


def _in_thread(future: asyncio.Future, key_hash, ip, facts, stored: bool) -> None:
    async def run() -> None:
        try:
            answer = await asyncio.get_running_loop().run_in_executor(
                _slow_pool, checkin.handle_hashed, key_hash, ip, facts, None, stored
            )
        except Exception:
            log.exception("check-in failed")
            answer = checkin.FAILED
        if not future.done():
            future.set_result(answer)

    task = asyncio.create_task(run())
    _BACKGROUND.add(task)  # keep a reference until it is done
    task.add_done_callback(_BACKGROUND.discard)


_BACKGROUND: set[asyncio.Task] = set()


class ThreadWriter:
    """Group-commits check-ins through Django in one writer thread (SQLite)."""

    def __init__(self) -> None:
        self.queue: queue.Queue = queue.Queue()
        self.batch_max = conf.batch_size()
        threading.Thread(target=self._run, name="checkin-writer", daemon=True).start()

    async def submit(self, key_hash: str, ip: str | None, facts: dict | None) -> checkin.Answer:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.queue.put((key_hash, ip, facts, loop, future))
        return await future

    def start(self) -> None:
        pass

    async def aclose(self) -> None:
        self.queue.put(None)

    def _run(self) -> None:
        from django.db import close_old_connections

        while True:
            first = self.queue.get()
            if first is None:
                close_old_connections()
                from django.db import connections

                connections.close_all()
                return
            batch = [first]
            while len(batch) < self.batch_max:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            try:
                close_old_connections()
                answers = checkin.handle_many([(k, ip, f) for k, ip, f, _, _ in batch])
            except Exception:
                log.exception("check-in batch failed")
                answers = [checkin.FAILED] * len(batch)
            for (_, _, _, loop, future), answer in zip(batch, answers, strict=True):
                loop.call_soon_threadsafe(_settle, future, answer)


def _settle(future: asyncio.Future, answer: checkin.Answer) -> None:
    if not future.done():
        future.set_result(answer)


def _writer():
    from django.db import connections

    settings_dict = connections["default"].settings_dict
    if connections["default"].vendor == "postgresql":
        kwargs = {
            "database": settings_dict["NAME"],
            "user": settings_dict.get("USER") or None,
            "password": settings_dict.get("PASSWORD") or None,
            "host": settings_dict.get("HOST") or None,
            "port": int(settings_dict["PORT"]) if settings_dict.get("PORT") else None,
        }
        return PostgresWriter({k: v for k, v in kwargs.items() if v is not None})
    return ThreadWriter()


class FastPath:
    """ASGI app answering check-ins itself and passing everything else on."""

    def __init__(self, app) -> None:
        self.app = app
        self.limiter = checkin.RateLimiter()
        self.max_body = conf.max_body()
        self._writers: dict[int, Any] = {}

    async def aclose(self) -> None:
        """Stop this loop's writer (tests; a server process just exits)."""
        found = self._writers.pop(id(asyncio.get_running_loop()), None)
        if found is not None:
            await found.aclose()
        await asyncio.to_thread(_close_slow_pool_connections)

    def writer(self):
        # One writer per event loop (uvicorn runs one loop per process).
        loop_id = id(asyncio.get_running_loop())
        found = self._writers.get(loop_id)
        if found is None:
            found = self._writers[loop_id] = _writer()
            found.start()
        return found

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path, method = scope["path"], scope["method"]
        headers = dict(scope.get("headers") or [])
        if path == CHECKIN_PATH:
            if method != "POST":
                return await _respond(
                    send, 405, _error("method_not_allowed", "Use POST."), [(b"allow", b"POST")]
                )
            scheme, _, key = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
            key = key.strip() if scheme.lower() == "device" else ""
            facts_allowed = True
        elif path.startswith(PING_PREFIX):
            if method not in ("GET", "POST", "HEAD"):
                return await _respond(
                    send,
                    405,
                    _error("method_not_allowed", "Use GET or POST."),
                    [(b"allow", b"GET, POST, HEAD")],
                )
            key = path[len(PING_PREFIX) :].strip("/")
            facts_allowed = False
        else:
            return await self.app(scope, receive, send)
        head = method == "HEAD"
        answer = await self._answer(scope, receive, headers, key, facts_allowed)
        extra = [(b"retry-after", b"60")] if answer.status == 429 else []
        await _respond(send, answer.status, answer.encoded(), extra, head=head)

    async def _answer(self, scope, receive, headers, key: str, facts_allowed: bool):
        declared = headers.get(b"content-length")
        if declared and declared.isdigit() and int(declared) > self.max_body:
            return checkin.TOO_LARGE
        body = await _read_body(receive, self.max_body)
        if body is None:
            return checkin.TOO_LARGE
        if not key:
            return checkin.UNKNOWN
        key_hash = hash_secret(key)
        if not self.limiter.allow(key_hash):
            return checkin.RATE_LIMITED
        facts = None
        if facts_allowed:
            try:
                facts = checkin.parse_facts(body)
            except checkin.BadCheckin as exc:
                return checkin.Answer(422, exc.body())
        return await self.writer().submit(key_hash, self._client_ip(scope, headers), facts)

    def _client_ip(self, scope, headers) -> str | None:
        # X-Forwarded-For only from SOFNO_TRUSTED_PROXIES: its leftmost entry is
        # whatever the client wrote, so it is never taken on trust.
        # Cleaned here: a peer that is no IP address (a Unix socket) must not reach
        # the batch's inet column.
        return checkin.clean_ip(client_ip(scope))


def _error(code: str, message: str) -> dict:
    return {"code": code, "message": message, "errors": []}


async def _read_body(receive, limit: int) -> bytes | None:
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return bytes(body)
        body += message.get("body", b"")
        if len(body) > limit:
            return None
        if not message.get("more_body", False):
            return bytes(body)


async def _respond(send, status: int, body: dict | bytes, extra=(), head: bool = False) -> None:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*JSON_HEADERS, (b"content-length", str(len(data)).encode()), *extra],
        }
    )
    await send({"type": "http.response.body", "body": b"" if head else data})


def wrap(django_app):
    """Put the check-in route in front of the Django ASGI application."""
    return FastPath(django_app)
