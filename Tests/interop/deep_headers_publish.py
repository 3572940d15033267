"""Publishes messages whose headers nest tables DEPTH levels deep (pika encodes them; the
broker passes them on), for the AMQP client's nesting-guard test.

usage: deep_headers_publish.py --url URL --queue QUEUE --depth N [--depth M ...]
"""
import argparse
import sys

import pika


def nested(depth):
    value = {"leaf": "叶子"}
    for _ in range(depth):
        value = {"n": value}
    return value


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--queue", required=True)
    parser.add_argument("--depth", type=int, action="append", required=True)
    args = parser.parse_args()
    # pika's encoder recurses too.
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * max(args.depth) + 1000))
    connection = pika.BlockingConnection(pika.URLParameters(args.url))
    channel = connection.channel()
    channel.confirm_delivery()
    for i, depth in enumerate(args.depth):
        channel.basic_publish(
            "", args.queue, b'{"n": %d}' % i,
            pika.BasicProperties(message_id="deep-%d" % i, headers={"deep": nested(depth), "i": i}, delivery_mode=2))
    connection.close()
    print("published", len(args.depth))


if __name__ == "__main__":
    main()
