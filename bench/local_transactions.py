"""12. The embedded AWS's DynamoDB transactions as the local runtime's table grows.

moto backs up the whole table per item of a ``TransactWriteItems``; ``localrt.moto_transactions``
backs up only what the transaction touches. Figures: a 10-item transaction on a table of 10,000
items, with moto's own backup and with ours (median of 5). Goal: under 50 ms, so that a day of
activity on ``make run`` never slows a write down to a timeout.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from bench.harness import REPO, Result

ITEMS = 10_000
GOAL_MS = 50.0

_PROBE = textwrap.dedent(
    """
    import statistics, sys, time, boto3
    if sys.argv[1] == "ours":
        from localrt.moto_transactions import install
        install()
    from moto import mock_aws
    with mock_aws():
        c = boto3.client("dynamodb", region_name="us-east-1")
        c.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("PK", "SK")],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        for i in range(int(sys.argv[2])):
            c.put_item(TableName="t", Item={"PK": {"S": f"P{i}"}, "SK": {"S": "~META"}, "body": {"S": "x" * 200}})
        times = []
        for run in range(5):
            keys = [{"PK": {"S": f"T{run}-{j}"}, "SK": {"S": "A"}} for j in range(10)]
            items = [{"Put": {"TableName": "t", "Item": key}} for key in keys]
            started = time.perf_counter()
            c.transact_write_items(TransactItems=items)
            times.append((time.perf_counter() - started) * 1000)
        print(statistics.median(times))
    """
)


def _median_ms(backup: str) -> float:
    env_path = f"{REPO / 'local'}"
    completed = subprocess.run(  # noqa: S603 - our own interpreter and probe
        [sys.executable, "-c", _PROBE, backup, str(ITEMS)],
        check=True,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": env_path, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"},
        timeout=900,
    )
    return float(completed.stdout.strip().splitlines()[-1])


def run() -> list[Result]:
    ours, moto_own = _median_ms("ours"), _median_ms("moto")
    return [
        Result(
            benchmark="local transactions",
            figure=f"10-item TransactWriteItems on a {ITEMS:,}-item table, embedded AWS (median of 5)",
            value=round(ours, 1),
            unit="ms",
            goal=f"<= {GOAL_MS:g} ms",
            met=ours <= GOAL_MS,
            details={"moto_whole_table_backup_ms": round(moto_own, 1), "speed_up": round(moto_own / ours, 0)},
        )
    ]
