#!/usr/bin/env python3
"""Python's CloudEvents SDK + pika against a running intake (Tests/interop/intake_roundtrip.sh).

Publishes reports to itr.ingress with the SDK (binary and structured mode, Chinese text) plus one
invalid report, then reads what intake emitted on itr.events with the SDK and checks it: one
itr.ticket.opened per valid report (data valid against its JSON Schema, causation and correlation
extensions, the report's text unchanged) and one itr.report.rejected for the invalid one.

Usage: intake_roundtrip.py --url AMQP_URL --schemas DIR [--timeout 60]
Prints "ok <check>" / "FAIL <check>: ..." lines and a last line "checks: <n> passed"; exits 1 on
any failure (or when nothing was checked).
"""
import argparse
import datetime
import json
import os
import sys
import time
import uuid

import pika
from cloudevents.core.bindings import rabbitmq
from cloudevents.core.v1.event import CloudEvent
from jsonschema import Draft202012Validator

passed = 0
failed = 0


def check(name, condition, detail=""):
    global passed, failed
    if condition:
        passed += 1
        print(f"ok {name}", flush=True)
    else:
        failed += 1
        print(f"FAIL {name}: {detail}", flush=True)


def to_str(value):
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return str(value)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--schemas", required=True)
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()
    run = uuid.uuid4().hex[:8]

    connection = pika.BlockingConnection(pika.URLParameters(args.url))
    channel = connection.channel()
    listen = channel.queue_declare(queue="", exclusive=True, auto_delete=True).method.queue
    for key in ("itr.ticket.opened", "itr.report.rejected"):
        channel.queue_bind(queue=listen, exchange="itr.events", routing_key=key)
    channel.confirm_delivery()

    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    sent = {}
    for i, mode in enumerate(["binary", "binary", "structured", "structured"]):
        event_id = f"py-{run}-{i}"
        summary = f"路由器端口故障，业务中断 #{i} / port down"
        event = CloudEvent(
            attributes={
                "type": "itr.report.submitted", "source": "//interop/python", "id": event_id,
                "time": now, "datacontenttype": "application/json",
            },
            data={
                "sourceSystem": "python-interop", "channel": "phone", "upstreamId": f"PY-{run}-{i}",
                "customer": {"account": "ACC-1003", "name": "中国联通北京分公司"},
                "product": {"line": "routers", "model": "RX8000", "version": "V8R11"},
                "summary": summary, "occurredAt": now.isoformat().replace("+00:00", "Z"), "language": "zh",
            },
        )
        msg = rabbitmq.to_binary_event(event) if mode == "binary" else rabbitmq.to_structured_event(event)
        props = pika.BasicProperties(
            headers=msg.headers or None, content_type=msg.content_type, delivery_mode=2,
            message_id=event_id, type="itr.report.submitted")
        channel.basic_publish(exchange="itr.ingress", routing_key="report.phone", body=msg.body, properties=props)
        sent[event_id] = (mode, summary)
    bad_id = f"py-{run}-bad"
    bad = CloudEvent(
        attributes={"type": "itr.report.submitted", "source": "//interop/python", "id": bad_id, "time": now,
                    "datacontenttype": "application/json"},
        data={"sourceSystem": "python-interop", "channel": "phone", "upstreamId": f"PY-{run}-bad",
              "customer": {"account": "ACC-1003"}, "product": {"line": "routers"}, "summary": "",
              "occurredAt": now.isoformat().replace("+00:00", "Z"), "language": "zh"},
    )
    msg = rabbitmq.to_binary_event(bad)
    channel.basic_publish(exchange="itr.ingress", routing_key="report.phone", body=msg.body,
                          properties=pika.BasicProperties(headers=msg.headers, content_type=msg.content_type,
                                                          delivery_mode=2, message_id=bad_id))

    validators = {}
    for event_type in ("itr.ticket.opened", "itr.report.rejected"):
        with open(os.path.join(args.schemas, event_type + ".json"), encoding="utf-8") as f:
            validators[event_type] = Draft202012Validator(json.load(f), format_checker=Draft202012Validator.FORMAT_CHECKER)

    opened = {}
    rejected = []
    deadline = time.monotonic() + args.timeout
    while (len(opened) < len(sent) or not rejected) and time.monotonic() < deadline:
        method, props, body = channel.basic_get(listen, auto_ack=True)
        if method is None:
            time.sleep(0.1)
            continue
        headers = {k: to_str(v) for k, v in (props.headers or {}).items()}
        try:
            event = rabbitmq.from_rabbitmq_event(
                rabbitmq.RabbitMQMessage(headers=headers, content_type=props.content_type, body=body))
        except Exception as e:  # noqa: BLE001 - any SDK failure is a failed check
            check("the SDK reads what intake emitted", False, f"{type(e).__name__}: {e}")
            continue
        data = event.get_data()
        if isinstance(data, (bytes, str)):
            data = json.loads(data)
        event_type = event.get_type()
        errors = [e.message for e in validators[event_type].iter_errors(data)] if event_type in validators else ["no schema"]
        check(f"{event_type} {event.get_id()} data matches its JSON Schema", not errors, "; ".join(errors[:3]))
        attributes = event.get_attributes()
        cause = attributes.get("causationid")
        if event_type == "itr.ticket.opened" and cause in sent:
            opened[cause] = (event, data)
        elif event_type == "itr.report.rejected" and (cause == bad_id or data.get("originalId") == bad_id):
            rejected.append((event, data))

    check("one itr.ticket.opened per valid report", sorted(opened) == sorted(sent),
          f"opened for {sorted(opened)}, sent {sorted(sent)}")
    for cause, (event, data) in sorted(opened.items()):
        mode, summary = sent[cause]
        attributes = event.get_attributes()
        check(f"{cause} ({mode}): summary unchanged", data.get("summary") == summary, data.get("summary"))
        check(f"{cause} ({mode}): correlation is the ticket", attributes.get("correlationid") == data.get("ticketId"),
              f"{attributes.get('correlationid')} vs {data.get('ticketId')}")
        check(f"{cause} ({mode}): emitted by intake", attributes.get("source") == "//itr/intake", attributes.get("source"))
    check("the invalid report is rejected", len(rejected) == 1, f"{len(rejected)} rejections")
    connection.close()
    print(f"checks: {passed} passed, {failed} failed", flush=True)
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
