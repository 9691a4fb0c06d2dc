"""The request path's own Redis connection (`router.store.redis_wire`).

Against a real redis-server, except where a server must misbehave: then a real TCP server on
loopback that accepts and never answers.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError

from router.store.redis_wire import Commands, Wire, pack


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    opened = aioredis.Redis.from_url(redis_url, decode_responses=True)
    yield opened
    await opened.aclose()


@pytest.fixture
async def wire(redis_url: str) -> AsyncIterator[Wire]:
    opened = Wire.from_url(redis_url)
    assert opened is not None
    yield opened
    await opened.close()


def test_commands_are_packed_as_resp_arrays_of_bulk_strings() -> None:
    assert pack("SET", "k", "é", "EX", 5) == (
        b"*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n\xc3\xa9\r\n$2\r\nEX\r\n$1\r\n5\r\n"
    )
    commands = Commands()
    commands.set("a", 1)
    commands.set("b", 2, ex=60)
    commands.evalsha("f" * 40, 1, "k", "arg")
    commands.sadd("s", "x", "y")
    commands.delete("a", "b")
    assert commands.queued == [
        ("SET", "a", 1),
        ("SET", "b", 2, "EX", 60),
        ("EVALSHA", "f" * 40, 1, "k", "arg"),
        ("SADD", "s", "x", "y"),
        ("DEL", "a", "b"),
    ]


def test_only_plain_and_unix_urls_get_a_wire() -> None:
    plain = Wire.from_url("redis://user:p%40ss@cache.internal:6380/3")
    assert plain is not None
    assert (plain.host, plain.port, plain.db, plain.username, plain.password) == (
        "cache.internal",
        6380,
        3,
        "user",
        "p@ss",
    )
    unix = Wire.from_url("unix:///run/redis.sock?db=2")
    assert unix is not None and (unix.path, unix.db) == ("/run/redis.sock", 2)
    assert Wire.from_url("rediss://cache.internal:6380/0") is None  # TLS: redis-py's own
    assert Wire.from_url("redis+sentinel://s:26379/mymaster/0") is None


async def test_a_round_trip_answers_in_order_with_errors_in_place(
    wire: Wire, client: aioredis.Redis
) -> None:
    key = "wire:" + uuid.uuid4().hex
    sha = await client.script_load("return {ARGV[1], tonumber(ARGV[2]) + 1}")
    commands = Commands()
    commands.set(key, "v", ex=60)
    commands.evalsha(sha, 0, "ok", "41")
    commands.evalsha("0" * 40, 0)  # no such script
    commands.sadd(key, "x")  # a string, not a set
    commands.delete(key)
    replies = await wire.execute(commands.queued)
    assert replies[:2] == ["OK", ["ok", 42]]
    assert isinstance(replies[2], NoScriptError)
    assert isinstance(replies[3], ResponseError) and "WRONGTYPE" in str(replies[3])
    assert replies[4] == 1
    assert await client.exists(key) == 0


async def test_concurrent_callers_share_one_connection_and_get_their_own_replies(
    wire: Wire, client: aioredis.Redis
) -> None:
    before = int((await client.info("clients"))["connected_clients"])

    async def echo(n: int) -> list[object]:
        return await wire.execute([("ECHO", f"{n}-{i}") for i in range(n % 4 + 1)])

    replies = await asyncio.gather(*(echo(n) for n in range(200)))
    assert replies == [[f"{n}-{i}" for i in range(n % 4 + 1)] for n in range(200)]
    assert int((await client.info("clients"))["connected_clients"]) == before + 1


async def test_a_caller_that_stops_waiting_leaves_the_others_their_replies(wire: Wire) -> None:
    slow = asyncio.create_task(wire.execute([("ECHO", "gone")]))
    after = asyncio.create_task(wire.execute([("ECHO", "kept")]))
    await asyncio.sleep(0)
    slow.cancel()
    assert await after == ["kept"]
    assert await wire.execute([("ECHO", "next")]) == ["next"]


async def test_a_lost_connection_fails_its_callers_and_the_next_call_reconnects(
    wire: Wire, client: aioredis.Redis
) -> None:
    [own] = await wire.execute([("CLIENT", "ID")])
    waiting = asyncio.create_task(wire.execute([("BLPOP", "wire:" + uuid.uuid4().hex, 5)]))
    await asyncio.sleep(0.05)  # blocked in the server, its reply outstanding
    await client.execute_command("CLIENT", "KILL", "ID", str(own))
    with pytest.raises(RedisConnectionError, match="lost"):
        await asyncio.wait_for(waiting, 2)
    [again] = await wire.execute([("CLIENT", "ID")])
    assert again != own


async def test_credentials_and_the_database_come_from_the_url(
    redis_url: str, client: aioredis.Redis
) -> None:
    user = "wire" + uuid.uuid4().hex[:8]
    await client.execute_command("ACL", "SETUSER", user, "on", ">s3cret", "~*", "+@all")
    base = redis_url.removeprefix("redis://").rsplit("/", 1)[0]
    key = "wire:" + uuid.uuid4().hex
    good = Wire.from_url(f"redis://{user}:s3cret@{base}/5")
    bad = Wire.from_url(f"redis://{user}:wrong@{base}/0")
    assert good is not None and bad is not None
    try:
        commands = Commands()
        commands.set(key, "in five", ex=60)
        assert await good.execute(commands.queued) == ["OK"]
        five = aioredis.Redis.from_url(redis_url.rsplit("/", 1)[0] + "/5", decode_responses=True)
        try:
            assert await five.get(key) == "in five"
        finally:
            await five.delete(key)
            await five.aclose()
        assert await client.get(key) is None  # not in database 0
        with pytest.raises(RedisConnectionError, match="refused"):
            await bad.execute([("PING",)])
    finally:
        await good.close()
        await bad.close()
        await client.execute_command("ACL", "DELUSER", user)


async def test_a_server_that_stops_answering_is_left_for_a_fresh_connection() -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)
        await reader.read(1 << 16)  # reads the command, answers nothing

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    wire = Wire(host="127.0.0.1", port=port, stall_seconds=0.05)
    try:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(wire.execute([("PING",)]), 0.1)
        await asyncio.sleep(0.1)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(wire.execute([("PING",)]), 0.1)
        assert len(accepted) == 2, "the stalled connection was not replaced"
    finally:
        await wire.close()
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_nothing_is_sent_after_close(wire: Wire) -> None:
    assert await wire.execute([("PING",)]) == ["PONG"]
    await wire.close()
    with pytest.raises(RedisConnectionError, match="closed"):
        await wire.execute([("PING",)])
