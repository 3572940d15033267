#!/usr/bin/env python3
"""Consumes N messages from a queue with pika and parses each with the cloudevents SDK
(bindings.rabbitmq, binary or structured mode auto-detected).

Usage: ce_consume.py --queue Q [--count 3] [--url ...] [--timeout 20]
Prints one JSON line per event: {"mode", "attributes": {...}, "data": ..., "amqp": {...}}.
Exits 1 on any parse failure, 2 on timeout before N messages.
"""
import argparse
import base64
import datetime
import json
import sys
import time

import pika
from cloudevents.core.bindings import rabbitmq


def to_str(value):
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, datetime.datetime):
        s = value.isoformat()
        return s[:-6] + "Z" if s.endswith("+00:00") else s
    return str(value)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--queue", required=True)
    ap.add_argument("--count", type=int, default=3)
    ap.add_argument("--url", default="amqp://guest:guest@127.0.0.1:5672/%2f")
    ap.add_argument("--timeout", type=float, default=20)
    args = ap.parse_args()

    connection = pika.BlockingConnection(pika.URLParameters(args.url))
    channel = connection.channel()
    received = 0
    failures = 0
    deadline = time.monotonic() + args.timeout
    while received < args.count and time.monotonic() < deadline:
        method, props, body = channel.basic_get(args.queue, auto_ack=False)
        if method is None:
            time.sleep(0.1)
            continue
        received += 1
        headers = {k: to_str(v) for k, v in (props.headers or {}).items()}
        msg = rabbitmq.RabbitMQMessage(headers=headers, content_type=props.content_type, body=body)
        try:
            event = rabbitmq.from_rabbitmq_event(msg)
        except Exception as e:  # noqa: BLE001 - report any SDK failure
            failures += 1
            print(json.dumps({"error": f"{type(e).__name__}: {e}", "headers": headers}, ensure_ascii=False), flush=True)
            channel.basic_nack(method.delivery_tag, requeue=False)
            continue
        data = event.get_data()
        if isinstance(data, bytes):
            data = {"base64": base64.b64encode(data).decode()}
        mode = "structured" if (props.content_type or "").lower().startswith("application/cloudevents") else "binary"
        attributes = {k: to_str(v) for k, v in event.get_attributes().items() if v is not None}
        print(json.dumps({
            "mode": mode, "attributes": attributes, "data": data,
            "amqp": {"message_id": props.message_id, "type": props.type, "timestamp": props.timestamp,
                     "delivery_mode": props.delivery_mode, "content_type": props.content_type},
        }, ensure_ascii=False, sort_keys=True), flush=True)
        channel.basic_ack(method.delivery_tag)
    connection.close()
    if failures:
        return 1
    return 0 if received >= args.count else 2


if __name__ == "__main__":
    sys.exit(main())
