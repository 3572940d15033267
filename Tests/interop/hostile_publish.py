"""Publishes, with pika, the hostile messages the project's own AMQP client refuses to send:
header tables nested deeper than its cap and header values too large for its content-header
budget (both still within what RabbitMQ passes on). For the hostile-input system test.

usage: hostile_publish.py --url URL --spec FILE

FILE is JSON: [{"exchange", "routing_key", "body_b64", "content_type", "message_id",
"headers": {...strings...}, "deep": N (nest a table N levels under "deep"),
"huge": N (a string header "x-huge" of N bytes)}, ...]. Publishes with confirms; prints
"published <count>".
"""
import argparse
import base64
import json
import sys

import pika

from deep_headers_publish import nested


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--spec", required=True)
    args = parser.parse_args()
    with open(args.spec, encoding="utf-8") as f:
        spec = json.load(f)
    deepest = max([m.get("deep", 0) for m in spec] + [0])
    # pika's encoder recurses.
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * deepest + 1000))
    connection = pika.BlockingConnection(pika.URLParameters(args.url))
    channel = connection.channel()
    channel.confirm_delivery()
    for m in spec:
        headers = dict(m.get("headers", {}))
        if m.get("deep"):
            headers["deep"] = nested(m["deep"])
        if m.get("huge"):
            headers["x-huge"] = ("巨" * (m["huge"] // 3 + 1))[: m["huge"] // 3]
        channel.basic_publish(
            m["exchange"], m["routing_key"], base64.b64decode(m["body_b64"]),
            pika.BasicProperties(
                content_type=m.get("content_type"), message_id=m["message_id"], headers=headers, delivery_mode=2))
    connection.close()
    print("published", len(spec))


if __name__ == "__main__":
    main()
