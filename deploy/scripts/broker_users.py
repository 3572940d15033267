#!/usr/bin/env python3
"""The broker users of deploy/rabbitmq/users.json as RabbitMQ definitions with passwords.

    broker_users.py definitions --users deploy/rabbitmq/users.json --passwords DIR [--admin NAME]

Each user's password is the file DIR/<user> (made with a random value, mode 0600, when it does
not exist yet); the definitions carry only its password_hash (rabbit_password_hashing_sha256:
base64(salt + SHA-256(salt + password)), a random 4-byte salt), never the password. With
--admin NAME an administrator user of that name is added (all rights on every vhost listed).
Used by broker.sh (a local node: rabbitmqctl import_definitions) and by secrets.sh (the boot
definitions of docker-compose.yml), so both hash the same way.

    broker_users.py rights --users deploy/rabbitmq/users.json --vhost VHOST

prints only the permissions and topic permissions, on VHOST (broker.sh users --vhost).
"""
import argparse
import base64
import hashlib
import json
import os
import secrets
import sys


def password_hash(password: str) -> str:
    salt = secrets.token_bytes(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode("utf-8")).digest()).decode("ascii")


def password_of(directory: str, user: str) -> str:
    path = os.path.join(directory, user)
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(18))
    with open(path, encoding="utf-8") as f:
        value = f.read().strip()
    if not value:
        sys.exit(f"broker_users.py: {path} is empty")
    return value


def definitions(users_file: str, directory: str, admin: str | None) -> dict:
    with open(users_file, encoding="utf-8") as f:
        spec = json.load(f)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    users = [dict(u) for u in spec["users"]]
    permissions = [dict(p) for p in spec.get("permissions", [])]
    if admin:
        users.append({"name": admin, "tags": ["administrator"]})
        for vhost in spec.get("vhosts", [{"name": "/"}]):
            permissions.append({"user": admin, "vhost": vhost["name"], "configure": ".*", "write": ".*", "read": ".*"})
    for user in users:
        user["password_hash"] = password_hash(password_of(directory, user["name"]))
        user["hashing_algorithm"] = "rabbit_password_hashing_sha256"
        user.setdefault("tags", [])
    return {
        "users": users,
        "vhosts": spec.get("vhosts", [{"name": "/"}]),
        "permissions": permissions,
        "topic_permissions": spec.get("topic_permissions", []),
    }


def rights(users_file: str, vhost: str) -> dict:
    with open(users_file, encoding="utf-8") as f:
        spec = json.load(f)
    return {key: [dict(p, vhost=vhost) for p in spec.get(key, [])] for key in ("permissions", "topic_permissions")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("definitions")
    d.add_argument("--users", required=True, help="users.json (itrctl topology users)")
    d.add_argument("--passwords", required=True, help="directory of one password file per user")
    d.add_argument("--admin", help="also an administrator user of this name")
    r = sub.add_parser("rights")
    r.add_argument("--users", required=True, help="users.json (itrctl topology users)")
    r.add_argument("--vhost", required=True)
    args = parser.parse_args()
    if args.command == "rights":
        result = rights(args.users, args.vhost)
    else:
        result = definitions(args.users, args.passwords, args.admin)
    json.dump(result, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
