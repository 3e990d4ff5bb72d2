"""`make run`: start the embedded AWS, the local API Gateway, the web pages and the queue pollers.

Start-up order matters: every handler (the gateway's and the workers') is imported first, in this
thread, one after the other; then the workers start under a supervisor that restarts any that dies;
only then does the gateway accept requests, and ``/healthz`` answers 503 until every worker is
ready. Prints where everything is, the local dev secrets and ready-to-use tokens; Ctrl-C stops it all.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from types import FrameType

import boto3

from localrt.aws import ORDERS_API_SECRET, EmbeddedAws, point_sdk_at
from localrt.settings import DEFAULT_AGENT_SECRET, DEFAULT_EMAIL_SECRET, DEFAULT_MESSENGER_SECRET, Settings


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's request log
    started = time.monotonic()
    settings = Settings.from_environment()
    point_sdk_at(settings)  # before anything imports helpdesk

    aws = EmbeddedAws(settings)
    aws.start()
    aws.create_resources()

    from helpdesk.adapters.workspace_files import load_workspace
    from helpdesk.surfaces import (
        API_SURFACES,
        LIVE,
        LIVE_FANOUT,
        LIVE_MANAGEMENT_PATH,
        MESSENGER_AUTHORIZER_HANDLER,
        QUEUE_CONSUMERS,
        STREAM_CONSUMERS,
    )
    from orders import start_order_system

    from localrt.faults import install_from_environment
    from localrt.gateway import LocalGateway
    from localrt.identities import demo_tokens
    from localrt.lake_writer import LakeWriter
    from localrt.outbox import Outbox
    from localrt.pollers import QueuePoller, ScheduleTicker, StreamPoller, TopicForwarder, import_handlers
    from localrt.retention import RetentionSweeper
    from localrt.ses_receiving import ReceivingRule
    from localrt.smtp import LocalSmtp, MailboxSimulator
    from localrt.workers import Supervisor, Worker

    workspace = load_workspace(settings.workspace_dir)  # fail fast, with the file and field, if broken
    from helpdesk.adapters.email_config_files import load_email_setup

    load_email_setup(settings.workspace_dir, workspace)  # the email templates too, every one rendered once
    index = {
        "workspace": workspace.name,
        "messenger_api": f"{settings.api_url}/messenger",
        "inbox_api": f"{settings.api_url}/inbox",
        "messenger_page": f"{settings.api_url}/messenger/",
        "openapi": [f"{settings.api_url}/messenger/openapi.json", f"{settings.api_url}/inbox/openapi.json"],
        "embedded_aws": settings.moto_url,
    }
    # The business's order system, which the demo bot's custom actions call (actions/*.yaml).
    orders_key = "local-orders-api-key"  # LOCAL DEV ONLY, kept in the embedded Secrets Manager
    boto3.client("secretsmanager").create_secret(Name=ORDERS_API_SECRET, SecretString=orders_key)
    order_system = start_order_system(int(os.environ.get("LOCAL_ORDERS_PORT", "0")), api_key=orders_key)
    os.environ["ORDERS_API_URL"] = order_system.url
    index["order_system"] = order_system.url
    # LOCAL_FAULTS: from here on, AWS calls fail now and then as AWS's do (set-up above is never faulted).
    faults = install_from_environment(os.environ)
    # The functions post live frames to the gateway's stand-in for the WebSocket management API.
    os.environ["LIVE_ENDPOINT"] = f"{settings.api_url}{LIVE_MANAGEMENT_PATH}"
    index["live"] = f"ws://127.0.0.1:{settings.port}/live"
    # Every handler, imported here one after the other before anything runs them: imports racing in
    # several threads on a cold bytecode cache used to kill workers at start-up.
    gateway_handlers = [*(s.handler for s in API_SURFACES), MESSENGER_AUTHORIZER_HANDLER, LIVE.handler, LIVE.authorizer]
    handlers = import_handlers(
        [*gateway_handlers, *(c.handler for c in QUEUE_CONSUMERS), *(c.handler for c in STREAM_CONSUMERS)]
    )

    stopping = threading.Event()
    workers: list[Worker] = [
        QueuePoller(c.name, aws.queue_urls[c.name], handlers[c.handler], c.batch_size) for c in QUEUE_CONSUMERS
    ]
    tick_seconds = float(os.environ.get("LOCAL_TICK_SECONDS", "5"))
    # A minute of schedule is LOCAL_TICK_SECONDS here: schedules keep their proportions, only faster.
    workers += [
        ScheduleTicker(
            c.name, aws.queue_urls[c.name], c.local_tick_seconds or tick_seconds * (c.schedule_seconds or 60) / 60
        )
        for c in QUEUE_CONSUMERS
        if c.schedule
    ]
    # Each stream consumer reads the table's stream on its own, as two event-source mappings do; live
    # frames are read more eagerly (Lambda polls a stream about four times a second). Each empty read
    # is a request to the embedded AWS, so the others read twice a second.
    workers += [
        StreamPoller(
            c.name,
            settings.table_name,
            handlers[c.handler],
            c.batch_size,
            idle_seconds=0.1 if c is LIVE_FANOUT else 0.5,
        )
        for c in STREAM_CONSUMERS
    ]
    workers += [TopicForwarder(relay, topic) for relay, topic in aws.topic_relays.items()]
    workers.append(MailboxSimulator(settings.region, os.environ["EMAIL_EVENTS_TOPIC_ARN"]))
    flush = float(os.environ.get("LOCAL_LAKE_FLUSH_SECONDS", "2"))
    workers.append(LakeWriter(aws.lake_queue_url, settings.lake_bucket, flush))
    # moto expires nothing: the workspace's retention (TTL, lifecycle rules) is honoured by a sweeper.
    workers.append(
        RetentionSweeper(
            settings.table_name,
            {"files": [settings.attachments_bucket, settings.inbound_email_bucket], "lake": [settings.lake_bucket]},
            workspace.retention,
            float(os.environ.get("LOCAL_RETENTION_SWEEP_SECONDS", "30")),
        )
    )
    supervisor = Supervisor(workers, stopping)
    supervisor.start()

    gateway = LocalGateway(settings, index)
    gateway.outbox = Outbox(settings.region, aws.event_log_url, settings.inbound_email_bucket)
    gateway.faults = faults
    gateway.workers = supervisor
    for dotted in gateway_handlers:
        gateway.preload(dotted, handlers[dotted])
    gateway.serve()

    # SES receiving: mail for the support domain, over SMTP, into the same bucket, topic and queue.
    support_domain = settings.support_address.rpartition("@")[2]
    smtp = LocalSmtp(
        ReceivingRule(settings.inbound_email_bucket, os.environ["INBOUND_EMAIL_TOPIC_ARN"], support_domain),
        settings.smtp_port,
    )
    smtp.start()

    requested: list[int] = []

    def stop(signum: int, frame: FrameType | None) -> None:
        # Only record it: setting a threading.Event from a signal handler can deadlock when the
        # signal lands while the main thread holds that Event's lock inside wait().
        requested.append(signum)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    ready_by = time.monotonic() + 60  # the workers' set-up calls (queue ARNs, the stream's shards)
    while not requested and not supervisor.health()[0] and time.monotonic() < ready_by:
        time.sleep(0.05)
    tokens = demo_tokens(settings.messenger_secret, settings.agent_secret)
    _print_banner(settings, workspace.name, tokens, time.monotonic() - started, order_system.url)
    if not supervisor.health()[0]:
        print(f"  Some workers are not ready yet: see {settings.api_url}/healthz", flush=True)
    if faults is not None:
        print(f"  Fault injection ON ({faults.plan.rates}); counts at {settings.api_url}/_local/faults", flush=True)
    while not requested:
        time.sleep(0.2)
    stopping.set()
    print("\nStopping…", flush=True)
    supervisor.join(timeout=5)
    smtp.stop()
    gateway.stop()
    order_system.stop()
    aws.stop()
    print("Stopped.", flush=True)
    return 0


def _print_banner(settings: Settings, workspace: str, tokens: dict[str, str], seconds: float, orders: str) -> None:
    api = settings.api_url
    local_only = "(LOCAL DEV ONLY)"
    messenger_note = (
        "default" if settings.messenger_secret == DEFAULT_MESSENGER_SECRET else "from LOCAL_MESSENGER_SECRET"
    )
    agent_note = "default" if settings.agent_secret == DEFAULT_AGENT_SECRET else "from LOCAL_AGENT_SECRET"
    email_note = "default" if settings.email_secret == DEFAULT_EMAIL_SECRET else "from LOCAL_EMAIL_SECRET"
    lines = [
        f"Helpdesk is running locally ({workspace}), ready in {seconds:.1f}s",
        "",
        f"  Messenger page   {api}/messenger/          (embedded in a shop page: {api}/messenger/demo.html)",
        f"  Inbox page       {api}/inbox/              (sign in as a demo agent)",
        f"  Messenger API    {api}/messenger/…         OpenAPI {api}/messenger/openapi.json, docs {api}/messenger/docs",
        f"  Inbox API        {api}/inbox/…             OpenAPI {api}/inbox/openapi.json, docs {api}/inbox/docs",
        f"  Live channel     ws://127.0.0.1:{settings.port}/live   (WebSocket: ?token=<customer or agent token>)",
        f"  Embedded AWS     {settings.moto_url}          dashboard {settings.moto_url}/moto-api/",
        f"  Customer outbox  {api}/_local/outbox.html   (email threads in and out, SMS, bus events, templates)",
        f"  Support email    {settings.support_address} over SMTP at 127.0.0.1:{settings.smtp_port}"
        "   (plays SES receiving; set SMTP_PORT)",
        f"  Order system     {orders}/orders/ORD-1001   (the demo shop's; the bot's custom actions call it)",
        "",
        f"  Messenger secret {local_only}: {settings.messenger_secret}  [{messenger_note}; set LOCAL_MESSENGER_SECRET]",
        f"  Agent secret     {local_only}: {settings.agent_secret}  [{agent_note}; set LOCAL_AGENT_SECRET]",
        f"  Email secret     {local_only}: {settings.email_secret}  [{email_note}; set LOCAL_EMAIL_SECRET]",
        "",
        "  Tokens (valid 12 h):",
    ]
    lines += [f"    {who:<16} {token}" for who, token in tokens.items()]
    lines += [
        "",
        f"  Open the messenger as Alice:  {api}/messenger/#token={tokens['demo-customer-1']}",
        "  Try it:",
        f"    curl -s {api}/inbox/conversations -H 'Authorization: Bearer {tokens['agent-frontline']}'",
        f"    python -c \"import smtplib; smtplib.SMTP('127.0.0.1', {settings.smtp_port}).sendmail('you@example.com',"
        f" ['{settings.support_address}'], 'Subject: Hello\\n\\nMy parcel is late.')\"",
        "",
        "Ctrl-C stops everything.",
    ]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything was stopped above; don't let a library's leftover thread (a query still running in an
    # embedded engine, a client's pool) hold the process open after "Stopped." on the way out.
    os._exit(code)
