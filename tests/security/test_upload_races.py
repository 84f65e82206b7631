"""Requests racing on one upload session never poison a blob (issue 8, finding 1).

The promise: the bytes committed under a digest are exactly the bytes that hashed to it; a
refused request changes nothing; a completed or deleted session accepts no more writes; the
chunk answered ``202`` is the chunk stored. The app runs in-process and several requests
run at once on one event loop (request bodies are streamed, so a test can hold one request
half-way through its body while others finish). A hypothesis state machine interleaves
POST/PATCH/PUT/DELETE/GET of sessions; the deterministic tests replay the races that broke
berth before. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from berth.app import BerthApp, build_app
from berth.config import load_settings

BASE_URL = "http://localhost:5000"
_RANGE = re.compile(r"^0-(\d+)$")

Client = httpx.AsyncClient


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Iterator[BerthApp]:
    settings_ = load_settings(
        overrides={"insecure_no_auth": True, "data_dir": tmp_path, "database_url": database_url}, environ={}
    )
    built = build_app(settings_)
    built.startup()
    yield built
    built.shutdown()


def run(app: BerthApp, scenario: Callable[[Client], Awaitable[None]]) -> None:
    async def main() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, timeout=60) as client:
            await scenario(client)

    anyio.run(main)


async def held_body(
    first: bytes, rest: bytes, gate: anyio.Event, started: anyio.Event
) -> AsyncIterator[bytes]:
    """A request body that sends ``first``, waits for ``gate``, then sends ``rest``."""
    yield first
    started.set()
    await gate.wait()
    yield rest


async def start(client: Client, repository: str) -> str:
    response = await client.post(f"/v2/{repository}/blobs/uploads/")
    assert response.status_code == 202, response.text
    return str(response.headers["Location"])


async def assert_blob_is(client: Client, repository: str, data: bytes) -> None:
    response = await client.get(f"/v2/{repository}/blobs/{digest_of(data)}")
    assert response.status_code == 200, response.text
    assert response.content == data
    assert digest_of(response.content) == response.headers["Docker-Content-Digest"]


# --- the races that broke berth -------------------------------------------------------------


@pytest.mark.parametrize("size", [300, 3 * 1024 * 1024])  # verified on every read, and streamed
def test_a_patch_racing_the_completing_put_cannot_poison_the_blob(app: BerthApp, size: int) -> None:
    blob = bytes(random.Random(size).getrandbits(8) for _ in range(size))
    evil = b"EVIL" * (size // 4 + 1)

    async def scenario(client: Client) -> None:
        location = await start(client, "race/poison")
        assert (await client.patch(location, content=blob)).status_code == 202
        gate, started = anyio.Event(), anyio.Event()
        answers: list[httpx.Response] = []

        async def racing_patch() -> None:
            answers.append(
                await client.patch(location, content=held_body(evil[:100], evil[100:], gate, started))
            )

        async with anyio.create_task_group() as group:
            group.start_soon(racing_patch)
            await started.wait()
            done = await client.put(location, params={"digest": digest_of(blob)})
            assert done.status_code == 201, done.text
            gate.set()

        await assert_blob_is(client, "race/poison", blob)
        assert answers[0].status_code == 404, answers[0].text
        # and every later honest push of the digest is served the honest bytes
        again = await client.post(
            "/v2/race/again/blobs/uploads/", params={"digest": digest_of(blob)}, content=blob
        )
        assert again.status_code == 201
        await assert_blob_is(client, "race/again", blob)

    run(app, scenario)


def test_of_three_racing_patches_the_one_answered_202_is_the_one_stored(app: BerthApp) -> None:
    bodies = [bytes([65 + i]) * (1000 + i) for i in range(3)]

    async def scenario(client: Client) -> None:
        location = await start(client, "race/three")
        gate = anyio.Event()
        started = [anyio.Event() for _ in bodies]
        answers: dict[int, httpx.Response] = {}

        async def patch(index: int) -> None:
            body = held_body(bodies[index][:10], bodies[index][10:], gate, started[index])
            answers[index] = await client.patch(
                location, content=body, headers={"Content-Range": f"0-{len(bodies[index]) - 1}"}
            )

        async with anyio.create_task_group() as group:
            for index in range(len(bodies)):
                group.start_soon(patch, index)
            for event in started:
                await event.wait()
            gate.set()

        accepted = [i for i, answer in answers.items() if answer.status_code == 202]
        refused = [i for i, answer in answers.items() if answer.status_code == 416]
        codes = {i: a.status_code for i, a in answers.items()}
        assert len(accepted) == 1, codes
        assert len(refused) == 2, codes
        winner = bodies[accepted[0]]
        assert answers[accepted[0]].headers["Range"] == f"0-{len(winner) - 1}"
        for loser in refused:
            assert answers[loser].json()["errors"][0]["code"] == "RANGE_INVALID"
        done = await client.put(location, params={"digest": digest_of(winner)})
        assert done.status_code == 201, done.text
        await assert_blob_is(client, "race/three", winner)

    run(app, scenario)


def test_a_refused_completion_with_a_body_changes_nothing(app: BerthApp) -> None:
    """A PUT whose final chunk lost the race to a PATCH leaves the session as the PATCH made it."""

    async def scenario(client: Client) -> None:
        location = await start(client, "race/put-body")
        gate, started = anyio.Event(), anyio.Event()
        answers: list[httpx.Response] = []

        async def completing_put() -> None:
            body = held_body(b"put-", b"bytes", gate, started)
            answers.append(
                await client.put(location, params={"digest": digest_of(b"put-bytes")}, content=body)
            )

        async with anyio.create_task_group() as group:
            group.start_soon(completing_put)
            await started.wait()
            assert (await client.patch(location, content=b"patch-bytes")).status_code == 202
            gate.set()

        assert answers[0].status_code == 416, answers[0].text
        status = await client.get(location)
        assert (status.status_code, status.headers["Range"]) == (204, f"0-{len(b'patch-bytes') - 1}")
        assert (await client.put(location, params={"digest": digest_of(b"patch-bytes")})).status_code == 201
        await assert_blob_is(client, "race/put-body", b"patch-bytes")

    run(app, scenario)


@pytest.mark.parametrize("ending", ["put", "delete"])
def test_a_finished_session_accepts_no_more_writes(app: BerthApp, ending: str) -> None:
    async def scenario(client: Client) -> None:
        location = await start(client, "race/finished")
        assert (await client.patch(location, content=b"data")).status_code == 202
        if ending == "put":
            assert (await client.put(location, params={"digest": digest_of(b"data")})).status_code == 201
        else:
            assert (await client.delete(location)).status_code == 204
        for response in (
            await client.patch(location, content=b"more"),
            await client.put(location, params={"digest": digest_of(b"datamore")}, content=b"more"),
            await client.get(location),
            await client.delete(location),
        ):
            assert response.status_code == 404, response.text
            assert response.json()["errors"][0]["code"] == "BLOB_UPLOAD_UNKNOWN"

    run(app, scenario)


# --- the state machine ------------------------------------------------------------------------


@dataclass
class Session:
    location: str
    content: bytes = b""  # what the session holds, as the answers it gave say
    open: bool = True


@dataclass
class Outcome:
    kind: str
    body: bytes
    response: httpx.Response


@dataclass
class Observed:
    completed: dict[str, bytes] = field(default_factory=dict)  # digest -> bytes a 201 stored


OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("patch"), st.binary(min_size=1, max_size=64)),
        st.tuples(st.just("put"), st.binary(max_size=32)),
        st.tuples(st.just("put-wrong"), st.binary(max_size=8)),
        st.tuples(st.just("delete"), st.just(b"")),
        st.tuples(st.just("get"), st.just(b"")),
    ),
    min_size=2,
    max_size=4,
)


async def _perform(client: Client, session: Session, kind: str, body: bytes, pause: int) -> Outcome:
    for _ in range(pause):
        await anyio.sleep(0)

    async def trickle() -> AsyncIterator[bytes]:
        for start_ in range(0, len(body), 7):
            yield body[start_ : start_ + 7]
            await anyio.sleep(0)

    location = session.location
    if kind == "patch":
        response = await client.patch(location, content=trickle())
    elif kind == "put":
        digest = digest_of(session.content + body)
        response = await client.put(location, params={"digest": digest}, content=trickle() if body else None)
    elif kind == "put-wrong":
        response = await client.put(
            location, params={"digest": digest_of(b"not" + body)}, content=body or None
        )
    elif kind == "delete":
        response = await client.delete(location)
    else:
        response = await client.get(location)
    return Outcome(kind, body, response)


def _end_of(response: httpx.Response, known: bytes) -> int:
    found = _RANGE.match(response.headers["Range"])
    assert found is not None, response.headers
    end = int(found.group(1))
    return 0 if end == 0 and not known else end + 1


def test_racing_requests_on_sessions_keep_every_digest_honest(app: BerthApp) -> None:
    observed = Observed()

    class UploadRaces(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.sessions: list[Session] = []

        @initialize()
        def first_session(self) -> None:
            self.new_session()

        @rule()
        def new_session(self) -> None:
            async def scenario(client: Client) -> None:
                self.sessions.append(Session(await start(client, "race/machine")))

            run(app, scenario)

        @rule(
            which=st.integers(min_value=0),
            operations=OPERATIONS,
            pauses=st.lists(st.integers(0, 3), min_size=4, max_size=4),
        )
        def race(self, which: int, operations: list[tuple[str, bytes]], pauses: list[int]) -> None:
            session = self.sessions[which % len(self.sessions)]
            before = session.content
            outcomes: list[Outcome] = []

            async def scenario(client: Client) -> None:
                async def one(index: int) -> None:
                    kind, body = operations[index]
                    outcomes.append(await _perform(client, session, kind, body, pauses[index]))

                async with anyio.create_task_group() as group:
                    for index in range(len(operations)):
                        group.start_soon(one, index)
                status = await client.get(session.location)
                outcomes.append(Outcome("status", b"", status))

            run(app, scenario)
            self._settle(session, before, outcomes)

        def _settle(self, session: Session, before: bytes, outcomes: list[Outcome]) -> None:
            for outcome in outcomes:
                assert outcome.response.status_code < 500, outcome.response.text
            if not session.open:
                assert all(o.response.status_code == 404 for o in outcomes), [
                    (o.kind, o.response.status_code) for o in outcomes
                ]
                return
            for outcome in outcomes:
                if outcome.kind == "put" and outcome.response.status_code == 201:
                    observed.completed[outcome.response.headers["Docker-Content-Digest"]] = (
                        before + outcome.body
                    )
            # The chunks answered 202 must tile the session from where it was, in Range order.
            accepted = sorted(
                (_end_of(o.response, before + o.body) - len(o.body), o.body)
                for o in outcomes
                if o.kind == "patch" and o.response.status_code == 202
            )
            content = before
            for start_, body in accepted:
                assert start_ == len(content), (start_, len(content), accepted)
                content += body
            status = outcomes[-1].response
            if status.status_code == 404:
                session.open = False
                closers = {("put", 201), ("put", 400), ("put-wrong", 400), ("delete", 204)}
                assert any((o.kind, o.response.status_code) in closers for o in outcomes), [
                    (o.kind, o.response.status_code) for o in outcomes
                ]
                return
            assert status.status_code == 204, status.text
            assert _end_of(status, content) == len(content), (status.headers["Range"], len(content))
            session.content = content

        @rule(which=st.integers(min_value=0))
        def complete(self, which: int) -> None:
            """The session holds exactly what its 202 answers said: its digest completes it."""
            session = self.sessions[which % len(self.sessions)]
            if not session.open:
                return

            async def scenario(client: Client) -> None:
                response = await client.put(session.location, params={"digest": digest_of(session.content)})
                assert response.status_code == 201, response.text
                observed.completed[digest_of(session.content)] = session.content

            run(app, scenario)
            session.open = False

        @invariant()
        def every_blob_is_what_its_digest_names(self) -> None:
            async def scenario(client: Client) -> None:
                for digest, data in observed.completed.items():
                    response = await client.get(f"/v2/race/machine/blobs/{digest}")
                    assert response.status_code == 200, response.text
                    assert response.content == data
                    assert digest_of(response.content) == digest

            run(app, scenario)

    run_state_machine_as_test(
        UploadRaces,
        settings=settings(
            max_examples=25,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            derandomize=True,
        ),
    )
