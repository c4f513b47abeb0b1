"""Reconciliation reports in the state table: what an operator reads after a run."""
from __future__ import annotations

from synchub.ports import DriftItem
from synchub.state.reports import DynamoReconcileReports


def test_a_run_summary_counts_fixed_and_failed_chunks_and_keeps_each_drifted_sku(aws):
    reports = DynamoReconcileReports(aws.dynamodb.Table(aws.resources.state_table))
    drift = [DriftItem(store="main", sku=f"SKU-{i}", location_id="L1", before=i, after=i + 3) for i in range(3)]
    reports.start_run("run-1", store="main", checked=100, drifted=3, chunks=2, not_in_store=4, dry_run=False)
    reports.record_drift("run-1", drift)

    reports.record_chunk("run-1", "main", [drift[0].model_copy(update={"status": "fixed"})],
                         [drift[1].model_copy(update={"status": "failed:stale"})])
    reports.record_chunk("run-1", "main", [drift[2].model_copy(update={"status": "fixed"})], [])

    summary = reports.summary("run-1")
    assert (summary["checked"], summary["drifted"], summary["fixed"], summary["failed"]) == (100, 3, 2, 1)
    assert (summary["chunks"], summary["chunks_done"]) == (2, 2)
    assert {(item["sku"], item["before"], item["after"], item["status"]) for item in summary["drift"]} == {
        ("SKU-0", 0, 3, "fixed"), ("SKU-1", 1, 4, "failed:stale"), ("SKU-2", 2, 5, "fixed")}
    assert reports.latest_run() == "run-1"
