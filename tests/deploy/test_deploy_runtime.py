"""The serving process's runtime in this process, over real HTTP: draining, signals, knowledge
swaps and ``/metrics``, against the fake Slack."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from bot.core.knowledge import load_knowledge
from bot.core.router import Router
from bot.deploy.runtime import ReplicaRuntime
from bot.settings import Secret, Settings
from bot.slack.app import SlackApp, create_app
from bot.slack.memory import InMemoryReplyStore, TTLEventDeduplicator
from bot.slack.server import create_web_app
from tests.deploy.knowledge_edits import MARK, break_faq, mark_answer
from tests.deploy.replicas import poll
from tests.slack.fake_slack import BOT_TOKEN, FakeSlack
from tests.slack.slack_requests import SIGNING_SECRET, SlackSender, mention

QUESTION = "Who co-hosted the hackathon?"


@dataclass
class Served:
    runtime: ReplicaRuntime
    slack_app: SlackApp
    url: str
    sender: SlackSender
    http: aiohttp.ClientSession

    async def get(self, path: str) -> tuple[int, str, str]:
        async with self.http.get(self.url + path) as response:
            return response.status, response.content_type, await response.text()

    async def metric(self, name: str, **labels: str) -> float:
        _, _, text = await self.get("/metrics")
        return sum(
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == name and labels.items() <= sample.labels.items()
        )


@pytest.fixture
def settings(fake_slack: FakeSlack, knowledge_dir: Path) -> Settings:
    return Settings(
        knowledge_dir=knowledge_dir,
        slack_bot_token=Secret(BOT_TOKEN),
        slack_signing_secret=Secret(SIGNING_SECRET),
        slack_api_base_url=fake_slack.api_url,
        shutdown_grace_seconds=10.0,
        knowledge_poll_seconds=0.0,
    )


@contextlib.asynccontextmanager
async def serve(settings: Settings) -> AsyncIterator[Served]:
    runtime = ReplicaRuntime(settings)
    slack_app = create_app(
        settings,
        Router(load_knowledge(settings.knowledge_dir)),
        reply_store=runtime.reply_store(InMemoryReplyStore()),
        deduplicator=runtime.deduplicator(TTLEventDeduplicator()),
        retry_handlers=runtime.retry_handlers(),
    )
    web_app = create_web_app(slack_app, signing_secret=SIGNING_SECRET, grace_seconds=10.0)
    runtime.attach(web_app, slack_app)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    url = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        try:
            yield Served(runtime, slack_app, url, SlackSender(http, f"{url}/slack/events"), http)
        finally:
            await runner.cleanup()


@pytest.fixture
async def served(settings: Settings) -> AsyncIterator[Served]:
    async with serve(settings) as running:
        yield running


async def test_draining_refuses_new_events_but_finishes_replies_in_flight(
    served: Served, fake_slack: FakeSlack
) -> None:
    fake_slack.slow_down("chat.postMessage", 1.0)
    work = served.slack_app.services.work
    assert (await served.sender.event(mention(QUESTION))).status == 200
    await poll(lambda: work.running > 0, within=5, what="a reply in flight")

    drained = asyncio.create_task(served.runtime.drain())
    await poll(lambda: served.runtime.draining, within=5, what="draining")

    status, _, body = await served.get("/health")
    assert (status, body) == (503, '{"status": "draining"}')
    async with served.http.post(
        served.sender.url, data=b"{}", headers={"Content-Type": "application/json"}
    ) as refused:
        assert refused.status == 503
        assert "X-Slack-No-Retry" not in refused.headers
    # Slack never retries a slash command, so one is still answered while draining.
    command = await served.sender.command(
        "/ask", QUESTION, response_url=fake_slack.response_url("during-drain")
    )
    assert command.status == 200

    assert await drained is True
    assert len(fake_slack.delivered("chat.postMessage")) == 1
    assert len(fake_slack.delivered("response_url")) == 1
    assert await served.metric("hackathon_bot_events_refused_while_draining_total") == 1
    assert await served.metric("hackathon_bot_draining") == 1


async def test_draining_gives_up_after_the_grace_period(
    settings: Settings, fake_slack: FakeSlack
) -> None:
    async with serve(replace(settings, shutdown_grace_seconds=0.2)) as served:
        fake_slack.slow_down("chat.postMessage", 1.0)
        assert (await served.sender.event(mention(QUESTION))).status == 200
        work = served.slack_app.services.work
        await poll(lambda: work.running > 0, within=5, what="a reply in flight")
        assert await served.runtime.drain() is False


async def test_sigterm_drains_and_a_second_one_stops_waiting(
    served: Served, fake_slack: FakeSlack
) -> None:
    fake_slack.slow_down("chat.postMessage", 3.0)
    assert (await served.sender.event(mention(QUESTION))).status == 200
    work = served.slack_app.services.work
    await poll(lambda: work.running > 0, within=5, what="a reply in flight")
    serving = asyncio.create_task(served.runtime.serve_until_stopped())
    await asyncio.sleep(0)  # let it install its signal handlers

    os.kill(os.getpid(), signal.SIGTERM)
    await poll(lambda: served.runtime.draining, within=5, what="draining")
    assert not serving.done()
    os.kill(os.getpid(), signal.SIGTERM)

    async with asyncio.timeout(10):
        await serving
    assert work.running > 0, "it waited for the reply instead of stopping"


async def test_sighup_swaps_the_router_for_a_valid_edit_only(
    served: Served, knowledge_dir: Path
) -> None:
    services = served.slack_app.services
    original = services.router
    expected = original.reply(QUESTION)
    assert expected.intent is not None
    serving = asyncio.create_task(served.runtime.serve_until_stopped())
    await asyncio.sleep(0)
    try:
        faq_text = break_faq(knowledge_dir)
        os.kill(os.getpid(), signal.SIGHUP)
        rejected = "hackathon_bot_knowledge_reloads_total"
        await poll(lambda: served.metric(rejected, result="rejected"), within=10, what="rejected")
        assert services.router is original

        mark_answer(knowledge_dir, faq_text, expected.intent)
        os.kill(os.getpid(), signal.SIGHUP)
        await poll(lambda: services.router is not original, within=10, what="a new router")
        assert services.router.reply(QUESTION).body == MARK + expected.body
        assert services.knowledge is services.router.kb
    finally:
        served.runtime.request_stop()
        await serving


async def test_a_settled_file_change_is_reloaded_without_a_signal(
    settings: Settings, knowledge_dir: Path
) -> None:
    async with serve(replace(settings, knowledge_poll_seconds=0.05)) as served:
        services = served.slack_app.services
        original = services.router
        intent = original.reply(QUESTION).intent
        assert intent is not None
        serving = asyncio.create_task(served.runtime.serve_until_stopped())
        try:
            mark_answer(
                knowledge_dir, (knowledge_dir / "faq.yaml").read_text(encoding="utf-8"), intent
            )
            await poll(lambda: services.router is not original, within=10, what="reloaded")
            assert services.router.reply(QUESTION).body.startswith(MARK)
            entries = await served.metric("hackathon_bot_knowledge_entries")
            assert entries == len(services.knowledge.entries)
        finally:
            served.runtime.request_stop()
            await serving


async def test_metrics_count_requests_replies_dedupe_and_slack_retries(
    served: Served, fake_slack: FakeSlack
) -> None:
    fake_slack.fail_next("chat.postMessage", 500)
    event = mention(QUESTION)
    first = await served.sender.event(event, event_id="Ev0METRICS1")
    retry = await served.sender.event(event, event_id="Ev0METRICS1", retry_num=1)
    assert (first.status, retry.status) == (200, 200)
    await fake_slack.wait_for_calls("chat.postMessage", within=10)
    assert await served.slack_app.services.work.wait_idle(10)
    await served.get("/nowhere")

    status, content_type, _ = await served.get("/metrics")
    assert (status, content_type) == (200, "text/plain")
    metric = served.metric
    assert await metric("hackathon_bot_http_requests_total", route="/slack/events") == 2
    assert await metric("hackathon_bot_http_requests_total", route="unmatched", status="404") == 1
    assert await metric("hackathon_bot_http_request_duration_seconds_count") >= 2
    assert await metric("hackathon_bot_slack_event_deliveries_total", delivery="retry") == 1
    assert await metric("hackathon_bot_replies_total", kind="answer") == 1
    assert await metric("hackathon_bot_reply_latency_seconds_count", kind="answer") == 1
    claims = "hackathon_bot_dedupe_claims_total"
    assert await metric(claims, key="event", result="first") == 1
    assert await metric(claims, key="event", result="duplicate") == 1
    errors = "hackathon_bot_slack_api_errors_total"
    assert await metric(errors, method="chat.postMessage", status="500") == 1
    retries = "hackathon_bot_slack_api_retries_total"
    assert await metric(retries, method="chat.postMessage", reason="server_error") == 1
    assert await metric("hackathon_bot_knowledge_entries") == len(
        served.slack_app.services.knowledge.entries
    )
