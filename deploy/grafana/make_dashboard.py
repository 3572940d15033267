#!/usr/bin/env python3
"""Writes deploy/grafana/dashboards/itr.json (the provisioned "ITR closed loop" dashboard).

Metric names are those the services export (ServiceKit.ServiceMetrics, IntakeMetrics,
LTCMetrics, the router's and ipd-feedback's own) and rabbitmq_prometheus's per-object metrics.
Run: python3 deploy/grafana/make_dashboard.py
"""
import json, os

DS = {"type": "prometheus", "uid": "itr-prometheus"}
panels = []
y = 0


def panel(title, exprs, kind="timeseries", w=12, h=8, unit=None, desc="", legend=None):
    global y
    x = 0 if len(panels) % 2 == 0 or w == 24 else 12
    if w == 24 and x == 0 and panels and panels[-1]["gridPos"]["w"] == 12 and panels[-1]["gridPos"]["x"] == 0:
        pass
    p = {
        "id": len(panels) + 1,
        "type": kind,
        "title": title,
        "description": desc,
        "datasource": DS,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "targets": [
            {"refId": chr(65 + i), "datasource": DS, "expr": e, "legendFormat": (legend[i] if legend else "")}
            for i, e in enumerate(exprs)
        ],
        "fieldConfig": {"defaults": {"unit": unit} if unit else {}, "overrides": []},
        "options": {},
    }
    panels.append(p)
    if x == 12 or w == 24:
        y += h


panel("Throughput per stage (events/s)",
      ['sum by (via) (rate(itr_intake_reports_received_total[5m]))',
       'sum by (service) (rate(itr_deliveries_total{disposition="processed"}[5m]))'],
      unit="ops", legend=["intake via {{via}}", "{{service}} processed"],
      desc="Reports received by intake, and deliveries each service handled to completion.")
panel("Report → ticket latency (p50 / p95)",
      ['histogram_quantile(0.5, sum by (le) (rate(itr_intake_report_latency_seconds_bucket[5m])))',
       'histogram_quantile(0.95, sum by (le) (rate(itr_intake_report_latency_seconds_bucket[5m])))'],
      unit="s", legend=["p50", "p95"], desc="From intake receiving a report to the ticket committed (outbox).")
panel("Queue depth",
      ['sum by (queue) (rabbitmq_queue_messages_ready{queue!~".*\\\\.dlq|itr\\\\.rejected"})',
       'sum by (queue) (rabbitmq_queue_consumers{queue!~".*\\\\.dlq|itr\\\\.rejected"})'],
      legend=["{{queue}} ready", "{{queue}} consumers"], desc="rabbitmq_prometheus per-object metrics.")
panel("Dead letters and rejected input",
      ['sum by (queue) (rabbitmq_queue_messages_ready{queue=~".*\\\\.dlq|itr\\\\.rejected"})',
       'sum by (reason) (increase(itr_intake_reports_rejected_total[1h]))'],
      legend=["{{queue}}", "rejected: {{reason}} (1h)"],
      desc="Messages waiting in <queue>.dlq and itr.rejected (itrctl dlq list / show / replay).")
panel("SLA attainment",
      ['sum by (clock) (increase(itr_router_sla_decided_total{outcome="met"}[1d])) / sum by (clock) (increase(itr_router_sla_decided_total[1d]))'],
      unit="percentunit", legend=["{{clock}}"], kind="stat",
      desc="Share of SLA clocks (response, resolution) decided within target over the last day.")
panel("OLA on-time rate",
      ['sum by (tier) (increase(itr_router_ola_decided_total{outcome="on-time"}[1d])) / sum by (tier) (increase(itr_router_ola_decided_total[1d]))'],
      unit="percentunit", legend=["{{tier}}"], kind="stat", desc="Tier stints finished within their OLA budget.")
panel("Service-type decisions",
      ['sum by (by) (increase(itr_router_classified_total[1h]))',
       'sum (increase(itr_router_classified_total{needs_triage="true"}[1h]))'],
      legend=["by {{by}} (1h)", "needs-triage (1h)"],
      desc="How itr-router decided service types: explicit rule, the trained model, or the desk's reclassify; tickets the model sent to triage.")
panel("Escalations",
      ['sum (increase(itr_events_consumed_total{service="ltc-extractor",type="itr.ticket.escalated"}[1h]))',
       'sum (increase(itr_events_consumed_total{service="ltc-extractor",type="itr.ticket.reopened"}[1h]))'],
      legend=["escalated (1h)", "reopened (1h)"])
panel("Tickets through the loop",
      ['sum by (type) (increase(itr_events_consumed_total{service="ltc-extractor",type=~"itr\\\\.ticket\\\\.(opened|resolved|closed)"}[1h]))',
       'sum (increase(itr_intake_reports_correlated_total[1h]))',
       'sum (increase(itr_intake_reports_duplicate_total[1h]))'],
      legend=["{{type}} (1h)", "alarms correlated (1h)", "duplicates (1h)"])
panel("Open problems",
      ['sum (itr_events_consumed_total{service="ltc-extractor",type="itr.problem.opened"}) - sum (itr_events_consumed_total{service="ltc-extractor",type="itr.problem.resolved"} or vector(0))',
       'sum (itr_events_consumed_total{service="ltc-extractor",type="itr.problem.known-error"})'],
      kind="stat", legend=["open problems", "known errors"])
panel("Defects (feed.defects)",
      ['sum (rabbitmq_queue_messages_ready{queue="feed.defects"})',
       'sum by (type) (increase(itr_events_published_total{service="ipd-feedback"}[1h]))'],
      legend=["waiting in feed.defects", "ipd-feedback published (1h)"])
panel("Opportunities (feed.opportunities)",
      ['sum by (kind) (ltc_opportunities_total{change="identified"})',
       'sum (rabbitmq_queue_messages_ready{queue="feed.opportunities"})'],
      legend=["{{kind}}", "waiting in feed.opportunities"])
panel("Outbox and broker connection",
      ['sum by (service) (itr_outbox_pending)', 'min by (service) (itr_amqp_connected)'],
      legend=["{{service}} outbox pending", "{{service}} connected"])

dashboard = {
    "uid": "itr-closed-loop",
    "title": "ITR closed loop",
    "tags": ["itr"],
    "timezone": "utc",
    "schemaVersion": 39,
    "version": 1,
    "refresh": "30s",
    "time": {"from": "now-6h", "to": "now"},
    "panels": panels,
    "templating": {"list": []},
    "annotations": {"list": []},
}
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dashboards", "itr.json")
with open(out, "w", encoding="utf-8") as f:
    json.dump(dashboard, f, indent=2, ensure_ascii=False)
    f.write("\n")
print(out)
