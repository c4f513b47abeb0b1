"""The `synchub` command: local mode, the demo, and operating a deployment (trigger, report)."""
from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path

import click

LOCAL_INFO = Path(__file__).resolve().parents[1] / ".synchub" / "local.json"


@click.group()
def main() -> None:
    """SyncHub: keeps an online store, a CRM and an ERP in step."""


@main.command()
@click.option("--port", type=int, default=None, envvar="SYNCHUB_LOCAL_PORT",
              help="Port of the local API Gateway (default 8787); the others follow it.")
@click.option("--erp", default=None,
              help="The ERP vendor to run against: infra/config/local-<erp>.json (default: local.json's own ERP).")
def local(port: int | None, erp: str | None) -> None:
    """Run local mode in the foreground until Ctrl-C."""
    from infra.local.runner import LocalMode, local_config

    mode = LocalMode(base_port=port, config_path=local_config(erp))
    info = mode.start()
    click.echo(json.dumps(info, indent=2))
    click.echo(f"Written to {mode.data_dir / 'local.json'}. Ctrl-C stops.")
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    mode.stop()


@main.command()
def demo() -> None:
    """Local mode end to end with the sample webhooks, then what the ERP, CRM and store hold."""
    from infra.local.demo import main as run

    run()


@main.command()
@click.argument("schedule")
@click.option("--stage", default="local", show_default=True, help="local, or a deployed stage (dev, prod, ...).")
@click.option("--dry-run", is_flag=True, help="reconcile_inventory: report drift, change nothing.")
@click.option("--run-id", default=None, help="reconcile_inventory: name the run.")
def trigger(schedule: str, stage: str, dry_run: bool, run_id: str | None) -> None:
    """Run a scheduled flow now (poll_erp_stock, reconcile_inventory)."""
    payload = {key: value for key, value in (("dry_run", dry_run), ("run_id", run_id)) if value}
    if stage == "local":
        import httpx

        info = _local_info()
        response = httpx.post(info["trigger_url"].format(schedule=schedule), json=payload, timeout=900)
        if response.status_code == 404:
            raise click.ClickException(f"no schedule {schedule!r} in local mode")
        response.raise_for_status()
        result = response.json()
    else:
        import boto3

        from infra.topology import resource_name

        answer = boto3.client("lambda").invoke(FunctionName=resource_name(stage, schedule),
                                               Payload=json.dumps(payload).encode())
        result = json.loads(answer["Payload"].read() or b"null")
        if answer.get("FunctionError"):
            raise click.ClickException(f"{schedule} failed: {result}")
    click.echo(json.dumps(result, indent=2, default=str))


@main.command()
@click.argument("run_id", required=False)
@click.option("--stage", default="local", show_default=True)
@click.option("--drift/--no-drift", default=False, help="List every drifted SKU with before and after.")
def report(run_id: str | None, stage: str, drift: bool) -> None:
    """Summary of a reconciliation run (the newest when RUN_ID is omitted)."""
    import boto3
    from synchub.state.reports import DynamoReconcileReports

    from infra.topology import STATE_TABLE, table_name

    endpoint, stage = _aws_of(stage)
    table = boto3.resource("dynamodb", endpoint_url=endpoint, region_name="us-east-1" if endpoint else None)
    reports = DynamoReconcileReports(table.Table(table_name(stage, STATE_TABLE.role)))
    run_id = run_id or reports.latest_run()
    if run_id is None:
        raise click.ClickException("no reconciliation run yet")
    summary = reports.summary(run_id)
    click.echo(f"run {run_id}: checked {summary['checked']}, drifted {summary['drifted']}, fixed {summary['fixed']}, "
               f"failed {summary['failed']}, chunks {summary['chunks_done']}/{summary['chunks']}")
    if drift:
        for item in summary["drift"]:
            click.echo(f"  {item['store']} {item['sku']} @ {item['location_id']}: {item['before']} -> {item['after']}"
                       f" [{item['status']}]")


@main.command(name="redrive")
@click.argument("flow")
@click.option("--stage", default="local", show_default=True)
@click.option("--reason", default=None, help="Only messages parked with this reason (e.g. unknown_sku); "
              "retries_exhausted also selects messages SQS moved after too many receives.")
def redrive_command(flow: str, stage: str, reason: str | None) -> None:
    """Move FLOW's parked messages back to its queue, after fixing what parked them."""
    import boto3

    from infra.redrive import redrive
    from infra.topology import resource_name

    endpoint, stage = _aws_of(stage)
    sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1" if endpoint else None)
    name = resource_name(stage, flow)
    try:
        queue_url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        dlq_url = sqs.get_queue_url(QueueName=f"{name}-dlq")["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist:
        raise click.ClickException(f"no flow {flow!r} in stage {stage}") from None
    moved = redrive(sqs, dlq_url=dlq_url, queue_url=queue_url, reason=reason)
    click.echo(f"moved {moved} message(s) from {name}-dlq back to {name}")


def _aws_of(stage: str) -> tuple[str | None, str]:
    """The AWS endpoint and the stage its resources are named by: local mode's moto and the stage its config
    declares (`local` for the embedded default), or AWS itself and the stage given."""
    if stage != "local":
        return None, stage
    info = _local_info()
    return info["aws_endpoint_url"], str(info.get("stage", "local"))


def _local_info() -> dict:
    path = Path(os.environ.get("SYNCHUB_LOCAL_INFO", LOCAL_INFO))  # another local mode's .synchub/local.json
    if not path.exists():
        raise click.ClickException("local mode is not running (start it with `make local`)")
    return json.loads(path.read_text())


if __name__ == "__main__":
    main()
