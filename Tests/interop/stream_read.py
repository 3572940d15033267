"""Reads a RabbitMQ stream queue from its first offset (basic.consume with x-stream-offset
"first" and a prefetch, as streams require) until nothing new arrives for --idle seconds,
and prints one JSON object per message: message_id, exchange, routing_key, type and the
string headers named with --header. For the tests of `itr.unrouted`.

usage: stream_read.py --url URL --queue QUEUE [--idle SECONDS] [--header NAME ...]
"""
import argparse
import json
import time

import pika


def text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--queue", required=True)
    parser.add_argument("--idle", type=float, default=3.0)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--header", action="append", default=[])
    args = parser.parse_args()
    connection = pika.BlockingConnection(pika.URLParameters(args.url))
    channel = connection.channel()
    channel.basic_qos(prefetch_count=500)
    out = []

    def on_message(ch, method, properties, body):
        headers = properties.headers or {}
        out.append({
            "message_id": properties.message_id, "exchange": method.exchange, "routing_key": method.routing_key,
            "type": properties.type, "headers": {h: text(headers.get(h)) for h in args.header},
            "body_bytes": len(body)})
        ch.basic_ack(method.delivery_tag)

    channel.basic_consume(args.queue, on_message, arguments={"x-stream-offset": "first"})
    start = time.monotonic()
    last = start
    seen = 0
    while time.monotonic() - last < args.idle and time.monotonic() - start < args.timeout:
        connection.process_data_events(time_limit=0.5)
        if len(out) != seen:
            seen = len(out)
            last = time.monotonic()
    connection.close()
    for record in out:
        print(json.dumps(record, ensure_ascii=False))


if __name__ == "__main__":
    main()
