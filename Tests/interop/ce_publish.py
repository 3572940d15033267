#!/usr/bin/env python3
"""Publishes N CloudEvents with pika + the cloudevents SDK (bindings.rabbitmq).

Usage: ce_publish.py --mode binary|structured [--url amqp://guest:guest@127.0.0.1:5672/%2f]
                     [--exchange itr.ingress] [--routing-key report.portal] [--count 3]
                     [--type itr.report.submitted] [--source //interop/python]
Each event carries Chinese text, a correlationid extension and an id "py-<mode>-<i>".
Prints one JSON line per published event (id, mode).
"""
import argparse
import datetime
import json
import sys

import pika
from cloudevents.core.bindings import rabbitmq
from cloudevents.core.v1.event import CloudEvent


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["binary", "structured"], required=True)
    ap.add_argument("--url", default="amqp://guest:guest@127.0.0.1:5672/%2f")
    ap.add_argument("--exchange", default="itr.ingress")
    ap.add_argument("--routing-key", default="report.portal")
    ap.add_argument("--count", type=int, default=3)
    ap.add_argument("--type", default="itr.report.submitted")
    ap.add_argument("--source", default="//interop/python")
    ap.add_argument("--prefix", default="py")
    args = ap.parse_args()

    connection = pika.BlockingConnection(pika.URLParameters(args.url))
    channel = connection.channel()
    channel.confirm_delivery()
    for i in range(args.count):
        event = CloudEvent(
            attributes={
                "type": args.type,
                "source": args.source,
                "id": f"{args.prefix}-{args.mode}-{i}",
                "subject": f"工单-{i}",
                "time": datetime.datetime(2025, 3, 1, 8, 30, 0, 123000, tzinfo=datetime.timezone.utc),
                "datacontenttype": "application/json",
                "correlationid": f"T-{i}",
            },
            data={
                "sourceSystem": "python-interop",
                "channel": "portal",
                "upstreamId": f"UP-{i}",
                "customer": {"account": "CN-SH-0001", "name": "上海电信"},
                "product": {"line": "OptiX OSN 8800"},
                "summary": f"光模块温度过高 #{i}",
                "occurredAt": "2025-03-01T08:30:00Z",
                "language": "zh",
            },
        )
        if args.mode == "binary":
            msg = rabbitmq.to_binary_event(event)
        else:
            msg = rabbitmq.to_structured_event(event)
        props = pika.BasicProperties(
            headers=msg.headers or None, content_type=msg.content_type, delivery_mode=2,
            message_id=event.get_id(), type=event.get_type())
        channel.basic_publish(exchange=args.exchange, routing_key=args.routing_key, body=msg.body,
                              properties=props, mandatory=True)
        print(json.dumps({"id": event.get_id(), "mode": args.mode}, ensure_ascii=False), flush=True)
    connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
